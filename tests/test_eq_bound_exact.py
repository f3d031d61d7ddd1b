"""The pruned equalization search returns exactly what scoring every candidate returns.

The search scores in full only the candidates whose rigorous upper bound reaches the
second-best score; here it is compared with ``exhaustive=True`` (every candidate's
statistical eye) on the UCIe 48 and 64 GT/s candidate sets (presets P0-P5 x reference CTLE
-6..0 dB, diamond mask, 1-tap DFE at 64) over a lossy line, a coupled pair with crosstalk
(synchronous and asynchronous) and a strong-echo channel with a DFE; and every candidate's
bound is checked against its own exact score.
"""

import numpy as np
import pytest

from sigint.analysis.analyze import AnalysisOptions, eq_candidates
from sigint.link.txrx import Ctle, Rx, Tx
from sigint.specs import ucie
from sigint.timedomain.eq import _FastBound, _group_size, _timing, optimize_eq
from sigint.timedomain.pulse import pulse_responses
from sigint.timedomain.stateye import contour_mask_fit


def _line(rate, loss, tau=0.3e-9):
    f = np.linspace(0, 2 * rate, 513)
    return f, np.exp(-loss * np.sqrt(f / (rate / 2)) * (1 + 1j) - 2j * np.pi * f * tau)


def _pair(rate, loss, k):
    f, h = _line(rate, loss)
    g = k * (1j * f / (rate / 2)) / (1 + 1j * f / rate) * h
    return f, h, np.stack([g, 0.5 * g])


def _echo(rate):
    f = np.linspace(0, 2 * rate, 513)
    h = (np.exp(-(f / (0.4 * rate)) ** 2 - 2j * np.pi * f * 0.3e-9)
         * (1 + 0.3 * np.exp(-2j * np.pi * f / rate)))
    return f, h


def _setup(rate):
    row = ucie.ucie_row("advanced", rate)
    cands = eq_candidates(AnalysisOptions(rate=rate, package="advanced"), row)
    assert len(cands) == 42
    return cands, (row.eye_width, row.mask_shape)


CASES = {
    "lossy line 48": (48e9, lambda r: (*_line(r, 0.8), np.zeros((0, 513))), ["worst"], 0),
    "pair sync 48": (48e9, lambda r: _pair(r, 0.6, 0.05), [0.0, 0.0], 0),
    "pair mixed 64": (64e9, lambda r: _pair(r, 0.5, 0.04), [0.0, "worst"], 1),
    "echo DFE 64": (64e9, lambda r: (*_echo(r), np.zeros((0, 513))), ["worst"], 1),
    # no mask fits any candidate: the ranking falls to the eye width, then to the index
    "closing pair 64": (64e9, lambda r: _pair(r, 2.2, 0.15), [0.0, 0.0], 1),
    "closed line 64": (64e9, lambda r: (*_line(r, 5.0), np.zeros((0, 513))), ["worst"], 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pruned_search_equals_exhaustive(name):
    rate, make, timing, dfe = CASES[name]
    f, h, g = make(rate)
    cands, mask = _setup(rate)
    tx = Tx(r=30.0, c_pad=0.0, rj=0.3e-12 if dfe else 0.0)
    rx = Rx(r=1e6, c_pad=0.0, dfe_taps=dfe, dfe_limit=0.35 if dfe else None,
            noise=0.5e-3 if name.startswith("pair") else 0.0)
    kw = dict(amplitude=0.2, ber=1e-15, xt_phase=timing[:g.shape[0]] or "worst", mask=mask,
              samples_per_ui=16, nbins=1024)
    fast = optimize_eq(f, h, g, rate, tx, rx, cands, **kw)
    full = optimize_eq(f, h, g, rate, tx, rx, cands, exhaustive=True, **kw)
    assert len(full.scores) == 42
    assert fast.chosen == full.chosen
    assert fast.score == full.score
    assert fast.runner_up == full.runner_up
    assert fast.runner_up_score == full.runner_up_score
    assert fast.score_off == full.score_off
    assert fast.scores == [s for s in full.scores if s[0] in {d for d, _s, _w in fast.scores}]
    # what the final analysis reuses: the winner's eye, bit for bit
    assert np.array_equal(fast.winner[2].top, full.winner[2].top)
    # every candidate's bound lies above its exact score (the search's premise)
    exact = {d: s for d, s, _w in full.scores}
    tx0 = tx.model_copy(update={"ffe": (1.0,), "ffe_main": 0})
    for c in cands:
        rxc = rx.model_copy(update={"ctle": Ctle(dc_gain_db=c.ctle_db, form=c.ctle_form)})
        base = pulse_responses(f, h, g, rate, tx0, rxc, samples_per_ui=16)
        fb = _FastBound(base, _timing(kw["xt_phase"], g.shape[0]), _group_size(1e-15))
        ph, top = fb.bound(c.ffe, c.ffe_main, 0.2, noise=rx.noise, rj=tx.rj, dj=tx.dj,
                           nbins=1024, dfe_taps=dfe, dfe_limit=rx.dfe_limit)
        assert contour_mask_fit(ph, top, *mask)[0] >= exact[c.describe()]


def test_auto_grid_with_the_off_candidate():
    """eq='auto' (3-tap FFE grid x CTLE gains, the plain Rx among them): the same winner,
    runner-up and score without equalization as scoring every candidate."""
    from sigint.timedomain.eq import CTLE_GAINS, EqCandidate, ffe_grid

    rate = 16e9
    f, h, g = _pair(rate, 1.2, 0.05)
    grid = ffe_grid((0.0, -0.1), (0.0, -0.1, -0.2, -0.3))
    cands = [EqCandidate(c.ffe, c.ffe_main, gdb, c.label) for gdb in (None,) + CTLE_GAINS[:5]
             for c in grid]
    tx, rx = Tx(r=30.0, c_pad=0.0), Rx(r=1e6, c_pad=0.0)
    kw = dict(amplitude=0.2, ber=1e-12, xt_phase=[0.0, "worst"], mask=(0.75, "rectangle"),
              samples_per_ui=16, nbins=1024)
    fast = optimize_eq(f, h, g, rate, tx, rx, cands, **kw)
    full = optimize_eq(f, h, g, rate, tx, rx, cands, exhaustive=True, **kw)
    assert len(fast.scores) < len(full.scores) == len(cands)
    assert (fast.chosen, fast.score, fast.runner_up, fast.runner_up_score) == (
        full.chosen, full.score, full.runner_up, full.runner_up_score)
    assert fast.score_off is not None and fast.score_off == full.score_off


def test_high_ber_bound_from_the_enumerated_group():
    """At BER 1e-3 no group of 12 cursors at their worst is probable enough: the bound comes
    from the (2q)-quantile of the 12 largest enumerated (every candidate's cursors); the
    same result as scoring every candidate."""
    rate = 48e9
    f, h, g = _pair(rate, 0.6, 0.05)
    cands, mask = _setup(rate)
    tx, rx = Tx(r=30.0, c_pad=0.0), Rx(r=1e6, c_pad=0.0, noise=0.5e-3)
    kw = dict(amplitude=0.2, ber=1e-3, xt_phase=[0.0, 0.0], mask=mask, samples_per_ui=16,
              nbins=1024)
    fast = optimize_eq(f, h, g, rate, tx, rx, cands, **kw)
    full = optimize_eq(f, h, g, rate, tx, rx, cands, exhaustive=True, **kw)
    assert len(fast.scores) < 42
    assert (fast.chosen, fast.score, fast.runner_up, fast.runner_up_score) == (
        full.chosen, full.score, full.runner_up, full.runner_up_score)


@pytest.mark.parametrize("q", [1e-2, 1e-3, 2.0 ** -15, 1e-6])
def test_edge_bound_above_the_enumerated_quantile(q):
    """edge_upper_bound against every pattern of 16 random cursors (2^16 atoms, each phase):
    the q-quantile of the full sum never lies above it, in both regimes (12 enumerated at
    large q, the all-worst group at small q)."""
    import itertools

    from sigint.timedomain.stateye import CursorSet, edge_upper_bound

    rng = np.random.default_rng(11)
    p = 3
    main = rng.uniform(0.5, 1.0, p)
    isi = rng.normal(0, 0.05, (p, 10)) * rng.uniform(0.1, 1.0, 10)
    xt = rng.normal(0, 0.03, (p, 6))
    cs = CursorSet(phase_ui=np.arange(p) / 4.0, main=main, isi=isi, isi_k=np.arange(1, 11),
                   impulse=np.zeros((p, 11)), xt_fixed=np.zeros(0), xt_phase=xt, dropped=0.0)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=16)))
    atoms = main[:, None] + np.concatenate([isi, xt], axis=1) @ signs.T       # (p, 2^16)
    srt = np.sort(atoms, axis=1)
    # the q-quantile: the smallest atom x with P(V <= x) > q (as the eye reads its CDF)
    exact = srt[:, int(np.floor(q * atoms.shape[1]))]
    assert np.all(exact <= edge_upper_bound(cs, 1.0, q) + 1e-12)


def test_group_size():
    """2^-(g+1) > q >= 2^-(g+2): at 1e-12, 38 cursors; at 1e-15, 48; at 2^-10, 8."""
    assert _group_size(1e-12) == 38
    assert _group_size(1e-15) == 48
    assert _group_size(2.0 ** -10) == 8
