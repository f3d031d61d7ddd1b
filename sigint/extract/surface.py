"""Resistance and inductance of thick conductors from their surfaces (exact interior).

Inside a conductor of conductivity :math:`\\sigma` the axial field satisfies
:math:`\\nabla^2E = \\gamma^2E`, :math:`\\gamma^2 = j\\omega\\mu_0\\sigma`; outside, the
vector potential is harmonic. Both are represented by their values on the conductor's
boundary :math:`\\Gamma`: the field :math:`u = E_z` and the boundary current density
:math:`w = \\partial_nE/(j\\omega\\mu_0)` (A/m; its integral over :math:`\\Gamma` is the
conductor's current, because :math:`\\sigma E = \\nabla^2E/(j\\omega\\mu_0)`). Green's
second identity gives two equations on each boundary (the surface formulation of Tsuk &
Kong, IEEE Trans. MTT 39(8), 1991, written here for the magneto-quasi-static case):

* inside, with :math:`G_\\gamma = K_0(\\gamma\\rho)/2\\pi` (the fundamental solution of
  :math:`-\\nabla^2 + \\gamma^2`, Abramowitz & Stegun 9.6),

  .. math:: \\tfrac12 u(r) + \\oint_\\Gamma \\partial_{n'}G_\\gamma\\,u\\,dl'
            - j\\omega\\mu_0\\oint_\\Gamma G_\\gamma\\,w\\,dl' = 0;

* outside, from :math:`A = -\\frac{\\mu_0}{2\\pi}\\int\\ln|r - r'|\\,\\sigma E\\,dA'` turned
  into boundary integrals over every conductor *j* (images in a ground plane included) and
  :math:`u = U_i - j\\omega A` on conductor *i* (:math:`U_i` its voltage drop per metre),

  .. math:: \\tfrac12 u(r) + \\frac{1}{2\\pi}\\sum_j\\oint_{\\Gamma_j}\\partial_{n'}\\ln|r-r'|\\,u\\,dl'
            - \\frac{j\\omega\\mu_0}{2\\pi}\\sum_j\\oint_{\\Gamma_j}\\ln|r-r'|\\,w\\,dl' = U_i.

The first equation is local to a conductor and is eliminated conductor by conductor
(:math:`u = Z_i(\\omega) w`, conductors of one shape and metal share it); the second
couples every boundary panel. Panels carry constant *u* and *w* (collocation at their
midpoints) and are graded to a fraction of the skin depth at the corners, where the current
crowds, and to the gap near other conductors; the unknowns scale with the conductors'
perimeters, not their areas, at any thickness in skin depths. The panel integrals of the
logarithm and its normal derivative are closed forms (:func:`sigint.extract.bem.potential_kernel`,
:func:`~sigint.extract.bem.field_kernel`); those of :math:`K_0` and :math:`K_1` use composite
Gauss-Legendre rules graded geometrically towards the target point, the logarithmic end of
the self panel integrated analytically (:math:`K_0(z) = -\\ln(z/2) - \\gamma_E + O(z^2\\ln z)`,
A&S 9.6.13).

Below the crossover frequency, where the skin depth is comparable to the conductors and a
volume mesh is small, the filament solver (:class:`sigint.extract.peec.PeecSolver`, meshed
for :data:`LOW_MESH_FACTOR` times the crossover) gives R and L exactly at every frequency from one
eigendecomposition; above it, the surface equations are solved at log-spaced frequencies (one
per core) and the loop R and L interpolated in log f with an error estimate
(:meth:`SurfaceSolver._high`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import progress
from ..threads import lane_threads, small_matrix_blas
from ..xsection.geometry import Conductor, Geometry, touch_point
from ..xsection.materials import MU0, skin_depth
from .bem import _graded_points, dist_to_shapes, field_kernel, potential_kernel, segment_mirror
from .interp import spline_log
from .peec import PERFECT_SIGMA, PeecSolver

__all__ = ["SurfaceSolver", "mesh_surface", "applies", "why_not", "crossover",
           "surface_pays", "surface_note"]

EULER_GAMMA = 0.5772156649015329
CORNER_FRACTION = 0.5   # panel at a corner / skin depth at the top frequency (refine 1)
CORNER_GEOMETRIC = 0.02 # ... and at most this fraction of the conductor's size: the outside
                        # field is singular at a corner at any frequency (with 0.25, panels
                        # graded for 2x the crossover were 0.5 % off in L)
GROWTH = 1.3            # panel-to-panel growth away from a corner (refine 1)
PROXIMITY = 0.5         # panel / distance to the nearest other conductor (refine 1)
MIN_PER_EDGE = 4        # panels on every straight edge, at least
CROSSOVER_DEPTHS = 1.0  # the surface equations take over where every conductor is at
                        # least this many skin depths thick
CUTOFF = 36.0           # Re(gamma) rho beyond which K0, K1 are below 1e-15 of the near field
SAMPLES_PER_DECADE = 8
PAYS_DEPTHS = 16.0      # auto: every conductor at least this many skin depths thick
LOW_MESH_FACTOR = 4.0   # the filaments below the crossover are graded for this x it
INTERP_TOL = 1e-4       # interpolation error of R and L / their largest entry
ROW_BLOCK = 256         # exterior rows assembled together (memory: ~10 such row blocks)


@dataclass
class SurfaceMesh:
    """Boundary panels of every conductor: start and end points (N, 2), m, and the owning
    conductor (N,); each conductor's panels are contiguous and run counter-clockwise (the
    right-hand normal points out of the metal)."""

    a: np.ndarray
    b: np.ndarray
    owner: np.ndarray

    @property
    def n(self) -> int:
        return int(self.owner.size)

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.a + self.b)

    @property
    def length(self) -> np.ndarray:
        return np.hypot(*(self.b - self.a).T)


def why_not(geo: Geometry) -> str | None:
    """Why the surface solver does not apply to *geo* (None: it does): it needs solid
    conductors with a finite conductivity and a thickness (rectangles, trapezoids,
    circles), none touching another or the plane, at most one infinite ground plane
    (each conductor's outside must be insulator: on a shared boundary the exterior
    equation would hold inside the neighbour)."""
    if geo.top_y is not None:
        return "a second infinite plane"
    for c in geo.conductors:
        if c.conductivity >= PERFECT_SIGMA:
            return f"{c.name} is a perfect conductor"
        if c.kind == "ring":
            return f"{c.name} is a ring"
        if not c.round and c.y1 <= c.y0:
            return f"{c.name} has no thickness"
        if geo.ground_y is not None:
            bottom = c.cy - c.r if c.round else c.y0
            if abs(bottom - geo.ground_y) <= 1e-9 * max(c.size, 1e-12):
                return f"{c.name} touches the ground plane"
    conds = geo.conductors
    for i in range(len(conds)):
        for j in range(i):
            if touch_point(conds[i], conds[j]) is not None:
                return f"{conds[i].name} touches {conds[j].name}"
    return None


def applies(geo: Geometry) -> bool:
    """Whether :class:`SurfaceSolver` can solve *geo* (:func:`why_not` is None)."""
    return why_not(geo) is None


def _depth_frequency(c: Conductor, depths: float) -> float:
    """The frequency, Hz, at which *c* (smaller side, or diameter) is *depths* skin depths
    thick in its own metal (:math:`\\delta = 1/\\sqrt{\\pi f\\mu_0\\sigma}`)."""
    delta = c.size / depths
    return float(1.0 / (math.pi * MU0 * c.conductivity * delta ** 2))


def crossover(geo: Geometry) -> float:
    """The crossover frequency, Hz: where the last conductor becomes
    :data:`CROSSOVER_DEPTHS` skin depths thick (each in its own metal; thin conductors at a
    fraction of a skin depth keep a slowly converging internal inductance on the panels:
    4 um aluminium beside 20 um copper, L 0.3 % off at refine 1). Below it the skin and
    proximity effects are mild and a small filament mesh (graded for
    :data:`LOW_MESH_FACTOR` times the crossover) resolves them; above it a filament mesh
    needs more and more layers, and in gaps of a few micrometres more than its default
    grading gives (2 um gaps: R 1.9 % off at 1.2 GHz with a mesh graded for 2.5 GHz; the
    surface formulation within 0.14 % of refine-2 filaments from 1 MHz up)."""
    return max(_depth_frequency(c, CROSSOVER_DEPTHS) for c in geo.conductors)


def surface_pays(geo: Geometry, f_max: float) -> bool:
    """Whether ``auto`` takes the surface solver: it applies (:func:`why_not`) and every
    conductor is at least :data:`PAYS_DEPTHS` skin depths thick (in its own metal) at the
    top frequency *f_max*: for thinner ones the filament mesh is small."""
    # the thickness test first: it is cheap and rules out most cross-sections (the
    # applicability test checks every pair of conductors for contact)
    return (f_max > 0
            and all(f_max >= _depth_frequency(c, PAYS_DEPTHS) for c in geo.conductors)
            and applies(geo))


def surface_note(solver: SurfaceSolver, f: np.ndarray) -> str:
    """The extraction note saying how R and L were solved."""
    fc = solver.f_cross
    n_fil = solver.fil.n if solver.fil is not None else 0
    parts = [f"R and L: surface formulation on {solver.unknowns} boundary panels above "
             f"{fc / 1e9:.4g} GHz (where every conductor is at least {CROSSOVER_DEPTHS:g} skin "
             f"depth{'' if CROSSOVER_DEPTHS == 1 else 's'} thick; exact interior, no filaments"]
    if solver.sampled and solver.interpolation_error is not None:
        parts.append(f", solved at {solver.sampled} frequencies and splined in log f, "
                     f"estimated interpolation error {solver.interpolation_error:.1e} of the "
                     "largest R, L")
    parts.append(")")
    if np.any((f > 0) & (f <= fc)):
        parts.append(f"; below it {n_fil} filaments graded for "
                     f"{LOW_MESH_FACTOR * fc / 1e9:.4g} GHz")
    elif solver.fil is not None:
        parts.append(f"; the DC values from {n_fil} filaments")
    parts.append(" (--basis full meshes filaments at every frequency)")
    return "".join(parts)


def _outline(c: Conductor, n_circle: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Counter-clockwise edges of a conductor (a circle as *n_circle* equal chords)."""
    if c.kind == "circle":
        th = np.linspace(0.0, 2 * math.pi, n_circle + 1)
        pts = np.stack([c.cx + c.r * np.cos(th), c.cy + c.r * np.sin(th)], axis=1)
        return [(pts[i], pts[i + 1]) for i in range(n_circle)]
    p = c.polygon()
    return [(p[i], p[(i + 1) % len(p)]) for i in range(len(p))]


def mesh_surface(geo: Geometry, f_max: float, refine: float = 1.0) -> SurfaceMesh:
    """Boundary panels of every conductor of *geo* graded for the skin depth at *f_max*
    (Hz): :data:`CORNER_FRACTION` of it at each corner, growing by at most
    :data:`GROWTH` per panel, no longer than :data:`PROXIMITY` times the distance to the
    nearest other conductor, at least :data:`MIN_PER_EDGE` on an edge.

    Raises
    ------
    ValueError
        If the solver does not apply (:func:`why_not`).
    """
    reason = why_not(geo)
    if reason:
        raise ValueError(f"the surface solver does not apply: {reason}")
    ref = refine * geo.mesh.refine
    growth = 1 + (GROWTH - 1) / ref
    a_all, b_all, own = [], [], []
    for k, c in enumerate(geo.conductors):
        others = [o for o in geo.conductors if o is not c]
        delta = float(skin_depth(f_max, c.conductivity)) if f_max > 0 else math.inf
        h_corner = min(CORNER_FRACTION * delta, CORNER_GEOMETRIC * c.size) / ref

        def size_fn(pts, d0, d1, h_corner=h_corner, others=others):
            h = h_corner + (growth - 1) * np.minimum(d0, d1)
            if others:
                d = dist_to_shapes(pts, others)
                h = np.minimum(h, PROXIMITY / ref * np.maximum(d, h_corner))
            return h

        if c.kind == "circle":
            # equal chords no longer than the skin depth (the current varies on that scale
            # next to each vertex) nor than PROXIMITY x the gap
            d_near = float(dist_to_shapes(np.array([[c.cx, c.cy]]), others)[0] - c.r) \
                if others else math.inf
            h = min(delta / ref, PROXIMITY / ref * max(d_near, 1e-3 * c.r))
            n = max(48 * ref, 2 * math.pi * c.r / h)
            n = int(math.ceil(min(n, 4096) / 4)) * 4
            for p0, p1 in _outline(c, n):
                a_all.append(p0)
                b_all.append(p1)
                own.append(k)
            continue
        for p0, p1 in _outline(c, 0):
            # break points equidistributing 1/size, placed from both ends symmetrically
            # (a mirrored or translated edge gets mirrored or translated points)
            pts = _graded_points(p0, p1, size_fn, MIN_PER_EDGE)
            a_all.extend(pts[:-1])
            b_all.extend(pts[1:])
            own.extend([k] * (len(pts) - 1))
    return SurfaceMesh(np.array(a_all, dtype=float), np.array(b_all, dtype=float),
                       np.array(own, dtype=int))


# ------------------------------------------------------------------------ panel integrals
_GL = {n: np.polynomial.legendre.leggauss(n) for n in (3, 6, 8)}
GEO_RATIO = 2.5       # growth of the graded quadrature intervals


def _k01(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K0(z) and K1(z) for complex z with Re z > 0 (AMOS, through scipy.special.kv; no
    underflow below the cut-off Re z = :data:`CUTOFF`)."""
    from scipy.special import kv

    return kv(0, z), kv(1, z)


def _line_integrals(dist0: np.ndarray, v: np.ndarray, length: np.ndarray, gamma: complex,
                    self_pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrals over tau in [0, length] of K0(gamma rho) and gamma K1(gamma rho) v / rho,
    rho = sqrt((dist0 + tau)^2 + v^2), for pairs (P,).

    Composite Gauss-Legendre (6 points) on [0, start] and on intervals growing
    geometrically by at most :data:`GEO_RATIO` from *start* (the distance of nearest
    approach) to *length*: the integrand is smooth on the scale of the distance to the
    target, so each interval holds it to about 1e-9. Where the target lies on the segment
    (*self_pair*: the logarithmic end) the first piece, of length eps with
    |gamma| eps <= 1e-4, is integrated from the small-argument form of K0 (A&S 9.6.13;
    error O((gamma eps)^2) of that piece)."""
    p = dist0.size
    s0 = np.zeros(p, dtype=complex)
    s1 = np.zeros(p, dtype=complex)
    if p == 0:
        return s0, s1
    xg, wg = _GL[6]
    rho_min = np.hypot(dist0, v)
    eps = np.minimum(1e-4 / abs(gamma), 1e-6 * length)
    start = np.where(self_pair, eps, np.minimum(np.maximum(rho_min, 1e-9 * length), length))
    if self_pair.any():
        e = eps[self_pair]
        s0[self_pair] += e * (1.0 - EULER_GAMMA - np.log(gamma * e / 2))
    n_geo = np.ceil(np.log(np.maximum(length / start, 1.0)) / math.log(GEO_RATIO)).astype(int)
    for ng in np.unique(n_geo):
        sel = np.flatnonzero(n_geo == ng)
        st, ln = start[sel], length[sel]
        if ng > 0:
            ratio = (ln / st) ** (1.0 / ng)
            edges = st[:, None] * ratio[:, None] ** np.arange(ng + 1)[None, :]
            edges[:, -1] = ln
        else:
            edges = st[:, None]
        lo = np.concatenate([np.zeros((sel.size, 1)), edges[:, :-1]], axis=1)
        hi = edges.copy()
        # the first interval [0, start]: Gauss unless the analytic piece took it
        lo[:, 0] = np.where(self_pair[sel], st, 0.0)
        mid = 0.5 * (lo + hi)
        half = 0.5 * (hi - lo)
        tau = mid[:, :, None] + half[:, :, None] * xg[None, None, :]
        wts = half[:, :, None] * wg[None, None, :]
        vv = v[sel][:, None, None]
        rho = np.hypot(dist0[sel][:, None, None] + tau, vv)
        k0, k1 = _k01(gamma * rho)
        s0[sel] += (wts * k0).sum(axis=(1, 2))
        s1[sel] += (wts * gamma * k1 * (vv / rho)).sum(axis=(1, 2))
    return s0, s1


def helmholtz_blocks(mid: np.ndarray, a: np.ndarray, b: np.ndarray, gamma: complex
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Single- and double-layer integrals of :math:`G_\\gamma = K_0(\\gamma\\rho)/2\\pi`
    over panels (a, b) at targets *mid*: ``S[p, q] = int_q G dl'`` and
    ``D[p, q] = int_q dG/dn' dl'`` (n' the panel's right-hand normal), shapes (M, P).

    Pairs farther apart than :data:`CUTOFF` / Re(gamma) are zero; pairs at least four
    panel lengths apart use 3 Gauss points, at least one length 8, nearer ones the graded
    rule of :func:`_line_integrals` (Gauss errors about (L / 2 rho)^(2n) for the smooth
    part of the kernel; where it decays across a panel the entry is below e^-4 of the
    panel's own).
    """
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    t = d / length[:, None]
    nrm = np.stack([t[:, 1], -t[:, 0]], axis=1)
    rx = mid[:, None, 0] - a[None, :, 0]
    ry = mid[:, None, 1] - a[None, :, 1]
    u = rx * t[None, :, 0] + ry * t[None, :, 1]
    v = rx * nrm[None, :, 0] + ry * nrm[None, :, 1]
    ln = np.broadcast_to(length[None, :], u.shape)
    sstar = np.clip(u, 0.0, ln)
    rho_min = np.hypot(u - sstar, v)
    s_mat = np.zeros(u.shape, dtype=complex)
    d_mat = np.zeros(u.shape, dtype=complex)
    keep = gamma.real * rho_min < CUTOFF
    for lo_ratio, hi_ratio, npts in ((4.0, np.inf, 3), (1.0, 4.0, 8)):
        far = keep & (rho_min >= lo_ratio * ln) & (rho_min < hi_ratio * ln)
        if not far.any():
            continue
        xg, wg = _GL[npts]
        uu, vv, ll = u[far], v[far], ln[far]
        s = 0.5 * ll[:, None] * (1 + xg[None, :])
        rho = np.hypot(uu[:, None] - s, vv[:, None])
        k0, k1 = _k01(gamma * rho)
        wts = 0.5 * ll[:, None] * wg[None, :]
        s_mat[far] = (wts * k0).sum(1)
        d_mat[far] = (wts * gamma * k1 * vv[:, None] / rho).sum(1)
    near = keep & (rho_min < ln)
    if near.any():
        uu, vv, ll, ss = u[near], v[near], ln[near], sstar[near]
        on = (np.abs(vv) <= 1e-9 * ll) & (uu > 0) & (uu < ll)
        tot0 = np.zeros(uu.size, dtype=complex)
        tot1 = np.zeros(uu.size, dtype=complex)
        dist0 = np.abs(uu - ss)
        # the two parts of the panel either side of the target's projection
        for part_len in (ss, ll - ss):
            has = part_len > 0
            a0, a1 = _line_integrals(dist0[has], vv[has], part_len[has], gamma, on[has])
            tot0[has] += a0
            tot1[has] += a1
        s_mat[near] = tot0
        d_mat[near] = tot1
    return s_mat / (2 * math.pi), d_mat / (2 * math.pi)


def laplace_blocks(mid: np.ndarray, a: np.ndarray, b: np.ndarray,
                   own: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``L[p, q] = int_q ln|r_p - r'| dl'`` and ``D0[p, q] = int_q d/dn' ln|r_p - r'| dl'``
    (closed forms), shapes (M, P); ``own[p]`` is the panel target *p* is the midpoint of
    (D0 is 0 there, the principal value), if any."""
    lmat = -2 * math.pi * potential_kernel(mid, a, b)
    ex, ey = field_kernel(mid, a, b)
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    nx, ny = d[:, 1] / length, -d[:, 0] / length
    d0 = -2 * math.pi * (ex * nx[None, :] + ey * ny[None, :])
    if own is not None:
        # the principal value on a panel itself is 0 (rounding leaves the midpoint a
        # hair off the panel's line, where the closed form jumps to +-pi)
        d0[np.arange(own.size), own] = 0.0
    return lmat, d0


# ----------------------------------------------------------------------------- symmetry
def _mirror_perm(mesh: SurfaceMesh, axis: int, sigma: np.ndarray, tol: float = 1e-9
                 ) -> np.ndarray | None:
    """The panels' permutation under the mirror in the line through the middle of their
    extent perpendicular to *axis* (0: a vertical line), if the mesh is symmetric under it
    (:func:`sigint.extract.bem.segment_mirror`, conductors onto conductors of the same
    conductivity); None otherwise."""
    perm = segment_mirror(mesh.a, mesh.b, tol, axis)
    if perm is None:
        return None
    own, town = mesh.owner, mesh.owner[perm]
    if np.any(sigma[own] != sigma[town]):
        return None
    seen: dict[int, int] = {}
    for k, j in zip(own.tolist(), town.tolist()):
        if seen.setdefault(k, j) != j:
            return None
    return perm


@dataclass
class SymmetryClass:
    """One block of a mirror-symmetric system: its character on the group, which orbit
    representatives it has (*sel*, positions in :attr:`SymmetryPlan.rows`; None: all of
    them), their orbit sizes' square roots and its right-hand sides."""

    chi: np.ndarray             # (G,) the character
    sel: np.ndarray | None      # positions of its representatives, or None for all
    w: np.ndarray               # (n_rep,) sqrt(|O_p|)
    rhs: np.ndarray             # (n_rep, n_c) Q^T P
    rhs_l: np.ndarray           # (n_rep, n_c) Q^T diag(length) P


@dataclass
class SymmetryPlan:
    """The symmetry classes of a panel system (:func:`symmetry_classes`)."""

    rows: np.ndarray            # panels whose rows are formed (one per orbit)
    classes: list[SymmetryClass]
    mirrors: int
    cols: np.ndarray            # (G, len(rows)) the panel g(q) of each representative q

    def blocks(self, mat: np.ndarray):
        """Yield (class, Q^T M Q) from the rows *mat* (len(rows), N) of the representatives:
        the columns of each group element gathered once, combined by each character."""
        size = self.cols.shape[0]
        taken = [mat[:, self.cols[g]] for g in range(size)]
        for cls in self.classes:
            a = taken[0].copy()
            for g in range(1, size):
                if cls.chi[g] > 0:
                    a += taken[g]
                else:
                    a -= taken[g]
            if cls.sel is not None:
                a = a[np.ix_(cls.sel, cls.sel)]
            a *= cls.w[:, None] * (cls.w[None, :] / size)
            yield cls, a


def symmetry_classes(mesh: SurfaceMesh, p: np.ndarray, sigma: np.ndarray,
                     allow_x: bool = True, allow_y: bool = True) -> SymmetryPlan:
    """Split a mirror-symmetric panel system into its symmetry classes.

    For the group G generated by the mirrors the mesh has (the vertical line when
    *allow_x*, the horizontal one when *allow_y*: an image plane breaks it), the symmetry-adapted basis
    :math:`q_p^\\chi = |O_p|^{-1/2}\\sum_{x\\in O_p}\\chi(g_x)e_x` of each orbit
    :math:`O_p` and character :math:`\\chi` block-diagonalises any G-equivariant matrix
    (Fässler & Stiefel, *Group Theoretical Methods and Their Applications*, 1992, Ch. 2);
    with :math:`M_{gp,gq} = M_{pq}`,

    .. math:: (Q_\\chi^T M Q_\\chi)_{pq} = \\frac{\\sqrt{|O_p||O_q|}}{|G|}
              \\sum_{g\\in G}\\chi(g)M_{p,g(q)},

    so only the rows of one panel per orbit are needed.
    """
    n = mesh.n
    gens: list[np.ndarray] = []
    for axis in [ax for ax, ok in ((0, allow_x), (1, allow_y)) if ok]:
        got = _mirror_perm(mesh, axis, sigma)
        if got is not None:
            gens.append(got)
    # the group: products of the generators (they commute)
    elems = [(np.arange(n), ())]
    for gi, g in enumerate(gens):
        elems += [(g[e], sig + (gi,)) for e, sig in elems]
    size = len(elems)
    orbit = np.stack([e for e, _ in elems])                   # (G, N)
    rep_of = orbit.min(axis=0)
    reps_all = np.flatnonzero(rep_of == np.arange(n))
    orb_size = np.array([np.unique(orbit[:, q]).size for q in range(n)])
    classes = []
    length = mesh.length
    for signs in np.ndindex(*(2,) * len(gens)):
        chi = np.array([np.prod([(-1.0) ** signs[i] for i in sig]) if sig else 1.0
                        for _, sig in elems])
        # chi must be trivial on each representative's stabiliser
        ok = np.array([np.all(chi[orbit[:, q] == q] == 1.0) for q in reps_all])
        reps = reps_all[ok]
        if reps.size == 0:
            continue
        osz = orb_size[reps].astype(float)
        # Q^T P: (1/sqrt|O_p|) sum over the orbit of chi(g_x) P[x]
        #      = sqrt|O_p| / |G| sum_g chi(g) P[g(p)]
        rhs = np.zeros((reps.size, p.shape[1]))
        rhs_l = np.zeros_like(rhs)
        for gk in range(size):
            rows_g = orbit[gk, reps]
            rhs += chi[gk] * p[rows_g]
            rhs_l += chi[gk] * (length[rows_g, None] * p[rows_g])
        scale = np.sqrt(osz)[:, None] / size
        classes.append(SymmetryClass(chi, None if ok.all() else np.flatnonzero(ok),
                                     np.sqrt(osz), rhs * scale, rhs_l * scale))
    return SymmetryPlan(reps_all, classes, len(gens), orbit[:, reps_all])


# ------------------------------------------------------------------------------- solver
class SurfaceSolver:
    """R and L from the conductors' surfaces above a crossover frequency, filaments below.

    The same interface as :class:`sigint.extract.peec.PeecSolver` (``solve``, ``dc``,
    ``partial_impedance``, ``conductor_admittance``, ``unknowns``).

    Parameters
    ----------
    geo : Geometry
        A cross-section for which :func:`applies` holds.
    f_max : float
        Highest frequency (the panels are graded for its skin depth), Hz.
    refine : float
        Refinement factor of both meshes (panels and the low-frequency filaments).
    symmetry : bool
        Split the system by the mirror symmetries of the mesh (:func:`symmetry_classes`);
        False solves it whole (the same answer to rounding, for checks).

    Raises
    ------
    ValueError
        If :func:`applies` does not hold for *geo*.
    """

    sheets = None
    reduced = None
    unknowns_what = "surface panels"

    def __init__(self, geo: Geometry, f_max: float, refine: float = 1.0, *,
                 symmetry: bool = True):
        reason = why_not(geo)
        if reason:
            raise ValueError(f"the surface solver does not apply: {reason}")
        self.geo = geo
        self.refine = refine
        self.ground = geo.ground_y
        self.n_signal = len(geo.signals)
        sig = np.array([c.conductivity for c in geo.conductors])
        self.f_cross = crossover(geo)
        self.sigma = sig
        self.mesh = mesh_surface(geo, max(float(f_max), self.f_cross), refine)
        m = self.mesh
        n_c = len(geo.conductors)
        self.p = np.zeros((m.n, n_c))
        self.p[np.arange(m.n), m.owner] = 1.0
        progress.stage(f"surface panels: {m.n} on {n_c} conductors")
        mid = m.mid
        self.sym = symmetry_classes(m, self.p, sig, allow_x=symmetry,
                                    allow_y=symmetry and self.ground is None)
        # the exterior rows of one panel per symmetry orbit, in blocks of rows
        rows = self.sym.rows
        self.lmat = np.empty((rows.size, m.n))
        self.c_ext = np.empty((rows.size, m.n))
        if self.ground is not None:
            ia, ib = m.b.copy(), m.a.copy()     # the image, reversed: its normal mirrored
            ia[:, 1] = 2 * self.ground - ia[:, 1]
            ib[:, 1] = 2 * self.ground - ib[:, 1]
        for r0 in range(0, rows.size, ROW_BLOCK):
            rk = rows[r0:r0 + ROW_BLOCK]
            lk, dk = laplace_blocks(mid[rk], m.a, m.b, own=rk)
            if self.ground is not None:
                li, di = laplace_blocks(mid[rk], ia, ib)
                lk -= li
                dk -= di
            dk /= 2 * math.pi
            dk[np.arange(rk.size), rk] += 0.5
            self.lmat[r0:r0 + rk.size] = lk
            self.c_ext[r0:r0 + rk.size] = dk
        # conductors of one shape (up to translation) and metal share their interior block
        self.index = [np.flatnonzero(m.owner == k) for k in range(n_c)]
        self.groups: dict[bytes, list[int]] = {}
        for k, idx in enumerate(self.index):
            rel = np.concatenate([m.a[idx] - m.a[idx[0]], m.b[idx] - m.a[idx[0]]], axis=1)
            scale = max(float(np.abs(rel).max()), 1e-30)
            key = np.round(rel / scale, 9).tobytes() + repr(float(sig[k])).encode()
            self.groups.setdefault(key, []).append(k)
        self._low: PeecSolver | None = None
        self.interpolation_error: float | None = None
        self.sampled = 0
        self.fil = None

    @property
    def unknowns(self) -> int:
        """Boundary panels (each with a field and a current density)."""
        return self.mesh.n

    @property
    def low(self) -> PeecSolver:
        """The filament solver for frequencies up to the crossover (built on first use)."""
        if self._low is None:
            # meshed for LOW_MESH_FACTOR x the crossover: a mesh graded for the crossover
            # itself is 0.3 % off in R there (substrate stripline, against refine-2
            # filaments); for 2x and 4x: 0.10 % / 0.10 % in R, 0.092 % / 0.074 % in L,
            # and on the 16-signal stripline (its coarser file settings) 0.71 % / 0.25 % in
            # R, 0.21 % / 0.17 % in L
            self._low = PeecSolver(self.geo, LOW_MESH_FACTOR * self.f_cross, self.refine)
            self.fil = self._low.fil
        return self._low

    def interior(self, omega: float) -> list[np.ndarray]:
        """Interior maps :math:`u = Z_k w` of every conductor (n_k, n_k), ohm (V/m per
        A/m); conductors of one shape and metal share one array."""
        m = self.mesh
        out: list[np.ndarray] = [None] * len(self.index)  # type: ignore[list-item]
        for ks in self.groups.values():
            k0 = ks[0]
            idx = self.index[k0]
            gam = complex(np.sqrt(1j * omega * MU0 * self.sigma[k0]))
            s, d = helmholtz_blocks(m.mid[idx], m.a[idx], m.b[idx], gam)
            d[np.diag_indices_from(d)] += 0.5
            zk = np.linalg.solve(d, 1j * omega * MU0 * s)
            for k in ks:
                out[k] = zk
        return out

    @small_matrix_blas()
    def admittance_at(self, f: float) -> np.ndarray:
        """Conductor admittance (n_c, n_c), S*m, from the surface equations at *f* > 0.

        Only the rows of one panel per symmetry orbit are formed; the system splits into
        one block per symmetry class (:func:`symmetry_classes`)."""
        omega = 2 * math.pi * f
        zs = self.interior(omega)
        c = self.c_ext
        mat = (-1j * omega * MU0 / (2 * math.pi)) * self.lmat
        for k, idx in enumerate(self.index):
            # real x complex as one real product: c (r, n_k) @ [Re Z | Im Z] interleaved
            zk = zs[k]
            prod = c[:, idx] @ zk.view(float).reshape(idx.size, 2 * idx.size)
            mat[:, idx] += prod.view(complex)
        y = np.zeros((self.p.shape[1],) * 2, dtype=complex)
        for cls, a in self.sym.blocks(mat):
            w = np.linalg.solve(a, cls.rhs)
            y += cls.rhs_l.T @ w
        return y

    def partial_impedance(self, f: float | np.ndarray) -> np.ndarray:
        """Impedance of every conductor on its own (no return path), ohm/m, (F, n, n)."""
        fa = np.atleast_1d(np.asarray(f, dtype=float))
        out = np.linalg.inv(self.conductor_admittance(fa))
        return out[0] if np.ndim(f) == 0 else out

    def conductor_admittance(self, f: np.ndarray) -> np.ndarray:
        """Conductor admittances (F, n_c, n_c), S*m: filaments up to the crossover, the
        surface equations above it, solved at every frequency (:meth:`solve` interpolates
        between samples when there are many)."""
        fa = np.atleast_1d(np.asarray(f, dtype=float))
        n_c = len(self.geo.conductors)
        y = np.empty((fa.size, n_c, n_c), dtype=complex)
        lowm = fa <= self.f_cross
        if lowm.any():
            y[lowm] = self.low.conductor_admittance(fa[lowm])
        for k in np.flatnonzero(~lowm):
            y[k] = self.admittance_at(float(fa[k]))
        return y

    _loop = PeecSolver._loop

    @small_matrix_blas()
    def solve(self, f: float | np.ndarray) -> np.ndarray:
        """Loop impedance :math:`R + j\\omega L` of the signals, shape (F, ns, ns), ohm/m:
        filaments up to the crossover, the surface equations above it (:meth:`_high`)."""
        fa = np.atleast_1d(np.asarray(f, dtype=float))
        ns = self.n_signal
        z = np.empty((fa.size, ns, ns), dtype=complex)
        self.interpolation_error = None
        self.sampled = 0
        lowm = fa <= self.f_cross
        if lowm.any():
            z[lowm] = self.low.solve(fa[lowm])
        if (~lowm).any():
            z[~lowm] = self._high(fa[~lowm])
        return z[0] if np.ndim(f) == 0 else z

    def _loop_at(self, f: float) -> np.ndarray:
        return self._loop(self.admittance_at(f)[None])[0]

    def _high(self, fa: np.ndarray) -> np.ndarray:
        """Loop impedances above the crossover: solved at every frequency when there are
        few, otherwise at log-spaced samples (:data:`SAMPLES_PER_DECADE`, doubled until the
        error estimate is below :data:`INTERP_TOL`) with R / sqrt(1 + f/f_c) and L splined
        in log f (:func:`sigint.extract.interp.spline_log`; the scaling takes out most of
        the skin effect's growth, so the spline follows a nearly flat curve).

        The estimate, relative to the largest entry at each frequency: the larger of the
        spline through every other sample compared with the samples it skips, over 8 (the
        error falls as the fourth power of the spacing, de Boor, *A Practical Guide to
        Splines*, 2001, Ch. V, so by 16 for the spline through all of them), and the error
        measured at the middle of the first and the last interval, where the end
        conditions tell (those two solves then join the samples)."""
        fu, back = np.unique(fa, return_inverse=True)
        lo, hi = max(float(fu[0]), self.f_cross), float(fu[-1])
        n_s = 2 * max(2, int(math.ceil(math.log10(hi / lo) * SAMPLES_PER_DECADE / 2))) + 1 \
            if hi > lo else 1
        self.interpolation_error = None
        self.sampled = 0
        solved: dict[float, np.ndarray] = {}

        def loop(fs):
            todo = [f for f in fs if f not in solved]
            n_threads = min(lane_threads(), len(todo))
            if n_threads <= 1:
                for f in todo:
                    solved[f] = self._loop_at(f)
                    task.advance(1)
            else:
                # frequencies are independent: one per core, each with one BLAS thread
                # (the kernels and LAPACK release the GIL)
                from concurrent.futures import ThreadPoolExecutor, as_completed

                with ThreadPoolExecutor(n_threads) as pool:
                    futures = {pool.submit(self._loop_at, f): f for f in todo}
                    for fut in as_completed(futures):
                        solved[futures[fut]] = fut.result()
                        task.advance(1)
            return np.array([solved[f] for f in fs])

        def scale(fs):
            return np.sqrt(1.0 + fs / self.f_cross)[:, None, None]

        def rel(a, b):
            return float((np.abs(a - b).max(axis=(1, 2)) / np.abs(b).max(axis=(1, 2))).max())

        def spline(fs, r, ell, f):
            return (spline_log(fs, r, f) * scale(f)
                    + 1j * (2 * math.pi * f)[:, None, None] * spline_log(fs, ell, f))

        with progress.task(f"surface equations on {self.mesh.n} panels, frequencies",
                           total=min(fu.size, n_s)) as task:
            fs = np.geomspace(lo, hi, n_s)
            while True:
                if fu.size <= fs.size + 2:
                    # no fewer solves than the frequencies asked for: solve those
                    self.interpolation_error = None
                    self.sampled = int(fu.size)
                    return loop(list(map(float, fu)))[back.ravel()]
                zs = loop(list(map(float, fs)))
                r = zs.real / scale(fs)
                ell = zs.imag / (2 * math.pi * fs)[:, None, None]
                odd = slice(1, None, 2)
                err = max(rel(spline_log(fs[::2], r[::2], fs[odd]), r[odd]),
                          rel(spline_log(fs[::2], ell[::2], fs[odd]), ell[odd])) / 8
                if err <= INTERP_TOL:
                    # the end intervals, where the spline's end conditions tell and the
                    # estimate above can be low (up to 4x in a break test): measured
                    ends = np.sqrt(fs[[0, -2]] * fs[[1, -1]])
                    err = max(err, rel(spline(fs, r, ell, ends), loop(list(map(float, ends)))))
                    if err <= INTERP_TOL:
                        break
                mids = np.sqrt(fs[1:] * fs[:-1])
                fs = np.sort(np.concatenate([fs, mids]))
                task.total = fs.size + 2
            # the measured end points join the samples
            allf = np.array(sorted(solved))
            allf = allf[(allf >= fs[0]) & (allf <= fs[-1])]
            zs = loop(list(map(float, allf)))
            r = zs.real / scale(allf)
            ell = zs.imag / (2 * math.pi * allf)[:, None, None]
            self.interpolation_error = err
            self.sampled = int(allf.size)
            return spline(allf, r, ell, fu)[back.ravel()]

    def dc(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, L) at DC from the filament solver."""
        return self.low.dc()
