"""Closed-form networks for tests, written independently of the code under test."""

from __future__ import annotations

import numpy as np
import skrf


def line_s(zc, gamma_l, zr=50.0):
    """2-port S-matrix of a uniform line (impedance zc, gamma*length) in reference zr.

    From the ABCD matrix [[cosh, zc sinh], [sinh/zc, cosh]] (Pozar, Microwave Engineering,
    Table 4.2): S11 = (zc^2 - zr^2) sinh / D, S21 = 2 zc zr / D,
    D = 2 zc zr cosh + (zc^2 + zr^2) sinh.
    """
    zc = np.asarray(zc, dtype=complex)
    ch, sh = np.cosh(gamma_l), np.sinh(gamma_l)
    d = 2 * zc * zr * ch + (zc ** 2 + zr ** 2) * sh
    s11 = (zc ** 2 - zr ** 2) * sh / d
    s21 = 2 * zc * zr / d
    s = np.empty(np.shape(gamma_l) + (2, 2), dtype=complex)
    s[..., 0, 0] = s[..., 1, 1] = s11
    s[..., 0, 1] = s[..., 1, 0] = s21
    return s


def lossy_line(f, length, zc=50.0, eps_eff=4.0, alpha_db_per_m_sqrt_ghz=0.0, zr=50.0,
               name="line"):
    """A line with skin-effect-like loss alpha ~ sqrt(f) as a scikit-rf 2-port."""
    f = np.asarray(f, dtype=float)
    c0 = 299792458.0
    beta = 2 * np.pi * f * np.sqrt(eps_eff) / c0
    alpha = alpha_db_per_m_sqrt_ghz * np.sqrt(f / 1e9) / (20 / np.log(10))
    s = line_s(zc, (alpha + 1j * beta) * length, zr)
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=zr, name=name)


def coupled_pair(f, length, z_even, z_odd, eps_even, eps_odd, alpha_db_per_m_sqrt_ghz=0.0,
                 zr=50.0, name="pair"):
    """Symmetric coupled pair as a 4-port, ports [A near, B near, A far, B far].

    Even/odd-mode decomposition of a symmetric 4-port (Pozar, §7.6): with Se, So the
    2-port S-matrices of the even and odd modes in the single-ended reference zr,
    S_AA = (Se + So)/2 and S_BA = (Se - So)/2 blockwise.
    """
    f = np.asarray(f, dtype=float)
    c0 = 299792458.0
    alpha = alpha_db_per_m_sqrt_ghz * np.sqrt(f / 1e9) / (20 / np.log(10))
    se = line_s(z_even, (alpha + 2j * np.pi * f * np.sqrt(eps_even) / c0) * length, zr)
    so = line_s(z_odd, (alpha + 2j * np.pi * f * np.sqrt(eps_odd) / c0) * length, zr)
    same, cross = (se + so) / 2, (se - so) / 2
    s = np.zeros((f.size, 4, 4), dtype=complex)
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        a, b = (0, 2)[i], (0, 2)[j]          # A near / A far
        s[:, a, b] = same[:, i, j]
        s[:, a + 1, b + 1] = same[:, i, j]
        s[:, a + 1, b] = cross[:, i, j]
        s[:, a, b + 1] = cross[:, i, j]
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=zr, name=name)
