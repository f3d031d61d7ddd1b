"""Synthetic but physical many-port channels for the benchmarks (cached on disk)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MU0 = 1.25663706212e-6
EPS0 = 8.8541878128e-12
CACHE = Path(os.environ.get("SIGINT_BENCH_CACHE", Path(__file__).parent / ".cache"))


def bus_rlgc(n_lines: int, f: np.ndarray, eps_r: float = 3.5, tan_d: float = 0.01):
    """RLGC of a uniform n-line stripline bus in a homogeneous dielectric.

    Maxwell capacitance with couplings decaying over three neighbours; the inductance
    follows from L = mu0 eps0 eps_r C^-1 (homogeneous dielectric, REFERENCES.md E10);
    R is 12 um x 12 um copper with skin effect above ~120 MHz; G = w tan_d C.
    """
    c = np.zeros((n_lines, n_lines))
    for k, v in enumerate([130e-12, -18e-12, -2.5e-12, -0.5e-12]):
        c += np.diag(np.full(n_lines - k, v), k) + (np.diag(np.full(n_lines - k, v), -k) if k else 0)
    l = MU0 * EPS0 * eps_r * np.linalg.inv(c)
    rdc = 1 / (5.8e7 * 12e-6 * 12e-6)
    r = rdc * np.sqrt(1 + f / 121e6)[:, None, None] * np.eye(n_lines)
    g = (2 * np.pi * f * tan_d)[:, None, None] * c
    return r, l, g, c


def bus_channel(n_lines: int = 32, n_freq: int = 2001, length: float = 10e-3,
                fmax: float = 40e9) -> Path:
    """Touchstone file of an n-line bus (2n ports, scikit-rf order), written once."""
    import skrf

    from sigint.channel.lines import mtl_s

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"bus{n_lines}_{n_freq}.s{2 * n_lines}p"
    if path.exists():
        return path
    f = np.linspace(0, fmax, n_freq)
    s = mtl_s(f, *bus_rlgc(n_lines, f), length, 50.0)
    net = skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)
    tmp = path.with_suffix(".tmp")
    net.write_touchstone(filename=tmp.stem, dir=str(CACHE), skrf_comment=False)
    (CACHE / f"{tmp.stem}.s{2 * n_lines}p").rename(path)
    return path


def bus_network(n_lines: int = 32, n_freq: int = 2001, length: float = 10e-3, fmax: float = 40e9):
    """The same n-line bus as :func:`bus_channel`, as an in-memory :class:`skrf.Network`
    (no Touchstone file: for suites that time the analysis, not the reading)."""
    import skrf

    from sigint.channel.lines import mtl_s

    f = np.linspace(0, fmax, n_freq)
    s = mtl_s(f, *bus_rlgc(n_lines, f), length, 50.0)
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)
