"""Statistical eye: the exact distribution of the received voltage at every sampling phase.

With independent, equiprobable NRZ symbols :math:`b_k = \\pm A` (A = half the swing) the
sample at phase :math:`\\phi` given a transmitted "1" is

.. math:: V(\\phi) = A h_0(\\phi) + \\sum_{k \\ne 0} b_k h_k(\\phi)
          + \\sum_i \\sum_k b^{(i)}_k g^{(i)}_k + n_{jitter} + n,

a sum of independent two-point variables (ISI and crosstalk), jitter terms and Gaussian
noise, so its distribution is the convolution of theirs (Hirt, Stojanovic et al.
"StatEye"; IEEE 802.3 Annex 93A COM). How it is computed here keeps both the bulk and the
deep tails right:

* the largest ``exact`` cursors (default 12) are enumerated exactly, :math:`2^{12}` atoms
  per phase, and binned once; on a channel with no more cursors than that the quantiles are
  those of exhaustive enumeration to within half a voltage bin;
* every other cursor is convolved as a two-point distribution whose mass is split between
  the two bins around its exact offset (mean preserved; a cursor smaller than a bin is
  not rounded away);
* convolutions are direct, never FFT, so that probabilities of 1e-27 keep full relative
  precision (an FFT's round-off floor is ~1e-16 of the peak);
* crosstalk aggressors run at their worst relative phase (the phase maximizing their peak
  distortion) by default, or at a chosen offset from the victim's clock;
* Tx jitter is linearized through the victim's impulse response (COM's approach): an edge
  displaced by :math:`\\varepsilon_k` changes the sample by :math:`-d_k\\varepsilon_k h(t_s - kT)`
  with transitions :math:`d_k \\in \\{0, \\pm 2A\\}`; random jitter adds a Gaussian of variance
  :math:`2A^2\\sigma_{RJ}^2\\sum_k h_k^2`, dual-Dirac DJ adds three-point terms
  :math:`\\{0, \\pm A\\,DJ\\,h_k\\}` with probabilities :math:`\\{1/2, 1/4, 1/4\\}`.

By symmetry the distribution given a "0" is the mirror image, so the eye is symmetric about
0 V. The eye edge at a BER level *q* is the *q*-quantile of :math:`V \\mid 1` (the probability
that a "1" falls below it); at the 0 V threshold this is exactly the bit error ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .pulse import PulseResponses

__all__ = [
    "CursorSet",
    "extract_cursors",
    "StatEye",
    "statistical_eye",
    "peak_distortion_eye",
]


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
        Aggressor cursors that do not depend on the victim's phase (worst-phase mode).
    xt_phase : ndarray, shape (P, Y)
        Aggressor cursors that move with the victim's phase (fixed-offset mode).
    dropped : float
        Bound on the sum of |cursor| left out as negligible, V/V.
    aggressor_phase_ui : list of float
        Relative phase used for each aggressor, UI.
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
    xt_mode: str = "worst"
    xt_offsets: list[int] = field(default_factory=list)

    def xt_shift(self, phase: int) -> list[int]:
        """Per aggressor, the sample offset between the aggressor response sample used and
        the victim's at phase index *phase* (for a bit-by-bit run that matches this eye)."""
        if self.xt_mode == "worst":
            return [int((o - (self.start + phase)) % self.spui) for o in self.xt_offsets]
        return [int(o) for o in self.xt_offsets]


def _significant(mags: np.ndarray, tol: float) -> np.ndarray:
    """Boolean mask keeping entries so that the dropped ones sum to at most *tol*."""
    order = np.argsort(mags)
    csum = np.cumsum(mags[order])
    keep = np.ones(mags.size, dtype=bool)
    keep[order[csum <= tol]] = False
    return keep


def _cursor_matrix(x: np.ndarray, starts: np.ndarray, spui: int) -> np.ndarray:
    """Samples ``x[start + k * spui]`` (periodic) for each start and every UI k."""
    n = x.shape[-1]
    idx = (np.asarray(starts)[:, None] + spui * np.arange(n // spui)[None, :]) % n
    return x[..., idx]


def _ui_matrix(x: np.ndarray, start: int, spui: int) -> np.ndarray:
    """Reshape a periodic response into (phase, UI) starting at sample *start*."""
    return _cursor_matrix(x, start + np.arange(spui), spui)


def extract_cursors(
    pr: PulseResponses,
    *,
    xt_phase: str | float = "worst",
    tol: float = 1e-4,
    dfe_taps: int = 0,
    dfe_limit: float | None = None,
) -> CursorSet:
    """Sample the pulse responses into cursors around the victim's eye.

    Parameters
    ----------
    pr : PulseResponses
        Victim and aggressor pulse responses.
    xt_phase : 'worst' or float
        Aggressor clock phase: ``'worst'`` (per aggressor, the phase of largest peak
        distortion) or an offset from the victim's clock, UI.
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
    """
    spui = pr.samples_per_ui
    v = pr.victim
    n = v.size
    n_ui = n // spui
    peak = abs(v[pr.main])
    # centre the one-UI phase window on the eye: scan two UI of sampling instants around
    # the peak with a mean-minus-spread figure (robust when the worst-case eye is closed)
    cand = pr.main - spui + np.arange(2 * spui)
    scan = _cursor_matrix(v, cand, spui)                          # (2 spui, n_ui)
    fom = scan[:, 0] - 3.0 * np.sqrt(np.sum(scan[:, 1:] ** 2, axis=1))
    centre = int(cand[int(np.argmax(fom))])
    # two unit intervals of sampling phases around the centre: an eye opening is never wider
    # than one UI, so the whole opening (and the crossings around it) lies inside
    n_ph = 2 * spui
    start = centre - spui
    phases = start + np.arange(n_ph)
    mat = _cursor_matrix(v, phases, spui)                         # (P, n_ui)
    k0 = 0  # at every sampling instant the main cursor is the sample itself
    phase_ui = (phases - pr.main) / spui
    main = mat[:, k0].copy()
    # offsets: column c is cursor k = c for c < n_ui/2, else c - n_ui (periodic window)
    ks = np.arange(n_ui)
    ks = np.where(ks <= n_ui // 2, ks, ks - n_ui)
    isi_all = mat[:, 1:]
    k_all = ks[1:]
    if dfe_taps:
        for d in range(1, dfe_taps + 1):
            c = np.flatnonzero(k_all == d)
            if c.size:
                c = int(c[0])
                lim = np.inf if dfe_limit is None else dfe_limit * np.abs(main)
                isi_all[:, c] = isi_all[:, c] - np.clip(isi_all[:, c], -lim, lim)
    tol_abs = tol * peak
    mags = np.abs(isi_all).max(axis=0)
    budget_isi = tol_abs * 0.5
    keep = _significant(mags, budget_isi)
    dropped = float(mags[~keep].sum())
    isi = isi_all[:, keep]
    isi_k = k_all[keep]
    imp_mat = _cursor_matrix(pr.victim_impulse, phases, spui) * (pr.rate * spui)  # per s
    keep_imp = np.concatenate([[True], keep])
    impulse = imp_mat[:, keep_imp]
    xt_fixed: list[np.ndarray] = []
    xt_phase_l: list[np.ndarray] = []
    a_phase: list[float] = []
    offsets: list[int] = []
    n_agg = pr.aggressors.shape[0]
    budget_xt = tol_abs * 0.5 / max(n_agg, 1)
    for a in range(n_agg):
        g = pr.aggressors[a]
        if xt_phase == "worst":
            gm = _ui_matrix(g, 0, spui)                            # (spui, n_ui)
            pd = np.abs(gm).sum(axis=1)
            o = int(np.argmax(pd))
            cur = gm[o]
            m = _significant(np.abs(cur), budget_xt)
            dropped += float(np.abs(cur[~m]).sum())
            xt_fixed.append(cur[m])
            a_phase.append(((o - start) % spui) / spui)
            offsets.append(o)
        else:
            off = int(round(float(xt_phase) * spui))
            gm = _cursor_matrix(g, phases + off, spui)             # (P, n_ui)
            mg = np.abs(gm).max(axis=0)
            m = _significant(mg, budget_xt)
            dropped += float(mg[~m].sum())
            xt_phase_l.append(gm[:, m])
            a_phase.append(float(xt_phase))
            offsets.append(off)
    xf = np.concatenate(xt_fixed) if xt_fixed else np.zeros(0)
    xp_ = np.concatenate(xt_phase_l, axis=1) if xt_phase_l else np.zeros((n_ph, 0))
    return CursorSet(phase_ui, main, isi, isi_k, impulse, xf, xp_, dropped, a_phase, dfe_taps,
                     start, spui, "worst" if xt_phase == "worst" else "offset", offsets)


# ----------------------------------------------------------------------------- kernels
def _shift_rows(pmf: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Shift each row of *pmf* up (towards higher index) by the integer q[row], zero-filled."""
    p, n = pmf.shape
    qm = int(np.abs(q).max()) + 1
    pad = np.zeros((p, n + 2 * qm), dtype=pmf.dtype)
    pad[:, qm:qm + n] = pmf
    idx = qm + np.arange(n)[None, :] - q[:, None]
    return np.take_along_axis(pad, idx, axis=1)


def _convolve_two_point(pmf: np.ndarray, c: np.ndarray, dv: float, w: float = 0.5) -> np.ndarray:
    """Convolve each row with ``{-c: w, +c: w, 0: 1 - 2w}`` (c >= 0 per row), mass split.

    ``w = 0.5`` is an ISI/crosstalk cursor; ``w = 0.25`` a dual-Dirac jitter term.
    """
    x = np.abs(c) / dv
    q = np.floor(x).astype(np.int64)
    r = (x - q)[:, None]
    up = (1 - r) * _shift_rows(pmf, q) + r * _shift_rows(pmf, q + 1)
    dn = (1 - r) * _shift_rows(pmf, -q) + r * _shift_rows(pmf, -q - 1)
    out = w * (up + dn)
    if w != 0.5:
        out += (1 - 2 * w) * pmf
    return out


SPLIT_MIN = 4.0  # bins: smaller cursors join the Gaussian term

_SIGNS: dict[int, np.ndarray] = {}


def _signs(g: int) -> np.ndarray:
    if g not in _SIGNS:
        bits = (np.arange(2 ** g)[:, None] >> np.arange(g)[None, :]) & 1
        _SIGNS[g] = (2 * bits - 1).astype(np.float64)
    return _SIGNS[g]


def _exact_atoms(c: np.ndarray) -> np.ndarray:
    """All :math:`2^G` sums :math:`\\sum \\pm c_k` per row of *c* (P, G) -> (P, 2^G)."""
    return c @ _signs(c.shape[1]).T


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
        Inner upper edge of the eye at each level and phase, V (the bottom is its mirror).
    best : int
        Phase index of the largest eye height at the target BER.
    eye_height : float
        Eye height at the target BER and best phase, V (0 when closed).
    eye_width : float
        Width of the region where the BER at 0 V is below the target, UI.
    ber_at_zero : ndarray, shape (P,)
        BER with the threshold at 0 V at each phase (horizontal bathtub).
    dv : float
        Voltage bin, V.
    amplitude : float
        Symbol amplitude A (half the swing), V.
    n_gaussian : int
        Number of cursors smaller than ``SPLIT_MIN`` bins summed as a Gaussian.
    sigma_gaussian : float
        Largest standard deviation of that Gaussian over the phases, V.
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
    n_gaussian: int = 0
    sigma_gaussian: float = 0.0

    def edge(self, q: float, phase: int | None = None) -> float:
        """Inner upper edge at BER *q* (V) at *phase* (default: best), from the CDF."""
        j = self.best if phase is None else phase
        return _quantile_row(self.cdf_one[j], self.v, q)

    def vertical_bathtub(self) -> tuple[np.ndarray, np.ndarray]:
        """(threshold V >= 0, BER) at the best phase for a "1" (the top half)."""
        j = self.best
        sel = self.v > 0
        return self.v[sel], np.maximum(self.cdf_one[j, sel], 1e-300)

    def mask_fit(self, width_ui: float, q: float | None = None) -> tuple[float, float]:
        """Tallest rectangle of width *width_ui* centred on 0 V inside the eye at BER *q*.

        The upper edge is interpolated linearly between phases (on a grid 16 times finer),
        so the result does not depend on where the phase samples fall. Returns (height V,
        centre phase UI); the height is 0 when none fits.
        """
        q = self.ber if q is None else q
        top = np.array([_quantile_row(self.cdf_one[j], self.v, q)
                        for j in range(self.cdf_one.shape[0])])
        ph = self.phase_ui
        if ph.size < 2:
            return 0.0, float("nan")
        fine = np.linspace(ph[0], ph[-1], 16 * (ph.size - 1) + 1)
        tf = np.interp(fine, ph, top)
        step = fine[1] - fine[0]
        n = int(round(width_ui / step)) + 1
        if n > tf.size:
            return 0.0, float("nan")
        from numpy.lib.stride_tricks import sliding_window_view

        mins = sliding_window_view(tf, n).min(axis=1)
        k = int(np.argmax(mins))
        return max(0.0, 2 * float(mins[k])), float(fine[k] + 0.5 * (n - 1) * step)


def _quantile_row(cdf: np.ndarray, v: np.ndarray, q: float) -> float:
    i = int(np.searchsorted(cdf, q, side="right"))
    return float(v[min(i, v.size - 1)])


def _merge_exact(
    isi: np.ndarray, extra_fixed: np.ndarray, exact: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split per-phase cursors into an exact group (largest |c|) and the rest.

    Returns (exact (P, G), rest (P, R), rest_fixed (R2,)): fixed crosstalk cursors join the
    exact group only when everything fits into it.
    """
    p = isi.shape[0]
    total = isi.shape[1] + extra_fixed.size
    if total <= exact:
        ex = np.concatenate([isi, np.broadcast_to(extra_fixed, (p, extra_fixed.size))], axis=1)
        return ex, np.zeros((p, 0)), np.zeros(0)
    g = min(exact, isi.shape[1])
    order = np.argsort(-np.abs(isi), axis=1)
    ex = np.take_along_axis(isi, order[:, :g], axis=1)
    rest = np.take_along_axis(isi, order[:, g:], axis=1)
    return ex, rest, extra_fixed


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
    levels : ndarray, optional
        BER levels for the contour (default: decades from 1e-3 down to the target).

    Returns
    -------
    StatEye
    """
    amp = float(amplitude)
    amp_a = amp if aggressor_amplitude is None else float(aggressor_amplitude)
    nbins += nbins % 2
    main = amp * cs.main
    isi = amp * cs.isi
    xt_phase = amp_a * cs.xt_phase
    xt_fixed = amp_a * cs.xt_fixed
    per_phase = np.concatenate([isi, xt_phase], axis=1)
    p = main.size
    # jitter terms (linearized through the impulse response, dt in seconds)
    dj_terms = amp * dj * cs.impulse if dj > 0 else np.zeros((p, 0))
    rj_var = 2 * amp ** 2 * rj ** 2 * np.sum(cs.impulse ** 2, axis=1) if rj > 0 else np.zeros(p)
    sig = np.sqrt(noise ** 2 + rj_var)
    reach = (
        np.abs(main) + np.abs(per_phase).sum(axis=1) + np.abs(dj_terms).sum(axis=1)
        + 16.0 * sig
    ).max() + np.abs(xt_fixed).sum()
    dv = 2.0 * reach / (nbins - 8)     # a few spare bins at each end
    half = nbins // 2
    v = (np.arange(nbins) - half + 0.5) * dv
    ex, rest, rest_fixed = _merge_exact(per_phase, xt_fixed, exact)
    # Cursors of at least SPLIT_MIN bins are convolved with their mass split between the two
    # bins around the exact offset (excess variance <= dv^2/4 <= c^2/64). Smaller ones
    # would gain up to dv/|c| times their variance that way, so they are summed as one
    # Gaussian of the exact variance sum(c^2): a sum of symmetric two-point variables is
    # sub-Gaussian with that variance proxy (Hoeffding), so its tails are not understated.
    small_var = np.zeros(p)
    small_n = 0
    if rest.shape[1]:
        small = np.abs(rest) < SPLIT_MIN * dv
        small_var += np.sum(np.where(small, rest, 0.0) ** 2, axis=1)
        small_n += int(small.sum(axis=1).max())
        rest = np.where(small, 0.0, rest)
        rest = rest[:, np.any(rest != 0, axis=0)]
    if dj_terms.shape[1]:
        small = np.abs(dj_terms) < SPLIT_MIN * dv
        small_var += 0.5 * np.sum(np.where(small, dj_terms, 0.0) ** 2, axis=1)
        dj_terms = np.where(small, 0.0, dj_terms)
        dj_terms = dj_terms[:, np.any(dj_terms != 0, axis=0)]
    if rest_fixed.size:
        order = np.argsort(-np.abs(rest_fixed))
        rf = rest_fixed[order]
        big = np.abs(rf) >= SPLIT_MIN * dv
        big[:exact] = True
        small_var += float(np.sum(rf[~big] ** 2))
        small_n += int((~big).sum())
        rest_fixed = rf[big]
    atoms = main[:, None] + (_exact_atoms(ex) if ex.shape[1] else np.zeros((p, 1)))
    idx = np.floor(atoms / dv).astype(np.int64) + half
    np.clip(idx, 0, nbins - 1, out=idx)
    flat = (idx + nbins * np.arange(p)[:, None]).ravel()
    pmf = np.bincount(flat, minlength=p * nbins).reshape(p, nbins) / atoms.shape[1]
    for k in range(rest.shape[1]):
        pmf = _convolve_two_point(pmf, rest[:, k], dv)
    for k in range(dj_terms.shape[1]):
        pmf = _convolve_two_point(pmf, dj_terms[:, k], dv, w=0.25)
    if rest_fixed.size:
        kern = _fixed_kernel(rest_fixed, dv, exact, max_half=nbins // 2 - 1)
        pmf = np.stack([np.convolve(pmf[j], kern, mode="same") for j in range(p)])
    sig = np.sqrt(sig ** 2 + small_var)
    if np.any(sig > 0.05 * dv):
        pmf = np.stack([
            np.convolve(pmf[j], _gauss_kernel(sig[j], dv), mode="same") if sig[j] > 0.05 * dv
            else pmf[j] for j in range(p)
        ])
    np.maximum(pmf, 0.0, out=pmf)
    pmf /= pmf.sum(axis=1, keepdims=True)
    cdf = np.cumsum(pmf, axis=1)
    if levels is None:
        lo = int(math.floor(math.log10(ber)))
        levels = np.array(sorted({10.0 ** e for e in range(-3, lo - 1, -1)} | {ber}, reverse=True))
    levels = np.asarray(levels, dtype=float)
    top = np.empty((levels.size, p))
    for qi, q in enumerate(levels):
        i = np.array([np.searchsorted(cdf[j], q, side="right") for j in range(p)])
        top[qi] = v[np.minimum(i, nbins - 1)]
    qt = int(np.argmin(np.abs(np.log10(levels) - math.log10(ber))))
    best = int(np.argmax(top[qt]))
    height = max(0.0, 2.0 * float(top[qt, best]))
    ber0 = cdf[:, half - 1].copy()
    width, left, right = _eye_width(cs.phase_ui, ber0, ber, best)
    return StatEye(cs.phase_ui, v, pmf, cdf, ber, levels, top, best, height, width, ber0, dv,
                   amp, left, right, cs.dropped, small_n, float(np.sqrt(small_var.max())))


def _fixed_kernel(c: np.ndarray, dv: float, exact: int, max_half: int | None = None) -> np.ndarray:
    """Distribution of :math:`\\sum \\pm c_k` on bins centred at integer multiples of dv."""
    order = np.argsort(-np.abs(c))
    ex, rest = c[order[:exact]], c[order[exact:]]
    m = int(math.ceil(np.abs(c).sum() / dv)) + rest.size + 2
    if max_half is not None:
        m = min(m, max_half)
    size = 2 * m + 1
    atoms = _exact_atoms(ex[None, :])[0] if ex.size else np.zeros(1)
    idx = np.clip(np.rint(atoms / dv).astype(np.int64) + m, 0, size - 1)
    k = np.bincount(idx, minlength=size).astype(float)[None, :] / atoms.size
    for r in rest:
        k = _convolve_two_point(k, np.array([r]), dv)
    return k[0]


def _eye_width(phase: np.ndarray, ber0: np.ndarray, target: float, best: int) -> tuple[float, float, float]:
    """Width of the contiguous region around *best* with BER(0 V) <= target, UI.

    Edges are placed where log10(BER) crosses log10(target), interpolated between phases.
    """
    if ber0[best] > target:
        return 0.0, float("nan"), float("nan")
    lg = np.log10(np.maximum(ber0, 1e-300))
    lt = math.log10(target)
    step = float(phase[1] - phase[0]) if phase.size > 1 else 1.0
    i = best
    while i > 0 and ber0[i - 1] <= target:
        i -= 1
    if i == 0:
        left = phase[0] - 0.5 * step
    else:
        a, b = lg[i - 1], lg[i]
        left = phase[i - 1] + step * (a - lt) / (a - b) if a != b else phase[i]
    j = best
    while j < phase.size - 1 and ber0[j + 1] <= target:
        j += 1
    if j == phase.size - 1:
        right = phase[-1] + 0.5 * step
    else:
        a, b = lg[j], lg[j + 1]
        right = phase[j] + step * (lt - a) / (b - a) if a != b else phase[j]
    return float(min(1.0, right - left)), float(left), float(right)


def peak_distortion_eye(cs: CursorSet, amplitude: float, *, dj: float = 0.0,
                        aggressor_amplitude: float | None = None) -> tuple[np.ndarray, float, float]:
    """Worst-case (peak distortion) eye: every cursor against the main one at once.

    Returns (upper edge per phase V, eye height V, eye width UI). Random noise and random
    jitter are unbounded and left out; DJ is included at its peak.
    """
    amp = float(amplitude)
    amp_a = amp if aggressor_amplitude is None else float(aggressor_amplitude)
    top = (amp * cs.main - amp * np.abs(cs.isi).sum(axis=1)
           - amp_a * np.abs(cs.xt_phase).sum(axis=1) - amp_a * np.abs(cs.xt_fixed).sum()
           - amp * dj * np.abs(cs.impulse).sum(axis=1))
    height = max(0.0, 2 * float(top.max()))
    step = float(cs.phase_ui[1] - cs.phase_ui[0]) if cs.phase_ui.size > 1 else 1.0
    best = int(np.argmax(top))
    width = 0.0
    if top[best] > 0:
        i = j = best
        while i > 0 and top[i - 1] > 0:
            i -= 1
        while j < top.size - 1 and top[j + 1] > 0:
            j += 1
        # crossings interpolated between phases
        left = cs.phase_ui[i] - (step * top[i] / (top[i] - top[i - 1]) if i > 0 else 0.5 * step)
        right = cs.phase_ui[j] + (step * top[j] / (top[j] - top[j + 1]) if j < top.size - 1 else 0.5 * step)
        width = float(right - left)
    return top, height, min(width, 1.0)
