"""Geometries that used to fail (issue 9): touching conductors, zero-thickness strips, a top
plane, perfect conductors, the external inductance, and a cache keyed by the solver code."""

import json
import math

import numpy as np
import pytest
import xsections as X

from sigint.channel import cache
from sigint.cli import main
from sigint.errors import InputError
from sigint.extract.bem import BemSolver, plates_remainder
from sigint.extract.rlgc import extract
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section

EPS0 = 8.8541878128e-12
MU0 = 1.25663706212e-6
SIGMA_CU = 5.8e7
F = np.array([0.0, 1e9])


def bar(name, x, y, w, h, ref=False, material="cu"):
    return dict(name=name, shape="rectangle", x=f"{x} um", y=f"{y} um", width=f"{w} um",
                height=f"{h} um", reference=ref, material=material)


def rlgc(data, f=F):
    return extract(load_cross_section(data), f)


# ------------------------------------------------------------------ kind 2: touching
@pytest.mark.parametrize("conductors, ground, words", [
    ([bar("a", 0, 5, 10, 2), bar("b", 10, 5, 10, 2)], True, ["'b' touches 'a'", "x = 5 um, y = 5 um"]),
    ([bar("a", 0, 5, 10, 2), bar("b", 10, 7, 10, 2)], True, ["'b' touches 'a'", "x = 5 um, y = 7 um"]),
    ([bar("a", 0, 0, 10, 2)], True, ["signal 'a' touches the ground plane", "y = 0 um"]),
    ([bar("a", 0, 2, 10, 2), bar("g", 0, 0, 30, 2, ref=True)], False, ["'g' touches 'a'", "y = 2 um"]),
])
def test_different_nets_touching_is_an_input_error(conductors, ground, words):
    data = dict(conductors=conductors, **({"ground_plane": {"y": "0 um"}} if ground else {}))
    with pytest.raises(InputError) as exc:
        resolve(load_cross_section(data), "t.yaml")
    msg = str(exc.value)
    assert msg.startswith("t.yaml: ") and all(w in msg for w in words), msg


def test_touching_signals_exit_2_on_the_command_line(tmp_path, capsys):
    p = tmp_path / "touch.yaml"
    p.write_text("ground_plane: {y: 0 um}\nconductors:\n"
                 "  - {name: a, shape: rectangle, x: 0 um, y: 5 um, width: 10 um, height: 2 um}\n"
                 "  - {name: b, shape: rectangle, x: 10 um, y: 5 um, width: 10 um, height: 2 um}\n")
    assert main(["extract", str(p)]) == 2
    err = capsys.readouterr().err
    assert "touches" in err and "Traceback" not in err


def test_reference_bar_on_the_ground_plane_equals_its_mirror_image():
    """A reference bar resting on the plane. Independent construction by images: without
    the plane, the signal, its mirror image (driven -1) and the bar doubled through the plane
    (a free-space problem with nothing touching); then C = C11 - C12, L = L11 - L12,
    R = R11 - R12. Measured 3e-5 (C), 2e-4 (L at 1 GHz), 1e-3 (R at 1 GHz)."""
    on_plane = rlgc(dict(ground_plane=dict(y="0 um"),
                         conductors=[bar("s", 0, 5, 10, 2), bar("g", 20, 0, 10, 8, ref=True)]))
    mirror = rlgc(dict(conductors=[bar("s", 0, 5, 10, 2), bar("s_image", 0, -7, 10, 2),
                                   bar("g", 20, -8, 10, 16, ref=True)]))
    for q, tol in ((on_plane.c, 2e-4), (on_plane.l, 1e-3), (on_plane.r[1:], 3e-3)):
        m = {id(on_plane.c): mirror.c, id(on_plane.l): mirror.l}.get(id(q), mirror.r[1:])
        np.testing.assert_allclose(q[:, 0, 0], m[:, 0, 0] - m[:, 0, 1], rtol=tol)
    # at DC the perfect plane carries the return current: R is the signal's own
    assert on_plane.r[0, 0, 0] == pytest.approx(1 / (SIGMA_CU * 10e-6 * 2e-6), rel=1e-9)


def test_references_sharing_an_edge_are_one_conductor():
    """Two reference bars side by side equal one bar of their union (measured 2.4e-4 on C,
    2.3e-4 on L at 1 GHz, 1e-4 on R)."""
    split = rlgc(dict(conductors=[bar("s", 0, 10, 10, 2), bar("g1", -10, 0, 20, 4, ref=True),
                                  bar("g2", 10, 0, 20, 4, ref=True)]))
    whole = rlgc(dict(conductors=[bar("s", 0, 10, 10, 2), bar("g", 0, 0, 40, 4, ref=True)]))
    np.testing.assert_allclose(split.c, whole.c, rtol=1e-3)
    np.testing.assert_allclose(split.l, whole.l, rtol=1e-3)
    np.testing.assert_allclose(split.r, whole.r, rtol=1e-3)


# ------------------------------------------------------- kinds 3 and 5: surface currents
def test_zero_thickness_microstrip_inductance_is_external():
    """H1 geometry: a zero-thickness strip is a lossless sheet; L at every frequency is
    L_ext = mu0 eps0 C0^-1 from the BEM (REFERENCES.md E10), a different discretisation
    (filament-side Galerkin segments vs collocated panels). Measured 1.3e-4."""
    res = rlgc(X.microstrip(), np.array([0.0, 1e9, 1e10]))
    np.testing.assert_allclose(res.l[:, 0, 0], MU0 * EPS0 / res.c0[0, 0], rtol=5e-4)
    assert np.all(res.r == 0)
    assert any("surface current" in n for n in res.notes)


def test_zero_thickness_strip_over_a_copper_bar():
    """Mixed sheet and filaments: at DC the only resistance is the bar's, 1/(sigma w t)."""
    res = rlgc(dict(conductors=[bar("s", 0, 5, 10, 0), bar("g", 0, 0, 30, 2, ref=True)]),
               np.array([0.0, 1e9, 1e12]))
    assert res.r[0, 0, 0] == pytest.approx(1 / (SIGMA_CU * 30e-6 * 2e-6), rel=1e-6)
    lext = MU0 * EPS0 / res.c0[0, 0]
    assert np.all(np.diff(res.l[:, 0, 0]) < 0)                 # internal inductance fades
    assert res.l[-1, 0, 0] - res.r[-1, 0, 0] / (2 * math.pi * 1e12) == pytest.approx(lext, rel=1e-2)


def test_pec_signal_is_a_surface_current():
    """material: pec as a signal: no filaments (skin depth zero), R = 0, L = L_ext
    (measured 3e-5)."""
    res = rlgc(dict(ground_plane=dict(y="0 um"), conductors=[bar("s", 0, 5, 10, 2, material="pec")]))
    assert res.peec_unknowns < 200
    assert np.all(res.r == 0)
    np.testing.assert_allclose(res.l[:, 0, 0], MU0 * EPS0 / res.c0[0, 0], rtol=3e-4)


# ----------------------------------------------------------------- kind 4: a top plane
def test_plates_kernel_is_the_image_series():
    """The closed-form parallel-plate kernel against the brute image series (charges +1 at
    y' + 2nb, -1 at -y' + 2nb), less the three terms taken exactly; series truncated at
    |n| = 4000 (tail ~ 1e-4 of its terms' size)."""
    b, sx, sy = 1.0, 0.1, 0.7
    tx, ty = 0.3, 0.2
    n = np.arange(-4000, 4001)
    plus, minus = sy + 2 * n * b, -sy + 2 * n * b
    keep_p, keep_m = n != 0, (n != 0) & (n != 1)

    def series(x, y):
        return (0.5 * np.log((x - sx) ** 2 + (y - plus[keep_p]) ** 2).sum()
                - 0.5 * np.log((x - sx) ** 2 + (y - minus[keep_m]) ** 2).sum())

    k, gx, gy = plates_remainder(np.array(tx), np.array(ty), np.array(sx), np.array(sy), 0.0, b)
    assert float(k) == pytest.approx(series(tx, ty), abs=1e-4)
    h = 1e-5
    assert float(gx) == pytest.approx((series(tx + h, ty) - series(tx - h, ty)) / (2 * h), abs=1e-3)
    assert float(gy) == pytest.approx((series(tx, ty + h) - series(tx, ty - h)) / (2 * h), abs=1e-3)


def test_thick_lines_between_two_planes_obey_lc_identity():
    """Two 8 x 4 um copper lines between planes 20 um apart, air: at 100 GHz (skin depth
    0.21 um) L - R/w is the external inductance, whose product with C0 is mu0 eps0 I
    (REFERENCES.md E10). Measured 8.0e-4 (the filament mesh's internal-inductance error
    at this skin depth)."""
    data = dict(ground_plane=dict(y="0 um"), top_plane=dict(y="20 um"),
                conductors=[bar("s1", -6, 8, 8, 4), bar("s2", 6, 8, 8, 4)])
    f = np.array([1e11])
    res = rlgc(data, f)
    lext = res.l[-1] - res.r[-1] / (2 * math.pi * f[-1])
    np.testing.assert_allclose(lext @ res.c0 / (MU0 * EPS0), np.eye(2), atol=2.5e-3)


def test_top_plane_with_a_dielectric_interface_equals_a_wide_plate():
    """Coupled 0.5 x 0.05 mm lines 0.05 mm above an eps 4 / air interface between planes 1 mm
    apart, against the top plane replaced by a 16 mm wide zero-thickness reference plate
    (the BEM's free-space kernel; the field between planes decays as exp(-pi x / b), so the
    plate's edges 7.5 b away change C by ~1e-10). Measured 6e-4 (refine 1)."""
    def data(infinite):
        d = dict(materials={"d4": {"eps_r": 4}}, ground_plane=dict(y="0 mm"),
                 stack=[dict(material="d4", thickness="0.4 mm"), dict(material="air")],
                 conductors=[dict(name=n, shape="rectangle", x=f"{x} mm", y="0.45 mm",
                                  width="0.5 mm", height="0.05 mm")
                             for n, x in (("s1", -0.3), ("s2", 0.3))])
        if infinite:
            d["top_plane"] = dict(y="1 mm")
        else:
            d["conductors"].append(dict(name="top", shape="rectangle", x="0 mm", y="1 mm",
                                        width="16 mm", height="0 mm", reference=True))
        return d
    c_inf, c_plate = (BemSolver(resolve(load_cross_section(data(k)))).solve(1e9).real
                      for k in (True, False))
    np.testing.assert_allclose(c_inf, c_plate, rtol=2e-3)


def test_zero_thickness_coupled_stripline_between_planes_lc_identity():
    """E6 geometry between infinite planes: sheet currents, L C0 = mu0 eps0 I (measured
    2.6e-4)."""
    res = rlgc(X.stripline_planes(coupled=True))
    np.testing.assert_allclose(res.l[1] @ res.c0 / (MU0 * EPS0), np.eye(2), atol=1e-3)


@pytest.mark.parametrize("extra, words", [
    (dict(top_plane=dict(y="1 mm")), "needs a ground plane"),
    (dict(ground_plane=dict(y="0 mm"), top_plane=dict(y="-1 mm")), "is not above the ground plane"),
    (dict(ground_plane=dict(y="0 mm"), top_plane=dict(y="0.2 mm")), "reaches above the top plane"),
])
def test_top_plane_errors(extra, words):
    data = dict(conductors=[dict(name="s", shape="rectangle", x="0 mm", y="0.1 mm",
                                 width="0.5 mm", height="0.2 mm")], **extra)
    with pytest.raises(InputError, match=words):
        resolve(load_cross_section(data), "t.yaml")


# ------------------------------------------------------- kind 6: L_ext, --json at 0 Hz
def test_external_inductance_in_dataset_and_json(tmp_path, capsys):
    """E1 coax: L_external = mu0/(2 pi) ln 2 = 138.629 nH/m (measured 2e-3 at the default
    mesh, the BEM's C0 error); the JSON keeps the 0 Hz matrices the netCDF file has."""
    res = rlgc(X.coax(), np.array([0.0, 1e4]))         # L_ext needs no skin-depth mesh
    ds = res.to_dataset()
    assert ds["L_external"].attrs["units"] == "H/m"
    assert float(ds["L_external"][0, 0]) == pytest.approx(MU0 / (2 * math.pi) * math.log(2), rel=5e-3)
    p = tmp_path / "ms.yaml"
    p.write_text("ground_plane: {y: 0 um}\nconductors:\n"
                 "  - {name: s, shape: rectangle, x: 0 um, y: 5 um, width: 10 um, height: 2 um}\n")
    assert main(["extract", str(p), "--freq", "0:10GHz:3", "--json", "-q"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert "0" in j["matrices"]["R_ohm_per_mm"]
    assert j["matrices"]["R_ohm_per_mm"]["0"][0][0] == pytest.approx(1 / (SIGMA_CU * 20e-12) * 1e-3, rel=1e-6)
    assert "L_external_nH_per_mm" in j["matrices"]


# -------------------------------------------------------- kind 7: cache keyed by the code
def test_a_solver_change_misses_the_cache(tmp_path, monkeypatch):
    """The key hashes the solver modules' source: editing one changes it."""
    mod = tmp_path / "fake_solver_for_cache_test.py"
    mod.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cache, "SOLVER_MODULES", cache.SOLVER_MODULES + ("fake_solver_for_cache_test",))
    monkeypatch.setattr(cache, "_DIGESTS", {})
    monkeypatch.setenv("SIGINT_CACHE", str(tmp_path / "cache"))
    data, f = {"name": "x"}, np.array([1e9])
    k1 = cache.cache_key(data, f, 1.0)
    cache.store(k1, {"a": np.ones(2)})
    assert cache.load(cache.cache_key(data, f, 1.0)) is not None            # same code: a hit
    mod.write_text("X = 2\n")                                                # the solver changes
    monkeypatch.setattr(cache, "_DIGESTS", {})                               # a new process
    k2 = cache.cache_key(data, f, 1.0)
    assert k2 != k1 and cache.load(k2) is None
    assert "sigint.extract.bem" in cache.SOLVER_MODULES and "sigint.extract.peec" in cache.SOLVER_MODULES
