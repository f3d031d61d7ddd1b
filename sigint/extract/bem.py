"""Capacitance and conductance per unit length by the boundary element method.

Unknowns are the total (free + bound) surface charge densities on straight panels, piecewise
constant, collocated at panel midpoints, with the 2D free-space kernel
:math:`\\varphi(\\mathbf r) = \\frac{1}{2\\pi\\varepsilon_0}\\int\\sigma\\ln\\frac{1}{|\\mathbf r -
\\mathbf r'|}\\,ds'` integrated in closed form over each panel (and, with an infinite ground
plane, its image of opposite sign). Equations:

* on a conductor panel, the potential equals the conductor's: :math:`\\sum_j P_{ij}x_j
  (+\\varphi_\\infty) = V_k`;
* on a dielectric interface panel (normal from side − to side +), continuity of the normal
  displacement (no free charge):
  :math:`\\sum_j K_{ij}x_j + \\frac{\\varepsilon_+ + \\varepsilon_-}{2(\\varepsilon_+ -
  \\varepsilon_-)}x_i = 0`, with :math:`K` the principal-value normal field;
* without a ground plane, total charge zero and an unknown potential at infinity
  :math:`\\varphi_\\infty` (a 2D log potential needs a neutral system).

With a second (top) plane the kernel is the Green's function of the parallel-plate region
(:func:`plates_remainder`). A conductor face closer to a parallel interface than its length
gets interface panels aligned with its own (``_Mesher.interface_panels``), so that the
default mesh stays within 0.5 % at any gap (tests/test_extract_interface_gap.py).

Here :math:`x = \\sigma/\\varepsilon_0`. Permittivities are complex,
:math:`\\varepsilon' - j\\varepsilon'' - j\\sigma/\\omega\\varepsilon_0`, so the free charge
:math:`Q_k = \\varepsilon_0\\sum_{j\\in k}\\varepsilon_{r,j} x_j L_j` per volt is
:math:`C - jG/\\omega` (Wei, Harrington, Mautz & Sarkar, IEEE Trans. MTT 32(4), 1984, for the
formulation; closed-form panel integrals e.g. in Jackson's *Classical Electrodynamics*).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .. import progress
from ..xsection.geometry import Conductor, Geometry
from ..xsection.materials import EPS0

__all__ = ["Panels", "mesh_panels", "segment_mirror", "panel_mirror", "potential_kernel",
           "field_kernel", "plates_remainder", "BemSolver"]


REDUCED_MIN_PANELS = 3000   # conductor panels from which "auto" solves on a reduced basis


@dataclass
class Panels:
    """Straight boundary panels.

    Attributes
    ----------
    a, b : ndarray, shape (P, 2)
        End points, m.
    owner : ndarray of int, shape (P,)
        Conductor index for conductor panels, -1 for dielectric interface panels.
    normal : ndarray, shape (P, 2)
        Unit normal: outward for conductor panels, towards the + side for interfaces.
    mat_plus, mat_minus : ndarray of object, shape (P,)
        Material on the + (outer) and - side; ``mat_minus`` is None for conductor panels.
    """

    a: np.ndarray
    b: np.ndarray
    owner: np.ndarray
    normal: np.ndarray
    mat_plus: np.ndarray
    mat_minus: np.ndarray
    circle: np.ndarray | None = None      # id of the circle a panel lies on, -1 if none

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.a + self.b)

    @property
    def length(self) -> np.ndarray:
        return np.linalg.norm(self.b - self.a, axis=1)

    @property
    def n(self) -> int:
        return self.a.shape[0]


# ----------------------------------------------------------------------------- kernels
def _local(x: np.ndarray, a: np.ndarray, b: np.ndarray, xp=np):
    d = b - a
    length = xp.sqrt((d ** 2).sum(-1))
    t = d / length[:, None]
    nrm = xp.stack([t[:, 1], -t[:, 0]], axis=-1)
    # components written out: no (M, P, 2) temporaries, the same sums in the same order
    rx = x[:, None, 0] - a[None, :, 0]
    ry = x[:, None, 1] - a[None, :, 1]
    u = rx * t[None, :, 0] + ry * t[None, :, 1]
    v = rx * nrm[None, :, 0] + ry * nrm[None, :, 1]
    return u, v, length[None, :], t, nrm


def _xlogy(x, y, xp=np):
    # scipy.special.xlogy on numpy only: this one serves the CuPy arrays of the twin kernel too
    out = x * xp.log(xp.where(y > 0, y, 1.0))
    return xp.where(x == 0, 0.0, out)


def potential_kernel(x: np.ndarray, a: np.ndarray, b: np.ndarray, xp=np) -> np.ndarray:
    """:math:`\\frac{1}{2\\pi}\\int_{a}^{b}\\ln\\frac{1}{|\\mathbf x - \\mathbf r|}\\,ds`, shape (M, P).

    Closed form with :math:`F(w) = w\\ln(w^2+v^2) - 2w + 2|v|\\arctan(w/|v|)`:
    the integral is :math:`-\\tfrac12[F(L-u) - F(-u)]`.
    """
    u, v, length, _, _ = _local(x, a, b, xp)
    av = xp.abs(v)

    def big_f(w):
        return _xlogy(w, w * w + v * v, xp) - 2 * w + 2 * av * xp.arctan2(w, av)

    return -0.25 / math.pi * (big_f(length - u) - big_f(-u))


def field_kernel(x: np.ndarray, a: np.ndarray, b: np.ndarray, xp=np) -> tuple[np.ndarray, np.ndarray]:
    """Field :math:`-\\nabla\\varphi` at *x* of unit density (times :math:`1/\\varepsilon_0`), (Ex, Ey).

    :math:`E_t = -\\tfrac12\\ln\\frac{(L-u)^2+v^2}{u^2+v^2}`, :math:`E_n =
    \\arctan\\frac{L-u}{v} + \\arctan\\frac{u}{v}` (the continuous antiderivative of
    :math:`v/((s-u)^2+v^2)`; 0 on the panel's line), divided by :math:`2\\pi`. On a panel
    itself this is the principal value, 0.
    """
    u, v, length, t, nrm = _local(x, a, b, xp)
    r1 = (length - u) ** 2 + v * v
    r0 = u * u + v * v
    et = -0.5 * (xp.log(xp.where(r1 > 0, r1, 1.0)) - xp.log(xp.where(r0 > 0, r0, 1.0)))
    safe = xp.where(v == 0, 1.0, v)
    en = xp.where(v == 0, 0.0, xp.arctan((length - u) / safe) + xp.arctan(u / safe))
    ex = (et * t[None, :, 0] + en * nrm[None, :, 0]) / (2 * math.pi)
    ey = (et * t[None, :, 1] + en * nrm[None, :, 1]) / (2 * math.pi)
    return ex, ey


def plates_remainder(tx, ty, sx, sy, y0: float, b: float):
    r"""Smooth part of the Green's function between two grounded planes y = y0, y0 + b.

    The Dirichlet Green's function of the strip, in the form :math:`K` with
    :math:`G = -K/2\pi` (free space: :math:`K = \ln|\mathbf r-\mathbf r'|`), is

    .. math:: K = \tfrac12\ln\frac{\cosh\alpha - \cos\mu}{\cosh\alpha - \cos\pi},
       \quad \alpha = \frac{\pi(x-x')}{b},\ \mu = \frac{\pi(y-y')}{b},\
       \pi_+ = \frac{\pi(y+y'-2y_0)}{b}

    (with :math:`\pi_+` in the denominator): the map :math:`w = e^{\pi z/b}` takes the
    strip onto a half-plane, whose Green's function is one image (Morse & Feshbach,
    *Methods of Theoretical Physics*, 1953, §7.2; equivalently the sum of the image series
    of a charge between two planes, Smythe, *Static and Dynamic Electricity*, 1968, §5.08).
    Returned is :math:`K` minus the free-space term and the two nearest images (mirrors in
    each plane), which the panel integrals take in closed form: the rest has its
    singularities a distance b or more outside the strip. Written with
    :math:`E = e^{-|\alpha|}` as :math:`\cosh\alpha - \cos c = \frac{e^{|\alpha|}}2
    [(1-E)^2 + 4E\sin^2(c/2)]`, which neither overflows nor cancels.

    Returns
    -------
    k, dk_dx, dk_dy : ndarray
        The remainder and its gradient with respect to the target point (tx, ty), 1/m.
    """
    q = math.pi / b
    dx = tx - sx
    al = q * np.abs(dx)
    sgn = np.sign(dx)
    e = np.exp(-al)
    ome = -np.expm1(-al)
    yy, ys = ty - y0, sy - y0
    mu, pl = q * (yy - ys), q * (yy + ys)
    d_m = ome * ome + 4 * e * np.sin(0.5 * mu) ** 2
    d_p = ome * ome + 4 * e * np.sin(0.5 * pl) ** 2
    k = 0.5 * (np.log(d_m) - np.log(d_p))
    # d/dx D(c) = -sgn q 2E (E - cos c); d/dy D(c) = 2 E q sin c
    gx = 0.5 * (-sgn * q * 2 * e * ((e - np.cos(mu)) / d_m - (e - np.cos(pl)) / d_p))
    gy = 0.5 * (2 * e * q * (np.sin(mu) / d_m - np.sin(pl) / d_p))
    for img_y, sign in ((sy, 1.0), (2 * y0 - sy, -1.0), (2 * (y0 + b) - sy, -1.0)):
        ddy = ty - img_y
        r2 = dx * dx + ddy * ddy
        k = k - sign * 0.5 * np.log(r2)
        gx = gx - sign * dx / r2
        gy = gy - sign * ddy / r2
    return k, gx, gy


def _plates_terms(mid: np.ndarray, a: np.ndarray, b: np.ndarray, normal: np.ndarray,
                  y0: float, gap: float, n_gauss: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Potential and normal-field kernels (as :func:`potential_kernel`,
    :func:`field_kernel`) of the smooth remainder between two planes, by Gauss-Legendre
    quadrature over each source panel (panels are at most half the plane spacing long)."""
    gx, gw = np.polynomial.legendre.leggauss(n_gauss)
    length = np.linalg.norm(b - a, axis=1)
    pot = np.zeros((mid.shape[0], a.shape[0]))
    kn = np.zeros_like(pot)
    for t, w in zip(gx, gw):
        src = a + 0.5 * (1 + t) * (b - a)
        k, kx, ky = plates_remainder(mid[:, 0, None], mid[:, 1, None], src[None, :, 0],
                                     src[None, :, 1], y0, gap)
        wl = 0.5 * w * length[None, :] / (2 * math.pi)
        pot -= wl * k
        kn += wl * (kx * normal[:, 0:1] + ky * normal[:, 1:2])
    return pot, kn


# ----------------------------------------------------------------------------- meshing
def _even(n: int) -> int:
    return n + n % 2


def _circle_segments(cx: float, cy: float, r: float, n: int, inward: bool = False):
    th = np.linspace(0, 2 * math.pi, n + 1)
    if inward:   # clockwise: the right-hand normal points to the centre
        th = th[::-1]
    pts = np.stack([cx + r * np.cos(th), cy + r * np.sin(th)], axis=1)
    return [(pts[i], pts[i + 1]) for i in range(n)]


def _segments_of(c: Conductor, n_circle: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if c.kind == "circle":
        return _circle_segments(c.cx, c.cy, c.r, n_circle)
    if c.kind == "ring":
        n_in = max(8, int(round(n_circle * c.r_in / c.r)))
        return (_circle_segments(c.cx, c.cy, c.r, n_circle)
                + _circle_segments(c.cx, c.cy, c.r_in, n_in, inward=True))
    if c.y1 == c.y0:   # zero-thickness strip
        return [(np.array([c.x0, c.y0]), np.array([c.x1, c.y0]))]
    p = c.polygon()
    return [(p[i], p[(i + 1) % 4]) for i in range(4)]


@functools.lru_cache(maxsize=65536)
def _edges(c: Conductor) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points (k, 2) of the straight edges of a conductor (cached: a mesher
    asks for the edges of every other conductor near each one)."""
    segs = _segments_of(c, 0)
    return np.array([s[0] for s in segs]), np.array([s[1] for s in segs])


def dist_to_shapes(pts: np.ndarray, shapes: list[Conductor]) -> np.ndarray:
    """Distance from points to the nearest boundary of *shapes* (0 on a boundary).

    Straight edges are pruned first, exactly: an edge whose distance to the points'
    bounding box exceeds the largest distance from that box to the nearest edge's far
    end cannot be the nearest to any point (a dense bus has many edges, few of them near).
    """
    d = np.full(pts.shape[0], np.inf)
    segs = []
    for c in shapes:
        if c.round:
            rho = np.hypot(pts[:, 0] - c.cx, pts[:, 1] - c.cy)
            d = np.minimum(d, np.abs(rho - c.r))
            if c.kind == "ring":
                d = np.minimum(d, np.abs(rho - c.r_in))
        else:
            segs.append(_edges(c))
    if segs:
        p0 = np.concatenate([s[0] for s in segs])
        p1 = np.concatenate([s[1] for s in segs])
        for k0 in range(0, pts.shape[0], 4096):
            q = pts[k0:k0 + 4096]
            lo, hi = q.min(axis=0), q.max(axis=0)
            # lower bound: box to the edge's bounding box; upper bound: from every point of
            # the box to an end point of the edge (the farthest box corner to the nearer end)
            slo, shi = np.minimum(p0, p1), np.maximum(p0, p1)
            gap = np.maximum(np.maximum(slo - hi[None], lo[None] - shi), 0.0)
            lower = np.hypot(gap[:, 0], gap[:, 1])
            far0 = np.hypot(np.maximum(np.abs(p0[:, 0] - lo[0]), np.abs(p0[:, 0] - hi[0])),
                            np.maximum(np.abs(p0[:, 1] - lo[1]), np.abs(p0[:, 1] - hi[1])))
            keep = lower <= far0.min() * (1 + 1e-12)
            a, e = p0[keep], p1[keep] - p0[keep]
            ee = np.maximum((e * e).sum(1), 1e-300)
            rx = q[:, None, 0] - a[None, :, 0]
            ry = q[:, None, 1] - a[None, :, 1]
            t = np.clip((rx * e[None, :, 0] + ry * e[None, :, 1]) / ee[None], 0.0, 1.0)
            dd = np.hypot(rx - t * e[None, :, 0], ry - t * e[None, :, 1])
            d[k0:k0 + 4096] = np.minimum(d[k0:k0 + 4096], dd.min(axis=1))
    return d


def _graded_points(p0: np.ndarray, p1: np.ndarray, size_fn, n_min: int,
                   h_min: float | None = None) -> np.ndarray:
    """Break points on [p0, p1] equidistributing the panel size function.

    The density 1/h is integrated on samples clustered geometrically at both ends (where
    corner grading makes h tiny) so that the panel count is right, not overestimated.
    ``size_fn(points (m, 2), distance to p0 (m,), distance to p1 (m,))`` gives the panel
    size (m,) there.

    The rule is symmetric in the two ends and independent of where the segment lies:
    each half is sampled, refined and integrated from its own end (positions measured
    from that end, never absolute coordinates), and each break point is placed from the
    end whose half holds it. A segment and its mirror image, or a translated copy, with
    the mirrored (translated) size function get mirrored (translated) break points, to
    rounding; a size function symmetric about the middle gives symmetric break points.
    """
    length = float(np.hypot(*(p1 - p0)))
    d = p1 - p0
    rel_min = max((h_min or length * 1e-6) / length, 1e-12)
    geo = rel_min * 1.15 ** np.arange(int(math.log(0.5 / rel_min) / math.log(1.15)) + 1)
    u0 = np.unique(np.clip(np.concatenate([np.linspace(0.0, 0.5, 201), geo, [0.0, 0.5]]),
                           0.0, 0.5))
    halves = []
    for end, sign in ((p0, 1.0), (p1, -1.0)):
        def at(u, end=end, sign=sign):
            """Points at fractions *u* of the length from this end and their distances
            to p0 and p1 (what size_fn grades by; the one to the near end measured from
            it, exact near the end where grading makes it small)."""
            pts = end[None] + (sign * u)[:, None] * d[None]
            near, far = u * length, length - u * length
            return (pts, near, far) if sign > 0 else (pts, far, near)

        u = u0
        h = size_fn(*at(u))
        # refine the samples wherever they are coarser than the panels they should place
        # (a long interface passing close under a round conductor); ties are not coarse
        # (the margin keeps rounding from deciding them: at a graded end the samples'
        # spacing, h_min over a power of 2, can equal half of h exactly)
        for _ in range(60):
            coarse = np.diff(u) * length > 0.5 * (1 + 1e-9) * np.minimum(h[1:], h[:-1])
            if not coarse.any() or u.size > 100_000:
                break
            mid = 0.5 * (u[:-1] + u[1:])[coarse]
            hm = size_fn(*at(mid))
            order = np.argsort(np.concatenate([u, mid]), kind="stable")
            u = np.concatenate([u, mid])[order]
            h = np.concatenate([h, hm])[order]
        dens = 1.0 / h
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(u) * length)])
        halves.append((u, cum))
    (ul, cl), (ur, cr) = halves
    total = cl[-1] + cr[-1]
    n = max(n_min, int(math.ceil(total - 1e-9)))
    k = np.arange(n + 1)
    from_p0 = k * total / n              # the integral of 1/h from each end to break point k
    from_p1 = (n - k) * total / n
    left = from_p0 <= cl[-1]             # in the half at p0 (both rules agree at the middle)
    sl = np.interp(from_p0, cl, ul)
    sr = np.interp(from_p1, cr, ur)
    pts = np.where(left[:, None], p0[None] + sl[:, None] * d[None],
                   p1[None] - sr[:, None] * d[None])
    pts[0], pts[-1] = p0, p1
    return pts


class _Mesher:
    def __init__(self, geo: Geometry, refine: float):
        self.geo = geo
        m = geo.mesh
        self.refine = refine * m.refine
        self.n_edge = max(2, int(round(m.panels_per_edge * self.refine)))
        # circles get an even number of chords, from angle 0: their vertices are then
        # symmetric in the vertical and horizontal lines through the centre
        self.n_circ = _even(max(8, int(round(m.panels_per_circle * self.refine))))
        x0, x1, y0, y1 = geo.span
        self.scale = max(x1 - x0, y1 - y0)
        self.kc = 0.6 / self.refine      # corner grading: h ~ kc * distance to the corner
        self.kg = 0.8 / self.refine      # gap grading: h ~ kg * distance to other conductors
        # Interfaces are graded to the distance, conductors near a parallel interface (the
        # charge at a corner a gap g from it varies on the scale of g) more finely at their
        # corners; both finer at high contrast K = |e1 - e2| / (e1 + e2). Calibrated
        # against the independent layered-medium solver (tests/layered_reference.py):
        # within 0.5 % for gaps 0 to 1 width, permittivities 1 to 12 on either side.
        self.kg_interface = 0.3 / self.refine
        self.kc_near = 0.4 / self.refine
        self.contrast = {}
        for i, lv in enumerate(geo.levels):
            e = [geo.materials[m].permittivity(np.array([1e9]))[0].real
                 for m in geo.layer_materials[i:i + 2]]
            self.contrast[lv] = abs(e[0] - e[1]) / (e[0] + e[1])
        # between two planes the field decays as exp(-pi x / b): panels no longer than b/2
        # (the remainder of the Green's function is integrated by quadrature) and
        # interfaces truncated 8 b beyond the conductors
        self.plate_gap = (geo.top_y - geo.ground_y) if geo.top_y is not None else None
        sizes = [c.size for c in geo.conductors if c.size > 0]
        self.h_min = 1e-3 * min(sizes or [self.scale])
        # horizontal conductor faces: y, break points, length, conductor index
        self.faces: list[tuple[float, np.ndarray, float, int]] = []

    @staticmethod
    def contrast_factor(k: float) -> float:
        """Grading factor for an interface of contrast *k*: 1 up to 0.6 (eps 4 / 1),
        halved from 0.85 (eps 12 / 1) on."""
        return float(np.clip(1.0 - 2.0 * (k - 0.6), 0.5, 1.0))

    def near_interface(self, c: Conductor) -> float | None:
        """Largest contrast of the stack interfaces passing closer to *c* than its largest
        dimension, without touching it (None if there is none)."""
        ext = max(c.x1 - c.x0, c.y1 - c.y0)
        tol = 1e-9 * max(ext, 1e-12)
        ks = [self.contrast.get(lv, 0.0) for lv in self.geo.levels
              if c.y0 - ext < lv < c.y0 - tol or c.y1 + tol < lv < c.y1 + ext]
        return max(ks) if ks else None

    def size_fn(self, owner: int | None, h_cap: float,
                grade: tuple[bool, bool] = (True, True), exclude: frozenset = frozenset(),
                level: float | None = None):
        """Panel size along a segment: capped, graded towards its corners (the ends flagged
        in *grade*) and towards other conductors (not those in *exclude*); *level* names
        the stack interface the segment lies on."""
        others = [c for k, c in enumerate(self.geo.conductors) if k != owner and k not in exclude]
        kg = self.kg if owner is not None else self.kg_interface
        if owner is None and level is not None:
            kg *= self.contrast_factor(self.contrast.get(level, 0.0))
        kc = self.kc
        k_near = self.near_interface(self.geo.conductors[owner]) if owner is not None else None
        if k_near is not None:
            kc = self.kc_near * max(self.contrast_factor(k_near), 0.625)

        if self.plate_gap is not None:
            h_cap = min(h_cap, 0.5 * self.plate_gap)

        def fn(pts, d0, d1):
            d_end = np.full(d0.shape, np.inf)
            if grade[0]:
                d_end = np.minimum(d_end, d0)
            if grade[1]:
                d_end = np.minimum(d_end, d1)
            h = np.minimum(h_cap, kc * (d_end + self.h_min))
            if others:
                h = np.minimum(h, kg * np.maximum(dist_to_shapes(pts, others), self.h_min))
            return np.maximum(h, self.h_min * 0.5)
        return fn

    def _concentric_counts(self) -> dict:
        """One panel count per centre: concentric circles (a conductor, its shells, a ring
        around it) get the same count and the same angular break points, so that panels
        face each other across thin layers (misaligned polygons cost O(h/gap) accuracy)."""
        if getattr(self, "_counts", None) is not None:
            return self._counts
        need: dict = {}

        def key(cx, cy):
            for k in need:
                if math.hypot(k[0] - cx, k[1] - cy) <= 1e-12 * self.scale:
                    return k
            return (cx, cy)

        for c in self.geo.conductors:
            if c.round:
                gap = self._circle_gap(c)
                n = _even(max(self.n_circ,
                              int(math.ceil(2 * math.pi * c.r / max(self.kg * gap, 1e-300)))))
                k = key(c.cx, c.cy)
                need[k] = max(need.get(k, 0), n)
        for cx, cy, r0, r1, _, _ in self.geo.shells:
            gap = r1 - r0
            for cx2, cy2, q0, q1, _, _ in self.geo.shells:   # the next shell out, if any
                if math.hypot(cx2 - cx, cy2 - cy) < 1e-9 * r1 and q0 >= r1 * (1 - 1e-12) and q1 > r1:
                    gap = min(gap, q1 - r1)
            n = _even(max(self.n_circ, int(math.ceil(2 * math.pi * r1 / max(self.kg * gap, 1e-300)))))
            k = key(cx, cy)
            need[k] = max(need.get(k, 0), n)
        self._counts = need
        return need

    def _count_at(self, cx: float, cy: float) -> int:
        for k, n in self._concentric_counts().items():
            if math.hypot(k[0] - cx, k[1] - cy) <= 1e-12 * self.scale:
                return n
        return self.n_circ

    def conductor_panels(self):
        out = []
        levels = np.asarray(self.geo.levels)
        for k, c in enumerate(self.geo.conductors):
            if c.round:
                n = self._count_at(c.cx, c.cy)
                segs = self._circle_near_interface(c, n)
                if segs is None:
                    segs = _circle_segments(c.cx, c.cy, c.r, n)
                if c.kind == "ring":
                    segs += _circle_segments(c.cx, c.cy, c.r_in, n, inward=True)
                for p0, p1 in segs:
                    out.append((p0, p1, k))
                continue
            for p0, p1 in _segments_of(c, 0):
                # split where the edge crosses a stack interface, so each panel has one outside
                cuts = [0.0, 1.0]
                if p1[1] != p0[1]:
                    for lv in levels:
                        t = (lv - p0[1]) / (p1[1] - p0[1])
                        if 1e-9 < t < 1 - 1e-9:
                            cuts.append(t)
                cuts = sorted(cuts)
                pieces = [(t0, t1) for t0, t1 in zip(cuts[:-1], cuts[1:])]
                for lo, hi in self._shared(k, p0, p1):
                    pieces = [piece for t0, t1 in pieces for piece in _subtract([(t0, t1)], lo, hi)]
                for t0, t1 in pieces:
                    q0, q1 = p0 + t0 * (p1 - p0), p0 + t1 * (p1 - p0)
                    length = float(np.hypot(*(q1 - q0)))
                    fn = self.size_fn(k, length / self.n_edge * 2.0)
                    pts = _graded_points(q0, q1, fn, max(2, self.n_edge // 2), self.h_min)
                    for i in range(pts.shape[0] - 1):
                        out.append((pts[i], pts[i + 1], k))
                    if q0[1] == q1[1]:        # a horizontal face: interfaces may align to it
                        self.faces.append((float(q0[1]), np.sort(pts[:, 0]), length, k))
        return out

    def _shared(self, k: int, p0: np.ndarray, p1: np.ndarray) -> list[tuple[float, float]]:
        """Parameter ranges of the edge p0 -> p1 of reference conductor *k* that it shares
        with another reference conductor or lies on a plane: the inside of one conductor
        (one net), without charge or current; panels there would be singular."""
        c = self.geo.conductors[k]
        if c.name not in self.geo.references:
            return []
        d = p1 - p0
        length = float(np.hypot(*d))
        tol = 1e-9 * max(c.size, length)
        out = []
        for yp in (self.geo.ground_y, self.geo.top_y):
            if yp is not None and abs(p0[1] - yp) <= tol and abs(p1[1] - yp) <= tol:
                out.append((0.0, 1.0))
        for j, o in enumerate(self.geo.conductors):
            if j == k or o.round or o.name not in self.geo.references:
                continue
            for q0, q1 in _segments_of(o, 0):
                cr0 = d[0] * (q0[1] - p0[1]) - d[1] * (q0[0] - p0[0])
                cr1 = d[0] * (q1[1] - p0[1]) - d[1] * (q1[0] - p0[0])
                if abs(cr0) > tol * length or abs(cr1) > tol * length:
                    continue
                t0 = float(np.dot(q0 - p0, d)) / length ** 2
                t1 = float(np.dot(q1 - p0, d)) / length ** 2
                lo, hi = max(min(t0, t1), 0.0), min(max(t0, t1), 1.0)
                if hi - lo > 1e-12:
                    out.append((lo, hi))
        return out

    def _circle_near_interface(self, c: Conductor, n: int):
        """Chords of a circle conductor closer to a stack interface than its radius (and
        with no shell around it): graded in angle to the distance from the interface, so
        that chords near it are shorter than the gap (their sagitta and their material
        probes stay clear of it). None when no interface is that close."""
        if c.kind != "circle" or any(math.hypot(sh[0] - c.cx, sh[1] - c.cy) < 1e-9 * c.r
                                     for sh in self.geo.shells):
            return None
        near = [lv for lv in self.geo.levels if c.r < abs(lv - c.cy) < 2 * c.r]
        if not near:
            return None
        # the right half (-pi/2 to pi/2) graded, the left half its mirror image: the chords
        # are symmetric in the vertical line through the centre (the distance to a
        # horizontal interface is)
        th = np.linspace(-0.5 * math.pi, 0.5 * math.pi, 10001)
        off = c.r * np.sin(th)
        d = np.min(np.abs((c.cy - np.array(near))[None, :] + off[:, None]), axis=1)
        h = np.minimum(2 * math.pi * c.r / n, self.kg * np.maximum(d, self.h_min))
        dens = c.r / h                                # chords per radian
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(th))])
        half = max(n // 2, int(math.ceil(cum[-1])))
        tb = np.interp(np.linspace(0.0, cum[-1], half + 1), cum, th)
        tb[0], tb[-1] = -0.5 * math.pi, 0.5 * math.pi
        cs, sn = c.r * np.cos(tb), c.r * np.sin(tb)
        cs[0] = cs[-1] = 0.0
        right = np.stack([c.cx + cs, c.cy + sn], axis=1)          # bottom to top
        left = np.stack([c.cx - cs, c.cy + sn], axis=1)[::-1]      # top to bottom
        pts = np.concatenate([right, left[1:]])
        return [(pts[i], pts[i + 1]) for i in range(2 * half)]

    def _circle_gap(self, c: Conductor) -> float:
        """Smallest distance from the circle to another boundary (shell, conductor)."""
        gap = self.scale
        for cx, cy, r0, r1, _, _ in self.geo.shells:
            if math.hypot(cx - c.cx, cy - c.cy) < 1e-9 * max(c.r, 1e-9):
                for rr in (r0, r1):
                    if abs(rr - c.r) > 1e-12 * c.r:
                        gap = min(gap, abs(rr - c.r))
        th = np.linspace(0, 2 * math.pi, 65)[:-1]
        ring = np.stack([c.cx + c.r * np.cos(th), c.cy + c.r * np.sin(th)], axis=1)
        others = [o for o in self.geo.conductors if o is not c]
        if others:
            gap = min(gap, max(float(dist_to_shapes(ring, others).min()), 1e-3 * c.r))
        return gap

    def _interface_run(self, a: float, b: float, lv: float, near, xl: float, xr: float,
                       trunc: float) -> list:
        """Panels on the interface piece [a, b] at height lv: aligned under near faces,
        graded elsewhere (towards conductors and aligned ranges, not the truncation)."""
        fixed = [xs[(xs >= a) & (xs <= b)] for xs, _ in near if xs[-1] > a and xs[0] < b]
        covered: list[tuple[float, float]] = []
        for xs, _ in near:
            lo, hi = max(xs[0], a), min(xs[-1], b)
            if hi > lo:
                covered.append((lo, hi))
        covered.sort()
        merged: list[list[float]] = []
        for lo, hi in covered:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        free = [(a, b)]
        for lo, hi in merged:
            free = _subtract(free, lo, hi)
        out = []
        if merged:
            # merge break points closer than a quarter of the smallest panel, keeping the
            # ends of the aligned ranges exactly
            ends = np.array([v for m in merged for v in m])
            bps = _merge_close(np.concatenate(fixed), 0.25 * self.h_min, ends)
            for lo, hi in merged:
                xs = bps[(bps >= lo) & (bps <= hi)]
                for x0, x1 in zip(xs[:-1], xs[1:]):
                    if x1 <= x0:
                        continue
                    # a face panel may be longer than the interface needs (a wide plate far
                    # above a line): subdivide it towards other conductors; its ends stay
                    # break points (aligned)
                    above = frozenset(k for xs_f, k in near if xs_f[0] <= x0 and xs_f[-1] >= x1)
                    fn = self.size_fn(None, x1 - x0, (False, False), above, level=lv)
                    pts = _graded_points(np.array([x0, lv]), np.array([x1, lv]), fn, 1,
                                         self.h_min)
                    out += [(pts[i], pts[i + 1]) for i in range(pts.shape[0] - 1)]
        for lo, hi in free:
            p0, p1 = np.array([lo, lv]), np.array([hi, lv])
            length = hi - lo
            fn = self.size_fn(None, max(length / 4, 1e-300),
                              (lo > xl + 1e-12 * trunc, hi < xr - 1e-12 * trunc), level=lv)
            pts = _graded_points(p0, p1, fn, 2, self.h_min)
            out += [(pts[i], pts[i + 1]) for i in range(pts.shape[0] - 1)]
        return out

    def interface_panels(self):
        geo = self.geo
        out = []
        x0, x1, y0, y1 = geo.span
        w = max(x1 - x0, y1 - y0, 1e-12)
        trunc = geo.mesh.truncation * w
        if self.plate_gap is not None:
            trunc = min(trunc, 8 * self.plate_gap)
        xl, xr = x0 - trunc, x1 + trunc
        for lv in geo.levels:
            if geo.ground_y is not None and lv <= geo.ground_y:
                continue
            if geo.top_y is not None and lv >= geo.top_y:
                continue
            # cut out the parts inside (or on the faces of) conductors
            cuts = [(xl, xr)]
            for c in geo.conductors:
                if c.round:
                    dy = lv - c.cy
                    if abs(dy) < c.r:
                        hw = math.sqrt(c.r ** 2 - dy * dy)
                        cuts = _subtract(cuts, c.cx - hw, c.cx + hw)
                        if c.kind == "ring" and abs(dy) < c.r_in:   # the hole is dielectric
                            hi = math.sqrt(c.r_in ** 2 - dy * dy)
                            cuts = sorted(cuts + [(c.cx - hi, c.cx + hi)])
                elif c.y0 - 1e-15 <= lv <= c.y1 + 1e-15:
                    t = 0.0 if c.y1 == c.y0 else (lv - c.y0) / (c.y1 - c.y0)
                    a = c.x0 + t * (c.xt0 - c.x0) if c.kind == "trap" else c.x0
                    b = c.x1 + t * (c.xt1 - c.x1) if c.kind == "trap" else c.x1
                    cuts = _subtract(cuts, a, b)
            # Horizontal conductor faces closer to this interface than their length: below
            # them the interface takes the face's own break points, so that the panels face
            # each other. Misaligned piecewise-constant panels a gap g apart err by
            # O(h / g); aligned ones carry the near-uniform field of the gap exactly,
            # and the panel count stays that of the face whatever the gap.
            # Break points closer than a quarter of the gap are thinned out: below that
            # scale the face's field at the interface is smooth, misalignment costs nothing.
            near = [(_thin(xs, 0.25 * abs(yf - lv) / self.refine), k)
                    for yf, xs, ln, k in self.faces if yf != lv and abs(yf - lv) < ln]
            for a, b in cuts:
                out += self._interface_run(a, b, lv, near, xl, xr, trunc)
        for cx, cy, _r0, r1, _, _ in geo.shells:
            out += _circle_segments(cx, cy, r1, self._count_at(cx, cy))
        for bx0, bx1, by0, by1, _ in geo.blocks:
            poly = np.array([[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]])
            for i in range(4):
                p0, p1 = poly[i], poly[(i + 1) % 4]
                length = float(np.hypot(*(p1 - p0)))
                fn = self.size_fn(None, length / self.n_edge * 2)
                pts = _graded_points(p0, p1, fn, max(2, self.n_edge // 2), self.h_min)
                out += [(pts[j], pts[j + 1]) for j in range(pts.shape[0] - 1)]
        return out


def _thin(xs: np.ndarray, spacing: float) -> np.ndarray:
    """Sorted break points with none closer than *spacing* to a kept neighbour (the ends
    kept).

    Thinned from both ends towards the middle, one point from each side per step, so that
    mirrored break points are thinned to mirrored ones (a one-sided sweep is not: it
    keeps the left one of two close points, the mirror image keeps the other). Two
    candidates that would each be kept but lie closer than *spacing* to each other (the
    middle of a symmetric set) are both dropped.
    """
    if xs.size <= 2:
        return xs
    left, right = [xs[0]], [xs[-1]]
    i, j = 1, xs.size - 2
    while i <= j:
        ok_l = xs[i] - left[-1] >= spacing and right[-1] - xs[i] >= spacing
        if i == j:
            if ok_l:
                left.append(xs[i])
            break
        ok_r = right[-1] - xs[j] >= spacing and xs[j] - left[-1] >= spacing
        if ok_l and ok_r and xs[j] - xs[i] < spacing:
            ok_l = ok_r = False
        if ok_l:
            left.append(xs[i])
        if ok_r:
            right.append(xs[j])
        i, j = i + 1, j - 1
    return np.array(left + right[::-1])


def _merge_close(xs: np.ndarray, tol: float, keep: np.ndarray) -> np.ndarray:
    """Sorted unique break points, each run of points closer than *tol* to the next one
    replaced by one: a point of *keep* in it (kept exactly), else the run's middle. A
    mirror-symmetric (translated) set gives a mirror-symmetric (translated) one."""
    xs = np.unique(np.concatenate([xs, keep]))
    if xs.size < 2:
        return xs
    runs = np.split(xs, np.flatnonzero(np.diff(xs) > tol) + 1)
    out = []
    for r in runs:
        fixed = r[np.isin(r, keep)]
        out.extend(fixed if fixed.size else [0.5 * (r[0] + r[-1])])
    return np.unique(np.array(out))


def _subtract(intervals: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    out = []
    for lo, hi in intervals:
        if b <= lo or a >= hi:
            out.append((lo, hi))
            continue
        if a > lo:
            out.append((lo, a))
        if b < hi:
            out.append((b, hi))
    return [(lo, hi) for lo, hi in out if hi - lo > 1e-15]


def mesh_panels(geo: Geometry, refine: float = 1.0) -> Panels:
    """Panels on every conductor boundary and every dielectric interface of *geo*."""
    m = _Mesher(geo, refine)
    cp = m.conductor_panels()
    ip = m.interface_panels()
    a = np.array([p[0] for p in cp] + [p[0] for p in ip])
    b = np.array([p[1] for p in cp] + [p[1] for p in ip])
    owner = np.array([p[2] for p in cp] + [-1] * len(ip), dtype=int)
    d = b - a
    t = d / np.linalg.norm(d, axis=1)[:, None]
    nrm = np.stack([t[:, 1], -t[:, 0]], axis=1)    # right of the direction: outward for CCW
    mid = 0.5 * (a + b)
    # which panels lie on one circle (chords of a conductor, ring face or shell)
    circ = np.full(owner.size, -1)
    circles = [(c.cx, c.cy, c.r) for c in geo.conductors if c.round]
    circles += [(c.cx, c.cy, c.r_in) for c in geo.conductors if c.kind == "ring"]
    circles += [(sh[0], sh[1], sh[3]) for sh in geo.shells]
    for k, (cx, cy, r) in enumerate(circles):
        ra = np.hypot(a[:, 0] - cx, a[:, 1] - cy)
        rb = np.hypot(b[:, 0] - cx, b[:, 1] - cy)
        on = (np.abs(ra - r) <= 1e-9 * r) & (np.abs(rb - r) <= 1e-9 * r)
        circ[on] = k
    # Probe each side of a panel for its materials: a chord of a circle a tenth of its
    # length off (beyond the inset L^2 / 8r of the inscribed polygon; the mesh grades chords
    # to a fraction of every gap), a straight panel, which lies exactly on its boundary, a
    # millionth of its length off (a face can be much closer than its panels are long to
    # a parallel interface).
    frac = np.where(circ >= 0, 0.1, 1e-6)
    off = (frac * np.linalg.norm(d, axis=1))[:, None] * nrm
    pp, pm = mid + off, mid - off
    plus = geo.material_at(pp[:, 0], pp[:, 1])
    minus = geo.material_at(pm[:, 0], pm[:, 1])
    minus = np.where(owner >= 0, None, minus)
    keep = (owner >= 0) | (plus != minus)
    # interfaces between two materials of equal permittivity at every frequency are dropped,
    # and so are interfaces lying on a conductor's surface
    inside = np.zeros(owner.size, dtype=bool)
    for c in geo.conductors:
        inside |= c.contains(pp[:, 0], pp[:, 1]) | c.contains(pm[:, 0], pm[:, 1])
    for i in np.flatnonzero(owner < 0):
        if keep[i] and (inside[i] or geo.materials[plus[i]] == geo.materials[minus[i]]):
            keep[i] = False
    return Panels(a[keep], b[keep], owner[keep], nrm[keep], plus[keep], minus[keep], circ[keep])


def segment_mirror(a: np.ndarray, b: np.ndarray, tol: float = 1e-9, axis: int = 0
                   ) -> np.ndarray | None:
    """The involution of segments (a, b) (N, 2) under the mirror in the line through the
    middle of their extent perpendicular to *axis* (0: a vertical line): segment i maps
    onto the one whose end points are those of i mirrored (in either order) to *tol* of
    its length; None if some segment has no image.

    Returns
    -------
    ndarray of int, shape (N,), or None
    """
    from scipy.spatial import cKDTree

    if a.shape[0] == 0:
        return None
    pts = np.concatenate([a[:, axis], b[:, axis]])
    centre = 0.5 * (pts.min() + pts.max())

    def key(a, b):
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        return np.hstack([np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)])

    ma, mb = a.copy(), b.copy()
    ma[:, axis] = 2 * centre - ma[:, axis]
    mb[:, axis] = 2 * centre - mb[:, axis]
    dist, perm = cKDTree(key(a, b)).query(key(ma, mb))
    length = np.hypot(*(b - a).T)
    if np.any(dist > tol * length) or np.any(perm[perm] != np.arange(a.shape[0])):
        return None
    return perm


def panel_mirror(p: Panels, tol: float = 1e-9) -> np.ndarray | None:
    """The involution of the panels under the mirror in the vertical line through the
    middle of their extent, if the mesh is mirror-symmetric; None otherwise.

    Panel i maps onto the panel whose end points are those of i mirrored (in either order)
    to *tol* of its length (:func:`segment_mirror`), of the same material(s) (an interface
    panel's sides may be swapped), with conductors mapped onto conductors.

    Returns
    -------
    ndarray of int, shape (P,), or None
    """
    perm = segment_mirror(p.a, p.b, tol)
    if perm is None:
        return None
    own, town = p.owner, p.owner[perm]
    if np.any((own < 0) != (town < 0)):
        return None
    cond = own >= 0
    sigma = {}
    for k, j in zip(own[cond], town[cond]):
        if sigma.setdefault(int(k), int(j)) != j:
            return None
    plus, minus = p.mat_plus, p.mat_minus
    same = (plus[perm] == plus) & ((minus[perm] == minus) | cond)
    swapped = ~cond & (plus[perm] == minus) & (minus[perm] == plus)
    if not np.all(same | swapped):
        return None
    return perm


# ----------------------------------------------------------------------------- solver
def _circle_centre(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre of the circle through the chord end points (their mean, for a full circle)."""
    return 0.5 * (a.mean(axis=0) + b.mean(axis=0))


class ConductorRows:
    """The conductor rows of the boundary-element matrix -- the potential at each conductor
    panel's midpoint of a unit density on every panel (images and the two-plane remainder
    included) -- without an m x m array.

    Conductors whose panels are translates of each other (the lines of a bus) share their
    blocks: the potential depends on the difference of positions only (and, with planes,
    on the height, which is part of the key), so N identical lines need about 2N distinct
    line-line blocks instead of N^2. The rest is kept as two dense strips: the rows of the
    translated conductors against the other columns, and the rows of the other conductors
    (a plane) against every column. :meth:`rows` and :meth:`cols` give any row or column
    block exactly as the dense matrix holds it. With *into* (the dense m x m matrix) the
    blocks and strips are written there as they are made and not kept.
    """

    def __init__(self, solver: BemSolver, images, gap, into: np.ndarray | None = None
                 ) -> None:
        p = solver.panels
        n = p.n
        self.n = n
        owners = np.unique(p.owner[p.owner >= 0]).tolist()
        self.conductors = owners
        scale = float(max(np.ptp(np.concatenate([p.a, p.b]), axis=0).max(), 1e-30))
        fixed_y = bool(images) or gap is not None
        ids, origin, shape = {}, {}, {}
        for k in owners:
            pk = np.flatnonzero(p.owner == k)
            o = np.minimum(p.a[pk], p.b[pk]).min(axis=0)
            ids[k], origin[k] = pk, o
            rel = np.concatenate([p.a[pk] - o, p.b[pk] - o], axis=1) / scale
            shape[k] = np.round(rel, 10).tobytes()
        self.ids = ids
        count: dict[bytes, int] = {}
        for k in owners:
            count[shape[k]] = count.get(shape[k], 0) + 1
        grouped = [k for k in owners if count[shape[k]] > 1]
        self.grouped = grouped
        in_group = np.zeros(n, dtype=bool)
        for k in grouped:
            in_group[ids[k]] = True
        self.local = np.full(n, -1)            # a panel's position within its conductor
        for k in owners:
            self.local[ids[k]] = np.arange(ids[k].size)
        # translated blocks: one per (shape, shape, shift, height)
        self.seen: dict[tuple, np.ndarray] = {}
        self.key: dict[tuple[int, int], tuple] = {}
        org = np.array([origin[k] for k in grouped]).reshape(-1, 2)
        shifts = np.round((org[None, :, :] - org[:, None, :]) / scale, 10)
        for i, k in enumerate(progress.track(grouped, f"potential of {len(grouped)} "
                                             "translated conductors")):
            height = round(float(origin[k][1]) / scale, 10) if fixed_y else 0.0
            for jj, j in enumerate(grouped):
                key = (shape[k], shape[j], shifts[i, jj].tobytes(), height)
                self.key[(k, j)] = key
                if key not in self.seen:
                    self.seen[key] = solver._potential(ids[k], ids[j], images, gap)
                if into is not None:             # a conductor's panels are consecutive
                    rk, cj = ids[k], ids[j]
                    if rk[-1] - rk[0] + 1 == rk.size and cj[-1] - cj[0] + 1 == cj.size:
                        into[rk[0]:rk[-1] + 1, cj[0]:cj[-1] + 1] = self.seen[key]
                    else:
                        into[np.ix_(rk, cj)] = self.seen[key]
        # the strips
        self.other_cols = np.flatnonzero(~in_group)
        self.ocol = np.full(n, -1)
        self.ocol[self.other_cols] = np.arange(self.other_cols.size)
        rows_g = np.flatnonzero(in_group & (p.owner >= 0))
        rows_o = np.flatnonzero(~in_group & (p.owner >= 0))
        self.gpos = np.full(n, -1)
        self.gpos[rows_g] = np.arange(rows_g.size)
        self.opos = np.full(n, -1)
        self.opos[rows_o] = np.arange(rows_o.size)
        self.g_other = self._strip(solver, rows_g, self.other_cols, images, gap, into)
        self.o_all = self._strip(solver, rows_o, np.arange(n), images, gap, into)
        self.cond = np.flatnonzero(p.owner >= 0)
        self.rpos = np.full(n, -1)
        self.rpos[self.cond] = np.arange(self.cond.size)
        self.owner = p.owner

    @staticmethod
    def _strip(solver: BemSolver, rows: np.ndarray, cols: np.ndarray, images, gap,
               into: np.ndarray | None = None) -> np.ndarray | None:
        """The potential of rows x cols by row blocks; written into *into* (and None
        returned) when given."""
        out = None if into is not None else np.empty((rows.size, cols.size))
        if rows.size and cols.size:
            step = max(64, int(2**21 // max(cols.size, 1)))
            for lo in range(0, rows.size, step):
                blk = solver._potential(rows[lo:lo + step], cols, images, gap)
                if out is None:
                    into[np.ix_(rows[lo:lo + step], cols)] = blk
                else:
                    out[lo:lo + step] = blk
        return out

    def rows(self, g: np.ndarray) -> np.ndarray:
        """Rows *g* (conductor panel indices) against every column, shape (len(g), P)."""
        g = np.asarray(g, dtype=int)
        out = np.empty((g.size, self.n))
        own = self.owner[g]
        for k in np.unique(own).tolist():
            sel = np.flatnonzero(own == k)
            gs = g[sel]
            if self.gpos[gs[0]] < 0:                       # not a translated conductor
                out[sel] = self.o_all[self.opos[gs]]
                continue
            loc = self.local[gs]
            for j in self.grouped:
                out[np.ix_(sel, self.ids[j])] = self.seen[self.key[(k, j)]][loc]
            out[np.ix_(sel, self.other_cols)] = self.g_other[self.gpos[gs]]
        return out

    def cols(self, c: np.ndarray) -> np.ndarray:
        """Every conductor row (in panel order) against the columns *c*, shape
        (conductor panels, len(c))."""
        c = np.asarray(c, dtype=int)
        out = np.empty((self.cond.size, c.size))
        oc = self.ocol[c]
        is_other = oc >= 0
        col_own = self.owner[c]
        for k in self.conductors:
            rk = self.rpos[self.ids[k]]
            if self.gpos[self.ids[k][0]] < 0:
                out[rk] = self.o_all[self.opos[self.ids[k]]][:, c]
                continue
            if is_other.any():
                out[np.ix_(rk, np.flatnonzero(is_other))] = \
                    self.g_other[self.gpos[self.ids[k]]][:, oc[is_other]]
            for j in np.unique(col_own[~is_other]).tolist():
                sel = np.flatnonzero(~is_other & (col_own == j))
                out[np.ix_(rk, sel)] = self.seen[self.key[(k, j)]][:, self.local[c[sel]]]
        return out


class BemSolver:
    """Assemble once, then solve at any frequency for :math:`C - jG/\\omega` (F/m).

    Only the interface equations of panels touching a frequency-dependent material change
    with frequency, and only on the diagonal. The system is factorised once at a reference
    frequency; any other frequency is a rank-*k* Woodbury update (*k* such panels):
    :math:`A^{-1}b = X - Y(I + DM)^{-1}DX_S` with :math:`X = A_0^{-1}b`,
    :math:`Y = A_0^{-1}U`, :math:`M = Y_S`, :math:`D = \\operatorname{diag}(\\delta c(f))`.

    Parameters
    ----------
    geo : Geometry
        The cross-section.
    refine : float
        Mesh refinement factor on top of the file's ``mesh.refine``.
    xp : module
        Array namespace for the dense factorisation (numpy or cupy).
    """

    block_elimination = True
    """Factor by :meth:`_block_solver` where the interface panels are the smaller part."""

    def __init__(self, geo: Geometry, refine: float = 1.0, *, xp=np, method: str = "auto"):
        if method not in ("auto", "full", "reduced"):
            raise ValueError(f"method must be 'auto', 'full' or 'reduced', not {method!r}")
        self.geo = geo
        self.xp = xp
        self.method = method
        self.reduced_unknowns: int | None = None
        self.panels = mesh_panels(geo, refine)
        p = self.panels
        self.n_signal = len(geo.signals)
        self.ground = geo.ground_y
        mid, a, b = p.mid, p.a, p.b
        # Conductor rows need only the potential, interface rows only the normal field (as
        # the bem_influence kernel computes them): each kernel is evaluated on its rows.
        cr = self.cond_rows = np.flatnonzero(p.owner >= 0)
        dr = self.diel_rows = np.flatnonzero(p.owner < 0)
        md, nd = mid[dr], p.normal[dr]
        planes = [y for y in (self.ground, geo.top_y) if y is not None]
        images = []
        for yp in planes:              # images in the ground (and top) plane
            ai, bi = a.copy(), b.copy()
            ai[:, 1] = 2 * yp - a[:, 1]
            bi[:, 1] = 2 * yp - b[:, 1]
            images.append((ai, bi))
        gap = None if geo.top_y is None else geo.top_y - self.ground
        # row blocks: the closed forms hold about a dozen (rows, P) temporaries at once
        block = max(64, int(2**21 // max(p.n, 1)))     # ~200 MB of temporaries
        n = p.n
        neutral = self.ground is None
        m = n + (1 if neutral else 0)
        # real: only the frequency's diagonal is complex (see factor); released once factored
        # with a ground plane, the conductor block solved on a reduced basis and the block
        # elimination applying, the conductor rows are kept as translated blocks and two
        # dense strips (ConductorRows) instead of an m x m matrix
        self._lean: ConductorRows | None = None
        if (not neutral and self._reduces(cr.size) and self.block_elimination
                and 0 < dr.size <= m - dr.size):
            self._lean = ConductorRows(self, images, gap)
            a0 = None
        else:
            a0 = np.zeros((m, m))
            self._conductor_rows(a0, images, gap)
        kn = np.empty((dr.size, p.n))                           # (interface rows, P)
        loc = np.arange(dr.size)
        for lo in range(0, dr.size, block):
            hi = min(dr.size, lo + block)
            ex, ey = field_kernel(md[lo:hi], a, b)
            # a panel's own field at its midpoint is the principal value, 0 (rounding would
            # otherwise put the point on either side)
            ex[loc[lo:hi] - lo, dr[lo:hi]] = 0.0
            ey[loc[lo:hi] - lo, dr[lo:hi]] = 0.0
            kn[lo:hi] = ex * nd[lo:hi, 0:1] + ey * nd[lo:hi, 1:2]
            del ex, ey
        # Flat chords of a circle miss its exact self-field by O(1/N): a uniform density x on
        # a circle has the principal-value normal field x/2 (outward normal), but the chords
        # give slightly less, and high contrast amplifies the defect into the voltage across a
        # thin liner. Calibrate each interface chord's self term so that the discrete
        # free-space operator reproduces the exact value on its own circle (row-sum
        # correction); this makes the convergence second order.
        if p.circle is not None:
            row_of = np.full(p.n, -1)
            row_of[dr] = loc
            for k in np.unique(p.circle[p.owner < 0]):
                if k < 0:
                    continue
                rows = np.flatnonzero((p.circle == k) & (p.owner < 0))
                cols = np.flatnonzero(p.circle == k)
                if rows.size < 3 or rows.size != cols.size:
                    continue
                cen = _circle_centre(p.a[cols], p.b[cols])
                outward = np.sign(((p.mid[rows] - cen) * p.normal[rows]).sum(1))
                own = kn[np.ix_(row_of[rows], cols)].sum(axis=1)
                kn[row_of[rows], rows] += 0.5 * outward - own
        for lo in range(0, dr.size, block):     # images and plates after the calibration
            hi = min(dr.size, lo + block)
            for ai, bi in images:
                exi, eyi = field_kernel(md[lo:hi], ai, bi)
                kn[lo:hi] -= exi * nd[lo:hi, 0:1] + eyi * nd[lo:hi, 1:2]
                del exi, eyi
            if gap is not None:
                kn[lo:hi] += _plates_terms(md[lo:hi], a, b, nd[lo:hi], self.ground, gap)[1]
        if a0 is None:
            self._kn = kn                  # the interface rows (D x P)
        else:
            a0[dr, :n] = kn
        del kn
        if neutral:
            a0[cr, n] = 1.0                     # potential at infinity
            a0[n, :n] = p.length                # total charge zero
        self.a0: np.ndarray | None = a0
        self._assembled = True
        self._size = m
        self._lu_rr = None               # LU of the real block R (see _rr_factor)
        self._c_vacuum: np.ndarray | None = None
        ns = self.n_signal
        rhs = np.zeros((m, ns), dtype=complex)
        for k in range(ns):
            rhs[cr[p.owner[cr] == k], k] = 1.0
        self.rhs = rhs
        self._factored_at: float | None = None
        mats = {k for k in p.mat_plus.tolist()} | {k for k in p.mat_minus.tolist() if k}
        dep = {k for k in mats if geo.materials[k].frequency_dependent}
        self.varying = np.array([i for i in dr if p.mat_plus[i] in dep or p.mat_minus[i] in dep],
                                dtype=int)

    def _potential(self, rows: np.ndarray, cols: np.ndarray, images, gap) -> np.ndarray:
        """Potential at the midpoints of panels *rows* of unit densities on panels *cols*
        (images and the two-plane remainder included), shape (len(rows), len(cols))."""
        p = self.panels
        mid = p.mid[rows]
        blk = potential_kernel(mid, p.a[cols], p.b[cols])
        for ai, bi in images:
            blk -= potential_kernel(mid, ai[cols], bi[cols])
        if gap is not None:        # and the rest of the parallel-plate Green's function
            blk += _plates_terms(mid, p.a[cols], p.b[cols], p.normal[rows], self.ground, gap)[0]
        return blk

    def _conductor_rows(self, a0: np.ndarray, images, gap) -> None:
        """Fill the conductor rows of *a0* (potential of every panel's density), from the
        translated blocks and strips of :class:`ConductorRows`, written as they are made."""
        ConductorRows(self, images, gap, into=a0)

    @property
    def unknowns(self) -> int:
        """Number of unknowns of the linear system."""
        return self._size

    def _eps(self, f: float) -> dict:
        p = self.panels
        keys = {k for k in p.mat_plus.tolist()} | {k for k in p.mat_minus.tolist() if k}
        return {k: self.geo.materials[k].permittivity(np.array([f]))[0] for k in keys}

    def _c(self, rows: np.ndarray, eps: dict) -> np.ndarray:
        p = self.panels
        ep = np.array([eps[k] for k in p.mat_plus[rows]])
        em = np.array([eps[k] for k in p.mat_minus[rows]])
        return (ep + em) / (2 * (ep - em))

    def _reduction(self) -> tuple[list[str], np.ndarray]:
        """Charge reduction by outside material: Q_k = eps0 sum_m eps_m(f) (R_m x)_k."""
        p = self.panels
        cr = self.cond_rows
        mats = sorted(set(p.mat_plus[cr].tolist()))
        red = np.zeros((len(mats), self.n_signal, self._size))
        for mi, m in enumerate(mats):
            sel = cr[p.mat_plus[cr] == m]
            for k in range(self.n_signal):
                s2 = sel[p.owner[sel] == k]
                red[mi, k, s2] = p.length[s2]
        return mats, red

    def factor(self, f: float) -> None:
        """Factor the system at the reference frequency *f* (Hz) once; each frequency's
        :meth:`solve` is then a low-rank update of it. The matrix is released afterwards."""
        import scipy.linalg

        if not self._assembled:
            raise RuntimeError("BemSolver factors its matrix once and then releases it; build "
                               "another BemSolver to factor at another reference frequency")
        eps = self._eps(f)
        dr = self.diel_rows
        m = self._size
        if self.xp is np and self.block_elimination and 0 < dr.size <= m - dr.size:
            solve = self._block_solver(self._c(dr, eps))
        elif self.xp is np:
            a = np.array(self.a0, dtype=complex, order="F")   # a copy, in the order LAPACK factors in place
            a[dr, dr] += self._c(dr, eps)
            lu = scipy.linalg.lu_factor(a, overwrite_a=True, check_finite=False)

            def solve(rhs):
                return scipy.linalg.lu_solve(lu, rhs, check_finite=False)
        else:
            a = np.array(self.a0, dtype=complex, order="F")
            a[dr, dr] += self._c(dr, eps)
            xp = self.xp
            ad = xp.asarray(a)

            def solve(rhs):
                return xp.asnumpy(xp.linalg.solve(ad, xp.asarray(rhs)))
        x = solve(self.rhs)
        self._mats, red = self._reduction()
        n_mat, ns = red.shape[:2]
        red2 = red.reshape(n_mat * ns, m)
        # everything other frequencies need, reduced to charges already
        self._rx = (red2 @ x).reshape(n_mat, ns, -1)            # (materials, ns, ns)
        v = self.varying
        if v.size:
            if hasattr(solve, "interface_columns"):
                # unit columns on interface rows: their charges and the solution on v
                # without forming the solution on the conductor panels
                ry, self._m = solve.interface_columns(v, red2)
            else:
                u = np.zeros((m, v.size), dtype=complex)
                u[v, np.arange(v.size)] = 1.0
                y = solve(u)
                ry, self._m = red2 @ y, y[v]
            self._ry = ry.reshape(n_mat, ns, -1)                # (materials, ns, k)
            self._xv = x[v]
            self._c_ref = self._c(v, eps)
            self._modal = self._modal_update()
        self._factored_at = f
        if self._c_vacuum is None:
            self.solve_vacuum()
        # nothing else needs the matrix or the real block's LU: release them (a large bus
        # would otherwise hold them through the filament stage)
        self.a0 = None
        self._lean = None
        self._kn = None
        self._assembled = False
        self._lu_rr = None

    def _block_solver(self, c_d: np.ndarray):
        r"""Solver of the system by block elimination of its real part.

        Only the interface rows *D* carry the complex diagonal *c_d*; with *R* the other
        unknowns (conductor panels, and the potential at infinity),

        .. math:: S = A_{DD} + \operatorname{diag}(c_D) - A_{DR}A_{RR}^{-1}A_{RD},\quad
                  x_D = S^{-1}(b_D - A_{DR}A_{RR}^{-1}b_R),\quad
                  x_R = A_{RR}^{-1}b_R - A_{RR}^{-1}A_{RD}\,x_D.

        :math:`A_{RR}` is factored in real arithmetic and only the interface block in
        complex: about a quarter of the work of one complex factorisation when *D* is the
        smaller part (the conductor panels of a bus), no complex matrix of the full size,
        and right-hand sides that vanish on *R* (the low-rank update's columns) cost a
        product with :math:`A_{RR}^{-1}A_{RD}` only. Exact up to rounding.
        """
        import scipy.linalg

        d = self.diel_rows
        solve_rr, r = self._rr_factor()
        if self._lean is not None:
            a_dr, a_dd = self._kn[:, r], self._kn[:, d]
            g = solve_rr(self._lean.cols(d))                           # A_RR^-1 A_RD
        else:
            a0 = self.a0
            a_dr, a_dd = a0[np.ix_(d, r)], a0[np.ix_(d, d)]
            g = solve_rr(a0[np.ix_(r, d)])                             # A_RR^-1 A_RD
        s = a_dd - a_dr @ g
        s = s.astype(complex)
        s[np.arange(d.size), np.arange(d.size)] += c_d
        lu_s = scipy.linalg.lu_factor(s, overwrite_a=True, check_finite=False)

        def solve(rhs):
            rhs = np.asarray(rhs, dtype=complex)
            k = rhs.shape[1]
            b_r = rhs[r]
            if b_r.any():
                yy = solve_rr(np.hstack([b_r.real, b_r.imag]))
                y = yy[:, :k] + 1j * yy[:, k:]
                x_d = scipy.linalg.lu_solve(lu_s, rhs[d] - a_dr @ y, check_finite=False)
            else:
                y = 0.0
                x_d = scipy.linalg.lu_solve(lu_s, rhs[d], check_finite=False)
            x = np.empty_like(rhs)
            x[d] = x_d
            x[r] = y - (g @ x_d.real + 1j * (g @ x_d.imag))
            return x

        def interface_columns(v: np.ndarray, red: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """For the unit right-hand sides on the interface rows *v*: ``red @ x`` and
            ``x[v]``. With b_R = 0, x_R = -A_RR^-1 A_RD x_D, so ``red @ x`` is
            ``(red_D - red_R A_RR^-1 A_RD) x_D``: the (rows of red) x D product is formed
            once instead of the solution on every conductor panel."""
            pos = np.full(m_all, -1)
            pos[d] = np.arange(d.size)
            if np.any(pos[v] < 0):
                raise ValueError("interface_columns: rows outside the interface block")
            rhs_d = np.zeros((d.size, v.size), dtype=complex)
            rhs_d[pos[v], np.arange(v.size)] = 1.0
            x_d = scipy.linalg.lu_solve(lu_s, rhs_d, check_finite=False)
            proj = red[:, d] - red[:, r] @ g
            return proj @ x_d, x_d[pos[v]]

        m_all = self._size
        solve.interface_columns = interface_columns
        return solve

    def _modal_update(self):
        r"""When every varying panel lies on one kind of interface (one pair of materials),
        :math:`D = \delta(f)I` and with :math:`M = V\Lambda V^{-1}` (once)
        :math:`(I + \delta M)^{-1}\delta X_S = V\,\mathrm{diag}\big(\delta/(1+\delta\lambda)
        \big)V^{-1}X_S`: each frequency is then a diagonal scaling instead of a dense
        k x k solve. None when there are several kinds, or when V is ill-conditioned
        (condition number above 1e6: the dense solve is kept)."""
        p = self.panels
        v = self.varying
        kinds = set(zip(p.mat_plus[v].tolist(), p.mat_minus[v].tolist()))
        if len(kinds) != 1 or v.size < 32:
            return None
        lam, vec = np.linalg.eig(self._m)
        if not np.all(np.isfinite(lam)) or np.linalg.cond(vec) > 1e6:
            return None
        g = np.linalg.solve(vec, self._xv)                          # V^-1 X_S, (k, ns)
        return lam, np.einsum("mkv,vj->mkj", self._ry, vec), g

    def solve(self, f: float) -> np.ndarray:
        """Complex capacitance matrix :math:`C - jG/\\omega` of the signals at *f* (Hz), F/m."""
        if self._factored_at is None:
            self.factor(f)
        eps = self._eps(f)
        wts = np.array([eps[m] for m in self._mats])
        q = np.einsum("m,mks->ks", wts, self._rx)
        v = self.varying
        if v.size and f != self._factored_at:
            d = self._c(v, eps) - self._c_ref
            if self._modal is not None:
                lam, ry_v, g = self._modal
                s = d[0] / (1.0 + d[0] * lam)
                return EPS0 * (q - np.einsum("m,mkv->kv", wts, ry_v) @ (s[:, None] * g))
            lhs = np.eye(v.size) + d[:, None] * self._m
            z = np.linalg.solve(lhs, d[:, None] * self._xv)        # (k, ns)
            q = q - np.einsum("m,mkv,vs->ks", wts, self._ry, z)
        return EPS0 * q

    def solve_vacuum(self) -> np.ndarray:
        """Capacitance matrix with every dielectric replaced by vacuum (no bound charge)."""

        if self._c_vacuum is not None:
            return self._c_vacuum.copy()
        p = self.panels
        cr = self.cond_rows
        ns = self.n_signal
        solve_rr, r = self._rr_factor()
        # R is the conductor panels (in order) and the potential at infinity: the vacuum
        # system is exactly the block A_RR
        rhs = np.zeros((r.size, ns))
        for k in range(ns):
            rhs[np.flatnonzero(p.owner[cr] == k), k] = 1.0
        x = solve_rr(rhs)[:cr.size]
        cmat = np.zeros((ns, ns))
        for k in range(ns):
            sel = p.owner[cr] == k
            cmat[k] = EPS0 * (p.length[cr][sel, None] * x[sel]).sum(axis=0)
        self._c_vacuum = cmat
        return cmat.copy()

    def _rr_factor(self):
        """Solver of the real block :math:`A_{RR}` (conductor panels and the potential at
        infinity), shared by the vacuum solve and :meth:`_block_solver`; and R.

        By LU, or on the reduced basis of :func:`sigint.extract.clusters.reduced_block_solver`
        on the host (``method="reduced"``, or ``"auto"`` with at least
        :data:`REDUCED_MIN_PANELS` conductor panels; never with a device backend, whose
        factorisation takes the whole matrix): the block is only ever solved for uniform
        conductor potentials and the potential of the other charges."""
        import scipy.linalg

        if self._lu_rr is None:
            keep = np.ones(self._size, dtype=bool)
            keep[self.diel_rows] = False
            r = np.flatnonzero(keep)
            if self._lean is not None:
                from .clusters import reduced_block_solver

                lean = self._lean
                solve, self.reduced_unknowns = reduced_block_solver(
                    None, r, self._panel_clusters(r), rows=lean.rows, cols=lean.cols,
                    size=self._size, mirror=self._mirror_of(r))
            elif self._reduces(self.cond_rows.size):
                from .clusters import reduced_block_solver

                solve, self.reduced_unknowns = reduced_block_solver(
                    self.a0, r, self._panel_clusters(r), mirror=self._mirror_of(r))
            else:
                lu = scipy.linalg.lu_factor(self.a0[np.ix_(r, r)], overwrite_a=True,
                                            check_finite=False)

                def solve(rhs):
                    return scipy.linalg.lu_solve(lu, rhs, check_finite=False)
            self._lu_rr = (solve, r)
        return self._lu_rr

    def _mirror_of(self, r: np.ndarray) -> np.ndarray | None:
        """The mirror involution (:func:`panel_mirror`) on the positions in *r* (conductor
        panels, and the potential at infinity, its own image), or None."""
        if not hasattr(self, "_panel_perm"):
            self._panel_perm = panel_mirror(self.panels)
        perm = self._panel_perm
        if perm is None:
            return None
        full = np.arange(self._size)
        full[:perm.size] = perm
        pos = np.full(self._size, -1)
        pos[r] = np.arange(r.size)
        out = pos[full[r]]
        return None if np.any(out < 0) else out

    def _reduces(self, n_cond: int) -> bool:
        """Whether the conductor block is solved on a reduced basis (host only)."""
        return self.xp is np and (self.method == "reduced" or (
            self.method == "auto" and n_cond >= REDUCED_MIN_PANELS))

    def _panel_clusters(self, r: np.ndarray) -> list[np.ndarray]:
        """Positions in *r* (conductor panels) grouped by conductor, each conductor halved
        at the median of its longer side until no group exceeds 200 panels (and the
        potential at infinity of a neutral system on its own); groups mirror each other
        on a mirror-symmetric mesh (:func:`panel_mirror`)."""
        from .clusters import split_median

        p = self.panels
        cr = r[r < p.n]                 # the last unknown of a neutral system is no panel
        lo = np.minimum(p.a[cr], p.b[cr])
        hi = np.maximum(p.a[cr], p.b[cr])
        out: list[np.ndarray] = []
        owner = p.owner[cr]
        mirror = self._mirror_of(r)
        if mirror is None:
            for k in np.unique(owner):
                out += split_median(np.flatnonzero(owner == k), lo, hi, 200)
        else:
            # a mirror-symmetric mesh: one conductor of each mirror pair (one half of a
            # conductor that is its own image) is split, its mirror image takes the mirror
            # images of its groups; panels that are their own images form a group
            mx = 0.5 * (lo[:, 0] + hi[:, 0])
            done: set[int] = set()
            for k in np.unique(owner):
                if k in done:
                    continue
                ids = np.flatnonzero(owner == k)
                k_img = int(owner[mirror[ids[0]]])
                done.add(k_img)
                if k_img == k and ids.size <= 200:
                    out.append(ids)
                    continue
                if k_img == k:
                    img = mirror[ids]
                    fixed = ids[img == ids]
                    # one of each pair: the left one (the lower index if level)
                    ids = ids[(mx[ids] < mx[img]) | ((mx[ids] == mx[img]) & (ids < img))]
                    if fixed.size:
                        out.append(fixed)
                parts = split_median(ids, lo, hi, 200)
                out += parts + [mirror[q] for q in parts]
        if cr.size < r.size:
            out.append(np.arange(cr.size, r.size))
        return out
