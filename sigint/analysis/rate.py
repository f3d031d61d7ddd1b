"""Maximum data rate: every lane at every spec rate, the highest rate that passes.

For a spec with discrete rates (UCIe: 4 ... 64 GT/s; BoW-32 ... BoW-512; AIB) every rate
the data reach is tried with every lane as victim (:func:`sigint.analysis.lanes.evaluate_lanes`,
the transfers of a Tx/Rx circuit solved once for all rates) and the spec's equalization
search at each rate (``AnalysisOptions.eq``). The maximum rate is the highest rate at
which every check passes for the worst lane and every lower rate tried passes too (a link
trains up through the lower rates and falls back to them); a higher rate that passes
above a failing one is reported in the notes (UCIe judges 48/64 GT/s by the eye alone, so
a channel can fail a VTF mask at 32 GT/s and still open the 64 GT/s eye).
No rate above the first failing one can change the maximum, so there (unless
``exhaustive`` is set) each rate is probed with one lane only, the worst of the last rate
evaluated in full: a failure settles the rate's verdict (fail); a pass leaves it
unsettled and the row says so (the other lanes, each with the spec's equalization search,
are not evaluated).
A rate whose Nyquist frequency lies above the data's top frequency is not tried, and the
result says so.

Without a spec (``--spec none``) the user gives the eye criteria (height and/or width at
the BER) and :func:`search_continuous` finds the highest rate meeting them for every lane to
0.1 GT/s: rates doubling from 1 GT/s up to the data's reach, then bisection between the
last rate that passes and the first that fails (this assumes the eye closes steadily with
rate between those two; rates below the last pass of the scan are not re-checked). Eye
criteria given with a spec are checked on top of the spec's own checks (every lane must
meet both).

The pulse responses take the response above the data's top frequency as zero, behind a
cosine taper over its last tenth (:func:`sigint.timedomain.pulse.pulse_responses`): a rate
whose Nyquist frequency falls in that band is closed by the end of the data rather than by
the channel, and when the first failing rate (or the highest rate passing, at the data's
reach) is one, the result says that the input's frequency range limits the maximum
(``data_limited``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..network.quality import band_limited
from .analyze import AnalysisOptions, Link
from .lanes import ALL_LANES, LanesResult, evaluate_lanes, lane_of_smallest, limiting_check, relative_margin

__all__ = ["RateRow", "RateSearch", "search_rates", "search_continuous", "spec_rates",
           "UCIE_DENSITY_GBYTES_PER_MM"]

#: UCIe 3.0 Table 1-4, advanced package at 45 um bump pitch: die-edge bandwidth density,
#: GB/s per mm, by data rate in GT/s (PRODUCT.md, "Spec facts"). The table counts a x64
#: module's 64 Tx and 64 Rx data lanes over its 388.8 um width: 128 x rate / 0.3888 mm / 8
#: reproduces every entry to rounding.
UCIE_DENSITY_GBYTES_PER_MM = {4: 165, 8: 329, 12: 494, 16: 658, 24: 988, 32: 1317, 48: 1975,
                              64: 2634}


def spec_rates(spec: str, package: str) -> tuple[float, ...]:
    """The discrete rates (symbols/s) of *spec* for *package* (empty for a spec with a
    continuous range of rates).

    >>> [r / 1e9 for r in spec_rates("ucie", "standard-unterminated")]
    [4.0, 8.0, 12.0, 16.0]
    >>> [r / 1e9 for r in spec_rates("bow", "advanced")]
    [2.0, 4.0, 8.0, 16.0, 24.0, 32.0]
    """
    if spec == "none":
        raise InputError(f"--spec {spec}: a search over discrete rates needs a spec with "
                         "them (ucie, bow, ...); without a spec give the eye criteria "
                         "(--eye-height and --eye-width) for a continuous search")
    from ..specs.library import load_spec

    sf = load_spec(spec)
    return sf.rates(package if package in sf.packages else None)


@dataclass
class RateRow:
    """One rate tried: the worst lane's figures and its limiting check.

    Attributes
    ----------
    rate : float
        The rate, symbols/s.
    lanes : LanesResult
        Every lane evaluated at it (all of them, or one in a probe).
    """

    rate: float
    lanes: LanesResult

    @property
    def passed(self) -> bool | None:
        """The rate's verdict: None when not settled (lanes left out, those evaluated pass)."""
        p = self.lanes.passed
        return None if p and not self.lanes.complete else p

    def worst_margins(self) -> dict:
        """Per check: the smallest margin over the lanes evaluated and its lane
        (:data:`~sigint.analysis.lanes.ALL_LANES` when every lane has it; the limiting
        lane's own figures are the row's other columns)."""
        per: dict[str, list] = {}
        for x in self.lanes.lanes:
            for c in x.checks:
                per.setdefault(c.name, []).append((x.victim, c))
        out: dict = {}
        for name, pairs in per.items():
            finite = [t for t in pairs if _f(t[1].margin) is not None] or pairs
            lane, c = min(finite, key=lambda t: (_f(t[1].margin) is None, t[1].margin))
            if self.lanes.complete and len(pairs) == len(self.lanes.lanes):
                if lane_of_smallest(pairs)[0] == ALL_LANES:
                    lane = ALL_LANES
            out[name] = {"margin": _f(c.margin), "unit": c.unit, "lane": lane}
        return out

    def as_dict(self) -> dict:
        """The rate's figures: those of the limiting lane (the lane closest to failing,
        :func:`sigint.analysis.lanes.worst_index`: ``figures_lane``), its equalization, and per
        check the smallest margin over every lane evaluated (``worst_margins``).
        ``worst_lane`` names the limiting lane, or ``all lanes`` when its limiting check has
        the same margin on every lane (:attr:`~sigint.analysis.lanes.LanesResult.worst_lane`)."""
        r = self.lanes.lanes[self.lanes.worst]
        by = {c.name: c for c in r.checks}
        lim = self.lanes.limiting

        def m(name):
            return _f(by[name].margin) if name in by else None

        return {
            "rate_gbps": self.rate / 1e9, "passed": self.passed,
            "worst_lane": self.lanes.worst_lane, "figures_lane": r.victim,
            "eye_height_v": _f(r.eye.eye_height), "eye_width_ui": _f(r.eye.eye_width),
            "mask_height_v": _f(r.mask_height), "eye_mask_margin_v": m("eye_mask"),
            "vtf_loss_db_at_nyquist": _f(r.loss_db_at_nyquist),
            "vtf_loss_margin_db": m("vtf_loss") if "vtf_loss" in by else m("loss_mask"),
            "vtf_loss_fn_margin_db": m("vtf_loss_fn"),
            "vtf_xt_margin_db": (m("vtf_crosstalk") if "vtf_crosstalk" in by
                                 else m("crosstalk_mask")),
            "equalization": None if r.eq is None else r.eq.as_dict()["chosen"],
            **_equalization(r),
            "spec_row": None if r.row is None else r.row.title,
            "worst_margins": self.worst_margins(),
            "ber": r.ber,
            "limiting_check": None if lim is None else lim.name,
            "limiting_margin": None if lim is None else _f(lim.margin),
            "limiting_unit": None if lim is None else lim.unit,
            "failing_checks": sorted({c.name for x in self.lanes.lanes for c in x.checks
                                      if not c.passed}),
            "lanes_evaluated": len(self.lanes.lanes), "complete": self.lanes.complete,
            "seconds": round(self.lanes.timings.get("lanes", 0.0), 3),
        }


@dataclass
class RateSearch:
    """The result of :func:`search_rates`.

    Attributes
    ----------
    source : str
        Name of the input.
    spec, package : str
        What was checked.
    rows : list of RateRow
        Every rate tried, ascending.
    not_tried : list of float
        Spec rates above the data's reach, symbols/s.
    max_rate : float or None
        Highest rate at which every lane passes every check, symbols/s (None: none).
    notes : list of str
        What limited the search.
    density : dict, optional
        Bandwidth density at the maximum rate (set by the caller that knows the geometry).
    """

    source: str
    spec: str
    package: str
    rows: list[RateRow]
    not_tried: list[float]
    max_rate: float | None
    notes: list[str] = field(default_factory=list)
    density: dict | None = None
    timings: dict[str, float] = field(default_factory=dict)
    criteria: dict | None = None
    """User eye criteria checked on every lane (``eye_height_v``, ``eye_width_ui``; None:
    none given)."""
    data_limited: bool = False
    """True when the frequency range of the input, not a check, limits the maximum (see the
    module docstring)."""

    def __repr__(self) -> str:
        mx = "none" if self.max_rate is None else f"{self.max_rate / 1e9:g} GT/s"
        return (f"<RateSearch {self.source}, {self.spec}: {len(self.rows)} rates tried, "
                f"maximum {mx}>")

    @property
    def limiting(self) -> dict | None:
        """At the first rate tried above the maximum: the check that fails there."""
        above = [r for r in self.rows if self.max_rate is None or r.rate > self.max_rate]
        if not above:
            return None
        nxt = above[0]
        lim = nxt.lanes.limiting
        return {"rate_gbps": nxt.rate / 1e9, "check": None if lim is None else lim.name,
                "lane": nxt.lanes.worst_lane,
                "margin": None if lim is None else _f(lim.margin),
                "unit": None if lim is None else lim.unit}

    def to_json(self) -> dict:
        return {
            "source": self.source, "spec": self.spec, "package": self.package,
            "max_rate_gbps": None if self.max_rate is None else self.max_rate / 1e9,
            "limited_by": self.limiting,
            "rates": [r.as_dict() for r in self.rows],
            "not_tried_gbps": [r / 1e9 for r in self.not_tried],
            "bandwidth_density": self.density, "user_criteria": self.criteria,
            "data_limited": self.data_limited, "notes": self.notes,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def summary(self) -> str:
        if self.spec == "user eye criteria":
            what = "user eye criteria, every lane"
        elif self.spec == "ucie":
            what = f"UCIe {self.package} package, every lane, spec equalization at each rate"
        else:
            what = f"{self.spec}, every lane, spec equalization at each rate"
        lines = [f"sigint rate {self.source}: {what}"]
        if self.criteria:
            lines.append("  user eye criteria on every lane"
                         + (" (on top of the spec's checks)" if self.spec != "user eye criteria"
                            else "") + ": " + _criteria_words(self.criteria))
        lines += ["",
                 f"  {'GT/s':>5} {'lim.lane':>8} {'height mV':>9} {'width UI':>8} "
                 f"{'mask mV':>8} {'loss dB':>8} {'XT dB':>7} {'min mask mV (lane)':>19}"
                 "  limiting check (margin)  verdict"]
        eq_lines = []
        for row in self.rows:
            d = row.as_dict()

            def g(v, scale=1.0, fmt=".1f"):
                return "-" if v is None else format(v * scale, fmt)

            lim = ("-" if d["limiting_check"] is None else
                   f"{d['limiting_check']} ({d['limiting_margin']:+.3g} {d['limiting_unit']})")
            wm = d["worst_margins"].get("eye_mask")
            wm_s = ("-" if wm is None or wm["margin"] is None else
                    f"{wm['margin'] * 1e3:+.1f} ({_short(wm['lane'])})")
            lines.append(
                f"  {d['rate_gbps']:>5g} {_short(d['worst_lane']):>8} "
                f"{g(d['eye_height_v'], 1e3):>9} {g(d['eye_width_ui'], 1, '.3f'):>8} "
                f"{g(d['eye_mask_margin_v'], 1e3, '+.1f'):>8} "
                f"{g(d['vtf_loss_margin_db'], 1, '+.2f'):>8} {g(d['vtf_xt_margin_db'], 1, '+.1f'):>7}"
                f" {wm_s:>19}  {lim:<24} "
                + ({True: "pass", False: "FAIL", None: "not settled"}[d["passed"]])
                + ("" if d["complete"] else
                   f" ({d['lanes_evaluated']} lane evaluated above the first failing rate)"))
            if d["equalization"] is not None or d["dfe_taps_v_per_v"]:
                spec_row = f" [{d['spec_row']}]" if d["spec_row"] else ""
                eq_lines.append(f"  {d['rate_gbps']:>5g} GT/s{spec_row}: {_eq_words(d)} "
                                f"(lane {_short(d['figures_lane'])})")
        lines.append("  (each row: the limiting lane's figures, the lane closest to failing; "
                     "mask, loss and XT columns are its margins, positive passes; min mask: "
                     "the smallest eye-mask margin over the lanes evaluated; 'all': the "
                     "limiting check has the same margin on every lane, the figures are those "
                     "of the lane closest to failing on the other checks)")
        if eq_lines:
            lines.append("  equalization chosen, limiting lane:")
            lines += eq_lines
        for r in self.not_tried:
            lines.append(f"  {r / 1e9:>5g}  not tried: beyond the data (see notes)")
        lines.append("")
        if self.max_rate is None:
            lines.append("maximum data rate: none of the rates tried passes")
        else:
            lines.append(f"maximum data rate: {self.max_rate / 1e9:g} GT/s")
        lim = self.limiting
        if lim is not None:
            lines.append(f"limited by: {lim['check']} on {lim['lane']} at {lim['rate_gbps']:g} "
                         f"GT/s (margin {lim['margin']:+.3g} {lim['unit']})")
        if self.density:
            d = self.density
            lines.append(f"bandwidth density at the maximum rate: {d['gbps_per_mm']:.0f} Gb/s/mm "
                         f"of die edge ({d['gbps_per_mm'] / 8:.0f} GB/s/mm), "
                         + (f"{d['gbps_per_mm2']:.0f} Gb/s/mm^2" if d.get("gbps_per_mm2") is not None
                            else "per mm^2: give --module-depth")
                         + (f"; counted at {d['segment']}" if d.get("segment") else ""))
            if d.get("ucie_table_1_4_gbytes_per_mm") is not None:
                lines.append(f"  UCIe Table 1-4 (advanced, 45 um pitch) at the same rate: "
                             f"{d['ucie_table_1_4_gbytes_per_mm']} GB/s/mm (it counts a x64 "
                             "module's 64 Tx + 64 Rx lanes over 388.8 um)")
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def plot(self, folder: str | Path) -> list[Path]:
        """``rate_margin.png``: the worst lane's relative margin of each check vs rate."""
        from ..report.figures import pyplot, save_figure
        from .lanes import relative_margin

        plt = pyplot()

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        names: list[str] = []
        for row in self.rows:
            for c in row.lanes.lanes[row.lanes.worst].checks:
                if c.name not in names:
                    names.append(c.name)
        fig, ax = plt.subplots(figsize=(7, 4.2))
        x = np.array([r.rate / 1e9 for r in self.rows])
        for name in names:
            y = []
            for row in self.rows:
                # worst over lanes of this check's relative margin
                ms = [relative_margin(c) for r in row.lanes.lanes for c in r.checks
                      if c.name == name]
                y.append(min(ms) if ms else np.nan)
            ax.plot(x, 100 * np.array(y), "o-", label=name)
        ax.axhline(0, color="k", lw=0.8)
        if self.max_rate is not None:
            ax.axvline(self.max_rate / 1e9, color="g", ls="--", lw=1,
                       label=f"maximum {self.max_rate / 1e9:g} GT/s")
        ax.set_xlabel("data rate (GT/s)")
        ax.set_ylabel("worst-lane margin / |limit| (%)")
        ax.set_title(f"{Path(self.source).name}: margin vs rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return [save_figure(fig, folder / "rate_margin.png", dpi=120)]


def _short(lane: str) -> str:
    """A lane name for a table column: ``3`` for ``lane 3``, ``all`` for every lane."""
    return "all" if lane == ALL_LANES else lane.replace("lane ", "")


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _equalization(r) -> dict:
    """The equalization a lane's result used: the Tx setting chosen (None where the spec has
    none to choose, e.g. BoW), the Tx FFE taps, the CTLE (DC gain and form, or bypassed as
    the spec's choice) and the DFE taps."""
    ctle = r.rx.ctle
    chosen = None if r.eq is None else r.eq.chosen
    return {
        "tx_setting": None if chosen is None else (chosen.label or None),
        "tx_ffe": list(r.tx.ffe),
        "ctle_dc_gain_db": None if ctle is None else ctle.dc_gain_db,
        "ctle_form": None if ctle is None else ctle.form,
        "ctle_bypassed": bool(chosen is not None and chosen.ctle_bypass and ctle is None),
        "dfe_taps_v_per_v": [float(v) for v in r.cursors.dfe_values],
    }


def _eq_words(d: dict) -> str:
    """A rate row's equalization in words (``P2, CTLE -1 dB (ucie-reference), DFE h1
    0.052 V/V``; ``CTLE bypassed`` for BoW-384/512 without its CTLE)."""
    parts = []
    if d["tx_setting"]:
        parts.append(d["tx_setting"])
    elif len(d["tx_ffe"]) > 1:
        parts.append("Tx FFE " + str(d["tx_ffe"]))
    if d["ctle_dc_gain_db"] is not None:
        parts.append(f"CTLE {d['ctle_dc_gain_db']:+g} dB ({d['ctle_form']})")
    elif d["ctle_bypassed"]:
        parts.append("CTLE bypassed")
    if d["dfe_taps_v_per_v"]:
        parts.append("DFE " + ", ".join(f"h{k + 1} {v:.3g} V/V"
                                        for k, v in enumerate(d["dfe_taps_v_per_v"])))
    return ", ".join(parts) or "no equalization"


def search_rates(
    link: Link,
    options: AnalysisOptions,
    *,
    rates: tuple[float, ...] | None = None,
    progress: Callable[[str], None] | None = None,
    exhaustive: bool = False,
    threads: int | None = None,
    eye_height: float | None = None,
    eye_width: float | None = None,
    **models: Any,
) -> RateSearch:
    """Every lane at every spec rate the data reach; the highest rate that passes.

    Parameters
    ----------
    link : Link
        From :func:`sigint.analyze.prepare` (or :func:`sigint.api.prepare_built`).
    options : AnalysisOptions
        Spec, package and settings; ``rate`` is replaced by each rate tried and ``bits``
        by 0 (no bit-by-bit run in a search).
    rates : tuple of float, optional
        Rates to try, symbols/s (default: the spec's, :func:`spec_rates`).
    progress : callable, optional
        Called with a short stage name.
    exhaustive : bool
        Evaluate every lane at every rate. By default, once a rate has failed, each higher
        rate is probed with one lane, the worst at the last rate evaluated in full
        (``complete`` false): a failure there settles the rate (fail), a pass leaves it
        unsettled (:attr:`RateRow.passed` None). Every lane is always evaluated at every
        rate up to the first failing one.
    threads : int, optional
        Lanes evaluated at once (:func:`sigint.analysis.lanes.evaluate_lanes`).
    eye_height, eye_width : float, optional
        User eye criteria, V and UI, checked on every lane on top of the spec's checks.
    **models
        ``tx_overrides``, ``rx_overrides`` (and ``tx``, ``rx``) as for
        :func:`sigint.analyze.evaluate`.

    Returns
    -------
    RateSearch

    Raises
    ------
    InputError
        Without a spec, or when the data reach none of the rates.
    """
    import time

    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    rates = tuple(sorted(rates or spec_rates(options.spec, options.package)))
    tried, not_tried, notes = _rates_in_reach(link, rates)
    rows = []
    order = list(range(link.n_lanes))
    failed_below = False
    for r in tried:
        say(f"{r / 1e9:g} GT/s")
        opts = options.model_copy(update={"rate": r, "bits": 0})
        probe = failed_below and not exhaustive and len(order) > 1
        res = evaluate_lanes(link, opts, victims=order[:1] if probe else order,
                             progress=progress, threads=threads, **models)
        if probe:
            res.complete = False
        _add_criteria(res, eye_height, eye_width)
        rows.append(RateRow(r, res))
        if res.complete:
            # next rate: the lanes worst first, so a failing rate shows it at once
            by_lane = {j: relative_margin(limiting_check(x.checks))
                       if x.checks else x.eye.eye_height
                       for j, x in zip(sorted(order), res.lanes)}
            order = sorted(order, key=lambda j: by_lane[j])
        if res.passed is False:
            failed_below = True
    max_rate = None
    for row in rows:                 # every rate up to the maximum passes (see the module)
        if not row.lanes.passed:
            break
        max_rate = row.rate
    if max_rate is not None and max_rate == tried[-1] and not not_tried:
        notes.append(f"every rate tried passes: the channel may carry more than "
                     f"{max_rate / 1e9:g} GT/s")
    notes += _above_first_failure(rows)
    notes += _bandwidth_notes(link, rows)
    data_note = _data_limit_note(link, rows, max_rate)
    if data_note:
        notes.append(data_note)
    return RateSearch(source=link.source, spec=options.spec, package=options.package, rows=rows,
                      not_tried=not_tried, max_rate=max_rate, notes=notes,
                      timings={"search": time.perf_counter() - t0},
                      criteria=_criteria(eye_height, eye_width),
                      data_limited=data_note is not None)


def _rates_in_reach(link: Link, rates: tuple[float, ...]
                    ) -> tuple[list[float], list[float], list[str]]:
    """(rates whose Nyquist frequency the data reach and start below, the others, a note
    on those left out); an :class:`InputError` when the data reach none."""
    f = link.f
    fmax = float(f[-1])
    tried = [r for r in rates if r / 2 <= fmax * (1 + 1e-9) and f[0] < r / 2]
    not_tried = [r for r in rates if r not in tried]
    notes: list[str] = []
    if not tried:
        raise InputError(f"{link.source}: the data stop at {fmax / 1e9:g} GHz, below the "
                         f"Nyquist frequency of every rate to try (lowest "
                         f"{rates[0] / 1e9:g} GT/s needs {rates[0] / 2e9:g} GHz); give data "
                         "that reach it")
    if not_tried:
        notes.append(f"the data stop at {fmax / 1e9:g} GHz: the search is limited to "
                     f"{tried[-1] / 1e9:g} GT/s; "
                     + ", ".join(f"{r / 1e9:g}" for r in not_tried)
                     + " GT/s not tried (their Nyquist frequency lies above the data)")
    return tried, not_tried, notes


def _above_first_failure(rows: list[RateRow]) -> list[str]:
    """Notes on the rates above the first failing one: probed and not settled, or passing
    although a lower rate fails."""
    notes: list[str] = []
    first_fail = next((row.rate for row in rows if not row.lanes.passed), None)
    above = [row.rate for row in rows if first_fail is not None and row.rate > first_fail
             and row.passed]
    probed = [row for row in rows if first_fail is not None and row.rate > first_fail
              and row.passed is None]
    if probed:
        notes.append(", ".join(f"{r.rate / 1e9:g}" for r in probed) + " GT/s not settled: "
                     "above the first failing rate each rate is probed with one lane (the "
                     "worst at the last rate evaluated in full), and it passes there; the "
                     "other lanes were not evaluated (no rate above the first failing one "
                     "changes the maximum; --exhaustive evaluates them)")
    if above:
        notes.append(", ".join(f"{r / 1e9:g}" for r in above) + " GT/s pass although "
                     f"{first_fail / 1e9:g} GT/s fails (their checks, mask or equalization "
                     "differ; UCIe has no VTF mask at 48/64 GT/s): the maximum is the highest "
                     "rate below the first failing one, since a link trains up through the "
                     "lower rates and falls back to them")
    return notes


def _continuous_range(link: Link, options: AnalysisOptions, criteria: bool, *, start: float,
                      stop: float | None, resolution: float
                      ) -> tuple[float, float, float | None]:
    """(first rate, highest rate to try on the *resolution* grid, the spec's or *stop*'s top
    or None) of a continuous search: the data's reach, capped by the spec's range (when a
    spec is checked) and by *stop*, all symbols/s."""
    f = link.f
    top = math.floor(2 * float(f[-1]) * (1 + 1e-9) / resolution) * resolution
    spec_top = None
    sf = options.spec_file() if options.spec != "none" else None
    if sf is not None and not sf.continuous:
        raise InputError(f"{sf.spec} has discrete rates; search them with search_rates")
    if sf is None and not criteria:
        raise InputError("a continuous rate search needs eye criteria (--eye-height, "
                         "--eye-width) or a spec with a range of rates (rate_range: {min, max})")
    if sf is not None:
        start = max(start, min(r.rate_range.min for r in sf.rows))
        spec_top = max(r.rate_range.max for r in sf.rows)
        top = min(top, math.floor(spec_top * (1 + 1e-9) / resolution) * resolution)
    if stop is not None:
        spec_top = stop if spec_top is None else min(spec_top, stop)
        top = min(top, math.floor(stop * (1 + 1e-9) / resolution) * resolution)
    if top < start:
        raise InputError(f"{link.source}: the data stop at {f[-1] / 1e9:g} GHz, below the "
                         f"Nyquist frequency of {start / 1e9:g} GT/s; give data that reach it")
    return start, top, spec_top


def _highest_passing(run: Callable[[float], bool], start: float, top: float,
                     resolution: float) -> tuple[float | None, bool]:
    """Rates doubling from *start* (capped at *top*) while *run* passes, then bisection
    between the last pass and the first fail down to *resolution* (symbols/s): the highest
    passing rate (None when *start* fails) and whether *top* itself passed."""
    lo = hi = None
    r = start
    while True:
        if run(r):
            lo = r
            if r >= top:
                return lo, True
            r = min(2 * r, top)
        else:
            hi = r
            break
    if lo is not None:
        while hi - lo > resolution * (1 + 1e-9):
            mid = round((lo + hi) / 2 / resolution) * resolution
            if mid in (lo, hi):
                break
            if run(mid):
                lo = mid
            else:
                hi = mid
    return lo, False


def _criteria_words(c: dict) -> str:
    """``eye height >= 40 mV, eye width >= 0.5 UI`` of a criteria dict."""
    parts = []
    if c.get("eye_height_v") is not None:
        parts.append(f"eye height >= {c['eye_height_v'] * 1e3:g} mV")
    if c.get("eye_width_ui") is not None:
        parts.append(f"eye width >= {c['eye_width_ui']:g} UI")
    return ", ".join(parts)


def _user_checks(r, eye_height: float | None, eye_width: float | None) -> list:
    """The user's eye criteria (those given) as checks of the lane result *r*:
    ``user_eye_height`` and ``user_eye_width`` (distinct from a spec's own ``eye_height``
    and ``eye_width`` checks, which they join)."""
    from ..specs.checks import Check

    e = r.eye
    at = f"BER {r.ber:.0e}"
    out = []
    if eye_height is not None:
        out.append(Check(name="user_eye_height", passed=bool(e.eye_height >= eye_height),
                         value=e.eye_height, limit=eye_height,
                         margin=e.eye_height - eye_height, unit="V",
                         where=f"best phase, {at}", detail="user criterion"))
    if eye_width is not None:
        out.append(Check(name="user_eye_width", passed=bool(e.eye_width >= eye_width),
                         value=e.eye_width, limit=eye_width, margin=e.eye_width - eye_width,
                         unit="UI", where=f"at 0 V, {at}", detail="user criterion"))
    return out


def _add_criteria(res: LanesResult, eye_height: float | None, eye_width: float | None) -> None:
    """Append the user's eye criteria to every lane's checks of *res* and rank the lanes
    again (the worst lane may change)."""
    if eye_height is None and eye_width is None:
        return
    from .lanes import worst_index

    full = res.worst_result               # the worst lane's rerun with bits, if any
    for r in res.lanes:
        r.checks = list(r.checks) + _user_checks(r, eye_height, eye_width)
    res.worst = len(res.lanes) - 1 if not res.complete else worst_index(res.lanes)
    if full.victim == res.lanes[res.worst].victim and all(full is not r for r in res.lanes):
        full.checks = list(full.checks) + _user_checks(full, eye_height, eye_width)
    else:
        res.worst_result = res.lanes[res.worst]


def _criteria(eye_height: float | None, eye_width: float | None) -> dict | None:
    if eye_height is None and eye_width is None:
        return None
    return {"eye_height_v": eye_height, "eye_width_ui": eye_width}


def _taper() -> float:
    """The fraction of the data's band over which the pulse responses taper the response to
    zero at its top frequency (:func:`sigint.timedomain.pulse.pulse_responses_set`)."""
    import inspect

    from ..timedomain.pulse import pulse_responses_set

    return float(inspect.signature(pulse_responses_set).parameters["taper"].default)


def _bandwidth_notes(link: Link, rows: list[RateRow]) -> list[str]:
    """A note naming the rates tried whose symbol rate lies above the end of the data
    (their pulse responses are shaped by the cut-off: analyze's bandwidth warning)."""
    fmax = float(link.f[-1])
    short = [r.rate for r in rows if band_limited(fmax, r.rate)]
    if not short:
        return []
    return [f"the data stop at {fmax / 1e9:g} GHz, below the symbol rate of "
            + ", ".join(f"{r / 1e9:g}" for r in short)
            + " GT/s: the eyes there are computed from a response cut off below the rate "
            "(sigint analyze warns of it: bandwidth), so their margins are less certain; data "
            "to 3 times the rate settle them"]


def _data_limit_note(link: Link, rows: list[RateRow], max_rate: float | None
                     ) -> str | None:
    """A note when the first rate failing above *max_rate* is closed by the end of the data
    (its Nyquist frequency lies where the pulse responses taper the response to zero), not
    by the channel; None otherwise."""
    fmax = float(link.f[-1])
    f_t = fmax * (1 - _taper())
    fail = next((r for r in rows if not r.lanes.passed
                 and (max_rate is None or r.rate > max_rate)), None)
    if fail is None:
        return None
    if fail.rate / 2 <= f_t * (1 + 1e-9):
        if not band_limited(fmax, fail.rate):
            return None
        # the Nyquist frequency is inside the data, but the data stop below the symbol
        # rate: the edges are shaped by the cut-off (the bandwidth warning of analyze)
        return (f"the input's frequency range may limit the maximum: the data stop at "
                f"{fmax / 1e9:g} GHz, {fmax / fail.rate:.2f} x the symbol rate of the first "
                f"failing rate, {fail.rate / 1e9:g} GT/s, so its pulse responses are shaped by "
                f"the cut-off (sigint analyze warns of it) and the failure may be the data's, "
                f"not the channel's; give data to at least {fail.rate / 1e9:g} GHz (better 3 "
                "times the rate) to settle it")
    return (f"the input's frequency range limits the maximum, not a check: the data stop at "
            f"{fmax / 1e9:g} GHz, and above {f_t / 1e9:g} GHz the response is tapered to zero, "
            f"so the eye at {fail.rate / 1e9:g} GT/s (Nyquist frequency "
            f"{fail.rate / 2e9:g} GHz) is closed by the end of the data; give data that "
            f"reach further (at least {fail.rate / 1e9:g} GHz, better 3 times the rate) for "
            "a higher maximum")


def search_continuous(
    link: Link,
    options: AnalysisOptions,
    *,
    eye_height: float | None = None,
    eye_width: float | None = None,
    resolution: float = 0.1e9,
    start: float = 1e9,
    stop: float | None = None,
    progress: Callable[[str], None] | None = None,
    threads: int | None = None,
    **models: Any,
) -> RateSearch:
    """Highest rate at which every lane's eye meets *eye_height* (V) and *eye_width* (UI),
    or, without them, every check of a spec with a continuous range of rates (a user spec
    file, ``rate_range: {min, max}``; the search starts at its minimum and stops at its maximum).

    Rates double from *start* while every lane passes and the data reach
    the rate's Nyquist frequency, then bisection between the last pass and the first fail
    down to *resolution* (symbols/s), each rate snapped to a multiple of it.

    Parameters
    ----------
    link : Link
        From :func:`sigint.analyze.prepare`.
    options : AnalysisOptions
        Settings (``spec`` must be ``none``; ``eq``/``ctle`` choose the equalization
        searched at each rate; ``ber`` the BER of the criteria).
    eye_height, eye_width : float
        Criteria, V and UI.
    resolution, start : float
        Symbols/s.
    stop : float, optional
        Highest rate to try, symbols/s (default: the data's reach, or the spec's top).
    threads : int, optional
        Lanes evaluated at once (:func:`sigint.analysis.lanes.evaluate_lanes`).

    Returns
    -------
    RateSearch
        ``spec`` is ``user eye criteria`` (or the spec's name); each row's lanes carry the
        criteria given as checks ``user_eye_height`` and ``user_eye_width``.

    Raises
    ------
    InputError
        When the data reach no rate at or above *start*.
    """
    import time

    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    f = link.f
    criteria = eye_height is not None or eye_width is not None
    start, top, spec_top = _continuous_range(link, options, criteria, start=start, stop=stop,
                                             resolution=resolution)
    rows: dict[float, RateRow] = {}

    def run(rate: float) -> bool:
        rate = round(rate / resolution) * resolution
        if rate not in rows:
            say(f"{rate / 1e9:g} GT/s")
            opts = options.model_copy(update={"rate": rate, "bits": 0})
            res = evaluate_lanes(link, opts, progress=progress, threads=threads, **models)
            _add_criteria(res, eye_height, eye_width)
            rows[rate] = RateRow(rate, res)
        return bool(rows[rate].lanes.passed)

    notes = []
    lo, at_top = _highest_passing(run, start, top, resolution)
    if at_top and spec_top is not None and top >= spec_top * (1 - 1e-9):
        notes.append(f"every lane passes up to the highest rate to try, {top / 1e9:g} GT/s")
    ordered = [rows[k] for k in sorted(rows)]
    notes += _bandwidth_notes(link, ordered)
    data_limited = False
    if at_top and not (spec_top is not None and top >= spec_top * (1 - 1e-9)):
        data_limited = True
        notes.append(f"the input's frequency range limits the maximum, not a check: the data "
                     f"stop at {f[-1] / 1e9:g} GHz, so the search stopped at {top / 1e9:g} GT/s "
                     "(Nyquist frequency at the data's end), where every check still passes; "
                     "give data that reach further for a higher maximum")
    else:
        data_note = _data_limit_note(link, ordered, lo)
        if data_note:
            data_limited = True
            notes.append(data_note)
    name = "user eye criteria" if options.spec == "none" else options.spec_file().spec
    return RateSearch(source=link.source, spec=name, package=options.package, rows=ordered,
                      not_tried=[], max_rate=lo, notes=notes,
                      timings={"search": time.perf_counter() - t0},
                      criteria=_criteria(eye_height, eye_width), data_limited=data_limited)
