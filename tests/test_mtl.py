"""Multiconductor lines against scikit-rf, even/odd closed forms and high-precision references."""

import mpmath
import numpy as np
import pytest
import skrf
from helpers import line_s
from hypothesis import given, settings
from hypothesis import strategies as st
from skrf.media import DistributedCircuit

from sigint.channel.lines import cascade_s, mtl_s, series_impedance_s, star_product

F = np.linspace(0, 100e9, 201)


@settings(max_examples=30, deadline=None)
@given(r=st.floats(0.0, 5e3), l=st.floats(50e-9, 1e-6), g=st.floats(0.0, 1.0),
       c=st.floats(20e-12, 500e-12), length=st.floats(1e-5, 0.2), zr=st.floats(5.0, 200.0))
def test_single_conductor_equals_scikit_rf_distributed_circuit(r, l, g, c, length, zr):
    """Agreement with scikit-rf to 1e-10; where scikit-rf's own cosh/sinh formula loses
    digits (electrically tiny, strongly mismatched lines) a 50-digit reference decides."""
    f = F[1:]   # at DC scikit-rf's line degenerates to a thru; DC is tested on its own
    rf_ = r * np.sqrt(1 + f / 1e9)
    gf = g * f / 1e9
    ref = DistributedCircuit(frequency=skrf.Frequency.from_f(f, unit="hz"), z0_port=zr,
                             R=rf_, L=l, G=gf, C=c).line(length, "m").s
    ours = mtl_s(f, rf_, l, gf, c, length, zr)
    diff = np.abs(ours - ref).max(axis=(1, 2))
    assert diff.max() < 1e-8
    for k in np.flatnonzero(diff > 1e-10)[:5]:
        s11, s21 = _mp_line(f[k], rf_[k], l, gf[k], c, length, zr)
        assert abs(ours[k, 0, 0] - s11) < 1e-13 and abs(ours[k, 1, 0] - s21) < 1e-13


def test_dc_is_the_series_resistance():
    s = mtl_s(np.array([0.0, 1e3]), 40.0, 300e-9, 0.0, 110e-12, 0.01, 50.0)
    rl = 0.4
    np.testing.assert_allclose(s[0], [[rl / (rl + 100), 100 / (rl + 100)],
                                      [100 / (rl + 100), rl / (rl + 100)]], atol=1e-15)
    np.testing.assert_allclose(s[1], s[0], atol=1e-5)    # continuous towards DC


def test_symmetric_pair_equals_even_odd_closed_form():
    f = F[1:]
    w = 2 * np.pi * f
    rs, rm = 20.0 * np.sqrt(1 + f / 1e9), 3.0 * np.sqrt(1 + f / 1e9)
    ls, lm = 420e-9, 90e-9
    c11, c12 = 120e-12, -25e-12
    gs = 0.02 * f / 1e9
    r = np.stack([np.stack([rs, rm], -1), np.stack([rm, rs], -1)], -2)
    g = np.zeros_like(r)
    g[:, 0, 0] = g[:, 1, 1] = gs
    s = mtl_s(f, r, [[ls, lm], [lm, ls]], g, [[c11, c12], [c12, c11]], 0.03, 50.0)
    ze, ye = rs + rm + 1j * w * (ls + lm), gs + 1j * w * (c11 + c12)
    zo, yo = rs - rm + 1j * w * (ls - lm), gs + 1j * w * (c11 - c12)
    se = line_s(np.sqrt(ze / ye), np.sqrt(ze * ye) * 0.03)
    so = line_s(np.sqrt(zo / yo), np.sqrt(zo * yo) * 0.03)
    # ports [1 near, 2 near, 1 far, 2 far]
    np.testing.assert_allclose(s[:, 2, 0], (se[:, 1, 0] + so[:, 1, 0]) / 2, atol=1e-12)
    np.testing.assert_allclose(s[:, 3, 0], (se[:, 1, 0] - so[:, 1, 0]) / 2, atol=1e-12)
    np.testing.assert_allclose(s[:, 1, 0], (se[:, 0, 0] - so[:, 0, 0]) / 2, atol=1e-12)
    np.testing.assert_allclose(s[:, 0, 0], (se[:, 0, 0] + so[:, 0, 0]) / 2, atol=1e-12)


def _random_rlgc(rng, n, nf):
    a = rng.normal(size=(n, n))
    l = 1e-7 * (a @ a.T + n * np.eye(n))
    b = rng.normal(size=(n, n))
    c = 1e-11 * (b @ b.T + n * np.eye(n))
    r = np.diag(rng.uniform(1, 50, n)) + 0.5
    r = np.broadcast_to(r, (nf, n, n)) * np.sqrt(1 + F[:nf, None, None] / 1e9)
    g = 0.01 * c / 1e-11 * (F[:nf, None, None] / 1e10) * 1e-3
    return r, l, g, c


def test_cut_in_two_and_cascaded_equals_the_whole():
    rng = np.random.default_rng(3)
    r, l, g, c = _random_rlgc(rng, 4, F.size)
    whole = mtl_s(F, r, l, g, c, 0.02, 50.0)
    half = mtl_s(F, r, l, g, c, 0.01, 50.0)
    np.testing.assert_allclose(star_product(half, half), whole, atol=1e-12)
    parts = [mtl_s(F, r, l, g, c, x, 50.0) for x in (0.003, 0.012, 0.005)]
    np.testing.assert_allclose(cascade_s(parts), whole, atol=1e-12)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_random_lossy_lines_are_reciprocal_and_passive(n):
    rng = np.random.default_rng(n)
    r, l, g, c = _random_rlgc(rng, n, F.size)
    s = mtl_s(F, r, l, g, c, 0.05, rng.uniform(20, 80, 2 * n))
    np.testing.assert_allclose(s, np.swapaxes(s, 1, 2), atol=1e-12)
    assert np.linalg.svd(s, compute_uv=False).max() <= 1 + 1e-12


def _mp_line(f, r, l, g, c, length, zr):
    mpmath.mp.dps = 50
    w = 2 * mpmath.pi * mpmath.mpf(f)
    z = mpmath.mpf(r) + 1j * w * mpmath.mpf(l)
    y = mpmath.mpf(g) + 1j * w * mpmath.mpf(c)
    zc, gl = mpmath.sqrt(z / y), mpmath.sqrt(z * y) * mpmath.mpf(length)
    d = 2 * zc * zr * mpmath.cosh(gl) + (zc ** 2 + zr ** 2) * mpmath.sinh(gl)
    return complex((zc ** 2 - zr ** 2) * mpmath.sinh(gl) / d), complex(2 * zc * zr / d)


def _length_for(db, r, l, g, c, f):
    """Length giving *db* of attenuation, from alpha = Re sqrt(Z Y)."""
    w = 2 * np.pi * f
    alpha = np.sqrt((r + 1j * w * l) * (g + 1j * w * c)).real
    return db / (20 * np.log10(np.e) * alpha)


@pytest.mark.parametrize("f", [1e9, 20e9, 50e9])
def test_100_db_loss_line_keeps_its_digits(f):
    r, l, g, c, zr = 800.0, 400e-9, 0.02, 120e-12, 50.0
    length = _length_for(120.0, r * np.sqrt(f / 1e9), l, g, c, f)
    s = mtl_s(np.array([f]), r * np.sqrt(f / 1e9), l, g, c, length, zr)[0]
    s11, s21 = _mp_line(f, r * np.sqrt(f / 1e9), l, g, c, length, zr)
    assert -20 * np.log10(abs(s21)) > 100
    assert abs(s[1, 0] - s21) <= 1e-9 * abs(s21)
    assert abs(s[0, 0] - s11) <= 1e-9 * abs(s11)


def test_coupled_100_db_line_against_high_precision_modes():
    """A symmetric pair with > 100 dB of loss, each mode computed in 50-digit arithmetic."""
    f = 30e9
    rs, rm, ls, lm, c11, c12 = 1500.0, 200.0, 420e-9, 90e-9, 120e-12, -25e-12
    length = _length_for(115.0, rs - rm, ls - lm, 0.0, c11 - c12, f)
    s = mtl_s(np.array([f]), [[rs, rm], [rm, rs]], [[ls, lm], [lm, ls]], 0.0,
              [[c11, c12], [c12, c11]], length, 50.0)[0]
    e11, e21 = _mp_line(f, rs + rm, ls + lm, 0.0, c11 + c12, length, 50.0)
    o11, o21 = _mp_line(f, rs - rm, ls - lm, 0.0, c11 - c12, length, 50.0)
    thru, fext = (e21 + o21) / 2, (e21 - o21) / 2
    assert -20 * np.log10(abs(thru)) > 100
    assert abs(s[2, 0] - thru) <= 1e-9 * abs(thru)
    assert abs(s[3, 0] - fext) <= 1e-9 * abs(fext)


def test_series_impedance_matches_scalar_formula():
    zs = np.array([[[7.0 + 2j]]])
    s = series_impedance_s(zs, [50.0, 75.0])[0]
    # scalar series element between unequal references (Pozar, Table 4.2 -> S)
    z1, z2 = 50.0, 75.0
    d = zs[0, 0, 0] + z1 + z2
    assert s[1, 0] == pytest.approx(2 * np.sqrt(z1 * z2) / d)
    assert s[0, 0] == pytest.approx((zs[0, 0, 0] + z2 - z1) / d)


def _chain_reference(f, z, y, length, zr):
    """S of a uniform line from its chain matrix Phi = expm(-[[0, Z], [Y, 0]] l) (Paul, ch. 7:
    dV/dz = -Z I, dI/dz = -Y V), by scipy's Pade expm; no eigenvectors involved."""
    from scipy.linalg import expm

    n = z[1].shape[0]
    w = 2 * np.pi * f
    zz, yy = z[0] + 1j * w * z[1], y[0] + 1j * w * y[1]
    phi = expm(-np.block([[np.zeros((n, n)), zz], [yy, np.zeros((n, n))]]) * length)
    p11, p12, p21, p22 = phi[:n, :n], phi[:n, n:], phi[n:, :n], phi[n:, n:]
    q = np.linalg.inv(p12)
    # currents into the near ports I(0) and into the far ports -I(l), from V(0), V(l)
    ymat = np.block([[-q @ p11, q], [-(p21 - p22 @ q @ p11), -p22 @ q]])
    e = np.eye(2 * n)
    return np.linalg.solve((e + zr * ymat).T, (e - zr * ymat).T).T


def test_ill_conditioned_modes_fall_back_to_matrix_functions(monkeypatch):
    """A defective Z Y (a Jordan block: the two modes share one eigenvector, so the modal
    decomposition does not exist) and, with the limit set to 0, a well-posed lossy pair
    forced through the fallback: both equal the chain-matrix reference (reached 2e-15; the
    eigenvector path alone is off by 0.2 to 2.2 on the Jordan block)."""
    import scipy.linalg

    import sigint.channel.lines as mtl

    calls = []
    sqrtm = scipy.linalg.sqrtm
    monkeypatch.setattr(scipy.linalg, "sqrtm", lambda a: calls.append(1) or sqrtm(a))
    f = np.array([1e8, 5e9, 40e9])
    r, l = np.diag([5.0, 5.0]), 300e-9 * np.eye(2)
    c = 120e-12 * np.array([[1.0, 0.3], [0.0, 1.0]])       # Z Y = Jordan block per frequency
    s = mtl_s(f, r, l, 0.0, c, 0.01, 50.0)
    assert len(calls) == f.size
    for k, fk in enumerate(f):
        ref = _chain_reference(fk, (r, l), (np.zeros((2, 2)), c), 0.01, 50.0)
        np.testing.assert_allclose(s[k], ref, atol=6e-15)
    rng = np.random.default_rng(4)
    r, l, g, c = _random_rlgc(rng, 3, 5)
    fs = F[:5]
    plain = mtl_s(fs, r, l, g, c, 0.02, 50.0)
    monkeypatch.setattr(mtl, "MODE_COND_LIMIT", 0.0)
    forced = mtl_s(fs, r, l, g, c, 0.02, 50.0)
    assert len(calls) == f.size + fs.size - 1                # every frequency but DC
    for k in range(1, fs.size):
        ref = _chain_reference(fs[k], (r[k], l), (g[k], c), 0.02, 50.0)
        np.testing.assert_allclose(forced[k], ref, atol=6e-15)
        np.testing.assert_allclose(plain[k], ref, atol=6e-15)


def test_threaded_cascade_equals_scikit_rf(monkeypatch):
    """Frequencies split over 3 threads (even on a 2-core machine) give scikit-rf's cascade."""
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    rng = np.random.default_rng(9)
    r, l, g, c = _random_rlgc(rng, 2, F.size)
    parts = [mtl_s(F, r, l, g, c, x, 50.0) for x in (0.004, 0.01, 0.002)]
    fr = skrf.Frequency.from_f(F, unit="hz")
    ref = skrf.network.cascade_list([skrf.Network(frequency=fr, s=p, z0=50.0) for p in parts])
    ref_s = ref.s    # scikit-rf's 2N-port order [near 0..N-1, far 0..N-1] is ours
    np.testing.assert_allclose(cascade_s(parts, threads=3), ref_s, atol=3e-15)   # 9e-16
    np.testing.assert_array_equal(cascade_s(parts, threads=3), cascade_s(parts, threads=1))
