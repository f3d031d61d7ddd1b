"""Materials: complex permittivity of dielectrics and semiconductors, conductivity of metals.

A dielectric has :math:`\\varepsilon_r` and :math:`\\tan\\delta` (constant over frequency), or
the causal wideband Djordjevic--Sarkar model fitted to :math:`\\varepsilon_r`,
:math:`\\tan\\delta` at one frequency (Djordjevic, Biljic, Likar-Smiljanic & Sarkar, IEEE
Trans. EMC 43(4), 2001):

.. math:: \\varepsilon_r(\\omega) = \\varepsilon_\\infty + \\frac{\\Delta\\varepsilon}{m_2 - m_1}
          \\log_{10}\\frac{\\omega_2 + j\\omega}{\\omega_1 + j\\omega},
          \\qquad \\omega_{1,2} = 2\\pi\\,10^{m_{1,2}}.

A semiconductor (or any material with a conductivity) adds :math:`-j\\sigma/\\omega\\varepsilon_0`.
Permittivities follow the :math:`e^{j\\omega t}` convention: :math:`\\varepsilon = \\varepsilon'
- j\\varepsilon''` with :math:`\\varepsilon'' \\ge 0` for a lossy medium.

Metals have a conductivity and an optional RMS surface roughness, applied through the
Hammerstad--Jensen factor :math:`K = 1 + \\tfrac{2}{\\pi}\\arctan(1.4(\\Delta/\\delta)^2)`
(Hammerstad & Jensen, IEEE MTT-S 1980) to the frequency-dependent part of the resistance.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ..constants import EPS0, MU0
from ..schema import SigintModel

# EPS0 and MU0 are re-exported for the modules that import them from here
__all__ = ["Material", "BUILTIN_MATERIALS", "EPS0", "MU0", "skin_depth", "roughness_factor"]


class Material(SigintModel):
    """A material of a cross-section.

    Parameters
    ----------
    eps_r : float
        Relative permittivity (real part), at ``f_ref`` for the Djordjevic-Sarkar model.
    tan_d : float
        Loss tangent (at ``f_ref`` for the Djordjevic-Sarkar model).
    conductivity : float
        Conductivity, S/m (metals; semiconductors such as silicon).
    model : {'constant', 'djordjevic-sarkar'}
        Frequency dependence of a dielectric.
    f_ref : float
        Frequency at which ``eps_r`` and ``tan_d`` hold for the Djordjevic-Sarkar model, Hz.
    roughness : float
        RMS surface roughness of a metal, m.
    description : str
        Free text (source of the values).
    """

    eps_r: float = Field(1.0, ge=1.0, le=1e4)
    tan_d: float = Field(0.0, ge=0.0, lt=1.0)
    conductivity: float = Field(0.0, ge=0.0)
    model: Literal["constant", "djordjevic-sarkar"] = "constant"
    f_ref: float = Field(1e9, gt=0)
    roughness: float = Field(0.0, ge=0.0)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Material:
        if self.model == "djordjevic-sarkar" and self.tan_d <= 0:
            raise ValueError("the djordjevic-sarkar model needs tan_d > 0; give tan_d or use "
                             "model: constant")
        return self

    @property
    def is_metal(self) -> bool:
        """True for a conductor (conductivity of at least 1e4 S/m)."""
        return self.conductivity >= 1e4

    def permittivity(self, f: np.ndarray | float) -> np.ndarray:
        """Complex relative permittivity :math:`\\varepsilon' - j\\varepsilon''` at *f* (Hz)."""
        f = np.asarray(f, dtype=float)
        w = 2 * np.pi * f
        if self.model == "djordjevic-sarkar":
            eps = self._ds(w)
        else:
            eps = np.full(f.shape, self.eps_r * (1 - 1j * self.tan_d), dtype=complex)
        if self.conductivity and not self.is_metal:
            with np.errstate(divide="ignore"):
                eps = eps - 1j * self.conductivity / (np.where(w > 0, w, np.nan) * EPS0)
        return eps

    def _ds(self, w: np.ndarray) -> np.ndarray:
        m1, m2 = 3.0, 12.0
        w1, w2 = 2 * np.pi * 10 ** m1, 2 * np.pi * 10 ** m2
        wr = 2 * np.pi * self.f_ref
        lg = np.log10((w2 + 1j * wr) / (w1 + 1j * wr))
        # Im eps(wr) = -eps_r tan_d fixes d_eps; Re eps(wr) = eps_r fixes eps_inf
        d_eps = -self.eps_r * self.tan_d * (m2 - m1) / lg.imag
        eps_inf = self.eps_r - d_eps / (m2 - m1) * lg.real
        return eps_inf + d_eps / (m2 - m1) * np.log10((w2 + 1j * w) / (w1 + 1j * w))

    @property
    def frequency_dependent(self) -> bool:
        """Whether the complex permittivity changes with frequency."""
        return self.model == "djordjevic-sarkar" or (self.conductivity > 0 and not self.is_metal)


def skin_depth(f: float | np.ndarray, conductivity: float) -> float | np.ndarray:
    """Skin depth :math:`\\delta = 1/\\sqrt{\\pi f \\mu_0 \\sigma}`, m."""
    return 1.0 / np.sqrt(np.pi * np.asarray(f, dtype=float) * MU0 * conductivity)


def roughness_factor(f: np.ndarray, conductivity: float, rms: float) -> np.ndarray:
    """Hammerstad-Jensen roughness factor at frequencies *f*."""
    if rms <= 0:
        return np.ones(np.shape(f))
    with np.errstate(divide="ignore"):
        d = np.where(np.asarray(f) > 0, skin_depth(np.maximum(f, 1e-300), conductivity), np.inf)
    return 1 + 2 / math.pi * np.arctan(1.4 * (rms / d) ** 2)


BUILTIN_MATERIALS: dict[str, Material] = {
    "air": Material(description="vacuum / air"),
    "vacuum": Material(description="vacuum"),
    "sio2": Material(eps_r=3.9, tan_d=1e-4, description="thermal / PECVD silicon dioxide"),
    "si": Material(eps_r=11.9, conductivity=10.0,
                   description="silicon, 10 ohm*cm (10 S/m), a common interposer substrate"),
    "hr_si": Material(eps_r=11.9, conductivity=0.1, description="high-resistivity silicon, "
                      "1 kohm*cm"),
    "polyimide": Material(eps_r=3.3, tan_d=0.002, model="djordjevic-sarkar", f_ref=1e9,
                          description="RDL polyimide"),
    "abf": Material(eps_r=3.3, tan_d=0.0044, model="djordjevic-sarkar", f_ref=5.8e9,
                    description="build-up film (ABF class), organic substrates"),
    "fr4": Material(eps_r=4.2, tan_d=0.02, model="djordjevic-sarkar", f_ref=1e9,
                    description="FR-4 laminate"),
    "underfill": Material(eps_r=3.5, tan_d=0.01, model="djordjevic-sarkar", f_ref=1e9,
                          description="capillary underfill between die and package"),
    "cu": Material(conductivity=5.8e7, description="copper"),
    "solder": Material(conductivity=7.0e6, description="SnAg solder (micro-bumps, C4)"),
    "al": Material(conductivity=3.77e7, description="aluminium"),
    "w": Material(conductivity=1.79e7, description="tungsten"),
    "pec": Material(conductivity=1e20, description="perfect conductor (for references)"),
}
