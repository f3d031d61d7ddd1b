"""Vertical interconnect arrays: micro-bumps, C4 bumps, hybrid bonds, TSVs and vias.

Each is an array of round conductors along z, laid out by the link's bump map (signals and
grounds), in a fill (underfill, oxide, silicon) and optionally with a dielectric liner. It is
extracted per unit length like any cross-section (:mod:`sigint.extract`) and becomes a
multiconductor line of the segment's height.

Short conductors (height comparable to the pitch) carry less inductance than the 2D
per-unit-length value times the height: the return path's partial inductances are finite.
The correction uses partial inductances of parallel filaments of finite length *l* at
distance *d* (Grover; Ruehli, IBM J. Res. Dev. 16(5), 1972),

.. math:: M(l, d) = \\frac{\\mu_0}{2\\pi}\\left[l\\,\\ln\\!\\left(\\frac{l}{d} +
          \\sqrt{1 + \\frac{l^2}{d^2}}\\right) - \\sqrt{l^2 + d^2} + d\\right],

with a solid round conductor's self term at its geometric mean radius :math:`r e^{-1/4}`.
The loop inductance matrix of the signals against the joined grounds is formed once with
these 3D partials and once with their 2D limit; the difference divided by the height is
added to the extracted per-unit-length L, which keeps the skin and proximity effect of the
2D solution. C and G are the 2D values times the height: the fringing at the two ends is
left out. The correction is good for heights down to about half the pitch; below that, the
fringing capacitance (a few percent for a bump) is the main remaining error.
"""

from __future__ import annotations

import math

import numpy as np

from ..constants import MU0

__all__ = ["partial_mutual_3d", "partial_mutual_2d", "loop_inductance", "end_correction", "map_positions"]


def partial_mutual_3d(length: float, d: np.ndarray) -> np.ndarray:
    """Mutual partial inductance of two parallel filaments of *length* at distance *d*, H."""
    d = np.asarray(d, dtype=float)
    q = length / d
    # l ln(l/d + sqrt(1 + l^2/d^2)) = l asinh(l/d)
    return MU0 / (2 * math.pi) * (length * np.arcsinh(q) - np.sqrt(length * length + d * d) + d)


def partial_mutual_2d(length: float, d: np.ndarray) -> np.ndarray:
    """The long-line limit of :func:`partial_mutual_3d`: (mu0 l / 2 pi) (ln(2 l / d) - 1)."""
    return MU0 / (2 * math.pi) * length * (np.log(2 * length / np.asarray(d, dtype=float)) - 1)


def loop_inductance(lp: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Loop inductance matrix of the signals against the joined other conductors.

    Parameters
    ----------
    lp : ndarray, shape (n, n)
        Partial inductance matrix of all conductors, H.
    signal : ndarray of bool, shape (n,)
        Which conductors are signals; the others are joined into the return.
    """
    ns = int(signal.sum())
    n = lp.shape[0]
    j = np.zeros((n, ns + 1))
    j[np.flatnonzero(signal), np.arange(ns)] = 1.0
    j[~signal, ns] = 1.0
    yl = j.T @ np.linalg.solve(lp, j)                 # susceptance-like reduction of inv(Lp)
    lc = np.linalg.inv(yl)
    p = np.hstack([np.eye(ns), -np.ones((ns, 1))])
    return p @ lc @ p.T


def end_correction(x: np.ndarray, y: np.ndarray, r: float, signal: np.ndarray,
                   height: float) -> np.ndarray:
    """Per-unit-length change of the loop inductance matrix from 3D end effects, H/m.

    Parameters
    ----------
    x, y : ndarray
        Centres of the round conductors, m.
    r : float
        Their radius, m.
    signal : ndarray of bool
        Which are signals (the rest are returns).
    height : float
        Length of the conductors, m.
    """
    pts = np.stack([x, y], axis=1)
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, r * math.exp(-0.25))
    l3 = loop_inductance(partial_mutual_3d(height, d), signal)
    l2 = loop_inductance(partial_mutual_2d(height, d), signal)
    return (l3 - l2) / height


def map_positions(
    rows: list[str], pitch_x: float, pitch_y: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres and signal flags of a bump map (rows of S/G letters, the first row on top).

    Signals are numbered in reading order (row by row, left to right).
    """
    n_r, n_c = len(rows), len(rows[0])
    xs, ys, sig = [], [], []
    for i, row in enumerate(rows):
        for k, ch in enumerate(row):
            xs.append((k - (n_c - 1) / 2) * pitch_x)
            ys.append(((n_r - 1) / 2 - i) * pitch_y)
            sig.append(ch == "S")
    return np.array(xs), np.array(ys), np.array(sig)
