"""An independent capacitance solver for tests: a conductor above a grounded dielectric slab.

Written separately from :mod:`sigint.extract.bem` and with another formulation: unknowns
only on the conductor (free charge), the layered medium in the Green's function. For a
line charge q at r0 in the upper half-space (permittivity eps_t, y > h) above a slab
(eps_b, 0 < y < h) on a ground plane at y = 0, the potential in the upper region is

    phi(r) = q / (2 pi eps0 eps_t) * [-ln|r - r0| - sum_n a_n ln|r - r_n|],

with images r_n = (x0, 2h - y0 - 2nh), a_0 = K, a_n = (K^2 - 1) K^(n-1) (n >= 1),
K = (eps_t - eps_b) / (eps_t + eps_b). This is the expansion in powers of exp(-2kh) of
the slab's spectral reflection coefficient R(k) = (K - e^{-2kh}) / (1 - K e^{-2kh})
(continuity of phi and eps dphi/dy at y = h, phi = 0 at y = 0; e.g. Silvester, Proc. IEE
115(1), 1968, for the microstrip image series). The images sum to -q: the system is neutral.

Panels are piecewise constant, collocated at midpoints, graded polynomially towards every
corner (s = L u^p near each end, u uniform), and the capacitance is Richardson-extrapolated
in the panel count.
"""

from __future__ import annotations

import math

import numpy as np

EPS0 = 8.8541878128e-12


def _log_integral(x, p, q):
    """int over the segment p->q of ln|x - r| ds, for targets x (M, 2), segments (P, 2)."""
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    t = d / length[:, None]
    n = np.stack([-t[:, 1], t[:, 0]], axis=1)
    rel = x[:, None, :] - p[None]
    u = (rel * t[None]).sum(-1)
    v = np.abs((rel * n[None]).sum(-1))

    def prim(w):   # antiderivative of ln sqrt(w^2 + v^2) in w
        r2 = w * w + v * v
        lg = np.where(r2 > 0, 0.5 * np.log(np.where(r2 > 0, r2, 1.0)), 0.0)
        at = np.where(v > 0, v * np.arctan2(w, np.where(v > 0, v, 1.0)), 0.0)
        return w * lg - w + at

    return prim(length[None] - u) - prim(-u)


def _graded_side(p, q, n, power):
    """n panels on p->q, sizes shrinking polynomially towards both ends."""
    u = np.linspace(0.0, 1.0, n + 1)
    s = np.where(u < 0.5, 0.5 * (2 * u) ** power, 1 - 0.5 * (2 * (1 - u)) ** power)
    return p[None] + s[:, None] * (q - p)[None]


def rect_panels(x0, x1, y0, y1, n, power=3.0):
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    a, b = [], []
    for k in range(4):
        p, q = corners[k], corners[(k + 1) % 4]
        side = np.hypot(*(q - p))
        m = max(4, int(round(n * side / max(x1 - x0, y1 - y0))))
        pts = _graded_side(p, q, m, power)
        a.append(pts[:-1])
        b.append(pts[1:])
    return np.concatenate(a), np.concatenate(b)


def circle_panels(cx, cy, r, n):
    """n equal chords of a circle."""
    th = np.linspace(0.0, 2 * math.pi, n + 1)
    pts = np.stack([cx + r * np.cos(th), cy + r * np.sin(th)], axis=1)
    return pts[:-1], pts[1:]


def capacitance(rect, h, eps_t, eps_b, n, power=3.0, tol=1e-15):
    """C (F/m) of a rectangle (x0, x1, y0, y1), y0 > h, over the slab, with n panels on its
    longest side."""
    return panel_capacitance(*rect_panels(*rect, n, power), h, eps_t, eps_b, tol)


def panel_capacitance(a, b, h, eps_t, eps_b, tol=1e-15):
    """C (F/m) of the conductor outlined by panels a -> b (all above y = h)."""
    mid = 0.5 * (a + b)
    length = np.hypot(*(b - a).T)
    k = (eps_t - eps_b) / (eps_t + eps_b)
    kern = _log_integral(mid, a, b)              # the source itself
    # the nearest image (mirror in the interface), integrated exactly: it can be close
    ai, bi = a.copy(), b.copy()
    ai[:, 1], bi[:, 1] = 2 * h - a[:, 1], 2 * h - b[:, 1]
    kern += k * _log_integral(mid, ai, bi)
    # images n >= 1 lie at least 2h - ... below: smooth, 3-point Gauss over the source
    gx, gw = np.polynomial.legendre.leggauss(3)
    coef = []
    m = 1
    while True:
        c = (k * k - 1) * k ** (m - 1) if k != 0 else (-1.0 if m == 1 else 0.0)
        if abs(c) < tol or m > 400:
            break
        coef.append((m, c))
        m += 1
    for g, w in zip(gx, gw):
        src = a + 0.5 * (1 + g) * (b - a)
        for m, c in coef:
            img_y = 2 * h - src[:, 1] - 2 * m * h
            dx = mid[:, 0, None] - src[None, :, 0]
            dy = mid[:, 1, None] - img_y[None, :]
            kern += c * 0.5 * w * length[None] * 0.5 * np.log(dx * dx + dy * dy)
    pmat = -kern / (2 * math.pi * EPS0 * eps_t)
    sigma = np.linalg.solve(pmat, np.ones(mid.shape[0]))
    return float((sigma * length).sum())


def extrapolated(rect, h, eps_t, eps_b, ns=(64, 128, 256), power=3.0, circle=None):
    """Richardson extrapolation with the order estimated from three panel counts; for a
    circle give ``circle=(cx, cy, r)`` (and any *rect*).

    Returns (C, estimated error of the extrapolated value, observed order, raw values)."""
    if circle is not None:
        c = [panel_capacitance(*circle_panels(*circle, n), h, eps_t, eps_b) for n in ns]
    else:
        c = [capacitance(rect, h, eps_t, eps_b, n, power) for n in ns]
    d1, d2 = c[1] - c[0], c[2] - c[1]
    ratio = ns[1] / ns[0]
    if d2 == 0 or d1 / d2 <= 1:
        return c[2], abs(d2), float("nan"), c
    order = math.log(d1 / d2) / math.log(ratio)
    ext = c[2] + d2 / (ratio ** order - 1)
    return ext, abs(ext - c[2]), order, c
