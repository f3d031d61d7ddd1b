"""A conductor near a parallel dielectric interface (issue 9, kind 1).

The reference is tests/layered_reference.py: another formulation (free charge on the
conductor only, the grounded slab in an image-series Green's function), another mesh
(polynomially graded, Richardson-extrapolated), written independently of sigint's BEM.
"""

import layered_reference as ref
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sigint.extract.bem import BemSolver
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section

UM = 1e-6
W, T, H = 100.0, 10.0, 100.0        # strip width, thickness; slab on the ground plane, um


def strip_over_slab(gap_um, eps_top, eps_slab):
    return dict(materials={"slab": {"eps_r": eps_slab}, "top": {"eps_r": eps_top}},
                stack=[dict(material="slab", thickness=f"{H} um"), dict(material="top")],
                ground_plane=dict(y="0 um"),
                conductors=[dict(name="s", shape="rectangle", x="0 um", y=f"{H + gap_um} um",
                                 width=f"{W} um", height=f"{T} um")])


def production(gap_um, eps_top, eps_slab, refine=1.0):
    solver = BemSolver(resolve(load_cross_section(strip_over_slab(gap_um, eps_top, eps_slab))),
                       refine)
    return solver.solve(1e9).real[0, 0], solver.panels.n


def reference(gap_um, eps_top, eps_slab, ns=(32, 64, 128)):
    rect = (-W / 2 * UM, W / 2 * UM, (H + gap_um) * UM, (H + gap_um + T) * UM)
    c, err, _order, _raw = ref.extrapolated(rect, H * UM, eps_top, eps_slab, ns)
    return c, err


def test_reference_solver_against_closed_forms():
    """The independent solver itself: no slab contrast is a strip over ground alone
    (K = 0, one image), an infinite-contrast slab puts the ground at the interface, and
    the issue's quoted independent value (74.96 pF/m, strip 1 um above a 100 um eps 4 slab)."""
    rect = (-0.5e-3, 0.5e-3, 1e-3, 1.0e-3 + 1e-9)       # a 1 mm strip at h = 1 mm (w/h = 1)
    c_air, _ = ref.extrapolated(rect, 0.4e-3, 1.0, 1.0)[:2]
    assert c_air == pytest.approx(26.385e-12, rel=2e-3)    # H1, Hammerstad-Jensen (+-0.2 %)
    # eps_slab -> infinity: the ground moves up to the interface; same strip, h = 0.6 mm
    c_inf = ref.capacitance(rect, 0.4e-3, 1.0, 1e12, 128)
    c_gnd = ref.capacitance((rect[0], rect[1], 0.6e-3, 0.6e-3 + 1e-9), 0.0, 1.0, 1.0, 128)
    assert c_inf == pytest.approx(c_gnd, rel=1e-6)
    c, err = reference(1.0, 1.0, 4.0, ns=(64, 128, 256))
    assert c * 1e12 == pytest.approx(74.96, abs=0.01) and err < 1e-4 * c


@pytest.mark.parametrize("eps_top, eps_slab", [(1.0, 4.0), (3.9, 11.9)])
@pytest.mark.parametrize("gap_over_width", [0.001, 0.01, 0.1, 1.0])
def test_default_mesh_within_half_a_percent_at_any_gap(gap_over_width, eps_top, eps_slab):
    """Measured (bench/interface_gap.py): worst 0.37 % (eps 1 over 4, gap 0.01 w), at
    most 287 panels. The issue asks for 0.5 %, asserted as is."""
    c, n = production(gap_over_width * W, eps_top, eps_slab)
    c_ref, err = reference(gap_over_width * W, eps_top, eps_slab)
    assert err < 1e-4 * c_ref
    assert abs(c / c_ref - 1) < 5e-3
    assert n < 600


@pytest.mark.parametrize("gap_um", [1e-3, 1e-2])
def test_nanometre_gaps_bounded_panels(gap_um):
    """1 nm and 10 nm (etch stops, barriers): the panel count does not grow as the gap
    shrinks, and C tends to the strip sitting on the interface."""
    c, n = production(gap_um, 1.0, 4.0)
    c_ref, _ = reference(gap_um, 1.0, 4.0)
    assert n < 600
    assert abs(c / c_ref - 1) < 5e-3


def test_convergence_with_refinement():
    """refine 1, 2, 4 at gap 0.01 w: the error falls (about as refine^-2)."""
    c_ref, _ = reference(1.0, 1.0, 4.0, ns=(64, 128, 256))
    errs = [abs(production(1.0, 1.0, 4.0, r)[0] / c_ref - 1) for r in (1, 2, 4)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-3 * 3


@settings(max_examples=20, deadline=None, derandomize=True)
@given(log_gap=st.floats(-5.0, 0.0), eps_top=st.floats(1.0, 12.0), eps_slab=st.floats(1.0, 12.0))
@example(log_gap=-2.0, eps_top=1.0, eps_slab=12.0)
@example(log_gap=-1.0, eps_top=12.0, eps_slab=1.0)
@example(log_gap=0.0, eps_top=7.0, eps_slab=1.0)
@example(log_gap=-5.0, eps_top=12.0, eps_slab=1.0)
def test_any_gap_any_contrast(log_gap, eps_top, eps_slab):
    """Property: gap = 10^log_gap x width (1 nm to 100 um), any pair of permittivities from
    1 to 12 on either side: the default mesh within 0.5 % of the independent solver
    (worst measured 0.37 %, eps 1 over 4 at gap 0.01 w; eps 12 over 1 at 0.1 w: 0.19 %)."""
    gap = 10 ** log_gap * W
    c, n = production(gap, eps_top, eps_slab)
    c_ref, _ = reference(gap, eps_top, eps_slab)
    assert abs(c / c_ref - 1) < 5e-3 and n < 600


@pytest.mark.parametrize("gap_um", [0.01, 1.0, 10.0])
def test_round_conductor_near_an_interface(gap_um):
    """A 100 um wire a gap above the eps 4 slab (10 nm to 10 um): chords graded in angle
    to the interface. Measured -0.23 %, -0.25 %, -0.30 % with 564, 229, 137 panels. (At
    1 nm, gap / diameter 1e-5, the smallest panel, 1e-3 of the diameter, is too coarse:
    +6.7 %.)"""
    cy = (H + gap_um + 50.0) * UM
    data = dict(materials={"slab": {"eps_r": 4}},
                stack=[dict(material="slab", thickness=f"{H} um"), dict(material="air")],
                ground_plane=dict(y="0 um"),
                conductors=[dict(name="w", shape="circle", x="0 um", y=f"{cy / UM} um",
                                 radius="50 um")])
    solver = BemSolver(resolve(load_cross_section(data)))
    c = solver.solve(1e9).real[0, 0]
    c_ref, err, _, _ = ref.extrapolated(None, H * UM, 1.0, 4.0, (256, 512, 1024),
                                        circle=(0.0, cy, 50 * UM))
    assert err < 1e-4 * c_ref
    assert abs(c / c_ref - 1) < 5e-3 and solver.panels.n < 700
