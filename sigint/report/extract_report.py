"""Reports of an extraction: terminal summary, JSON and figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figures import figure_dir, pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..extract.rlgc import ExtractResult

__all__ = ["extract_summary", "extract_json", "plot_extract", "rl_unknowns", "REPORT_FREQUENCIES"]

REPORT_FREQUENCIES = (1e9, 10e9, 50e9, 100e9)


def _at(res: ExtractResult) -> list[float]:
    fmax = float(res.f.max())
    pts = [f for f in REPORT_FREQUENCIES if f <= fmax * (1 + 1e-9)]
    return pts or [fmax]


def extract_json(res: ExtractResult) -> dict:
    """Summary as data: per-line and pair figures, matrices at the report frequencies."""
    from ..extract.rlgc import line_summary

    at = _at(res)
    s = line_summary(res, at)
    idx = [int(np.argmin(np.abs(res.f - x))) for x in at]
    idx = sorted(set(idx) | set(np.flatnonzero(res.f == 0).tolist()))   # 0 Hz, as in the .nc
    mats = {name: {str(int(round(res.f[k]))): (arr[k] * scale).round(6).tolist() for k in idx}
            for name, arr, scale in (("R_ohm_per_mm", res.r, 1e-3), ("L_nH_per_mm", res.l, 1e6),
                                     ("G_mS_per_mm", res.g, 1.0), ("C_fF_per_mm", res.c, 1e12))}
    mats["L_external_nH_per_mm"] = (res.l_external * 1e6).round(6).tolist()
    return {
        "source": str(res.geometry.source),
        "cross_section": res.geometry.name,
        "backend": res.backend.name,
        "backend_stages": dict(res.stages),
        "signals": res.names,
        "reference": res.geometry.references or ["ground plane"],
        "frequencies": {"count": int(res.f.size), "min_hz": float(res.f.min()),
                        "max_hz": float(res.f.max())},
        "summary": s,
        "matrices": mats,
        "unknowns": {"bem": res.bem_unknowns, "peec_filaments": _filaments(res),
                     "rl_surface_panels": (res.peec_unknowns if _what(res) == "surface panels"
                                           else None),
                     "bem_reduced": None if res.bem is None else res.bem.reduced_unknowns,
                     "peec_reduced": (res.peec.reduced["unknowns"]
                                      if res.peec is not None and res.peec.reduced else None),
                     "rl_multipole_order": getattr(res.peec, "order", None)},
        "cg_interpolation_rel_error": res.interpolation_error,
        "notes": res.notes,
        "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
    }


def _what(res: ExtractResult) -> str:
    """What the R, L solver's unknowns are (filaments, multipole coefficients, panels)."""
    return "filaments" if res.peec is None else res.peec.unknowns_what


def rl_unknowns(res: ExtractResult) -> str:
    """The R, L unknowns in words ("7364 filaments", "908 surface panels above 19.4 MHz
    and 576 filaments below")."""
    text = f"{res.peec_unknowns} {_what(res)}"
    if _what(res) == "surface panels":
        text += (f" above {res.peec.f_cross / 1e6:.4g} MHz and {_filaments(res)} filaments "
                 "below")
    return text


def _filaments(res: ExtractResult) -> int:
    """Filaments solved (those below the crossover for the surface solver)."""
    if _what(res) == "filaments":
        return res.peec_unknowns
    return 0 if res.peec.fil is None else int(res.peec.fil.n)


def extract_summary(res: ExtractResult) -> str:
    """Readable summary: per line Z0, eps_eff, delay, loss; even/odd modes of the first pair."""
    from ..extract.rlgc import line_summary

    at = _at(res)
    s = line_summary(res, at)
    g = res.geometry
    lines = [f"sigint extract {g.source}",
             f"  {g.name}: {len(g.signals)} signal(s) against "
             f"{', '.join(g.references) if g.references else 'the ground plane'}; "
             f"{res.f.size} frequencies {res.f.min() / 1e9:g}-{res.f.max() / 1e9:g} GHz; "
             f"backend {res.backend.describe()}",
             f"  unknowns: {res.bem_unknowns} boundary elements (C, G), {rl_unknowns(res)} "
             f"(R, L); {res.timings.get('total', 0):.1f} s", ""]
    hdr = "  ".join(f"{f / 1e9:>6g} GHz" for f in s["frequencies_hz"])
    lines.append(f"{'line':<12} {'quantity':<16} {hdr}")
    for name, figs in s["lines"].items():
        for key, label, fmt in (("z0_ohm", "Z0 (ohm)", "{:>10.2f}"),
                                ("eps_eff", "eps_eff", "{:>10.3f}"),
                                ("delay_ps_per_mm", "delay (ps/mm)", "{:>10.3f}"),
                                ("loss_db_per_mm", "loss (dB/mm)", "{:>10.4f}")):
            vals = "  ".join(fmt.format(x[key]) if x else f"{'-':>10}" for x in figs)
            lines.append(f"{name:<12} {label:<16} {vals}")
    if s["pair"]:
        p = s["pair"]
        lines.append("")
        lines.append(f"pair {p['lines'][0]}-{p['lines'][1]}")
        for mode in ("even", "odd"):
            for key, label, fmt in (("z0_ohm", "Z0 (ohm)", "{:>10.2f}"),
                                    ("delay_ps_per_mm", "delay (ps/mm)", "{:>10.3f}"),
                                    ("loss_db_per_mm", "loss (dB/mm)", "{:>10.4f}")):
                vals = "  ".join(fmt.format(x[key]) if x else f"{'-':>10}" for x in p[mode])
                lines.append(f"{mode:<12} {label:<16} {vals}")
    if res.notes:
        lines.append("")
        lines += [f"  - {n}" for n in res.notes]
    return "\n".join(lines)




def plot_cross_section(res: ExtractResult, path: Path) -> Path:
    """The cross-section: materials, conductors, BEM panels and PEEC filaments."""
    from matplotlib.patches import Circle as CirclePatch
    from matplotlib.patches import Polygon, Rectangle, Wedge
    from matplotlib.ticker import FuncFormatter

    plt = pyplot()
    g = res.geometry
    x0, x1, y0, y1 = g.span
    w, h = x1 - x0, y1 - y0
    pad = 0.15 * max(w, h)
    fig = plt.figure(figsize=(14, 9), constrained_layout=True)
    gs = fig.add_gridspec(2, 2, height_ratios=[1, 1.3])
    axes = [fig.add_subplot(gs[0, :]), fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])]
    colours = {}
    palette = plt.cm.Pastel1.colors
    # the zoom frames the first signal and its neighbourhood
    c0 = g.conductor(g.signals[0])
    zs = max(c0.x1 - c0.x0, c0.y1 - c0.y0) * 2.5
    zoom = (0.5 * (c0.x0 + c0.x1) - zs, 0.5 * (c0.x0 + c0.x1) + zs,
            0.5 * (c0.y0 + c0.y1) - zs * 0.7, 0.5 * (c0.y0 + c0.y1) + zs * 0.7)
    for ax, what in zip(axes, ("overview", "panels", "filaments")):
        # layers
        levels = [-np.inf] + list(g.levels) + [np.inf]
        for k, mat in enumerate(g.layer_materials):
            lo, hi = max(levels[k], y0 - pad), min(levels[k + 1], y1 + pad)
            if hi <= lo:
                continue
            col = colours.setdefault(mat, palette[len(colours) % len(palette)])
            ax.add_patch(Rectangle((x0 - pad, lo), w + 2 * pad, hi - lo, color=col, lw=0, label=mat))
        for bx0, bx1, by0, by1, mat in g.blocks:
            col = colours.setdefault(mat, palette[len(colours) % len(palette)])
            ax.add_patch(Rectangle((bx0, by0), bx1 - bx0, by1 - by0, color=col, lw=0))
        for cx, cy, r0, r1, mat, _ in g.shells:
            col = colours.setdefault(mat, palette[len(colours) % len(palette)])
            ax.add_patch(Wedge((cx, cy), r1, 0, 360, width=r1 - r0, color=col, lw=0))
        if g.ground_y is not None:
            ax.axhline(g.ground_y, color="k", lw=3)
        for c in g.conductors:
            fc = "#b87333" if c.name in g.signals else "0.45"
            if c.kind == "circle":
                ax.add_patch(CirclePatch((c.cx, c.cy), c.r, fc=fc, ec="k", lw=0.5))
            elif c.kind == "ring":
                ax.add_patch(Wedge((c.cx, c.cy), c.r, 0, 360, width=c.r - c.r_in, fc=fc, ec="k", lw=0.5))
            elif c.y1 > c.y0:
                ax.add_patch(Polygon(c.polygon(), closed=True, fc=fc, ec="k", lw=0.5))
            else:
                ax.plot([c.x0, c.x1], [c.y0, c.y0], color=fc, lw=2)
            if what == "overview" and len(g.conductors) <= 40:
                ax.annotate(c.name, (0.5 * (c.x0 + c.x1), c.y1), fontsize=6, ha="center",
                            va="bottom")
        if what == "panels" and res.bem is not None:
            p = res.bem.panels
            sel = ((p.mid[:, 0] > zoom[0]) & (p.mid[:, 0] < zoom[1]) & (p.mid[:, 1] > zoom[2])
                   & (p.mid[:, 1] < zoom[3]))
            for i in np.flatnonzero(sel):
                col = "r" if p.owner[i] >= 0 else "b"
                ax.plot([p.a[i, 0], p.b[i, 0]], [p.a[i, 1], p.b[i, 1]], color=col, lw=0.8)
                ax.plot(*p.a[i], "|", color=col, ms=4)
            ax.set_title(f"boundary elements near {c0.name}: {p.n} panels in all "
                         "(red: conductors, blue: interfaces)", fontsize=9)
        elif what == "filaments" and _what(res) == "surface panels":
            m = res.peec.mesh
            sel = ((m.mid[:, 0] > zoom[0]) & (m.mid[:, 0] < zoom[1]) & (m.mid[:, 1] > zoom[2])
                   & (m.mid[:, 1] < zoom[3]))
            for i in np.flatnonzero(sel):
                ax.plot([m.a[i, 0], m.b[i, 0]], [m.a[i, 1], m.b[i, 1]], color="k", lw=0.8)
                ax.plot(*m.a[i], "|", color="k", ms=4)
            ax.set_title(f"surface panels (R, L above {res.peec.f_cross / 1e9:.3g} GHz) near "
                         f"{c0.name}: {m.n} in all", fontsize=9)
        elif what == "filaments" and res.peec is not None and res.peec.fil is None:
            ax.set_xlim(zoom[0], zoom[1])
            ax.set_ylim(zoom[2], zoom[3])
            ax.set_title(f"no filaments: R and L by multipole expansions of order "
                         f"{res.peec.order} about each round conductor", fontsize=9)
        elif what == "filaments" and res.peec is not None:
            fil = res.peec.fil
            sel = ((fil.centroid[:, 0] > zoom[0]) & (fil.centroid[:, 0] < zoom[1])
                   & (fil.centroid[:, 1] > zoom[2]) & (fil.centroid[:, 1] < zoom[3]))
            for i in np.flatnonzero(sel):
                gi = fil.g[i]
                if fil.kind[i] == 0:
                    ax.add_patch(Rectangle((gi[0], gi[2]), gi[1] - gi[0], gi[3] - gi[2], fill=False,
                                           ec="k", lw=0.3))
                else:
                    ax.add_patch(Wedge((gi[0], gi[1]), gi[3], np.degrees(gi[4]), np.degrees(gi[5]),
                                       width=gi[3] - gi[2], fill=False, ec="k", lw=0.3))
            ax.set_title(f"filaments near {c0.name}: {fil.n} in all, graded to the skin depth "
                         f"at {res.f.max() / 1e9:g} GHz", fontsize=9)
        if what == "overview":
            ax.set_xlim(x0 - pad, x1 + pad)
            ax.set_ylim(y0 - pad, y1 + pad)
            ax.set_title(f"{g.name}: signals copper, references grey", fontsize=10)
            if (y1 - y0 + 2 * pad) / (x1 - x0 + 2 * pad) > 0.05:
                ax.set_aspect("equal")
        else:
            ax.set_xlim(zoom[0], zoom[1])
            ax.set_ylim(zoom[2], zoom[3])
            ax.set_aspect("equal")
        um = FuncFormatter(lambda v, _pos: f"{v * 1e6:.4g}")
        ax.xaxis.set_major_formatter(um)
        ax.yaxis.set_major_formatter(um)
        ax.set_xlabel("x (um)")
        ax.set_ylabel("y (um)")
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    axes[0].legend(handles, list(colours), loc="upper right", fontsize=8)
    return save_figure(fig, path, dpi=120)


def plot_rlgc(res: ExtractResult, path: Path) -> Path:
    """R, L, G, C of every signal (diagonal) and the largest coupling against frequency."""
    plt = pyplot()
    f = res.f
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    data = [(res.r * 1e-3, "R (ohm/mm)"), (res.l * 1e6, "L (nH/mm)"),
            (res.g * 1e3 * 1e-3, "G (mS/mm)"), (res.c * 1e12 * 1e-3, "C (pF/mm)")]
    pos = f > 0
    n = len(res.names)
    for ax, (arr, label) in zip(axes.ravel(), data):
        for i in range(min(n, 8)):
            ax.plot(f[pos] / 1e9, arr[pos, i, i], lw=1, label=res.names[i])
        if n > 1:
            ax.plot(f[pos] / 1e9, arr[pos, 0, 1], "k--", lw=1,
                    label=f"{res.names[0]}-{res.names[1]}")
        if np.count_nonzero(pos) > 1:
            ax.set_xscale("log")          # the skin-effect transition spans decades
        ax.set_xlabel("frequency (GHz)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"{res.geometry.name}: per-unit-length matrices")
    return save_figure(fig, path)


def plot_extract(res: ExtractResult, directory: str | Path) -> list[Path]:
    """Write xsection.png and rlgc.png into *directory* (created)."""
    d = figure_dir(directory)
    return [plot_cross_section(res, d / "xsection.png"), plot_rlgc(res, d / "rlgc.png")]
