"""``sigint sweep``: the click command (the work is in :mod:`sigint.sweeps.run`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

__all__ = ["register", "summary"]


def _fmt(ds, name: str, value) -> str:
    a = ds[name].attrs if name in ds else {}
    if isinstance(value, str):
        return value
    if a.get("display_units"):
        return f"{float(value) / float(a['display_scale']):.4g} {a['display_units']}"
    unit = a.get("units", "")
    return f"{float(value):.4g}{' ' + unit if unit else ''}"


def summary(run) -> str:
    """Readable report: counts, the best density point, the Pareto front."""
    import numpy as np

    ds = run.dataset
    dims = list(ds["status"].dims)
    st = ds["status"].values
    dens = ds.attrs["pareto_density"]
    obj = ds.attrs["pareto_objective"]
    n = st.size
    lines = [f"sigint sweep {ds.attrs['title']}: {n} points ({ds.attrs['design']}), "
             f"{int((st == 1).sum())} done, {int((st == 2).sum())} failed, "
             f"{int((st == 3).sum())} skipped by a constraint"
             + (f"; {run.already} were already in the store" if run.already else ""),
             f"  on {run.scheduler}; {run.computed} computed in {run.wall:.1f} s"]
    if run.store is not None:
        lines.append(f"  results: {run.store}")
    params = [d for d in dims if d != "point"] or [
        k for k in ds.data_vars if "path" in ds[k].attrs]
    flat = {k: ds[k].broadcast_like(ds["status"]).transpose(*dims).values.reshape(-1)
            for k in [*params, dens, obj, "max_rate", "eye_margin", "limited_by"]
            if k in ds or k in ds.coords}

    def describe(i: int) -> str:
        return ", ".join(f"{p} = {_fmt(ds, p, flat[p][i])}" for p in params)

    d = np.where(st.reshape(-1) == 1, ds[dens].values.reshape(-1), np.nan)
    if np.isfinite(d).any():
        # the densest point; among equals, the best in the Pareto objective
        sign = 1.0 if ds.attrs["pareto_goal"] == "max" else -1.0
        y = sign * np.asarray(flat[obj], dtype=float)
        ties = np.flatnonzero(d == np.nanmax(d))
        i = int(ties[np.argmax(np.where(np.isfinite(y[ties]), y[ties], -np.inf))])
        lines.append("")
        lines.append(f"best {dens}: {d[i]:.0f} {ds[dens].attrs['units']} at {describe(i)} "
                     f"(max rate {flat['max_rate'][i] / 1e9:g} GT/s"
                     + (f"; limited by {flat['limited_by'][i]}" if flat["limited_by"][i] else "") + ")")
    front = np.flatnonzero(ds["pareto"].values.reshape(-1) == 1)
    if front.size:
        lines.append(f"Pareto front ({dens} max, {obj} {ds.attrs['pareto_goal']}), "
                     f"{front.size} point(s):")
        for i in sorted(front, key=lambda k: -flat[dens][k]):
            lines.append(f"  {flat[dens][i]:8.0f} {ds[dens].attrs['units']}  "
                         f"{obj} = {_fmt(ds, obj, flat[obj][i])}  ({describe(i)})")
    bad = np.flatnonzero(st.reshape(-1) == 2)
    if bad.size:
        msg = ds["message"].values.reshape(-1)
        lines.append(f"failed points ({bad.size}), first: {describe(bad[0])}: {msg[bad[0]]}")
    return "\n".join(lines)


def _as_json(run) -> dict:
    ds = run.dataset
    out = {"title": ds.attrs["title"], "store": None if run.store is None else str(run.store),
           "points": int(ds["status"].size), "done": int((ds["status"] == 1).sum()),
           "failed": int((ds["status"] == 2).sum()), "skipped": int((ds["status"] == 3).sum()),
           "wall_s": round(run.wall, 3), "computed": run.computed, "scheduler": run.scheduler}
    df = ds.drop_vars(["message"]).to_dataframe().reset_index()
    rows = []
    for rec in df[df["pareto"] == 1].to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                         v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    out["pareto_front"] = rows
    return out


def register(cli: click.Group, with_progress, exit_ok: int, exit_fail: int) -> None:
    """Add the ``sweep`` command to *cli* (the ``sigint`` group)."""

    @cli.command("sweep", context_settings={"max_content_width": 100})
    @click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(path_type=Path), default=None,
                  help="Zarr store written as points finish [SWEEP.zarr beside the file].")
    @click.option("--resume", is_flag=True,
                  help="Continue the sweep in --out where it stopped (same results as a run "
                       "never stopped).")
    @click.option("--overwrite", is_flag=True,
                  help="Replace an existing --out that is a sweep store (nothing else is ever "
                       "removed).")
    @click.option("--workers", type=click.IntRange(0, 4096), default=None,
                  help="Local Dask worker processes, one thread each [the machine's cores]; "
                       "0: no Dask, one point after another in this process.")
    @click.option("--scheduler", default=None, metavar="ADDRESS",
                  help="Run on an existing Dask cluster (tcp://host:8786) instead of local "
                       "workers; checked before --out is touched. Not with --workers.")
    @click.option("--plot", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Folder for heatmap.png, pareto.png, margin_vs_<parameter>.png.")
    @click.option("--max-points", type=click.IntRange(1), default=100_000, show_default=True,
                  help="Refuse a sweep of more points (counted before any is built).")
    @click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
    @click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
    @with_progress("sweep", "sweep_file")
    def sweep_cmd(sweep_file: Path, out: Path | None, resume: bool, overwrite: bool,
                  workers: int | None, scheduler: str | None, plot: Path | None,
                  max_points: int, as_json: bool, quiet: bool) -> int:
        """Sweep a channel's geometry: the best bandwidth density that passes the spec.

        \b
        The sweep file (YAML) has these keys:
          name, description   title of the results
          base                the channel file, relative to the sweep file
          set                 fixed changes to the base: {path: value}
          parameters          name: {path, values: [..]} or {path, range: {start,
                              stop, num|step, scale: linear|log}}; paths walk the
                              channel file (segments[1].length, lanes.pitch,
                              xsection.buses[0].width for the traces' cross-section)
          coupled             name: {path (optional), expr: width + space}
          constraints         [pitch - width >= 1 um, ...]: a point that breaks one
                              is skipped
          design              grid, or {lhs: {samples: N, seed: S}} (Latin hypercube)
          analysis            spec (a shipped name or a spec file), package, ber,
                              eye_rate, up_to (the highest rate tried), eye_height
                              and eye_width (spec none), exhaustive, backend
          pareto              {density: density_edge|density_area, objective: a
                              result or parameter, goal: max|min}
        Quantities carry their units; expressions carry dimensions (a coupled value
        must have its path's, a constraint must be a comparison). Everything,
        every point's channel included, is checked before any work and before --out
        is touched (exit 2).

        \b
        Per point, the worst lane's: maximum data rate, bandwidth density (die edge and
        area), eye height/width/mask margin at the eye rate, loss and crosstalk at
        fN, delay and skew. A point that fails is recorded with its reason.

        \b
        Results go to a Zarr store as each point finishes; a sweep stopped at any
        moment continues with --resume and ends with the same Dataset. --overwrite
        replaces only a sweep store, never anything else. The points run on a local
        Dask cluster (one process per core, BLAS pinned to one thread) or, with
        --scheduler, on an existing one (whose workers replace --workers: give one or
        the other).

        \b
        Exit codes: 0 some point computed; 1 none (all skipped or failed); 2 bad
        input (one sentence).

        \b
        Examples:
          sigint sweep channels/sweeps/ucie_advanced_sweep.yaml --plot figs
          sigint sweep my.yaml --out my.zarr --resume --workers 2
        """
        from ..errors import InputError
        from .spec import load_sweep

        if not sweep_file.exists():
            raise InputError(f"{sweep_file}: no such file; check the path")
        if resume and overwrite:
            raise click.UsageError("--resume and --overwrite exclude each other")
        sw = load_sweep(sweep_file, max_points=max_points)
        if plot is not None:
            from .plots import check_plot_folder

            check_plot_folder(plot)
        store = out if out is not None else sweep_file.with_suffix(".zarr")
        from .run import run_sweep

        try:
            res = run_sweep(sw, store, resume=resume, overwrite=overwrite, workers=workers,
                            scheduler=scheduler)
        finally:
            from .. import progress

            progress.clear()
        if as_json:
            click.echo(json.dumps(_as_json(res), indent=2, default=str))
        else:
            click.echo(summary(res))
        if plot is not None:
            from .plots import plot_sweep

            paths = plot_sweep(res.dataset, plot)
            if not as_json:
                click.echo("plots: " + ", ".join(str(p) for p in paths))
        done = int((res.dataset["status"] == 1).sum())
        if not done:
            st = res.dataset["status"].values
            why = ("every point breaks a constraint" if (st == 3).all() else
                   "no point could be computed (see the failed points above)")
            click.echo(f"sigint: note: no point done: {why}; exit 1", err=True)
        return exit_ok if done else exit_fail

    return sweep_cmd
