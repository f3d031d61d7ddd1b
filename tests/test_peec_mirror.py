"""PEEC eigendecomposition from the even and odd halves of a mirror-symmetric mesh."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.extract import peec
from sigint.xsection.geometry import resolve
from sigint.xsection.model import load_cross_section


def _mirror_invariant(n_pairs: int, n_fixed: int, seed: int):
    rng = np.random.default_rng(seed)
    n = 2 * n_pairs + n_fixed
    perm = np.arange(n)
    order = rng.permutation(n)
    p, m = order[:n_pairs], order[n_pairs:2 * n_pairs]
    perm[p], perm[m] = m, p
    x = rng.standard_normal((n, n))
    s = x @ x.T / n + np.eye(n)                      # symmetric positive definite
    a = 0.5 * (s + s[perm][:, perm])                 # invariant under the involution
    idx = np.arange(n)
    pp = idx[idx < perm]
    return a, (pp, perm[pp], idx[idx == perm]), rng.standard_normal((n, 3))


@settings(max_examples=25, deadline=None)
@given(n_pairs=st.integers(1, 12), n_fixed=st.integers(0, 5), seed=st.integers(0, 2**31))
def test_halves_give_the_admittance_of_the_full_matrix(n_pairs, n_fixed, seed):
    a, pairs, b = _mirror_invariant(n_pairs, n_fixed, seed)
    lam, w = peec._eigh_mirror(a, b, pairs)
    # independent: the eigenvalues of the whole matrix, and B^T (I + j x A)^-1 B by a solve
    np.testing.assert_allclose(np.sort(lam), np.linalg.eigvalsh(a), rtol=1e-12, atol=1e-12)
    for x in (0.1, 1.0, 30.0):
        ref = b.T @ np.linalg.solve(np.eye(a.shape[0]) + 1j * x * a, b)
        got = (w.T / (1 + 1j * x * lam)[None, :]) @ w
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def _pair(width_b="3 um"):
    return resolve(load_cross_section(dict(
        ground_plane=dict(y="0 um"), stack=[dict(material="air")],
        conductors=[dict(name="a", shape="rectangle", x="-4 um", y="2 um", width="3 um", height="1 um"),
                    dict(name="b", shape="rectangle", x="4 um", y="2 um", width=width_b,
                         height="1 um")])))


def test_symmetric_pair_uses_the_halves_and_matches_the_full_solve(monkeypatch):
    geo = _pair()
    f = np.geomspace(1e6, 1e11, 7)
    half = peec.PeecSolver(geo, 1e11)
    assert half.mirror
    monkeypatch.setattr(peec, "mirror_pairs", lambda *a, **k: None)
    full = peec.PeecSolver(geo, 1e11)
    assert not full.mirror
    z_h, z_f = half.solve(f), full.solve(f)
    np.testing.assert_allclose(z_h, z_f, rtol=0, atol=1e-11 * np.abs(z_f).max())
    for x, y in zip(half.dc(), full.dc()):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-11 * np.abs(y).max())


def test_asymmetric_pair_keeps_the_full_matrix():
    assert not peec.PeecSolver(_pair("2 um"), 1e11).mirror


@pytest.mark.parametrize("n", [64])
def test_a_matrix_that_is_not_invariant_is_refused(n):
    geo = _pair()
    fil = peec.mesh_filaments(geo, 1e11)
    a = peec.mean_log_distance(fil, geo.ground_y)
    assert peec.mirror_pairs(fil, a) is not None
    a = a.copy()
    a[0, 1] = a[1, 0] = a[0, 1] * (1 + 1e-6)
    assert peec.mirror_pairs(fil, a) is None
