"""Reduced-basis (Galerkin) form of the filament system, for dense buses.

The filament system of :class:`sigint.extract.peec.PeecSolver` has one unknown per filament
(some 130 per 2 um x 1 um line at 100 GHz, thousands per ground plane), and its modal
decomposition costs :math:`O(n^3)`: a 64-signal bus (20,800 filaments) took ten minutes.
Here every conductor is cut into clusters of at most :data:`MAX_CLUSTER` filaments and the
currents of each cluster are sought in a small real basis :math:`V_c` (Galerkin: the
reduced system :math:`V^T(R + j\\omega L)V` keeps the form of the full one, so the
eigendecomposition and everything downstream are unchanged, with tens of unknowns per
line instead of hundreds).

The basis is exact for the physics up to a stated tolerance. In the scaled variables of
the solver (:math:`x = R^{1/2}I`, :math:`A = R^{-1/2}LR^{-1/2}`) the currents of cluster *c*
obey

.. math:: (I + j\\omega A_{cc})\\,x_c = R_c^{-1/2}\\mathbf 1\\,v_c
          - j\\omega A_{c,\\bar c}\\,x_{\\bar c},

so at every frequency :math:`x_c` lies in :math:`(I + j\\omega A_{cc})^{-1}
[R_c^{-1/2}\\mathbf 1,\\ \\mathrm{range}\\,A_{c,\\bar c}]`. The range of the coupling to the
rest of the cross-section is numerically small (a smooth field over the cluster); it is
found by a randomized range finder (Halko, Martinsson & Tropp, SIAM Review 53(2), 2011,
Alg. 4.1) with Gaussian and cluster-coherent test currents. The local responses at
frequencies spread over the band (three per decade from the slowest local time constant to
the top frequency, and DC), real and imaginary parts, are compressed by an SVD truncated
at *tol* of the largest singular value; their span is :math:`V_c`. The same idea, local
solutions of a conductor under the fields of the others as basis functions, is the
"conduction modes" / "proximity templates" basis of Daniel, Sangiovanni-Vincentelli & White
(DAC 2001; ICCAD 2002).

Interactions of well-separated clusters use the multipole form of the 2D kernel: with
cluster centres :math:`z_c, z_d`, :math:`D = z_c - z_d` and :math:`u = z - z_c`,
:math:`v = w - z_d` (complex coordinates),

.. math:: \\ln(z - w) = \\ln D + \\sum_{1\\le i+j\\le p} (-1)^{i+1}
          \\frac{(i+j-1)!}{i!\\,j!}\\,\\frac{u^i v^j}{D^{i+j}},

and the mean of :math:`\\ln|z-w|` over two filaments is the real part of the series with
the filaments' exact area means of :math:`u^i` and :math:`v^j` (Greengard & Rokhlin, J.
Comput. Phys. 73, 1987, Lemma 2.3, for the translation of the logarithm). The truncation
error is below :math:`\\eta^{p+1}/(p+1)` relative for clusters with
:math:`\\rho_c + \\rho_d \\le \\eta |D|` (the acceptance rule, :data:`ETA`); the image in a
ground plane is the same series about the mirrored centre with conjugated moments. Nearer
pairs are computed filament by filament (:func:`sigint.extract.peec.mean_log_distance`).
With two planes (a stripline) every pair is computed directly: the parallel-plate kernel
has no such series here.

Cost: the near blocks grow as the number of clusters (a bus's lines see a few neighbours),
the far pairs as its square but at a few hundred operations each, and the eigensystem
has the size of the reduced basis. The error against the full filament solution is
measured in the tests and in ``bench/extract_cpu.py --compare``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import progress
from ..threads import small_matrix_blas
from ..xsection.materials import MU0
from .clusters import N_RANDOM, split_median
from .peec import RECT, Filaments, mean_log_distance

__all__ = ["cluster_filaments", "area_moments", "log_translation", "reduced_modes",
           "MAX_CLUSTER", "ETA", "ORDER", "BASIS_TOL"]

MAX_CLUSTER = 300    # filaments per cluster at most
ETA = 0.6            # far pairs: rho_c + rho_d <= ETA * |D|
ORDER = 22           # multipole order p: ETA**(p+1)/(p+1) = 3e-7
BASIS_TOL = 1e-5     # relative singular value kept in the range and in the basis



def _extent(fil: Filaments, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left and upper-right corners of each filament in *ids*, shapes (k, 2)."""
    g = fil.g[ids]
    rect = fil.kind[ids] == RECT
    lo = np.empty((ids.size, 2))
    hi = np.empty((ids.size, 2))
    lo[rect] = g[rect][:, [0, 2]]
    hi[rect] = g[rect][:, [1, 3]]
    sec = ~rect
    if sec.any():
        # an annular sector lies inside the disk of its outer radius
        r1 = g[sec, 3]
        lo[sec] = g[sec][:, :2] - r1[:, None]
        hi[sec] = g[sec][:, :2] + r1[:, None]
    return lo, hi


def cluster_filaments(fil: Filaments, max_count: int = MAX_CLUSTER,
                      perm: np.ndarray | None = None
                      ) -> tuple[list[np.ndarray], np.ndarray]:
    """Filament indices of clusters: each conductor, halved at the median of its longer
    side until no part holds more than *max_count* filaments.

    With a mirror *perm* (an involution of the filaments mapping conductors onto
    conductors, :func:`sigint.extract.peec.mesh_mirrors`) the clusters are mirror images
    of each other: the clusters of a conductor's mirror are the mirrors of its clusters
    (element by element), and a conductor that is its own mirror is cut into its low half,
    the mirror of that, and the filaments on the mirror line.

    Returns
    -------
    clusters : list of ndarray of int
        Every filament in exactly one cluster; a cluster never spans two conductors.
    partner : ndarray of int, shape (len(clusters),)
        Index of each cluster's mirror image (itself for a cluster on the mirror line, and
        for every cluster without *perm*); ``clusters[partner[c]] == perm[clusters[c]]``.
    """
    lo, hi = _extent(fil, np.arange(fil.n))
    out: list[np.ndarray] = []
    partner: list[int] = []
    done: set[int] = set()
    for k in np.unique(fil.owner).tolist():
        if k in done:
            continue
        ids = np.nonzero(fil.owner == k)[0]
        if perm is None:
            parts = split_median(ids, lo, hi, max_count)
            partner += list(range(len(out), len(out) + len(parts)))
            out += parts
            continue
        k2 = int(fil.owner[perm[ids[0]]])
        done |= {k, k2}
        if k2 != k:
            parts = split_median(ids, lo, hi, max_count)
            n0 = len(out)
            out += parts + [perm[p] for p in parts]
            partner += [n0 + len(parts) + i for i in range(len(parts))]
            partner += [n0 + i for i in range(len(parts))]
            continue
        if ids.size <= max_count:
            out.append(ids)
            partner.append(len(out) - 1)
            continue
        on_line = perm[ids] == ids
        x = fil.centroid[ids, 0] - fil.centroid[perm[ids], 0]
        low = ids[~on_line & (x < 0)]
        parts = split_median(low, lo, hi, max_count) if low.size else []
        n0 = len(out)
        out += parts + [perm[p] for p in parts]
        partner += [n0 + len(parts) + i for i in range(len(parts))]
        partner += [n0 + i for i in range(len(parts))]
        if on_line.any():
            out.append(ids[on_line])
            partner.append(len(out) - 1)
    return out, np.array(partner, dtype=int)


def area_moments(fil: Filaments, ids: np.ndarray, center: complex, order: int) -> np.ndarray:
    """Area means of :math:`(z - z_0)^k`, k = 0 ... *order*, over the filaments *ids*.

    Rectangles exactly: :math:`\\iint z^k\\,dx\\,dy = -i\\,[G]_{\\text{corners}}` with
    :math:`G = z^{k+2}/((k+1)(k+2))` (since :math:`\\partial_x\\partial_y G = iG''`);
    annular sectors about their circle's centre :math:`c`, where
    :math:`(c - z_0 + re^{it})^k` expands binomially into terms whose means over
    :math:`r\\,dr\\,dt` are closed forms.

    Returns
    -------
    ndarray of complex, shape (len(ids), order + 1)
    """
    k = np.arange(order + 1)
    out = np.empty((ids.size, order + 1), dtype=complex)
    rect = fil.kind[ids] == RECT
    if rect.any():
        g = fil.g[ids[rect]]
        x0, x1 = g[:, 0] - center.real, g[:, 1] - center.real
        y0, y1 = g[:, 2] - center.imag, g[:, 3] - center.imag
        den = ((k + 1) * (k + 2))[None, :]
        p = k[None, :] + 2

        def gz(x, y):
            return (x + 1j * y)[:, None] ** p / den

        area = ((x1 - x0) * (y1 - y0))[:, None]
        out[rect] = -1j * (gz(x1, y1) - gz(x1, y0) - gz(x0, y1) + gz(x0, y0)) / area
        out[rect, 0] = 1.0
    if (~rect).any():
        # (a + r e^{i t})^k = sum_j C(k, j) a^(k-j) r^j e^{i j t}, a = circle centre - z0;
        # each term's mean over r dr dt in closed form
        g = fil.g[ids[~rect]]
        a = (g[:, 0] - center.real) + 1j * (g[:, 1] - center.imag)
        r0, r1, t0, t1 = g[:, 2], g[:, 3], g[:, 4], g[:, 5]
        j = np.arange(order + 1)[None, :]
        radial = (r1[:, None] ** (j + 2) - r0[:, None] ** (j + 2)) / (j + 2)
        jj = np.where(j == 0, 1, j)
        angular = np.where(j == 0, (t1 - t0)[:, None],
                           (np.exp(1j * j * t1[:, None]) - np.exp(1j * j * t0[:, None]))
                           / (1j * jj))
        term = radial * angular / (0.5 * (r1 * r1 - r0 * r0) * (t1 - t0))[:, None]  # mean of r^j e^{ijt}
        binom = np.array([[math.comb(kk, jv) if jv <= kk else 0 for jv in range(order + 1)]
                          for kk in range(order + 1)], dtype=float)
        apow = a[:, None] ** np.arange(order + 1)[None, :]                    # a^m
        # out[s, k] = sum_j binom[k, j] a^(k-j) term[s, j]
        kidx = np.arange(order + 1)
        diff = np.clip(kidx[:, None] - kidx[None, :], 0, order)
        out[~rect] = np.einsum("kj,skj,sj->sk", binom, apow[:, diff], term)
    return out


def log_translation(d: np.ndarray, order: int) -> np.ndarray:
    """Coefficients :math:`T_{ij}` of :math:`\\ln(z - w) = \\sum T_{ij}u^iv^j`, D = *d*.

    Returns
    -------
    ndarray of complex, shape d.shape + (order + 1, order + 1)
        :math:`T_{00} = \\ln D`; :math:`T_{ij} = (-1)^{i+1}\\binom{i+j}{i}/((i+j) D^{i+j})`
        for :math:`1 \\le i+j \\le p`; zero beyond.
    """
    d = np.asarray(d, dtype=complex)
    i = np.arange(order + 1)[:, None]
    j = np.arange(order + 1)[None, :]
    n = i + j
    coef = np.zeros((order + 1, order + 1))
    ok = (n >= 1) & (n <= order)
    comb = np.array([[math.comb(int(a + b), int(a)) for b in range(order + 1)]
                     for a in range(order + 1)], dtype=float)
    coef[ok] = ((-1.0) ** (i + 1) * comb / np.where(n > 0, n, 1))[ok]
    inv = 1.0 / d
    powers = inv[..., None] ** np.arange(2 * order + 1)
    t = coef * powers[..., n]
    t[..., 0, 0] = np.log(d)
    return t


def _local_frequencies(lam_max: float, w_top: float) -> np.ndarray:
    """Angular frequencies of the local responses: three per decade from 0.01 / lam_max
    (below it the response is the DC one) to *w_top*."""
    w_lo = min(0.01 / max(lam_max, 1e-300), w_top)
    n = max(2, int(math.ceil(3 * math.log10(w_top / w_lo))) + 1)
    return np.geomspace(w_lo, w_top, n)


def reduced_modes(fil: Filaments, ground_y: float | None, top_y: float | None,
                  sq: np.ndarray, b: np.ndarray, w_top: float, *, tol: float = BASIS_TOL,
                  order: int = ORDER, eta: float = ETA, max_count: int = MAX_CLUSTER,
                  seed: int = 0, mirror: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """Eigenvalues and projected port matrix of the reduced filament system.

    Parameters
    ----------
    fil : Filaments
        The filament mesh (n filaments).
    ground_y, top_y : float or None
        Image plane and second plane (m) of the kernel, as in :func:`mean_log_distance`.
    sq : ndarray, shape (n,)
        :math:`R^{-1/2}` of each filament, S^0.5 m^0.5.
    b : ndarray, shape (n, n_c)
        :math:`R^{-1/2}B`, B the conductor incidence (filament k belongs to conductor j).
    w_top : float
        Highest angular frequency the basis must resolve, rad/s.
    tol : float
        Relative singular value below which range and basis directions are dropped.
    mirror : bool
        Use a vertical mirror line of the mesh where there is one: the bases of mirrored
        clusters are mirror images, and the reduced system splits into even and odd halves
        (two eigendecompositions of half the size: a quarter of the work).

    Returns
    -------
    lam : ndarray, shape (K,)
        Eigenvalues of :math:`V^TAV` (s).
    w : ndarray, shape (K, n_c)
        :math:`Q^TV^TR^{-1/2}B`.
    info : dict
        ``clusters``, ``unknowns`` (K), ``near_pairs``, ``far_pairs``.
    """
    perm = _vertical_mirror(fil, ground_y) if mirror else None
    cl = _ClusterSystem(fil, ground_y, top_y, sq, perm, order, eta, max_count)
    with small_matrix_blas():     # loops over cluster-sized matrices: one BLAS thread each
        bases, n_even = cl.bases(w_top, tol, seed)
        ar, off = cl.operator(bases)
        wr = (np.vstack([v.T @ b[ids] for v, ids in zip(bases, cl.clusters)]) if bases
              else np.zeros((0, b.shape[1])))
    # the eigendecomposition of the reduced system is one large LAPACK call: default threads
    kk = ar.shape[0]
    split = _mirror_split(ar, off, cl.partner, n_even) if perm is not None else None
    if split is not None:
        progress.stage(f"eigendecomposition of the reduced system ({kk} of {fil.n} unknowns, "
                       "mirror symmetric: two halves)")
        lam, w = _eigh_even_odd(ar, wr, split)
    else:
        progress.stage(f"eigendecomposition of the reduced system ({kk} of {fil.n} unknowns)")
        lam, q = np.linalg.eigh(ar)
        w = q.T @ wr
    del ar
    nk = len(cl.clusters)
    n_near = int((np.triu(cl.near, 1)).sum())
    info = {"clusters": nk, "unknowns": kk, "near_pairs": n_near,
            "far_pairs": nk * (nk - 1) // 2 - n_near, "tol": tol,
            "mirror": split is not None}
    return lam, w, info


class _ClusterSystem:
    """Clusters of a filament mesh with their near blocks (scaled, :math:`A_{ce}`), area
    moments and far-field translations: what :func:`reduced_modes` builds the basis and the
    reduced operator from."""

    def __init__(self, fil: Filaments, ground_y, top_y, sq: np.ndarray, perm, order: int,
                 eta: float, max_count: int):
        self.fil, self.sq, self.perm, self.order = fil, sq, perm, order
        self.scale = -MU0 / (2 * math.pi)
        self.clusters, self.partner = cluster_filaments(fil, max_count, perm)
        nk = len(self.clusters)
        lo, hi = _extent(fil, np.arange(fil.n))
        ctr = np.empty(nk, dtype=complex)
        rad = np.empty(nk)
        for c, ids in enumerate(self.clusters):
            low, high = lo[ids].min(axis=0), hi[ids].max(axis=0)
            m = 0.5 * (low + high)
            ctr[c] = m[0] + 1j * m[1]
            rad[c] = 0.5 * float(np.hypot(*(high - low)))
        self.d = ctr[:, None] - ctr[None, :]
        rsum = rad[:, None] + rad[None, :]
        near = rsum > eta * np.abs(self.d)
        self.d_img = None
        if ground_y is not None:
            img = ctr.real + 1j * (2 * ground_y - ctr.imag)          # mirrored centres
            self.d_img = ctr[:, None] - img[None, :]
            near |= rsum > eta * np.abs(self.d_img)
        if top_y is not None:
            near[:] = True
        np.fill_diagonal(near, True)
        self.near = near
        self.far = [np.nonzero(~near[c])[0] for c in range(nk)]
        self.mom = [area_moments(fil, ids, ctr[c], order) for c, ids in enumerate(self.clusters)]
        # near blocks, filament by filament: A[c, e] for e >= c (A[e, c] = A[c, e]^T)
        self.blocks = _near_blocks(fil, self.clusters, near, ground_y, top_y)
        for (c, e), a in self.blocks.items():
            a *= self.scale * sq[self.clusters[c], None]
            a *= sq[None, self.clusters[e]]

    def block(self, c: int, e: int) -> np.ndarray:
        """:math:`A_{ce}` of a near pair, shape (n_c, n_e)."""
        return self.blocks[(c, e)] if e >= c else self.blocks[(e, c)].T

    def translations(self, c: int, fl: np.ndarray) -> np.ndarray:
        """Stacked coefficients (f, p+1, p+1) of the far clusters *fl* of *c*, then of
        their images (used with conjugated moments and the opposite sign)."""
        t = log_translation(self.d[c, fl], self.order)
        if self.d_img is not None:
            t = np.concatenate([t, log_translation(self.d_img[c, fl], self.order)])
        return t

    def far_sum(self, c: int, s_by: np.ndarray) -> np.ndarray | None:
        """:math:`\\sum_e T_{ce} S_e` over the far clusters e of c (images: minus
        :math:`\\tilde T_{ce}\\bar S_e`); *s_by* (nk, p+1, r). Shape (p+1, r)."""
        fl = self.far[c]
        if fl.size == 0:
            return None
        t = self.translations(c, fl)
        s_f = s_by[fl]
        if self.d_img is not None:
            s_f = np.concatenate([s_f, -s_f.conj()])
        q = self.order + 1
        return t.transpose(1, 0, 2).reshape(q, -1) @ s_f.reshape(-1, s_f.shape[-1])

    def coupling_range(self, c: int, omega: np.ndarray, s_by: np.ndarray, tol: float
                       ) -> np.ndarray | None:
        """Orthonormal basis of the range of :math:`A_{c,\\bar c}` sampled by the test
        currents *omega* (near clusters directly, far ones by the series); None when the
        samples do not exhaust it with room to spare (Halko et al. oversample by ~10: a
        thick conductor's pieces touch), and the cluster keeps every filament."""
        ids = self.clusters[c]
        y = np.zeros((ids.size, omega.shape[1]))
        for e in np.nonzero(self.near[c])[0]:
            if e != c:
                y += self.block(c, e) @ omega[self.clusters[e]]
        g = self.far_sum(c, s_by)
        if g is not None:
            y += self.scale * self.sq[ids, None] * (self.mom[c] @ g).real
        u, s, _ = np.linalg.svd(y, full_matrices=False)
        u = u[:, s > tol * s[0]] if s.size and s[0] > 0 else u[:, :0]
        return None if u.shape[1] > y.shape[1] - 16 else u

    def bases(self, w_top: float, tol: float, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Basis :math:`V_c` of every cluster (mirror images share theirs) and the number
        of even columns of each (clusters on the mirror line hold even, then odd ones)."""
        fil, sq, clusters = self.fil, self.sq, self.clusters
        nk = len(clusters)
        rng = np.random.default_rng(seed)
        omega = rng.standard_normal((fil.n, N_RANDOM))
        # coherent test currents: uniform over each cluster with a random weight
        lab = np.empty(fil.n, dtype=int)
        for c, ids in enumerate(clusters):
            lab[ids] = c
        omega = np.hstack([omega, rng.standard_normal((nk, N_RANDOM // 2))[lab]])
        s_by = np.stack([self.mom[e].T @ (sq[clusters[e], None] * omega[clusters[e]])
                         for e in range(nk)])
        bases: list[np.ndarray] = []
        n_even = np.zeros(nk, dtype=int)
        local_eig: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for c in progress.track(range(nk), f"reduced basis of {nk} clusters"):
            if self.partner[c] < c:            # the mirror image of a basis already built
                bases.append(bases[self.partner[c]])
                n_even[c] = n_even[self.partner[c]]
                continue
            ids = clusters[c]
            drive = sq[ids] / np.linalg.norm(sq[ids])
            rng_c = self.coupling_range(c, omega, s_by, tol)
            if rng_c is None:
                v, n_even[c] = self._compress(c, np.eye(ids.size), 0.0)
                bases.append(v)
                continue
            exc = np.column_stack([drive, rng_c])
            acc = self.block(c, c)
            key = acc.tobytes()
            if key not in local_eig:          # identical clusters (a bus's lines) share it
                local_eig[key] = np.linalg.eigh(acc)
            lam_c, q_c = local_eig[key]
            qe = q_c.T @ exc
            cols = [exc]
            for w in _local_frequencies(float(lam_c.max()), w_top):
                x = q_c @ (qe / (1.0 + 1j * w * lam_c)[:, None])
                cols += [x.real, x.imag]
            # each response at unit norm: at high frequency the currents are small (the
            # inductance limits them) but their shape (the skin layer) matters as much
            x = np.column_stack(cols)
            x /= np.maximum(np.linalg.norm(x, axis=0), 1e-300)
            v, n_even[c] = self._compress(c, x, tol)
            bases.append(v)
        return bases, n_even

    def _compress(self, c: int, x: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
        """Orthonormal basis of the columns of *x* to *tol*; for a cluster that is its own
        mirror, of their even and odd parts (even columns first). Returns it and the
        number of even columns."""
        if self.perm is None or self.partner[c] != c:
            u, s, _ = np.linalg.svd(x, full_matrices=False)
            v = u[:, s > tol * s[0]]
            return v, v.shape[1]
        ids = self.clusters[c]
        pos = np.empty(self.fil.n, dtype=int)
        pos[ids] = np.arange(ids.size)
        loc = pos[self.perm[ids]]
        u_e, s_e, _ = np.linalg.svd(x + x[loc], full_matrices=False)
        u_o, s_o, _ = np.linalg.svd(x - x[loc], full_matrices=False)
        top = max(s_e[0] if s_e.size else 0.0, s_o[0] if s_o.size else 0.0)
        v_e, v_o = u_e[:, s_e > tol * top], u_o[:, s_o > tol * top]
        return np.hstack([v_e, v_o]), v_e.shape[1]

    def operator(self, bases: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The reduced operator :math:`V^TAV` (K, K) and the offsets of the clusters'
        columns in it (nk + 1,)."""
        nk, order = len(self.clusters), self.order
        sizes = np.array([v.shape[1] for v in bases], dtype=int)
        off = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        kk = int(off[-1])
        progress.stage(f"reduced operator: {kk} unknowns for {self.fil.n} filaments")
        ar = np.zeros((kk, kk))
        k_max = int(sizes.max()) if nk else 0
        # V_c^T R_c^-1/2 M_c, zero-padded to k_max rows: (nk, k_max, p+1)
        q_mom = np.zeros((nk, k_max, order + 1), dtype=complex)
        for c in range(nk):
            q_mom[c, :sizes[c]] = bases[c].T @ (self.sq[self.clusters[c], None] * self.mom[c])
        for c in range(nk):
            rc = slice(off[c], off[c + 1])
            for e in np.nonzero(self.near[c])[0]:
                if e >= c:
                    ar[rc, off[e]:off[e + 1]] = bases[c].T @ self.block(c, e) @ bases[e]
            fl = self.far[c]
            fl = fl[fl > c]
            if fl.size == 0:
                continue
            qe = q_mom[fl]
            if self.d_img is not None:
                qe = np.concatenate([qe, -qe.conj()])
            # (f, K_c, k_max): V_c^T A_ce V_e for every far e, images folded in
            blk = np.matmul(q_mom[c, :sizes[c]][None], self.translations(c, fl))
            blk = self.scale * (blk @ qe.transpose(0, 2, 1)).real
            if self.d_img is not None:
                blk = blk[:fl.size] + blk[fl.size:]
            for n_f, e in enumerate(fl.tolist()):
                ar[rc, off[e]:off[e + 1]] = blk[n_f, :, :sizes[e]]
        # only the upper blocks were filled: A_r = U + U^T, the diagonal blocks once
        diag = [ar[off[c]:off[c + 1], off[c]:off[c + 1]].copy() for c in range(nk)]
        ar += ar.T
        for c in range(nk):
            ar[off[c]:off[c + 1], off[c]:off[c + 1]] = 0.5 * (diag[c] + diag[c].T)
        return ar, off


def _near_blocks(fil: Filaments, clusters: list[np.ndarray], near: np.ndarray,
                 ground_y: float | None, top_y: float | None) -> dict:
    """Mean ln distances of the near cluster pairs (c, e), e >= c, filament by filament.

    A pair whose filaments are a translate of a pair already computed (the lines of a bus:
    along x when a plane fixes y, any shift without planes) reuses its block: the kernel
    depends on the difference of positions only (and on y through the images).
    """
    extent = float(np.ptp(fil.centroid, axis=0).max()) or 1.0
    out: dict[tuple[int, int], np.ndarray] = {}
    seen: dict[tuple, np.ndarray] = {}
    fixed_y = ground_y is not None or top_y is not None
    nk = len(clusters)
    for c in progress.track(range(nk), f"near partial inductances of {nk} clusters "
                            f"({fil.n} filaments)"):
        rows = clusters[c]
        x0 = float(fil.centroid[rows, 0].min())
        y0 = 0.0 if fixed_y else float(fil.centroid[rows, 1].min())
        for e in np.nonzero(near[c])[0].tolist():
            if e < c:
                continue
            cols = clusters[e]
            both = np.concatenate([rows, cols])
            rel = fil.g[both]                    # a copy (fancy indexing)
            rect = fil.kind[both] == RECT
            rel[rect, :2] -= x0
            rel[rect, 2:4] -= y0
            rel[~rect, 0] -= x0
            rel[~rect, 1] -= y0
            key = (np.round(rel / extent, 11).tobytes(), fil.kind[both].tobytes(), rows.size,
                   e == c)
            hit = seen.get(key)
            if hit is None:
                hit = seen[key] = mean_log_distance(fil, ground_y, top_y=top_y, rows=rows,
                                                    cols=cols)
            out[(c, e)] = hit.copy()
    return out


def _vertical_mirror(fil: Filaments, ground_y: float | None) -> np.ndarray | None:
    """The filament permutation of a vertical mirror line of the mesh, or None."""
    from .peec import mesh_mirrors

    for axis, _, perm in mesh_mirrors(fil, ground_y):
        if axis == 0:
            return perm
    return None


def _mirror_split(ar: np.ndarray, off: np.ndarray, partner: np.ndarray, n_even: np.ndarray,
                  tol: float = 1e-9) -> tuple[np.ndarray, ...] | None:
    """Index sets (p, m, even on the line, odd on the line) of the reduced unknowns, if
    *ar* is invariant under the mirror (to *tol* of its largest entry); None otherwise."""
    p, m, fe, fo = [], [], [], []
    for c in range(partner.size):
        cols = np.arange(off[c], off[c + 1])
        if partner[c] == c:
            fe.append(cols[:n_even[c]])
            fo.append(cols[n_even[c]:])
        elif partner[c] > c:
            p.append(cols)
            m.append(np.arange(off[partner[c]], off[partner[c] + 1]))
    cat = [np.concatenate(v) if v else np.zeros(0, dtype=int) for v in (p, m, fe, fo)]
    p, m, fe, fo = cat
    image = np.arange(ar.shape[0])
    image[p], image[m] = m, p
    sign = np.ones(ar.shape[0])
    sign[fo] = -1.0
    amax = np.abs(ar).max()
    for b0 in range(0, ar.shape[0], 512):
        rows = slice(b0, b0 + 512)
        mirrored = ar[image[rows]][:, image] * sign[rows, None] * sign[None, :]
        if np.abs(mirrored - ar[rows]).max() > tol * amax:
            return None
    return p, m, fe, fo


def _eigh_even_odd(ar: np.ndarray, wr: np.ndarray, split) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues and :math:`Q^Tw` of the mirror-invariant *ar* from its even and odd
    blocks: with :math:`E = [(e_p+e_m)/\sqrt2,\ e_{f_e}]` and
    :math:`O = [(e_p-e_m)/\sqrt2,\ e_{f_o}]` (the mirror maps p to m, the even unknowns
    on the line to themselves and the odd ones to minus themselves), :math:`[E\ O]` is
    orthogonal and block-diagonalizes *ar*."""
    p, m, fe, fo = split
    r2 = math.sqrt(2.0)
    out_l, out_w = [], []
    for sgn, f in ((1.0, fe), (-1.0, fo)):
        k = p.size
        blk = np.empty((k + f.size,) * 2)
        blk[:k, :k] = 0.5 * (ar[np.ix_(p, p)] + ar[np.ix_(m, m)]
                             + sgn * (ar[np.ix_(p, m)] + ar[np.ix_(m, p)]))
        if f.size:
            pf = (ar[np.ix_(p, f)] + sgn * ar[np.ix_(m, f)]) / r2
            blk[:k, k:] = pf
            blk[k:, :k] = pf.T
            blk[k:, k:] = ar[np.ix_(f, f)]
        blk += blk.T
        blk *= 0.5
        wb = np.concatenate([(wr[p] + sgn * wr[m]) / r2, wr[f]])
        lam, q = np.linalg.eigh(blk)
        out_l.append(lam)
        out_w.append(q.T @ wb)
    return np.concatenate(out_l), np.concatenate(out_w)

