"""The statistical eye against exhaustive enumeration, analytic tails and its own symmetries."""

import itertools

import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import binom

from sigint.timedomain.stateye import CursorSet, peak_distortion_eye, statistical_eye


def _cs(main, isi, xt=(), p=None):
    main = np.atleast_1d(np.asarray(main, float))
    p = main.size
    isi = np.asarray(isi, float).reshape(p, -1)
    return CursorSet(np.linspace(-0.5, 0.5, p, endpoint=False), main, isi,
                     np.arange(1, isi.shape[1] + 1), np.zeros((p, isi.shape[1] + 1)),
                     np.asarray(xt, float), np.zeros((p, 0)), 0.0)


def _enumerated_edge(values, q):
    v = np.sort(values)
    cdf = np.arange(1, v.size + 1) / v.size
    return v[np.searchsorted(cdf, q, side="right")]


LEVELS = np.array([0.3, 0.1, 0.02, 5e-3, 1e-3, 2e-4])


@pytest.mark.parametrize("seed", range(8))
def test_equals_exhaustive_enumeration_within_one_bin(seed):
    """REFERENCES.md: short memory -> the stat eye equals enumeration of all patterns."""
    rng = np.random.default_rng(seed)
    p = 6
    k = int(rng.integers(2, 10))
    x = int(rng.integers(0, 4))
    main = 0.4 + 0.2 * rng.random(p)
    isi = rng.normal(size=(p, k)) * 0.06
    xt = rng.normal(size=x) * 0.04
    amp = 0.25
    eye = statistical_eye(_cs(main, isi, xt), amp, ber=1e-3, nbins=2048, levels=LEVELS)
    for j in range(p):
        c = amp * np.concatenate([isi[j], xt])
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=c.size)))
        vals = amp * main[j] + signs @ c
        for qi, q in enumerate(LEVELS):
            assert abs(eye.top[qi, j] - _enumerated_edge(vals, q)) <= eye.dv


def test_crosstalk_kernel_path_within_one_bin():
    """More cursors than the exact group: crosstalk goes through its own kernel."""
    rng = np.random.default_rng(11)
    isi = rng.normal(size=(4, 10)) * 0.05
    xt = rng.normal(size=6) * 0.05
    main = np.full(4, 0.5)
    eye = statistical_eye(_cs(main, isi, xt), 1.0, ber=1e-3, nbins=4096, exact=10,
                          levels=LEVELS)
    for j in range(4):
        c = np.concatenate([isi[j], xt])
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=c.size)))
        vals = main[j] + signs @ c
        for qi, q in enumerate(LEVELS):
            assert abs(eye.top[qi, j] - _enumerated_edge(vals, q)) <= 1.0 * eye.dv + 1e-15


@pytest.mark.parametrize("ber", [1e-6, 1e-15, 1e-27])
def test_gaussian_noise_tail_is_exact_at_deep_ber(ber):
    m, sigma = 0.1, 0.004
    eye = statistical_eye(_cs([m], np.zeros((1, 0))), 1.0, ber=ber, noise=sigma, nbins=8192)
    expected = m + sigma * ndtri(ber)
    assert eye.edge(ber) == pytest.approx(expected, abs=1.01 * eye.dv)
    assert eye.eye_height == pytest.approx(2 * expected, abs=2.02 * eye.dv)


@pytest.mark.parametrize("n", [40, 90])
def test_binomial_tail_keeps_relative_precision(n):
    """n equal cursors: the lowest atom has probability 2^-n (9e-13 and 8e-28)."""
    c = 0.01
    eye = statistical_eye(_cs([1.0], np.full((1, n), c)), 1.0, ber=1e-30, nbins=8192)
    cdf = eye.cdf_one[0]
    for j in range(3):   # P(V < lowest + (2j + 1) c) = P(Binom(n, 1/2) <= j)
        v = 1.0 - n * c + (2 * j + 1) * c
        i = np.searchsorted(eye.v, v)
        assert cdf[i - 1] == pytest.approx(binom.cdf(j, n, 0.5), rel=0.02)


def test_probability_is_conserved_and_symmetries_hold():
    rng = np.random.default_rng(5)
    isi = rng.normal(size=(3, 30)) * 0.02
    main = np.array([0.3, 0.35, 0.32])
    a = statistical_eye(_cs(main, isi, [0.01, -0.02]), 0.5, ber=1e-12, noise=1e-3)
    np.testing.assert_allclose(a.pmf_one.sum(axis=1), 1.0, rtol=1e-12)
    perm = rng.permutation(30)
    b = statistical_eye(_cs(main, -isi[:, perm], [-0.02, 0.01]), 0.5, ber=1e-12, noise=1e-3)
    np.testing.assert_allclose(a.top, b.top, atol=1e-15)
    assert a.eye_height == b.eye_height and a.eye_width == b.eye_width


def test_peak_distortion_eye_is_the_worst_enumerated_pattern():
    """The worst case over all 2^5 patterns of 3 ISI and 2 crosstalk cursors, enumerated."""
    main = np.array([0.5, 0.6, 0.05])
    isi = np.array([[0.1, -0.05, 0.01], [0.02, 0.03, -0.2], [0.01, 0.0, 0.02]])
    xt = np.array([0.04, -0.01])
    top, h, w = peak_distortion_eye(_cs(main, isi, xt), 0.5)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=5)))
    worst = [0.5 * (main[j] + signs @ np.concatenate([isi[j], xt])).min() for j in range(3)]
    np.testing.assert_allclose(top, worst, rtol=1e-13)      # [0.145, 0.15, -0.015]
    assert h == pytest.approx(2 * 0.15, rel=1e-13)
    # phases -1/2, -1/6, 1/6: open from half a step before the first phase to the straight-line
    # zero between 0.15 V at -1/6 and -0.015 V at 1/6
    assert w == pytest.approx((-1 / 6 + (1 / 3) * 0.15 / 0.165) - (-1 / 2 - 1 / 6), rel=1e-12)


def test_eye_width_reads_the_bathtub():
    # main cursor falls off linearly away from the centre: the eye closes where m = noise tail
    ph = np.linspace(-0.5, 0.5, 64, endpoint=False)
    main = 1.0 - 2.0 * np.abs(ph)
    cs = CursorSet(ph, main, np.zeros((64, 0)), np.zeros(0, int), np.zeros((64, 1)),
                   np.zeros(0), np.zeros((64, 0)), 0.0)
    sigma = 0.05
    eye = statistical_eye(cs, 1.0, ber=1e-12, noise=sigma, nbins=4096)
    # open while 1 - 2|phi| > 7.034 sigma
    expected = 1.0 - (-ndtri(1e-12)) * sigma
    assert eye.eye_width == pytest.approx(expected, abs=1.5 / 64)


@pytest.mark.parametrize("seed", range(4))
def test_dual_dirac_jitter_equals_weighted_enumeration(seed):
    """DJ (dual-Dirac, +-DJ/2 on each edge): a transition of symbol k (probability 1/2, either
    sign) shifted by +-DJ/2 moves the sample by -+(b_k - b_(k-1)) (DJ/2) A h_k, i.e.
    +-A DJ h_k with probability 1/4 each and 0 with 1/2 (h_k: impulse response at the
    transition, 1/s). Every ISI sign and three-point jitter value enumerated, weighted."""
    rng = np.random.default_rng(seed)
    p, k, amp, dj = 4, 4, 0.3, 2e-12
    main = 0.4 + 0.2 * rng.random(p)
    isi = rng.normal(size=(p, k)) * 0.05
    imp = rng.normal(size=(p, k + 1)) * 1.5e10       # 1/s: A DJ h ~ 1e-2 V
    cs = CursorSet(np.linspace(-0.5, 0.5, p, endpoint=False), main, isi, np.arange(1, k + 1),
                   imp, np.zeros(0), np.zeros((p, 0)), 0.0)
    eye = statistical_eye(cs, amp, ber=1e-3, dj=dj, nbins=4096, levels=LEVELS[:4])
    three = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=k + 1)))
    w3 = np.prod(np.where(three == 0, 0.5, 0.25), axis=1)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))
    worst = []
    for j in range(p):
        vals = (amp * main[j] + (signs @ (amp * isi[j]))[:, None]
                + (three @ (amp * dj * imp[j]))[None, :]).ravel()
        w = np.broadcast_to(w3 / signs.shape[0], (signs.shape[0], w3.size)).ravel()
        order = np.argsort(vals)
        cdf = np.cumsum(w[order])
        for qi, q in enumerate(LEVELS[:4]):
            ref = vals[order][np.searchsorted(cdf, q * (1 + 1e-12), side="right")]
            assert abs(eye.top[qi, j] - ref) <= eye.dv, (j, q)
        worst.append(vals.min())
    # the worst case (peak distortion) is the lowest enumerated value
    np.testing.assert_allclose(peak_distortion_eye(cs, amp, dj=dj)[0], worst, rtol=1e-13)


def test_mask_fit_on_a_tent_contour_closed_form():
    """Contour a - b|x - x0| (exact under linear interpolation: the kink is a phase point):
    the widest point of a rectangle of width W is its corner, H = 2(a - bW/2), centred on x0;
    a diamond of width W touches only at its tip while b W / 2 < a, H = 2a; a mask wider
    than the window, or under a closed contour, does not fit."""
    from sigint.timedomain.stateye import contour_mask_fit

    phase = np.arange(-16, 16) / 32
    x0, a, b, w = 3 / 32, 0.05, 0.3, 0.25
    top = a - b * np.abs(phase - x0)
    h, c = contour_mask_fit(phase, top, w, "rectangle")
    assert h == pytest.approx(2 * (a - b * w / 2), rel=1e-12) and c == pytest.approx(x0, abs=1e-12)
    h, c = contour_mask_fit(phase, top, w, "diamond")
    assert h == pytest.approx(2 * a, rel=1e-12) and c == pytest.approx(x0, abs=1e-12)
    assert contour_mask_fit(phase, top, 1.5)[0] == 0.0
    assert contour_mask_fit(phase, top - a, w)[0] == 0.0
