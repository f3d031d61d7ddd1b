"""Resistance and inductance per unit length by 2D partial-element equivalent circuits.

Every conductor is split into filaments -- rectangles, and annular sectors for round
conductors -- graded to the skin depth at the top frequency and to the distance from
other conductors. A filament carries a uniform current density; per unit length it has a
resistance :math:`1/(\\sigma A)` and partial inductances
:math:`L_{ij} = -\\frac{\\mu_0}{2\\pi}\\,\\overline{\\ln|\\mathbf r - \\mathbf r'|}_{ij}`, the mean
of the log distance over the two cross-sections (the constant that makes 2D partial
inductances finite cancels in every loop quantity). The means are exact where it matters:

* rectangle pairs: the closed-form fourth antiderivative of :math:`\\ln(x^2+y^2)`,
  :math:`\\Phi = \\frac{6x^2y^2 - x^4 - y^4}{24}\\ln(x^2+y^2) + \\frac{x^3y}{3}\\arctan\\frac{y}{x}
  + \\frac{xy^3}{3}\\arctan\\frac{x}{y} - \\frac{25}{24}x^2y^2`, summed over the corners
  (Hoer & Love, J. Res. NBS 69C, 1965);
* sectors of one round conductor: the expansion
  :math:`\\ln|\\mathbf r-\\mathbf r'| = \\ln r_> - \\sum_m \\frac1m (r_</r_>)^m\\cos m(\\theta-\\theta')`
  integrated term by term in closed form;
* other near pairs: Gauss-Legendre quadrature; far pairs: the centroid distance with the
  second-moment correction :math:`\\tfrac12\\operatorname{tr}(\\Sigma H)`, H the Hessian
  of :math:`\\ln r`.

At each frequency the filament currents follow from
:math:`(R + j\\omega L)\\,I = B\\,v` (every filament of a conductor sees its conductor's
voltage drop *v*), the conductor admittance is :math:`Y = B^T(R+j\\omega L)^{-1}B`, and the
loop impedance of the signals against the reference (all reference conductors joined, or
an infinite perfect ground plane by images) follows (Ruehli, IEEE Trans. MTT 22(3), 1974;
Weeks et al., IBM J. Res. Dev. 23(6), 1979). Between two infinite planes the kernel is the
parallel-plate Green's function (:func:`sigint.extract.bem.plates_remainder`).

Perfect conductors (``pec``) and zero-thickness strips have no filaments: their current
flows on boundary segments (the BEM's panels) with no resistance, and is eliminated exactly
(a Schur complement of the segment block), so that their admittance is
:math:`B_p^TL_{pp}^{-1}B_p/j\\omega`. For a line of perfect conductors only, L is then the
external inductance :math:`\\mu_0\\varepsilon_0C_0^{-1}` (REFERENCES.md E10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import progress
from ..threads import small_matrix_blas
from ..xsection.geometry import Conductor, Geometry
from ..xsection.materials import MU0, skin_depth

__all__ = ["Filaments", "mesh_filaments", "mean_log_distance", "PeecSolver", "phi4"]

RECT, SECTOR = 0, 1
REDUCED_MIN_FILAMENTS = 4000   # meshes at least this large use the reduced basis (auto)
REDUCED_MAX_THICKNESS = 10.0   # ... of conductors at most this many skin depths thick


def _reduce_pays(fil: Filaments, geo: Geometry, f_max: float) -> bool:
    """Whether ``auto`` solves on the reduced basis: a large mesh (at least
    :data:`REDUCED_MIN_FILAMENTS` filaments) under at most one image plane, of conductors
    no thicker (smaller side, or diameter) than :data:`REDUCED_MAX_THICKNESS` skin depths
    at *f_max* (Hz). Thick conductors need most of their basis: measured against the full
    solution at 100 GHz, the 16-signal substrate stripline (15 um traces, 70 skin depths)
    is within only 1.6e-3 in R, the thin lines of a silicon interposer bus within 1.3e-6."""
    if fil.n < REDUCED_MIN_FILAMENTS or geo.top_y is not None:
        return False
    if f_max <= 0:
        return True
    for c in geo.conductors:
        if c.round:
            side = c.r - c.r_in if c.kind == "ring" else 2 * c.r
        else:
            box = np.ptp(c.polygon(), axis=0)
            side = float(box.min())
        if side > REDUCED_MAX_THICKNESS * float(skin_depth(f_max, c.conductivity)):
            return False
    return True
NEAR = 4.0          # pairs closer than NEAR x (size_i + size_j) get exact/quadrature means
M_TERMS = 96        # terms of the polar series


@dataclass
class Filaments:
    """Filaments of all conductors.

    Attributes
    ----------
    kind : ndarray of int, shape (n,)
        0 rectangle (x0, x1, y0, y1), 1 annular sector (cx, cy, r0, r1, t0, t1).
    g : ndarray, shape (n, 6)
        Geometry parameters as above, m and rad.
    owner : ndarray of int, shape (n,)
        Conductor index.
    circle : ndarray of int, shape (n,)
        For sectors, an id shared by all sectors about one centre (concentric conductors
        included); -1 for rectangles.
    area, sigma : ndarray, shape (n,)
        Area (m^2) and conductivity (S/m).
    centroid : ndarray, shape (n, 2)
    cov : ndarray, shape (n, 2, 2)
        Second central moments / area (m^2).
    size : ndarray, shape (n,)
        Diameter of the filament (m).
    """

    kind: np.ndarray
    g: np.ndarray
    owner: np.ndarray
    circle: np.ndarray
    area: np.ndarray
    sigma: np.ndarray
    centroid: np.ndarray
    cov: np.ndarray
    size: np.ndarray

    @property
    def n(self) -> int:
        return self.kind.size


# ----------------------------------------------------------------------------- meshing
def _graded_1d(a: float, b: float, first, growth: float, h_of=None, grade=(True, True),
               h_cap: float | None = None) -> np.ndarray:
    """Break points on [a, b]: cells of *first* (one size, or one per end) at graded ends
    growing by *growth*, and no larger than ``h_of(x)`` (proximity) or *h_cap*."""
    w = b - a
    if w <= 0:
        return np.array([a, b])
    f0, f1 = (first, first) if np.ndim(first) == 0 else first
    first = min(f0, f1)
    # samples: uniform, plus geometric clusters at graded ends where the size is smallest
    rel = min(first / w, 0.5)
    geo = rel * 1.2 ** np.arange(int(math.log(0.5 / rel) / math.log(1.2)) + 2) if rel < 0.5 else np.array([])
    u = np.linspace(0.0, 1.0, 161)
    parts = [u]
    if grade[0]:
        parts.append(geo)
    if grade[1]:
        parts.append(1.0 - geo)
    xs = a + w * np.unique(np.clip(np.concatenate(parts), 0.0, 1.0))
    h = np.full(xs.shape, np.inf)
    if grade[0]:
        h = np.minimum(h, f0 + (growth - 1.0) * (xs - a))
    if grade[1]:
        h = np.minimum(h, f1 + (growth - 1.0) * (b - xs))
    if h_of is not None:
        h = np.minimum(h, h_of(xs))
    if h_cap is not None:
        h = np.minimum(h, h_cap)
    h = np.maximum(h, first * 0.5)
    dens = 1.0 / h
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(xs))])
    n = max(1, int(math.ceil(cum[-1] - 1e-9)))
    return np.interp(np.linspace(0, cum[-1], n + 1), cum, xs)


def _dist_to_others(pts: np.ndarray, others: list[Conductor]) -> np.ndarray:
    from .bem import dist_to_shapes

    if not others:
        return np.full(pts.shape[0], np.inf)
    return dist_to_shapes(pts, others)


FACE_MAX = 8.0   # a surface far from every other conductor is graded at most this coarser


def _face_factor(pts: np.ndarray, others, d_near: float) -> float:
    """How much coarser the skin grading may start at a surface point: its distance to the
    nearest other conductor over the conductor's closest approach, between 1 and FACE_MAX.

    High-frequency current crowds on faces that look at other conductors; faces far from
    them (a plane's far ends, its back) carry a small part of it (Wheeler's incremental
    inductance rule: the current follows the field at the surface).
    """
    if not others or not np.isfinite(d_near) or d_near <= 0:
        return 1.0
    d = float(_dist_to_others(pts, others).min())
    return float(np.clip(d / d_near, 1.0, FACE_MAX))


def _rect_filaments(c: Conductor, first: float, growth: float, others, kp: float):
    """Rectangle (or trapezoid as a staircase) filaments: list of (x0, x1, y0, y1)."""
    h = c.y1 - c.y0
    if h <= 0:
        raise ValueError(f"conductor {c.name!r} has no thickness; a zero-thickness strip has no "
                         "resistance or internal inductance -- give it a height for R and L")

    def h_of_y(ys):
        pts = np.stack([np.full(ys.shape, 0.5 * (c.x0 + c.x1)), ys], axis=1)
        return kp * np.maximum(_dist_to_others(pts, others), first)

    # closest approach of this conductor to any other (sampled along its outline)
    outline = np.concatenate([np.stack([np.linspace(c.x0, c.x1, 41), np.full(41, c.y0)], 1),
                              np.stack([np.linspace(c.xt0 if c.kind == "trap" else c.x0,
                                                    c.xt1 if c.kind == "trap" else c.x1, 41),
                                        np.full(41, c.y1)], 1),
                              np.stack([np.full(21, c.x0), np.linspace(c.y0, c.y1, 21)], 1),
                              np.stack([np.full(21, c.x1), np.linspace(c.y0, c.y1, 21)], 1)])
    d_near = float(_dist_to_others(outline, others).min()) if others else np.inf
    fb = first * _face_factor(outline[:41], others, d_near)
    ft = first * _face_factor(outline[41:82], others, d_near)
    ys = _graded_1d(c.y0, c.y1, (fb, ft), growth, h_of=h_of_y if others else None)
    out = []
    for y0, y1 in zip(ys[:-1], ys[1:]):
        ym = 0.5 * (y0 + y1)
        if c.kind == "trap":
            t = (ym - c.y0) / h
            xa, xb = c.x0 + t * (c.xt0 - c.x0), c.x1 + t * (c.xt1 - c.x1)
        else:
            xa, xb = c.x0, c.x1

        def h_of_x(xs, y0=y0, y1=y1):
            pt = np.stack([np.concatenate([xs, xs]), np.concatenate([np.full(xs.shape, y0),
                                                                      np.full(xs.shape, y1)])], 1)
            d = _dist_to_others(pt, others).reshape(2, -1).min(axis=0)
            return kp * np.maximum(d, first)

        fl = first * _face_factor(np.array([[xa, ym]]), others, d_near)
        fr = first * _face_factor(np.array([[xb, ym]]), others, d_near)
        xs = _graded_1d(xa, xb, (fl, fr), growth, h_of=h_of_x if others else None)
        out += [(x0, x1, y0, y1) for x0, x1 in zip(xs[:-1], xs[1:])]
    return out


def _round_filaments(c: Conductor, first: float, growth: float, n_theta: int):
    """Annular sectors (r0, r1, t0, t1) of a circle or ring."""
    r_in = c.r_in if c.kind == "ring" else 0.0
    grade = (c.kind == "ring", True)
    rs = _graded_1d(r_in, c.r, first, growth, grade=grade)
    out = []
    for r0, r1 in zip(rs[:-1], rs[1:]):
        nt = 1 if r0 == 0 else n_theta      # the central disk is one filament
        ts = np.linspace(0.0, 2 * math.pi, nt + 1)
        out += [(r0, r1, t0, t1) for t0, t1 in zip(ts[:-1], ts[1:])]
    return out


_GL = {n: np.polynomial.legendre.leggauss(n) for n in range(2, 10)}


def _turn_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Angular nodes and weights, on the [-1, 1] scale of :data:`_GL`, of a sector that
    is a full turn (a central disk): n equally spaced angles from the top, equal weights
    (the trapezoidal rule, exponentially convergent for periodic integrands: Trefethen &
    Weideman, SIAM Review 56(3), 2014). Mirror-symmetric in the vertical line through the
    centre (and in the horizontal one for even n), which Gauss nodes over a turn are not:
    with them a disk's centroid lies ~1e-3 of its radius off its centre and the mesh's
    mirror lines are missed (:func:`mesh_mirrors`). Used for the filaments' moments
    (:func:`mesh_filaments`); the kernel quadrature keeps the Gauss nodes of the device
    kernels."""
    return -0.5 + 2.0 * np.arange(n) / n, np.full(n, 2.0 / n)


def _is_turn(t0, t1):
    return np.asarray(t1) - np.asarray(t0) >= 2 * math.pi * (1 - 1e-12)


def _quad_points(kind: int, g: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss points (n*n, 2) and weights summing to the area, of one filament (a full
    turn's angles by :func:`_turn_rule`)."""
    t, w = _GL[n]
    if kind == RECT:
        x0, x1, y0, y1 = g[:4]
        xs = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * t
        ys = 0.5 * (y0 + y1) + 0.5 * (y1 - y0) * t
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        W = np.outer(w, w) * 0.25 * (x1 - x0) * (y1 - y0)
        return np.stack([X.ravel(), Y.ravel()], 1), W.ravel()
    cx, cy, r0, r1, t0, t1 = g
    ta, wa = _turn_rule(n) if _is_turn(t0, t1) else (t, w)
    rr = 0.5 * (r0 + r1) + 0.5 * (r1 - r0) * t
    tt = 0.5 * (t0 + t1) + 0.5 * (t1 - t0) * ta
    R, T = np.meshgrid(rr, tt, indexing="ij")
    W = np.outer(w * rr, wa) * 0.25 * (r1 - r0) * (t1 - t0)
    return np.stack([(cx + R * np.cos(T)).ravel(), (cy + R * np.sin(T)).ravel()], 1), W.ravel()


PERFECT_SIGMA = 1e12   # S/m: at and above it a conductor is perfect (``pec``)


def is_perfect(c: Conductor) -> bool:
    """Whether *c* carries a surface current only: a perfect conductor (conductivity of
    at least :data:`PERFECT_SIGMA`, skin depth taken as zero) or a zero-thickness strip (a
    sheet: it has no cross-section to lose power in)."""
    return c.conductivity >= PERFECT_SIGMA or (c.kind == "rect" and c.y1 == c.y0)


def mesh_filaments(geo: Geometry, f_max: float, refine: float = 1.0) -> Filaments:
    """Filaments of every conductor of *geo*, graded to the skin depth at *f_max* (Hz).

    Perfect conductors and zero-thickness strips (:func:`is_perfect`) get none: they carry
    surface currents on boundary segments (:class:`PeecSolver`)."""
    m = geo.mesh
    ref = refine * m.refine
    kinds, gs, owners, circles, sig = [], [], [], [], []
    n_theta = m.sectors or max(8, int(round(32 * ref)))
    kp = 0.5 / ref
    centres: dict[tuple[float, float], int] = {}   # concentric conductors share the series
    for k, c in enumerate(geo.conductors):
        if is_perfect(c):
            continue
        delta = float(skin_depth(f_max, c.conductivity)) if f_max > 0 else np.inf
        first = min(m.skin_fraction * delta / ref, c.size / 4)
        growth = 1 + (m.growth - 1) / max(ref, 1e-9) ** 0.5
        others = [o for o in geo.conductors if o is not c]
        if c.round:
            cid = centres.setdefault((c.cx, c.cy), len(centres))
            for r0, r1, t0, t1 in _round_filaments(c, first, growth, n_theta):
                kinds.append(SECTOR)
                gs.append((c.cx, c.cy, r0, r1, t0, t1))
                owners.append(k)
                circles.append(cid)
                sig.append(c.conductivity)
        else:
            for x0, x1, y0, y1 in _rect_filaments(c, first, growth, others, kp):
                kinds.append(RECT)
                gs.append((x0, x1, y0, y1, 0.0, 0.0))
                owners.append(k)
                circles.append(-1)
                sig.append(c.conductivity)
    kind = np.array(kinds, dtype=int)
    g = np.array(gs, dtype=float).reshape(-1, 6)
    # moments from 4 x 4 Gauss points, all filaments at once (exact for a rectangle's area,
    # centroid and covariance, and for a sector's area)
    shell = Filaments(kind, g, *([None] * 7))
    pts, w = _all_quad_points(shell, 4)
    # a full turn (a central disk) by equally spaced angles (:func:`_quad_points`): its
    # centroid is its centre and its moments are mirror-symmetric
    for i in np.flatnonzero((kind == SECTOR) & _is_turn(g[:, 4], g[:, 5])):
        pts[i], w[i] = _quad_points(kind[i], g[i], 4)
    area = w.sum(axis=1)
    cen = np.einsum("fq,fqk->fk", w, pts) / area[:, None]
    d = pts - cen[:, None, :]
    cov = np.einsum("fq,fqk,fql->fkl", w, d, d) / area[:, None, None]
    rect = kind == RECT
    r0, r1, t0, t1 = g[:, 2], g[:, 3], g[:, 4], g[:, 5]
    size = np.where(rect, np.hypot(g[:, 1] - g[:, 0], g[:, 3] - g[:, 2]),
                    np.where(r0 > 0, np.maximum(r1 - r0, r1 * (t1 - t0)), 2 * r1))
    return Filaments(kind, g, np.array(owners, dtype=int), np.array(circles, dtype=int), area,
                     np.array(sig, dtype=float), cen, cov, size)


# ----------------------------------------------------------------------------- kernels
def phi4(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fourth antiderivative :math:`\\Phi` with :math:`\\partial_x^2\\partial_y^2\\Phi = \\ln(x^2+y^2)`."""
    x2, y2 = x * x, y * y
    r2 = x2 + y2
    lg = np.log(np.where(r2 > 0, r2, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(x != 0, x ** 3 * y * np.arctan(y / np.where(x != 0, x, 1.0)), 0.0)
        t2 = np.where(y != 0, x * y ** 3 * np.arctan(x / np.where(y != 0, y, 1.0)), 0.0)
    return (6 * x2 * y2 - x2 * x2 - y2 * y2) / 24.0 * lg + t1 / 3 + t2 / 3 - 25.0 / 24.0 * x2 * y2


def _rect_pair(gi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    """Exact mean of ln|r - r'| between axis-aligned rectangles (rows of gi, gj)."""
    xi = [gi[:, 0], gi[:, 1]]
    yi = [gi[:, 2], gi[:, 3]]
    xj = [gj[:, 0], gj[:, 1]]
    yj = [gj[:, 2], gj[:, 3]]
    tot = np.zeros(gi.shape[0])
    for a in (0, 1):
        for c in (0, 1):
            sx = 1.0 if a != c else -1.0
            for b in (0, 1):
                for d in (0, 1):
                    sy = 1.0 if b != d else -1.0
                    tot += sx * sy * phi4(xi[a] - xj[c], yi[b] - yj[d])
    ai = (gi[:, 1] - gi[:, 0]) * (gi[:, 3] - gi[:, 2])
    aj = (gj[:, 1] - gj[:, 0]) * (gj[:, 3] - gj[:, 2])
    return 0.5 * tot / (ai * aj)


def _plogp(x, p):
    """x**p * ln(x) with 0 at x = 0 (:func:`scipy.special.xlogy`)."""
    from scipy.special import xlogy

    x = np.asarray(x, dtype=float)
    return xlogy(x ** p, x)


def _sector_pair(gi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    """Exact (series) mean of ln|r - r'| between sectors about one centre.

    Radial ranges must be equal or disjoint (as the mesher makes them).
    """
    a1, a2, al1, al2 = gi[:, 2], gi[:, 3], gi[:, 4], gi[:, 5]
    b1, b2, be1, be2 = gj[:, 2], gj[:, 3], gj[:, 4], gj[:, 5]
    same = np.isclose(a1, b1) & np.isclose(a2, b2)
    inner_i = a2 <= b1 * (1 + 1e-12)                     # i entirely inside j
    # order radially: (p1, p2) inner, (q1, q2) outer for disjoint pairs
    p1, p2 = np.where(inner_i, a1, b1), np.where(inner_i, a2, b2)
    q1, q2 = np.where(inner_i, b1, a1), np.where(inner_i, b2, a2)
    ai = 0.5 * (a2 ** 2 - a1 ** 2) * (al2 - al1)
    aj = 0.5 * (b2 ** 2 - b1 ** 2) * (be2 - be1)

    def prim_rlnr(x):       # integral of rho ln rho
        return 0.5 * _plogp(x, 2) - 0.25 * x * x

    def prim_r3lnr(x):      # integral of rho^3 ln rho
        return 0.25 * _plogp(x, 4) - x ** 4 / 16.0

    r0_dis = 0.5 * (p2 ** 2 - p1 ** 2) * (prim_rlnr(q2) - prim_rlnr(q1))
    r0_same = (prim_r3lnr(a2) - prim_r3lnr(a1)) - a1 ** 2 * (prim_rlnr(a2) - prim_rlnr(a1))
    r0 = np.where(same, r0_same, r0_dis)
    theta0 = (al2 - al1) * (be2 - be1)
    total = theta0 * r0
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in range(1, M_TERMS + 1):
            th = (-np.cos(m * (al2 - be1)) + np.cos(m * (al1 - be1)) + np.cos(m * (al2 - be2))
                  - np.cos(m * (al1 - be2))) / (m * m)
            # radial integrals written through ratios (p/q)^m <= 1: no overflow at large m
            if m == 2:
                rm_dis = (p2 ** 4 - p1 ** 4) / 4.0 * np.log(q2 / q1)
                tail = np.where(a1 > 0, a1 ** 4 * np.log(a2 / np.where(a1 > 0, a1, 1.0)), 0.0)
            else:
                def term(p, q, m=m):
                    return np.where(q > 0, (p / np.where(q > 0, q, 1.0)) ** m * p * p * q * q, 0.0)
                rm_dis = (term(p2, q2) - term(p2, q1) - term(p1, q2) + term(p1, q1)) / ((m + 2) * (2 - m))
                tail = np.where(a1 > 0, (term(a1, a2) - a1 ** 4) / (2 - m), 0.0)
            rm_same = 2.0 / (m + 2) * ((a2 ** 4 - a1 ** 4) / 4.0 - tail)
            rm = np.where(same, rm_same, rm_dis)
            total = total - th * rm / m
    return total / (ai * aj)


def _all_quad_points(fil: Filaments, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss points (n_fil, n*n, 2) and weights (n_fil, n*n) of every filament, vectorized."""
    t, w = _GL[n]
    g = fil.g
    nf = fil.n
    pts = np.empty((nf, n * n, 2))
    wts = np.empty((nf, n * n))
    rect = fil.kind == RECT
    if rect.any():
        x0, x1, y0, y1 = g[rect, 0], g[rect, 1], g[rect, 2], g[rect, 3]
        xs = 0.5 * (x0 + x1)[:, None] + 0.5 * (x1 - x0)[:, None] * t[None]
        ys = 0.5 * (y0 + y1)[:, None] + 0.5 * (y1 - y0)[:, None] * t[None]
        pts[rect, :, 0] = np.repeat(xs, n, axis=1)
        pts[rect, :, 1] = np.tile(ys, (1, n))
        wts[rect] = (np.outer(w, w).ravel()[None] * (0.25 * (x1 - x0) * (y1 - y0))[:, None])
    sec = ~rect
    if sec.any():
        cx, cy, r0, r1, t0, t1 = (g[sec, k] for k in range(6))
        rr = 0.5 * (r0 + r1)[:, None] + 0.5 * (r1 - r0)[:, None] * t[None]
        tt = 0.5 * (t0 + t1)[:, None] + 0.5 * (t1 - t0)[:, None] * t[None]
        R = np.repeat(rr, n, axis=1)
        T = np.tile(tt, (1, n))
        pts[sec, :, 0] = cx[:, None] + R * np.cos(T)
        pts[sec, :, 1] = cy[:, None] + R * np.sin(T)
        wr = (w[None] * rr)                                          # (ns, n)
        wts[sec] = (np.repeat(wr, n, axis=1) * np.tile(w, n)[None]
                    * (0.25 * (r1 - r0) * (t1 - t0))[:, None])
    return pts, wts


def _quad_pair(fil: Filaments, i: np.ndarray, j: np.ndarray, n: int = 6,
               mirror_y: float | None = None) -> np.ndarray:
    """Mean ln distance by tensor Gauss quadrature (n and n+1 points, never coincident),
    vectorized over pairs in chunks; *mirror_y* mirrors the second filament of each pair."""
    pi_all, wi_all = _all_quad_points(fil, n)
    pj_all, wj_all = _all_quad_points(fil, n + 1)
    out = np.empty(i.size)
    chunk = max(1, 2_000_000 // (n * n * (n + 1) * (n + 1)))
    for c0 in range(0, i.size, chunk):
        ii, jj = i[c0:c0 + chunk], j[c0:c0 + chunk]
        pi, wi = pi_all[ii], wi_all[ii]
        pj, wj = pj_all[jj].copy(), wj_all[jj]
        if mirror_y is not None:
            pj[..., 1] = 2 * mirror_y - pj[..., 1]
        d = pi[:, :, None, :] - pj[:, None, :, :]
        r2 = (d * d).sum(-1)
        ww = wi[:, :, None] * wj[:, None, :]
        out[c0:c0 + chunk] = 0.5 * (ww * np.log(r2)).sum(axis=(1, 2)) / (wi.sum(1) * wj.sum(1))
    return out


def _far_mean_log(dx: np.ndarray, dy: np.ndarray, r2: np.ndarray, si: tuple, sj: tuple
                  ) -> np.ndarray:
    """Mean of :math:`\\ln r` between two far filaments from their centroid offset and moments.

    A second-order expansion about the centroid offset :math:`d = (dx, dy)`,
    :math:`r^2 = |d|^2`: :math:`\\ln|d| + \\tfrac12\\operatorname{tr}((\\Sigma_i + \\Sigma_j) H)`
    with :math:`H = \\begin{bmatrix}dy^2-dx^2 & -2dx\\,dy\\\\ -2dx\\,dy & dx^2-dy^2\\end{bmatrix}/r^4`
    the Hessian of :math:`\\ln r` (first moments vanish about the centroids). *si* and *sj*
    are the filaments' second central moments per area ``(xx, yy, xy)``, m^2, broadcasting
    against *dx*.
    """
    a_xx, a_yy, a_xy = si[0] + sj[0], si[1] + sj[1], si[2] + sj[2]
    corr = 0.5 * ((a_xx - a_yy) * (dy * dy - dx * dx) - 4 * a_xy * dx * dy) / (r2 * r2)
    return 0.5 * np.log(r2) + corr


def mean_log_distance(fil: Filaments, image_y: float | None = None, block: int = 512,
                      top_y: float | None = None, rows: np.ndarray | None = None,
                      cols: np.ndarray | None = None) -> np.ndarray:
    """Matrix of mean ln distances between filaments (n, n); with an image plane at
    ``image_y`` the image term (opposite current) is subtracted. With a second plane at
    ``top_y`` the kernel is the parallel-plate Green's function
    (:func:`sigint.extract.bem.plates_remainder`): both mirror images exactly, the smooth
    rest from the centroid of one filament and 2 x 2 Gauss points of the other.

    Far pairs use the centroid distance and the second-moment correction, computed by row
    blocks; near pairs (closer than ``NEAR`` times their summed sizes) the exact means.
    With *rows* (filament indices, shape (r,)) only those rows are computed, shape (r, n):
    the same entries as the full matrix (a mirror-symmetric mesh needs only half of them);
    with *cols* as well only those columns, shape (r, k). (The full matrix computes each
    near pair once and mirrors it: where the pair is done by quadrature -- sectors of
    different circles -- the two orders differ by the quadrature error, ~1e-6 relative.)
    """
    n = fil.n
    if n == 0:
        return np.zeros((0, 0))
    full = rows is None and cols is None
    rix = np.arange(n) if rows is None else np.asarray(rows, dtype=int)
    cix = np.arange(n) if cols is None else np.asarray(cols, dtype=int)
    nr = rix.size
    c = fil.centroid
    sxx, syy, sxy = fil.cov[:, 0, 0], fil.cov[:, 1, 1], fil.cov[:, 0, 1]
    out = np.empty((nr, cix.size))
    near_i, near_j = [], []
    label = (f"partial inductances of {n} filaments" if full
             else f"partial inductances, {nr} x {cix.size} filaments")
    for b0 in progress.track(range(0, nr, block), label):
        b1 = min(nr, b0 + block)
        r = rix[b0:b1]
        dx = c[r, 0, None] - c[None, cix, 0]
        dy = c[r, 1, None] - c[None, cix, 1]
        r2 = dx * dx + dy * dy
        far_ok = r2 > 0
        r2s = np.where(far_ok, r2, 1.0)
        out[b0:b1] = _far_mean_log(dx, dy, r2s, (sxx[r, None], syy[r, None], sxy[r, None]),
                                   (sxx[None, cix], syy[None, cix], sxy[None, cix]))
        lim = NEAR * (fil.size[r, None] + fil.size[None, cix])
        # pairs on different conductors are kept apart by a gap: the far formula's
        # second-moment error is then small already at half the distance
        lim = np.where(fil.owner[r, None] == fil.owner[None, cix], lim, 0.5 * lim)
        near = r2 < lim * lim
        if full:        # each near pair once, mirrored below
            near &= r[:, None] <= np.arange(n)[None, :]
        ii, jj = np.nonzero(near)
        near_i.append(ii + b0)
        near_j.append(jj)
    ii = np.concatenate(near_i)         # local row index
    jl = np.concatenate(near_j)         # local column index
    jj = cix[jl]
    gi = rix[ii]
    m = np.empty(ii.size)
    ki, kj = fil.kind[gi], fil.kind[jj]
    rr = (ki == RECT) & (kj == RECT)
    if rr.any():
        m[rr] = _rect_pair(fil.g[gi[rr]], fil.g[jj[rr]])
    ss = (ki == SECTOR) & (kj == SECTOR) & (fil.circle[gi] == fil.circle[jj])
    if ss.any():
        m[ss] = _sector_pair(fil.g[gi[ss]], fil.g[jj[ss]])
    other = ~rr & ~ss
    if other.any():
        m[other] = _quad_pair(fil, gi[other], jj[other])
    out[ii, jl] = m
    if full:
        out[jj, ii] = m
    if image_y is not None:
        out -= _image_matrix(fil, image_y, rows=rows, cols=cols)
    if top_y is not None:
        out -= _image_matrix(fil, top_y, rows=rows, cols=cols)
        out += _plates_matrix(fil, image_y, top_y - image_y, rows=rows, cols=cols)
    return out


def _plates_matrix(fil: Filaments, y0: float, gap: float, block: int = 256,
                   rows: np.ndarray | None = None, cols: np.ndarray | None = None
                   ) -> np.ndarray:
    """Mean over filament pairs of the smooth remainder of the two-plane kernel (rows
    *rows* and columns *cols* of it, all if None)."""
    from .bem import plates_remainder

    # the centroid on one side, 2 x 2 Gauss points on the other: never coincident (the
    # remainder subtracts the free-space log, singular where two points meet); the
    # remainder varies on the scale of the plane spacing, filaments are much smaller
    pts = fil.centroid
    qts, vts = _all_quad_points(fil, 2)
    vn = vts / vts.sum(axis=1, keepdims=True)
    n = fil.n
    rix = np.arange(n) if rows is None else np.asarray(rows, dtype=int)
    cix = np.arange(n) if cols is None else np.asarray(cols, dtype=int)
    out = np.empty((rix.size, cix.size))

    def k_mean(t, q, v):            # centroids t (a, 2) against quad points q (b, 4, 2)
        k, _, _ = plates_remainder(t[:, None, None, 0], t[:, None, None, 1],
                                   q[None, :, :, 0], q[None, :, :, 1], y0, gap)
        return np.einsum("abj,bj->ab", k, v)

    for b0 in range(0, rix.size, block):
        b1 = min(rix.size, b0 + block)
        r = rix[b0:b1]
        # symmetrised: (K_ij + K_ji) / 2
        out[b0:b1] = 0.5 * (k_mean(pts[r], qts[cix], vn[cix])
                            + k_mean(pts[cix], qts[r], vn[r]).T)
    return out


def _image_matrix(fil: Filaments, y0: float, block: int = 512,
                  rows: np.ndarray | None = None, cols: np.ndarray | None = None
                  ) -> np.ndarray:
    """Mean ln distance from each filament to the mirror image (in y = y0) of every other.

    Computed by row blocks: centroid distance with the second-moment correction, exact for
    rectangle pairs near the plane (the image of a rectangle is a rectangle), quadrature
    for other near pairs. With *rows* (and *cols*), only those rows (and columns), shape
    (r, n) (or (r, k)).
    """
    n = fil.n
    rix = np.arange(n) if rows is None else np.asarray(rows, dtype=int)
    cix = np.arange(n) if cols is None else np.asarray(cols, dtype=int)
    c = fil.centroid
    ci_y = 2 * y0 - c[cix, 1]
    cov = fil.cov[cix]
    sxx, syy, sxy = cov[:, 0, 0], cov[:, 1, 1], -cov[:, 0, 1]   # mirrored xy
    out = np.empty((rix.size, cix.size))
    near_a, near_b = [], []
    for b0 in progress.track(range(0, rix.size, block),
                             f"images, {rix.size} x {cix.size} filaments"):
        b1 = min(rix.size, b0 + block)
        r = rix[b0:b1]
        dx = c[r, 0, None] - c[None, cix, 0]
        dy = c[r, 1, None] - ci_y[None, :]
        r2 = dx * dx + dy * dy
        out[b0:b1] = _far_mean_log(dx, dy, r2, (fil.cov[r, 0, 0, None], fil.cov[r, 1, 1, None],
                                                fil.cov[r, 0, 1, None]),
                                   (sxx[None, :], syy[None, :], sxy[None, :]))
        lim = NEAR * (fil.size[r, None] + fil.size[None, cix])
        a, b = np.nonzero(r2 < lim * lim)
        near_a.append(a + b0)
        near_b.append(b)
    a = np.concatenate(near_a)
    bl = np.concatenate(near_b)          # local column index
    b = cix[bl]
    if a.size:
        ga = rix[a]
        rr = (fil.kind[ga] == RECT) & (fil.kind[b] == RECT)
        if rr.any():
            gj = fil.g[b[rr]].copy()
            gj[:, 2], gj[:, 3] = 2 * y0 - fil.g[b[rr], 3], 2 * y0 - fil.g[b[rr], 2]
            out[a[rr], bl[rr]] = _rect_pair(fil.g[ga[rr]], gj)
        if (~rr).any():
            out[a[~rr], bl[~rr]] = _quad_pair(fil, ga[~rr], b[~rr], mirror_y=y0)
    return out


def _segment_mean_log(pts: np.ndarray, a: np.ndarray, b: np.ndarray,
                      planes: list[float], plates: tuple[float, float] | None) -> np.ndarray:
    """(1/L_j) int_j ln|x - r'| ds' at points (M, 2) for segments j, minus the images in
    *planes*, plus the smooth two-plane remainder; shape (M, P)."""
    from .bem import plates_remainder, potential_kernel

    length = np.linalg.norm(b - a, axis=1)
    out = -2 * math.pi * potential_kernel(pts, a, b) / length[None]
    for yp in planes:
        ai, bi = a.copy(), b.copy()
        ai[:, 1], bi[:, 1] = 2 * yp - a[:, 1], 2 * yp - b[:, 1]
        out += 2 * math.pi * potential_kernel(pts, ai, bi) / length[None]
    if plates is not None:
        gx, gw = np.polynomial.legendre.leggauss(6)
        for t, w in zip(gx, gw):
            src = a + 0.5 * (1 + t) * (b - a)
            k, _, _ = plates_remainder(pts[:, 0, None], pts[:, 1, None], src[None, :, 0],
                                       src[None, :, 1], plates[0], plates[1])
            out += 0.5 * w * k
    return out


def sheet_matrices(fil: Filaments, a: np.ndarray, b: np.ndarray, planes: list[float],
                   plates: tuple[float, float] | None, n_gauss: int = 8
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Mean ln distances of surface-current segments (a_j -> b_j) with each other
    (Galerkin: Gauss points on one segment, the other in closed form; symmetrised) and with
    the filaments (Gauss points of the filament), shapes (P, P) and (n, P)."""
    gx, gw = np.polynomial.legendre.leggauss(n_gauss)
    p = a.shape[0]
    pts = (a[:, None, :] + 0.5 * (1 + gx)[None, :, None] * (b - a)[:, None, :]).reshape(-1, 2)
    m = _segment_mean_log(pts, a, b, planes, plates).reshape(p, n_gauss, p)
    mpp = 0.5 * np.einsum("igj,g->ij", m, gw)
    mpp = 0.5 * (mpp + mpp.T)
    mfp = np.zeros((fil.n, p))
    if fil.n:
        qp, qw = _all_quad_points(fil, 4)
        qw = qw / qw.sum(axis=1, keepdims=True)
        for c0 in range(0, fil.n, 256):
            c1 = min(fil.n, c0 + 256)
            mm = _segment_mean_log(qp[c0:c1].reshape(-1, 2), a, b, planes, plates)
            mfp[c0:c1] = np.einsum("fqj,fq->fj", mm.reshape(c1 - c0, -1, p), qw[c0:c1])
    return mpp, mfp


# ----------------------------------------------------------------------------- solver
class PeecSolver:
    """Filament mesh, partial inductances and their modal decomposition, built once.

    With :math:`R` diagonal, :math:`R^{-1/2} L R^{-1/2} = Q\\Lambda Q^T` (one real symmetric
    eigendecomposition) gives, at every frequency at the cost of a small matrix product,

    .. math:: B^T (R + j\\omega L)^{-1} B = W^T (I + j\\omega\\Lambda)^{-1} W,\\qquad
              W = Q^T R^{-1/2} B,

    so R(f) and L(f) are exact at each requested frequency (no interpolation), and the DC
    inductance follows from the first-order term.

    Parameters
    ----------
    geo : Geometry
        The cross-section.
    f_max : float
        Highest frequency to resolve (the skin depth there sets the finest filaments), Hz.
    refine : float
        Refinement factor on top of the file's ``mesh.refine``.
    """

    unknowns_what = "filaments"   # what :attr:`unknowns` counts, for reports

    def __init__(self, geo: Geometry, f_max: float, refine: float = 1.0, *, xp=np,
                 method: str = "auto"):
        if method not in ("auto", "full", "reduced"):
            raise ValueError(f"method must be 'auto', 'full' or 'reduced', not {method!r}")
        self.geo = geo
        self.reduced: dict | None = None
        self.xp = xp
        self.fil = mesh_filaments(geo, f_max, refine)
        fil = self.fil
        self.ground = geo.ground_y
        self.r = 1.0 / (fil.sigma * fil.area)
        ns = len(geo.signals)
        self.n_signal = ns
        n_c = len(geo.conductors)
        # columns: each conductor on its own (for partial impedances)
        b_all = np.zeros((fil.n, n_c))
        b_all[np.arange(fil.n), fil.owner] = 1.0
        # Perfect conductors and sheets: surface-current segments with no resistance,
        # eliminated exactly (Schur complement). With S = L_pp^-1,
        #   Y = B_p^T S B_p / (j w) + Bt^T (R + j w Lt)^-1 Bt,
        #   Lt = L_ff - L_fp S L_pf,  Bt = B_f - L_fp S B_p.
        self.y_perfect = np.zeros((n_c, n_c))
        self.sheets = None
        perfect = [k for k, c in enumerate(geo.conductors) if is_perfect(c)]
        sq = 1.0 / np.sqrt(self.r)
        self.mirrors = 0
        if not perfect and (method == "reduced" or (
                method == "auto" and xp is np and _reduce_pays(fil, geo, f_max))):
            from .reduced import reduced_modes

            self.mirror = False
            self.lam, self.w_all, self.reduced = reduced_modes(
                fil, self.ground, geo.top_y, sq, sq[:, None] * b_all, 2 * math.pi * f_max)
            return
        if not perfect:
            # a mesh symmetric under one or two mirror lines: only the rows of one half are
            # assembled, and the eigendecomposition splits into two or four blocks
            mirrors = mesh_mirrors(fil, self.ground)
            if mirrors:
                got = _symmetric_decomposition(fil, self.ground, geo.top_y, sq, sq[:, None] * b_all,
                                               mirrors, xp)
                if got is not None:
                    self.lam, self.w_all, self.mirrors = got
                    self.mirror = True
                    return
        lmat = mean_log_distance(fil, self.ground, top_y=geo.top_y)
        lmat *= -MU0 / (2 * math.pi)
        if perfect:
            from .bem import _Mesher

            segs = [sg for sg in _Mesher(geo, refine).conductor_panels() if sg[2] in perfect]
            sa = np.array([sg[0] for sg in segs])
            sb = np.array([sg[1] for sg in segs])
            sown = np.array([sg[2] for sg in segs])
            self.sheets = (sa, sb, sown)
            planes = [y for y in (self.ground, geo.top_y) if y is not None]
            plates = (self.ground, geo.top_y - self.ground) if geo.top_y is not None else None
            mpp, mfp = sheet_matrices(fil, sa, sb, planes, plates)
            lpp = -MU0 / (2 * math.pi) * mpp
            lfp = -MU0 / (2 * math.pi) * mfp
            bp = np.zeros((sa.shape[0], n_c))
            bp[np.arange(sa.shape[0]), sown] = 1.0
            s_bp = np.linalg.solve(lpp, bp)
            self.y_perfect = bp.T @ s_bp
            self.y_perfect = 0.5 * (self.y_perfect + self.y_perfect.T)
            if fil.n:
                s_lpf = np.linalg.solve(lpp, lfp.T)
                lmat -= lfp @ s_lpf
                lmat = 0.5 * (lmat + lmat.T)
                b_all = b_all - lfp @ s_bp
        lmat *= sq[:, None]
        lmat *= sq[None, :]
        pairs = mirror_pairs(fil, lmat, self.sheets)
        self.mirror = pairs is not None
        self.mirrors = int(self.mirror)
        if pairs is not None:
            progress.stage(f"eigendecomposition of {fil.n} filaments (mirror symmetric: two halves)")
            halves = _mirror_blocks(lmat, pairs)
            del lmat                      # the halves hold half of its entries
            self.lam, self.w_all = _eigh_halves(halves, sq[:, None] * b_all, pairs, xp)
        else:
            progress.stage(f"eigendecomposition of {fil.n} filaments")
            lam, q = _eigh(lmat, xp)
            del lmat
            self.lam = lam
            self.w_all = q.T @ (sq[:, None] * b_all)              # (n, n_c)
            del q

    @property
    def unknowns(self) -> int:
        """Number of filaments and surface-current segments."""
        return self.fil.n + (0 if self.sheets is None else self.sheets[0].shape[0])

    def conductor_admittance(self, f: np.ndarray) -> np.ndarray:
        """:math:`B^T (R + j\\omega L)^{-1} B` for every conductor, shape (F, n_c, n_c), S*m."""
        f = np.atleast_1d(np.asarray(f, dtype=float))
        w = self.w_all
        n_c = w.shape[1]
        if getattr(self, "_outer", None) is None:
            # rows w_k w_k^T flattened: Y(f) = d(f) @ outer, two real matrix products
            self._outer = (w[:, :, None] * w[:, None, :]).reshape(w.shape[0], n_c * n_c)
        x = (2 * math.pi * f)[:, None] * self.lam[None, :]
        den = 1.0 + x * x                      # 1 / (1 + j x) = (1 - j x) / (1 + x^2)
        y = (1.0 / den) @ self._outer - 1j * ((x / den) @ self._outer)
        y = y.reshape(f.size, n_c, n_c)
        if self.sheets is not None:
            y = y - 1j * self.y_perfect[None] / (2 * math.pi * f)[:, None, None]
        return y

    @small_matrix_blas()
    def partial_impedance(self, f: float | np.ndarray) -> np.ndarray:
        """Impedance matrix of every conductor on its own (no return path), ohm/m.

        Its real part is the resistance; its imaginary part the 2D partial inductance times
        omega, defined up to the constant that cancels in loops.
        """
        y = self.conductor_admittance(f)
        z = np.linalg.inv(y)
        return z[0] if np.ndim(f) == 0 else z

    def _loop(self, y: np.ndarray) -> np.ndarray:
        """Loop impedance of the signals from the conductor admittances (F, n_c, n_c)."""
        ns = self.n_signal
        n_c = y.shape[-1]
        if self.ground is not None:
            # the plane is the reference: references are shorted to it (zero drop)
            return np.linalg.inv(y[:, :ns, :ns])
        # join the references into one node, then measure every signal against it
        j = np.zeros((n_c, ns + 1))
        j[np.arange(ns), np.arange(ns)] = 1.0
        j[ns:, ns] = 1.0
        yj = j.T @ y @ j
        zc = np.linalg.inv(yj)
        p = np.hstack([np.eye(ns), -np.ones((ns, 1))])
        return p @ zc @ p.T

    @small_matrix_blas()
    def solve(self, f: float | np.ndarray) -> np.ndarray:
        """Loop impedance :math:`R + j\\omega L` of the signals, shape (F, ns, ns), ohm/m."""
        z = self._loop(self.conductor_admittance(f))
        return z[0] if np.ndim(f) == 0 else z

    @small_matrix_blas()
    def dc(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, L) at DC: :math:`Y = Y_0 - j\\omega Y_1 + \\dots` gives
        :math:`Z = Y_0^{-1} + j\\omega Y_0^{-1}Y_1Y_0^{-1}` at every level."""
        w = self.w_all
        y0 = (w.T @ w)[None]
        y1 = (w.T * self.lam[None, :]) @ w
        if self.sheets is not None:
            # a perfect conductor's admittance is 1/(j w L): no expansion in w; the loop at
            # a frequency where every filament's current is still uniform (w L << R) is DC
            # (the largest eigenvalue of R^-1/2 L R^-1/2 is the slowest L/R time, s)
            tau = float(self.lam.max()) if self.lam.size else 1.0
            w_low = 1e-4 / max(tau, 1e-30)
            z = self._loop(self.conductor_admittance(np.array([w_low / (2 * math.pi)])))[0]
            return z.real, z.imag / w_low
        # loop quantities are linear in the first-order term: use a tiny frequency exactly
        eps = 1e-3
        yj = y0 - 1j * eps * y1[None]
        z = self._loop(yj)[0]
        return z.real, z.imag / eps


def _eigh(a: np.ndarray, xp=np) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric eigendecomposition (on the GPU when xp is cupy); *a* may be overwritten."""
    if xp is np:
        # numpy's eigh releases the GIL while LAPACK runs (scipy's wrappers hold it), so the
        # progress reporter keeps talking through the minute a large mesh can take; it
        # costs one more copy of the matrix
        return np.linalg.eigh(a)
    lam, q = xp.linalg.eigh(xp.asarray(a))
    return xp.asnumpy(lam), xp.asnumpy(q)


MIRROR_TOL = 1e-9   # relative mismatch of L under the mirror at which the halves are used


def mirror_pairs(fil: Filaments, a: np.ndarray, sheets=None, tol: float = MIRROR_TOL
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    r"""Filament pairs (p, m) mirrored in a vertical line, and the filaments f on it, if the
    scaled inductance matrix *a* is invariant under that mirror; None otherwise.

    The axis is the middle of the filaments' bounding box (planes are invariant under any
    mirror in x). Each filament is matched with the filament whose centroid is nearest the
    mirror of its own and whose area is the same; the match is accepted only if
    :math:`\max|A_{ij} - A_{P(i)P(j)}| \le` *tol* :math:`\max|A|` over the whole matrix
    (checked in row blocks), so a mesh that is not mirror symmetric, or one whose surface
    segments (perfect conductors, sheets) are not, falls back to the full matrix.
    """
    n = fil.n
    if n < 64:
        return None
    g = fil.g
    rect = fil.kind == RECT
    lo = np.where(rect, g[:, 0], g[:, 0] - g[:, 3])
    hi = np.where(rect, g[:, 1], g[:, 0] + g[:, 3])
    xm = 0.5 * (lo.min() + hi.max())
    if sheets is not None:
        sa, sb, _ = sheets
        ends = np.concatenate([sa[:, 0], sb[:, 0]])
        if abs(0.5 * (ends.min() + ends.max()) - xm) > 1e-9 * (hi.max() - lo.min()):
            return None
    from scipy.spatial import cKDTree

    scale = max(hi.max() - lo.min(), float(np.ptp(fil.centroid[:, 1])), 1e-30)
    mirrored = np.stack([2 * xm - fil.centroid[:, 0], fil.centroid[:, 1]], axis=1)
    dist, perm = cKDTree(fil.centroid).query(mirrored)
    if dist.max() > 1e-9 * scale or np.any(perm[perm] != np.arange(n)):
        return None
    if np.abs(fil.area[perm] - fil.area).max() > 1e-9 * fil.area.max():
        return None
    amax = np.abs(a).max()
    for b0 in range(0, n, 512):
        b1 = min(n, b0 + 512)
        if np.abs(a[b0:b1] - a[perm[b0:b1]][:, perm]).max() > tol * amax:
            return None
    idx = np.arange(n)
    p = idx[idx < perm]
    return p, perm[p], idx[idx == perm]


def _eigh_mirror(a: np.ndarray, b: np.ndarray, pairs, xp=np) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues of the mirror-invariant symmetric *a* and :math:`Q^T b`, from its even and
    odd halves.

    With the orthogonal :math:`U = [E\;O]` (columns :math:`(e_p + e_m)/\sqrt2` and the fixed
    :math:`e_f` in :math:`E`, :math:`(e_p - e_m)/\sqrt2` in :math:`O`), :math:`U^TAU` is block
    diagonal: even block :math:`A_{pp} + A_{pm}`, :math:`\sqrt2 A_{pf}`, :math:`A_{ff}`; odd
    block :math:`A_{pp} - A_{pm}`. With :math:`A_e = Q_e\Lambda_eQ_e^T`,
    :math:`A_o = Q_o\Lambda_oQ_o^T`, :math:`Q = U\,\mathrm{diag}(Q_e, Q_o)` and
    :math:`Q^Tb = [Q_e^TE^Tb;\;Q_o^TO^Tb]` (exact up to rounding; two eigendecompositions of
    half the size cost a quarter of one of the full size). The
    halves use the mean of :math:`A` and its mirror image, symmetric to rounding.
    """
    return _eigh_halves(_mirror_blocks(a, pairs), b, pairs, xp)


def _mirror_blocks(a: np.ndarray, pairs) -> list[np.ndarray]:
    """Even and odd blocks of :func:`_eigh_mirror` (means of *a* and its mirror image)."""
    p, m, f = pairs
    r2 = math.sqrt(2.0)
    k = p.size
    even = np.empty((k + f.size,) * 2)
    ee = even[:k, :k]
    ee[:] = a[np.ix_(p, p)]
    ee += a[np.ix_(m, m)]
    odd = ee.copy()
    cross = a[np.ix_(p, m)]
    cross += a[np.ix_(m, p)]
    ee += cross
    odd -= cross
    del cross
    ee *= 0.5
    odd *= 0.5
    if f.size:
        a_pf = 0.5 * (a[np.ix_(p, f)] + a[np.ix_(m, f)]) * r2
        even[:k, k:] = a_pf
        even[k:, :k] = a_pf.T
        even[k:, k:] = a[np.ix_(f, f)]
    even += even.T                 # symmetric to rounding
    even *= 0.5
    odd += odd.T
    odd *= 0.5
    return [even, odd]


def _eigh_halves(halves: list[np.ndarray], b: np.ndarray, pairs, xp=np
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and :math:`Q^Tb` from the blocks of :func:`_mirror_blocks` (consumed)."""
    p, m, f = pairs
    r2 = math.sqrt(2.0)
    be = np.concatenate([(b[p] + b[m]) / r2, b[f]], axis=0)
    bo = (b[p] - b[m]) / r2
    lam_e, q_e = _eigh(halves.pop(0), xp)
    w_e = q_e.T @ be
    del q_e
    lam_o, q_o = _eigh(halves.pop(0), xp)
    w_o = q_o.T @ bo
    return np.concatenate([lam_e, lam_o]), np.concatenate([w_e, w_o], axis=0)


def mesh_mirrors(fil: Filaments, ground_y: float | None, tol: float = MIRROR_TOL
                 ) -> list[tuple[int, float, np.ndarray]]:
    """Mirror lines under which the filament mesh and the kernel are invariant.

    Returns ``(axis, position, permutation)`` for a vertical (axis 0, x -> 2p - x) and a
    horizontal (axis 1, y -> 2p - y) line through the middle of the filaments' bounding
    box, where every filament maps onto one of the same area, resistance, size and second
    moments (the permutation, an involution) and every conductor onto one conductor. The
    horizontal line is not tried with a ground plane (its images break that symmetry).
    The kernel itself (``ln r``, images in horizontal planes) is invariant under both.
    """
    n = fil.n
    if n < 64:
        return []
    from scipy.spatial import cKDTree

    g = fil.g
    rect = fil.kind == RECT
    rad = np.where(rect, 0.0, g[:, 3])
    lo = [np.where(rect, g[:, 0], g[:, 0] - rad), np.where(rect, g[:, 2], g[:, 1] - rad)]
    hi = [np.where(rect, g[:, 1], g[:, 0] + rad), np.where(rect, g[:, 3], g[:, 1] + rad)]
    scale = max(hi[0].max() - lo[0].min(), hi[1].max() - lo[1].min(), 1e-30)
    tree = cKDTree(fil.centroid)
    idx = np.arange(n)
    res = fil.sigma * fil.area
    out = []
    for axis in (0, 1):
        if axis == 1 and ground_y is not None:
            continue
        mid = 0.5 * (lo[axis].min() + hi[axis].max())
        mirrored = fil.centroid.copy()
        mirrored[:, axis] = 2 * mid - mirrored[:, axis]
        dist, perm = tree.query(mirrored)
        if dist.max() > tol * scale or np.any(perm[perm] != idx):
            continue
        cov = fil.cov.copy()
        cov[:, 0, 1] *= -1.0
        cov[:, 1, 0] *= -1.0
        if (np.any(fil.kind[perm] != fil.kind)
                or np.abs(fil.area[perm] - fil.area).max() > tol * fil.area.max()
                or np.abs(res[perm] - res).max() > tol * res.max()
                or np.abs(fil.size[perm] - fil.size).max() > tol * scale
                or np.abs(fil.cov[perm] - cov).max() > tol * scale * scale):
            continue
        owners = [np.unique(fil.owner[perm[fil.owner == k]]) for k in np.unique(fil.owner)]
        if any(o.size != 1 for o in owners):
            continue
        out.append((axis, mid, perm))
    return out


def _split(ids: np.ndarray, perm: np.ndarray, coord: np.ndarray):
    """Positions (p, m, f) in *ids* of the mirror pairs (p on the low side) and the fixed
    filaments of the global involution *perm*; None if *perm* does not map *ids* onto
    itself."""
    pos = np.full(perm.size, -1)
    pos[ids] = np.arange(ids.size)
    loc = pos[perm[ids]]
    if np.any(loc < 0):
        return None
    k = np.arange(ids.size)
    fixed = loc == k
    p = k[~fixed & (coord[ids] < coord[ids[loc]])]
    if 2 * p.size + fixed.sum() != ids.size:
        return None
    return p, loc[p], k[fixed]


def _symmetric_decomposition(fil: Filaments, ground_y, top_y, sq: np.ndarray, b: np.ndarray,
                             mirrors, xp=np, tol: float = MIRROR_TOL):
    r"""Eigenvalues of :math:`A = R^{-1/2}LR^{-1/2}` and :math:`Q^Tb` for a mesh with
    mirror lines (:func:`mesh_mirrors`), assembling only the rows of one half.

    The even and odd blocks of :func:`_eigh_mirror` need only the rows of the pair
    representatives and of the filaments on the line (:math:`A_{pp}\pm A_{pm}`,
    :math:`\sqrt2A_{pf}`, :math:`A_{ff}`): half the assembly, no full matrix in memory.
    A second mirror line commuting with the first splits each block again (four blocks of
    a quarter of the size: a sixteenth of the work of one full eigendecomposition).
    Invariance is checked on sampled rows (:data:`MIRROR_TOL` of their largest entry);
    None if it fails (the caller then assembles the full matrix).

    Returns
    -------
    lam : ndarray, shape (n,)
    w : ndarray, shape (n, n_c)
    used : int
        Number of mirror lines used.
    """
    axis, _, perm = mirrors[0]
    n = fil.n
    ids = np.arange(n)
    split = _split(ids, perm, fil.centroid[:, axis])
    if split is None:
        return None
    p, m, f = split
    scale = -MU0 / (2 * math.pi)
    block = max(32, min(512, 1_000_000 // max(n, 1)))

    def rows(ix):
        a = mean_log_distance(fil, ground_y, block=block, top_y=top_y, rows=ix)
        a *= scale * sq[ix, None]
        a *= sq[None, :]
        return a

    sel = slice(None, None, max(1, p.size // 16))
    a1 = rows(p[sel][:16])
    if np.abs(a1 - rows(m[sel][:16])[:, perm]).max() > tol * np.abs(a1).max():
        return None
    k = p.size
    # A second mirror line sig (commuting with the first) gives the rows of the other half
    # again: A[sig(i), :] = A[i, sig(:)]. Only the rows on its low side are computed.
    reps = np.concatenate([p, f])
    sig = None
    for ax2, _, perm2 in mirrors[1:]:
        c2 = fil.centroid[:, ax2]
        if np.all(np.isin(perm2[p], p)) and np.all(np.isin(perm2[f], f)):
            a2 = rows(perm2[p[sel][:16]])[:, perm2]
            if np.abs(a1 - a2).max() <= tol * np.abs(a1).max():
                sig = perm2
                reps = reps[c2[reps] <= c2[sig[reps]]]
            break
    del a1
    posp = np.full(n, -1)
    posp[p] = np.arange(k)
    posf = np.full(n, -1)
    posf[f] = np.arange(f.size)
    r2 = math.sqrt(2.0)
    even = np.empty((k + f.size,) * 2)
    odd = np.empty((k, k))

    def fill(ix, a):
        inp = posp[ix] >= 0
        if inp.any():
            at, rp = a[inp], posp[ix[inp]]
            app, apm = at[:, p], at[:, m]
            even[rp, :k] = app + apm
            odd[rp] = app - apm
            even[rp, k:] = r2 * at[:, f]
        if (~inp).any():
            at, rf = a[~inp], k + posf[ix[~inp]]
            even[rf, :k] = (0.5 * r2) * (at[:, p] + at[:, m])
            even[rf, k:] = at[:, f]

    share = "a quarter" if sig is not None else "half"
    for c0 in progress.track(range(0, reps.size, block), f"partial inductances of {n} "
                             f"filaments (mirror symmetric: {share} of the rows)"):
        ix = reps[c0:c0 + block]
        a = rows(ix)
        fill(ix, a)
        if sig is not None:
            h = sig[ix]
            keep = h != ix
            if keep.any():
                fill(h[keep], a[keep][:, sig])
        del a
    even += even.T
    even *= 0.5
    odd += odd.T
    odd *= 0.5
    be = np.concatenate([(b[p] + b[m]) / r2, b[f]], axis=0)
    bo = (b[p] - b[m]) / r2
    rest = mirrors[1:]
    progress.stage(f"eigendecomposition of {n} filaments (mirror symmetric: "
                   f"{2 ** (1 + len(rest))} blocks)")
    used = {axis}
    # mismatches are judged against the largest entry of A (the odd block, a difference,
    # is smaller)
    atol = tol * max(np.abs(even).max(), np.abs(odd).max())
    lam_e, w_e = _eigh_split(even, be, np.concatenate([p, f]), rest, fil, xp, atol, used)
    lam_o, w_o = _eigh_split(odd, bo, p.copy(), rest, fil, xp, atol, used)
    return np.concatenate([lam_e, lam_o]), np.concatenate([w_e, w_o], axis=0), len(used)


def _eigh_split(a: np.ndarray, b: np.ndarray, ids: np.ndarray, mirrors, fil: Filaments, xp,
                atol: float, used: set) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of the block *a* (consumed; basis vectors represented by the filaments
    *ids*) and :math:`Q^Tb`, split further by the remaining *mirrors* where the block is
    invariant under them (to *atol*)."""
    for axis, _, perm in mirrors:
        split = _split(ids, perm, fil.centroid[:, axis])
        if split is None:
            continue
        p, m, f = split
        loc = np.arange(ids.size)
        loc[p], loc[m] = m, p
        if any(np.abs(a[b0:b0 + 512] - a[loc[b0:b0 + 512]][:, loc]).max() > atol
               for b0 in range(0, ids.size, 512)):
            continue
        halves = _mirror_blocks(a, (p, m, f))
        a = None                      # the halves hold what is needed of it
        r2 = math.sqrt(2.0)
        be = np.concatenate([(b[p] + b[m]) / r2, b[f]], axis=0)
        bo = (b[p] - b[m]) / r2
        rest = [mm for mm in mirrors if mm[0] != axis]
        used.add(axis)
        lam_e, w_e = _eigh_split(halves.pop(0), be, ids[np.concatenate([p, f])], rest, fil,
                                 xp, atol, used)
        lam_o, w_o = _eigh_split(halves.pop(0), bo, ids[p], rest, fil, xp, atol, used)
        return np.concatenate([lam_e, lam_o]), np.concatenate([w_e, w_o], axis=0)
    lam, q = _eigh(a, xp)
    return lam, q.T @ b
