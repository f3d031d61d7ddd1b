"""VTFs of terminated networks against closed forms (REFERENCES.md, analysis references)."""

import numpy as np
import pytest
import skrf
from helpers import coupled_pair, lossy_line

from sigint.link.ports import LinkNetwork, build_port_map, link_network
from sigint.link.txrx import Rx, Tx
from sigint.link.vtf import power_sum_db, terminated_transfers

F = np.linspace(0, 60e9, 121)


def _ln(s, z0=50.0):
    n = s.shape[1] // 2
    return LinkNetwork(F, s, np.full(s.shape[1], z0), np.arange(n), np.arange(n, 2 * n),
                       [f"lane {i + 1}" for i in range(n)], 1.0, False)


def _thru(z0=50.0):
    s = np.zeros((F.size, 2, 2), complex)
    s[:, 0, 1] = s[:, 1, 0] = 1.0
    return _ln(s, z0)


@pytest.mark.parametrize("z0", [25.0, 50.0, 100.0])
def test_rc_low_pass_closed_form(z0):
    # Vs - R - (Ctx + Crx) to ground: H = 1 / (1 + j w R (Ctx + Crx))
    tx, rx = Tx(r=25.0, c_pad=0.25e-12), Rx(c_pad=0.2e-12)
    h = terminated_transfers(_thru(z0), tx, rx)[:, 0, 0]
    ref = 1.0 / (1 + 2j * np.pi * F * 25.0 * 0.45e-12)
    np.testing.assert_allclose(h, ref, rtol=1e-12, atol=1e-14)


def test_terminated_rc_closed_form():
    tx, rx = Tx(r=30.0, c_pad=0.3e-12), Rx(c_pad=0.3e-12, r=50.0)
    h = terminated_transfers(_thru(), tx, rx)[:, 0, 0]
    ref = 50.0 / (30.0 + 50.0 + 2j * np.pi * F * 30.0 * 50.0 * 0.6e-12)
    np.testing.assert_allclose(h, ref, rtol=1e-12)


def test_matched_lossless_line_is_flat_at_l0():
    net = lossy_line(F, 0.01, zc=50.0, eps_eff=4.0)
    ln = link_network(net, build_port_map(2))
    h = terminated_transfers(ln, Tx(r=50.0, c_pad=0.0), Rx(r=50.0, c_pad=0.0))[:, 0, 0]
    np.testing.assert_allclose(20 * np.log10(np.abs(h)), 20 * np.log10(0.5), atol=1e-10)
    tau = 0.01 * 2.0 / 299792458.0
    np.testing.assert_allclose(h, 0.5 * np.exp(-2j * np.pi * F * tau), atol=1e-12)


def test_dc_loss_is_the_ucie_divider():
    # L(0) = 20 log10(Rrx / (Rtx + Rch + Rrx)) with a series channel resistance Rch
    rch = 7.0
    s = np.zeros((F.size, 2, 2), complex)
    s[:, 0, 0] = s[:, 1, 1] = rch / (rch + 100.0)
    s[:, 0, 1] = s[:, 1, 0] = 100.0 / (rch + 100.0)
    h = terminated_transfers(_ln(s), Tx(r=30.0, c_pad=0.3e-12), Rx(r=50.0, c_pad=0.3e-12))
    assert 20 * np.log10(abs(h[0, 0, 0])) == pytest.approx(20 * np.log10(50 / 87.0), abs=1e-12)
    # unterminated: 0 dB at DC
    h = terminated_transfers(_ln(s), Tx(r=30.0), Rx(c_pad=0.2e-12))
    assert abs(h[0, 0, 0]) == pytest.approx(1.0, abs=1e-12)


def test_vtf_does_not_depend_on_the_reference_impedance():
    net = coupled_pair(F, 0.02, 45.0, 30.0, 4.2, 3.6, alpha_db_per_m_sqrt_ghz=40.0)
    pm = build_port_map(4)
    tx, rx = Tx(r=25.0, c_pad=0.25e-12), Rx(c_pad=0.2e-12)
    a = terminated_transfers(link_network(net, pm), tx, rx)
    net2 = net.copy()
    net2.renormalize(33.0)
    b = terminated_transfers(link_network(net2, pm), tx, rx)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)


def test_symmetric_pair_crosstalk_is_symmetric_and_matches_even_odd():
    net = coupled_pair(F, 0.02, 45.0, 30.0, 4.2, 3.6)
    t = terminated_transfers(link_network(net, build_port_map(4)), Tx(r=50.0, c_pad=0),
                             Rx(r=50.0, c_pad=0))
    np.testing.assert_allclose(t[:, 0, 1], t[:, 1, 0], atol=1e-13)
    # matched 50-ohm terminations: Vr/Vs = S21/2 of each single-ended path
    np.testing.assert_allclose(t[:, 0, 1], net.s[:, 2, 1] / 2, atol=1e-13)
    np.testing.assert_allclose(t[:, 0, 0], net.s[:, 2, 0] / 2, atol=1e-13)


def test_differential_lane_of_uncoupled_lines_equals_single_ended():
    line = lossy_line(F, 0.01, zc=50.0, alpha_db_per_m_sqrt_ghz=30.0)
    s = np.zeros((F.size, 4, 4), complex)
    for leg in (0, 1):   # ports [P near, P far, N near, N far]
        idx = np.ix_(range(F.size), [2 * leg, 2 * leg + 1], [2 * leg, 2 * leg + 1])
        s[idx] = line.s
    net = skrf.Network(frequency=line.frequency, s=s, z0=50)
    tx, rx = Tx(r=40.0, c_pad=0.2e-12), Rx(r=60.0, c_pad=0.1e-12)
    se = terminated_transfers(link_network(line, build_port_map(2)), tx, rx)[:, 0, 0]
    ln = link_network(net, build_port_map(4, thru=["1:2", "3:4"], differential=True))
    dd = terminated_transfers(ln, tx, rx)[:, 0, 0]
    np.testing.assert_allclose(dd, se, rtol=1e-10, atol=1e-13)


def test_power_sum_takes_the_largest_at_each_frequency():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(25, 7)) + 1j * rng.normal(size=(25, 7))
    p = np.sort(np.abs(h) ** 2, axis=0)[::-1][:19].sum(axis=0)
    np.testing.assert_allclose(power_sum_db(h, 19), 10 * np.log10(p), rtol=1e-12)
    np.testing.assert_allclose(power_sum_db(h[:5], 19),
                               10 * np.log10((np.abs(h[:5]) ** 2).sum(axis=0)), rtol=1e-12)
    assert np.all(power_sum_db(h[:0], 19) == -np.inf)
