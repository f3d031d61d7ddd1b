"""The terminal summary of an analysis: data quality, VTF, equalization, eye, verdict."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..units import format_quantity

if TYPE_CHECKING:  # pragma: no cover
    from ..analyze import AnalysisResult

__all__ = ["analysis_summary"]


def _mv(v: float) -> str:
    return f"{v * 1e3:.2f} mV"


def _fmt_check_value(x: float, unit: str) -> str:
    if unit == "V":
        return _mv(x)
    if unit == "UI":
        return f"{x:.3f} UI"
    return f"{x:.2f} {unit}"


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
    vtx = "the UCIe VTF circuit" if r.row else "the Tx/Rx below"
    lines.append(f"Voltage transfer function ({vtx})")
    lines.append(f"  loss at fN             {r.loss_db_at_nyquist:8.2f} dB   "
                 f"(L(0) = {r.vtf.loss_db[0]:.2f} dB)")
    kinds = Counter(r.vtf.aggressor_kinds)
    if r.vtf.aggressors.shape[0]:
        desc = ", ".join(f"{n} {k}" for k, n in kinds.items())
        n_sum = min(r.options.n_aggressors, r.vtf.aggressors.shape[0])
        lines.append(f"  crosstalk at fN        {r.xt_db_at_nyquist:8.2f} dB   "
                     f"(power sum of the {n_sum} largest of {r.vtf.aggressors.shape[0]}: {desc})")
    else:
        lines.append("  crosstalk              none (no aggressors)")
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
                     f"{bd['gbps_per_mm2']:.0f} Gb/s/mm^2")
        lines.append("")
    if r.row is not None:
        lines.append(f"Verdict: {r.row.title}")
        for c in r.checks:
            tag = "PASS" if c.passed else "FAIL"
            lines.append(f"  {tag}  {c.name:<14} {_fmt_check_value(c.value, c.unit):>12}   "
                         f"limit {_fmt_check_value(c.limit, c.unit):>10}   margin "
                         f"{_fmt_check_value(c.margin, c.unit):>10}")
        lines.append(f"  => {'PASS' if r.passed else 'FAIL'}")
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
