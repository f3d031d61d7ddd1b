"""Reports of a channel build: per-lane loss, crosstalk, delay and skew; bandwidth density."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..channel.build import BuildResult

__all__ = ["build_summary", "build_json", "plot_build"]


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
                 f"({bd['die_edge_mm']:.3f} x {bd['depth_mm']:.3f} mm, counted at the most "
                 f"restrictive segment: {bd['segment']})")
    return "\n".join(lines)


def plot_build(res: BuildResult, directory) -> list:
    """Write sparams.png: insertion and return loss, worst FEXT and NEXT per lane.

    Per lane *i* of N (ports i near, N+i far): IL = -20 log10|S(N+i, i)|, RL =
    -20 log10|S(i, i)|, FEXT = the largest |S(N+i, j)| and NEXT the largest |S(i, j)| over
    the other lanes j, in dB; the dotted line marks the Nyquist frequency of the link rate.
    """
    from .figures import figure_dir, pyplot, save_figure

    plt = pyplot()
    d = figure_dir(directory)
    n = res.n_lanes
    f = res.f / 1e9
    s = res.s
    fn = res.channel.link.rate / 2e9
    idx = np.arange(n)
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(np.maximum(np.abs(s), 1e-15))
    fext = np.abs(s[:, n:, :n]).copy()
    fext[:, idx, idx] = 0
    nxt = np.abs(s[:, :n, :n]).copy()
    nxt[:, idx, idx] = 0
    with np.errstate(divide="ignore"):
        fext_db = 20 * np.log10(np.maximum(fext.max(axis=2), 1e-15))
        next_db = 20 * np.log10(np.maximum(nxt.max(axis=2), 1e-15))
    panels = [("insertion loss |S(N+i, i)|", db[:, n + idx, idx]),
              ("return loss |S(i, i)|", db[:, idx, idx]),
              ("worst FEXT into lane i", fext_db), ("worst NEXT into lane i", next_db)]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), layout="constrained")
    cmap = plt.get_cmap("viridis")
    for ax, (title, y) in zip(axes.ravel(), panels):
        for i in range(n):
            ax.plot(f, y[:, i], lw=0.9, color=cmap(i / max(1, n - 1)), label=res.lane_names[i])
        ax.axvline(fn, color="0.4", lw=0.8, ls=":")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("frequency (GHz)")
        ax.set_ylabel("dB")
        ax.set_xlim(0, f[-1])
        fin = y[np.isfinite(y)]
        if fin.size:
            ax.set_ylim(max(float(fin.min()), -120) - 2, min(float(fin.max()), 0) + 2)
        ax.grid(alpha=0.3)
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside right upper", fontsize=7, title="lane")
    fig.suptitle(f"{res.channel.name}: {n} lanes, {2 * n} ports "
                 f"(dotted: fN = {fn:g} GHz at {2 * fn:g} GT/s)")
    return [save_figure(fig, d / "sparams.png")]
