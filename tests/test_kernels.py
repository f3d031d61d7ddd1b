"""The CUDA kernels, checked without a GPU.

* every ``kernels/*.cu`` compiles to PTX with nvcc for sm_80 and sm_90 (templates
  instantiated), so a typo fails CI; an empty ``kernels/`` is a failure, not a skip;
* the kernels' ``__host__ __device__`` per-pair functions, compiled for the host with the
  system C++ compiler and called through ctypes, agree with their numpy twins, called by
  name (``bem.potential_kernel``, ``bem.field_kernel``, ``peec._rect_pair``,
  ``peec._sector_pair``, ``peec.mean_log_distance``, ``stateye.fine_distribution``) to
  1e-12 relative, 1e-10 for accumulated sums. A wrong kernel formula fails here.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.gpu.kernels import KERNELS, kernel_dir, kernel_files

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "kernels").glob("*.cu"))
ARCHS = ["sm_80", "sm_90"]
NVCC = shutil.which("nvcc") or ("/usr/local/bin/nvcc" if Path("/usr/local/bin/nvcc").exists() else None)
CXX = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")

# kernel functions each source must export (template instantiations are mangled)
ENTRIES = {"bem_influence": ["bem_influence"], "peec_pair": ["peec_mean_log_distance"],
           "stateye_conv": ["stateye_convolve"]}


def test_kernel_sources_exist():
    assert SOURCES, "kernels/ holds no .cu source"
    assert {p.stem for p in SOURCES} == set(KERNELS) == set(ENTRIES)
    assert kernel_dir() == ROOT / "kernels"
    assert kernel_files() == SOURCES


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("src", SOURCES, ids=[p.name for p in SOURCES])
def test_kernel_compiles_to_ptx(src, arch, tmp_path):
    ptx = tmp_path / "k.ptx"
    out = subprocess.run([NVCC, f"-arch={arch}", "--ptx", "-std=c++14", "-DSIGINT_INSTANTIATE",
                          "--fmad=false", "-o", str(ptx), str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    text = ptx.read_text()
    entries = re.findall(r"\.entry\s+(\S+?)\(", text)
    for name in ENTRIES[src.stem]:
        assert any(name in e for e in entries), (name, entries)
    assert f".target {arch}" in text


# ----------------------------------------------------------------------------- host builds
@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """Compile kernels/<name>.cu for the host (once per module) and load it."""
    if CXX is None:
        pytest.skip("no C++ compiler to build the kernels' host functions")
    tmp = tmp_path_factory.mktemp("kernels_host")
    libs: dict[str, ctypes.CDLL] = {}

    def load(name: str) -> ctypes.CDLL:
        if name not in libs:
            so = tmp / f"{name}.so"
            out = subprocess.run([CXX, "-O2", "-std=c++14", "-shared", "-fPIC", "-DSIGINT_HOST_BUILD",
                                  "-x", "c++", str(ROOT / "kernels" / f"{name}.cu"), "-o", str(so)],
                                 capture_output=True, text=True)
            assert out.returncode == 0, out.stderr[-2000:]
            libs[name] = ctypes.CDLL(str(so))
        return libs[name]

    return load


def _p(a: np.ndarray, ctype=ctypes.c_double):
    assert a.flags.c_contiguous
    return a.ctypes.data_as(ctypes.POINTER(ctype))


L, I, D = ctypes.c_long, ctypes.c_int, ctypes.c_double


def _close(got, want, rtol):
    """Relative agreement, measured against the largest entry where an entry is ~0."""
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()))


def _random_panels(rng, n, scale=1e-4):
    a = rng.uniform(-scale, scale, (n, 2))
    ang = rng.uniform(0, 2 * np.pi, n)
    ln = rng.uniform(0.02, 0.5, n) * scale
    b = a + ln[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


def test_bem_per_pair_functions_match_numpy(host_lib):
    from sigint.extract.bem import field_kernel, potential_kernel

    lib = host_lib("bem_influence")
    rng = np.random.default_rng(14)
    a, b = _random_panels(rng, 37)
    obs = np.ascontiguousarray(np.concatenate([rng.uniform(-1e-4, 1e-4, (40, 2)),
                                               0.5 * (a[:5] + b[:5]),            # on a panel
                                               a[5:8] + 0.3 * (b[5:8] - a[5:8])]))  # on its line
    ang = rng.uniform(0, 2 * np.pi, obs.shape[0])
    nrm = np.ascontiguousarray(np.stack([np.cos(ang), np.sin(ang)], 1))
    m, p = obs.shape[0], a.shape[0]
    pot = np.empty((m, p))
    lib.host_panel_potential(_p(obs), _p(a), _p(b), L(m), L(p), _p(pot))
    _close(pot, potential_kernel(obs, a, b), 1e-12)
    kn = np.empty((m, p))
    lib.host_panel_normal_field(_p(obs), _p(nrm), _p(a), _p(b), L(m), L(p), _p(kn))
    ex, ey = field_kernel(obs, a, b)
    _close(kn, ex * nrm[:, :1] + ey * nrm[:, 1:], 1e-12)


def test_bem_assembly_matches_the_solver(host_lib):
    """The kernel's matrix entries (images, self terms, row kinds) equal the system matrix
    BemSolver assembles with numpy, and the numpy twin used on the host path."""
    import xsections as X

    from sigint.extract.bem import BemSolver
    from sigint.gpu.ops import bem_influence_numpy
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(X.bernal_5_lines()))
    sol = BemSolver(geo)
    pn = sol.panels
    assert pn.circle is None or (pn.circle < 0).all()   # no circle calibration in this case
    obs = np.ascontiguousarray(pn.mid)
    nrm = np.ascontiguousarray(pn.normal, dtype=float)
    a, b = np.ascontiguousarray(pn.a), np.ascontiguousarray(pn.b)
    field = (pn.owner < 0).astype(np.int32)
    assert field.any() and (~field.astype(bool)).any()
    n = pn.n
    got = np.zeros((n, n), dtype=complex)          # written in place, real parts, stride 2
    lib = host_lib("bem_influence")
    lib.host_bem_influence(_p(obs), _p(nrm), _p(field, ctypes.c_int), _p(a), _p(b), L(n), L(n), L(0),
                           I(1), D(geo.ground_y), _p(got.view(np.float64)), L(n), L(2))
    assert not got.imag.any()
    _close(got.real, sol.a0[:n, :n].real, 1e-12)
    _close(got.real, bem_influence_numpy(obs, nrm, field.astype(bool), a, b, geo.ground_y), 1e-12)


def _rects(rng, n, scale=1e-5):
    x0 = rng.uniform(-scale, scale, n)
    y0 = rng.uniform(-scale, scale, n)
    w = rng.uniform(0.1, 1.0, n) * scale
    h = rng.uniform(0.1, 1.0, n) * scale
    return np.ascontiguousarray(np.stack([x0, x0 + w, y0, y0 + h, 0 * w, 0 * w], 1))


def test_peec_rectangle_pairs_match_numpy(host_lib):
    from sigint.extract.peec import _rect_pair

    rng = np.random.default_rng(1)
    gi, gj = _rects(rng, 200), _rects(rng, 200)
    gj[:20] = gi[:20]                                  # self terms
    out = np.empty(200)
    host_lib("peec_pair").host_peec_rect_pair(_p(gi), _p(gj), L(200), _p(out))
    _close(out, _rect_pair(gi, gj), 1e-10)           # a 16-corner sum: accumulated


def test_peec_sector_pairs_match_numpy(host_lib):
    from sigint.extract.peec import M_TERMS, _sector_pair

    rng = np.random.default_rng(2)
    radii = np.array([0.0, 0.3, 0.55, 0.75, 0.9, 1.0]) * 1e-4
    n = 150
    ki = rng.integers(0, 5, n)
    kj = rng.integers(0, 5, n)
    nt = 8
    ti = rng.integers(0, nt, n) * 2 * np.pi / nt
    tj = rng.integers(0, nt, n) * 2 * np.pi / nt

    def sec(k, t):
        t0 = np.where(k == 0, 0.0, t)
        t1 = np.where(k == 0, 2 * np.pi, t + 2 * np.pi / nt)
        return np.stack([0 * t, 0 * t, radii[k], radii[k + 1], t0, t1], 1)

    gi, gj = np.ascontiguousarray(sec(ki, ti)), np.ascontiguousarray(sec(kj, tj))
    out = np.empty(n)
    host_lib("peec_pair").host_peec_sector_pair(_p(gi), _p(gj), L(n), I(M_TERMS), _p(out))
    _close(out, _sector_pair(gi, gj), 1e-10)         # a 96-term series: accumulated


def _peec_geometry():
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    # a trace beside a round wire over a ground plane: rectangle, sector (one and two
    # circles), rectangle-sector (quadrature) pairs and their images
    return resolve(load_cross_section(dict(
        mesh=dict(sectors=8), ground_plane=dict(y="0 mm"),
        conductors=[dict(name="t", shape="rectangle", x="0 mm", y="0.05 mm", width="0.2 mm",
                         height="0.05 mm"),
                    dict(name="w", shape="circle", x="0.2 mm", y="0.15 mm", radius="0.05 mm"),
                    dict(name="v", shape="circle", x="0.33 mm", y="0.15 mm", radius="0.05 mm")])))


def test_peec_matrix_matches_numpy(host_lib):
    from sigint.extract.peec import RECT, SECTOR, mean_log_distance, mesh_filaments
    from sigint.gpu.ops import peec_arrays

    geo = _peec_geometry()
    fil = mesh_filaments(geo, 1e8)
    assert (fil.kind == RECT).any() and (fil.kind == SECTOR).any()
    n = fil.n
    h = peec_arrays(fil)
    lib = host_lib("peec_pair")
    for image in (None, geo.ground_y):
        out = np.empty((n, n))
        lib.host_peec_mean_log_distance(
            _p(h["kind"], ctypes.c_int), _p(h["g"]), _p(h["owner"], ctypes.c_int),
            _p(h["circle"], ctypes.c_int), _p(h["cen"]), _p(h["cov"]), _p(h["size"]), _p(h["tn"]),
            _p(h["wn"]), _p(h["tn1"]), _p(h["wn1"]), I(h["n_quad"]), I(h["m_terms"]), D(h["near"]),
            I(image is not None), D(image or 0.0), L(n), _p(out))
        _close(out, mean_log_distance(fil, image), 1e-10)
        np.testing.assert_array_equal(out, out.T) if image is None else None


def test_stateye_convolution_matches_numpy(host_lib):
    from sigint.gpu.ops import fine_plan
    from sigint.timedomain.stateye import fine_distribution as numpy_twin

    rng = np.random.default_rng(3)
    p, r = 9, 120
    q = rng.integers(0, 25, (p, r)).astype(np.int64)
    q[:, 3] = 0                                        # a column with no offset anywhere
    q[:, 7] = 11                                       # one the same in every row
    w = np.ascontiguousarray(np.where(rng.random((p, r)) < 0.7, 0.5, 0.25))
    want, smax = numpy_twin(q, w)
    col, lo, hi, s2 = fine_plan(q)
    assert s2 == smax
    width = 2 * smax + 1
    got = np.zeros((p, width))
    got[:, smax] = 1.0
    host_lib("stateye_conv").host_stateye_convolve(
        _p(q, ctypes.c_long), _p(w), L(p), L(r), _p(col, ctypes.c_long), _p(lo, ctypes.c_long),
        _p(hi, ctypes.c_long), L(col.size), L(width), _p(got))
    # every probability, deep tails included (below 1e-30 here), to 1e-10 relative
    pos = want > 0
    assert want[pos].min() < 1e-30
    np.testing.assert_array_equal(got > 0, pos)
    np.testing.assert_allclose(got[pos], want[pos], rtol=1e-10, atol=0)


# ----------------------------------------------------------------------------- loader
def test_gpu_modules_do_not_import_cupy():
    code = ("import sys, sigint, sigint.gpu.ops, sigint.gpu.kernels, sigint.gpu.memory; "
            "print('cupy' in sys.modules)")
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- properties
_coord = st.one_of(st.sampled_from([0.0, 0.5, 1.0, -1e-9, 1.0 + 1e-9]),
                   st.floats(-3.0, 3.0, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(u=_coord, v=st.one_of(st.just(0.0), st.floats(-2.0, 2.0, allow_nan=False)),
       angle=st.floats(0.0, 2 * np.pi), length=st.floats(1e-7, 1e-3))
def test_bem_pair_property(host_lib, u, v, angle, length):
    """Any observer, on the panel, on its line, at its ends or off it: host kernel = numpy."""
    from sigint.extract.bem import field_kernel, potential_kernel

    t = np.array([np.cos(angle), np.sin(angle)])
    nv = np.array([t[1], -t[0]])
    a = np.array([[2e-4, -1e-4]])
    b = a + length * t
    obs = np.ascontiguousarray(a + length * (u * t + v * nv))
    nrm = np.ascontiguousarray(nv[None])
    lib = host_lib("bem_influence")
    pot, kn = np.empty((1, 1)), np.empty((1, 1))
    lib.host_panel_potential(_p(obs), _p(a), _p(b), L(1), L(1), _p(pot))
    lib.host_panel_normal_field(_p(obs), _p(nrm), _p(a), _p(b), L(1), L(1), _p(kn))
    want_pot = potential_kernel(obs, a, b)
    ex, ey = field_kernel(obs, a, b)
    # the closed forms lose ~|u|/L digits to cancellation in both codes alike
    np.testing.assert_allclose(pot, want_pot, rtol=1e-12, atol=1e-13 * length * abs(np.log(length)))
    np.testing.assert_allclose(kn, ex * nv[0] + ey * nv[1], rtol=1e-12, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), rows=st.integers(1, 6), cols=st.integers(0, 30),
       qmax=st.integers(0, 40))
def test_stateye_convolution_property(host_lib, seed, rows, cols, qmax):
    from sigint.gpu.ops import fine_plan
    from sigint.timedomain.stateye import fine_distribution as numpy_twin

    rng = np.random.default_rng(seed)
    q = rng.integers(0, qmax + 1, (rows, cols)).astype(np.int64)
    w = np.ascontiguousarray(rng.choice([0.5, 0.25], (rows, cols)))
    want, smax = numpy_twin(q, w)
    col, lo, hi, s2 = fine_plan(q)
    width = 2 * smax + 1
    got = np.zeros((rows, width))
    got[:, smax] = 1.0
    host_lib("stateye_conv").host_stateye_convolve(
        _p(q, ctypes.c_long), _p(w), L(rows), L(cols), _p(col, ctypes.c_long), _p(lo, ctypes.c_long),
        _p(hi, ctypes.c_long), L(col.size), L(width), _p(got))
    assert s2 == smax
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
