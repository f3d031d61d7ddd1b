"""Plots of a sweep (PNG, matplotlib's Agg backend): heat maps, Pareto scatter, margins.

- ``heatmap.png`` (grids with at least two numeric swept parameters): the bandwidth
  density over the first two, one panel per value of a third (up to 16; beyond, 16 evenly
  spaced ones, the title says so; the best over any further dimensions), one cell per
  grid point labelled with its maximum rate in GT/s, axes ending at the data;
- ``pareto.png``: every computed point, density against the Pareto objective, the front
  joined;
- ``margin_vs_<parameter>.png``: the eye-mask margin at the eye rate against each swept
  parameter (every point, the front marked).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_sweep", "check_plot_folder"]


def check_plot_folder(folder: Path) -> None:
    """Refuse, before any work, a plot folder that cannot be created or written.

    Raises
    ------
    InputError
        One sentence naming the folder and the fix.
    """
    from ..errors import InputError
    from .run import writable

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--plot {folder}: exists and is not a folder; give a folder for the "
                         "PNG files")
    probe = folder
    while not probe.exists():           # the nearest existing parent must be writable
        probe = probe.parent
    if not probe.is_dir() or not writable(probe):
        raise InputError(f"--plot {folder}: {probe} cannot be written; give a folder you can "
                         "write to")


def _label(ds, name: str) -> tuple[str, float]:
    """Axis label and the factor from stored to shown values."""
    a = ds[name].attrs
    if a.get("display_units"):
        return f"{name} ({a['display_units']})", 1.0 / float(a["display_scale"])
    unit = a.get("units", "")
    if name == "max_rate":
        return "max rate (GT/s)", 1e-9
    if unit == "V":
        return f"{name} (mV)", 1e3
    if unit == "s":
        return f"{name} (ps)", 1e12
    return (f"{name} ({unit})" if unit else name), 1.0


def plot_sweep(ds, folder: str | Path) -> list[Path]:
    """Write the sweep's plots into *folder* (created); returns their paths."""
    from ..report.figures import pyplot, save_figure

    plt = pyplot()

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    density = ds.attrs.get("pareto_density", "density_edge")
    objective = ds.attrs.get("pareto_objective", "eye_margin")
    title = ds.attrs.get("title", "sweep")
    dims = list(ds["status"].dims)
    numeric = [d for d in dims if d != "point" and ds[d].dtype.kind == "f" and ds.sizes[d] > 1]
    done = ds["status"] == 1

    # heat maps
    if len(numeric) >= 2:
        xd, yd = numeric[1], numeric[0]
        rest = [d for d in dims if d not in (xd, yd)]
        panel = rest[0] if rest else None
        z = ds[density].where(done)
        r = ds["max_rate"].where(done)
        extra = [d for d in rest if d != panel]
        if extra:                       # the best over further dimensions
            best = z.fillna(-np.inf).argmax(extra)
            z = z.isel(best)
            r = r.isel(best)
        values, shown_note = panel_values(list(ds[panel].values) if panel else [None],
                                          panel or "")
        n = len(values)
        ncol = min(n, 4)
        nrow = -(-n // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol + 1.4, 2.9 * nrow + 0.8),
                                 squeeze=False, layout="constrained")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        zmax = float(np.nanmax(z.values)) if np.isfinite(z.values).any() else 1.0
        xl, xs = _label(ds, xd)
        yl, ys = _label(ds, yd)
        im = None
        xs_v = ds[xd].values * xs
        ys_v = ds[yd].values * ys
        for ax, val in zip(axes.flat, values):
            zz = z.sel({panel: val}) if panel else z
            rr = r.sel({panel: val}) if panel else r
            zz = zz.transpose(yd, xd)
            rr = rr.transpose(yd, xd)
            # one cell per grid point, on the index grid (the values label the ticks): the
            # axes end at the outer cells, whatever the spacing of the values
            im = ax.imshow(zz.values, origin="lower", aspect="auto", vmin=0, vmax=zmax,
                           cmap="viridis", interpolation="nearest")
            for i in range(len(ys_v)):
                for j in range(len(xs_v)):
                    v = rr.values[i, j]
                    ax.text(j, i, "x" if not np.isfinite(v) else f"{v / 1e9:g}",
                            ha="center", va="center", fontsize=7, color="w")
            ax.set_xticks(range(len(xs_v)), [f"{v:.4g}" for v in xs_v], fontsize=7)
            ax.set_yticks(range(len(ys_v)), [f"{v:.4g}" for v in ys_v], fontsize=7)
            ax.set_xlim(-0.5, len(xs_v) - 0.5)
            ax.set_ylim(-0.5, len(ys_v) - 0.5)
            ax.set_xlabel(xl)
            if panel:
                pl, ps = _label(ds, panel)
                ax.set_title(f"{pl.split(' (')[0]} = {val * ps:g}"
                             f"{' ' + pl.split('(')[1][:-1] if '(' in pl else ''}", fontsize=9)
        for row in axes:
            row[0].set_ylabel(yl)
        fig.colorbar(im, ax=axes.ravel().tolist(), label=f"{density} ({ds[density].attrs['units']})")
        fig.suptitle(f"{title}\n{density}; labels: maximum rate, GT/s (x: failed or skipped)"
                     + (f"; {shown_note}" if shown_note else ""), fontsize=9)
        out.append(save_figure(fig, folder / "heatmap.png"))

    # Pareto scatter
    import xarray as xr

    yv = xr.broadcast(ds[objective], ds["status"])[0].transpose(*dims)
    ok = done.values & np.isfinite(ds[density].values) & np.isfinite(yv.values.astype(float))
    front = (ds["pareto"].values == 1)
    yl, ys = _label(ds, objective)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    x = ds[density].values
    y = yv.values.astype(float) * ys
    ax.scatter(x[ok & ~front], y[ok & ~front], s=14, c="0.6", label="points")
    order = np.argsort(x[front])
    ax.plot(x[front][order], y[front][order], "o-", c="C3", ms=6, label="Pareto front")
    ax.set_xlabel(f"{density} ({ds[density].attrs['units']})")
    ax.set_ylabel(yl)
    ax.set_title(f"{title}\nPareto front", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.append(save_figure(fig, folder / "pareto.png"))

    # margin against each parameter
    params = [d for d in dims if d != "point"] or [
        k for k in ds.data_vars if "path" in ds[k].attrs and "expression" not in ds[k].attrs]
    m = ds["eye_margin"].where(done)
    ml, ms = _label(ds, "eye_margin")
    for name in params:
        if ds[name].dtype.kind not in "fi":
            continue
        xv = xr.broadcast(ds[name], ds["status"])[0].transpose(*dims).values.astype(float)
        xl, xs = _label(ds, name)
        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        mv = m.values * ms
        ax.scatter(xv.ravel() * xs, mv.ravel(), s=12, c="C0", label="points")
        ax.scatter((xv * xs)[front], mv[front], s=30, facecolors="none", edgecolors="C3",
                   label="Pareto front")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(xl)
        ax.set_ylabel(ml + " at the eye rate")
        ax.set_title(f"{title}\neye-mask margin vs {name}", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        out.append(save_figure(fig, folder / f"margin_vs_{name}.png"))
    return out


#: Most heat-map panels drawn; beyond, evenly spaced values and the title says which.
MAX_PANELS = 16


def panel_values(values: list, name: str, limit: int = MAX_PANELS) -> tuple[list, str]:
    """The panel values of a heat map: all of them up to *limit*, else *limit* evenly
    spaced ones (the ends included) and a note saying which are shown."""
    if len(values) <= limit:
        return values, ""
    pick = np.linspace(0, len(values) - 1, limit).round().astype(int)
    return ([values[i] for i in pick],
            f"panels: {limit} of the {len(values)} values of {name} (every "
            f"{(len(values) - 1) / (limit - 1):.2g}th)")
