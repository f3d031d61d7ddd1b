"""sigint build: the 16-lane UCIe advanced example, and cascading many-port sections.

Targets (issue 4): building the example at 2001 frequencies (extraction included) under
60 s, under 5 s rebuilt with unchanged cross-sections (extraction cached by content);
cascading ten 64-port sections at 2001 frequencies at least 20 times faster than
scikit-rf's ``**``, agreeing to 1e-12.
"""

from pathlib import Path

import numpy as np
import pytest
import skrf

from channels import bus_rlgc
from sigint.channel.build import build_file
from sigint.channel.lines import cascade_s, mtl_s

ROOT = Path(__file__).resolve().parents[1]
UCIE = ROOT / "channels" / "ucie_advanced_2mm.yaml"


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGINT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_build_ucie_advanced_from_scratch(benchmark, fresh_cache):
    import shutil

    def run():
        shutil.rmtree(fresh_cache, ignore_errors=True)
        return build_file(UCIE)

    res = benchmark.pedantic(run, rounds=1, iterations=1)
    assert res.s.shape == (2001, 32, 32) and not any(b.cached for b in res.segments[:2])
    benchmark.extra_info.update(segments={b.name: round(b.seconds, 2) for b in res.segments})


def test_rebuild_ucie_advanced_cached(benchmark, fresh_cache):
    build_file(UCIE)
    res = benchmark.pedantic(build_file, args=(UCIE,), rounds=3, warmup_rounds=0)
    assert all(b.cached for b in res.segments)


@pytest.fixture(scope="module")
def sections():
    f = np.linspace(0, 100e9, 2001)
    r, l, g, c = bus_rlgc(32, f)
    lengths = np.linspace(0.4e-3, 1.3e-3, 10)
    return f, [mtl_s(f, r, l, g, c, x, 50.0) for x in lengths]


def test_cascade_ten_64_port_sections_star(benchmark, sections):
    f, secs = sections
    out = benchmark.pedantic(cascade_s, args=(secs,), rounds=3, warmup_rounds=1)
    assert out.shape == (2001, 64, 64)


def test_cascade_ten_64_port_sections_scikit_rf(benchmark, sections):
    f, secs = sections
    freq = skrf.Frequency.from_f(f, unit="hz")
    nets = [skrf.Network(frequency=freq, s=s, z0=50.0) for s in secs]

    def run():
        out = nets[0]
        for n in nets[1:]:
            out = out ** n
        return out

    ref = benchmark.pedantic(run, rounds=1, iterations=1)
    ours = cascade_s(secs)
    err = float(np.abs(ours - ref.s).max())
    benchmark.extra_info["max_abs_difference"] = err
    assert err < 1e-12
