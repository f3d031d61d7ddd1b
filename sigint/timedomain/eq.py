"""Choosing Tx FFE, Rx CTLE and DFE settings by the quantity the spec checks.

Every candidate of the set (Tx FFE taps or presets x CTLE DC gains; the DFE, when the Rx
has one, acts in every candidate) is judged by exactly what the verdict judges: the
statistical eye at the target BER, with the same crosstalk timing, noise, jitter and
resolution as the final analysis, and the tallest spec mask that fits in it (rectangle or
diamond); without a mask, the eye height. Ties go to the wider eye, then to the earlier
(simpler) candidate. The FFE is linear in its taps and acts on the symbol stream, so its
effect on one set of CTLE pulse responses is a shift-and-add (:func:`with_ffe`); each CTLE
gain needs its own pulse responses.

The winner and the runner-up are reported, with every candidate's score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..link.models import Ctle, Rx, Tx
from .pulse import pulse_responses, with_ffe
from .stateye import XtTiming, contour_mask_fit, exact_group_quantile, extract_cursors, statistical_eye

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
        Name in reports (``P3``, ``de-emphasis -2.2 dB``, ``FFE [-0.05, 0.85, -0.1]``).
    ctle_form : {'com', 'ucie-reference'}
        The CTLE whose DC gain ``ctle_db`` is (see :class:`~sigint.link.models.Ctle`).
    """

    ffe: tuple[float, ...] = (1.0,)
    ffe_main: int = 0
    ctle_db: float | None = None
    label: str = "off"
    ctle_form: str = "com"

    @property
    def is_off(self) -> bool:
        """True when the FFE passes the symbols unchanged and no CTLE gain is chosen."""
        side = [t for i, t in enumerate(self.ffe) if i != self.ffe_main]
        no_ctle = self.ctle_db is None or (self.ctle_db == 0.0 and self.ctle_form == "com")
        return self.ffe[self.ffe_main] == 1.0 and not any(side) and no_ctle

    def describe(self) -> str:
        ctle = ("Rx CTLE as given" if self.ctle_db is None else
                f"{'reference ' if self.ctle_form != 'com' else ''}CTLE {self.ctle_db:+g} dB")
        return f"{self.label}, {ctle}"


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
        Every candidate scored in full: (description, score V, eye width UI). The others
        were ruled out by an upper bound on their score below the winner's.
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
    bases = {}
    for g, form in dict.fromkeys((c.ctle_db, c.ctle_form) for c in candidates):
        rxg = rx if g is None else rx.model_copy(update={"ctle": Ctle(dc_gain_db=g, form=form)})
        bases[g, form] = pulse_responses(f, victim, aggressors, rate, tx0, rxg,
                                         samples_per_ui=samples_per_ui)

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

    # An upper bound on every candidate's score, rigorous and cheap: with A the main cursor
    # plus the largest cursors enumerated exactly and R the symmetric rest (other cursors,
    # jitter, noise), P(A + R <= x) >= P(A <= x) P(R <= 0) >= P(A <= x) / 2, so the
    # BER-q edge is at most A's (2q)-quantile. Candidates are then scored in decreasing
    # order of their bound, and the search stops when no bound can beat the second-best
    # score by more than the eye's own resolution (two voltage bins): the winner and the
    # runner-up are those of the exhaustive search.
    bounds = []
    for i, c in enumerate(candidates):
        cs = cursors(pulses(c))
        bounds.append((score_of(amplitude * exact_group_quantile(cs, 2 * ber), cs.phase_ui), i))
    bounds.sort(key=lambda b: (-b[0], b[1]))
    scored: list[tuple[float, float, int, EqCandidate]] = []
    slack = 0.0
    winner: tuple = ((np.inf,), None)       # (sort key, (pulses, cursors, eye)) of the best
    for bound, i in bounds:
        # the runner-up is reported too, so stop only below the second-best score
        second = sorted((s[0] for s in scored), reverse=True)[1] if len(scored) > 1 else -np.inf
        if bound + slack < second:
            break
        c = candidates[i]
        pr = pulses(c)
        cs = cursors(pr)
        eye = statistical_eye(cs, amplitude, ber=ber, noise=rx.noise, rj=tx.rj, dj=tx.dj,
                              nbins=nbins)
        score = score_of(eye.contour(), eye.phase_ui)
        slack = max(slack, 2.0 * eye.dv)
        scored.append((score, eye.eye_width, i, c))
        key = (-score, -eye.eye_width, i)
        if key < winner[0]:
            winner = (key, (pr, cs, eye))
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
