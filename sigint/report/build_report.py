"""Reports of a channel build: per-lane loss, crosstalk, delay and skew; bandwidth density."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..channel.build import BuildResult

__all__ = ["build_summary", "build_json"]


def _report_frequencies(res: BuildResult) -> list[float]:
    rate = res.channel.link.rate
    return [f for f in (rate / 2, rate) if f <= res.f[-1] * (1 + 1e-9)] or [float(res.f[-1])]


def build_stages(backend) -> dict[str, str]:
    """Where each stage of a build runs on *backend*: the extractions as in
    :func:`~sigint.extract.rlgc.extract_stages` (cached segments run none), the line
    S-parameters and the cascade on the host."""
    from ..extract.rlgc import extract_stages

    return {**extract_stages(backend), "build.line_s_parameters": "numpy", "build.cascade": "numpy"}


def build_json(res: BuildResult) -> dict:
    """The build summary as data."""
    at = _report_frequencies(res)
    lf = res.lane_figures(at)
    d = np.asarray(lf["delay_s"])
    rate = res.channel.link.rate
    return {
        "source": res.source,
        "channel": res.channel.name,
        "backend": res.backend.name,
        "backend_stages": build_stages(res.backend),
        "lanes": res.n_lanes,
        "ports": 2 * res.n_lanes,
        "rate_gbps": rate / 1e9,
        "frequencies": {"count": int(res.f.size), "min_hz": float(res.f[0]), "max_hz": float(res.f[-1])},
        "segments": [{"index": b.index + 1, "name": b.name, "type": b.kind, "cached": b.cached,
                      "seconds": round(b.seconds, 3), "notes": b.notes} for b in res.segments],
        "lane_figures": lf,
        "skew_s": float(d.max() - d.min()),
        "skew_ui": float((d.max() - d.min()) * rate),
        "bandwidth_density": res.density(),
        "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
    }


def build_summary(res: BuildResult) -> str:
    """Readable summary of a build."""
    j = build_json(res)
    lf = j["lane_figures"]
    fs = lf["frequencies_hz"]
    lines = [f"sigint build {res.source}",
             f"  {res.channel.name}: {res.n_lanes} lanes ({2 * res.n_lanes} ports), "
             f"{len(res.segments)} segments, {res.f.size} frequencies "
             f"{res.f[0] / 1e9:g}-{res.f[-1] / 1e9:g} GHz; backend {res.backend.describe()}", "",
             "segments (Tx to Rx)"]
    for s in j["segments"]:
        how = "cached" if s["cached"] else f"{s['seconds']:.1f} s"
        note = f"  [{'; '.join(s['notes'])}]" if s["notes"] else ""
        lines.append(f"  {s['index']:>2}. {s['name']:<44} {how:>8}{note}")
    lines.append("")
    head = "  ".join([f"IL@{f / 1e9:g}GHz" for f in fs] + [f"FEXT@{fs[0] / 1e9:g}GHz",
                                                          f"NEXT@{fs[0] / 1e9:g}GHz", "delay"])
    lines.append(f"{'lane':<8} {head}")
    for k in range(res.n_lanes):
        il = "  ".join(f"{x:>7.2f} dB" for x in lf["insertion_loss_db"][k])
        lines.append(f"{res.lane_names[k]:<8} {il}  {lf['worst_fext_db'][k][0]:>8.1f} dB  "
                     f"{lf['worst_next_db'][k][0]:>8.1f} dB  {lf['delay_s'][k] * 1e12:>7.2f} ps")
    ils = np.array(lf["insertion_loss_db"])
    lines.append("worst    " + "  ".join(f"{x:>7.2f} dB" for x in ils.max(axis=0))
                 + f"  {np.max(lf['worst_fext_db'], axis=0)[0]:>8.1f} dB  "
                 f"{np.max(lf['worst_next_db'], axis=0)[0]:>8.1f} dB")
    lines.append("")
    lines.append(f"skew between lanes: {j['skew_s'] * 1e12:.3f} ps = {j['skew_ui']:.4f} UI at "
                 f"{j['rate_gbps']:g} GT/s")
    bd = j["bandwidth_density"]
    lines.append(f"bandwidth density: {bd['lanes']} lanes x {j['rate_gbps']:g} GT/s = "
                 f"{bd['aggregate_gbps']:g} Gb/s over {bd['die_edge_mm']:.3f} mm of die edge: "
                 f"{bd['gbps_per_mm']:.0f} Gb/s/mm, {bd['gbps_per_mm2']:.0f} Gb/s/mm^2 "
                 f"({bd['die_edge_mm']:.3f} x {bd['depth_mm']:.3f} mm bump field)")
    return "\n".join(lines)
