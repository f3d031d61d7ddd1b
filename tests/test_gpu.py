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

    from sigint.link.models import Rx, Tx
    from sigint.link.vtf import terminated_transfers
    from sigint.network.ports import build_port_map, link_network

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
    from sigint.xsection.model import load_cross_section

    geo = resolve(load_cross_section(X.bernal_5_lines()))
    np.testing.assert_allclose(BemSolver(geo, xp=cupy).solve(1e9), BemSolver(geo).solve(1e9),
                               rtol=1e-9)
    geo = resolve(load_cross_section(X.two_wires()))
    f = np.array([1e6, 1e9, 1e11])
    np.testing.assert_allclose(PeecSolver(geo, 1e11, xp=cupy).solve(f),
                               PeecSolver(geo, 1e11).solve(f), rtol=1e-8)
