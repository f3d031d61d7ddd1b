"""Geometry sweeps: a base channel, the parameters to vary, the best bandwidth density.

:func:`sweep` (also ``sigint.sweep``) runs a sweep file or mapping and returns its
:class:`xarray.Dataset`; ``sigint sweep SWEEP.yaml`` does the same on the command line. See
:mod:`sigint.sweeps.spec` for the file, :mod:`sigint.sweeps.run` for the store and resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["sweep", "load_sweep", "run_sweep"]


def load_sweep(source, **kwargs):
    """Read and check a sweep file (see :func:`sigint.sweeps.spec.load_sweep`)."""
    from .spec import load_sweep as _load

    return _load(source, **kwargs)


def run_sweep(sw, out=None, **kwargs):
    """Run a checked sweep (see :func:`sigint.sweeps.run.run_sweep`)."""
    from .run import run_sweep as _run

    return _run(sw, out, **kwargs)


def sweep(source: str | Path | dict, *, out: str | Path | None = None, resume: bool = False,
          overwrite: bool = False, workers: int | None = None, scheduler: str | None = None,
          plot: str | Path | None = None, base_dir: str | Path | None = None,
          max_points: int = 100_000) -> Any:
    """Run a geometry sweep and return its results.

    Parameters
    ----------
    source : str, Path or dict
        A sweep YAML file, or its content as a mapping (``base`` then relative to
        *base_dir*, default the working directory).
    out : str or Path, optional
        Zarr store written as points finish (default: a temporary one).
    resume, overwrite : bool
        Continue the sweep in *out*, or replace it.
    workers : int, optional
        Local Dask worker processes; default (None) and 0: no Dask, the points one after
        another in this process. A script that asks for workers must call :func:`sweep`
        under ``if __name__ == "__main__":`` (the worker processes import the script
        again; without the guard an :class:`~sigint.errors.InputError` says so).
    scheduler : str, optional
        Address of a running Dask scheduler (then leave *workers* out).
    plot : str or Path, optional
        Folder for the PNG plots (:func:`sigint.sweeps.plots.plot_sweep`).
    max_points : int
        Refuse a sweep of more points (counted from the sizes, before any is built).

    Returns
    -------
    xarray.Dataset
        Dimensions: the swept parameters (grid) or ``point`` (random design). Results of
        each point (the worst lane's): ``max_rate``, ``density_edge``, ``density_area``,
        ``eye_height``, ``eye_width``, ``eye_margin``, ``vtf_loss_fn``, ``vtf_xt``,
        ``insertion_loss_fn``, ``fext_fn``, ``next_fn``, ``delay``, ``skew`` (units in
        attrs), ``status``, ``message``, ``limited_by``, ``pareto``.

    Raises
    ------
    InputError
        For a bad sweep file, a store that holds another sweep or is not a sweep store, a
        plot folder that cannot be written, a scheduler that does not answer: all before
        any work.

    Examples
    --------
    >>> import sigint                                         # doctest: +SKIP
    >>> if __name__ == "__main__":                            # doctest: +SKIP
    ...     ds = sigint.sweep("my_sweep.yaml", workers=4)     # 4 local worker processes
    """
    from .run import run_sweep as _run
    from .spec import load_sweep as _load

    sw = _load(source, base_dir=base_dir, max_points=max_points)
    if plot is not None:
        from .plots import check_plot_folder

        check_plot_folder(Path(plot))
    if workers is None and scheduler is None:
        workers = 0
    res = _run(sw, out, resume=resume, overwrite=overwrite, workers=workers,
               scheduler=scheduler, progress=False)
    if plot is not None:
        from .plots import plot_sweep

        plot_sweep(res.dataset, plot)
    return res.dataset
