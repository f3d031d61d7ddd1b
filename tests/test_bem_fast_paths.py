"""BEM fast paths: block elimination and the modal (diagonal) low-rank update against the
complex LU and the dense k x k solve, and
the pruned distance to conductor edges (mesh grading) against every edge."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.extract import bem
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section

BUS = Path(__file__).resolve().parents[1] / "channels" / "xsections" / "si_interposer_bus.yaml"


def test_one_kind_of_varying_interface_uses_the_modal_update_and_matches_the_dense_solve():
    # independent: the same Woodbury update by a dense solve at each frequency
    geo = resolve(load_cross_section(BUS), BUS)
    f = np.geomspace(1e6, 1e11, 41)
    b = bem.BemSolver(geo)
    b.factor(float(np.sqrt(f[0] * f[-1])))
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
    b.factor(1e9)
    assert b._modal is None, why


class _Box:
    """An axis-aligned rectangle with what the mesher reads of a conductor."""

    round = False
    kind = "rect"

    def __init__(self, x0, x1, y0, y1):
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1

    def polygon(self):
        return np.array([(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1),
                         (self.x0, self.y1)])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n_rect=st.integers(1, 40), spread=st.floats(1.0, 200.0))
def test_distance_to_shapes_with_pruning_is_the_nearest_edge(seed, n_rect, spread):
    """Pruned edge distance against every edge by brute force (point to segment)."""
    rng = np.random.default_rng(seed)
    boxes = []
    for _ in range(n_rect):
        x, y = rng.uniform(-spread, spread, 2)
        w, h = rng.uniform(0.5, 5, 2)
        boxes.append(_Box(x, x + w, y, y + h))
    line = rng.uniform(-2 * spread, 2 * spread, (2, 2))
    pts = line[0] + np.linspace(0, 1, 57)[:, None] * (line[1] - line[0])
    got = bem.dist_to_shapes(pts, boxes)
    ref = np.full(pts.shape[0], np.inf)
    for c in boxes:
        corners = c.polygon()
        for k in range(4):
            a, b = corners[k], corners[(k + 1) % 4]
            for i, p in enumerate(pts):
                t = min(1.0, max(0.0, float(np.dot(p - a, b - a) / np.dot(b - a, b - a))))
                ref[i] = min(ref[i], float(np.hypot(*(p - a - t * (b - a)))))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["si_interposer_bus.yaml", "organic_rdl_bus.yaml",
                                  "tsv_array_3x3.yaml"])
def test_block_elimination_equals_the_complex_factorisation(name):
    """C and G of shipped cross-sections (coarse meshes) by block elimination of the real
    conductor block against one complex LU of the whole system."""
    path = BUS.parent / name
    geo = resolve(load_cross_section(path), path)
    f = np.geomspace(1e6, 1e11, 9)
    got = []
    for blk in (True, False):
        b = bem.BemSolver(geo, 0.5)
        b.block_elimination = blk
        b.factor(1e8)
        got.append(np.array([b.solve(x) for x in f]))
    fast, full = got
    # reached: C 1.6e-12, G 1.0e-9 of the largest entry (si_interposer_bus: its G is small)
    scale_c = np.abs(full.real).max(axis=(1, 2), keepdims=True)
    scale_g = np.abs(full.imag).max(axis=(1, 2), keepdims=True)
    assert (np.abs(fast.real - full.real) / scale_c).max() < 5e-12
    assert (np.abs(fast.imag - full.imag) / scale_g).max() < 3e-9
