"""The terminal summary of an analysis: data quality, VTF, equalization, eye, verdict."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from ..specs.checks import Check
from ..units import format_quantity

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.analyze import AnalysisResult

__all__ = ["analysis_summary", "check_row_numbers", "verdict_lines", "SIGN_CONVENTION"]


def _mv(v: float) -> str:
    return f"{v * 1e3:.2f} mV"


def _decimals(c: Check) -> tuple[float, str, int]:
    """(scale, unit label, decimals) for a check's numbers: enough digits for its margin."""
    if c.unit == "V":
        scale, unit, d = 1e3, "mV", 2
    elif c.unit == "UI":
        scale, unit, d = 1.0, "UI", 3
    else:
        scale, unit, d = 1.0, c.unit, 2
    m = abs(c.margin * scale) if math.isfinite(c.margin) else 1.0
    while d < 5 and 0 < m < 5 * 10.0 ** -d:
        d += 1
    return scale, unit, d


def check_row_numbers(c: Check) -> tuple[str, str, str]:
    """Value, limit and margin of a check as printed, such that they add up.

    Value and limit are rounded to the row's digits and the margin printed is their
    difference (value - limit for ``>=``, limit - value for ``<=``), so the row adds up in
    the digits shown; it differs from the exact margin by at most one unit of the last
    digit. dB values carry their sign (a loss is negative, a gain shows as +).

    Examples
    --------
    >>> from sigint.specs.checks import Check
    >>> check_row_numbers(Check("vtf_loss_fn", True, 0.154, -3.0, 3.154, "dB"))
    ('+0.15 dB', '-3.00 dB', '3.15 dB')
    """
    scale, unit, d = _decimals(c)
    sign = "+" if unit == "dB" else ""
    if not (math.isfinite(c.value) and math.isfinite(c.limit)):
        return (f"{c.value * scale:{sign}.{d}f} {unit}", f"{c.limit * scale:{sign}.{d}f} {unit}",
                f"{c.margin * scale:.{d}f} {unit}")
    v = round(c.value * scale, d)
    lim = round(c.limit * scale, d)
    m = v - lim if c.relation == ">=" else lim - v
    m = round(m, d) + 0.0
    return f"{v:{sign}.{d}f} {unit}", f"{lim:{sign}.{d}f} {unit}", f"{m:.{d}f} {unit}"


SIGN_CONVENTION = ("each row: value and limit of one quantity at one point; margin = how far "
                   "inside the limit,\n  > 0 passes; losses in dB are negative, a gain shows as +")


def verdict_lines(checks: list[Check]) -> list[str]:
    """The verdict table: one row per check, its remark below it."""
    out = [f"  {SIGN_CONVENTION}",
           f"  {'':4}  {'check':<14} {'value':>12}      {'limit':>10}   {'margin':>10}   where"]
    for c in checks:
        v, lim, m = check_row_numbers(c)
        tag = "PASS" if c.passed else "FAIL"
        out.append(f"  {tag}  {c.name:<14} {v:>12}  {c.relation}  {lim:>10}   {m:>10}   {c.where}")
        if c.note:
            out.append(f"        ! {c.note}")
    return out


def _worst_in_band(f: np.ndarray, y: np.ndarray, fn: float) -> tuple[float, float]:
    band = np.flatnonzero(f <= fn * (1 + 1e-12))
    j = band[int(np.argmax(y[band]))]
    return float(y[j]), float(f[j])


def analysis_summary(r: AnalysisResult) -> str:
    """Readable multi-line summary of *r*."""
    lines: list[str] = []
    mode = "differential" if r.port_map.differential else "single-ended"
    lines.append(f"sigint analyze {r.source}")
    lines.append(f"  {r.rate / 1e9:g} GT/s (Nyquist {r.nyquist / 1e9:g} GHz), {mode} victim "
                 f"{r.victim}; backend {r.backend.describe()}")
    lines.append(f"  mapping: {r.port_map.describe()}")
    lines.append("")
    lines.append("Data quality")
    for q in r.quality:
        for it in q.items:
            tag = {"ok": "ok   ", "warn": "WARN ", "fixed": "fixed", "info": "info "}[it.status]
            src = "" if q is r.quality[0] else f"[{q.source.rsplit('/', 1)[-1]}] "
            if q is not r.quality[0] and it.status == "ok":
                continue
            lines.append(f"  {tag} {it.name:<15} {src}{it.text}")
    lines.append("")
    tx, rx = r.tx, r.rx
    vtx = "the spec's reference circuit" if r.row else "the Tx/Rx below"
    lines.append(f"Voltage transfer function ({vtx}; dB, a loss is negative)")
    fn = r.nyquist
    byname = {c.name: c for c in r.checks}
    lines.append(f"  loss        L(0) {r.vtf.loss_db[0]:+.2f} dB; L(fN = {fn / 1e9:g} GHz) "
                 f"{r.loss_db_at_nyquist:+.2f} dB")
    if "vtf_loss" in byname:
        c = byname["vtf_loss"]
        lines.append(f"              mask line from L(0) to {r.row.loss_fn_db:g} dB at fN: "
                     f"smallest margin {c.margin:.3g} dB {c.where}")
    kinds = Counter(r.vtf.aggressor_kinds)
    if r.vtf.aggressors.shape[0]:
        desc = ", ".join(f"{n} {k}" for k, n in kinds.items())
        n_sum = min(r.options.n_aggressors, r.vtf.aggressors.shape[0])
        xt = r.vtf.xt_db(r.options.n_aggressors)
        worst, fw = _worst_in_band(np.asarray(r.vtf.f), np.asarray(xt), fn)
        lines.append(f"  crosstalk   worst from DC to fN {worst:+.2f} dB at {fw / 1e9:.3g} GHz"
                     + (f"; at fN {r.xt_db_at_nyquist:+.2f} dB"
                        if abs(worst - r.xt_db_at_nyquist) > 0.005 else " (= fN)"))
        lines.append(f"              power sum of the {n_sum} largest of "
                     f"{r.vtf.aggressors.shape[0]} aggressors ({desc})")
    else:
        lines.append("  crosstalk   none (no aggressors)")
    lines.append("")
    rxr = "open" if rx.r is None else format_quantity(rx.r, "ohm")
    lines.append(f"Link: Tx {format_quantity(tx.r, 'ohm')}, {format_quantity(tx.c_pad, 'F')}, "
                 f"swing {format_quantity(tx.swing, 'V')}, 20-80% edge "
                 f"{format_quantity(tx.edge_time(r.rate), 's')}"
                 + (f", RJ {format_quantity(tx.rj, 's')}" if tx.rj else "")
                 + (f", DJ {format_quantity(tx.dj, 's')}" if tx.dj else "")
                 + f"; Rx {rxr}, {format_quantity(rx.c_pad, 'F')}"
                 + (f", noise {format_quantity(rx.noise, 'V')}" if rx.noise else ""))
    eqs = []
    if len(tx.ffe) > 1:
        eqs.append("Tx FFE [" + ", ".join(f"{c:+.3f}" for c in tx.ffe) + "]")
    if rx.ctle is not None:
        eqs.append(f"CTLE {rx.ctle.dc_gain_db:g} dB DC gain")
    if rx.dfe_taps:
        eqs.append(f"DFE {rx.dfe_taps} tap(s)")
    if eqs:
        extra = f" (best of {r.eq.tried} candidates)" if r.eq else ""
        lines.append("  equalization: " + ", ".join(eqs) + extra)
    lines.append("")
    e = r.eye
    lines.append(f"Eye at BER {r.ber:.0e} (statistical)")
    state = "open" if e.eye_height > 0 else "CLOSED"
    lines.append(f"  height {_mv(e.eye_height):>10} at {e.phase_ui[e.best]:+.3f} UI from the "
                 f"pulse peak; width {e.eye_width:.3f} UI; {state}")
    lines.append(f"  worst case (peak distortion): height {_mv(r.pd_height)}, "
                 f"width {r.pd_width:.3f} UI")
    lines += _eq_and_timing_lines(r)
    if r.agreement and r.agreement["levels"]:
        lv = r.agreement["levels"]
        worst = max(lv, key=lambda d: abs(d["diff_v"]))
        lines.append(f"  bit-by-bit ({r.agreement['bits']} bits): edges agree within "
                     f"{abs(worst['diff_v']) * 1e3:.3f} mV down to BER "
                     f"{min(d['ber'] for d in lv):.0e}")
    lines.append("")
    bd = r.extra.get("bandwidth_density")
    if bd:
        lines.append(f"Bandwidth density: {bd['lanes']} lanes x {r.rate / 1e9:g} GT/s over "
                     f"{bd['die_edge_mm']:.3f} mm of die edge = {bd['gbps_per_mm']:.0f} Gb/s/mm, "
                     f"{bd['gbps_per_mm2']:.0f} Gb/s/mm^2 (at {bd['segment']})")
        lines.append("")
    if r.row is not None:
        lines.append(f"Verdict: {r.row.title}")
        lines += verdict_lines(r.checks)
        failed = [c for c in r.checks if not c.passed]
        why = ""
        if failed and all("measurement noise" in c.note for c in failed):
            why = (f" ({', '.join(c.name for c in failed)} only, by less than the measurement "
                   "noise near DC: see the remark above)")
        elif failed and all("skin-effect onset" in c.note for c in failed):
            why = (f" ({', '.join(c.name for c in failed)} only, just above DC, where the line starts at "
                   "the channel's own L(0): see the remark above)")
        lines.append(f"  => {'PASS' if r.passed else 'FAIL'}{why}")
    else:
        lines.append("Verdict: none (--spec none)")
    if r.notes:
        lines.append("")
        lines.append("Notes")
        for n in dict.fromkeys(r.notes):
            lines.append(f"  - {n}")
    return "\n".join(lines)


def _eq_and_timing_lines(r) -> list[str]:
    """How the equalization was chosen and how each kind of aggressor was timed."""
    out = []
    if r.eq is not None:
        ru = (f"; runner-up {r.eq.runner_up.describe()} ({_mv(r.eq.runner_up_score)})"
              if r.eq.runner_up is not None else "")
        out.append(f"  equalization chosen by {r.eq.metric} at BER {r.ber:.0e} over "
                   f"{r.eq.tried} candidates: {r.eq.chosen.describe()} "
                   f"({_mv(r.eq.score)}){ru}")
    timing = Counter((d["kind"], d["timing"].split(",")[0]) for d in r.crosstalk_timing())
    if timing:
        parts = [f"{n} {k} {t}" for (k, t), n in sorted(timing.items())]
        out.append("  crosstalk timing: " + ", ".join(parts)
                   + " (synchronous: same clock and launch instant as the victim; "
                   "asynchronous: each at its worst phase)")
    return out
