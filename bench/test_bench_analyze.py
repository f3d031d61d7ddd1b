"""sigint analyze on a 64-port channel: 32 lanes, 2001 frequencies, all aggressors, BER 1e-15.

Target (issue 2): analysis under 5 s on 2 cores once the file is read; the read time and
the peak memory are reported separately (``extra_info``).
"""

import json
import subprocess
import sys
import tracemalloc

import pytest

from channels import bus_channel
from sigint.analysis.analyze import AnalysisOptions, analyze
from sigint.io.touchstone import read_touchstone

OPTS = AnalysisOptions(rate=16e9, spec="ucie", package="standard", ber=1e-15, victim=16)


@pytest.fixture(scope="module")
def bus64():
    return bus_channel(32, 2001)


@pytest.fixture(scope="module")
def bus64_net(bus64):
    return read_touchstone(bus64)


def _peak_rss_of(code: str) -> float:
    """Peak resident memory (MB) of a fresh interpreter running *code*.

    VmHWM is per address space, so unlike ru_maxrss it does not inherit the parent's peak
    across fork and exec.
    """
    prog = (code + "\nimport re\nprint(int(re.search(r'VmHWM:\\s+(\\d+)', "
            "open('/proc/self/status').read()).group(1)) / 1024)")
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def test_read_fast(benchmark, bus64):
    net = benchmark.pedantic(read_touchstone, args=(bus64,), rounds=3, warmup_rounds=1)
    assert net.s.shape == (2001, 64, 64)
    base = _peak_rss_of("import numpy, pandas, skrf, sigint.io.touchstone")
    peak = _peak_rss_of(f"from sigint.io.touchstone import read_touchstone; "
                        f"read_touchstone({str(bus64)!r})")
    benchmark.extra_info.update(file_mb=round(bus64.stat().st_size / 1e6, 1),
                                peak_rss_mb=round(peak, 1), rss_above_imports_mb=round(peak - base, 1))


def test_read_skrf(benchmark, bus64):
    import skrf

    net = benchmark.pedantic(skrf.Network, args=(str(bus64),), rounds=1, iterations=1)
    assert net.s.shape == (2001, 64, 64)
    benchmark.extra_info["peak_rss_mb"] = round(_peak_rss_of(
        f"import skrf; skrf.Network({str(bus64)!r})"), 1)


def test_analyze_64_ports_all_aggressors(benchmark, bus64_net):
    res = benchmark.pedantic(analyze, args=(bus64_net, OPTS), rounds=3, warmup_rounds=1)
    assert len(res.vtf.aggressor_names) == 31 and res.ber == 1e-15
    tracemalloc.start()
    analyze(bus64_net, OPTS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    benchmark.extra_info.update(
        peak_traced_mb=round(peak / 1e6, 1), eye_height_v=res.eye.eye_height,
        stages_s={k: round(v, 3) for k, v in res.timings.items()},
        aggressors=31, lanes=32, frequencies=2001)
    print(json.dumps(benchmark.extra_info))
