"""Choosing Tx FFE, Rx CTLE and DFE settings by the quantity the spec checks.

Every candidate of the set (Tx FFE taps or presets x CTLE DC gains; the DFE, when the Rx
has one, acts in every candidate) is judged by exactly what the verdict judges: the
statistical eye at the target BER, with the same crosstalk timing, noise, jitter and
resolution as the final analysis, and the tallest spec mask that fits in it (rectangle or
diamond); without a mask, the eye height. Ties go to the wider eye, then to the earlier
(simpler) candidate. The FFE is linear in its taps and acts on the symbol stream, so its
effect on one set of CTLE pulse responses is a shift-and-add (:func:`with_ffe`); each CTLE
gain needs its own pulse responses.

The winner and the runner-up are reported, with the score of every candidate scored in
full: a candidate is scored in full only while a rigorous bound on its ranking (score, then
eye width) can still reach the runner-up's, so the result is that of scoring every
candidate (``exhaustive=True``), at the cost of a few statistical eyes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..link.txrx import Ctle, Rx, Tx
from .pulse import pulse_responses_set, with_ffe
from .stateye import (
    XtTiming,
    contour_at_rows,
    contour_mask_fit,
    contour_width,
    edge_upper_bound,
    extract_cursors,
    eye_bin_width,
    statistical_eye,
)

__all__ = ["EqCandidate", "EqResult", "optimize_eq", "ffe_grid", "FFE_PRE", "FFE_POST",
           "CTLE_GAINS", "de_emphasis_taps"]

FFE_PRE = (0.0, -0.05, -0.1, -0.15)
FFE_POST = (0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.35)
CTLE_GAINS = tuple(float(g) for g in range(0, -13, -1))


def de_emphasis_taps(db: float) -> tuple[float, float]:
    """Two-tap Tx de-emphasis of *db* (<= 0) dB, as (main, post) with |main| + |post| = 1.

    De-emphasis is the level of a repeated bit relative to a transition bit,
    :math:`20\\log_{10}\\frac{c_0 - |c_1|}{c_0 + |c_1|}` (the PCI Express convention), so
    :math:`|c_1| = (1 - 10^{D/20})/2`.

    >>> [round(t, 4) for t in de_emphasis_taps(-2.2)]
    [0.8881, -0.1119]
    """
    c1 = (1.0 - 10.0 ** (db / 20.0)) / 2.0
    return 1.0 - c1, -c1


@dataclass(frozen=True)
class EqCandidate:
    """One equalization setting.

    Attributes
    ----------
    ffe : tuple of float
        Tx FFE taps (pre-cursor taps first).
    ffe_main : int
        Index of the main tap.
    ctle_db : float or None
        CTLE DC gain, dB, of the reference CTLE; None keeps the Rx's own CTLE (none unless
        one was given).
    label : str
        Name of the Tx setting in reports (``P3``, ``de-emphasis -2.2 dB``, ``FFE [-0.05,
        0.85, -0.1]``); empty when the candidates have no Tx setting to choose (a spec
        without Tx equalization, such as BoW: its choice is the CTLE's alone).
    ctle_form : {'com', 'ucie-reference', 'bow-reference'}
        The CTLE whose DC gain ``ctle_db`` is (see :class:`~sigint.link.txrx.Ctle`).
    ctle_bypass : bool
        True when ``ctle_db`` None stands for the CTLE bypassed, one of the spec's choices
        (BoW-384/512: bypassed or the reference CTLE), rather than the Rx as given.
    """

    ffe: tuple[float, ...] = (1.0,)
    ffe_main: int = 0
    ctle_db: float | None = None
    label: str = "off"
    ctle_form: str = "com"
    ctle_bypass: bool = False

    @property
    def is_off(self) -> bool:
        """True when the FFE passes the symbols unchanged and no CTLE gain is chosen."""
        side = [t for i, t in enumerate(self.ffe) if i != self.ffe_main]
        no_ctle = self.ctle_db is None or (self.ctle_db == 0.0 and self.ctle_form == "com")
        return self.ffe[self.ffe_main] == 1.0 and not any(side) and no_ctle

    def describe(self) -> str:
        """The setting in words: the Tx setting (when there is one to choose) and the CTLE
        (``P3, reference CTLE -4 dB``; ``CTLE bypassed``)."""
        if self.ctle_db is None:
            ctle = "CTLE bypassed" if self.ctle_bypass else "Rx CTLE as given"
        else:
            ctle = f"{'reference ' if self.ctle_form != 'com' else ''}CTLE {self.ctle_db:+g} dB"
        return f"{self.label}, {ctle}" if self.label else ctle


def ffe_grid(pre: Sequence[float] = FFE_PRE, post: Sequence[float] = FFE_POST) -> list[EqCandidate]:
    """Three-tap FFE candidates (pre, main, post) with |pre| + |main| + |post| = 1."""
    out = []
    for a in pre:
        for b in post:
            taps = (float(a), 1.0 - abs(a) - abs(b), float(b))
            out.append(EqCandidate(ffe=taps, ffe_main=1, ctle_db=None,
                                   label=f"FFE [{a:g}, {taps[1]:g}, {b:g}]"))
    return out


@dataclass
class EqResult:
    """The chosen equalization and how every candidate scored.

    Attributes
    ----------
    chosen : EqCandidate
        The winner.
    metric : str
        What was maximized: ``mask height`` (the tallest spec mask that fits) or
        ``eye height``.
    score : float
        The winner's score, V.
    score_off : float or None
        Score of the candidate without equalization, when it is in the set, V.
    runner_up : EqCandidate or None
        Second best.
    runner_up_score : float or None
        Its score, V.
    scores : list of (str, float, float)
        Every candidate scored in full: (description, score V, eye width UI), in the
        order of the candidate set. The others were ruled out by a bound on their ranking
        below the runner-up's.
    tried : int
        Size of the candidate set.
    winner : (PulseResponses, CursorSet, StatEye) or None
        The winner's pulse responses, cursors and eye, exactly as the final analysis would
        compute them (reused there instead of computed twice).
    """

    chosen: EqCandidate
    metric: str
    score: float
    score_off: float | None
    runner_up: EqCandidate | None
    runner_up_score: float | None
    scores: list[tuple[str, float, float]] = field(default_factory=list)
    tried: int = 0
    winner: tuple | None = field(default=None, repr=False)

    @property
    def ffe(self) -> tuple[float, ...]:
        return self.chosen.ffe

    @property
    def ffe_main(self) -> int:
        return self.chosen.ffe_main

    @property
    def ctle_db(self) -> float | None:
        return self.chosen.ctle_db

    def as_dict(self) -> dict:
        return {
            "chosen": self.chosen.describe(), "tx_ffe": list(self.chosen.ffe),
            "ctle_dc_gain_db": self.chosen.ctle_db, "metric": self.metric,
            "score_v": self.score, "score_without_eq_v": self.score_off,
            "runner_up": None if self.runner_up is None else self.runner_up.describe(),
            "runner_up_score_v": self.runner_up_score, "candidates": self.tried,
            "scored_in_full": len(self.scores),
        }


def _group_size(q: float) -> int:
    """Largest g with :math:`2^{-(g+1)} > q`: g cursors at their worst together are more
    probable than twice the BER level *q*."""
    g = 0
    while 2.0 ** -(g + 2) > q:
        g += 1
    return g


class _FastBound:
    """Upper bounds on every FFE candidate's eye edge from one set of pulses without FFE.

    The candidate's victim pulse is formed exactly (:func:`~sigint.timedomain.pulse.apply_ffe`
    on one response), so its eye phases, main cursor, ISI and DFE taps are those
    :func:`~sigint.timedomain.stateye.extract_cursors` finds. The crosstalk is read only at
    the *g* largest samples of each aggressor's base response in each sampling class (the
    samples one UI apart that one sampling phase reads), with the FFE applied there: any
    *g* of the eye's cursors at their worst together (probability :math:`\\ge 2^{-g}`) bound
    its edge (:func:`~sigint.timedomain.stateye.edge_upper_bound`), and a pool of actual
    cursors gives a sum at most that of the largest *g*. Cursors the extraction drops as
    negligible sum to at most ``tol`` times the peak, added back. The voltage bin, for the
    read-out error, is bounded from above by the FFE's :math:`\\sum|c_m|` times each class's
    :math:`\\sum|g|`.
    """

    def __init__(self, base, timing: list, g: int, tol: float = 1e-4):
        self.base = base
        spui = self.spui = base.samples_per_ui
        n = self.n = base.victim.size
        self.g = g
        self.tol = tol
        self.sync = [a for a, t in enumerate(timing) if t != "worst"]
        self.worst = [a for a, t in enumerate(timing) if t == "worst"]
        self.off = np.array([int(round(float(timing[a]) * spui)) for a in self.sync], dtype=int)
        n_ui = n // spui
        self._shifted: dict[int, np.ndarray] = {}     # FFE tap shift -> samples read there
        if self.sync:
            ga = self.ga = base.aggressors[self.sync]                     # (S, N)
            mag = np.abs(ga).reshape(len(self.sync), n_ui, spui).transpose(0, 2, 1).copy()
            gsel = min(g, n_ui)                                           # mag[a, c, k]
            k = (np.argpartition(mag, n_ui - gsel, axis=2)[:, :, n_ui - gsel:]
                 if gsel < n_ui else np.broadcast_to(np.arange(n_ui), mag.shape))
            # sample index of each chosen cursor, (S, spui, G)
            self.idx = k * spui + np.arange(spui)[None, :, None]
            self.class_sum = mag.sum(axis=2)                              # (S, spui)

    def bound(self, ffe: tuple[float, ...], ffe_main: int, amplitude: float, *, noise: float,
              rj: float, dj: float, nbins: int, dfe_taps: int, dfe_limit: float | None):
        """(phase UI (P,), upper bound on the edge including two voltage bins (P,), V)."""
        from .pulse import apply_ffe
        from .stateye import _subtract_dfe, cursor_matrix

        b, spui, n = self.base, self.spui, self.n
        plain = ffe == (1.0,)
        v = b.victim if plain else apply_ffe(b.victim, ffe, ffe_main, spui)
        pmain = b.main if plain else int(np.argmax(np.abs(v)))
        peak = abs(v[pmain])
        # one cursor matrix over the four UI around the peak holds both the scan for the
        # eye's centre (two UI around the peak, as _eye_centre) and the eye's phases
        lo = pmain - 2 * spui
        big = cursor_matrix(v, lo + np.arange(4 * spui), spui)
        scan = big[spui:3 * spui]
        fom = scan[:, 0] - 3.0 * np.sqrt(np.sum(scan[:, 1:] ** 2, axis=1))
        centre = int(pmain - spui + int(np.argmax(fom)))
        start = centre - spui
        phases = start + np.arange(2 * spui)
        mat = big[start - lo:start - lo + 2 * spui]
        phase_ui = (phases - pmain) / spui
        main = mat[:, 0].copy()
        n_ui = n // spui
        ks = np.arange(n_ui)
        ks = np.where(ks <= n_ui // 2, ks, ks - n_ui)
        isi = mat[:, 1:].copy()
        _subtract_dfe(isi, ks[1:], main, spui, dfe_taps, dfe_limit)
        pool = [np.abs(isi)]
        reach = np.abs(main) + pool[0].sum(axis=1)
        gain = float(np.sum(np.abs(ffe)))
        if self.sync:
            shifts = [(c, (m - ffe_main) * spui) for m, c in enumerate(ffe) if c]
            for _c, d in shifts:
                if d not in self._shifted:
                    rows = np.arange(len(self.sync))[:, None, None]
                    self._shifted[d] = self.ga[rows, (self.idx - d) % n]
            vals = sum(c * self._shifted[d] for c, d in shifts)               # (S, spui, G)
            cl = (phases[None, :] + self.off[:, None]) % spui                 # (S, P)
            sel = np.abs(vals)[np.arange(len(self.sync))[:, None], cl]        # (S, P, G)
            pool.append(np.transpose(sel, (1, 0, 2)).reshape(phases.size, -1))
            reach = reach + gain * self.class_sum[np.arange(len(self.sync))[:, None], cl].sum(0)
        for a in self.worst:
            ga = b.aggressors[a] if plain else apply_ffe(b.aggressors[a], ffe, ffe_main, spui)
            gm = cursor_matrix(ga, np.arange(spui), spui)
            cur = np.abs(gm[int(np.argmax(np.abs(gm).sum(axis=1)))])
            pool.append(np.broadcast_to(cur, (phases.size, cur.size)))
            reach = reach + cur.sum()
        allc = np.concatenate(pool, axis=1)
        gg = min(self.g, allc.shape[1])
        topg = np.partition(allc, allc.shape[1] - gg, axis=1)[:, allc.shape[1] - gg:].sum(axis=1)
        amp = float(amplitude)
        reach = amp * reach
        if dj > 0 or rj > 0:
            imp = b.victim_impulse if plain else apply_ffe(b.victim_impulse, ffe, ffe_main, spui)
            im = cursor_matrix(imp, phases, spui) * (b.rate * spui)
            reach = reach + (amp * dj * np.abs(im).sum(axis=1) if dj > 0 else 0.0)
            rj_var = 2 * amp ** 2 * rj ** 2 * np.sum(im ** 2, axis=1) if rj > 0 else 0.0
        else:
            rj_var = 0.0
        r = float(reach.max() + 16.0 * np.sqrt(noise ** 2 + rj_var).max()) * (1 + 1e-9)
        nb = nbins + nbins % 2
        dv = 2.0 * (r if r > 0 else 1.0) / (nb - 8)
        return phase_ui, amp * (main - topg + self.tol * peak) + 2.0 * dv


def _optimistic_key(score_ub: float, top_ub: np.ndarray, phase: np.ndarray, i: int) -> tuple:
    """The best ranking key (-score, -eye width, index) a candidate can reach, from an upper
    bound *top_ub* (V) on its contour at every phase and *score_ub* on its score.

    Below the bound, the contour is open only inside the bound's open runs, and its zero
    crossings (interpolated linearly between the same phases) lie inside theirs: the eye
    width is at most the widest run's (:func:`~sigint.timedomain.stateye.contour_width`).
    """
    from .stateye import contour_width

    pos = top_ub > 0
    w = 0.0
    j = 0
    while j < pos.size:
        if pos[j]:
            k = j
            while k + 1 < pos.size and pos[k + 1]:
                k += 1
            w = max(w, contour_width(phase, top_ub, j + int(np.argmax(top_ub[j:k + 1])))[0])
            j = k + 1
        else:
            j += 1
    return (-score_ub, -w, i)


def _open_rows(ub: tuple | None, cs) -> np.ndarray | None:
    """Phase indices where the contour can be open (its upper bound *ub* above 0 V) and
    their neighbours; None when the bound's phases are not the eye's.

    Elsewhere the contour is at or below its bound, at or below 0 V: taking the bound there
    changes no positive mask fit (every window that reaches such a phase has a point at or
    below 0 V) and no eye width (the open run around the best phase and the phases that
    bracket its zero crossings are all computed), and the score of a closed eye is 0 either
    way.
    """
    if ub is None or ub[0].shape != cs.phase_ui.shape or not np.array_equal(ub[0],
                                                                              cs.phase_ui):
        return None
    pos = ub[1] > 0
    near = pos.copy()
    near[1:] |= pos[:-1]
    near[:-1] |= pos[1:]
    return np.flatnonzero(near)


def _timing(xt_phase, n_agg: int) -> list:
    if isinstance(xt_phase, str) or not isinstance(xt_phase, Sequence):
        return [xt_phase] * n_agg
    return list(xt_phase)


def optimize_eq(
    f: np.ndarray,
    victim: np.ndarray,
    aggressors: np.ndarray,
    rate: float,
    tx: Tx,
    rx: Rx,
    candidates: Sequence[EqCandidate],
    *,
    amplitude: float,
    ber: float,
    xt_phase: XtTiming | Sequence[XtTiming] = "worst",
    mask: tuple[float, str] | None = None,
    samples_per_ui: int = 32,
    nbins: int = 2048,
    exhaustive: bool = False,
    aggressor_impulses: bool = True,
) -> EqResult:
    """Score every candidate with the statistical eye the verdict uses; keep the best.

    Parameters
    ----------
    f, victim, aggressors : ndarray
        Frequencies (Hz) and VTFs, as for :func:`~sigint.timedomain.pulse.pulse_responses`.
    rate : float
        Symbol rate, 1/s.
    tx, rx : Tx, Rx
        Base models; their own FFE and CTLE are replaced by each candidate's (the Rx DFE,
        noise and the Tx jitter are kept).
    candidates : sequence of EqCandidate
        The set to search (at least one).
    amplitude : float
        Symbol amplitude A, V.
    ber : float
        Target BER.
    xt_phase : timing or sequence of timings
        Aggressor timing, as for :func:`~sigint.timedomain.stateye.extract_cursors`.
    mask : (width UI, 'rectangle' | 'diamond') or (points, 'polygon'), optional
        The spec's eye mask; None scores by eye height.
    samples_per_ui, nbins : int
        Resolution, as in the final analysis.
    exhaustive : bool
        Score every candidate in full (no bound; for tests): the same winner, runner-up
        and scores.
    aggressor_impulses : bool
        Keep the aggressors' impulse responses in the pulses (the winner's are reused by
        the final analysis; only its bit-by-bit simulation needs them).

    Returns
    -------
    EqResult

    Raises
    ------
    ValueError
        For an empty candidate set.
    """
    if not candidates:
        raise ValueError("optimize_eq needs at least one candidate")
    tx0 = tx.model_copy(update={"ffe": (1.0,), "ffe_main": 0})
    # each CTLE gain needs its own pulses; the transfers go onto the uniform grid once
    keys = list(dict.fromkeys((c.ctle_db, c.ctle_form) for c in candidates))
    rxs = [rx if g is None else rx.model_copy(update={"ctle": Ctle(dc_gain_db=g, form=form)})
           for g, form in keys]
    bases = dict(zip(keys, pulse_responses_set(f, victim, aggressors, rate, tx0, rxs,
                                               samples_per_ui=samples_per_ui,
                                               aggressor_impulses=aggressor_impulses)))

    def pulses(c: EqCandidate):
        base = bases[c.ctle_db, c.ctle_form]
        return base if c.ffe == (1.0,) else with_ffe(base, c.ffe, c.ffe_main)

    def cursors(pr):
        return extract_cursors(pr, xt_phase=xt_phase, dfe_taps=rx.dfe_taps,
                               dfe_limit=rx.dfe_limit)

    def score_of(top: np.ndarray, phase: np.ndarray) -> float:
        if mask is None:
            return 2.0 * max(0.0, float(top.max()))
        if mask[1] == "polygon":
            from ..specs.masks import polygon_mask_fit

            return polygon_mask_fit(phase, top, mask[0])[0]
        return contour_mask_fit(phase, top, mask[0], mask[1])[0]

    # An upper bound on every candidate's score, rigorous and cheap: the eye's edge at every
    # phase is at most edge_upper_bound (main cursor minus the largest cursors, by the
    # symmetry of the rest) plus the eye's own read-out error (two of its voltage bins);
    # every score (the mask fit, the eye height) grows with the contour, so the score of
    # that raised contour bounds the candidate's score. Candidates are scored in full in
    # decreasing order of their bound, and the search stops when no bound reaches the
    # second-best score (the runner-up is reported too): the winner, the runner-up and
    # their scores are those of the exhaustive search (``exhaustive=True``). With two
    # candidates or fewer both are scored anyway: no bounds.
    pair = not exhaustive and len(candidates) == 2
    exhaustive = exhaustive or len(candidates) <= 2
    bounds = []
    sets: dict = {}
    ubs: dict = {}                          # candidate -> (phases UI, upper bound on contour)
    g = _group_size(ber)
    fast = None
    if not exhaustive and g >= 12 and all(c.ffe_main < len(c.ffe) for c in candidates):
        fast = {key: _FastBound(base, _timing(xt_phase, base.aggressors.shape[0]), g)
                for key, base in bases.items()}
    for i, c in enumerate(candidates):
        if exhaustive:
            bounds.append(((-np.inf, -np.inf, i), i))
            if pair and i == 1:
                # both are scored; the second only where its bound leaves it open (below)
                cs = sets[i] = cursors(pulses(c))
                ubs[i] = (cs.phase_ui, edge_upper_bound(cs, amplitude, ber) + 2.0 * eye_bin_width(
                    cs, amplitude, noise=rx.noise, rj=tx.rj, dj=tx.dj, nbins=nbins))
            continue
        if fast is not None:
            phase, top_ub = fast[c.ctle_db, c.ctle_form].bound(
                c.ffe, c.ffe_main, amplitude, noise=rx.noise, rj=tx.rj, dj=tx.dj, nbins=nbins,
                dfe_taps=rx.dfe_taps, dfe_limit=rx.dfe_limit)
            bounds.append((_optimistic_key(score_of(top_ub, phase), top_ub, phase, i), i))
            ubs[i] = (phase, top_ub)
            continue
        cs = cursors(pulses(c))
        sets[i] = cs
        slack_c = 2.0 * eye_bin_width(cs, amplitude, noise=rx.noise, rj=tx.rj, dj=tx.dj,
                                      nbins=nbins)
        top_ub = edge_upper_bound(cs, amplitude, ber) + slack_c
        bounds.append((_optimistic_key(score_of(top_ub, cs.phase_ui), top_ub, cs.phase_ui, i),
                       i))
        ubs[i] = (cs.phase_ui, top_ub)
    bounds.sort()
    scored: list[tuple[float, float, int, EqCandidate]] = []
    winner: tuple = ((np.inf,), None)       # (sort key, (pulses, cursors, eye)) of the best
    keys: list[tuple] = []                  # the two best keys so far
    partial_ok = mask is None or mask[1] in ("rectangle", "diamond")
    for opt, i in bounds:
        if len(keys) == 2 and opt > keys[1]:
            break
        c = candidates[i]
        pr = pulses(c)
        cs = sets.pop(i) if i in sets else cursors(pr)
        rows = _open_rows(ubs.get(i), cs) if scored and partial_ok else None
        if rows is not None:
            # after the first candidate (the likeliest winner), the others are scored from
            # their contour where it can be open, and where it closes around that: the same
            # score and eye width as the whole eye (see _open_rows)
            top = ubs[i][1].copy()
            if rows.size:            # else closed everywhere: score 0, width 0 either way
                top[rows] = contour_at_rows(cs, amplitude, rows, ber=ber, noise=rx.noise,
                                            rj=tx.rj, dj=tx.dj, nbins=nbins)
            score = score_of(top, cs.phase_ui)
            width = contour_width(cs.phase_ui, top, int(np.argmax(top)))[0]
            eye = None
        else:
            eye = statistical_eye(cs, amplitude, ber=ber, noise=rx.noise, rj=tx.rj, dj=tx.dj,
                                  nbins=nbins)
            score = score_of(eye.contour(), eye.phase_ui)
            width = eye.eye_width
        scored.append((score, width, i, c))
        key = (-score, -width, i)
        keys = sorted(keys + [key])[:2]
        if key < winner[0]:
            winner = (key, (pr, cs, eye))
    if winner[1] is not None and winner[1][2] is None:       # a partial winner: its whole eye
        pr, cs = winner[1][0], winner[1][1]
        winner = (winner[0], (pr, cs, statistical_eye(cs, amplitude, ber=ber, noise=rx.noise,
                                                      rj=tx.rj, dj=tx.dj, nbins=nbins)))
    # the score without equalization is reported too: score it when it was ruled out
    done = {s[2] for s in scored}
    for i, c in enumerate(candidates):
        if c.is_off and i not in done:
            cs = sets.pop(i) if i in sets else cursors(pulses(c))
            eye = statistical_eye(cs, amplitude, ber=ber, noise=rx.noise, rj=tx.rj, dj=tx.dj,
                                  nbins=nbins)
            scored.append((score_of(eye.contour(), eye.phase_ui), eye.eye_width, i, c))
    order = sorted(scored, key=lambda s: (-s[0], -s[1], s[2]))
    top = order[0]
    off = [s[0] for s in scored if s[3].is_off]
    second = order[1] if len(order) > 1 else None
    return EqResult(
        chosen=top[3], metric="mask height" if mask else "eye height", score=top[0],
        score_off=off[0] if off else None,
        runner_up=second[3] if second else None, runner_up_score=second[0] if second else None,
        scores=[(s[3].describe(), s[0], s[1]) for s in sorted(scored, key=lambda s: s[2])],
        tried=len(candidates), winner=winner[1],
    )
