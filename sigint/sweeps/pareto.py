"""The Pareto front of a sweep: bandwidth density against a second objective.

A point is on the front when no other computed point is at least as good in both
objectives and better in one (density is always maximised; the second objective is
maximised or minimised as the sweep file says). Points that failed, were skipped or have a
non-finite value in either objective are never on it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_mask", "front_indices"]


def front_indices(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points when both *a* and *b* are maximised.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Finite objective values.

    Returns
    -------
    ndarray of int
        Sorted indices into *a* and *b*. Equal points are all kept.

    Examples
    --------
    >>> front_indices(np.array([1., 2., 3., 2.]), np.array([3., 2., 1., 1.]))
    array([0, 1, 2])
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = []
    for i in range(a.size):
        ge = (a >= a[i]) & (b >= b[i])
        gt = (a > a[i]) | (b > b[i])
        if not np.any(ge & gt):
            keep.append(i)
    return np.array(keep, dtype=int)


def pareto_mask(ds, density: str, objective: str, goal: str) -> np.ndarray:
    """Boolean array over the sweep's dimensions: True on the Pareto front.

    *objective* may be a result or a parameter (a coordinate of a grid, a variable of a
    random design); it is broadcast over the sweep's dimensions.
    """
    import xarray as xr

    dims = ds["status"].dims
    x = ds[density].values.reshape(-1)
    y = xr.broadcast(ds[objective], ds["status"])[0].transpose(*dims).values.reshape(-1)
    y = y.astype(float) * (1.0 if goal == "max" else -1.0)
    ok = (ds["status"].values.reshape(-1) == 1) & np.isfinite(x) & np.isfinite(y)
    mask = np.zeros(x.size, dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size:
        mask[idx[front_indices(x[idx], y[idx])]] = True
    return mask.reshape(ds["status"].shape)
