"""Resistance and inductance of round conductors by multipole expansion (exact interior).

A cross-section whose conductors are all solid round wires -- through-silicon and
through-glass vias, bond wires, wire bundles -- needs no filaments at all: inside a round
conductor of radius *a* and conductivity :math:`\\sigma` the axial field satisfies
:math:`\\nabla^2E = \\gamma^2E`, :math:`\\gamma^2 = j\\omega\\mu_0\\sigma`, whose regular
solutions are :math:`I_m(\\gamma r)e^{\\pm jm\\theta}`; outside, the vector potential is
harmonic. Each conductor's exterior field is a multipole series about its centre

.. math:: A_i(z) = P_{i0}\\ln|z - c_i| + \\sum_{m=1}^{M}\\Big[P^+_{im}\\Big(\\frac{a_i}{z-c_i}\\Big)^m
          + P^-_{im}\\Big(\\frac{a_i}{\\overline{z-c_i}}\\Big)^m\\Big],
          \\qquad P_{i0} = -\\frac{\\mu_0 I_i}{2\\pi},

and the field of everything else is, near conductor *i*, a local series
:math:`B_{i0} + \\sum_k B^\\pm_{ik}((z-c_i)/a_i)^k` (and conjugates). Matching *A* and
:math:`\\partial A/\\partial r` at :math:`r = a` mode by mode gives each conductor's exact
response (a T-matrix; Waterman, Proc. IEEE 53(8), 1965, for the method; the cylinder's
scattering coefficients as in Harrington, *Time-Harmonic Electromagnetic Fields*, 1961,
Sec. 5-8, here in the magneto-quasi-static limit):

.. math:: P^\\pm_{im} = t_m(\\gamma a_i)\\,B^\\pm_{im},\\qquad
          t_m(x) = -\\frac{x\\,I_{m+1}(x)/I_m(x)}{2m + x\\,I_{m+1}(x)/I_m(x)}

(:math:`t_m \\to 0` at DC, :math:`\\to -1` for a perfect conductor), and each conductor's
voltage drop per unit length

.. math:: v_i = Z_{\\mathrm{int},i} I_i + j\\omega\\,(B_{i0} + P_{i0}\\ln a_i),\\qquad
          Z_{\\mathrm{int}} = \\frac{\\gamma\\,I_0(\\gamma a)}{2\\pi a\\sigma\\,I_1(\\gamma a)},

the classical internal impedance of a round wire (Ramo, Whinnery & Van Duzer, *Fields and
Waves in Communication Electronics*, 3rd ed., 1994, Sec. 5.6; REFERENCES.md E7). The local
coefficients follow from the others' multipoles by the exact translation of
:math:`\\ln(z-c)` and :math:`(z-c)^{-m}` (Greengard & Rokhlin, J. Comput. Phys. 73, 1987,
Lemma 2.3 and 2.4); an infinite ground plane adds each conductor's image (current and
coefficients negated, analytic and anti-analytic parts exchanged). The surface fields
converge in harmonics as :math:`\\rho^m`, :math:`\\rho` the slowest rate set by the
bipolar limit points of a pair of circles (:func:`_pair_rate`; a small wire beside a large
one is the slow case), images included; the impedance, stationary in the currents (the
truncated series is a Galerkin solution in the angular modes), converges as
:math:`\\rho^{2M}`, and the order *M* is chosen for :data:`ORDER_TOL` by that rate; the
unknowns are the
:math:`2M` coefficients of each conductor, at every frequency and for any thickness in
skin depths: the formulation scales with the number of conductors, not with their volume
or surface.

At each frequency a dense system of :math:`2Mn` unknowns is solved for the *n* conductor
currents (for long frequency lists, at log-spaced samples and interpolated with a measured
error: :meth:`MultipoleSolver.partial_impedance`). The partial-impedance matrix has the
same :math:`\\ln` constant as the filament solver's (:mod:`sigint.extract.peec`), which
cancels in every loop quantity.
"""

from __future__ import annotations

import math

import numpy as np

from .. import progress
from ..threads import small_matrix_blas
from ..xsection.geometry import Geometry
from ..xsection.materials import MU0
from .interp import spline_log
from .peec import PERFECT_SIGMA, PeecSolver

__all__ = ["MultipoleSolver", "multipole_order", "applies", "why_not"]

ORDER_TOL = 1e-9    # rho**(2M) of the slowest-converging pair at refine 1
MAX_ORDER = 96      # beyond this (conductors nearly touching) the filaments are cheaper
F_CHUNK_BYTES = 256e6   # frequencies solved together: at most this much for their systems
EXACT_MAX = 64      # up to this many frequencies the proximity term is solved at each
SAMPLES_PER_DECADE = 16
INTERP_TOL = 1e-6   # interpolation error of the proximity term / largest external inductance


def _centres(geo: Geometry) -> tuple[np.ndarray, np.ndarray]:
    c = np.array([complex(k.cx, k.cy) for k in geo.conductors])
    a = np.array([k.r for k in geo.conductors], dtype=float)
    return c, a


def _sources(geo: Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every source of the field: conductors and, over a ground plane, their images.

    Returns centres (complex), radii, owner conductor and sign (+1, or -1 for an image)."""
    c, a = _centres(geo)
    n = c.size
    own = np.arange(n)
    if geo.ground_y is None:
        return c, a, own, np.ones(n)
    ci = np.conj(c) + 2j * geo.ground_y
    return (np.concatenate([c, ci]), np.concatenate([a, a]), np.concatenate([own, own]),
            np.concatenate([np.ones(n), -np.ones(n)]))


def _pair_rate(d: float, a: float, b: float) -> float:
    """Geometric rate at which the surface fields of two circles (radii *a*, *b*, centres
    *d* apart) converge in angular harmonics: the induced current of a pair of cylinders is
    that of line sources at the bipolar limit points (Smythe 1950, Sec. 4.13), and a source
    a distance s from a circle's centre gives harmonics falling as (s/radius)^m. With
    x = (d^2 + a^2 - b^2)/(2d) (the radical axis from the first centre) and
    c = sqrt(x^2 - a^2), the first circle's rate is (x - c)/a; the slower of the two
    (a small wire beside a large one converges slowly on the large one)."""
    rates = []
    for r0, r1 in ((a, b), (b, a)):
        x = (d * d + r0 * r0 - r1 * r1) / (2 * d)
        c = math.sqrt(max(x * x - r0 * r0, 0.0))
        rates.append((x - c) / r0)
    return max(rates)


def multipole_order(geo: Geometry, refine: float = 1.0) -> int | None:
    """Order *M* of the expansions: the impedance, stationary in the currents (the
    truncated series is a Galerkin solution in the angular modes), errs as rho^(2M), rho the
    slowest :func:`_pair_rate` over every pair of conductors (and images), so
    M = log(ORDER_TOL ** refine) / (2 log rho). None when, at refine 1, M would exceed
    :data:`MAX_ORDER` (conductors nearly touching: filaments are cheaper); a finer refine
    may go to twice that, so that ``--refine`` never changes the solver."""
    c, a = _centres(geo)
    sc, sa, sown, _ = _sources(geo)
    rho = 0.0
    for i in range(c.size):
        for j in range(sc.size):
            if sown[j] == i and j < c.size:
                continue
            d = abs(c[i] - sc[j])
            if d <= a[i] + sa[j]:
                return None
            rho = max(rho, _pair_rate(d, a[i], sa[j]))
    if rho == 0.0:
        return 1
    if rho >= 1.0 - 1e-12:
        return None
    m1 = math.ceil(math.log(ORDER_TOL) / (2 * math.log(rho)))
    if m1 > MAX_ORDER:
        return None
    m = math.ceil(math.log(ORDER_TOL) * max(refine, 0.25) / (2 * math.log(rho)))
    return max(2, min(m, 2 * MAX_ORDER))


def applies(geo: Geometry) -> bool:
    """Whether :class:`MultipoleSolver` can solve *geo*: every conductor a solid round one,
    and none of the reasons of :func:`why_not` (the decision does not depend on the
    refinement)."""
    return bool(geo.conductors) and all(c.round for c in geo.conductors) and why_not(geo) is None


def why_not(geo: Geometry) -> str | None:
    """Why a cross-section of round conductors only cannot be solved by expansions: a ring
    (shield), a second plane, or two conductors closer than :data:`MAX_ORDER` orders
    converge for at refine 1; None when it can, or when not every conductor is round."""
    if not geo.conductors or any(not c.round for c in geo.conductors):
        return None
    if any(c.kind == "ring" for c in geo.conductors):
        return "a ring conductor (a shield) needs filaments"
    if geo.top_y is not None:
        return "a second (top) plane is not modelled by images"
    if multipole_order(geo, 1.0) is None:
        return (f"two conductors are so close that the expansions would need more than "
                f"{MAX_ORDER} orders")
    return None


def _bessel_ratios(x: np.ndarray, mmax: int) -> np.ndarray:
    """I_{m+1}(x)/I_m(x) for m = 0..mmax at complex *x* (F,), shape (F, mmax + 1).

    Exponentially scaled Bessel functions where they are representable; where |x| is small
    against the order (I_m underflows) the backward recurrence of the ratio,
    r_{m-1} = x/(2m + x r_m), the minimal solution and stable downwards (Gautschi, SIAM
    Review 9(1), 1967), started 40 orders above."""
    from scipy.special import ive  # imported here: 0.16 s an extraction need not pay

    m = np.arange(mmax + 2)
    with np.errstate(all="ignore"):
        iv = ive(m[None, :], x[:, None])
        out = iv[:, 1:] / iv[:, :-1]
    bad = ~np.isfinite(out) | (np.abs(iv[:, :-1]) < 1e-280)
    rows = np.flatnonzero(bad.any(axis=1))
    if rows.size:
        xs = x[rows]
        top = mmax + 40 + int(np.ceil(np.abs(xs).max()))
        r = np.zeros(xs.shape, dtype=complex)
        back = np.empty((rows.size, mmax + 1), dtype=complex)
        for k in range(top, 0, -1):          # r holds r_k; gives r_{k-1}
            r = xs / (2 * k + xs * r)
            if k - 1 <= mmax:
                back[:, k - 1] = r
        out[rows] = np.where(bad[rows], back, out[rows])
    return out


def _translation(geo: Geometry, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear maps from the sources' multipoles to the conductors' local coefficients.

    Unknown vector per conductor j: (P+_j1..P+_jM, P-_j1..P-_jM); returns

    * ``g`` (2Mn, 2Mn): local coefficients B-/+ (orders 1..M; each row the one that drives
      the unknown of that position) from the unknowns,
    * ``g0`` (2Mn, n): the same local coefficients from the currents' P_0 terms,
    * ``h`` (n, 2Mn): B_0 from the unknowns,
    * ``h0`` (n, n): B_0 from the P_0 terms (the log distances; images included).
    """
    c, a = _centres(geo)
    n = c.size
    sc, sa, sown, ssgn = _sources(geo)
    k = np.arange(1, m + 1)
    # binom(mm + kk - 1, kk) for mm, kk in 1..M (exact in floating point at these orders)
    binom = np.array([[math.comb(mm + kk - 1, kk) for mm in range(1, m + 1)]
                      for kk in range(1, m + 1)], dtype=float)         # [k, m]
    sgn_k = (-1.0) ** k
    g = np.zeros((2 * m * n, 2 * m * n), dtype=complex)
    g0 = np.zeros((2 * m * n, n), dtype=complex)
    h = np.zeros((n, 2 * m * n), dtype=complex)
    h0 = np.zeros((n, n))
    for i in range(n):
        ri = slice(2 * m * i, 2 * m * i + m)           # B+_i
        rim = slice(2 * m * i + m, 2 * m * (i + 1))    # B-_i
        for s in range(sc.size):
            j = sown[s]
            image = ssgn[s] < 0
            if s == i:                                 # the conductor itself
                continue
            d = c[i] - sc[s]
            # ln|z - c_s| about c_i: ln|d| + 1/2 sum (-1)^(k+1)/k [(w/d)^k + conj(w/d)^k]
            h0[i, j] += ssgn[s] * math.log(abs(d))
            coef = 0.5 * (-sgn_k) / k
            g0[ri, j] += ssgn[s] * coef * (a[i] / d) ** k
            g0[rim, j] += ssgn[s] * coef * (a[i] / np.conj(d)) ** k
            # (a_s / (z - c_s))^mm about c_i (analytic), and the conjugate series
            am = (sa[s] / d) ** k                                        # [mm]
            tr = binom * (sgn_k * (a[i] / d) ** k)[:, None] * am[None, :]  # [k, mm]
            amc = (sa[s] / np.conj(d)) ** k
            trc = binom * (sgn_k * (a[i] / np.conj(d)) ** k)[:, None] * amc[None, :]
            cp = slice(2 * m * j, 2 * m * j + m)       # P+_j
            cm = slice(2 * m * j + m, 2 * m * (j + 1)) # P-_j
            if not image:
                g[ri, cp] += tr
                g[rim, cm] += trc
                h[i, cp] += am
                h[i, cm] += amc
            else:
                # the image's coefficients: P+' = -P-_j (analytic about c_s), P-' = -P+_j
                g[ri, cm] -= tr
                g[rim, cp] -= trc
                h[i, cm] -= am
                h[i, cp] -= amc
    # A conductor's outgoing mode r^-m e^{+jm theta} = (a/conj(z - c))^m answers the incoming
    # r^m e^{+jm theta} = (z - c)^m: P-_m = t_m B+_m and P+_m = t_m B-_m. Rows reordered so
    # that row r of g, g0 holds the local coefficient that drives unknown r.
    perm = np.concatenate([np.r_[2 * m * i + m:2 * m * (i + 1), 2 * m * i:2 * m * i + m]
                           for i in range(n)])
    return g[perm], g0[perm], h, h0


class MultipoleSolver:
    """R and L of solid round conductors by multipole expansion, exact at every frequency.

    The same interface as :class:`sigint.extract.peec.PeecSolver` (``solve``, ``dc``,
    ``partial_impedance``, ``conductor_admittance``, ``unknowns``).

    Parameters
    ----------
    geo : Geometry
        A cross-section for which :func:`applies` holds.
    refine : float
        Tightens the truncation tolerance to ``ORDER_TOL ** refine`` (convergence check).

    Raises
    ------
    ValueError
        If :func:`applies` does not hold for *geo*.
    """

    sheets = None
    reduced = None
    mirror = False
    mirrors = 0

    unknowns_what = "multipole coefficients"   # what :attr:`unknowns` counts, for reports

    def __init__(self, geo: Geometry, refine: float = 1.0):
        if not applies(geo):
            reason = why_not(geo)
            raise ValueError("the multipole solver needs solid round conductors only, at most "
                             "a ground plane, and no two conductors nearly touching"
                             + (f" ({reason})" if reason else ""))
        order = multipole_order(geo, refine)
        self.geo = geo
        self.order = order
        self.ground = geo.ground_y
        self.n_signal = len(geo.signals)
        c, a = _centres(geo)
        self.radius = a
        self.sigma = np.array([k.conductivity for k in geo.conductors], dtype=float)
        self.perfect = self.sigma >= PERFECT_SIGMA
        progress.stage(f"multipole expansions of order {order} for {c.size} round conductors")
        self.g, self.g0, self.h, self.h0 = _translation(geo, order)
        # external inductance with uniform currents (the DC part): -mu0/(2 pi) <ln distance>
        self.l_ext = -MU0 / (2 * math.pi) * (self.h0 + np.diag(np.log(a)))
        # the filament mesh of the other solver has no counterpart here
        self.fil = None
        self.interpolation_error: float | None = None
        self.sampled = 0

    @property
    def unknowns(self) -> int:
        """Multipole coefficients solved for: 2M per conductor."""
        return 2 * self.order * self.radius.size

    def _t(self, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mode responses t_m (F, n, M) and internal impedances (F, n), ohm/m."""
        m = np.arange(1, self.order + 1)
        t = np.empty((omega.size, self.radius.size, self.order), dtype=complex)
        zint = np.zeros((omega.size, self.radius.size), dtype=complex)
        done: dict[tuple[float, float], int] = {}     # conductors of one radius and metal
        for i, (a, sig) in enumerate(zip(self.radius, self.sigma)):
            if self.perfect[i]:
                t[:, i] = -1.0
                continue
            j = done.setdefault((float(a), float(sig)), i)
            if j != i:
                t[:, i], zint[:, i] = t[:, j], zint[:, j]
                continue
            gam = np.sqrt(1j * omega * MU0 * sig)
            x = gam * a
            ratio = _bessel_ratios(x, self.order)             # I_{m+1}/I_m, m = 0..M
            xr = x[:, None] * ratio[:, 1:]
            t[:, i] = -xr / (2 * m[None] + xr)
            zint[:, i] = gam / (2 * math.pi * a * sig * ratio[:, 0])
        return t, zint

    def partial_impedance(self, f: float | np.ndarray) -> np.ndarray:
        """Impedance matrix of every conductor on its own (no return path), ohm/m, shape
        (F, n, n) (or (n, n) for a scalar *f* > 0).

        The internal impedances and the external inductance of uniform currents are closed
        forms at every frequency. The proximity term (the induced multipoles) is solved at
        every frequency for up to :data:`EXACT_MAX` of them; for more, at
        :data:`SAMPLES_PER_DECADE` log-spaced frequencies (doubled until the error measured
        half-way between samples is below :data:`INTERP_TOL` of the largest impedance, or
        solved everywhere) and interpolated in log f by a cubic spline (not-a-knot; its error
        falls as the fourth power of the spacing: de Boor, *A Practical Guide to Splines*,
        2001, Ch. V). The error measured (an upper bound: the final spline also passes
        through the half-way points) is
        :attr:`interpolation_error` (None when every frequency was solved).

        Raises
        ------
        ValueError
            For a frequency at or below 0 Hz (:meth:`dc` gives DC).
        """
        fa = np.atleast_1d(np.asarray(f, dtype=float))
        if np.any(fa <= 0):
            raise ValueError("partial_impedance needs frequencies above 0 Hz (dc() for DC)")
        omega = 2 * math.pi * fa
        _, zint = self._t(omega)
        self.interpolation_error = None
        fu, back = np.unique(fa, return_inverse=True)
        lo, hi = float(fu[0]), float(fu[-1])
        per_decade = SAMPLES_PER_DECADE
        corr = None
        while corr is None:
            n_s = max(4, int(math.ceil(math.log10(hi / lo) * per_decade)) + 1) if hi > lo else 1
            if fu.size <= max(EXACT_MAX, 2 * n_s):
                corr = self._proximity(2 * math.pi * fu)[back.ravel()]
                break
            fs = np.geomspace(lo, hi, n_s)
            mid = np.sqrt(fs[1:] * fs[:-1])
            both = self._proximity(2 * math.pi * np.concatenate([fs, mid]))
            at_s, at_mid = both[:n_s], both[n_s:]
            guess = spline_log(fs, at_s, mid)
            scale = np.abs(self.l_ext).max()
            err = float(np.abs(guess - at_mid).max() / scale)
            if err <= INTERP_TOL:
                # every solved frequency is a node of the final interpolant
                allf = np.concatenate([fs, mid])
                order = np.argsort(allf)
                corr = spline_log(allf[order], both[order], fa)
                self.interpolation_error = err
                self.sampled = int(allf.size)
            else:
                per_decade *= 2
        out = 1j * omega[:, None, None] * (self.l_ext[None] + corr)
        idx = np.arange(self.radius.size)
        out[:, idx, idx] += zint
        return out[0] if np.ndim(f) == 0 else out

    @small_matrix_blas()
    def _proximity(self, omega: np.ndarray) -> np.ndarray:
        """Inductance of the induced multipoles, -mu0/(2 pi) H (I - T G)^-1 T g0, shape
        (F, n, n), H/m (complex: its imaginary part is a resistance over omega)."""
        n, m = self.radius.size, self.order
        t_all, _ = self._t(omega)
        out = np.empty((omega.size, n, n), dtype=complex)
        eye = np.eye(2 * m * n)
        chunk = int(max(1, min(64, F_CHUNK_BYTES // (16 * 3 * (2 * m * n) ** 2))))
        with progress.task(f"{2 * m * n} multipole unknowns, frequencies", total=omega.size):
            for f0 in range(0, omega.size, chunk):
                sl = slice(f0, min(omega.size, f0 + chunk))
                # T is the same for the analytic and anti-analytic halves of a conductor
                t = np.concatenate([t_all[sl], t_all[sl]], axis=2).reshape(-1, 2 * m * n)
                k = eye[None] - t[:, :, None] * self.g[None]
                rhs = t[:, :, None] * self.g0[None]
                x = np.linalg.solve(k, rhs)                       # (F, 2Mn, n)
                out[sl] = -MU0 / (2 * math.pi) * (self.h[None] @ x)
                progress.advance(sl.stop - sl.start)
        return out

    def conductor_admittance(self, f: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`partial_impedance`, shape (F, n, n), S*m."""
        return np.linalg.inv(self.partial_impedance(np.atleast_1d(f)))

    _loop = PeecSolver._loop

    @small_matrix_blas()
    def solve(self, f: float | np.ndarray) -> np.ndarray:
        """Loop impedance :math:`R + j\\omega L` of the signals, shape (F, ns, ns), ohm/m.

        Where every wire's diffusion time :math:`\\tau = \\mu_0\\sigma a^2/4` is short
        against the period (:math:`\\omega\\tau < 10^{-5}`: skin and proximity corrections
        below 1e-10) the DC resistance and inductance are used, which the loop reduction of
        a nearly real impedance would otherwise lose to rounding (1 mHz on a 1 um wire pair:
        5e-4 in L)."""
        fa = np.atleast_1d(np.asarray(f, dtype=float))
        tau = float(np.max(np.where(self.perfect, 0.0,
                                    MU0 * self.sigma * self.radius ** 2 / 4)))
        w = 2 * math.pi * fa
        low = (w * tau < 1e-5) & ~self.perfect.any()
        z = np.empty((fa.size, self.n_signal, self.n_signal), dtype=complex)
        if (~low).any():
            z[~low] = self._loop(self.conductor_admittance(fa[~low]))
        if low.any():
            rdc, ldc = self.dc()
            z[low] = rdc[None] + 1j * w[low, None, None] * ldc[None]
        return z[0] if np.ndim(f) == 0 else z

    @small_matrix_blas()
    def dc(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, L) at DC: uniform currents, :math:`R = 1/(\\sigma\\pi a^2)` and the internal
        inductance :math:`\\mu_0/8\\pi` of each wire (Ramo et al., Sec. 5.6) plus the
        external inductance; perfect conductors keep their induced multipoles
        (:math:`t_m = -1` at every frequency)."""
        n, m = self.radius.size, self.order
        rdc = np.where(self.perfect, 0.0, 1.0 / (self.sigma * math.pi * self.radius ** 2))
        lint = np.where(self.perfect, 0.0, MU0 / (8 * math.pi))
        lpart = self.l_ext + np.diag(lint)
        if self.perfect.any():
            t = np.repeat(np.where(self.perfect, -1.0, 0.0), 2 * m)
            x = np.linalg.solve(np.eye(2 * m * n) - t[:, None] * self.g, t[:, None] * self.g0)
            lpart = lpart - MU0 / (2 * math.pi) * (self.h @ x).real
        # loop quantities from a tiny frequency: second order in eps * L / R (< 1e-12)
        eps = 1e-3
        z = self._loop(np.linalg.inv(np.diag(rdc) + 1j * eps * lpart)[None])[0]
        return z.real, z.imag / eps
