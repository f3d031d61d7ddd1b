"""Plots of a sweep (PNG, matplotlib's Agg backend): heat maps, Pareto scatter, margins.

- ``heatmap.png`` (grids with at least two numeric swept parameters): the bandwidth
  density over the first two, one panel per value of a third (the best over any further
  ones), each cell labelled with its maximum rate in GT/s;
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
        values = list(ds[panel].values) if panel else [None]
        if len(values) > 6:
            values = [values[i] for i in np.linspace(0, len(values) - 1, 6).round().astype(int)]
        n = len(values)
        ncol = min(n, 3)
        nrow = -(-n // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol + 1.4, 3.0 * nrow + 0.6),
                                 squeeze=False, sharey=True, layout="constrained")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        zmax = float(np.nanmax(z.values)) if np.isfinite(z.values).any() else 1.0
        xl, xs = _label(ds, xd)
        yl, ys = _label(ds, yd)
        im = None
        for ax, val in zip(axes.flat, values):
            zz = z.sel({panel: val}) if panel else z
            rr = r.sel({panel: val}) if panel else r
            zz = zz.transpose(yd, xd)
            rr = rr.transpose(yd, xd)
            im = ax.imshow(zz.values, origin="lower", aspect="auto", vmin=0, vmax=zmax,
                           cmap="viridis",
                           extent=_extent(ds[xd].values * xs, ds[yd].values * ys))
            for i, yv in enumerate(ds[yd].values * ys):
                for j, xv in enumerate(ds[xd].values * xs):
                    v = rr.values[i, j]
                    ax.text(xv, yv, "x" if not np.isfinite(v) else f"{v / 1e9:g}",
                            ha="center", va="center", fontsize=7, color="w")
            ax.set_xlabel(xl)
            if panel:
                pl, ps = _label(ds, panel)
                ax.set_title(f"{pl.split(' (')[0]} = {val * ps:g}"
                             f"{' ' + pl.split('(')[1][:-1] if '(' in pl else ''}", fontsize=9)
        for row in axes:
            row[0].set_ylabel(yl)
        fig.colorbar(im, ax=axes.ravel().tolist(), label=f"{density} ({ds[density].attrs['units']})")
        fig.suptitle(f"{title}\n{density}; labels: maximum rate, GT/s (x: failed or skipped)",
                     fontsize=9)
        p = folder / "heatmap.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)

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
    p = folder / "pareto.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    out.append(p)

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
        p = folder / f"margin_vs_{name}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    return out


def _extent(x: np.ndarray, y: np.ndarray) -> list[float]:
    def edges(v):
        if v.size == 1:
            return v[0] - 0.5, v[0] + 0.5
        d = np.diff(v)
        return v[0] - d[0] / 2, v[-1] + d[-1] / 2

    return [*edges(np.asarray(x, float)), *edges(np.asarray(y, float))]
