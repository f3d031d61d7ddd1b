"""numpy and CuPy in one run: the GPU engine's speed-ups and roofline positions (issue 14).

Each case runs on numpy and, where a GPU works (the CuPy smoke test of
``sigint.backend``), on CuPy in the same process; the CuPy run's ``extra_info`` holds
``speedup_vs_numpy`` (numpy time / CuPy time, both the minimum over rounds). CuPy times
include a device synchronization; each CuPy case has a warm-up round (kernel compilation,
cuBLAS/cuSOLVER handles). Kernel cases add the estimated FP64 operations and bytes
(``sigint.gpu.ops.kernel_cost``), the achieved GFLOP/s and GB/s, and their fractions of
the peaks measured on the device at the start of the run (an FP64 matrix product and a
device-to-device copy): the roofline position.

Cases (issue 14's goals):

* extraction of the 16-signal bus, 201 frequencies to 100 GHz;
* cascade of ten 64-port sections at 2001 points;
* statistical eye of the 64-port channel's victim with its 31 in-file aggressors (every
  other lane of the 32-lane bus) at BER 1e-15;
* every one of the 32 victims of the 64-port channel at 16 GT/s;
* the kernels: BEM influence and PEEC pair matrices of the 16-signal bus, the
  statistical-eye convolution of the case above.

``SIGINT_BENCH_QUICK=1`` shrinks every case (4-signal bus, 8-lane channel, 201 points) to
check the suite itself in seconds; its numbers mean nothing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from channels import bus_network, bus_rlgc
from sigint.backend import cupy_smoke_test, get_backend

OK, DEVICE, REASON = cupy_smoke_test()
QUICK = os.environ.get("SIGINT_BENCH_QUICK") == "1"
ROOT = Path(__file__).resolve().parents[1]
BUS16 = ROOT / "channels" / "xsections" / "si_interposer_bus16.yaml"
FREQ = "1MHz:100GHz:21" if QUICK else "1MHz:100GHz:201"
LANES = 8 if QUICK else 32
NF = 201 if QUICK else 2001
XPS = ["numpy", pytest.param("cupy", marks=pytest.mark.skipif(not OK, reason=f"no GPU: {REASON}"))]

_TIMES: dict[str, dict[str, float]] = {}
_PEAK: dict[str, float] = {}


def _xp(name: str):
    if name == "cupy":
        import cupy

        return cupy
    return np


def _sync(xp) -> None:
    if xp is not np:
        xp.cuda.Device().synchronize()


def _run(benchmark, case: str, name: str, fn, rounds: int = 1, warmup: bool = True):
    """Time *fn* (synchronized on the GPU), record the time and the speed-up."""
    xp = _xp(name)

    def call():
        out = fn()
        _sync(xp)
        return out

    t0 = time.perf_counter()
    res = benchmark.pedantic(call, rounds=rounds, warmup_rounds=1 if name == "cupy" and warmup else 0,
                             iterations=1)
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    t = float(stats.min) if stats is not None else time.perf_counter() - t0
    _TIMES.setdefault(case, {})[name] = t
    benchmark.extra_info.update(case=case, xp=name, device=DEVICE if name == "cupy" else "CPU",
                                seconds=t)
    if name == "cupy" and "numpy" in _TIMES[case]:
        benchmark.extra_info["speedup_vs_numpy"] = _TIMES[case]["numpy"] / t
    return res, t


def _roofline(benchmark, cost, t: float, name: str) -> None:
    info = dict(fp64_flops=cost.flops, transcendentals=cost.transcendentals, bytes=cost.bytes,
                gflops=cost.flops / t / 1e9, gbytes_per_s=cost.bytes / t / 1e9,
                arithmetic_intensity=cost.flops / max(cost.bytes, 1.0))
    if name == "cupy" and _PEAK:
        info.update(peak_fp64_gflops=_PEAK["gflops"], peak_gbytes_per_s=_PEAK["gbs"],
                    fraction_of_fp64_peak=info["gflops"] / _PEAK["gflops"],
                    fraction_of_bandwidth=info["gbytes_per_s"] / _PEAK["gbs"])
    benchmark.extra_info.update(info)


# ----------------------------------------------------------------------------- peaks
@pytest.mark.skipif(not OK, reason=f"no GPU: {REASON}")
def test_device_peaks(benchmark):
    """Measured FP64 matrix-product rate and device copy bandwidth (the roofline's roof)."""
    import cupy

    n = 2048 if QUICK else 8192
    a = cupy.random.random((n, n))
    b = cupy.random.random((n, n))
    src = cupy.empty(2 ** 28 if not QUICK else 2 ** 24, dtype=cupy.float64)   # 2 GiB
    dst = cupy.empty_like(src)

    def gemm():
        a @ b
        cupy.cuda.Device().synchronize()

    def copy():
        cupy.copyto(dst, src)
        cupy.cuda.Device().synchronize()

    for f in (gemm, copy):
        f()
    tg = min(_timed(gemm) for _ in range(3))
    tc = min(_timed(copy) for _ in range(5))
    _PEAK["gflops"] = 2 * n ** 3 / tg / 1e9
    _PEAK["gbs"] = 2 * src.nbytes / tc / 1e9
    benchmark.pedantic(gemm, rounds=1, iterations=1)
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    benchmark.extra_info.update(device=DEVICE, dgemm_n=n, fp64_gflops=_PEAK["gflops"],
                                copy_gbytes_per_s=_PEAK["gbs"],
                                memory_gib=props["totalGlobalMem"] / 2 ** 30,
                                sm_count=props["multiProcessorCount"])
    print(json.dumps(benchmark.extra_info))


def _timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- pipeline cases
def _bus_xs():
    if not QUICK:
        return BUS16
    import yaml

    from sigint.xsection.schema import load_cross_section

    data = yaml.safe_load(BUS16.read_text())
    data["buses"][0]["pattern"] = "GSSGSSG"
    data["conductors"][0]["width"] = f"{(7 + 6) * 4} um"
    return load_cross_section(data)


@pytest.mark.parametrize("name", XPS)
def test_extract_bus16(benchmark, name):
    from sigint.extract.rlgc import extract

    res, t = _run(benchmark, "extract_bus16_201f", name,
                  lambda: extract(_bus_xs(), FREQ, backend=get_backend(name)))
    benchmark.extra_info.update(bem_unknowns=res.bem_unknowns, peec_filaments=res.peec_unknowns,
                                stages_s={k: round(v, 3) for k, v in res.timings.items()},
                                backend_stages=res.stages, goal="< 1 s and >= 30x numpy on H100/H200")


@pytest.fixture(scope="module")
def sections():
    from sigint.channel.lines import mtl_s

    f = np.linspace(0, 40e9, NF)
    # ten sections of one 1 mm line (one MTL solve; the cascade's work does not depend on
    # the lengths)
    return [mtl_s(f, *bus_rlgc(LANES, f), 1e-3, 50.0)] * 10


@pytest.mark.parametrize("name", XPS)
def test_cascade_ten_64_port(benchmark, name, sections):
    from sigint.channel.lines import cascade_s
    from sigint.gpu.ops import cascade

    xp = _xp(name)
    if name == "numpy":
        fn = lambda: cascade_s(sections, threads=os.cpu_count())  # noqa: E731
    else:
        dev = [xp.asarray(s) for s in sections]          # device-resident sections
        fn = lambda: cascade(dev, xp=xp)  # noqa: E731
    res, t = _run(benchmark, "cascade_10x64port", name, fn, rounds=3)
    n = sections[0].shape[1] // 2
    # complex multiply-adds per junction and frequency: B11 A22 and B11 A21 (2 n^3), the LU
    # (n^3 / 3) and its solve for 2n right-hand sides (2 n^3), A12 K, A22 K, B21 (A22 K)
    # (6 n^3); 8 real FP64 operations each; nine junctions
    flops = 9 * NF * 8 * (31 / 3) * n ** 3
    benchmark.extra_info.update(ports=2 * n, frequencies=NF, sections=10,
                                goal="ten 128-port sections < 1 s")
    from sigint.gpu.ops import KernelCost

    _roofline(benchmark, KernelCost(flops, 0.0, 10 * sections[0].nbytes + res.nbytes), t, name)


@pytest.fixture(scope="module")
def channel():
    return bus_network(LANES, NF)


@pytest.fixture(scope="module")
def victim_analysis(channel):
    from sigint.analysis.analyze import AnalysisOptions, analyze

    opts = AnalysisOptions(rate=16e9, spec="ucie", package="standard", ber=1e-15, victim=LANES // 2)
    return analyze(channel, opts, backend=get_backend("numpy"))


@pytest.fixture(scope="module")
def fine_args(victim_analysis):
    """The (q, w) the statistical eye of the victim convolves, captured from a real run."""
    import sigint.timedomain.stateye as se

    r = victim_analysis
    seen = []
    orig = se.fine_distribution

    def spy(q, w):
        seen.append((q.copy(), w.copy()))
        return orig(q, w)

    se.fine_distribution = spy
    try:
        se.statistical_eye(r.cursors, r.eye.amplitude, ber=1e-15, noise=r.rx.noise, rj=r.tx.rj,
                           dj=r.tx.dj)
    finally:
        se.fine_distribution = orig
    return seen[0] if seen else None


def test_stateye_31_aggressors(benchmark, victim_analysis):
    from sigint.timedomain.stateye import statistical_eye

    r = victim_analysis
    cs = r.cursors
    _run(benchmark, "stateye_31_aggressors", "numpy",
         lambda: statistical_eye(cs, r.eye.amplitude, ber=1e-15, noise=r.rx.noise, rj=r.tx.rj,
                                 dj=r.tx.dj), rounds=3)
    benchmark.extra_info.update(aggressors=len(r.vtf.aggressor_names), phases=int(cs.phase_ui.size),
                                goal="< 50 ms (the statistical eye runs on the host; its "
                                     "convolution kernel is timed in test_kernel_stateye)")


@pytest.mark.parametrize("name", XPS)
def test_all_victims_64_port(benchmark, name, channel):
    from sigint.analysis.analyze import AnalysisOptions, analyze

    be = get_backend(name)

    def all_victims():
        out = []
        for v in range(1, LANES + 1):
            opts = AnalysisOptions(rate=16e9, spec="ucie", package="standard", ber=1e-15, victim=v)
            out.append(analyze(channel, opts, backend=be).eye.eye_height)
        return out

    # no warm-up round: the cases before have initialised the GPU libraries
    heights, _ = _run(benchmark, "all_victims_64port", name, all_victims, rounds=1, warmup=False)
    benchmark.extra_info.update(victims=LANES, min_eye_height_v=min(heights),
                                backend_stages=_stage_record(be), goal="< 0.5 s")


def _stage_record(be) -> dict:
    from sigint.analysis.analyze import _stages

    return _stages(be, False)


# ----------------------------------------------------------------------------- kernels
@pytest.fixture(scope="module")
def bus_panels():
    from sigint.extract.bem import mesh_panels
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    xs = _bus_xs()
    geo = resolve(load_cross_section(xs) if isinstance(xs, Path) else xs)
    return geo, mesh_panels(geo)


@pytest.mark.parametrize("name", XPS)
def test_kernel_bem_influence(benchmark, name, bus_panels):
    from sigint.gpu.ops import bem_influence, kernel_cost

    geo, pn = bus_panels
    xp = _xp(name)
    args = [pn.mid, pn.normal.astype(float), pn.owner < 0, pn.a, pn.b]
    if name == "cupy":
        args = [xp.asarray(a) for a in args]
    _, t = _run(benchmark, "kernel_bem_influence", name,
                lambda: bem_influence(*args, geo.ground_y, xp=xp), rounds=3)
    benchmark.extra_info["panels"] = pn.n
    _roofline(benchmark, kernel_cost("bem_influence", m=pn.n, p=pn.n, ground=geo.ground_y is not None),
              t, name)


def _peec_counts(fil, image_y) -> dict:
    """Pair counts by formula (far, rectangle, sector, quadrature), as the kernel decides."""
    from sigint.extract.peec import NEAR, RECT, SECTOR

    c, n = fil.centroid, fil.n
    counts = dict(far=0, rect=0, sector=0, quad=0)
    for b0 in range(0, n, 1024):
        b1 = min(n, b0 + 1024)
        sl = slice(b0, b1)
        for image in ((False, True) if image_y is not None else (False,)):
            cy = 2 * image_y - c[:, 1] if image else c[:, 1]
            r2 = (c[sl, 0, None] - c[None, :, 0]) ** 2 + (c[sl, 1, None] - cy[None]) ** 2
            lim = NEAR * (fil.size[sl, None] + fil.size[None])
            if not image:
                lim = np.where(fil.owner[sl, None] == fil.owner[None], lim, 0.5 * lim)
            near = r2 < lim * lim
            counts["far"] += int((~near).sum())
            ki, kj = fil.kind[sl, None], fil.kind[None]
            rr = near & (ki == RECT) & (kj == RECT)
            ss = (near & (ki == SECTOR) & (kj == SECTOR) & (fil.circle[sl, None] == fil.circle[None])
                  if not image else np.zeros_like(near))
            counts["rect"] += int(rr.sum())
            counts["sector"] += int(ss.sum())
            counts["quad"] += int((near & ~rr & ~ss).sum())
    return counts


@pytest.fixture(scope="module")
def bus_filaments(bus_panels):
    from sigint.extract.peec import mesh_filaments

    geo, _ = bus_panels
    return geo, mesh_filaments(geo, 100e9)


@pytest.mark.parametrize("name", XPS)
def test_kernel_peec_pairs(benchmark, name, bus_filaments):
    from sigint.gpu.ops import kernel_cost, mean_log_distance

    geo, fil = bus_filaments
    xp = _xp(name)
    _, t = _run(benchmark, "kernel_peec_pairs", name,
                lambda: mean_log_distance(fil, geo.ground_y, xp=xp), rounds=1 if name == "numpy" else 3)
    counts = _peec_counts(fil, geo.ground_y)
    benchmark.extra_info.update(filaments=fil.n, pairs=counts)
    _roofline(benchmark, kernel_cost("peec_pair", n=fil.n, **counts), t, name)


@pytest.mark.parametrize("name", XPS)
def test_kernel_stateye(benchmark, name, fine_args):
    from sigint.gpu.ops import fine_distribution, fine_plan, kernel_cost

    if fine_args is None:
        pytest.skip("this eye enumerated every cursor (no fine-grid convolution)")
    q, w = fine_args
    xp = _xp(name)
    _, t = _run(benchmark, "kernel_stateye", name, lambda: fine_distribution(q, w, xp=xp), rounds=5)
    col, lo, hi, smax = fine_plan(q)
    benchmark.extra_info.update(phases=int(q.shape[0]), columns=int(q.shape[1]), width=2 * smax + 1)
    _roofline(benchmark, kernel_cost("stateye_conv", rows=q.shape[0], elements=int((hi - lo).sum()),
                                     width=2 * smax + 1, cols=q.shape[1]), t, name)
