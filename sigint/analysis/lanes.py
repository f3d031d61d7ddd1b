"""Every lane as victim: one batched transfer solve, a per-lane table, the worst lane.

:func:`evaluate_lanes` runs the rate-dependent stage of :func:`sigint.analyze.evaluate`
for each lane of a :class:`~sigint.analyze.Link` (the transfers of every lane into every
lane come from the one solve the link keeps) and reports the lane that comes closest to
failing with its limiting check.

Ranking checks of different units (dB, V, UI) needs one scale: the *relative margin*
``margin / |limit|`` (a check passes when it is >= 0). A lane's limiting check is the one
with the smallest relative margin; the worst lane is the one whose limiting check has the
smallest relative margin. Without a spec (no checks) the worst lane is the one with the
smallest eye height.

A check whose margin is the same on every lane (a spec-wide check such as ``lane_skew``,
one Check shared by every lane; or a mask that identical lanes meet alike) limits every
lane, not the first of them: where the worst lane's limiting check is such a check, the
worst lane is reported as ``all lanes`` (:data:`ALL_LANES`), and so is the lane of any
check's smallest margin (:func:`lane_of_smallest`). Ties between lanes on the limiting
check are broken by their next-smallest relative margins, so the lane whose figures are
shown is the one closest to failing on the other checks.

The UCIe ``vtf_loss`` mask line starts at the channel's own L(0), so that check's margin
and limit both shrink towards DC (see :func:`sigint.specs.ucie.vtf_checks`); its relative
margin is taken as it comes, which can rank it first on channels whose loss is not
otherwise close to its limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..specs.checks import Check
from .analyze import AnalysisOptions, AnalysisResult, Link, evaluate

__all__ = ["LanesResult", "evaluate_lanes", "relative_margin", "limiting_check", "ALL_LANES",
           "same_on_every_lane", "lane_of_smallest"]

#: The name of the limiting lane when a check limits every lane alike.
ALL_LANES = "all lanes"

#: Relative spread of one check's margins over the lanes (of the larger of its limit and
#: margins) below which the check counts as limiting every lane alike: far above the
#: rounding of identical lanes solved together (~1e-15), below the differences of lanes
#: that differ at all (inner and outer lanes of a coupled bus: 2.5e-7 on a loss margin).
SAME_MARGIN_RTOL = 1e-9


def same_on_every_lane(checks: list[Check]) -> bool:
    """Whether the checks of one name, one per lane (two or more), have the same margin.

    >>> c = Check("lane_skew", True, 0.01, 0.03, 0.02, "UI")
    >>> same_on_every_lane([c, c, c]), same_on_every_lane([c])
    (True, False)
    """
    if len(checks) < 2:
        return False
    m = [c.margin for c in checks]
    if all(x == m[0] for x in m):
        return True
    if not all(math.isfinite(x) for x in m):
        return False
    scale = max([abs(x) for x in m] + [abs(c.limit) for c in checks
                                       if math.isfinite(c.limit)])
    return max(m) - min(m) <= SAME_MARGIN_RTOL * scale


def lane_of_smallest(per: list[tuple[str, Check]], complete: bool = True) -> tuple[str, Check]:
    """(lane, check) of the smallest relative margin among *per* ((lane name, check) pairs
    of one check name); the lane is :data:`ALL_LANES` when *complete* (every lane of the
    link is in *per*) and the margin is the same on every lane."""
    lane, c = min(per, key=lambda t: relative_margin(t[1]))
    if complete and same_on_every_lane([x for _, x in per]):
        return ALL_LANES, c
    return lane, c


def relative_margin(c: Check) -> float:
    """``margin / |limit|`` (``margin`` itself when the limit is 0); >= 0 passes.

    >>> relative_margin(Check("eye_height", True, 0.05, 0.04, 0.01, "V"))
    0.25
    """
    lim = abs(c.limit)
    if not math.isfinite(c.margin):
        return c.margin
    return c.margin / lim if lim > 0 and math.isfinite(lim) else c.margin


def limiting_check(checks: list[Check]) -> Check | None:
    """The check with the smallest :func:`relative_margin` (None without checks)."""
    if not checks:
        return None
    return min(checks, key=relative_margin)


@dataclass
class LanesResult:
    """Every lane of a link as victim at one rate.

    Attributes
    ----------
    source : str
        Name of the input.
    rate : float
        Symbol rate, 1/s.
    lanes : list of AnalysisResult
        One result per lane, in lane order (without the bit-by-bit run).
    worst : int
        0-based index of the worst lane (see the module docstring).
    worst_result : AnalysisResult
        The worst lane's full result (with the bit-by-bit run when asked for).
    timings : dict
        Seconds: ``lanes`` (all victims), ``worst`` (the worst lane's rerun).
    """

    source: str
    rate: float
    lanes: list[AnalysisResult]
    worst: int
    worst_result: AnalysisResult
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    complete: bool = True
    """False when not every lane was evaluated: stopped at the first failing lane
    (``stop_at_failure``; ``lanes`` holds the lanes evaluated, the failing one last), or a
    rate search's one-lane probe above the first failing rate."""

    def __repr__(self) -> str:
        lim = self.limiting
        verdict = {True: "PASS", False: "FAIL", None: "no spec"}[self.passed]
        return (f"<LanesResult {self.source}, {self.rate / 1e9:g} GT/s, {len(self.lanes)} lanes"
                f"{'' if self.complete else ' (stopped at the first failure)'}: worst "
                f"{self.worst_lane}"
                + ("" if lim is None else f", {lim.name} {lim.margin:+.3g} {lim.unit}")
                + f", {verdict}>")

    @property
    def passed(self) -> bool | None:
        """True when every lane passes every check, None without a spec."""
        flags = [r.passed for r in self.lanes]
        if all(p is None for p in flags):
            return None
        return all(bool(p) for p in flags)

    @property
    def checks(self) -> list[Check]:
        """The worst lane's checks (what a single verdict shows)."""
        return self.worst_result.checks

    @property
    def limiting(self) -> Check | None:
        """The worst lane's limiting check."""
        return limiting_check(self.lanes[self.worst].checks)

    @property
    def worst_lane(self) -> str:
        """The worst lane's name, or :data:`ALL_LANES` when its limiting check has the same
        margin on every lane (all of them evaluated)."""
        lim = self.limiting
        name = self.lanes[self.worst].victim
        if lim is None or not self.complete:
            return name
        same = [c for r in self.lanes for c in r.checks if c.name == lim.name]
        if len(same) == len(self.lanes) and same_on_every_lane(same):
            return ALL_LANES
        return name

    def table(self) -> list[dict]:
        """Per lane: eye, mask, loss and crosstalk figures and the limiting check."""
        out = []
        for r in self.lanes:
            lim = limiting_check(r.checks)
            xt = r.worst_crosstalk()["vtf_xt_db_worst"]
            by = {c.name: c for c in r.checks}
            out.append({
                "lane": r.victim,
                "eye_height_v": _f(r.eye.eye_height), "eye_width_ui": _f(r.eye.eye_width),
                "mask_height_v": _f(r.mask_height),
                "eye_mask_margin_v": _f(by["eye_mask"].margin) if "eye_mask" in by else None,
                "vtf_loss_db_at_nyquist": _f(r.loss_db_at_nyquist),
                "vtf_loss_margin_db": _f(by["vtf_loss"].margin) if "vtf_loss" in by else None,
                "vtf_xt_db_worst": xt,
                "vtf_xt_margin_db": (_f(by["vtf_crosstalk"].margin) if "vtf_crosstalk" in by
                                     else None),
                "equalization": None if r.eq is None else r.eq.as_dict()["chosen"],
                "limiting_check": None if lim is None else lim.name,
                "limiting_margin": None if lim is None else _f(lim.margin),
                "limiting_unit": None if lim is None else lim.unit,
                "passed": r.passed,
            })
        return out

    def to_json(self) -> dict:
        """The machine-readable result: the per-lane table, the worst lane in full."""
        lim = self.limiting
        return {
            "source": self.source, "rate_gbps": self.rate / 1e9, "victim": "all",
            "lanes": len(self.lanes), "complete": self.complete, "passed": self.passed,
            "worst_lane": self.worst_lane,
            "worst_lane_in_full": self.worst_result.victim,
            "limiting_check": None if lim is None else lim.as_dict(),
            "per_lane": self.table(),
            "worst": self.worst_result.to_json(),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            **self.extra,
        }

    def to_dataset(self):
        """The worst lane's dataset plus per-lane figures along a ``lane`` dimension."""
        ds = self.worst_result.to_dataset()
        names = np.array([r.victim for r in self.lanes], dtype=str)
        ds = ds.assign_coords(lane=("lane", names))
        tab = self.table()

        def col(key):
            return np.array([np.nan if t[key] is None else t[key] for t in tab], dtype=float)

        for key, unit in (("eye_height_v", "V"), ("eye_width_ui", "UI"), ("mask_height_v", "V"),
                          ("eye_mask_margin_v", "V"), ("vtf_loss_db_at_nyquist", "dB"),
                          ("vtf_loss_margin_db", "dB"), ("vtf_xt_db_worst", "dB"),
                          ("vtf_xt_margin_db", "dB"), ("limiting_margin", "")):
            ds[f"lane_{key}"] = ("lane", col(key), {"units": unit})
        ds["lane_passed"] = ("lane", np.array([-1 if t["passed"] is None else int(t["passed"])
                                               for t in tab], dtype=np.int8),
                             {"long_name": "1 pass, 0 fail, -1 no spec"})
        ds["lane_limiting_check"] = ("lane", np.array([t["limiting_check"] or "" for t in tab],
                                                      dtype=str))
        ds["lane_vtf_loss"] = (("lane", "frequency"),
                               np.array([r.vtf.loss_db for r in self.lanes]), {"units": "dB"})
        ds["lane_vtf_crosstalk"] = (("lane", "frequency"),
                                    np.array([r.vtf.xt_db(r.options.n_aggressors)
                                              for r in self.lanes]), {"units": "dB"})
        ds.attrs.update(worst_lane=self.worst_lane, worst_lane_in_full=self.worst_result.victim,
                        passed="none" if self.passed is None else str(bool(self.passed)).lower())
        return ds

    def summary(self) -> str:
        """Readable per-lane table, then the worst lane's full summary."""
        lines = [f"sigint analyze {self.source}: every lane as victim at {self.rate / 1e9:g} GT/s",
                 "",
                 f"  {'lane':<10} {'height mV':>9} {'width UI':>8} {'mask mV':>8} "
                 f"{'L(fN) dB':>8} {'XT dB':>7}  limiting check (margin)"]
        for t in self.table():
            def g(v, scale=1.0, fmt=".1f"):
                return "-" if v is None else format(v * scale, fmt)
            lim = ("-" if t["limiting_check"] is None else
                   f"{t['limiting_check']} ({t['limiting_margin']:+.3g} {t['limiting_unit']})")
            mark = {True: "", False: "  FAIL", None: ""}[t["passed"]]
            lines.append(f"  {t['lane']:<10} {g(t['eye_height_v'], 1e3):>9} "
                         f"{g(t['eye_width_ui'], 1, '.3f'):>8} {g(t['mask_height_v'], 1e3):>8} "
                         f"{g(t['vtf_loss_db_at_nyquist'], 1, '.2f'):>8} "
                         f"{g(t['vtf_xt_db_worst'], 1, '.1f'):>7}  {lim}{mark}")
        lim = self.limiting
        w = self.worst_lane
        lines.append("")
        lines.append(f"worst lane: {w}" + ("" if lim is None else
                                           f", limiting check {lim.name} (margin "
                                           f"{lim.margin:+.3g} {lim.unit})")
                     + ("" if w != ALL_LANES else
                        f": the same margin on every lane; {self.worst_result.victim} in full "
                        "below"))
        bd = self.extra.get("bandwidth_density")
        if bd:
            lines.append(f"bandwidth density: {bd['lanes']} lanes x {self.rate / 1e9:g} GT/s = "
                         f"{bd['gbps_per_mm']:.0f} Gb/s/mm of die edge, "
                         f"{bd['gbps_per_mm2']:.0f} Gb/s/mm^2 (at {bd['segment']})")
        verdict = {True: "PASS (every lane)", False: "FAIL", None: "no spec checked"}[self.passed]
        lines.append(f"verdict: {verdict}")
        lines.append("")
        lines.append("Worst lane in full:")
        lines.append(self.worst_result.summary())
        return "\n".join(lines)


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def worst_index(results: list[AnalysisResult]) -> int:
    """0-based index of the worst lane (module docstring)."""
    if any(r.checks for r in results):
        # the limiting check's relative margin first, ties broken by the next-smallest
        return min(range(len(results)),
                   key=lambda i: tuple(sorted(relative_margin(c) for c in results[i].checks))
                   if results[i].checks else (math.inf,))
    return min(range(len(results)), key=lambda i: results[i].eye.eye_height)


def lane_delay(f: np.ndarray, h: np.ndarray, rate: float) -> float:
    """Delay of a lane's transfer *h* (s): the least-squares slope of its unwrapped phase,
    :math:`-d\\varphi/d\\omega`, over (0, fN/2] (the band where the signal's energy is)."""
    f = np.asarray(f, dtype=float)
    sel = (f > 0) & (f <= rate / 4 * (1 + 1e-9))
    if sel.sum() < 2:
        sel = f > 0
    ph = np.unwrap(np.angle(np.asarray(h)[f > 0]))[: int(sel.sum())]
    w = 2 * np.pi * f[sel]
    slope = np.polyfit(w, ph, 1)[0]
    return float(-slope)


def _add_skew_check(results: list[AnalysisResult], options: AnalysisOptions) -> None:
    """Lane-to-lane skew against the spec's limit (UCIe Table 5-16), on every lane's result."""
    from ..errors import SpecError
    from ..specs.masks import skew_check

    try:
        row = options.spec_row(options.rate)
    except SpecError:
        return
    if row is None or row.skew_ui is None:
        return
    delays = np.array([lane_delay(r.vtf.f, r.vtf.victim, r.rate) for r in results])
    chk = skew_check(delays, [r.victim for r in results], options.rate, row.skew_ui,
                     row.clause("skew"))
    for r in results:
        r.checks.append(chk)


# Relative change of the lane network under the mirror up to which mirror lanes take their
# mates' figures: exact symmetry to rounding only. A looser tolerance is not safe: where
# two equalization candidates nearly tie, an asymmetry of 9e-4 was enough to make the
# mate's choice the worse one for the mirror lane and turn its pass into a fail. Channel
# files of symmetric buses are symmetric to ~1e-12 (the meshes are mirror-exact).
MIRROR_TOL = 1e-9


def _mirrored(mate: AnalysisResult, link: Link, victim: int) -> AnalysisResult:
    """Lane *victim*'s result as its mirror mate's (the network mirror-symmetric to
    rounding): the same figures and checks under the lane's own name. The checks are
    copied, since later steps (lane skew, user criteria) add to each lane's list."""
    import copy

    out = copy.copy(mate)
    out.victim = link.ln.lane_names[victim]
    out.checks = [copy.copy(c) for c in mate.checks]
    out.mirror_of = mate.victim
    return out


def mirror_lanes(link: Link, tol: float = MIRROR_TOL) -> np.ndarray | None:
    """The lane permutation i -> L-1-i if the lane network is invariant under it, else None.

    The network's S-parameters with the ports of every lane exchanged for those of its
    mirror lane (transmitter for transmitter, receiver for receiver) must equal the
    original to *tol* of the largest entry, with the same reference impedances and lane
    directions, and no aggressor files (their lanes are not mirrored). A symmetric bus
    is: lane L-1-i then sees, as victim, what lane i sees, with its aggressors mirrored.

    Returns
    -------
    ndarray of int, shape (L,), or None
    """
    cache = link.__dict__.setdefault("_mirror_lanes", {})   # rate-independent: once a link
    if tol not in cache:
        cache[tol] = _mirror_perm(link, tol)
    return cache[tol]


def _mirror_perm(link: Link, tol: float) -> np.ndarray | None:
    """:func:`mirror_lanes` computed."""
    ln = link.ln
    n = len(ln.tx)
    if link.aggressors or n < 2:
        return None
    perm = np.arange(n)[::-1]
    m = ln.s.shape[-1]
    q = np.arange(m)
    q[ln.tx] = ln.tx[perm]
    q[ln.rx] = ln.rx[perm]
    if not np.array_equal(np.sort(q), np.arange(m)):
        return None
    rev = [bool(getattr(lane, "reversed", False)) for lane in link.port_map.lanes]
    if len(rev) == n and any(rev[i] != rev[perm[i]] for i in range(n)):
        return None
    z0 = np.asarray(ln.z0)
    if np.abs(z0[q] - z0).max() > tol * np.abs(z0).max():
        return None
    s = ln.s
    scale = np.abs(s).max()
    for k0 in range(0, s.shape[0], 256):
        blk = s[k0:k0 + 256]
        if np.abs(blk[:, q][:, :, q] - blk).max() > tol * scale:
            return None
    return perm


def evaluate_lanes(
    link: Link,
    options: AnalysisOptions,
    *,
    victims: list[int] | None = None,
    progress: Callable[[str], None] | None = None,
    stop_at_failure: bool = False,
    threads: int | None = None,
    **models,
) -> LanesResult:
    """Every lane (or the 0-based *victims*) as victim at ``options.rate``.

    Each lane is evaluated without the bit-by-bit run; the worst lane is then evaluated
    again with ``options.bits`` (when non-zero) for its full result. When the network is
    mirror-symmetric (:func:`mirror_lanes`: the lane network equal to its mirror image to
    :data:`MIRROR_TOL`, i.e. to rounding), only the lanes of one half are evaluated and
    each mirror lane takes its mate's figures and checks under its own name (measured on
    the shipped examples: the same eye to 1e-14 V either way); the worst lane, whose
    transfers, pulses and eye go into the datasets and plots, is always evaluated as
    itself.

    Parameters
    ----------
    link : Link
        From :func:`sigint.analyze.prepare`.
    options : AnalysisOptions
        Rate, spec and settings (``victim`` is ignored).
    victims : list of int, optional
        0-based lanes to evaluate (default: all).
    progress : callable, optional
        Called with a short stage name.
    stop_at_failure : bool
        Stop at the first lane that fails a check (the verdict is then known: fail); the
        result is marked ``complete=False``. (A rate search probes each rate above the
        first failing one with a single lane instead; see
        :func:`sigint.analysis.rate.search_rates`.)
    threads : int, optional
        Lanes evaluated at once, in Python threads (default:
        :func:`sigint.threads.lane_threads`, the cores available; 1 with the CuPy backend
        and with *stop_at_failure*). The results do not depend on it.
    **models
        ``tx``, ``rx``, ``tx_overrides``, ``rx_overrides`` as for
        :func:`sigint.analyze.evaluate`.

    Returns
    -------
    LanesResult

    Raises
    ------
    InputError
        For an empty *victims* list, a lane out of range or a lane named twice.
    """
    import time

    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    lanes = list(range(link.n_lanes)) if victims is None else [int(v) for v in victims]
    if not lanes or len(set(lanes)) != len(lanes) or min(lanes) < 0 \
            or max(lanes) >= link.n_lanes:
        raise InputError(f"{link.source}: victims {list(victims or [])} -- give distinct "
                         f"0-based lane indices from 0 to {link.n_lanes - 1}, at least one")
    quick = options.model_copy(update={"bits": 0})
    complete = True
    if threads is None:
        from ..threads import lane_threads

        threads = lane_threads()
    threads = min(int(threads), len(lanes))
    perm = mirror_lanes(link) if not stop_at_failure else None
    if perm is not None and not set(perm[lanes].tolist()) <= set(lanes):
        perm = None                      # a subset of lanes that is not mirror-closed
    # one half of a mirror-symmetric link is evaluated, the other takes its mates' figures
    first = [v for v in lanes if perm is None or v <= perm[v]]
    second = [v for v in lanes if perm is not None and v > perm[v]]
    by_lane: dict[int, AnalysisResult] = {}
    if stop_at_failure or threads <= 1 or link.backend.name != "numpy":
        for i, v in enumerate(first):
            say(f"lane {i + 1} of {len(lanes)}")
            by_lane[v] = evaluate(link, quick, victim=v, **models)
            if stop_at_failure and by_lane[v].passed is False and i + 1 < len(first):
                complete = False
                break
    else:
        from concurrent.futures import ThreadPoolExecutor

        from ..threads import small_matrix_blas

        def one(v):
            say(f"lane {lanes.index(v) + 1} of {len(lanes)}")
            return evaluate(link, quick, victim=v, **models)

        with small_matrix_blas():           # one BLAS thread per lane thread
            by_lane[first[0]] = one(first[0])       # fills the link's transfer cache
            with ThreadPoolExecutor(threads) as pool:
                by_lane.update(zip(first[1:], pool.map(one, first[1:])))
    for v in second:
        by_lane[v] = _mirrored(by_lane[int(perm[v])], link, v)
    # lane order whatever order they were evaluated in; stopped: the failing one last
    lanes = sorted(by_lane) if complete else list(by_lane)
    results = [by_lane[v] for v in lanes]
    t1 = time.perf_counter()
    if complete and len(results) > 1:
        _add_skew_check(results, options)
    w = len(results) - 1 if not complete else worst_index(results)
    full = results[w]
    if full.mirror_of is not None and not options.bits:
        # the worst lane's transfers, pulses and eye are reported: its own, with the
        # equalization its mate chose (the same choice by symmetry)
        own = evaluate(link, quick, victim=lanes[w], **models, equalization=full.eq)
        own.checks = full.checks
        full = own
    if options.bits:
        say("bit-by-bit simulation of the worst lane")
        full = evaluate(link, options, victim=lanes[w], **models)
        skew = [c for c in results[w].checks if c.name == "lane_skew"]
        if skew and not any(c.name == "lane_skew" for c in full.checks):
            full.checks.extend(skew)
    return LanesResult(source=link.source, rate=options.rate, lanes=results, worst=w,
                       worst_result=full,
                       timings={"lanes": t1 - t0, "worst": time.perf_counter() - t1},
                       complete=complete)
