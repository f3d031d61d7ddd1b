"""PRBS generation and the bit-by-bit waveform against the statistical eye."""

import numpy as np
import pytest

from sigint.link.txrx import Rx, Tx
from sigint.timedomain.pulse import pulse_responses
from sigint.timedomain.stateye import extract_cursors, statistical_eye
from sigint.timedomain.waveform import prbs, simulate_waveform


@pytest.mark.parametrize("order,period", [(7, 127), (9, 511), (11, 2047), (15, 32767),
                                          (20, 1048575)])
def test_prbs_period_and_balance(order, period):
    s = prbs(order, 2 * period, seed=3)
    assert np.array_equal(s[:period], s[period:])
    assert s[:period].sum() == (period + 1) // 2
    assert not np.array_equal(s[: period // 2], s[period // 2: 2 * (period // 2)])


# ITU-T O.150 generator polynomials x^n + x^m + 1, typed from the standard's table
O150 = {7: 6, 9: 5, 11: 9, 15: 14, 20: 3, 23: 18, 31: 28}


@pytest.mark.parametrize("order", sorted(O150))
@pytest.mark.parametrize("seed", [0, 5])
def test_prbs_obeys_the_o150_recurrence(order, seed):
    """x[k] = x[k-n] xor x[k-m] for every bit (PRBS-20, m < n/2, once broke this)."""
    n, m = order, O150[order]
    x = prbs(order, 4000, seed=seed).astype(int)
    assert np.array_equal(x[n:], x[:-n] ^ x[n - m:-m])
    assert 1500 < x.sum() < 2500


def _channel():
    f = np.arange(0, 40e9 + 1, 20e6)
    tau = 0.8e-9
    h = 0.5 * np.exp(-(0.35 * np.sqrt(f / 1e9) + 2j * np.pi * f * tau))
    g = 0.06 * (1j * f / 10e9) / (1 + 1j * f / 10e9) * np.exp(-2j * np.pi * f * (tau * 0.95))
    return f, h, g[None, :]


def test_noiseless_waveform_is_the_superposition_of_pulses():
    f, h, g = _channel()
    pr = pulse_responses(f, h, g[:0], 8e9, Tx(r=50), Rx(), samples_per_ui=32)
    cs = extract_cursors(pr)
    eye = statistical_eye(cs, 0.2, ber=1e-6)
    we = simulate_waveform(pr, 0.2, n_bits=3000, phase_ui=eye.phase_ui, order=15, seed=4)
    bits = 2.0 * prbs(15, 3000, seed=4) - 1
    s = pr.samples_per_ui
    n = pr.victim.size
    k0 = np.flatnonzero(we.bits)[0]
    first = int(np.ceil(n / s)) + 2
    for row in (0, 7, 100):
        k = first + row
        j = 5
        t = k * s + pr.main + int(round(eye.phase_ui[j] * s))
        # every bit whose pulse has started by sample t, later ones included (line delay)
        direct = 0.2 * sum(bits[m] * pr.victim[t - m * s] for m in range(t // s + 1)
                           if 0 <= t - m * s < n)
        # linear vs periodic convolution differ only by the response's wrap (< 1e-3 V/V)
        assert we.samples[row, j] == pytest.approx(direct, abs=2e-4)
    assert k0 == 0


@pytest.mark.parametrize("rj_ui", [0.0, 0.02])
def test_statistical_eye_agrees_with_bit_by_bit(rj_ui):
    f, h, g = _channel()
    rate = 8e9
    tx = Tx(r=50, rj=rj_ui / rate)
    pr = pulse_responses(f, h, g, rate, tx, Rx())
    cs = extract_cursors(pr)
    eye = statistical_eye(cs, 0.2, ber=1e-3, noise=2e-3, rj=tx.rj, nbins=4096)
    we = simulate_waveform(pr, 0.2, n_bits=1 << 17, phase_ui=eye.phase_ui,
                           xt_shift=cs.xt_shift(eye.best), noise=2e-3, rj=tx.rj)
    main = 0.2 * cs.main[eye.best]
    for q in (1e-2, 1e-3):
        diff = eye.edge(q) - we.quantile_edge(q, eye.best)
        # fixed seed; reached 0.26 % of the main cursor (rj 0.02 UI, 1e-2)
        assert abs(diff) < 0.008 * main, (q, diff, main)
