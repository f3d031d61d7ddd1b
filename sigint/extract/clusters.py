"""Clusters of unknowns and the reduced solve of a block on them.

Shared by the filament solver's reduced basis (:mod:`sigint.extract.reduced`) and the
boundary elements' conductor block (:class:`sigint.extract.bem.BemSolver`): a median
bisection of index sets by position, and the Galerkin solve of a block of a dense system
for the right-hand sides it is ever given (:func:`reduced_block_solver`).
"""

from __future__ import annotations

import numpy as np

from .. import progress
from ..threads import small_matrix_blas

__all__ = ["split_median", "reduced_block_solver", "N_RANDOM", "BEM_BASIS_TOL"]

N_RANDOM = 48        # Gaussian test vectors of the range finders (plus coherent ones)
BEM_BASIS_TOL = 1e-7  # relative singular value kept in the conductor charges' bases
COHERENT_RUN = 300   # unknowns outside the clusters get coherent test vectors by runs of this


def split_median(ids: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_count: int
                  ) -> list[np.ndarray]:
    """*ids* halved at the median of the longer side until no part exceeds *max_count*."""
    mid = 0.5 * (lo + hi)
    out: list[np.ndarray] = []
    stack = [ids]
    while stack:
        part = stack.pop()
        if part.size <= max_count:
            out.append(part)
            continue
        span = hi[part].max(axis=0) - lo[part].min(axis=0)
        ax = int(np.argmax(span))
        order = np.argsort(mid[part, ax], kind="stable")
        half = part.size // 2
        stack += [part[order[half:]], part[order[:half]]]
    return out


def reduced_block_solver(a: np.ndarray | None, r: np.ndarray, clusters: list[np.ndarray],
                         tol: float = BEM_BASIS_TOL, seed: int = 0, *, rows=None, cols=None,
                         size: int | None = None, mirror: np.ndarray | None = None):
    """Solver of :math:`A_{RR}x = b` on a reduced basis, for right-hand sides made of the
    clusters' uniform vectors and of the coupling :math:`A_{R,\\\\cdot}` to the rest.

    The conductor block of the boundary-element system (:class:`sigint.extract.bem.BemSolver`)
    is solved only for such right-hand sides: conductor potentials (uniform over each
    conductor) and the potential of interface charges. Per cluster *c* of unknowns the
    charges then lie in :math:`A_{cc}^{-1}[\\\\mathbf 1,\\\\ \\\\mathrm{range}\\\\,A_{c,\\\\bar c}]`;
    the range is found by the randomized range finder (Halko et al. 2011) on the rows of *a*
    and compressed with the basis to *tol*, and the solve is the Galerkin one,
    :math:`x = V(V^TA_{RR}V)^{-1}V^Tb` (exact when x lies in the span of V).

    Parameters
    ----------
    a : ndarray, shape (m, m)
        The whole system matrix (rows of R against every column are read).
    r : ndarray of int, shape (n_r,)
        Indices of the block R in *a*.
    clusters : list of ndarray of int
        A partition of ``range(n_r)`` (positions in *r*).
    rows, cols : callable, optional
        Instead of *a* (None): ``rows(g)`` gives the rows *g* of the system against every
        column, shape (len(g), m), and ``cols(c)`` the rows *r* against the columns *c*,
        shape (n_r, len(c)) (:class:`sigint.extract.bem.ConductorRows`); *size* is m.
    mirror : ndarray of int, shape (n_r,), optional
        An involution of the positions in *r* under which the block is invariant (the
        panels of a mirror-symmetric cross-section, :func:`sigint.extract.bem.panel_mirror`).
        If it maps every cluster onto a cluster, the basis of a cluster's mirror image is
        the mirror image of its basis, and a cluster that is its own image gets a basis
        made of even and odd vectors: the span is invariant, so the Galerkin solution of
        mirrored right-hand sides is the mirrored solution, to rounding (random test
        vectors alone give each side its own basis, symmetric only to *tol*).

    Returns
    -------
    solve : callable
        ``solve(b)`` for b of shape (n_r, k), real or complex; returns shape (n_r, k).
    unknowns : int
        Size of the reduced system.
    """
    import scipy.linalg

    if rows is None:
        def rows(g):
            return a[g]

        def cols(c):
            return a[np.ix_(r, c)]

        size = a.shape[0]
    m = int(size)
    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((m, N_RANDOM))
    # coherent test charges: uniform over each cluster (and over runs of the other rows)
    lab = np.full(m, -1)
    for c, ids in enumerate(clusters):
        lab[r[ids]] = c
    rest = np.flatnonzero(lab < 0)
    lab[rest] = len(clusters) + np.arange(rest.size) // COHERENT_RUN
    omega = np.hstack([omega, rng.standard_normal((lab.max() + 1, N_RANDOM // 2))[lab]])
    image = _cluster_images(clusters, mirror)
    bases: list[np.ndarray] = []
    with small_matrix_blas():
        for c, ids in enumerate(progress.track(clusters, f"reduced basis of {len(clusters)} "
                                               f"clusters ({r.size} conductor panels)")):
            if image is not None and image[c][0] < c:      # the mirror of one done before
                e, rows_of = image[c]
                bases.append(bases[e][rows_of])
                continue
            if ids.size <= 4:         # (the potential at infinity of a neutral system)
                bases.append(np.eye(ids.size))
                continue
            g = r[ids]
            rg = rows(g)
            acc = rg[:, g]
            y = rg @ omega - acc @ omega[g]
            # the uniform vector is in the basis anyway: without it in the samples, the
            # tolerance is judged against the varying part of the coupling (the log kernel's
            # constant dominates the rest by 1e6 where no plane holds the reference, and
            # the charges of a neutral system cancel it)
            y -= y.mean(axis=0)
            u, s, _ = np.linalg.svd(y, full_matrices=False)
            u = u[:, s > tol * s[0]] if s.size and s[0] > 0 else u[:, :0]
            if u.shape[1] > y.shape[1] - 16:
                # the samples did not exhaust the range with room to spare (Halko et al.
                # oversample by ~10; pieces of one wide conductor touch): keep every unknown

                bases.append(np.eye(ids.size))
                continue
            x = np.linalg.solve(acc, np.column_stack([np.ones(ids.size), u]))
            u2, s2, _ = np.linalg.svd(x, full_matrices=False)
            v = u2[:, s2 > tol * s2[0]]
            if image is not None and image[c][0] == c:      # its own mirror image
                v = _even_odd(v, image[c][1])
            bases.append(v)
    sizes = np.array([v.shape[1] for v in bases], dtype=int)
    off = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    kk = int(off[-1])
    progress.stage(f"reduced conductor block: {kk} unknowns for {r.size} panels")
    ar = np.empty((kk, kk))
    for e, ids in enumerate(clusters):
        av = cols(r[ids]) @ bases[e]                               # (n_r, K_e)
        for c, jd in enumerate(clusters):
            ar[off[c]:off[c + 1], off[e]:off[e + 1]] = bases[c].T @ av[jd]
    lu = scipy.linalg.lu_factor(ar, overwrite_a=True, check_finite=False)

    def solve(b: np.ndarray) -> np.ndarray:
        b = np.asarray(b)
        vb = np.vstack([v.T @ b[ids] for v, ids in zip(bases, clusters)])
        if np.iscomplexobj(vb):
            k = vb.shape[1]
            yy = scipy.linalg.lu_solve(lu, np.hstack([vb.real, vb.imag]), check_finite=False)
            y = yy[:, :k] + 1j * yy[:, k:]
        else:
            y = scipy.linalg.lu_solve(lu, vb, check_finite=False)
        x = np.empty((r.size, b.shape[1]), dtype=y.dtype)
        for c, ids in enumerate(clusters):
            x[ids] = bases[c] @ y[off[c]:off[c + 1]]
        return x

    return solve, kk


def _cluster_images(clusters: list[np.ndarray], mirror: np.ndarray | None
                    ) -> list[tuple[int, np.ndarray]] | None:
    """Per cluster c: the cluster e holding its mirror image and the rows of e's basis
    that give c's (``basis_c = basis_e[rows]``); None without a mirror or if it does not
    map every cluster onto one cluster."""
    if mirror is None:
        return None
    n = sum(ids.size for ids in clusters)
    which = np.full(n, -1)
    pos = np.full(n, -1)
    for c, ids in enumerate(clusters):
        which[ids] = c
        pos[ids] = np.arange(ids.size)
    out = []
    for ids in clusters:
        img = mirror[ids]
        e = np.unique(which[img])
        if e.size != 1 or clusters[e[0]].size != ids.size:
            return None
        out.append((int(e[0]), pos[img]))
    return out


def _even_odd(v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the span of *v* and of its mirror image ``v[rows]``, made
    of vectors each exactly even or odd under the mirror (so its span is invariant)."""
    out = []
    for part in (v + v[rows], v - v[rows]):       # exactly even, exactly odd columns
        u, s, _ = np.linalg.svd(part, full_matrices=False)
        # the left singular vectors are combinations of those columns: even (odd) to
        # rounding; directions below 1e-10 are rounding (v's span is kept whole)
        out.append(u[:, s > 1e-10 * s[0]] if s.size and s[0] > 0 else u[:, :0])
    return np.hstack(out)
