"""Choosing Tx FFE and Rx CTLE settings that open the eye.

Every candidate (FFE pre/post taps from a grid, CTLE DC gain from a grid) is ranked by a
Gaussian figure of merit at the target BER, evaluated at every sampling phase:

.. math:: \\mathrm{FOM} = A h_0 - Q\\sqrt{A^2\\sum_{k\\ne0} h_k^2 + A_a^2\\sigma_{xt}^2 + \\sigma_n^2},
          \\qquad Q = \\Phi^{-1}(1 - \\mathrm{BER}),

with post-cursors removed by the DFE (within its limit). The crosstalk power is averaged
over the aggressors' phases, which by Parseval's theorem is
:math:`\\sigma_{xt}^2 = \\frac{1}{S}\\sum_n g[n]^2 = \\frac{1}{S N}\\sum_k |G_k|^2`
(*S* samples per UI, *N* per window), computed once per CTLE setting from the summed
aggressor spectra. The FFE is a filter on the symbol stream, so its effect on cursors is a
shift-and-add of UI columns, and on crosstalk power the factor :math:`|\\sum_m c_m
e^{-j2\\pi f (m - m_0) T}|^2`. The winner is then analysed with the full statistical eye.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.special import ndtri

from ..link.models import Ctle, Rx, Tx
from .pulse import pulse_responses
from .stateye import cursor_matrix as _cursor_matrix

__all__ = ["EqResult", "optimize_eq", "FFE_PRE", "FFE_POST", "CTLE_GAINS"]

FFE_PRE = (0.0, -0.05, -0.1, -0.15)
FFE_POST = (0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.35)
CTLE_GAINS = tuple(float(g) for g in range(0, -13, -1))


@dataclass
class EqResult:
    """The chosen equalization.

    Attributes
    ----------
    ffe : tuple of float
        Tx FFE taps (pre, main, post).
    ffe_main : int
        Index of the main tap.
    ctle_db : float or None
        CTLE DC gain, dB, or None when no CTLE.
    fom : float
        Figure of merit of the winner, V.
    fom_off : float
        Figure of merit without equalization, V.
    tried : int
        Number of candidates ranked.
    """

    ffe: tuple[float, ...]
    ffe_main: int
    ctle_db: float | None
    fom: float
    fom_off: float
    tried: int


def _ffe_cursors(mat: np.ndarray, taps: tuple[float, ...], main: int) -> np.ndarray:
    out = np.zeros_like(mat)
    for m, c in enumerate(taps):
        if c:
            out += c * np.roll(mat, m - main, axis=1)
    return out


def optimize_eq(
    f: np.ndarray,
    victim: np.ndarray,
    aggressors: np.ndarray,
    rate: float,
    tx: Tx,
    rx: Rx,
    *,
    amplitude: float,
    ber: float,
    ffe: bool = True,
    ctle: bool = False,
    samples_per_ui: int = 32,
) -> EqResult:
    """Search FFE taps and/or CTLE gain for the best Gaussian figure of merit.

    Parameters
    ----------
    f, victim, aggressors : ndarray
        Frequencies (Hz) and VTFs, as for :func:`~sigint.timedomain.pulse.pulse_responses`.
    rate : float
        Symbol rate, 1/s.
    tx, rx : Tx, Rx
        Base models; their own FFE and CTLE are replaced by the candidates.
    amplitude : float
        Symbol amplitude A, V.
    ber : float
        Target BER for Q.
    ffe, ctle : bool
        Which equalizers to search.
    """
    q = float(ndtri(1.0 - ber)) if ber > 1e-300 else 37.5
    pre_set = FFE_PRE if ffe else (0.0,)
    post_set = FFE_POST if ffe else (0.0,)
    gains = CTLE_GAINS if ctle else (None,)
    tx0 = tx.model_copy(update={"ffe": (1.0,), "ffe_main": 0})
    best = None
    fom_off = None
    tried = 0
    spui = samples_per_ui
    for g in gains:
        rxg = rx.model_copy(update={"ctle": None if g is None else Ctle(dc_gain_db=g),
                                    "dfe_taps": 0})
        pr = pulse_responses(f, victim, aggressors[:0], rate, tx0, rxg,
                             samples_per_ui=spui)
        n = pr.victim.size
        starts = pr.main - spui + np.arange(2 * spui)
        mat = _cursor_matrix(pr.victim, starts, spui)               # (2S, n_ui)
        spec = _xt_spectrum(f, aggressors, rate, tx0, rxg, spui) if aggressors.shape[0] else None
        fk = np.fft.rfftfreq(n, d=1.0 / (rate * spui))
        for pre in pre_set:
            for post in post_set:
                main_tap = 1.0 - abs(pre) - abs(post)
                taps = (pre, main_tap, post)
                m0 = 1
                mc = _ffe_cursors(mat, taps, m0)
                h0 = mc[:, 0]
                isi = mc[:, 1:].copy()
                for d in range(rx.dfe_taps):
                    col = isi[:, d]
                    lim = np.inf if rx.dfe_limit is None else rx.dfe_limit * np.abs(h0)
                    isi[:, d] = col - np.clip(col, -lim, lim)
                var = amplitude ** 2 * np.sum(isi ** 2, axis=1) + rx.noise ** 2
                if spec is not None:
                    hf = sum(c * np.exp(-2j * np.pi * fk * (m - m0) / rate)
                             for m, c in enumerate(taps))
                    var = var + amplitude ** 2 * _parseval(spec * np.abs(hf) ** 2, n) / spui
                fom = float(np.max(amplitude * h0 - q * np.sqrt(var)))
                tried += 1
                if g in (None, 0.0) and pre == 0.0 and post == 0.0:
                    fom_off = fom
                if best is None or fom > best[0]:
                    best = (fom, taps, g)
    assert best is not None
    fom, taps, g = best
    if not ffe:
        taps = (0.0, 1.0, 0.0)
    return EqResult(tuple(float(t) for t in taps), 1, g, fom,
                    fom_off if fom_off is not None else fom, tried)


def _xt_spectrum(f, aggressors, rate, tx, rx, spui):
    """Sum over aggressors of |DFT of the pulse response|^2 on the pulse grid."""
    pr = pulse_responses(f, aggressors[0], aggressors[1:], rate, tx, rx, samples_per_ui=spui)
    allp = np.concatenate([pr.victim[None, :], pr.aggressors], axis=0)
    spec = np.abs(scipy.fft.rfft(allp, axis=-1)) ** 2
    return spec.sum(axis=0)


def _parseval(power: np.ndarray, n: int) -> float:
    """:math:`\\sum_n g[n]^2` of a length-*n* real sequence from its one-sided |G_k|^2."""
    w = np.full(power.size, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return float(np.sum(w * power) / n)
