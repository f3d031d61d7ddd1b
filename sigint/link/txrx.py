"""Behavioural transmitter and receiver models of a die-to-die link.

The transmitter is a Thevenin source: an open-circuit voltage ``Vs`` behind a series
resistance ``R``, with a pad capacitance ``C`` from the pad to ground (UCIe 3.0 §5.7 VTF
circuit). Its data edges have a finite rise time and may be pre-distorted by an FFE. The
receiver is a pad capacitance with or without a termination resistor, optionally followed
by a continuous-time linear equalizer (CTLE) and an ideal decision-feedback equalizer (DFE),
and adds Gaussian noise.

All values are SI (ohm, F, V, s, Hz); the CLI and files parse units before they get here.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ..schema import SigintModel

__all__ = ["Tx", "Rx", "Ctle"]

# 20-80 % time of an erf edge is 2 * Phi^-1(0.8) * sigma = 1.6832 sigma.
_ERF_2080 = 2.0 * 0.8416212335729143


class Tx(SigintModel):
    """Transmitter: Thevenin source, pad capacitance, edge shape, jitter and FFE.

    Parameters
    ----------
    r : float
        Source (series) resistance, ohm.
    c_pad : float
        Pad capacitance to ground, F.
    swing : float
        Peak-to-peak open-circuit source voltage, V (differential for a differential lane).
    rise_time : float, optional
        20-80 % edge time, s. When None, ``rise_time_ui`` of the unit interval is used.
    rise_time_ui : float
        20-80 % edge time as a fraction of the unit interval, used when ``rise_time`` is None.
    edge : {'gaussian', 'ramp'}
        Edge shape: an erf step (Gaussian filter) or a linear ramp.
    rj : float
        Random jitter of each edge, s rms.
    dj : float
        Deterministic jitter, dual-Dirac peak-to-peak, s.
    ffe : tuple of float
        FFE tap weights; ``(1.0,)`` is no FFE. The taps act on the symbol stream.
    ffe_main : int
        Index of the main tap in ``ffe`` (the number of pre-cursor taps).

    Examples
    --------
    >>> tx = Tx(r=25.0, c_pad=0.25e-12)
    >>> float(abs(tx.norton_current(np.array([0.0]))[0]))  # Vs / R per volt, A
    0.04
    """

    r: float = Field(25.0, gt=0, title="source resistance", description="ohm")
    c_pad: float = Field(0.25e-12, ge=0, title="pad capacitance", description="F")
    swing: float = Field(0.4, gt=0, title="source swing", description="V peak-to-peak")
    rise_time: float | None = Field(None, ge=0, title="20-80% rise time", description="s")
    rise_time_ui: float = Field(0.1, ge=0, le=1.0, title="20-80% rise time", description="UI")
    edge: Literal["gaussian", "ramp"] = "gaussian"
    rj: float = Field(0.0, ge=0, title="random jitter", description="s rms")
    dj: float = Field(0.0, ge=0, title="deterministic jitter", description="s, dual-Dirac p-p")
    ffe: tuple[float, ...] = Field((1.0,), title="FFE taps")
    ffe_main: int = Field(0, ge=0, title="index of the FFE main tap")

    @model_validator(mode="after")
    def _ffe_ok(self) -> Tx:
        if self.ffe_main >= len(self.ffe):
            raise ValueError(f"ffe_main = {self.ffe_main} but only {len(self.ffe)} taps; "
                             "the main tap index must point into ffe")
        if not any(self.ffe):
            raise ValueError("ffe taps are all zero; give at least a main tap")
        return self

    def admittance(self, f: np.ndarray) -> np.ndarray:
        """Shunt admittance seen from the pad, :math:`1/R + j\\omega C`, S."""
        return 1.0 / self.r + 2j * np.pi * np.asarray(f) * self.c_pad

    def norton_current(self, f: np.ndarray) -> np.ndarray:
        """Norton current per volt of open-circuit source, :math:`1/R`, A/V."""
        return np.full(np.shape(f), 1.0 / self.r, dtype=complex)

    def edge_time(self, rate: float) -> float:
        """20-80 % edge time at *rate* (symbols/s), s."""
        return self.rise_time if self.rise_time is not None else self.rise_time_ui / rate

    def edge_filter(self, f: np.ndarray, rate: float) -> np.ndarray:
        """Spectrum of the edge-shaping filter (unit DC gain), made causal by a delay.

        Gaussian: :math:`e^{-(2\\pi f\\sigma)^2/2}` with :math:`\\sigma = t_{20-80}/1.6832`,
        delayed by :math:`4\\sigma`. Ramp: a boxcar of width :math:`t_{20-80}/0.6`,
        :math:`\\mathrm{sinc}(f t_r) e^{-j\\pi f t_r}`.
        """
        f = np.asarray(f, dtype=float)
        tr = self.edge_time(rate)
        if tr <= 0:
            return np.ones(f.shape, dtype=complex)
        if self.edge == "gaussian":
            sigma = tr / _ERF_2080
            return np.exp(-0.5 * (2 * np.pi * f * sigma) ** 2) * np.exp(-2j * np.pi * f * 4 * sigma)
        t_full = tr / 0.6
        return np.sinc(f * t_full) * np.exp(-1j * np.pi * f * t_full)


def reference_ctle(f: np.ndarray, dc_gain_db: float, f_peak: float) -> np.ndarray:
    """UCIe 3.0 reference Rx CTLE (§5.4.4, Equations 5-3 and 5-4), complex response.

    :math:`H(s) = A_{DC}\\,\\dfrac{\\omega_p^2}{\\omega_z}\\,\\dfrac{s + \\omega_z}{(s + \\omega_p)^2}`
    with :math:`\\omega_p = \\min(\\omega_n/(1 - A_{DC}^2)^{1/4},\\ 2\\omega_n)` (Eq. 5-3) and
    :math:`\\omega_z = \\omega_p\\sqrt{(1 - \\sqrt{1 - A_{DC}^2})/2}` (Eq. 5-4),
    :math:`\\omega_n = 2\\pi f_n` the peak frequency (fN: 24 GHz at 48 GT/s, 32 GHz at
    64 GT/s). This one-zero, double-pole form is the one whose 0 dB peak falls at
    :math:`\\omega_n` exactly for these :math:`\\omega_p, \\omega_z` (setting
    :math:`|H(j\\omega_n)| = 1` and :math:`d|H|/d\\omega = 0` there gives Eqs. 5-3 and
    5-4); its DC gain is :math:`A_{DC} = 10^{G/20}`.

    Parameters
    ----------
    f : ndarray
        Frequencies, Hz.
    dc_gain_db : float
        DC gain G, dB (<= 0).
    f_peak : float
        Peak frequency fn, Hz.
    """
    a = 10.0 ** (dc_gain_db / 20.0)
    wn = 2 * np.pi * f_peak
    root = np.sqrt(max(0.0, 1.0 - a * a))
    wp = wn / root ** 0.5 if root > 0 else np.inf
    wp = min(wp, 2 * wn)
    wz = wp * np.sqrt((1.0 - root) / 2.0)
    s = 2j * np.pi * np.asarray(f, dtype=float)
    return a * wp * wp / wz * (s + wz) / (s + wp) ** 2


def bow_reference_ctle(f: np.ndarray, dc_gain_db: float, rate: float) -> np.ndarray:
    r"""BoW 1.0 conformance CTLE (Receiver Sensitivity, Equalization), complex response.

    :math:`H(s) = \dfrac{1}{A_{pk}}\,\dfrac{1 + s/\omega_z}{1 + s/(A_{pk}\omega_z)}`
    with :math:`\omega_z = \pi/(2T_{bit})` and :math:`1/A_{pk} = 10^{G/20}` (the spec's
    :math:`A_{pk} = 1.3` is :math:`G = -2.279` dB); unit gain at high frequency.

    Parameters
    ----------
    f : ndarray
        Frequencies, Hz.
    dc_gain_db : float
        DC gain G, dB (<= 0).
    rate : float
        Bit rate, 1/s (:math:`T_{bit}` = 1/rate).
    """
    apk = 10.0 ** (-dc_gain_db / 20.0)
    wz = np.pi * rate / 2.0
    s = 2j * np.pi * np.asarray(f, dtype=float)
    return (1.0 / apk) * (1.0 + s / wz) / (1.0 + s / (apk * wz))


class Ctle(SigintModel):
    """Rx CTLE: the IEEE 802.3 COM form (default) or the UCIe 3.0 reference CTLE.

    ``form='com'``, a first-order CTLE with two poles:

    :math:`H(f) = \\dfrac{g + j f/f_z}{(1 + j f/f_{p1})(1 + j f/f_{p2})}`, with
    :math:`g = 10^{G_{dc}/20}`. Frequencies given as None default to fractions of the data
    rate *R*: :math:`f_z = f_{p1} = R/4`, :math:`f_{p2} = R`.

    Parameters
    ----------
    dc_gain_db : float
        DC gain :math:`G_{dc}`, dB (<= 0: peaking of :math:`-G_{dc}` dB).
    fz, fp1, fp2 : float, optional
        Zero and pole frequencies, Hz (COM form).
    form : {'com', 'ucie-reference', 'bow-reference'}
        ``ucie-reference``: UCIe 3.0 §5.4.4 (Equations 5-3, 5-4), a 0 dB peak at the
        Nyquist frequency R/2 (see :func:`reference_ctle`).
        ``bow-reference``: the BoW 1.0 conformance CTLE
        :math:`(1/A_{pk})(1 + s/\\omega_z)/(1 + s/(A_{pk}\\omega_z))`,
        :math:`\\omega_z = \\pi/(2T_{bit})`, DC gain :math:`1/A_{pk}` (see
        :func:`bow_reference_ctle`).
    """

    dc_gain_db: float = Field(0.0, le=0.0, ge=-30.0, description="dB")
    form: Literal["com", "ucie-reference", "bow-reference"] = "com"
    fz: float | None = Field(None, gt=0, description="Hz")
    fp1: float | None = Field(None, gt=0, description="Hz")
    fp2: float | None = Field(None, gt=0, description="Hz")

    def response(self, f: np.ndarray, rate: float) -> np.ndarray:
        """Complex response at frequencies *f* (Hz) for data rate *rate*."""
        if self.form == "ucie-reference":
            return reference_ctle(f, self.dc_gain_db, rate / 2)
        if self.form == "bow-reference":
            return bow_reference_ctle(f, self.dc_gain_db, rate)
        fz = self.fz or rate / 4
        fp1 = self.fp1 or rate / 4
        fp2 = self.fp2 or rate
        g = 10 ** (self.dc_gain_db / 20)
        f = np.asarray(f, dtype=float)
        return (g + 1j * f / fz) / ((1 + 1j * f / fp1) * (1 + 1j * f / fp2))


class Rx(SigintModel):
    """Receiver: pad capacitance, optional termination, CTLE, DFE and noise.

    Parameters
    ----------
    c_pad : float
        Pad capacitance to ground, F.
    r : float, optional
        Termination resistance to (AC) ground, ohm; None for an unterminated receiver.
    noise : float
        Input-referred Gaussian noise, V rms.
    ctle : Ctle, optional
        Continuous-time linear equalizer; None for none.
    dfe_taps : int
        Number of ideal DFE taps (post-cursors 1..n cancelled, decisions assumed right).
    dfe_limit : float, optional
        Largest |h_k / h_0| each DFE tap may cancel (UCIe 64 GT/s: 0.35); None: no limit.

    Examples
    --------
    >>> complex(Rx(c_pad=0.2e-12).admittance(np.array([0.0]))[0])
    0j
    """

    c_pad: float = Field(0.2e-12, ge=0, title="pad capacitance", description="F")
    r: float | None = Field(None, gt=0, title="termination", description="ohm; None: open")
    noise: float = Field(0.0, ge=0, title="noise", description="V rms")
    ctle: Ctle | None = None
    dfe_taps: int = Field(0, ge=0, le=64)
    dfe_limit: float | None = Field(None, gt=0)

    def admittance(self, f: np.ndarray) -> np.ndarray:
        """Shunt admittance at the pad, :math:`1/R + j\\omega C` (or :math:`j\\omega C`), S."""
        y = 2j * np.pi * np.asarray(f, dtype=float) * self.c_pad
        if self.r is not None:
            y = y + 1.0 / self.r
        return y.astype(complex)

