"""Meshes of mirror-symmetric cross-sections are mirror-symmetric, meshes of translated ones
translated, and the extracted matrices and built channels keep the symmetry.

The mirror lanes of a bus (``sigint.analysis.lanes.mirror_lanes``) share their
equalization search only when the channel is symmetric to 1e-9; a mesh placing panels by
absolute position left it symmetric to about 2e-4.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from sigint.extract import bem
from sigint.extract.peec import mesh_filaments
from sigint.extract.rlgc import extract
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section

ROOT = Path(__file__).resolve().parents[1]


def _um(v: float) -> str:
    return f"{v!r} um"


def _bus(dx: float = 0.0, circles: bool = True, pattern: str = "GSSG") -> dict:
    """A GSSG bus of trapezoids in oxide over a wide plate near the silicon, and two round
    wires just under the oxide's surface (their chords graded to the interface), all
    mirror-symmetric about x = dx (um)."""
    conductors = [dict(name="m1", shape="rectangle", x=_um(dx), y="20.5 um", width="40 um",
                       height="0.5 um", reference=True)]
    if circles:
        conductors += [dict(name=f"w{k}", shape="circle", x=_um(dx + s * 12.0), y="25.3 um",
                            radius="0.5 um") for k, s in ((1, -1), (2, 1))]
    return dict(ground_plane=dict(y="0 um"),
                stack=[dict(material="si", thickness="20 um"),
                       dict(material="sio2", thickness="6 um"), dict(material="air")],
                conductors=conductors,
                buses=[dict(name="s", pattern=pattern, pitch="4 um", width="2 um",
                            top_width="1.6 um", height="1 um", x=_um(dx), y="22 um")])


def _geo(d: dict):
    return resolve(load_cross_section(d))


def _keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each panel as its two end points in lexicographic order, shape (P, 4)."""
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    return np.hstack([np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)])


def _match(ref: np.ndarray, other: np.ndarray, span: float):
    """Nearest panel of *other* to each of *ref* (keys) and whether all lie within 1e-12
    of the larger of the geometry's span and the coordinates (rounding scale)."""
    dist, idx = cKDTree(other).query(ref)
    tol = 1e-12 * np.maximum(span, np.abs(ref).max(axis=1))
    return idx, dist, bool(np.all(dist <= tol))


def test_bus_panels_are_mirror_images():
    geo = _geo(_bus())
    x0, x1, _, _ = geo.span
    assert x0 == -x1                                   # the geometry's own mirror line: x = 0
    p = bem.mesh_panels(geo)
    ma, mb = p.a.copy(), p.b.copy()
    ma[:, 0] *= -1
    mb[:, 0] *= -1
    idx, dist, ok = _match(_keys(ma, mb), _keys(p.a, p.b), x1 - x0)
    assert ok, f"largest mismatch {dist.max():.3g} m"
    assert np.array_equal(idx[idx], np.arange(p.n))     # an involution
    # the same materials either side, conductors onto their mirror conductors
    names = [c.name for c in geo.conductors]
    image = {"s1": "s2", "s2": "s1", "w1": "w2", "w2": "w1", "m1": "m1", "s_g1": "s_g2",
             "s_g2": "s_g1"}
    for i, j in enumerate(idx):
        if p.owner[i] >= 0:
            assert names[p.owner[j]] == image[names[p.owner[i]]]
        else:
            assert {p.mat_plus[i], p.mat_minus[i]} == {p.mat_plus[j], p.mat_minus[j]}
    # the interfaces are meshed too (not only conductors), and the wires near one graded
    assert (p.owner < 0).sum() > 100
    assert bem.panel_mirror(p) is not None


@pytest.mark.parametrize("dx", [37.3, -1234.5])
def test_translated_bus_gives_translated_panels(dx):
    geo = _geo(_bus())
    p0 = bem.mesh_panels(geo)
    p1 = bem.mesh_panels(_geo(_bus(dx)))
    assert p1.n == p0.n
    shift = np.array([dx * 1e-6, 0.0])
    x0, x1, _, _ = geo.span
    idx, dist, ok = _match(_keys(p0.a + shift, p0.b + shift), _keys(p1.a, p1.b), x1 - x0)
    assert ok, f"largest mismatch {dist.max():.3g} m"
    assert np.array_equal(np.sort(idx), np.arange(p1.n))
    assert np.array_equal(p1.owner[idx], p0.owner)


def test_translated_filaments():
    f0 = mesh_filaments(_geo(_bus(circles=False)), 1e11)
    f1 = mesh_filaments(_geo(_bus(250.0, circles=False)), 1e11)
    assert f1.n == f0.n
    dist, _ = cKDTree(f1.centroid).query(f0.centroid + np.array([250e-6, 0.0]))
    assert dist.max() <= 1e-12 * 300e-6


def test_mirror_filaments_of_a_bump_disk():
    """A round conductor's central disk: its centroid is its centre (Gauss angles over a
    full turn put it off by ~1e-3 of the disk's radius, breaking the mirror)."""
    d = dict(conductors=[dict(name="a", shape="circle", x="-30 um", y="0 um", radius="12.5 um"),
                         dict(name="b", shape="circle", x="30 um", y="0 um", radius="12.5 um",
                              reference=True)])
    fil = mesh_filaments(_geo(d), 1e11)
    mirrored = fil.centroid * np.array([-1.0, 1.0])
    dist, perm = cKDTree(fil.centroid).query(mirrored)
    assert dist.max() <= 1e-12 * 60e-6
    assert np.array_equal(perm[perm], np.arange(fil.n))
    disk = (fil.kind != 0) & (fil.g[:, 2] == 0)
    np.testing.assert_allclose(fil.centroid[disk], [[-30e-6, 0.0], [30e-6, 0.0]],
                               rtol=0, atol=1e-12 * 30e-6)
    # second moments of a disk of radius r about its centre: r^2 / 4 on the diagonal
    r = fil.g[disk, 3]
    np.testing.assert_allclose(fil.cov[disk][:, 0, 0], r ** 2 / 4, rtol=1e-12)
    np.testing.assert_allclose(fil.cov[disk][:, 1, 1], r ** 2 / 4, rtol=1e-12)


@pytest.mark.parametrize("basis", ["auto", "reduced"])
def test_bus_matrices_are_mirror_symmetric(basis):
    """C, G, L, R of a symmetric bus: X[i, j] == X[n-1-i, n-1-j] to 1e-10 of the largest
    entry (the reduced conductor basis included: mirrored clusters share mirrored bases)."""
    geo = _geo(_bus(circles=False, pattern="GSSGSSG"))
    res = extract(geo, np.array([1e8, 2e10]), basis=basis)
    assert len(geo.signals) == 4
    for name in ("c", "g", "l", "r"):
        a = getattr(res, name)
        err = np.abs(a[:, ::-1, ::-1] - a).max() / np.abs(a).max()
        assert err <= 1e-10, (name, err)
    # not trivially: the outer and inner lines differ by far more than that
    c = res.c[0]
    assert abs(c[0, 0] - c[1, 1]) > 1e-5 * c[0, 0]


def test_bump_array_is_symmetric_under_the_half_turn():
    """A bump map's lanes i and L-1-i sit a half turn apart (the mirror lanes of a
    channel): R, L, C of a 2 x 4 checkerboard are invariant under i -> L-1-i."""
    cond = []
    for row, y in (("SGSG", 22.5), ("GSGS", -22.5)):
        for k, ch in enumerate(row):
            cond.append(dict(name=f"{ch}{len(cond)}", shape="circle", x=_um((k - 1.5) * 45.0),
                             y=_um(y), radius="12.5 um", reference=ch == "G"))
    res = extract(_geo(dict(stack=[dict(material="sio2")], conductors=cond)),
                  np.array([1e9, 3e10]))
    for name in ("c", "l", "r"):
        a = getattr(res, name)
        err = np.abs(a[:, ::-1, ::-1] - a).max() / np.abs(a).max()
        assert err <= 1e-10, (name, err)


@settings(max_examples=40, deadline=None)
@given(x0=st.floats(-1e-3, 1e-3), y0=st.floats(-1e-3, 1e-3), length=st.floats(1e-6, 1e-3),
       angle=st.floats(0, 2 * np.pi), seed=st.integers(0, 2**31), shift=st.floats(-1e-3, 1e-3))
def test_graded_points_mirror_and_translate(x0, y0, length, angle, seed, shift):
    """Break points of a segment graded to its ends and to a few points: the mirrored
    (reversed) segment with mirrored points gets the mirrored break points, a translated
    one translated break points."""
    rng = np.random.default_rng(seed)
    p0 = np.array([x0, y0])
    p1 = p0 + length * np.array([np.cos(angle), np.sin(angle)])
    att = p0 + length * rng.uniform(-1, 2, (3, 2))
    h_min = 1e-3 * length

    def size(attractors):
        def fn(pts, d0, d1):
            d = np.min(np.hypot(pts[:, None, 0] - attractors[None, :, 0],
                                pts[:, None, 1] - attractors[None, :, 1]), axis=1)
            return np.maximum(np.minimum.reduce([np.full(d.shape, length / 3),
                                                 0.5 * (np.minimum(d0, d1) + h_min),
                                                 0.7 * np.maximum(d, h_min)]), 0.5 * h_min)
        return fn

    pts = bem._graded_points(p0, p1, size(att), 2, h_min)
    flip = np.array([-1.0, 1.0])
    mir = bem._graded_points(p1 * flip, p0 * flip, size(att * flip), 2, h_min)
    scale = max(length, np.abs(p0).max(), np.abs(p1).max())
    assert mir.shape == pts.shape
    np.testing.assert_allclose(mir[::-1] * flip, pts, rtol=0, atol=1e-12 * scale)
    d = np.array([shift, -0.5 * shift])
    tr = bem._graded_points(p0 + d, p1 + d, size(att + d), 2, h_min)
    assert tr.shape == pts.shape
    np.testing.assert_allclose(tr - d, pts, rtol=0, atol=1e-12 * (scale + abs(shift)))


@settings(max_examples=60, deadline=None)
@given(v=st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=30, unique=True),
       spacing=st.floats(1e-3, 3.0), middle=st.booleans())
def test_thinning_keeps_mirror_symmetry(v, spacing, middle):
    half = np.sort(np.array(v))
    xs = np.concatenate([-half[::-1], [0.0] if middle else [], half])
    out = bem._thin(xs, spacing)
    np.testing.assert_array_equal(out, -out[::-1])
    assert out[0] == xs[0] and out[-1] == xs[-1]
    assert np.all(np.isin(out, xs))
    assert np.all(np.diff(out)[1:-1] >= spacing) if out.size > 3 else True


@pytest.mark.slow   # builds the example channel (~10 s uncached on 2 cores)
def test_ucie_example_lanes_are_found_mirrored(tmp_path, monkeypatch):
    from sigint.analysis.lanes import mirror_lanes
    from sigint.api import prepare_built
    from sigint.channel.build import build_file

    monkeypatch.setenv("SIGINT_CACHE", str(tmp_path))
    built = build_file(ROOT / "channels" / "ucie_advanced_2mm.yaml")
    link = prepare_built(built)
    perm = mirror_lanes(link)
    assert perm is not None
    np.testing.assert_array_equal(perm, np.arange(16)[::-1])
