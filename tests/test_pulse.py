"""Pulse responses: the matched lossless line (a delayed rectangle), DC value, repairs."""

import numpy as np
import pytest

from sigint.link.txrx import Ctle, Rx, Tx
from sigint.network.quality import bulk_delay
from sigint.timedomain.pulse import pulse_responses

RATE = 10e9
C0 = 299792458.0


def _line_vtf(f, tau, alpha=0.0, h0=0.5):
    return h0 * np.exp(-(alpha * np.sqrt(f / 1e9) + 2j * np.pi * f * tau))


def test_matched_lossless_line_gives_a_delayed_rectangle():
    f = np.arange(0, 400e9 + 1, 50e6)          # to 40x the rate: the rectangle is resolved
    tau = 0.3e-9
    tx = Tx(r=50, c_pad=0, rise_time=0.5e-12)  # nearly ideal edge
    pr = pulse_responses(f, _line_vtf(f, tau), np.zeros((0, f.size)), RATE, tx, Rx(r=50),
                         samples_per_ui=64)
    t, p = pr.t, pr.victim
    t_start = tau + 4 * 0.5e-12 / 1.6832       # delay of the line + the edge filter
    inside = (t > t_start + 0.1 / RATE) & (t < t_start + 0.9 / RATE)
    outside = (t < t_start - 0.1 / RATE) | (t > t_start + 1.1 / RATE)
    assert np.abs(p[inside] - 0.5).max() < 0.01          # flat top at L(0), -6.02 dB: 5.0e-3
    assert np.abs(p[outside]).max() < 0.01              # zero elsewhere: 4.1e-3
    centre = np.sum(t * p) / np.sum(p)
    assert centre == pytest.approx(t_start + 0.5 / RATE, abs=3e-3 * pr.dt)   # 7e-4 dt
    assert pr.dc_gain == pytest.approx(0.5, rel=1e-12)


def test_pulse_sums_to_the_dc_gain_at_every_phase():
    f = np.arange(0, 40e9 + 1, 10e6)
    h = _line_vtf(f, 2e-9, alpha=0.3, h0=0.8)
    pr = pulse_responses(f, h, np.zeros((0, f.size)), RATE, Tx(r=50), Rx(r=50))
    s = pr.samples_per_ui
    folded = pr.victim.reshape(-1, s).sum(axis=0)        # sum over all UIs, each phase
    np.testing.assert_allclose(folded, pr.dc_gain, rtol=1e-9)
    assert pr.dc_gain == pytest.approx(0.8, rel=1e-12)
    assert pr.causality < 1e-3                           # reached 3.9e-4


def test_missing_dc_is_extrapolated_and_said():
    # a loss smooth at DC, as a physical line's (constant R below the skin-effect onset):
    # |H| even in f, as every real impulse response's, and flat at DC
    f = np.arange(10e6, 40e9 + 1, 10e6)
    h = 0.7 * np.exp(-((f / 30e9) ** 2 + 2j * np.pi * f * 1e-9))
    pr = pulse_responses(f, h, np.zeros((0, f.size)), RATE, Tx(r=50), Rx(r=50))
    assert any("no DC point" in n for n in pr.notes)
    # reached 1e-14: with the data mirrored to negative frequencies (H(-f) = H*(f)) DC is
    # interpolated, not extrapolated; the bound is float64 noise, not the method's
    assert pr.dc_gain == pytest.approx(0.7, rel=1e-12)


def test_non_uniform_grid_is_resampled_to_the_same_pulse():
    fu = np.arange(0, 40e9 + 1, 10e6)
    fn = np.unique(np.concatenate([fu[::2], fu[1::7]]))
    tau = 1.3e-9
    a = pulse_responses(fu, _line_vtf(fu, tau, 0.2), np.zeros((0, fu.size)), RATE, Tx(r=50), Rx())
    b = pulse_responses(fn, _line_vtf(fn, tau, 0.2), np.zeros((0, fn.size)), RATE, Tx(r=50), Rx())
    assert any("not uniform" in n for n in b.notes)
    # reached 4.0e-6 of the peak
    assert np.abs(a.victim - b.victim).max() < 1.5e-5 * np.abs(a.victim).max()


def test_ffe_is_a_sum_of_shifted_pulses():
    f = np.arange(0, 40e9 + 1, 10e6)
    h = _line_vtf(f, 1e-9, alpha=0.3)
    base = pulse_responses(f, h, np.zeros((0, f.size)), RATE, Tx(r=50), Rx())
    taps = (-0.1, 0.7, -0.2)
    ffe = pulse_responses(f, h, np.zeros((0, f.size)), RATE, Tx(r=50, ffe=taps, ffe_main=1), Rx())
    s = base.samples_per_ui
    ref = sum(c * np.roll(base.victim, (m - 1) * s) for m, c in enumerate(taps))
    np.testing.assert_allclose(ffe.victim, ref, atol=1e-14)


def test_ctle_scales_dc_and_peaks_high_frequencies():
    f = np.arange(0, 40e9 + 1, 10e6)
    h = _line_vtf(f, 1e-9, alpha=1.0)
    c = Ctle(dc_gain_db=-6.0)
    pr = pulse_responses(f, h, np.zeros((0, f.size)), RATE, Tx(r=50), Rx(ctle=c))
    assert pr.dc_gain == pytest.approx(0.5 * 10 ** (-6 / 20), rel=1e-9)
    r = c.response(np.array([0.0, RATE / 4, RATE / 2]), RATE)
    assert abs(r[2]) > abs(r[0])


def test_bulk_delay_of_a_pure_delay():
    f = np.linspace(0, 20e9, 201)
    assert bulk_delay(f, np.exp(-2j * np.pi * f * 0.77e-9)) == pytest.approx(0.77e-9, rel=1e-9)
