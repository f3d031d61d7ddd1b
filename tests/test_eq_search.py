"""The equalization search maximizes exactly what the verdict checks (issue: EQ by metric).

For random short channels, every candidate of the set is scored by brute force (the
statistical eye's mask fit at the target BER, no pruning) and, independently, by
exhaustive enumeration of the bit patterns; the search's winner must be the best.
"""

import itertools

import numpy as np
import pytest

from sigint.link.txrx import Ctle, Rx, Tx
from sigint.timedomain.eq import EqCandidate, de_emphasis_taps, ffe_grid, optimize_eq
from sigint.timedomain.pulse import pulse_responses, with_ffe
from sigint.timedomain.stateye import contour_mask_fit, extract_cursors, statistical_eye

RATE = 16e9


def _channel(rng):
    """A lossy line (skin effect, random loss and delay) and one weak FEXT aggressor."""
    f = np.linspace(0, 64e9, 1025)
    loss = rng.uniform(0.6, 1.6)
    tau = rng.uniform(0.2e-9, 0.6e-9)
    h = np.exp(-loss * np.sqrt(f / 8e9) * (1 + 1j) - 2j * np.pi * f * tau)
    g = 0.03 * (1j * f / 8e9) / (1 + 1j * f / 20e9) * np.exp(-2j * np.pi * f * tau)
    return f, h, g[None, :]


CANDS = ffe_grid((0.0, -0.05), (0.0, -0.1, -0.2)) + [
    EqCandidate(de_emphasis_taps(-2.2), 0, -3.0, "de-emphasis -2.2 dB")]


@pytest.mark.parametrize("seed", range(4))
def test_winner_is_the_brute_force_maximum(seed):
    rng = np.random.default_rng(seed)
    f, h, g = _channel(rng)
    tx, rx = Tx(r=50.0, c_pad=0.0), Rx(r=50.0, c_pad=0.0)
    res = optimize_eq(f, h, g, RATE, tx, rx, CANDS, amplitude=0.2, ber=1e-15, xt_phase=[0.0],
                      mask=(0.75, "rectangle"))
    scores = []
    for c in CANDS:
        rxc = rx if c.ctle_db is None else rx.model_copy(update={"ctle": Ctle(dc_gain_db=c.ctle_db)})
        txc = tx.model_copy(update={"ffe": c.ffe, "ffe_main": c.ffe_main})
        pr = pulse_responses(f, h, g, RATE, txc, rxc)
        eye = statistical_eye(extract_cursors(pr, xt_phase=[0.0]), 0.2, ber=1e-15)
        scores.append(eye.mask_fit(0.75)[0])
    best = int(np.argmax(scores))
    assert res.score == pytest.approx(scores[best], abs=1e-9)
    assert scores[CANDS.index(res.chosen)] == pytest.approx(max(scores), abs=1e-9)
    assert res.runner_up_score == pytest.approx(sorted(scores)[-2], abs=1e-9)


def test_winner_by_enumeration_on_a_short_channel():
    """Few cursors: each candidate's mask height from enumerating every pattern."""
    rng = np.random.default_rng(7)
    f, h, g = _channel(rng)
    tx, rx = Tx(r=50.0, c_pad=0.0), Rx(r=50.0, c_pad=0.0)
    cands = ffe_grid((0.0,), (0.0, -0.1, -0.2, -0.3))
    res = optimize_eq(f, h, g[:0], RATE, tx, rx, cands, amplitude=0.2, ber=1e-12,
                      mask=(0.75, "rectangle"))
    base = pulse_responses(f, h, g[:0], RATE, tx, rx)
    spui = base.samples_per_ui
    ref = []
    for c in cands:
        pr = with_ffe(base, c.ffe, c.ffe_main)
        v, n = pr.victim, pr.victim.size
        phases = pr.main + np.arange(-spui, spui)
        top = []
        for s in phases:
            cur = np.array([v[(s + k * spui) % n] for k in range(-n // spui // 2 + 1, n // spui // 2)
                            if k != 0])
            cur = cur[np.argsort(-np.abs(cur))][:14]         # the rest sums below 1e-5 V/V
            atoms = v[s % n] + np.array(list(itertools.product((-1, 1), repeat=cur.size))) @ cur
            top.append(0.2 * atoms.min())                       # 2^-14 >> 1e-12: worst case
        ph = (phases - pr.main) / spui
        ref.append(contour_mask_fit(ph, np.array(top), 0.75)[0])
    dv = 2 * 0.2 * 1.5 / 2040
    assert max(ref) - ref[cands.index(res.chosen)] <= 2 * dv



def _worst_case_mask_heights(base, cands, dfe_taps):
    """Mask height (0.75 UI, rectangle) of each candidate's worst-case eye, the sum of every
    |cursor| taken by hand; an ideal DFE subtracts tap_1 b(k-1), tap_1 the post-cursor at the
    receiver's instant (the middle of the two-UI phase window), so h_1(phase) - tap_1
    remains. With <= 8 cursors above 1e-6 V/V, the worst pattern (probability >= 2^-8) is
    the 1e-12 edge."""
    spui = base.samples_per_ui
    out = []
    for c in cands:
        pr = with_ffe(base, c.ffe, c.ffe_main)
        v, n = pr.victim, pr.victim.size
        phases = extract_cursors(pr).start + np.arange(2 * spui)
        tap = v[(phases[spui] + spui) % n] if dfe_taps else 0.0
        top = []
        for s in phases:
            cur = np.array([v[(s + k * spui) % n] - (tap if k == 1 else 0.0)
                            for k in range(-n // spui // 2 + 1, n // spui // 2) if k != 0])
            assert np.sum(np.abs(cur) > 1e-6) <= 8
            top.append(0.2 * (v[s % n] - np.abs(cur).sum()))
        out.append(contour_mask_fit((phases - pr.main) / spui, np.array(top), 0.75)[0])
    return out


def test_search_with_a_dfe_picks_the_worst_case_best():
    """A short-memory channel with a strong echo one UI late (the DFE's post-cursor): with the
    Rx DFE in the search the winner moves to less Tx de-emphasis, and the winner and its score
    are those of the worst-case eye computed by hand (reached: equal to 1e-5 V)."""
    f = np.linspace(0, 64e9, 1025)
    h = (np.exp(-(f / (0.4 * RATE)) ** 2 - 2j * np.pi * f * 0.3e-9)
         * (1 + 0.35 * np.exp(-2j * np.pi * f / RATE)))
    tx = Tx(r=50.0, c_pad=0.0)
    cands = ffe_grid((0.0, -0.05), (0.0, -0.1, -0.2))
    chosen = {}
    for dfe in (0, 1):
        rx = Rx(r=50.0, c_pad=0.0, dfe_taps=dfe)
        res = optimize_eq(f, h, np.zeros((0, f.size)), RATE, tx, rx, cands, amplitude=0.2,
                          ber=1e-12, mask=(0.75, "rectangle"))
        ref = _worst_case_mask_heights(pulse_responses(f, h, np.zeros((0, f.size)), RATE, tx, rx),
                                       cands, dfe)
        dv = 2 * 0.2 * 1.5 / 2040
        assert cands.index(res.chosen) == int(np.argmax(ref))
        assert res.score == pytest.approx(max(ref), abs=2 * dv)
        chosen[dfe] = res.chosen.ffe
    assert chosen == {0: (-0.05, 0.75, -0.2), 1: (-0.05, 0.95, 0.0)}
