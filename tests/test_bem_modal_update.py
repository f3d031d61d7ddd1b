"""BEM frequency sweep: the modal (diagonal) low-rank update against the dense k x k solve."""

from pathlib import Path

import numpy as np
import pytest

from sigint.extract import bem
from sigint.xsection.geometry import resolve
from sigint.xsection.model import load_cross_section

BUS = Path(__file__).resolve().parents[1] / "channels" / "xsections" / "si_interposer_bus.yaml"


def test_one_kind_of_varying_interface_uses_the_modal_update_and_matches_the_dense_solve():
    # independent: the same Woodbury update by a dense solve at each frequency
    geo = resolve(load_cross_section(BUS), BUS)
    f = np.geomspace(1e6, 1e11, 41)
    b = bem.BemSolver(geo)
    b._factor(float(np.sqrt(f[0] * f[-1])))
    assert b._modal is not None                 # silicon / oxide only
    fast = np.array([b.solve(x) for x in f])
    b._modal = None
    dense = np.array([b.solve(x) for x in f])
    # reached 7e-19 (C) and 4e-16 (G) of the largest entry: rounding; 1e-12 leaves room for
    # other BLAS builds
    scale_c = np.abs(dense.real).max(axis=(1, 2), keepdims=True)
    scale_g = np.abs(dense.imag).max(axis=(1, 2), keepdims=True)
    assert (np.abs(fast.real - dense.real) / scale_c).max() < 1e-12
    assert (np.abs(fast.imag - dense.imag) / scale_g).max() < 1e-12


@pytest.mark.parametrize("name, why", [
    ("organic_rdl_bus.yaml", "two kinds of varying interface (polyimide/air, mold/polyimide)"),
    ("substrate_stripline.yaml", "one kind, but an eigenbasis with condition number ~2e7")])
def test_the_dense_solve_is_kept(name, why):
    path = BUS.parent / name
    geo = resolve(load_cross_section(path), path)
    b = bem.BemSolver(geo, 0.5)
    b._factor(1e9)
    assert b._modal is None, why
