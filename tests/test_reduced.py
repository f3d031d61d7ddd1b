"""The reduced-basis solvers (sigint.extract.reduced) against independent values.

- area moments of rectangles and annular sectors against tensor Gauss quadrature of high
  order (polynomials: exact);
- the multipole series of ln|z - w| against the closed-form mean of Hoer & Love for
  rectangle pairs (peec._rect_pair, no series involved);
- clusters partition the filaments and mirror onto each other;
- R(f), L(f) and DC of the reduced system against the full filament solution on shipped
  cross-sections, with and without the mirror split, and the error falling with the
  basis tolerance;
- C and G of the boundary elements with the conductor block on a reduced basis against
  the LU solution, with a ground plane and for a neutral system (no plane).
"""

from pathlib import Path

import numpy as np
import pytest

from sigint.extract import bem, peec, reduced
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section

ROOT = Path(__file__).resolve().parents[1]
XS = ROOT / "channels" / "xsections"


def _rect_fil(rects: list[tuple[float, float, float, float]]) -> peec.Filaments:
    g = np.zeros((len(rects), 6))
    g[:, :4] = rects
    w, h = g[:, 1] - g[:, 0], g[:, 3] - g[:, 2]
    cov = np.zeros((len(rects), 2, 2))
    cov[:, 0, 0], cov[:, 1, 1] = w * w / 12, h * h / 12
    return peec.Filaments(kind=np.zeros(len(rects), dtype=int), g=g,
                          owner=np.arange(len(rects)), circle=-np.ones(len(rects), dtype=int),
                          area=w * h, sigma=np.full(len(rects), 5.8e7),
                          centroid=np.stack([(g[:, 0] + g[:, 1]) / 2, (g[:, 2] + g[:, 3]) / 2], 1),
                          cov=cov, size=np.hypot(w, h))


def _gauss_rect_mean(r, center, k, n=40):
    t, w = np.polynomial.legendre.leggauss(n)
    x = 0.5 * (r[0] + r[1]) + 0.5 * (r[1] - r[0]) * t
    y = 0.5 * (r[2] + r[3]) + 0.5 * (r[3] - r[2]) * t
    z = (x[:, None] - center.real) + 1j * (y[None, :] - center.imag)
    return (w[:, None] * w[None, :] * z ** k).sum() / 4.0


def test_rectangle_moments_match_quadrature():
    rects = [(0.3e-6, 0.7e-6, -0.2e-6, 0.05e-6), (-2e-6, -1.1e-6, 1e-6, 1.4e-6)]
    fil = _rect_fil(rects)
    c = 0.1e-6 + 0.2e-6j
    got = reduced.area_moments(fil, np.arange(2), c, 20)
    for i, r in enumerate(rects):
        for k in (0, 1, 2, 7, 20):
            ref = _gauss_rect_mean(r, c, k)
            # achieved ~1e-15 relative; the corner formula loses a few digits to cancellation
            assert abs(got[i, k] - ref) <= 1e-11 * abs(ref) + 1e-300


def test_sector_moments_match_quadrature():
    # annular sectors of a round conductor (the central disk included)
    geo = resolve(load_cross_section({
        "name": "one round wire", "stack": [{"material": "air"}],
        "conductors": [{"name": "w", "shape": "circle", "x": "0 um", "y": "0 um",
                        "radius": "5 um"},
                       {"name": "g", "shape": "circle", "x": "40 um", "y": "0 um",
                        "radius": "5 um", "reference": True}]}))
    fil = peec.mesh_filaments(geo, 1e9)
    sec = np.nonzero(fil.kind == peec.SECTOR)[0][:5]
    c = 3e-6 - 1e-6j
    got = reduced.area_moments(fil, sec, c, 6)
    t, w = np.polynomial.legendre.leggauss(60)
    for i, f in enumerate(sec):
        cx, cy, r0, r1, t0, t1 = fil.g[f]
        rr = 0.5 * (r0 + r1) + 0.5 * (r1 - r0) * t
        tt = 0.5 * (t0 + t1) + 0.5 * (t1 - t0) * t
        z = (cx + rr[:, None] * np.cos(tt[None])) + 1j * (cy + rr[:, None] * np.sin(tt[None])) - c
        wt = (w * rr)[:, None] * w[None, :]
        for k in range(7):
            ref = (wt * z ** k).sum() / wt.sum()
            # exact binomial form vs 60 x 60 Gauss points: achieved ~1e-15 of the scale
            assert abs(got[i, k] - ref) <= 1e-12 * abs(z).max() ** k


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.6])
def test_multipole_series_matches_closed_form(ratio):
    # two clusters of two rectangles each; radii sum = ratio x centre distance
    a = [(-0.5e-6, 0.0, -0.3e-6, 0.3e-6), (0.0, 0.5e-6, -0.3e-6, 0.1e-6)]
    rad = 0.5 * np.hypot(1e-6, 0.6e-6)
    dist = 2 * rad / ratio
    dx, dy = dist * 0.8, dist * 0.6
    b = [(x0 + dx, x1 + dx, y0 + dy, y1 + dy) for x0, x1, y0, y1 in a]
    fil = _rect_fil(a + b)
    ca, cb = 0j, dx + 1j * dy
    ma = reduced.area_moments(fil, np.arange(2), ca, reduced.ORDER)
    mb = reduced.area_moments(fil, np.arange(2, 4), cb, reduced.ORDER)
    t = reduced.log_translation(np.array([ca - cb]), reduced.ORDER)[0]
    series = (ma @ t @ mb.T).real
    exact = peec._rect_pair(np.repeat(fil.g[:2], 2, axis=0), np.tile(fil.g[2:], (2, 1)))
    # bound of the truncated series: ratio^(p+1)/(p+1) (relative to ln D ~ 1 here, the
    # means are of order ln(1e-6) ~ -14: compared absolutely)
    bound = ratio ** (reduced.ORDER + 1) / (reduced.ORDER + 1)
    # the closed form itself rounds to ~2e-13 of the mean (cancelling corner terms)
    assert np.abs(series.ravel() - exact).max() <= 3 * bound + 1e-11


def test_clusters_partition_and_mirror():
    geo = resolve(load_cross_section(XS / "si_interposer_bus.yaml"))
    fil = peec.mesh_filaments(geo, 100e9)
    perm = reduced._vertical_mirror(fil, geo.ground_y)
    assert perm is not None
    for mirror in (None, perm):
        clusters, partner = reduced.cluster_filaments(fil, 100, mirror)
        allids = np.sort(np.concatenate(clusters))
        np.testing.assert_array_equal(allids, np.arange(fil.n))
        assert max(c.size for c in clusters) <= 100
        assert all(np.unique(fil.owner[c]).size == 1 for c in clusters)
        np.testing.assert_array_equal(partner[partner], np.arange(len(clusters)))
        if mirror is not None:
            for c, e in enumerate(partner):
                if e != c:
                    np.testing.assert_array_equal(clusters[e], perm[clusters[c]])
                else:
                    assert set(perm[clusters[c]].tolist()) == set(clusters[c].tolist())


def _rl(solver, f):
    z = solver.solve(f)
    return z.real, z.imag / (2 * np.pi * f)[:, None, None]


def _rel(a, b):
    return float((np.abs(a - b).max(axis=(1, 2)) / np.abs(b).max(axis=(1, 2))).max())


@pytest.fixture(scope="module")
def bus4():
    geo = resolve(load_cross_section(XS / "si_interposer_bus.yaml"))
    return geo, peec.PeecSolver(geo, 100e9, method="full")


@pytest.mark.parametrize("mirror", [True, False])
def test_reduced_matches_full_solution(bus4, mirror, monkeypatch):
    geo, full = bus4
    if not mirror:
        monkeypatch.setattr(reduced, "_vertical_mirror", lambda fil, ground_y: None)
    red = peec.PeecSolver(geo, 100e9, method="reduced")
    assert red.reduced["mirror"] is mirror
    assert red.reduced["unknowns"] < full.unknowns / 2
    f = np.geomspace(1e6, 100e9, 31)
    (rf, lf), (rr, lr) = _rl(full, f), _rl(red, f)
    # achieved (tolerance 1e-5): R 2.3e-7 / 6.2e-8, L 2.3e-7 / 3.0e-8 of the largest entry
    # at each frequency (mirror split / not)
    assert _rel(rr, rf) < 7e-7
    assert _rel(lr, lf) < 7e-7
    (r0f, l0f), (r0r, l0r) = full.dc(), red.dc()
    np.testing.assert_allclose(r0r, r0f, rtol=0, atol=1e-9 * np.abs(r0f).max())
    np.testing.assert_allclose(l0r, l0f, rtol=0, atol=4e-8 * np.abs(l0f).max())   # 1.2e-8


def test_error_falls_with_the_basis_tolerance(bus4):
    geo, full = bus4
    f = np.geomspace(1e8, 100e9, 7)
    rf, _ = _rl(full, f)
    fil = full.fil
    sq = np.sqrt(fil.sigma * fil.area)
    b = np.zeros((fil.n, len(geo.conductors)))
    b[np.arange(fil.n), fil.owner] = 1.0
    errs, sizes = [], []
    for tol in (1e-2, 1e-3, 1e-5):
        lam, w, info = reduced.reduced_modes(fil, geo.ground_y, geo.top_y, sq, sq[:, None] * b,
                                             2 * np.pi * 100e9, tol=tol)
        red = peec.PeecSolver.__new__(peec.PeecSolver)
        red.__dict__.update(full.__dict__, lam=lam, w_all=w, _outer=None)
        errs.append(_rel(_rl(red, f)[0], rf))
        sizes.append(info["unknowns"])
    assert sizes[0] < sizes[1] < sizes[2]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-5


def test_round_conductors_without_plane():
    # sectors (moments by quadrature) and no image plane: the 3 x 3 TSV array at 20 GHz
    geo = resolve(load_cross_section(XS / "tsv_array_3x3.yaml"))
    full = peec.PeecSolver(geo, 20e9, method="full")
    red = peec.PeecSolver(geo, 20e9, method="reduced")
    f = np.geomspace(1e7, 20e9, 9)
    (rf, lf), (rr, lr) = _rl(full, f), _rl(red, f)
    # achieved 5.7e-6 (R) and 7.5e-7 (L): thick conductors need more of the basis
    assert _rel(rr, rf) < 2e-5
    assert _rel(lr, lf) < 3e-6


def test_method_is_checked():
    geo = resolve(load_cross_section(XS / "si_interposer_bus.yaml"))
    with pytest.raises(ValueError, match="method"):
        peec.PeecSolver(geo, 1e9, method="fast")


@pytest.mark.parametrize("name", ["si_interposer_bus", "organic_rdl_bus"])
def test_bem_reduced_conductor_block_matches_lu(name):
    # with a ground plane, and without (a neutral system: potential at infinity unknown)
    geo = resolve(load_cross_section(XS / f"{name}.yaml"))
    got = {}
    for method in ("full", "reduced"):
        s = bem.BemSolver(geo, method=method)
        got[method] = (s.solve_vacuum(), [s.solve(f) for f in (1e7, 1e9, 1e11)],
                       s.reduced_unknowns, s.cond_rows.size)
    (c0f, cf, _, n_panels), (c0r, cr, k, _) = got["full"], got["reduced"]
    assert k is not None and k < n_panels
    # achieved 1.2e-9 .. 1.6e-9 of the largest entry (basis tolerance 1e-7)
    assert np.abs(c0r - c0f).max() <= 5e-9 * np.abs(c0f).max()
    for a, b in zip(cr, cf):
        assert np.abs(a.real - b.real).max() <= 5e-9 * np.abs(b.real).max()
        assert np.abs(a.imag - b.imag).max() <= 5e-9 * np.abs(b.imag).max()


def test_bem_method_is_checked():
    geo = resolve(load_cross_section(XS / "si_interposer_bus.yaml"))
    with pytest.raises(ValueError, match="method"):
        bem.BemSolver(geo, method="fast")


def test_column_subsets_are_the_same_entries():
    # rows x cols of the kernel (images included) equal the same entries of the full matrix
    geo = resolve(load_cross_section(XS / "si_interposer_bus.yaml"))
    fil = peec.mesh_filaments(geo, 20e9)
    rng = np.random.default_rng(3)
    rows = rng.choice(fil.n, 40, replace=False)
    cols = rng.choice(fil.n, 70, replace=False)
    full = peec.mean_log_distance(fil, geo.ground_y)
    sub = peec.mean_log_distance(fil, geo.ground_y, rows=rows, cols=cols)
    # the full matrix computes each near pair once as (i <= j): the closed form's rounding
    # (~3e-12 relative, cancelling corner terms) differs between (i, j) and (j, i)
    np.testing.assert_allclose(sub, full[np.ix_(rows, cols)], rtol=1e-11, atol=0)


@pytest.mark.parametrize("name", ["si_interposer_bus16", "substrate_stripline_x16"])
def test_translated_conductor_blocks_are_the_direct_potentials(name):
    # the conductor rows of the BEM matrix, filled by translation of identical lines,
    # against the kernel evaluated directly on sampled rows (images, plates included)
    geo = resolve(load_cross_section(XS / f"{name}.yaml"))
    s = bem.BemSolver(geo, method="full")
    p = s.panels
    planes = [y for y in (geo.ground_y, geo.top_y) if y is not None]
    images = []
    for yp in planes:
        ai, bi = p.a.copy(), p.b.copy()
        ai[:, 1], bi[:, 1] = 2 * yp - p.a[:, 1], 2 * yp - p.b[:, 1]
        images.append((ai, bi))
    gap = None if geo.top_y is None else geo.top_y - geo.ground_y
    rows = np.random.default_rng(5).choice(s.cond_rows, 60, replace=False)
    direct = np.zeros((rows.size, p.n))
    for i, r in enumerate(rows):
        direct[i] = bem.potential_kernel(p.mid[r][None], p.a, p.b)[0]
        for ai, bi in images:
            direct[i] -= bem.potential_kernel(p.mid[r][None], ai, bi)[0]
        if gap is not None:
            direct[i] += bem._plates_terms(p.mid[r][None], p.a, p.b, p.normal[r][None],
                                           geo.ground_y, gap)[0][0]
    np.testing.assert_allclose(s.a0[rows, :p.n], direct, rtol=1e-12,
                               atol=1e-12 * np.abs(direct).max())


@pytest.mark.parametrize("name, expected", [("si_interposer_bus16", True),
                                            ("substrate_stripline", False),
                                            ("substrate_stripline_x16", False),
                                            ("si_interposer_bus", False)])
def test_auto_reduces_dense_buses_only(name, expected):
    # 5431 filaments of 1 um lines and plane (5 skin depths at 100 GHz): reduced; the
    # striplines' 15 um traces (70 skin depths), and the 4-signal bus (1259): full
    geo = resolve(load_cross_section(XS / f"{name}.yaml"))
    assert peec._reduce_pays(peec.mesh_filaments(geo, 100e9), geo, 100e9) is expected


def test_reduced_filaments_never_claim_the_device():
    from types import SimpleNamespace

    from sigint.extract.rlgc import extract_stages

    gpu = SimpleNamespace(name="cupy")
    assert extract_stages(gpu)["extract.peec_eigh"] == "cupy"
    assert extract_stages(gpu, reduced_rl=True)["extract.peec_eigh"] == "numpy"


def test_frequencies_without_a_positive_one_are_refused():
    from sigint.errors import InputError
    from sigint.extract.rlgc import extract

    for bad, rule in (([0.0], "above 0 Hz"), ([-1e9, 1e9], "non-negative"),
                      ([np.nan, 1e9], "finite")):
        with pytest.raises(InputError, match=rule):
            extract(XS / "si_interposer_bus.yaml", np.array(bad))


def test_conductor_rows_without_the_dense_matrix_are_its_entries():
    # the 16-signal bus (3680 conductor panels, ground plane): `auto` keeps the conductor
    # rows as translated blocks and strips; every row and column block equals the dense
    # matrix of `full`, and C, G agree with the LU solution
    geo = resolve(load_cross_section(XS / "si_interposer_bus16.yaml"))
    lean = bem.BemSolver(geo, method="auto")
    dense = bem.BemSolver(geo, method="full")
    assert lean.a0 is None and lean._lean is not None
    rows = lean._lean
    n = dense.panels.n
    rng = np.random.default_rng(2)
    g = np.sort(rng.choice(rows.cond, 80, replace=False))
    c = np.sort(rng.choice(n, 120, replace=False))
    np.testing.assert_array_equal(rows.rows(g), dense.a0[g, :n])
    np.testing.assert_array_equal(rows.cols(c), dense.a0[np.ix_(rows.cond, c)])
    np.testing.assert_array_equal(lean._kn, dense.a0[dense.diel_rows, :n])
    c0l, c0d = lean.solve_vacuum(), dense.solve_vacuum()
    # achieved 1.1e-9 (the reduced basis; the blocks themselves are exact)
    assert np.abs(c0l - c0d).max() <= 4e-9 * np.abs(c0d).max()
    for f in (1e8, 1e10):
        a, b = lean.solve(f), dense.solve(f)
        assert np.abs(a - b).max() <= 5e-9 * np.abs(b).max()
