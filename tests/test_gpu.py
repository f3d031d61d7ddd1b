"""numpy / CuPy parity of the code paths that take ``xp``; skipped without a working GPU."""

import numpy as np
import pytest

from sigint.backend import cupy_smoke_test, get_backend

OK, DEVICE, REASON = cupy_smoke_test()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not OK, reason=f"no GPU: {REASON}")]


def test_backend_resolves_to_cupy():
    b = get_backend("cupy")
    assert b.name == "cupy" and b.device == DEVICE


def test_terminated_transfers_parity():
    import cupy
    from helpers import coupled_pair

    from sigint.link.ports import build_port_map, link_network
    from sigint.link.txrx import Rx, Tx
    from sigint.link.vtf import terminated_transfers

    f = np.linspace(0, 60e9, 301)
    ln = link_network(coupled_pair(f, 5e-3, 46.0, 42.0, 4.1, 3.9, 200.0), build_port_map(4))
    a = terminated_transfers(ln, Tx(), Rx(), xp=np)
    b = terminated_transfers(ln, Tx(), Rx(), xp=cupy)
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)


def test_bem_and_peec_parity():
    import cupy
    import xsections as X

    from sigint.extract.bem import BemSolver
    from sigint.extract.peec import PeecSolver
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(X.bernal_5_lines()))
    np.testing.assert_allclose(BemSolver(geo, xp=cupy).solve(1e9), BemSolver(geo).solve(1e9),
                               rtol=1e-9)
    geo = resolve(load_cross_section(X.two_wires()))
    f = np.array([1e6, 1e9, 1e11])
    np.testing.assert_allclose(PeecSolver(geo, 1e11, xp=cupy).solve(f),
                               PeecSolver(geo, 1e11).solve(f), rtol=1e-8)


# ----------------------------------------------------------------------------- kernels
def test_bem_influence_kernel_matches_twin():
    """The device kernel against the numpy twin, on a real mesh with a ground plane, also
    written in place into the real parts of a complex device matrix."""
    import cupy
    import xsections as X

    from sigint.extract.bem import BemSolver
    from sigint.gpu.ops import bem_influence, bem_influence_numpy
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(X.bernal_5_lines()))
    pn = BemSolver(geo).panels
    args = (pn.mid, pn.normal.astype(float), pn.owner < 0, pn.a, pn.b, geo.ground_y)
    want = bem_influence_numpy(*args)
    got = cupy.asnumpy(bem_influence(*args, xp=cupy))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    n = pn.n
    mat = cupy.full((n + 1, n + 1), 1j, dtype=cupy.complex128)
    bem_influence(*args, xp=cupy, out=mat)
    m = cupy.asnumpy(mat)
    np.testing.assert_allclose(m[:n, :n].real, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    assert (m.imag == 1).all() and (m[n].real == 0).all()
    # chunked through the host when the device memory is (said to be) small
    small = bem_influence(*args, xp=cupy, memory_limit=16 * 8 * n)
    np.testing.assert_allclose(np.asarray(small), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_peec_kernel_matches_twin():
    import cupy
    from test_kernels import _peec_geometry

    from sigint.extract.peec import mean_log_distance as twin
    from sigint.extract.peec import mesh_filaments
    from sigint.gpu.ops import mean_log_distance

    geo = _peec_geometry()
    fil = mesh_filaments(geo, 1e9)
    for image in (None, geo.ground_y):
        want = twin(fil, image)
        got = cupy.asnumpy(mean_log_distance(fil, image, xp=cupy))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
    small = mean_log_distance(fil, geo.ground_y, xp=cupy, memory_limit=64 * 8 * fil.n)
    np.testing.assert_allclose(np.asarray(small), want, rtol=1e-10, atol=0)


@pytest.mark.parametrize("scale", [1, 400], ids=["shared", "global"])
def test_stateye_kernel_matches_twin(scale):
    """Shared-memory rows, and rows too wide for shared memory (global scratch)."""
    import cupy

    from sigint.gpu.ops import fine_distribution
    from sigint.timedomain.stateye import fine_distribution as numpy_twin

    rng = np.random.default_rng(7)
    p, r = 12, 60
    q = rng.integers(0, 20, (p, r)) * scale // 20 + rng.integers(0, 20, (p, r))
    w = np.where(rng.random((p, r)) < 0.7, 0.5, 0.25)
    want, s0 = numpy_twin(q, w)
    got, s1 = fine_distribution(q, w, xp=cupy)
    assert s1 == s0
    got = cupy.asnumpy(got)
    pos = want > 0
    np.testing.assert_array_equal(got > 0, pos)
    np.testing.assert_allclose(got[pos], want[pos], rtol=1e-10, atol=0)


def test_analyze_parity():
    """The whole analysis on cupy (its xp stages on the device) equals numpy's."""
    from helpers import coupled_pair

    from sigint.analysis.analyze import AnalysisOptions, analyze

    f = np.arange(0, 60e9 + 1, 100e6)
    net = coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=20.0)
    a = analyze(net, AnalysisOptions(rate=16e9, bits=0), backend=get_backend("numpy"))
    b = analyze(net, AnalysisOptions(rate=16e9, bits=0), backend=get_backend("cupy"))
    assert b.to_json()["backend_stages"]["vtf"] == "cupy"
    assert b.eye.eye_height == pytest.approx(a.eye.eye_height, rel=1e-9)
    np.testing.assert_allclose(b.vtf.loss_db, a.vtf.loss_db, rtol=1e-10, atol=1e-12)


def test_extract_parity():
    import xsections as X

    from sigint.extract.rlgc import extract
    from sigint.xsection.schema import load_cross_section

    xs = load_cross_section(X.bernal_5_lines())
    a = extract(xs, np.array([1e8, 1e9, 1e10]), backend=get_backend("numpy"))
    b = extract(xs, np.array([1e8, 1e9, 1e10]), backend=get_backend("cupy"))
    for name in "rlgc":
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-8,
                                   atol=1e-12 * np.abs(getattr(a, name)).max())
    assert b.stages["extract.peec_eigh"] == "cupy" and b.stages["extract.peec_assembly"] == "numpy"


def test_cascade_on_device_matches_host():
    import cupy
    from helpers import coupled_pair

    from sigint.channel.lines import cascade_s
    from sigint.gpu.ops import cascade

    f = np.linspace(0, 40e9, 401)
    secs = [np.asarray(coupled_pair(f, ln, 46.0, 42.0, 4.1, 3.9).s) for ln in (1e-3, 2e-3, 0.5e-3)]
    got = cupy.asnumpy(cascade(secs, xp=cupy))
    np.testing.assert_allclose(got, cascade_s(secs), rtol=1e-10, atol=1e-13)
