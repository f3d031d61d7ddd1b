"""Pulse responses from voltage transfer functions.

A Touchstone grid rarely suits an FFT: it may lack DC, be non-uniform, and stop below the
sampling rate. :func:`pulse_responses` puts every transfer on one uniform grid
:math:`f_k = k\\,\\Delta f` with :math:`\\Delta f = R/n_{UI}` no coarser than the file's step (so
the time window :math:`1/\\Delta f` is a whole number of unit intervals and at least as long
as the file can support), fills DC by extrapolation when missing, sets the response above
the file's top frequency to zero behind a cosine taper, applies the Tx edge filter, the
optional CTLE, the Tx FFE and the continuous rectangle of one unit interval
(:math:`T\\,\\mathrm{sinc}(fT)e^{-j\\pi fT}`, per sample), and inverse-FFTs. Interpolation
(:func:`~sigint.network.quality.regrid_transfers`, the same as for a Touchstone segment of a
channel) is cubic in magnitude and unwrapped phase after the transfer's bulk delay is
removed (and restored afterwards), so a long line's fast phase rotation does not distort
the magnitude.

Every repair is reported in ``notes``; the non-causal content of the victim's impulse
response before :math:`t = 0` is returned as a causality metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from ..link.txrx import Rx, Tx
from ..network.quality import regrid_transfers, uniform_grid
from ..units import format_quantity

__all__ = ["PulseResponses", "pulse_responses", "pulse_responses_set", "apply_ffe",
           "with_ffe"]

#: Longest window (unit intervals) taken without checking that the response needs it.
WINDOW_START_UI = 4096
#: Change of the pulse response (fraction of its peak) when its window doubles below which
#: the shorter window holds the channel's memory.
WINDOW_TAIL = 1e-4


@dataclass
class PulseResponses:
    """Victim and aggressor responses to a one-UI rectangle of 1 V at the source.

    Attributes
    ----------
    rate : float
        Symbol rate, 1/s.
    samples_per_ui : int
        Samples per unit interval.
    t : ndarray, shape (N,)
        Time, s; 0 is the leading edge of the source rectangle.
    victim : ndarray, shape (N,)
        Victim pulse response, V per V of source swing.
    aggressors : ndarray, shape (A, N)
        Aggressor pulse responses at the victim's receiver.
    victim_impulse : ndarray, shape (N,)
        Victim response to a one-sample rectangle (sums to the DC gain): the kernel of the
        bit-by-bit simulation and, per second, the impulse response for jitter.
    aggressor_impulses : ndarray, shape (A, N)
        The same for each aggressor (shape (0, N) when not computed: the equalization
        search's pulses of a run without bit-by-bit simulation, the only user).
    main : int
        Sample index of the victim's peak (the main cursor).
    dc_gain : float
        :math:`H(0)` of the victim (with the CTLE when present).
    window : float
        Length of the periodic time window, s.
    causality : float
        Largest |impulse response| before t = 0 over its largest value (0 = causal).
    tail : float
        Largest |pulse response| in the last 5 % of the window over the victim's peak.
    notes : list of str
        Repairs and warnings, in words.
    """

    rate: float
    samples_per_ui: int
    t: np.ndarray
    victim: np.ndarray
    aggressors: np.ndarray
    victim_impulse: np.ndarray
    aggressor_impulses: np.ndarray
    main: int
    dc_gain: float
    window: float
    causality: float
    notes: list[str] = field(default_factory=list)
    tail: float = 0.0

    @property
    def dt(self) -> float:
        """Sample spacing, s."""
        return 1.0 / (self.rate * self.samples_per_ui)

    @property
    def ui(self) -> float:
        """Unit interval, s."""
        return 1.0 / self.rate


def _resample(f: np.ndarray, h: np.ndarray, fg: np.ndarray, fmax_use: float) -> tuple[np.ndarray, float]:
    """*h* (A, F) on *fg* up to *fmax_use* (zero above), DC filled in
    (:func:`~sigint.network.quality.regrid_transfers`); returns it and the victim's H(0)."""
    out = np.zeros((h.shape[0], fg.size), dtype=complex)
    inside = fg <= fmax_use * (1 + 1e-12)
    out[:, inside] = regrid_transfers(f, h, fg[inside])
    return out, float(out[0, 0].real) if h.shape[0] else 0.0


def pulse_responses(
    f: np.ndarray,
    victim: np.ndarray,
    aggressors: np.ndarray,
    rate: float,
    tx: Tx,
    rx: Rx,
    *,
    samples_per_ui: int = 32,
    taper: float = 0.1,
    pre_ui: int = 8,
    window_ui: int | None = None,
) -> PulseResponses:
    """Pulse responses of the victim and aggressor transfers at *rate*.

    Parameters
    ----------
    f : ndarray, shape (F,)
        Frequencies of the transfers, Hz, increasing.
    victim : ndarray, shape (F,)
        Victim VTF :math:`V_r/V_s`.
    aggressors : ndarray, shape (A, F)
        Aggressor VTFs into the victim's receiver.
    rate : float
        Symbol rate, 1/s.
    tx, rx : Tx, Rx
        Edge filter and FFE come from *tx*, the CTLE from *rx*.
    samples_per_ui : int
        Time samples per unit interval (>= 32 recommended).
    taper : float
        Fraction of the file's top frequency over which the response is tapered to zero.
    pre_ui : int
        Unit intervals kept before t = 0 (where a causal response is zero).
    window_ui : int, optional
        Time window in unit intervals (default: the longest the file's frequency step
        supports, :math:`R/\\Delta f`; when that exceeds ``WINDOW_START_UI``, the shortest
        power-of-two multiple of it in which the response dies out, so a 1 MHz step or a log
        sweep does not cost a microsecond-long window).

    Returns
    -------
    PulseResponses
    """
    return pulse_responses_set(f, victim, aggressors, rate, tx, [rx],
                               samples_per_ui=samples_per_ui, taper=taper, pre_ui=pre_ui,
                               window_ui=window_ui)[0]


def pulse_responses_set(
    f: np.ndarray,
    victim: np.ndarray,
    aggressors: np.ndarray,
    rate: float,
    tx: Tx,
    rxs: list[Rx],
    *,
    samples_per_ui: int = 32,
    taper: float = 0.1,
    pre_ui: int = 8,
    window_ui: int | None = None,
    aggressor_impulses: bool = True,
) -> list[PulseResponses]:
    """:func:`pulse_responses` for each receiver of *rxs* (e.g. every CTLE gain of an
    equalization search): the transfers are put on the uniform grid once, then each
    receiver's CTLE is applied to that same grid. Each result equals
    ``pulse_responses(f, victim, aggressors, rate, tx, rx, ...)``; without
    *aggressor_impulses* their ``aggressor_impulses`` are left empty (only a bit-by-bit
    simulation uses them).
    """
    notes: list[str] = []
    f = np.asarray(f, dtype=float)
    step, uniform = uniform_grid(f)
    fmax = float(f[-1])
    n_file = max(64, math.ceil(rate / step - 1e-9))
    if window_ui is None and n_file > WINDOW_START_UI:
        return [_memory_window(f, victim, aggressors, rate, tx, rx, n_file, step,
                               samples_per_ui=samples_per_ui, taper=taper, pre_ui=pre_ui)
                for rx in rxs]           # (long windows: impulses kept, a rare case)
    n_ui = scipy.fft.next_fast_len(window_ui or n_file, real=True)
    dfg = rate / n_ui
    if not uniform:
        notes.append(f"frequency grid is not uniform: resampled onto a uniform grid "
                     f"(step {format_quantity(dfg, 'Hz')})")
    n = samples_per_ui * n_ui
    fg = np.arange(n // 2 + 1) * dfg
    fs_half = fg[-1]
    h_all = np.concatenate([victim[None, :], aggressors], axis=0)
    hg0, h0 = _resample(f, h_all, fg, min(fmax, fs_half))
    if f[0] > 0:
        notes.append(f"no DC point: H(0) of the victim filled in as {h0:.4g}, interpolated "
                     f"between the data from {format_quantity(f[0], 'Hz')} and their mirror "
                     "image at negative frequencies (H(-f) = H*(f))")
    if fmax < fs_half:
        _taper_above(hg0, fg, fmax, taper, notes)
    edge = tx.edge_filter(fg, rate)
    out = []
    for rx in rxs:
        filt = edge
        if rx.ctle is not None:
            filt = filt * rx.ctle.response(fg, rate)
        hg = hg0 * filt[None, :]
        out.append(_from_grid(hg, fg, n, rate, samples_per_ui, tx, pre_ui, list(notes),
                              aggressor_impulses))
    return out


def _from_grid(hg: np.ndarray, fg: np.ndarray, n: int, rate: float, samples_per_ui: int,
               tx: Tx, pre_ui: int, notes: list[str], agg_impulses: bool = True
               ) -> PulseResponses:
    """The :class:`PulseResponses` of the filtered transfers *hg* on the uniform grid *fg*
    (without *agg_impulses*, the impulse response of the victim only)."""
    imp, pul = _time_responses(hg, fg, n, rate, samples_per_ui, tx,
                               impulses=None if agg_impulses else 1)
    roll = min(pre_ui * samples_per_ui, n // 4)
    imp = np.roll(imp, roll, axis=-1)
    pul = np.roll(pul, roll, axis=-1)
    dt = 1.0 / (rate * samples_per_ui)
    peak = float(np.abs(imp[0]).max()) or 1.0
    return PulseResponses(
        rate=rate, samples_per_ui=samples_per_ui, t=(np.arange(n) - roll) * dt, victim=pul[0],
        aggressors=pul[1:], victim_impulse=imp[0], aggressor_impulses=imp[1:],
        main=int(np.argmax(np.abs(pul[0]))), dc_gain=float(np.real(hg[0, 0])), window=n * dt,
        causality=float(np.abs(imp[0, :roll]).max() / peak) if roll else 0.0, notes=notes,
        tail=_tail(pul, n * dt, samples_per_ui, notes),
    )


def _memory_window(f: np.ndarray, victim: np.ndarray, aggressors: np.ndarray, rate: float,
                   tx: Tx, rx: Rx, n_file: int, step: float, **kw) -> PulseResponses:
    """Pulse responses in the shortest window, from ``WINDOW_START_UI`` doubling up to the
    file's *n_file* UI, that holds the channel's memory.

    A fine step (or a log sweep's first step) allows a far longer window than the channel's
    memory. Start short and double until doubling no longer changes the first half of the
    window (where wrap-around of the causal tail shows) by ``WINDOW_TAIL`` of the peak.
    """
    def at(n_ui: int) -> PulseResponses:
        return pulse_responses(f, victim, aggressors, rate, tx, rx, window_ui=n_ui, **kw)

    n_try = WINDOW_START_UI
    pr = at(n_try)
    while n_try < n_file:
        n_next = min(2 * n_try, n_file)
        nxt = at(n_next)
        half = pr.t.size // 2
        peak = float(np.abs(pr.victim).max()) or 1.0
        change = max(float(np.abs(pr.victim[:half] - nxt.victim[:half]).max()),
                     float(np.abs(pr.aggressors[:, :half] - nxt.aggressors[:, :half]).max())
                     if pr.aggressors.size else 0.0) / peak
        if change < WINDOW_TAIL:
            # the end of the window holds the precursors of the next period, not a tail
            pr.notes[:] = [t for t in pr.notes if not t.startswith("the pulse response has")]
            pr.notes.append(
                f"time window {format_quantity(pr.window, 's')} ({n_try} UI), the channel's "
                f"memory (doubling it changes the pulse response by {_fraction(change)} of "
                f"its peak), not the {format_quantity(1 / step, 's')} the frequency step "
                "would allow")
            return pr
        pr, n_try = nxt, n_next
    return pr


def _taper_above(hg: np.ndarray, fg: np.ndarray, fmax: float, taper: float,
                 notes: list[str]) -> None:
    """Zero *hg* (in place) above the data's top frequency *fmax*, behind a cosine taper
    over the last fraction *taper* of the band."""
    f_t = fmax * (1 - taper)
    w = np.ones_like(fg)
    sel = (fg > f_t) & (fg <= fmax)
    w[sel] = 0.5 * (1 + np.cos(np.pi * (fg[sel] - f_t) / (fmax - f_t)))
    w[fg > fmax] = 0.0
    hg *= w[None, :]
    notes.append(f"above the file's top frequency {format_quantity(fmax, 'Hz')} the "
                 f"response is taken as zero, with a cosine taper from "
                 f"{format_quantity(f_t, 'Hz')}")


def _time_responses(hg: np.ndarray, fg: np.ndarray, n: int, rate: float, spui: int,
                    tx: Tx, impulses: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Responses (A, n) of the transfers *hg* on *fg* to a one-sample and a one-UI
    rectangle, with the Tx FFE, periodic over the window (before the pre-cursor roll);
    the one-sample responses of the first *impulses* transfers only, when given."""
    # the continuous one-UI rectangle, per sample: (T/dt) sinc(fT) e^{-j pi f T}. (A sum of
    # samples_per_ui discrete ones would shift time by half a sample and lift the response
    # near fN by (pi f dt)^2/6.)
    dt = 1.0 / (rate * spui)
    ui = 1.0 / rate
    rect = spui * np.sinc(fg * ui) * np.exp(-1j * np.pi * fg * ui)
    # the response to a one-sample rectangle (continuous, width dt): a sampled NRZ stream
    # of such rectangles is the continuous NRZ waveform, so a bit-by-bit run built on it
    # reproduces these pulses exactly, and its cumulative sum is the sampled step response
    box = np.sinc(fg * dt) * np.exp(-1j * np.pi * fg * dt)
    imp = scipy.fft.irfft(hg[:impulses] * box[None, :], n=n, axis=-1)
    pul = scipy.fft.irfft(hg * rect[None, :], n=n, axis=-1)
    if len(tx.ffe) > 1 or tx.ffe[0] != 1.0:
        imp = apply_ffe(imp, tx.ffe, tx.ffe_main, spui)
        pul = apply_ffe(pul, tx.ffe, tx.ffe_main, spui)
    return imp, pul


def _tail(pul: np.ndarray, window: float, spui: int, notes: list[str]) -> float:
    """Largest |pulse response| in the last 5 % of the window over the victim's peak; said
    in *notes* when the response has not died out (over 1e-3)."""
    tail = max(spui, pul.shape[-1] // 20)
    vpk = float(np.abs(pul[0]).max()) or 1.0
    tail_amp = float(np.abs(pul[:, -tail:]).max() / vpk)
    if tail_amp > 1e-3:
        left = (f"{100 * tail_amp:.2g} % of its peak" if tail_amp < 0.1
                else f"{tail_amp:.2g} times its peak")
        notes.append(f"the pulse response has not died out within the "
                     f"{format_quantity(window, 's')} window set by the frequency step "
                     f"(at the end of the window it is still {left}); a finer frequency step "
                     "would remove the wrap-around")
    return tail_amp


def _fraction(x: float) -> str:
    """A small fraction in words an engineer reads at a glance (``2e-06``, ``0.16 %``)."""
    return f"{100 * x:.2g} %" if x >= 1e-3 else f"{x:.1e}"


def apply_ffe(x: np.ndarray, taps: tuple[float, ...], main: int, spui: int) -> np.ndarray:
    """Tx FFE on periodic responses: :math:`\\sum_m c_m\\,x(t - (m - m_0) T)`.

    Parameters
    ----------
    x : ndarray, shape (..., N)
        Periodic responses sampled at *spui* samples per UI.
    taps : tuple of float
        FFE taps :math:`c_m`, acting on the symbol stream.
    main : int
        Index :math:`m_0` of the main tap.
    spui : int
        Samples per UI.
    """
    out = np.zeros_like(x)
    for m, c in enumerate(taps):
        if c:
            out += c * np.roll(x, (m - main) * spui, axis=-1)
    return out


def with_ffe(pr: PulseResponses, taps: tuple[float, ...], main: int) -> PulseResponses:
    """The responses of *pr* (computed without FFE) with a Tx FFE applied to every lane.

    Equal to :func:`pulse_responses` called with the FFE on the Tx, at the cost of a few
    shifted sums: the equalization search tries many FFE settings on one set of pulses.
    """
    spui = pr.samples_per_ui
    vic = apply_ffe(pr.victim, taps, main, spui)
    return PulseResponses(
        rate=pr.rate, samples_per_ui=spui, t=pr.t, victim=vic,
        aggressors=apply_ffe(pr.aggressors, taps, main, spui),
        victim_impulse=apply_ffe(pr.victim_impulse, taps, main, spui),
        aggressor_impulses=apply_ffe(pr.aggressor_impulses, taps, main, spui),
        main=int(np.argmax(np.abs(vic))), dc_gain=pr.dc_gain,
        window=pr.window, causality=pr.causality, notes=list(pr.notes), tail=pr.tail)
