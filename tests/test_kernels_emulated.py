"""The device code paths of sigint.gpu.ops, run on the host without a GPU.

The ``__global__`` kernels are compiled with g++ under a small CUDA emulation
(``cuda_emulation.py``) and launched through a stand-in ``cupy`` whose arrays are numpy
arrays, so the dispatch code that runs on a GPU (argument order and types, pointer
offsets of row chunks, the in-place write into a complex matrix, host chunking when the
device memory is short, shared or global memory for the eye) is checked against the
numpy twins here. Races between threads are the GPU tests' business (``-m gpu``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="no g++ to build the emulation")


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    from cuda_emulation import build

    tmp = tmp_path_factory.mktemp("emu")
    return {name: build(tmp, name) for name in ("bem_influence", "peec_pair", "stateye_conv")}


@pytest.fixture
def fake(libs, monkeypatch):
    """A stand-in cupy; ``fake(free_bytes=..., shared_optin=...)`` makes others."""
    from cuda_emulation import fake_cupy

    import sigint.gpu.kernels as kmod

    def make(**kw):
        cp = fake_cupy(libs, **kw)
        monkeypatch.setattr(kmod, "get_function", cp.get_function)
        return cp

    return make


def _bem_case():
    import xsections as X

    from sigint.extract.bem import mesh_panels
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(X.bernal_5_lines()))
    pn = mesh_panels(geo)
    return (pn.mid, pn.normal.astype(float), pn.owner < 0, pn.a, pn.b, geo.ground_y), pn.n


def test_bem_kernel_path(fake):
    from sigint.gpu.ops import bem_influence, bem_influence_numpy

    args, n = _bem_case()
    want = bem_influence_numpy(*args)
    tol = dict(rtol=1e-12, atol=1e-12 * np.abs(want).max())
    cp = fake()
    np.testing.assert_allclose(bem_influence(*args, xp=cp), want, **tol)
    # in place into the real parts of a larger complex matrix (the system matrix)
    mat = np.full((n + 1, n + 1), 1j)
    assert bem_influence(*args, xp=cp, out=mat) is mat
    np.testing.assert_allclose(mat[:n, :n].real, want, **tol)
    assert (mat.imag == 1).all() and (mat[n].real == 0).all() and (mat[:, n].real == 0).all()
    # too little device memory for the whole block: row chunks through the host
    cp = fake(free_bytes=2 * 8 * n * 10)
    got = bem_influence(*args, xp=cp)
    assert isinstance(got, np.ndarray) and len(cp.kernels["bem_influence"].launches) >= n // 10
    np.testing.assert_allclose(got, want, **tol)


def test_bem_kernel_path_self_terms_in_chunks(fake):
    """Observers a third of the way along their own panels, whose principal value (zero)
    differs from the plain closed form there: each chunk must mask its own diagonal."""
    from sigint.gpu.ops import bem_influence, bem_influence_numpy

    rng = np.random.default_rng(4)
    n = 120
    a = rng.uniform(0, 1e-4, (n, 2))
    ang = rng.uniform(0, 2 * np.pi, n)
    b = a + 5e-6 * np.stack([np.cos(ang), np.sin(ang)], 1)
    obs = a + 0.3 * (b - a)
    nrm = np.stack([np.sin(ang), -np.cos(ang)], 1)
    field = rng.random(n) < 0.7
    args = (obs, nrm, field, a, b, -1e-5)
    want = bem_influence_numpy(*args)
    assert np.abs(np.diag(bem_influence_numpy(*args[:5]))[field]).max() == 0   # no image
    cp = fake(free_bytes=2 * 8 * n * 16)                # 16-row chunks
    got = bem_influence(*args, xp=cp)
    assert len(cp.kernels["bem_influence"].launches) == -(-n // 16)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_peec_kernel_path(fake):
    from test_kernels import _peec_geometry

    from sigint.extract.peec import mean_log_distance as twin
    from sigint.extract.peec import mesh_filaments
    from sigint.gpu.ops import mean_log_distance

    geo = _peec_geometry()
    fil = mesh_filaments(geo, 1e8)
    cp = fake()
    for image in (None, geo.ground_y):
        np.testing.assert_allclose(mean_log_distance(fil, image, xp=cp), twin(fil, image),
                                   rtol=1e-10, atol=0)
    cp = fake(free_bytes=2 * 8 * fil.n * 37)          # 37-row chunks
    got = mean_log_distance(fil, geo.ground_y, xp=cp)
    assert len(cp.kernels["peec_mean_log_distance"].launches) == -(-fil.n // 37)
    np.testing.assert_allclose(got, twin(fil, geo.ground_y), rtol=1e-10, atol=0)


@pytest.mark.parametrize("optin", [232448, 4096], ids=["shared", "global"])
def test_stateye_kernel_path(fake, optin):
    from sigint.gpu.ops import fine_distribution
    from sigint.timedomain.stateye import fine_distribution as numpy_twin

    rng = np.random.default_rng(11)
    q = rng.integers(0, 60, (10, 80))    # rows of > 48 KiB: the shared-memory opt-in
    q[:, 5] = 0
    w = np.where(rng.random(q.shape) < 0.6, 0.5, 0.25)
    want, s0 = numpy_twin(q, w)
    cp = fake(shared_optin=optin, free_bytes=2 * 2 * 8 * want.shape[1] * 3)   # 3 rows a chunk
    got, s1 = fine_distribution(q, w, xp=cp)
    launches = cp.kernels["stateye_convolve"].launches
    if optin < 2 * 8 * want.shape[1]:
        assert len(launches) == 4 and all(sm == 0 for *_, sm in launches)
    else:
        assert len(launches) == 1 and launches[0][2] == 2 * 8 * want.shape[1] > 49152
        assert cp.kernels["stateye_convolve"].max_dynamic_shared_size_bytes == launches[0][2]
    assert s1 == s0
    pos = want > 0
    assert want[pos].min() < 1e-30
    np.testing.assert_array_equal(got > 0, pos)
    np.testing.assert_allclose(got[pos], want[pos], rtol=1e-10, atol=0)
