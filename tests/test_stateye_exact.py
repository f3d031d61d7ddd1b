"""The statistical eye against independent references in the deep tails.

References computed here, not by sigint: the worst-case (peak-distortion) sum, exhaustive
enumeration of every victim and aggressor pattern, the Gaussian mixture over the lowest
patterns found by branch and bound, and closed-form pulses solved by root finding. See
REFERENCES.md, "Analysis references" (docs/validation.md).
"""

import itertools

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import log_ndtr

from sigint.timedomain.pulse import PulseResponses
from sigint.timedomain.stateye import CursorSet, extract_cursors, statistical_eye


def _cs(main, isi, xt_fixed=(), xt_phase=None, phase=None):
    main = np.atleast_1d(np.asarray(main, float))
    p = main.size
    isi = np.asarray(isi, float).reshape(p, -1)
    xp = np.zeros((p, 0)) if xt_phase is None else np.asarray(xt_phase, float).reshape(p, -1)
    ph = np.linspace(-0.5, 0.5, p, endpoint=False) if phase is None else np.asarray(phase)
    return CursorSet(ph, main, isi, np.arange(1, isi.shape[1] + 1),
                     np.zeros((p, isi.shape[1] + 1)), np.asarray(xt_fixed, float), xp, 0.0)


def _random_channel(rng, p, n_isi, n_fixed=0, n_sync=0, scale=0.012):
    """Cursors from 0.2 to 6 voltage bins at nbins = 2048: where bin-splitting fails."""
    main = 0.5 + 0.05 * rng.random(p)
    isi = scale * rng.standard_normal((p, n_isi)) * rng.random((p, n_isi))
    fixed = scale * rng.standard_normal(n_fixed)
    sync = scale * rng.standard_normal((p, n_sync))
    return main, isi, fixed, sync


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("xt", ["none", "async", "sync"])
def test_deep_ber_equals_worst_case_eye(seed, xt):
    """40 cursors, BER 1e-27 << 2^-40: every pattern is more probable than the BER, so the
    eye edge is the worst-case sum main - sum|c| (REFERENCES.md), to one voltage bin."""
    rng = np.random.default_rng(seed)
    p = 8
    n_fixed = 12 if xt == "async" else 0
    n_sync = 12 if xt == "sync" else 0
    main, isi, fixed, sync = _random_channel(rng, p, 40 - n_fixed - n_sync, n_fixed, n_sync)
    eye = statistical_eye(_cs(main, isi, fixed, sync), 1.0, ber=1e-27)
    worst = main - np.abs(isi).sum(1) - np.abs(fixed).sum() - np.abs(sync).sum(1)
    np.testing.assert_array_less(np.abs(eye.contour() - worst), eye.dv)
    assert eye.eye_height == pytest.approx(2 * worst.max(), abs=2 * eye.dv)


def _lowest_atoms(x_min, mags, reach):
    """Every pattern value within *reach* of the lowest one: x_min + 2 sum of a flip set."""
    mags = np.sort(np.asarray(mags))
    out = []

    def walk(k, x):
        out.append(x)
        for j in range(k, mags.size):
            y = x + 2 * mags[j]
            if y - x_min > reach:
                break
            walk(j + 1, y)

    walk(0, x_min)
    return np.array(out)


def _mixture_quantile(main, cursors, sigma, q):
    """q-quantile of main + sum(+-c) + N(0, sigma): sum over the low patterns of
    2^-n Phi((v - x)/sigma), solved for v (log-space, so 1e-27 keeps its precision)."""
    c = np.abs(cursors)
    x_min = main - c.sum()
    atoms = _lowest_atoms(x_min, c, 12 * sigma)
    logp = -c.size * np.log(2.0)

    def f(v):
        return np.logaddexp.reduce(logp + log_ndtr((v - atoms) / sigma)) - np.log(q)

    return brentq(f, x_min - 40 * sigma, x_min + 30 * sigma, xtol=1e-12)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("ber", [1e-15, 1e-27, 1e-40])
def test_deep_tail_with_fine_gaussian_noise(seed, ber):
    """30 cursors of 2-8 voltage bins and Gaussian noise of 1.5 bins: the contour at
    1e-15...1e-40 against the exact Gaussian mixture over the low-lying patterns (those
    more than 12 sigma above the lowest add less than Phi(-12) = 2e-33 of the BER)."""
    rng = np.random.default_rng(100 + seed)
    p = 3
    main = 0.5 + 0.05 * rng.random(p)
    dv = 2 * (main.max() + 30 * 0.0042) / 2040       # the eye's bin, to choose sizes in bins
    isi = dv * rng.uniform(2, 8, (p, 30)) * rng.choice([-1.0, 1.0], (p, 30))
    sigma = 1.5 * dv
    eye = statistical_eye(_cs(main, isi), 1.0, ber=ber, noise=sigma)
    for j in range(p):
        ref = _mixture_quantile(main[j], isi[j], sigma, ber)
        assert abs(eye.contour()[j] - ref) <= eye.dv, (j, eye.contour()[j] - ref, eye.dv)


def _rc_pulse(t, tau):
    """One-UI (T = 1) rectangle through an RC low-pass, closed form."""
    t = np.asarray(t, float)
    on = np.clip(t, 0, 1)
    return np.where(t <= 0, 0.0, (1 - np.exp(-on / tau)) * np.exp(-np.maximum(t - 1, 0) / tau))


@pytest.mark.parametrize("tau", [0.25, 0.4, 0.6])
def test_eye_width_is_the_exact_contour_crossing(tau):
    """RC low-pass, 7 cursors, 32 phases per UI: the BER 1e-12 contour is the worst case
    p(t) - sum_k |p(t + k T)|; its zero crossings by root finding on the closed form."""
    spui = 32
    centre = 1.0     # the pulse peaks at the end of the rectangle
    ph = np.arange(-spui, spui) / spui
    t = centre + ph
    ks = np.arange(-1, 7)
    ks = ks[ks != 0]
    main = _rc_pulse(t, tau)
    isi = np.stack([_rc_pulse(t + k, tau) for k in ks], axis=1)
    eye = statistical_eye(_cs(main, isi, phase=ph), 1.0, ber=1e-12)

    def contour(x):
        return _rc_pulse(centre + x, tau) - sum(abs(_rc_pulse(centre + x + k, tau)) for k in ks)

    left = brentq(contour, -0.999, 0.0, xtol=1e-12)
    right = brentq(contour, 0.0, 0.999, xtol=1e-12)
    assert eye.eye_width == pytest.approx(right - left, abs=0.002)
    assert eye.eye_left_ui == pytest.approx(left, abs=0.002)


def _short_pulses(rng, spui, n_ui, n_agg):
    """Victim and aggressor pulse responses with four UI of memory (smooth bumps)."""
    n = spui * n_ui
    t = np.arange(n) / spui
    v = np.exp(-0.5 * ((t - 10.0) / 0.45) ** 2) * (1 + 0.3 * rng.standard_normal())
    v += 0.15 * np.exp(-0.5 * ((t - 11.2) / 0.6) ** 2) - 0.08 * np.exp(-0.5 * ((t - 8.9) / 0.5) ** 2)
    aggs = []
    for _ in range(n_agg):
        c = 10.0 + rng.uniform(-0.5, 0.5)
        aggs.append(0.12 * rng.uniform(0.5, 1) * (t - c) * np.exp(-0.5 * ((t - c) / 0.5) ** 2))
    return v, np.array(aggs)


@pytest.mark.parametrize("seed", range(3))
def test_synchronous_crosstalk_equals_enumeration(seed):
    """Synchronous aggressors at a fixed relative phase: every victim and aggressor bit
    pattern enumerated, sampled from the pulse arrays at the same instant."""
    rng = np.random.default_rng(seed)
    spui, n_ui = 16, 24
    v, g = _short_pulses(rng, spui, n_ui, 2)
    v[np.abs(v) < 1e-4] = 0.0          # four UI of memory, exactly
    g[np.abs(g) < 1e-4] = 0.0
    n = v.size
    pr = PulseResponses(rate=1e9, samples_per_ui=spui, t=np.arange(n) / (1e9 * spui), victim=v,
                        aggressors=g, victim_impulse=np.gradient(v), aggressor_impulses=g,
                        main=int(np.argmax(v)), dc_gain=1.0, window=n / 1e9, causality=0.0)
    offset = 0.25
    cs = extract_cursors(pr, xt_phase=[offset, 0.0], tol=1e-9)
    levels = np.array([0.2, 0.05, 1e-2, 1e-3])
    eye = statistical_eye(cs, 1.0, ber=1e-3, levels=levels, nbins=4096)
    off = [int(round(offset * spui)), 0]
    for j in range(0, cs.phase_ui.size, 3):
        s = pr.main + int(round(cs.phase_ui[j] * spui))
        vic = np.array([v[(s + k * spui) % n] for k in range(-n_ui // 2 + 1, n_ui // 2)])
        h0 = v[s % n]
        others = [c for c, k in zip(vic, range(-n_ui // 2 + 1, n_ui // 2)) if k != 0 and abs(c) > 1e-7]
        xt = [g[a][(s + off[a] + k * spui) % n] for a in range(2) for k in range(-n_ui // 2 + 1, n_ui // 2)]
        xt = [c for c in xt if abs(c) > 1e-7]
        cur = np.array(others + xt)
        assert cur.size <= 16
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=cur.size)))
        vals = np.sort(h0 + signs @ cur)
        cdf = np.arange(1, vals.size + 1) / vals.size
        for qi, q in enumerate(levels):
            ref = vals[np.searchsorted(cdf, q, side="right")]
            assert abs(eye.top[qi, j] - ref) <= eye.dv, (j, q)
