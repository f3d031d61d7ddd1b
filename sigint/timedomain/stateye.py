"""Statistical eye: the exact distribution of the received voltage at every sampling phase.

With independent, equiprobable NRZ symbols :math:`b_k = \\pm A` (A = half the swing) the
sample at phase :math:`\\phi` given a transmitted "1" is

.. math:: V(\\phi) = A h_0(\\phi) + \\sum_{k \\ne 0} b_k h_k(\\phi)
          + \\sum_i \\sum_k b^{(i)}_k g^{(i)}_k + n_{jitter} + n,

a sum of independent two-point variables (ISI and crosstalk), jitter terms and Gaussian
noise, so its distribution is the convolution of theirs (Sanders, Resso & D'Ambrosia,
"Channel compliance testing utilizing novel statistical eye methodology", DesignCon 2004;
IEEE 802.3 Annex 93A, COM). How it is computed here keeps the bulk *and* the deep tails
exact to within one voltage bin at any BER (1e-40 included):

* the largest ``exact`` cursors of each phase (default 12) are enumerated exactly,
  :math:`2^{12}` atoms per phase;
* every other cursor (ISI, crosstalk and the dual-Dirac jitter terms) is convolved exactly
  as a two- (three-) point distribution on a grid ``subbins`` times finer than the voltage
  bins. Each cursor's offset on that grid comes from rounding the *running sum* of the
  magnitudes (error diffusion), so the sum of any run of cursors is represented to half a
  fine step: the extreme (worst-case) patterns, which decide the deep tails, carry at most
  half a fine step of error however many cursors there are, and no tail reaches past the
  sum of the |cursors| it stands for. (Splitting each cursor's mass between two bins, or
  summing small cursors as one Gaussian, both push the deep tails out by up to a bin per
  cursor and put the eye below the worst-case eye, which is impossible.)
* the enumerated atoms and the fine distribution of the rest are combined per sub-bin
  phase (polyphase), so the total is binned once;
* convolutions are direct, never FFT, so that probabilities of 1e-40 keep full relative
  precision (an FFT's round-off floor is ~1e-16 of the peak);
* crosstalk aggressors are either *synchronous* (same clock as the victim: their cursors
  are sampled at the victim's sampling instant plus a fixed offset, and move with it), or
  *asynchronous* at their worst relative phase (the phase maximizing their peak
  distortion, independent of the victim's phase): chosen per aggressor;
* Tx jitter is linearized through the victim's impulse response (COM's approach): an edge
  displaced by :math:`\\varepsilon_k` changes the sample by :math:`-d_k\\varepsilon_k h(t_s - kT)`
  with transitions :math:`d_k \\in \\{0, \\pm 2A\\}`; random jitter adds a Gaussian of variance
  :math:`2A^2\\sigma_{RJ}^2\\sum_k h_k^2`, dual-Dirac DJ adds three-point terms
  :math:`\\{0, \\pm A\\,DJ\\,h_k\\}` with probabilities :math:`\\{1/2, 1/4, 1/4\\}`.

By symmetry the distribution given a "0" is the mirror image, so the eye is symmetric about
0 V. The eye edge at a BER level *q* is the *q*-quantile of :math:`V \\mid 1` (the probability
that a "1" falls below it); at the 0 V threshold this is exactly the bit error ratio. The
eye width at a level is the distance between the zero-voltage crossings of that contour,
interpolated linearly in phase between the two phases that bracket each crossing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .pulse import PulseResponses

__all__ = [
    "CursorSet",
    "cursor_matrix",
    "dfe_residual",
    "diffused_offsets",
    "fine_distribution",
    "extract_cursors",
    "StatEye",
    "statistical_eye",
    "contour_mask_fit",
    "contour_at_rows",
    "contour_width",
    "exact_group_quantile",
    "edge_upper_bound",
    "peak_distortion_eye",
    "XtTiming",
]

XtTiming = Literal["worst"] | float
"""Timing of one aggressor: ``'worst'`` (asynchronous, at its worst phase) or a float, the
offset in UI of its clock from the victim's (synchronous)."""


@dataclass
class CursorSet:
    """Cursors of the victim and aggressors at each sampling phase.

    Attributes
    ----------
    phase_ui : ndarray, shape (P,)
        Sampling phase relative to the victim's pulse peak, UI.
    main : ndarray, shape (P,)
        Victim main cursor, V per V of source amplitude.
    isi : ndarray, shape (P, K)
        Victim pre- and post-cursors (main excluded).
    isi_k : ndarray of int, shape (K,)
        Cursor offsets, UI (negative: pre-cursors).
    impulse : ndarray, shape (P, K + 1)
        Victim impulse response at the transitions of each symbol (main included), 1/s,
        for jitter.
    xt_fixed : ndarray, shape (X,)
        Cursors of the asynchronous aggressors, each at its worst phase: they do not move
        with the victim's sampling phase.
    xt_phase : ndarray, shape (P, Y)
        Cursors of the synchronous aggressors, sampled at the victim's sampling instant
        plus each aggressor's offset.
    dropped : float
        Bound on the sum of |cursor| left out as negligible, V/V.
    aggressor_phase_ui : list of float
        Relative phase used for each aggressor, UI.
    dfe_taps : int
        Post-cursors cancelled by the ideal DFE.
    start : int
        Sample index of the first phase in the pulse-response window.
    spui : int
        Samples per UI.
    xt_timing : list of str
        Per aggressor, ``'sync'`` or ``'worst'``.
    xt_offsets : list of int
        Per aggressor, the sample offset used (synchronous: from the victim's instant;
        worst: the absolute sample within the UI).
    dfe_values : list of float
        The DFE tap values subtracted (post-cursors 1..n at the eye's centre), V/V.
    """

    phase_ui: np.ndarray
    main: np.ndarray
    isi: np.ndarray
    isi_k: np.ndarray
    impulse: np.ndarray
    xt_fixed: np.ndarray
    xt_phase: np.ndarray
    dropped: float
    aggressor_phase_ui: list[float] = field(default_factory=list)
    dfe_taps: int = 0
    start: int = 0
    spui: int = 1
    xt_timing: list[str] = field(default_factory=list)
    xt_offsets: list[int] = field(default_factory=list)
    dfe_values: list[float] = field(default_factory=list)

    def xt_shift(self, phase: int) -> list[int]:
        """Per aggressor, the sample offset between the aggressor response sample used and
        the victim's at phase index *phase* (for a bit-by-bit run that matches this eye)."""
        out = []
        for mode, o in zip(self.xt_timing, self.xt_offsets):
            if mode == "worst":
                out.append(int((o - (self.start + phase)) % self.spui))
            else:
                out.append(int(o))
        return out


def _significant(mags: np.ndarray, tol: float) -> np.ndarray:
    """Boolean mask keeping entries so that the dropped ones sum to at most *tol*."""
    order = np.argsort(mags)
    csum = np.cumsum(mags[order])
    keep = np.ones(mags.size, dtype=bool)
    keep[order[csum <= tol]] = False
    return keep


def cursor_matrix(x: np.ndarray, starts: np.ndarray, spui: int) -> np.ndarray:
    """Samples ``x[..., start + k * spui]`` (periodic) for each start and every UI *k*.

    Parameters
    ----------
    x : ndarray, shape (..., N)
        Periodic response, N a multiple of *spui*.
    starts : ndarray of int, shape (P,)
        First sample of each row.
    spui : int
        Samples per UI.

    Returns
    -------
    ndarray, shape (..., P, N // spui)
    """
    n = x.shape[-1]
    starts = np.asarray(starts)
    n_ui = n // spui
    if starts.size > 1 and n == n_ui * spui and np.all(np.diff(starts) == 1):
        # consecutive starts (the eye's phases): row s0 + a*spui + c is column c of the
        # response cut into unit intervals, a intervals on -- moves of data, no index table
        y = np.roll(x, -int(starts[0]), axis=-1).reshape(x.shape[:-1] + (n_ui, spui))
        blocks = []
        for a in range(-(-starts.size // spui)):
            c = min(spui, starts.size - a * spui)
            blk = y[..., :c] if a == 0 else np.roll(y[..., :c], -a, axis=-2)
            blocks.append(np.swapaxes(blk, -1, -2))
        return np.concatenate(blocks, axis=-2)
    idx = (starts[:, None] + spui * np.arange(n_ui)[None, :]) % n
    return x[..., idx]


def dfe_residual(cursor: np.ndarray, main: np.ndarray, limit: float | None) -> np.ndarray:
    """What an ideal DFE tap leaves of a post-cursor: :math:`h_k - \\mathrm{clip}(h_k, \\pm\\ell|h_0|)`.

    Parameters
    ----------
    cursor, main : ndarray
        The post-cursor and the main cursor (broadcastable), V/V.
    limit : float or None
        Largest :math:`|h_k/h_0|` the tap may cancel (UCIe 3.0 §5.4.4: 0.35 at 64 GT/s);
        None: unlimited.
    """
    lim = np.inf if limit is None else limit * np.abs(main)
    return cursor - np.clip(cursor, -lim, lim)


def extract_cursors(
    pr: PulseResponses,
    *,
    xt_phase: XtTiming | Sequence[XtTiming] = "worst",
    tol: float = 1e-4,
    dfe_taps: int = 0,
    dfe_limit: float | None = None,
) -> CursorSet:
    """Sample the pulse responses into cursors around the victim's eye.

    Parameters
    ----------
    pr : PulseResponses
        Victim and aggressor pulse responses.
    xt_phase : 'worst', float, or a sequence of them (one per aggressor)
        Aggressor timing: ``'worst'`` (asynchronous, at the phase of largest peak
        distortion) or the offset of a synchronous aggressor's clock from the victim's, UI
        (0: same clock, same launch instant).
    tol : float
        Cursors are dropped, smallest first, while their summed magnitude stays below
        ``tol`` times the victim's peak.
    dfe_taps : int
        Post-cursors 1..n cancelled by an ideal DFE.
    dfe_limit : float, optional
        Largest |h_k/h_0| a DFE tap cancels.

    Returns
    -------
    CursorSet

    Raises
    ------
    ValueError
        If a per-aggressor list has the wrong length.
    """
    spui = pr.samples_per_ui
    v = pr.victim
    n_ui = v.size // spui
    peak = abs(v[pr.main])
    centre = _eye_centre(v, pr.main, spui)
    # two unit intervals of sampling phases around the centre: an eye opening is never wider
    # than one UI, so the whole opening (and the crossings around it) lies inside
    n_ph = 2 * spui
    start = centre - spui
    phases = start + np.arange(n_ph)
    mat = cursor_matrix(v, phases, spui)                          # (P, n_ui)
    phase_ui = (phases - pr.main) / spui
    main = mat[:, 0].copy()
    # offsets: column c is cursor k = c for c < n_ui/2, else c - n_ui (periodic window)
    ks = np.arange(n_ui)
    ks = np.where(ks <= n_ui // 2, ks, ks - n_ui)
    isi_all = mat[:, 1:]
    k_all = ks[1:]
    dfe_values = _subtract_dfe(isi_all, k_all, main, spui, dfe_taps, dfe_limit)
    tol_abs = tol * peak
    mags = np.abs(isi_all).max(axis=0)
    keep = _significant(mags, tol_abs * 0.5)
    dropped = float(mags[~keep].sum())
    imp_mat = cursor_matrix(pr.victim_impulse, phases, spui) * (pr.rate * spui)  # per s
    n_agg = pr.aggressors.shape[0]
    if isinstance(xt_phase, str) or not isinstance(xt_phase, Sequence):
        timing = [xt_phase] * n_agg
    else:
        timing = list(xt_phase)
        if len(timing) != n_agg:
            raise ValueError(f"xt_phase has {len(timing)} entries for {n_agg} aggressors")
    xt = _aggressor_cursors(pr.aggressors, timing, phases, start, spui,
                            tol_abs * 0.5 / max(n_agg, 1), dropped)
    return CursorSet(phase_ui=phase_ui, main=main, isi=isi_all[:, keep], isi_k=k_all[keep],
                     impulse=imp_mat[:, np.concatenate([[True], keep])], xt_fixed=xt["fixed"],
                     xt_phase=xt["sync"], dropped=xt["dropped"],
                     aggressor_phase_ui=xt["phase_ui"], dfe_taps=dfe_taps, start=start,
                     spui=spui, xt_timing=xt["modes"], xt_offsets=xt["offsets"],
                     dfe_values=dfe_values)


def _eye_centre(v: np.ndarray, main: int, spui: int) -> int:
    """Sample index of the eye's centre: over two UI of sampling instants around the pulse
    peak *main*, the largest main cursor minus three times the rms of the others (robust
    when the worst-case eye is closed)."""
    cand = main - spui + np.arange(2 * spui)
    scan = cursor_matrix(v, cand, spui)                           # (2 spui, n_ui)
    fom = scan[:, 0] - 3.0 * np.sqrt(np.sum(scan[:, 1:] ** 2, axis=1))
    return int(cand[int(np.argmax(fom))])


def _subtract_dfe(isi: np.ndarray, k: np.ndarray, main: np.ndarray, spui: int, taps: int,
                  limit: float | None) -> list[float]:
    """Subtract (in place) the ideal DFE's fixed taps from post-cursors 1..*taps* of *isi*
    (P, K); returns the tap values, V/V.

    The taps are set at the eye's centre (phase index *spui*), where the receiver samples:
    at other phases the post-cursor minus that value remains (a DFE re-adapted at every
    phase would open the eye over the whole window).
    """
    values: list[float] = []
    for d in range(1, taps + 1):
        c = np.flatnonzero(k == d)
        if c.size:
            tap = float(isi[spui, c[0]] - dfe_residual(isi[spui, c[0]], main[spui], limit))
            isi[:, c[0]] = isi[:, c[0]] - tap
            values.append(tap)
    return values


def _aggressor_cursors(aggressors: np.ndarray, timing: list, phases: np.ndarray, start: int,
                       spui: int, budget: float, dropped: float) -> dict:
    """Cursors of each aggressor response (A, N): asynchronous ones (``'worst'``) at the
    phase of largest peak distortion, fixed; synchronous ones sampled at the victim's
    phases plus their offset (UI). Cursors are dropped while their sum stays below
    *budget* per aggressor.

    Returns a dict: ``fixed`` (X,), ``sync`` (P, Y), ``dropped`` (*dropped* plus the sum
    of |cursor| left out here), and per aggressor ``phase_ui``, ``modes`` and ``offsets`` (as in
    :class:`CursorSet`).
    """
    fixed: list[np.ndarray] = []
    sync: list[np.ndarray] = []
    out: dict = {"dropped": dropped, "phase_ui": [], "modes": [], "offsets": []}
    # the synchronous aggressors sharing an offset are sampled together
    offs = {a: int(round(float(t) * spui)) for a, t in enumerate(timing) if t != "worst"}
    mats: dict[int, np.ndarray] = {}
    for off in set(offs.values()):
        grp = [a for a, o in offs.items() if o == off]
        for a, gm in zip(grp, cursor_matrix(aggressors[grp], phases + off, spui)):
            mats[a] = gm
    for a in range(aggressors.shape[0]):
        g = aggressors[a]
        if timing[a] == "worst":
            gm = cursor_matrix(g, np.arange(spui), spui)          # (spui, n_ui)
            o = int(np.argmax(np.abs(gm).sum(axis=1)))
            cur = gm[o]
            m = _significant(np.abs(cur), budget)
            out["dropped"] += float(np.abs(cur[~m]).sum())
            fixed.append(cur[m])
            out["phase_ui"].append(((o - start) % spui) / spui)
            out["modes"].append("worst")
            out["offsets"].append(o)
        else:
            off = offs[a]
            gm = mats.pop(a)                                      # (P, n_ui)
            mg = np.abs(gm).max(axis=0)
            m = _significant(mg, budget)
            out["dropped"] += float(mg[~m].sum())
            sync.append(gm[:, m])
            out["phase_ui"].append(off / spui)
            out["modes"].append("sync")
            out["offsets"].append(off)
    out["fixed"] = np.concatenate(fixed) if fixed else np.zeros(0)
    out["sync"] = np.concatenate(sync, axis=1) if sync else np.zeros((phases.size, 0))
    return out


# ----------------------------------------------------------------------------- kernels
_SIGNS: dict[int, np.ndarray] = {}


def _signs(g: int) -> np.ndarray:
    if g not in _SIGNS:
        bits = (np.arange(2 ** g)[:, None] >> np.arange(g)[None, :]) & 1
        _SIGNS[g] = (2 * bits - 1).astype(np.float64)
    return _SIGNS[g]


def _gauss_kernel(sigma: float, dv: float, span: float = 15.0) -> np.ndarray:
    """Bin masses of N(0, sigma) on bins of width dv centred on integer multiples of dv.

    Each tail is computed from its own side with ``ndtr`` of a negative argument, so
    masses down to 1e-300 keep their relative precision.
    """
    from scipy.special import ndtr

    m = max(1, int(math.ceil(span * sigma / dv)))
    i = np.arange(-m, m + 1)
    lo = (i - 0.5) * dv / sigma
    hi = (i + 0.5) * dv / sigma
    neg = hi <= 0
    out = np.empty(i.size)
    out[neg] = ndtr(hi[neg]) - ndtr(lo[neg])
    out[~neg] = ndtr(-lo[~neg]) - ndtr(-hi[~neg])
    return out / out.sum()


def diffused_offsets(mag: np.ndarray, step: float) -> np.ndarray:
    """Integer offsets of magnitudes on a grid of *step*, rounded by error diffusion.

    Row by row, the offsets are the differences of the rounded running sums,
    :math:`q_k = \\mathrm{rint}(S_k/h) - \\mathrm{rint}(S_{k-1}/h)` with
    :math:`S_k = \\sum_{j \\le k} |c_j|`, so every partial sum (and the total) is represented
    to within half a step, however many terms there are.

    Parameters
    ----------
    mag : ndarray, shape (P, R)
        Non-negative magnitudes, in the order their running sums are formed.
    step : float
        Grid step, same unit.

    Returns
    -------
    ndarray of int64, shape (P, R)
    """
    s = np.rint(np.cumsum(mag, axis=1) / step).astype(np.int64)
    return np.diff(s, axis=1, prepend=0)


def fine_distribution(q: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
    """Distribution of :math:`\\sum_k s_k q_k` per row on the integer grid, exactly.

    *q* (P, R) are non-negative integer offsets, *w* (P, R) the probability of each of
    the two nonzero outcomes :math:`\\pm q` (1/2 for a symbol, 1/4 for a dual-Dirac term).
    Returns (pmf (P, 2 S + 1), S) with index S the origin. Terms are applied grouped by
    (offset, weight), from the smallest offset up so that the support grows slowly: every
    step is one direct shift-and-add with the same shift for all rows (rows with fewer
    terms of that kind take the identity, weight 0).
    """
    p = q.shape[0]
    tot = q.sum(axis=1)
    smax = int(tot.max()) if tot.size else 0
    width = 2 * smax + 1
    pmf = np.zeros((p, width))
    pmf[:, smax] = 1.0
    nz = q > 0
    if not nz.any():
        return pmf, smax
    # one code per (offset, weight) kind; count the terms of each kind in each row
    wcode = (w[nz] == 0.25).astype(np.int64)
    code = q[nz] * 2 + wcode
    rows = np.broadcast_to(np.arange(p)[:, None], q.shape)[nz]
    # the kinds in increasing order and each term's kind: small non-negative codes, so a
    # look-up table (no sort)
    kinds = np.flatnonzero(np.bincount(code))
    lut = np.zeros(int(kinds[-1]) + 1, dtype=np.int64)
    lut[kinds] = np.arange(kinds.size)
    counts = np.bincount(rows * kinds.size + lut[code],
                         minlength=p * kinds.size).reshape(p, kinds.size)
    s = 0
    for ki, kcode in enumerate(kinds):
        qk = int(kcode // 2)
        wk = 0.25 if kcode % 2 else 0.5
        s = _diffuse_steps(pmf, counts[:, ki], qk, wk, s, smax)
    return pmf, smax


def _diffuse_steps(pmf: np.ndarray, n_row: np.ndarray, qk: int, wk: float, s: int,
                   smax: int) -> int:
    """Apply, in place, ``n_row[r]`` steps of the kernel (wk, 1 - 2 wk, wk) at offsets
    -qk, 0, +qk to row r of *pmf* (bins -smax ... smax, only +-s occupied so far); rows with
    fewer terms of this kind are left as they are (the identity). Returns the new span."""
    for i in range(int(n_row.max())):
        s_new = min(s + qk, smax)
        lo, hi = smax - s_new, smax + s_new + 1
        act = n_row > i
        rows_i = slice(None) if act.all() else np.flatnonzero(act)
        sub = pmf[rows_i, lo:hi]
        new = (1.0 - 2.0 * wk) * sub
        new[:, qk:] += wk * sub[:, :-qk]
        new[:, :-qk] += wk * sub[:, qk:]
        pmf[rows_i, lo:hi] = new
        s = s_new
    return s


FINE_MAX = 1 << 14
"""Largest fine grid (bins) for the non-enumerated cursors; ``subbins`` shrinks to fit."""


# ----------------------------------------------------------------------------- the eye
@dataclass
class StatEye:
    """The statistical eye and what is read off it.

    Attributes
    ----------
    phase_ui : ndarray, shape (P,)
        Sampling phases relative to the victim's pulse peak, UI.
    v : ndarray, shape (Nv,)
        Voltage bin centres, V.
    pmf_one : ndarray, shape (P, Nv)
        Probability of each voltage bin given a transmitted "1".
    cdf_one : ndarray, shape (P, Nv)
        Its cumulative sum: probability that a "1" falls at or below each bin.
    ber : float
        Target bit error ratio.
    levels : ndarray, shape (Q,)
        BER levels of the contour.
    top : ndarray, shape (Q, P)
        Inner upper edge of the eye at each level and phase, V (the bottom is its mirror),
        interpolated within its voltage bin.
    best : int
        Phase index of the largest eye height at the target BER.
    eye_height : float
        Eye height at the target BER and best phase, V (0 when closed).
    eye_width : float
        Distance between the zero-voltage crossings of the target-BER contour around the
        best phase, UI (0 when closed).
    ber_at_zero : ndarray, shape (P,)
        BER with the threshold at 0 V at each phase (horizontal bathtub).
    dv : float
        Voltage bin, V.
    amplitude : float
        Symbol amplitude A (half the swing), V.
    eye_left_ui, eye_right_ui : float
        The two crossings, UI.
    dropped : float
        Sum of |cursor| left out as negligible, V/V of source amplitude.
    n_exact : int
        Cursors enumerated exactly per phase.
    n_convolved : int
        Cursors and jitter terms convolved on the fine grid (largest over the phases).
    subbins : int
        Fine grid steps per voltage bin.
    """

    phase_ui: np.ndarray
    v: np.ndarray
    pmf_one: np.ndarray
    cdf_one: np.ndarray
    ber: float
    levels: np.ndarray
    top: np.ndarray
    best: int
    eye_height: float
    eye_width: float
    ber_at_zero: np.ndarray
    dv: float
    amplitude: float
    eye_left_ui: float = float("nan")
    eye_right_ui: float = float("nan")
    dropped: float = 0.0
    n_exact: int = 0
    n_convolved: int = 0
    subbins: int = 1

    def contour(self, q: float | None = None) -> np.ndarray:
        """Upper edge of the eye at BER *q* (default: the target) at every phase, V."""
        q = self.ber if q is None else q
        hit = np.flatnonzero(np.isclose(self.levels, q, rtol=1e-9, atol=0))
        if hit.size:
            return self.top[hit[0]]
        return _quantiles(self.pmf_one, self.cdf_one, self.v, self.dv, q)

    def edge(self, q: float, phase: int | None = None) -> float:
        """Inner upper edge at BER *q* (V) at *phase* (default: best)."""
        j = self.best if phase is None else phase
        return float(self.contour(q)[j])

    def vertical_bathtub(self) -> tuple[np.ndarray, np.ndarray]:
        """(threshold V >= 0, BER) at the best phase for a "1" (the top half)."""
        j = self.best
        sel = self.v > 0
        return self.v[sel], np.maximum(self.cdf_one[j, sel], 1e-300)

    def mask_fit(self, width_ui: float, q: float | None = None,
                 shape: Literal["rectangle", "diamond"] = "rectangle") -> tuple[float, float]:
        """Tallest mask of width *width_ui* centred on 0 V inside the eye at BER *q*.

        See :func:`contour_mask_fit`. Returns (height V, centre phase UI).
        """
        return contour_mask_fit(self.phase_ui, self.contour(q), width_ui, shape)


def contour_mask_fit(phase: np.ndarray, top: np.ndarray, width_ui: float,
                     shape: Literal["rectangle", "diamond"] = "rectangle") -> tuple[float, float]:
    """Tallest mask of width *width_ui* centred on 0 V under the upper contour *top*.

    The contour (V, at phases *phase* UI) is interpolated linearly between phases (the same
    interpolation as the eye width), on a grid 16 times finer than the phase step. A
    rectangle of height H fits where the contour stays above H/2 over the whole width; a
    diamond (UCIe 3.0 §5.7, 48/64 GT/s) where it stays above :math:`(H/2)(1 - 2|x|/W)` at
    offset *x* from its centre. Returns (height V, centre phase UI); height 0 when none
    fits.
    """
    if phase.size < 2:
        return 0.0, float("nan")
    fine = np.linspace(phase[0], phase[-1], 16 * (phase.size - 1) + 1)
    tf = np.interp(fine, phase, top)
    step = fine[1] - fine[0]
    n = int(round(width_ui / step)) + 1
    if n > tf.size or n < 2:
        return 0.0, float("nan")
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(tf, n)
    if shape == "rectangle":
        mins = win.min(axis=1)
    else:
        x = (np.arange(n) - 0.5 * (n - 1)) * step
        shape_w = 1.0 - 2.0 * np.abs(x) / width_ui
        inner = shape_w > 1e-9
        mins = (win[:, inner] / shape_w[inner]).min(axis=1)
    k = int(np.argmax(mins))
    return max(0.0, 2 * float(mins[k])), float(fine[k] + 0.5 * (n - 1) * step)


def exact_group_quantile(cs: CursorSet, q: float, exact: int = 12) -> np.ndarray:
    """q-quantile at each phase of the main cursor plus the largest *exact* cursors alone.

    Per volt of amplitude, shape (P,). With the rest symmetric and independent, the
    statistical eye's edge at BER q/2 never exceeds this (see
    :func:`sigint.timedomain.eq.optimize_eq`).
    """
    p = cs.main.size
    two = np.concatenate([cs.isi, cs.xt_phase,
                          np.broadcast_to(cs.xt_fixed, (p, cs.xt_fixed.size))], axis=1)
    g = min(exact, two.shape[1])
    if g == 0:
        return cs.main.copy()
    big = -np.partition(-np.abs(two), g - 1, axis=1)[:, :g] if two.shape[1] > g else np.abs(two)
    atoms = cs.main[:, None] + big @ _signs(g).T
    k = min(int(math.floor(q * atoms.shape[1])), atoms.shape[1] - 1)
    return np.partition(atoms, k, axis=1)[:, k]


def edge_upper_bound(cs: CursorSet, amplitude: float, q: float, *, exact: int = 12
                     ) -> np.ndarray:
    """Rigorous upper bound on the eye's edge at BER *q* at every phase, V, shape (P,).

    Split :math:`V = A + R` with :math:`A` the main cursor plus a group *S* of cursors and
    :math:`R` everything else (the other cursors, jitter, noise): :math:`R` is symmetric and
    independent of :math:`A`, so :math:`P(R \\le 0) \\ge 1/2` and
    :math:`P(V \\le x) \\ge P(A \\le x)/2`: the *q*-quantile of *V* is at most the
    (2q)-quantile of *A*. Two groups are used:

    * when :math:`2^{-(g+1)} > q` for some :math:`g \\ge` *exact*, *S* = the *g* largest
      cursors (*g* as large as that allows): the all-worst pattern of *S* has probability
      :math:`\\ge 2^{-g}`, so the bound is :math:`h_0 - \\sum_{S}|c|` (at BER 1e-12,
      38 cursors; at 1e-15, 48);
    * otherwise *S* = the *exact* largest cursors, enumerated
      (:func:`exact_group_quantile`).

    Aggressors are taken at the victim's amplitude (as in the equalization search).
    :func:`statistical_eye` reads each quantile to within one voltage bin, so its contour
    lies below this bound plus that bin at every phase.
    """
    g = 0
    while 2.0 ** -(g + 2) > q:
        g += 1
    if g < exact:
        return amplitude * exact_group_quantile(cs, 2 * q, exact)
    p = cs.main.size
    mag = np.abs(np.concatenate([cs.isi, cs.xt_phase,
                                 np.broadcast_to(cs.xt_fixed, (p, cs.xt_fixed.size))], axis=1))
    if mag.shape[1] > g:
        mag = np.partition(mag, mag.shape[1] - g, axis=1)[:, mag.shape[1] - g:]
    return amplitude * (cs.main - mag.sum(axis=1))


def eye_bin_width(cs: CursorSet, amplitude: float, *, noise: float = 0.0, rj: float = 0.0,
                  dj: float = 0.0, nbins: int = 2048) -> float:
    """The voltage bin (V) :func:`statistical_eye` uses for these cursors and settings
    (the same reach, summed block by block: equal to rounding)."""
    nbins += nbins % 2
    amp = float(amplitude)
    reach = amp * (np.abs(cs.main) + np.abs(cs.isi).sum(axis=1)
                   + np.abs(cs.xt_phase).sum(axis=1) + np.abs(cs.xt_fixed).sum())
    if dj > 0:
        reach = reach + amp * dj * np.abs(cs.impulse).sum(axis=1)
    rj_var = 2 * amp ** 2 * rj ** 2 * np.sum(cs.impulse ** 2, axis=1) if rj > 0 else 0.0
    r = float(reach.max() + 16.0 * np.sqrt(noise ** 2 + rj_var).max())
    return 2.0 * (r if r > 0 else 1.0) / (nbins - 8)


def _quantiles(pmf: np.ndarray, cdf: np.ndarray, v: np.ndarray, dv: float, q: float) -> np.ndarray:
    """q-quantile of each row, linear within the bin where the CDF passes *q*, V."""
    above = cdf > q
    i = np.where(above.any(axis=1), above.argmax(axis=1), v.size - 1)
    rows = np.arange(cdf.shape[0])
    prev = np.where(i > 0, cdf[rows, np.maximum(i - 1, 0)], 0.0)
    mass = pmf[rows, i]
    frac = np.clip(np.divide(q - prev, mass, out=np.full(i.shape, 0.5), where=mass > 0), 0.0, 1.0)
    return v[i] - 0.5 * dv + frac * dv


def _quantiles_at(pmf: np.ndarray, cdf: np.ndarray, v: np.ndarray, dv: float,
                  levels: np.ndarray) -> np.ndarray:
    """:func:`_quantiles` at every level, shape (Q, P): each row's CDF is non-decreasing
    (a cumulative sum of non-negative masses), so the first bin where it exceeds a level
    is a binary search."""
    p = cdf.shape[0]
    i = np.stack([np.searchsorted(cdf[j], levels, side="right") for j in range(p)], axis=1)
    i = np.minimum(i, v.size - 1)                    # never above: the last bin (as before)
    rows = np.arange(p)[None, :]
    prev = np.where(i > 0, cdf[rows, np.maximum(i - 1, 0)], 0.0)
    mass = pmf[rows, i]
    frac = np.clip(np.divide(levels[:, None] - prev, mass, out=np.full(i.shape, 0.5),
                             where=mass > 0), 0.0, 1.0)
    return v[i] - 0.5 * dv + frac * dv


def statistical_eye(
    cs: CursorSet,
    amplitude: float,
    *,
    ber: float = 1e-15,
    noise: float = 0.0,
    rj: float = 0.0,
    dj: float = 0.0,
    aggressor_amplitude: float | None = None,
    nbins: int = 2048,
    exact: int = 12,
    subbins: int = 8,
    levels: np.ndarray | None = None,
) -> StatEye:
    """Compute the statistical eye from cursors.

    Parameters
    ----------
    cs : CursorSet
        Victim and aggressor cursors (per volt of source amplitude).
    amplitude : float
        Victim symbol amplitude A (half the peak-to-peak swing), V.
    ber : float
        Target bit error ratio.
    noise : float
        Gaussian noise at the sampler, V rms.
    rj, dj : float
        Tx random jitter (s rms) and dual-Dirac deterministic jitter (s peak-to-peak).
    aggressor_amplitude : float, optional
        Aggressor symbol amplitude, V (default: same as the victim).
    nbins : int
        Voltage bins over the full range (even).
    exact : int
        Number of largest cursors enumerated exactly per phase (2**exact atoms).
    subbins : int
        Fine grid steps per voltage bin for the other cursors (fewer when the fine grid
        would exceed :data:`FINE_MAX` bins).
    levels : ndarray, optional
        BER levels for the contour (default: decades from 1e-3 down to the target).

    Returns
    -------
    StatEye

    Notes
    -----
    Error bound: an atom is placed to half a fine step, the error-diffused rest to half a
    fine step per sign change of its pattern (none for the worst-case pattern), and the
    total is read off within its voltage bin, so every quantile is within one voltage bin
    of exhaustive enumeration when ``subbins`` >= 4 (tests: enumeration, worst-case eye,
    binomial tails to 1e-28).
    """
    amp = float(amplitude)
    amp_a = amp if aggressor_amplitude is None else float(aggressor_amplitude)
    nbins += nbins % 2
    if levels is None:
        lo = int(math.floor(math.log10(ber)))
        levels = np.array(sorted({10.0 ** e for e in range(-3, lo - 1, -1)} | {ber}, reverse=True))
    levels = np.asarray(levels, dtype=float)
    pmf, cdf, top, v, dv, half, g, n_conv, m_sub = _eye_rows(
        cs, amp, amp_a, levels, None, rj=rj, dj=dj, noise=noise, nbins=nbins, exact=exact,
        subbins=subbins)
    qt = int(np.argmin(np.abs(np.log10(levels) - math.log10(ber))))
    best = int(np.argmax(top[qt]))
    width, left, right = contour_width(cs.phase_ui, top[qt], best)
    return StatEye(phase_ui=cs.phase_ui, v=v, pmf_one=pmf, cdf_one=cdf, ber=ber, levels=levels,
                   top=top, best=best, eye_height=max(0.0, 2.0 * float(top[qt, best])),
                   eye_width=width, ber_at_zero=cdf[:, half - 1].copy(), dv=dv, amplitude=amp,
                   eye_left_ui=left, eye_right_ui=right, dropped=cs.dropped, n_exact=g,
                   n_convolved=n_conv, subbins=m_sub)


def _eye_rows(cs: CursorSet, amp: float, amp_a: float, levels: np.ndarray,
              rows: np.ndarray | None, *, rj: float, dj: float, noise: float, nbins: int,
              exact: int, subbins: int) -> tuple:
    """The eye's distribution and contour at the phases *rows* (None: every phase), on the
    voltage grid and fine grid of the whole eye, so each phase comes out exactly as in the
    whole eye (the phases are independent once those grids are set).

    Returns (pmf, cdf, top (Q, R), v, dv, half, terms enumerated, terms convolved,
    fine steps per bin).
    """
    main, two, three, sig = _eye_terms(cs, amp, amp_a, rj=rj, dj=dj, noise=noise)
    dv, half, v = _voltage_bins(main, two, three, sig, nbins)
    if rows is not None and FINE_MAX // max(1, nbins - 7) >= subbins:
        # every phase's non-enumerated terms sum to at most the reach, (nbins - 8)/2 bins,
        # so the fine grid has `subbins` steps per bin whatever the other phases hold: the
        # phases asked for are computed on their own (terms convolved: theirs only)
        main, two, three, sig = main[rows], two[rows], three[rows], sig[rows]
        rows = None
    pmf, g, n_conv, m_sub = _isi_distribution(main, two, three, dv, nbins, half, exact,
                                              subbins, rows)
    if rows is not None:
        main, two, three, sig = main[rows], two[rows], three[rows], sig[rows]
    pmf = _add_gaussian(pmf, sig, dv)
    np.maximum(pmf, 0.0, out=pmf)
    pmf /= pmf.sum(axis=1, keepdims=True)
    cdf = np.cumsum(pmf, axis=1)
    top = _quantiles_at(pmf, cdf, v, dv, levels)
    if not np.any(sig > 0):
        # bounded support: no pattern lies below main - sum|c| (the worst case), so a
        # read-out that the bin width put below it is raised to it (exact when every pattern
        # is more probable than the level)
        floor = main - np.abs(two).sum(axis=1) - np.abs(three).sum(axis=1)
        top = np.maximum(top, floor[None, :])
    return pmf, cdf, top, v, dv, half, g, n_conv, m_sub


def contour_at_rows(cs: CursorSet, amplitude: float, rows: np.ndarray, *, ber: float,
                    noise: float = 0.0, rj: float = 0.0, dj: float = 0.0, nbins: int = 2048,
                    exact: int = 12, subbins: int = 8) -> np.ndarray:
    """The contour of :func:`statistical_eye` at BER *ber* at the phase indices *rows* only,
    V, shape (R,): equal to ``statistical_eye(cs, ...).contour()[rows]`` (the voltage grid
    and the fine grid are those of the whole eye), at the cost of those phases.

    The equalization search scores candidates by the contour where it can be open (where
    an upper bound on it is above 0 V) and at the phases bracketing those regions, which
    decide the mask fit and the eye width (:func:`sigint.timedomain.eq.optimize_eq`).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if not rows.size:
        return np.zeros(0)
    amp = float(amplitude)
    nb = nbins + nbins % 2
    top = _eye_rows(cs, amp, amp, np.array([float(ber)]), rows,
                    rj=rj, dj=dj, noise=noise, nbins=nb, exact=exact, subbins=subbins)[2]
    return top[0]


def _eye_terms(cs: CursorSet, amp: float, amp_a: float, *, rj: float, dj: float, noise: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The eye's ingredients in volts: main cursor (P,), two-point terms (P, T) (ISI and
    crosstalk), dual-Dirac three-point terms (P, K + 1) and the Gaussian sigma (P,) of noise
    and random jitter (:math:`2A^2\\sigma_{RJ}^2\\sum_k h_k^2`, COM's linearization)."""
    main = amp * cs.main
    p = main.size
    two = np.concatenate([amp * cs.isi, amp_a * cs.xt_phase,
                          np.broadcast_to(amp_a * cs.xt_fixed, (p, cs.xt_fixed.size))], axis=1)
    three = amp * dj * cs.impulse if dj > 0 else np.zeros((p, 0))
    rj_var = 2 * amp ** 2 * rj ** 2 * np.sum(cs.impulse ** 2, axis=1) if rj > 0 else np.zeros(p)
    return main, two, three, np.sqrt(noise ** 2 + rj_var)


def _voltage_bins(main: np.ndarray, two: np.ndarray, three: np.ndarray, sig: np.ndarray,
                  nbins: int) -> tuple[float, int, np.ndarray]:
    """Bin width (V), the index of 0 V and the bin centres (V) spanning every pattern and
    16 sigma of the Gaussian terms, with a few spare bins at each end."""
    reach = float((np.abs(main) + np.abs(two).sum(axis=1) + np.abs(three).sum(axis=1)).max()
                  + 16.0 * sig.max())
    reach = reach if reach > 0 else 1.0
    dv = 2.0 * reach / (nbins - 8)
    half = nbins // 2
    return dv, half, (np.arange(nbins) - half + 0.5) * dv


def _isi_distribution(main: np.ndarray, two: np.ndarray, three: np.ndarray, dv: float,
                      nbins: int, half: int, exact: int, subbins: int,
                      rows: np.ndarray | None = None) -> tuple[np.ndarray, int, int, int]:
    """Distribution (P, nbins) of main + two-point + three-point terms on the voltage bins.

    The largest *exact* two-point terms of each phase are enumerated; the rest are
    convolved on the fine grid (error-diffused offsets, :func:`diffused_offsets`, in
    decreasing order of magnitude, then the three-point terms) and combined per sub-bin.
    Returns (pmf, terms enumerated, terms convolved, fine steps per bin). With *rows*,
    the distribution of those phases only, the fine grid still chosen from every phase.

    Only the terms of at least half a fine step are sorted: every smaller one moves the
    rounded running sum by 0 or 1 step, so however they are ordered among themselves
    (they all follow the larger ones), they contribute as many one-step terms as the
    rounded total gains over them (:func:`_offset_counts`). The enumerated terms enter
    by magnitude: the sign patterns are all enumerated, so their signs do not change the
    atoms.
    """
    p = main.size
    a = np.abs(two)
    t = a.shape[1]
    g = min(exact, t)
    if g and t > g:
        part = np.partition(a, t - g, axis=1)
        ex = np.sort(part[:, t - g:], axis=1)[:, ::-1]
        rest = part[:, :t - g]
    else:
        ex = np.sort(a, axis=1)[:, ::-1]
        rest = np.zeros((p, 0))
    a3 = np.abs(three)
    n_rest = int(np.count_nonzero(rest, axis=1).max()) if rest.size else 0
    n_conv = n_rest + int(np.any(a3 > 0, axis=0).sum())
    span_bins = float((rest.sum(axis=1) + a3.sum(axis=1)).max()) / dv if n_conv else 0.0
    if rows is not None:
        main, ex, rest, a3 = main[rows], ex[rows], rest[rows], a3[rows]
        p = main.size
    atoms = main[:, None] + (ex @ _signs(g).T if g else np.zeros((p, 1)))
    if not n_conv:
        idx = np.clip(np.floor(atoms / dv).astype(np.int64) + half, 0, nbins - 1)
        flat = (idx + nbins * np.arange(p)[:, None]).ravel()
        pmf = np.bincount(flat, minlength=p * nbins).reshape(p, nbins) / atoms.shape[1]
        return pmf, g, 0, 1
    m_sub = int(max(1, min(subbins, FINE_MAX // max(1, int(2 * span_bins + 1)))))
    h = dv / m_sub
    kinds, counts = _offset_counts(rest, a3, h)
    rest_pmf, c0 = _fine_from_counts(kinds, counts)
    return _combine(atoms, rest_pmf, c0, h, m_sub, nbins, half), g, n_conv, m_sub


def _offset_counts(rest: np.ndarray, three: np.ndarray, step: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The error-diffused offsets of :func:`diffused_offsets` (two-point magnitudes *rest*
    (P, R) in decreasing order, then the three-point ones *three* (P, K) as given), counted
    by kind: (kinds (J, 2) of (offset, weight code: 0 for 1/2, 1 for 1/4), counts (P, J)).

    *rest* may come in any order. Its magnitudes of at least half a *step* are sorted and
    diffused exactly as :func:`diffused_offsets` does; every smaller one changes the rounded
    running sum by 0 or 1 (an increment below half a step cannot move a rounded value by
    two), so the smaller ones, all of which come after, give ``rint(S_end/step) -
    rint(S_head/step)`` offsets of 1 in any order among themselves (S: the running sum
    before and after them).
    """
    p = rest.shape[0]
    big = rest >= 0.5 * step
    k_row = big.sum(axis=1)
    kmax = int(k_row.max()) if p else 0
    head = np.zeros((p, kmax))
    if kmax:
        rows, cols = np.nonzero(big)
        vals = rest[rows, cols]
        order = np.lexsort((-vals, rows))
        pos = np.arange(rows.size) - np.repeat(np.cumsum(k_row) - k_row, k_row)
        head[rows[order], pos] = vals[order]
    s_head = np.cumsum(head, axis=1)
    r_head = np.rint(s_head / step).astype(np.int64)
    q_head = np.diff(r_head, axis=1, prepend=0)
    end_head = s_head[:, -1] if kmax else np.zeros(p)
    s_end = end_head + np.where(big, 0.0, rest).sum(axis=1)
    r_end = np.rint(s_end / step).astype(np.int64)
    ones = r_end - (r_head[:, -1] if kmax else 0)
    q3 = np.zeros((p, 0), dtype=np.int64)
    if three.shape[1]:
        s3 = np.cumsum(np.concatenate([s_end[:, None], three], axis=1), axis=1)
        q3 = np.diff(np.rint(s3 / step).astype(np.int64), axis=1)
    qmax = int(max(q_head.max(initial=0), q3.max(initial=0), 1))
    counts = np.zeros((p, qmax + 1, 2), dtype=np.int64)
    rr = np.broadcast_to(np.arange(p)[:, None], q_head.shape)
    np.add.at(counts, (rr[q_head > 0], q_head[q_head > 0], 0), 1)
    counts[:, 1, 0] += ones
    if q3.size:
        rr3 = np.broadcast_to(np.arange(p)[:, None], q3.shape)
        np.add.at(counts, (rr3[q3 > 0], q3[q3 > 0], 1), 1)
    flat = counts.reshape(p, -1)
    live = np.flatnonzero(flat.any(axis=0))
    kinds = np.stack([live // 2, live % 2], axis=1)
    return kinds, flat[:, live]


def _fine_from_counts(kinds: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`fine_distribution` from the offsets counted by kind (:func:`_offset_counts`):
    the same shift-and-adds in the same order (kinds by offset, then weight), except that
    the first kind, acting on a point mass, is written down at once: *n* terms
    :math:`\\pm q` of probability 1/2 each give :math:`\\binom{n}{j}2^{-n}` at
    :math:`(2j - n)q`, and *n* dual-Dirac terms (1/4, 1/2, 1/4) give
    :math:`\\binom{2n}{j}4^{-n}` at :math:`(j - n)q`."""
    from scipy.stats import binom

    p = counts.shape[0]
    smax = int((counts * kinds[:, 0][None, :]).sum(axis=1).max()) if counts.size else 0
    width = 2 * smax + 1
    pmf = np.zeros((p, width))
    if not counts.size or smax == 0:
        pmf[:, smax] = 1.0
        return pmf, smax
    s = 0
    for ki, (qk, wcode) in enumerate(kinds):
        qk = int(qk)
        wk = 0.25 if wcode else 0.5
        n_row = counts[:, ki]
        if ki == 0:
            trials = n_row * (2 if wcode else 1)
            j = np.arange(int(trials.max()) + 1)
            prob = binom.pmf(j[None, :], trials[:, None], 0.5)          # 0 beyond n
            off = (smax + (j[None, :] - trials[:, None] // 2) * qk if wcode
                   else smax + (2 * j[None, :] - trials[:, None]) * qk)
            ok = j[None, :] <= trials[:, None]
            rr = np.broadcast_to(np.arange(p)[:, None], ok.shape)
            pmf[rr[ok], off[ok]] = prob[ok]
            s = min(int(n_row.max()) * qk, smax)
            continue
        s = _diffuse_steps(pmf, n_row, qk, wk, s, smax)
    return pmf, smax


def _add_gaussian(pmf: np.ndarray, sig: np.ndarray, dv: float) -> np.ndarray:
    """Each phase's distribution convolved (directly) with its Gaussian of *sig* V, where
    that is wider than 5 % of a bin."""
    if not np.any(sig > 0.05 * dv):
        return pmf
    return np.stack([
        np.convolve(pmf[j], _gauss_kernel(sig[j], dv), mode="same") if sig[j] > 0.05 * dv
        else pmf[j] for j in range(pmf.shape[0])
    ])


def _combine(atoms: np.ndarray, rest: np.ndarray, c0: int, h: float, m_sub: int, nbins: int,
             half: int) -> np.ndarray:
    """Bin atoms + rest (fine grid, origin index *c0*) onto the voltage bins, per sub-bin.

    An atom at fine index :math:`F_a = M i_a + m_a` plus a rest offset *r* falls in voltage
    bin :math:`i_a + \\lfloor (m_a + r)/M \\rfloor`: for each sub-bin phase *m* the rest is
    binned once and convolved (directly) with the atoms of that sub-bin phase, over the
    span of voltage bins those atoms occupy.
    """
    p, n_atoms = atoms.shape
    fa = np.rint(atoms / h).astype(np.int64)
    ia = np.floor_divide(fa, m_sub)
    ma = fa - ia * m_sub
    ia_lo = int(ia.min())
    la = int(ia.max()) - ia_lo + 1
    ia -= ia_lo
    key = np.arange(p)[:, None] * m_sub + ma
    hist = np.bincount((key * la + ia).ravel(), minlength=p * m_sub * la).reshape(
        p * m_sub, la) / n_atoms
    # span of the atoms of each (phase, sub-bin), in voltage bins
    first = np.full(p * m_sub, la)
    last = np.full(p * m_sub, -1)
    np.minimum.at(first, key.ravel(), ia.ravel())
    np.maximum.at(last, key.ravel(), ia.ravel())
    r = np.arange(rest.shape[1]) - c0
    js = [np.floor_divide(m + r, m_sub) for m in range(m_sub)]
    j_lo = min(int(j.min()) for j in js)
    lr = max(int(j.max()) for j in js) - j_lo + 1
    # padded output: index x holds voltage bin x - pad_lo
    base = half + ia_lo + j_lo
    pad_lo = max(0, -base)
    width = max(nbins + pad_lo, base + pad_lo + la + lr)
    out = np.zeros((p, width))
    conv = np.convolve
    for m in range(m_sub):
        j = js[m] - j_lo
        rm = np.bincount((np.arange(p)[:, None] * lr + j[None, :]).ravel(),
                         weights=rest.ravel(), minlength=p * lr).reshape(p, lr)
        rows = np.flatnonzero(last[m::m_sub] >= 0)
        lo = first[rows * m_sub + m].tolist()
        hi = (last[rows * m_sub + m] + 1).tolist()
        for row, a0, a1 in zip(rows.tolist(), lo, hi):
            b = base + pad_lo + a0
            out[row, b:b + a1 - a0 + lr - 1] += conv(hist[row * m_sub + m, a0:a1], rm[row])
    return out[:, pad_lo:pad_lo + nbins]


def contour_width(phase: np.ndarray, top: np.ndarray, best: int) -> tuple[float, float, float]:
    """Width of the open region of a contour around phase index *best*, UI.

    Each edge is the zero crossing of the contour, interpolated linearly in phase between
    the two phases that bracket it (an edge at the window's end is put half a step out).
    Returns (width, left, right); (0, nan, nan) when the contour is not above 0 V at *best*.
    """
    if top[best] <= 0:
        return 0.0, float("nan"), float("nan")
    step = float(phase[1] - phase[0]) if phase.size > 1 else 1.0
    i = best
    while i > 0 and top[i - 1] > 0:
        i -= 1
    if i == 0:
        left = phase[0] - 0.5 * step
    else:
        left = phase[i - 1] + step * (-top[i - 1]) / (top[i] - top[i - 1])
    j = best
    while j < phase.size - 1 and top[j + 1] > 0:
        j += 1
    if j == phase.size - 1:
        right = phase[-1] + 0.5 * step
    else:
        right = phase[j] + step * top[j] / (top[j] - top[j + 1])
    return float(min(1.0, right - left)), float(left), float(right)


def peak_distortion_eye(cs: CursorSet, amplitude: float, *, dj: float = 0.0,
                        aggressor_amplitude: float | None = None) -> tuple[np.ndarray, float, float]:
    """Worst-case (peak distortion) eye: every cursor against the main one at once.

    Returns (upper edge per phase V, eye height V, eye width UI). Random noise and random
    jitter are unbounded and left out; DJ is included at its peak. The width uses the same
    zero-crossing interpolation as :func:`contour_width`.
    """
    amp = float(amplitude)
    amp_a = amp if aggressor_amplitude is None else float(aggressor_amplitude)
    top = (amp * cs.main - amp * np.abs(cs.isi).sum(axis=1)
           - amp_a * np.abs(cs.xt_phase).sum(axis=1) - amp_a * np.abs(cs.xt_fixed).sum()
           - amp * dj * np.abs(cs.impulse).sum(axis=1))
    height = max(0.0, 2 * float(top.max()))
    width = contour_width(cs.phase_ui, top, int(np.argmax(top)))[0]
    return top, height, width
