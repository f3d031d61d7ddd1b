"""Bit-by-bit simulation: PRBS data through the channel, the waveform eye, empirical BER.

The received waveform is the superposition of the victim's and every aggressor's NRZ
stream through their (per-sample) impulse responses, :math:`v = \\sum_i x_i * h_i`, plus
Gaussian noise. Tx jitter displaces each edge of the NRZ stream by its own random (and
dual-Dirac deterministic) offset, drawn per edge, without linearization; the pulse-response
picture of :mod:`sigint.timedomain.stateye` is thereby checked by an independent method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

from .pulse import PulseResponses

__all__ = ["prbs", "WaveformEye", "simulate_waveform", "PRBS_TAPS"]

# Fibonacci LFSR taps (ITU-T O.150): x^n + x^m + 1
PRBS_TAPS = {7: 6, 9: 5, 11: 9, 15: 14, 20: 3, 23: 18, 31: 28}


def prbs(order: int, n_bits: int, seed: int = 1) -> np.ndarray:
    """Pseudo-random binary sequence PRBS-*order* as 0/1 ``int8``.

    Parameters
    ----------
    order : int
        One of 7, 9, 11, 15, 20, 23, 31.
    n_bits : int
        Number of bits.
    seed : int
        Seed of the random initial register state (sequences from different seeds are
        shifted copies of one maximal-length sequence, uncorrelated over short spans).

    Examples
    --------
    >>> s = prbs(7, 254)
    >>> bool((s[:127] == s[127:]).all()), int(s[:127].sum())
    (True, 64)
    """
    if order not in PRBS_TAPS:
        raise ValueError(f"PRBS order {order} not one of {sorted(PRBS_TAPS)}")
    n, m = order, PRBS_TAPS[order]
    # a sparse register (e.g. seed 1) starts with long runs of zeros; draw a dense state
    state = np.random.default_rng(seed).integers(0, 2, n).astype(np.int8)
    if not state.any():
        state[0] = 1
    warm = 64 * n if seed else 0
    # scipy's register yields x[k] = x[k-n] xor x[k-n+t] for each tap t: t = n - m gives
    # the O.150 recurrence x[k] = x[k-n] xor x[k-m], starting from x[0..n-1] = state
    seq, _ = scipy.signal.max_len_seq(n, state=state, length=n_bits + n + warm, taps=[n - m])
    return seq[n + warm:]


@dataclass
class WaveformEye:
    """Bit-by-bit result.

    Attributes
    ----------
    samples : ndarray, shape (B, S)
        Received voltage at each of the S sampling phases of every analysed bit, V.
    bits : ndarray, shape (B,)
        Transmitted victim bit (+1 / -1) of each analysed bit.
    phase_ui : ndarray, shape (S,)
        Phases of the columns of ``samples`` relative to the victim's pulse peak, UI.
    trace_t_ui : ndarray, shape (2 S,)
        Time axis of the 2-UI traces, UI.
    traces : ndarray, shape (T, 2 S)
        A subset of 2-UI waveform traces for drawing.
    """

    samples: np.ndarray
    bits: np.ndarray
    phase_ui: np.ndarray
    trace_t_ui: np.ndarray
    traces: np.ndarray

    def quantile_edge(self, q: float, phase: int) -> float:
        """Empirical q-quantile of the received voltage of "1" bits at *phase*, V."""
        ones = self.samples[self.bits > 0, phase]
        return float(np.quantile(ones, q, method="inverted_cdf"))

    def ber_at_zero(self) -> np.ndarray:
        """Empirical P(v < 0 | 1) at each phase (the horizontal bathtub)."""
        ones = self.samples[self.bits > 0]
        return (ones < 0).mean(axis=0)


def _nrz_samples(bits: np.ndarray, spui: int, jitter: np.ndarray | None) -> np.ndarray:
    """Sampled NRZ stream (+1/-1) with per-edge jitter (in samples), area-exact at edges."""
    b = 2.0 * bits - 1.0
    n = b.size * spui
    if jitter is None:
        return np.repeat(b, spui)
    # x = b[0] + cumulative sum of transitions placed at k*spui + jitter_k, split linearly
    d = np.diff(b)                                     # transition into bit k+1
    pos = (np.arange(1, b.size) * spui + jitter[1:]).astype(float)
    i = np.floor(pos).astype(np.int64)
    fr = pos - i
    imp = np.zeros(n + 2)
    ok = (i >= 0) & (i < n)
    np.add.at(imp, i[ok], d[ok] * (1 - fr[ok]))
    np.add.at(imp, i[ok] + 1, d[ok] * fr[ok])
    return b[0] + np.cumsum(imp)[:n]


def _support(h: np.ndarray, floor: float) -> np.ndarray:
    """*h* up to its last sample whose magnitude exceeds *floor* (index 0 is kept as t[0])."""
    big = np.flatnonzero(np.abs(h) > floor)
    return h[: big[-1] + 1] if big.size else h[:0]


def simulate_waveform(
    pr: PulseResponses,
    amplitude: float,
    *,
    n_bits: int = 1 << 14,
    phase_ui: np.ndarray,
    xt_shift: list[int] | None = None,
    noise: float = 0.0,
    rj: float = 0.0,
    dj: float = 0.0,
    order: int = 31,
    seed: int = 1,
    aggressor_amplitude: float | None = None,
    n_traces: int = 400,
    dfe: tuple[float, ...] | list[float] = (),
    kernel_floor: float = 1e-7,
) -> WaveformEye:
    """Simulate PRBS traffic on the victim and every aggressor and sample the result.

    Parameters
    ----------
    pr : PulseResponses
        Impulse responses (``victim_impulse`` and ``aggressor_impulses``).
    amplitude : float
        Symbol amplitude A (half the swing), V.
    n_bits : int
        Bits simulated per lane; lengthened by the response window (and the sampling
        tail) when fewer than half of them would be sampled after the responses fill up,
        so a long window (a fine frequency step) never leaves too short a run.
    phase_ui : ndarray
        Sampling phases relative to the victim's pulse peak, UI (those of the stat eye).
    xt_shift : list of int, optional
        Per aggressor, the sample offset of its response relative to the victim's at the
        same instant (``CursorSet.xt_shift``), so the waveform and the stat eye agree.
    noise : float
        Gaussian noise, V rms.
    rj, dj : float
        Tx random jitter (s rms) and dual-Dirac DJ (s peak-to-peak), drawn per edge.
    order : int
        PRBS order; each aggressor uses the same polynomial from a different seed.
    seed : int
        Seed of the victim's sequence and of the random jitter and noise.
    aggressor_amplitude : float, optional
        Aggressor symbol amplitude, V (default: the victim's).
    n_traces : int
        Number of 2-UI traces kept for drawing.
    dfe : sequence of float
        Ideal DFE tap values (V per V of amplitude, post-cursors 1..n,
        ``CursorSet.dfe_values``): with right decisions, ``amplitude * tap_d * b[k - d]`` is
        subtracted from the samples of bit *k*.
    kernel_floor : float
        Impulse-response samples after the last one above this fraction of the victim's
        peak are left out of the convolutions (they are below the voltage resolution).

    Returns
    -------
    WaveformEye
    """
    spui = pr.samples_per_ui
    # the run must outlast the response window by n_bits' worth of samples: size it so
    offs0 = np.rint(np.asarray(phase_ui) * spui).astype(np.int64)
    window_bits = int(np.ceil(pr.t.size / spui)) + 2
    tail_bits = int(np.ceil((pr.main + np.abs(offs0).max() + 2 * spui) / spui)) + 1
    if n_bits - window_bits - tail_bits < max(16, n_bits // 2):
        n_bits = n_bits + window_bits + tail_bits
    rng = np.random.default_rng(seed)
    amp_a = amplitude if aggressor_amplitude is None else aggressor_amplitude
    dt = pr.dt

    def stream(s: int) -> np.ndarray:
        bits = prbs(order, n_bits, seed=s)
        jit = None
        if rj > 0 or dj > 0:
            jit = rng.normal(0.0, rj, n_bits) if rj > 0 else np.zeros(n_bits)
            if dj > 0:
                jit += rng.choice([-dj / 2, dj / 2], n_bits)
            jit = jit / dt
        return bits, _nrz_samples(bits, spui, jit)

    vbits, vx = stream(seed)
    # The impulse responses are rolled (index 0 is t[0] < 0), so the convolution output y at
    # index m is the waveform at time (m - roll) dt; bit k's pulse peak lands at index
    # k * spui + main.
    floor = kernel_floor * float(np.abs(pr.victim_impulse).max())
    y = amplitude * scipy.signal.oaconvolve(vx, _support(pr.victim_impulse, floor))[: vx.size]
    n_agg = pr.aggressor_impulses.shape[0]
    shifts = list(xt_shift) if xt_shift is not None else [0] * n_agg
    for a in range(n_agg):
        _, ax = stream(seed + 7919 * (a + 1))
        ha = _support(pr.aggressor_impulses[a], floor)
        if ha.size == 0:
            continue
        ya = amp_a * scipy.signal.oaconvolve(ax, ha)[: ax.size]
        # aggressor sample used at victim index m is ya[m + shift]
        y += np.roll(ya, -int(shifts[a]))
    if noise > 0:
        y += rng.normal(0.0, noise, y.size)
    offs = np.rint(np.asarray(phase_ui) * spui).astype(np.int64)
    skip = int(np.ceil(pr.t.size / spui)) + 2    # let every response fill up first
    last = n_bits - int(np.ceil((pr.main + np.abs(offs).max() + 2 * spui) / spui)) - 1
    ks = np.arange(skip, last)
    if ks.size < 16:
        raise ValueError(f"n_bits = {n_bits} is too short for a {pr.t.size // spui}-UI response")
    cols = ks[:, None] * spui + pr.main + offs[None, :]
    samples = y[cols]
    bits = 2 * vbits[ks].astype(float) - 1
    sym = 2.0 * vbits.astype(float) - 1.0
    for d, tap in enumerate(dfe, start=1):
        samples = samples - amplitude * tap * sym[ks - d][:, None]
    # 2-UI traces centred on the middle of the phase window
    mid = int(offs[offs.size // 2])
    tr = ks[: min(n_traces, ks.size)]
    rel = np.arange(-spui, spui)
    traces = y[tr[:, None] * spui + pr.main + mid + rel[None, :]]
    t_ui = (rel + mid) / spui
    return WaveformEye(samples=samples, bits=bits, phase_ui=np.asarray(phase_ui), trace_t_ui=t_ui,
                       traces=traces)
