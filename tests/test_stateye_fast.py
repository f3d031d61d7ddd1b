"""The faster statistical eye and equalization search give what the direct ways give.

Each shortcut against the plain computation it replaces, computed here independently:

* the error-diffused offsets counted by kind (only the terms of half a fine step or more
  sorted) against :func:`diffused_offsets` over every term in decreasing order;
* the fine-grid distribution with its first kind written as a binomial against
  :func:`fine_distribution`'s shift-and-adds;
* the contour of a few phases (``contour_at_rows``) against the whole eye's;
* consecutive-phase cursor matrices against an index table;
* pulses of several receivers from one regridding against one call per receiver;
* lanes evaluated in threads against one after another.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.timedomain.stateye import (
    CursorSet,
    _fine_from_counts,
    _offset_counts,
    contour_at_rows,
    cursor_matrix,
    diffused_offsets,
    fine_distribution,
    statistical_eye,
)


def _magnitudes(seed: int, p: int, r: int) -> np.ndarray:
    """Magnitudes over six decades (most below a fine step, as in a long channel's tail)."""
    rng = np.random.default_rng(seed)
    return 10.0 ** rng.uniform(-6, 0, (p, r)) * (rng.random((p, r)) > 0.1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 6), r=st.integers(0, 300),
       k3=st.integers(0, 5), step=st.sampled_from([0.01, 0.05, 0.3]))
def test_offset_counts_equal_diffused_offsets(seed, p, r, k3, step):
    mag = _magnitudes(seed, p, r)
    three = _magnitudes(seed + 1, p, k3)
    # reference: every term in decreasing order of magnitude, then the three-point terms
    order = np.sort(mag, axis=1)[:, ::-1]
    q = diffused_offsets(np.concatenate([order, three], axis=1), step)
    w = np.concatenate([np.full(order.shape, 0.5), np.full(three.shape, 0.25)], axis=1)
    # under test: the terms in any order
    rng = np.random.default_rng(seed)
    shuffled = np.take_along_axis(mag, rng.permuted(np.tile(np.arange(r), (p, 1)), axis=1),
                                  axis=1)
    kinds, counts = _offset_counts(shuffled, three, step)
    for row in range(p):
        ref = {}
        for qq, ww in zip(q[row], w[row]):
            if qq > 0:
                ref[(int(qq), int(ww == 0.25))] = ref.get((int(qq), int(ww == 0.25)), 0) + 1
        got = {(int(a), int(b)): int(c) for (a, b), c in zip(kinds, counts[row]) if c}
        assert got == ref


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 5), r=st.integers(1, 80),
       dj=st.booleans())
def test_binomial_first_kind_equals_shift_and_add(seed, p, r, dj):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 4, (p, r)) * (rng.random((p, r)) < 0.8)
    w = np.where(rng.random((p, r)) < (0.3 if dj else 0.0), 0.25, 0.5)
    ref, s_ref = fine_distribution(q, w)
    kinds = sorted({(int(a), int(b == 0.25)) for a, b in zip(q[q > 0], w[q > 0])})
    counts = np.array([[int(np.sum((q[i] == a) & ((w[i] == 0.25) == bool(b)))) for a, b in kinds]
                       for i in range(p)], dtype=np.int64).reshape(p, len(kinds))
    got, s_got = _fine_from_counts(np.array(kinds, dtype=np.int64).reshape(-1, 2), counts)
    assert s_got == s_ref
    # relative precision in the tails too (all terms positive)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


def _cursor_set(seed: int, p: int, n_isi: int, n_sync: int, n_fixed: int) -> CursorSet:
    rng = np.random.default_rng(seed)
    main = 0.4 + 0.2 * np.sin(np.linspace(-1.5, 1.5, p))
    isi = 0.02 * rng.standard_normal((p, n_isi)) * 10.0 ** rng.uniform(-4, 0, (p, n_isi))
    sync = 0.01 * rng.standard_normal((p, n_sync)) * 10.0 ** rng.uniform(-4, 0, (p, n_sync))
    fixed = 0.01 * rng.standard_normal(n_fixed)
    return CursorSet(np.linspace(-1, 1, p, endpoint=False), main, isi,
                     np.arange(1, n_isi + 1), 1e9 * rng.standard_normal((p, n_isi + 1)) * 1e-3,
                     fixed, sync, 0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_isi=st.integers(0, 200), n_sync=st.integers(0, 60),
       n_fixed=st.integers(0, 20), nbins=st.sampled_from([512, 2048, 4096]),
       ber=st.sampled_from([1e-4, 1e-15, 1e-27]), jitter=st.booleans())
def test_contour_of_some_phases_equals_the_whole_eyes(seed, n_isi, n_sync, n_fixed, nbins,
                                                      ber, jitter):
    p = 12
    cs = _cursor_set(seed, p, n_isi, n_sync, n_fixed)
    kw = dict(ber=ber, nbins=nbins, noise=0.4e-3 if jitter else 0.0,
              rj=0.2e-12 if jitter else 0.0, dj=1e-12 if jitter else 0.0)
    whole = statistical_eye(cs, 0.3, **kw).contour()
    rows = np.flatnonzero(np.random.default_rng(seed).random(p) < 0.5)
    got = contour_at_rows(cs, 0.3, rows, **kw)
    np.testing.assert_allclose(got, whole[rows], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape,spui,starts", [
    ((4096,), 16, np.arange(32) + 4090), ((3, 4096), 16, np.arange(40) - 7),
    ((2, 3, 512), 8, np.arange(3) + 9), ((512,), 8, np.arange(8)), ((512,), 8, [3, 1, 2])])
def test_cursor_matrix_against_an_index_table(shape, spui, starts):
    x = np.random.default_rng(3).standard_normal(shape)
    n = shape[-1]
    idx = (np.asarray(starts)[:, None] + spui * np.arange(n // spui)[None, :]) % n
    assert np.array_equal(cursor_matrix(x, np.asarray(starts), spui), x[..., idx])


def test_pulses_of_several_receivers_from_one_regridding():
    from sigint.link.txrx import Ctle, Rx, Tx
    from sigint.timedomain.pulse import pulse_responses, pulse_responses_set

    rate = 32e9
    f = np.linspace(0.1e9, 40e9, 300)                       # no DC point, not to fs/2
    h = np.exp(-0.5 * np.sqrt(f / 16e9) * (1 + 1j) - 2j * np.pi * f * 0.2e-9)
    g = np.stack([0.05 * 1j * f / 16e9 * h])
    tx = Tx(r=30.0, c_pad=0.0)
    rxs = [Rx(r=50.0, c_pad=0.0)] + [Rx(r=50.0, c_pad=0.0, ctle=Ctle(dc_gain_db=d))
                                     for d in (-3.0, -6.0)]
    many = pulse_responses_set(f, h, g, rate, tx, rxs, samples_per_ui=16)
    for rx, pr in zip(rxs, many):
        one = pulse_responses(f, h, g, rate, tx, rx, samples_per_ui=16)
        for key in ("victim", "aggressors", "victim_impulse", "aggressor_impulses"):
            assert np.array_equal(getattr(pr, key), getattr(one, key)), key
        assert pr.notes == one.notes and pr.main == one.main
    lean = pulse_responses_set(f, h, g, rate, tx, rxs[:1], samples_per_ui=16,
                               aggressor_impulses=False)[0]
    assert lean.aggressor_impulses.shape == (0, lean.t.size)
    assert np.array_equal(lean.aggressors, many[0].aggressors)


def test_lanes_in_threads_equal_lanes_one_after_another():
    from test_lanes import bus

    from sigint.analysis.analyze import AnalysisOptions, prepare
    from sigint.analysis.lanes import evaluate_lanes

    link = prepare(bus(4))
    opts = AnalysisOptions(rate=24e9, bits=0)
    one = evaluate_lanes(link, opts, threads=1)
    two = evaluate_lanes(link, opts, threads=3)
    assert one.worst == two.worst
    for a, b in zip(one.lanes, two.lanes):
        assert a.victim == b.victim and np.array_equal(a.eye.top, b.eye.top)
        assert [(c.name, c.margin) for c in a.checks] == [(c.name, c.margin) for c in b.checks]


def test_line_s_parameters_in_frequency_blocks_equal_one_block():
    from sigint.channel.lines import mtl_s

    f = np.linspace(0, 50e9, 801)
    n = 3
    c = 130e-12 * np.eye(n) - 10e-12 * (np.eye(n, k=1) + np.eye(n, k=-1))
    el = 1.25663706212e-6 * 8.8541878128e-12 * 3.5 * np.linalg.inv(c)
    r = (50.0 * np.sqrt(1 + f / 1e8))[:, None, None] * np.eye(n)
    g = (2 * np.pi * f * 0.01)[:, None, None] * c
    one = mtl_s(f, r, el, g, c, 2e-3, 50.0, threads=1)
    assert np.array_equal(mtl_s(f, r, el, g, c, 2e-3, 50.0, threads=3), one)


@pytest.mark.parametrize("loss,k", [(0.6, 0.05), (1.6, 0.12), (3.5, 0.2)])
def test_two_candidates_scored_as_the_exhaustive_search_scores_them(loss, k):
    """UCIe 24/32 GT/s (de-emphasis 0 or -2.2 dB): the second candidate is scored from its
    contour where its bound leaves it open; the same scores, widths, winner and eye as
    scoring both in full, open or closing."""
    from sigint.analysis.analyze import AnalysisOptions, eq_candidates
    from sigint.link.txrx import Rx, Tx
    from sigint.specs import ucie
    from sigint.timedomain.eq import optimize_eq

    rate = 32e9
    f = np.linspace(0, 2 * rate, 513)
    h = np.exp(-loss * np.sqrt(f / (rate / 2)) * (1 + 1j) - 2j * np.pi * f * 0.3e-9)
    g = np.stack([k * (1j * f / (rate / 2)) / (1 + 1j * f / rate) * h])
    row = ucie.ucie_row("advanced", rate)
    cands = eq_candidates(AnalysisOptions(rate=rate), row)
    assert len(cands) == 2
    kw = dict(amplitude=0.2, ber=1e-15, xt_phase=[0.0], mask=(row.eye_width, row.mask_shape),
              samples_per_ui=16, nbins=1024)
    tx, rx = Tx(r=30.0, c_pad=0.0), Rx(r=1e6, c_pad=0.0)
    fast = optimize_eq(f, h, g, rate, tx, rx, cands, **kw)
    full = optimize_eq(f, h, g, rate, tx, rx, cands, exhaustive=True, **kw)
    assert fast.scores == full.scores and fast.chosen == full.chosen
    assert fast.runner_up_score == full.runner_up_score
    assert np.array_equal(fast.winner[2].top, full.winner[2].top)
