"""``sigint validate``: every channel against every spec, for CI (exit codes, JUnit XML).

A channel's result against a spec is one :class:`~sigint.analysis.lanes.LanesResult` (every lane
as victim). Each check of the spec becomes one test case: the check over all lanes, its
value and margin taken at the lane where the margin is smallest, failing when any lane
fails it (the failing lanes are listed). ``--spec none`` checks nothing and says so: its
test case is *skipped*, never passed.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .lanes import ALL_LANES, LanesResult, lane_of_smallest

__all__ = ["SpecOutcome", "junit_xml", "NOTHING_CHECKED"]

NOTHING_CHECKED = "--spec none: nothing was checked (no spec, no verdict)"


@dataclass
class SpecOutcome:
    """One channel against one spec.

    Attributes
    ----------
    channel : str
        The channel file.
    spec : str
        ``ucie advanced`` ... or ``none``.
    rate : float or None
        Symbol rate the checks were made at, 1/s.
    lanes : LanesResult or None
        Every lane's result (None for ``none`` when no analysis was asked for).
    how : str
        How the rate was chosen (``the channel's rate``, ``--rate``, ``maximum rate``).
    notes : list of str
        Remarks (e.g. from the rate search).
    """

    channel: str
    spec: str
    rate: float | None
    lanes: LanesResult | None
    how: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        """True/False against a spec, None for ``none``."""
        if self.spec == "none" or self.lanes is None:
            return None
        return self.lanes.passed

    def check_rows(self) -> list[dict]:
        """One row per check name: the lane with the smallest margin (``all lanes`` when
        every lane has it, :func:`~sigint.analysis.lanes.lane_of_smallest`) and the failing
        lanes."""
        if self.lanes is None or self.spec == "none":
            return []
        names: list[str] = []
        for r in self.lanes.lanes:
            for c in r.checks:
                if c.name not in names:
                    names.append(c.name)
        rows = []
        for name in names:
            per = [(r.victim, c) for r in self.lanes.lanes for c in r.checks if c.name == name]
            lane, c = lane_of_smallest(per, self.lanes.complete
                                       and len(per) == len(self.lanes.lanes))
            rows.append({"check": name, "passed": all(x.passed for _, x in per),
                         "worst_lane": lane, "value": _f(c.value), "limit": _f(c.limit),
                         "margin": _f(c.margin), "unit": c.unit, "where": c.where,
                         "failing_lanes": [ln for ln, x in per if not x.passed],
                         "detail": c.detail})
        return rows

    def as_dict(self) -> dict:
        lim = None if self.lanes is None else self.lanes.limiting
        return {
            "channel": self.channel, "spec": self.spec,
            "rate_gbps": None if self.rate is None else self.rate / 1e9, "rate_from": self.how,
            "passed": self.passed,
            "checked": self.spec != "none",
            "lanes": None if self.lanes is None else len(self.lanes.lanes),
            "worst_lane": (None if self.lanes is None or self.spec == "none"
                           else self.lanes.worst_lane),
            "limiting_check": None if lim is None or self.spec == "none" else lim.name,
            "checks": self.check_rows(),
            "notes": ([NOTHING_CHECKED] if self.spec == "none" else []) + self.notes,
        }


def _worst(lane: str) -> str:
    """``worst lane 3``, or ``every lane alike`` for a margin the same on every lane."""
    return "every lane alike" if lane == ALL_LANES else f"worst {lane}"


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def junit_xml(outcomes: list[SpecOutcome]) -> str:
    """JUnit XML: a test suite per channel and spec, a test case per check.

    ``--spec none`` gives one skipped case saying nothing was checked.
    """
    root = ET.Element("testsuites", name="sigint validate")
    n_tests = n_fail = n_skip = 0
    for o in outcomes:
        suite = ET.SubElement(root, "testsuite",
                              name=f"{Path(o.channel).name} [{o.spec}]")
        rate = "" if o.rate is None else f" at {o.rate / 1e9:g} GT/s"
        cls = f"{Path(o.channel).name}.{o.spec.replace(' ', '_')}"
        t = f = s = 0
        if o.spec == "none":
            case = ET.SubElement(suite, "testcase", classname=cls, name="no spec")
            ET.SubElement(case, "skipped", message=NOTHING_CHECKED)
            t, s = 1, 1
        for row in o.check_rows():
            case = ET.SubElement(suite, "testcase", classname=cls, name=f"{row['check']}{rate}")
            t += 1
            text = (f"{row['check']}: {_worst(row['worst_lane'])}: value {row['value']} "
                    f"{row['unit']}, limit {row['limit']} {row['unit']}, margin "
                    f"{row['margin']} {row['unit']} {row['where']}")
            if not row["passed"]:
                f += 1
                fail = ET.SubElement(case, "failure",
                                     message=f"{row['check']} fails on "
                                             f"{', '.join(row['failing_lanes'])}")
                fail.text = text + "\n" + row["detail"]
            else:
                out = ET.SubElement(case, "system-out")
                out.text = text
        suite.set("tests", str(t))
        suite.set("failures", str(f))
        suite.set("errors", "0")
        suite.set("skipped", str(s))
        n_tests, n_fail, n_skip = n_tests + t, n_fail + f, n_skip + s
    root.set("tests", str(n_tests))
    root.set("failures", str(n_fail))
    root.set("errors", "0")
    root.set("skipped", str(n_skip))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _num(x: float | None, fmt: str) -> str:
    """*x* formatted, or "n/a" where a check has no value (no aggressor for crosstalk)."""
    return "n/a" if x is None else format(x, fmt)


def summary(outcomes: list[SpecOutcome]) -> str:
    """Readable lines: one per channel and spec, then the failing checks."""
    lines = []
    for o in outcomes:
        if o.spec == "none":
            lines.append(f"{o.channel} [none]: {NOTHING_CHECKED}")
            continue
        rate = f"{o.rate / 1e9:g} GT/s ({o.how})"
        verdict = "PASS" if o.passed else "FAIL"
        lim = o.lanes.limiting
        lim_text = ("" if lim is None else f", limiting check {lim.name} (margin "
                    + _num(lim.margin, "+.3g") + f" {lim.unit})")
        lines.append(f"{o.channel} [{o.spec}] at {rate}: {verdict}; {len(o.lanes.lanes)} lanes, "
                     f"{_worst(o.lanes.worst_lane)}{lim_text}")
        for row in o.check_rows():
            mark = "pass" if row["passed"] else "FAIL"
            lines.append(f"    {mark}  {row['check']:<15} {_worst(row['worst_lane'])}: margin "
                         f"{_num(row['margin'], '+.4g')} {row['unit']} {row['where']}"
                         + ("" if row["passed"] else
                            f"; failing: {', '.join(row['failing_lanes'])}"))
        for n in o.notes:
            lines.append(f"    note: {n}")
    flags = [o.passed for o in outcomes if o.passed is not None]
    if not flags:
        lines.append("verdict: nothing was checked")
    else:
        lines.append("verdict: " + ("PASS" if all(flags) else "FAIL"))
    return "\n".join(lines)
