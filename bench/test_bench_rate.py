"""Every lane and the maximum-rate search (issue 11 targets, numpy, 2 cores).

- all 32 victims of the 64-port benchmark channel at one rate, after the read: < 5 s
  (``prepare`` -- quality checks, lane mapping -- plus ``evaluate_lanes``);
- its maximum-rate search over the UCIe rates (standard package): < 30 s;
- a cached channel YAML's maximum-rate search (channels/ucie_advanced_2mm.yaml, its
  extraction already in $SIGINT_CACHE): < 10 s, build included.

The targets were set for the UCIe rates up to 32 GT/s (``RATES_TO_32``); the same
searches over every UCIe rate, 48 and 64 GT/s with their equalization search (presets
P0-P5 x reference CTLE: 42 candidates per lane) included, are timed beside them
(``*_all_rates``), with one lane's 42-candidate search at 48 and 64 GT/s
(``test_one_lane_eq_search``) and all 32 victims at 64 GT/s (``test_48_64_one_rate``).
"""

import json
from pathlib import Path

import pytest

from channels import bus_channel
from sigint.analysis.analyze import AnalysisOptions, prepare
from sigint.analysis.lanes import evaluate_lanes
from sigint.analysis.rate import search_rates
from sigint.io.touchstone import read_touchstone

ROOT = Path(__file__).resolve().parents[1]
OPTS = AnalysisOptions(rate=16e9, spec="ucie", package="standard", ber=1e-15, bits=0)
RATES_TO_32 = (4e9, 8e9, 12e9, 16e9, 24e9, 32e9)


@pytest.fixture(scope="module")
def bus64_net():
    return read_touchstone(bus_channel(32, 2001))


def _all_victims(net):
    return evaluate_lanes(prepare(net, source="bus64"), OPTS)


def test_all_32_victims_one_rate(benchmark, bus64_net):
    res = benchmark.pedantic(_all_victims, args=(bus64_net,), rounds=2, warmup_rounds=0)
    assert len(res.lanes) == 32
    benchmark.extra_info.update(worst_lane=res.lanes[res.worst].victim,
                                stages_s={k: round(v, 3) for k, v in res.timings.items()})
    print(json.dumps(benchmark.extra_info))


def _search(net, rates=RATES_TO_32):
    return search_rates(prepare(net, source="bus64"),
                        AnalysisOptions(rate=16e9, spec="ucie", package="standard"),
                        rates=rates)


def test_max_rate_search_64_ports(benchmark, bus64_net):
    res = benchmark.pedantic(_search, args=(bus64_net,), rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(
        max_rate_gbps=None if res.max_rate is None else res.max_rate / 1e9,
        per_rate_s={f"{r.rate / 1e9:g}": round(r.lanes.timings["lanes"], 2) for r in res.rows})
    print(json.dumps(benchmark.extra_info))


def test_max_rate_search_64_ports_all_rates(benchmark, bus64_net):
    """Every UCIe rate, 4-64 GT/s: above the first failing rate one lane per rate."""
    res = benchmark.pedantic(_search, args=(bus64_net, None), rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(
        max_rate_gbps=None if res.max_rate is None else res.max_rate / 1e9,
        per_rate_s={f"{r.rate / 1e9:g}": round(r.lanes.timings["lanes"], 2) for r in res.rows})
    print(json.dumps(benchmark.extra_info))


def _yaml_search(rates=RATES_TO_32):
    from sigint.api import link_settings, prepare_built
    from sigint.channel.build import build_file
    from sigint.schema import validate

    built = build_file(ROOT / "channels" / "ucie_advanced_2mm.yaml")
    opts, tx, rx = link_settings(built, options={"bits": 0})
    opts = validate(AnalysisOptions, dict(opts, rate=built.channel.link.rate), source="bench")
    return built, search_rates(prepare_built(built), opts, tx_overrides=tx, rx_overrides=rx,
                               rates=rates)


def test_max_rate_search_cached_yaml(benchmark):
    built, res = benchmark.pedantic(_yaml_search, rounds=2, warmup_rounds=0)
    assert all(s.cached for s in built.segments if hasattr(s, "cached"))
    benchmark.extra_info.update(
        max_rate_gbps=None if res.max_rate is None else res.max_rate / 1e9,
        build_s=round(built.timings.get("total", 0.0), 2),
        per_rate_s={f"{r.rate / 1e9:g}": round(r.lanes.timings["lanes"], 2) for r in res.rows})
    print(json.dumps(benchmark.extra_info))


def test_max_rate_search_cached_yaml_all_rates(benchmark):
    """Every UCIe rate, 4-64 GT/s, every lane (all pass on this example)."""
    built, res = benchmark.pedantic(_yaml_search, args=(None,), rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(
        max_rate_gbps=None if res.max_rate is None else res.max_rate / 1e9,
        build_s=round(built.timings.get("total", 0.0), 2),
        per_rate_s={f"{r.rate / 1e9:g}": round(r.lanes.timings["lanes"], 2) for r in res.rows})
    print(json.dumps(benchmark.extra_info))


@pytest.mark.parametrize("rate", [48e9, 64e9])
def test_one_lane_eq_search(benchmark, rate):
    """One lane of the cached UCIe advanced example: the 42-candidate search, the pulses,
    cursors and eye of the winner reused (``evaluate``'s ``eq`` timing)."""
    from sigint.analysis.analyze import evaluate
    from sigint.api import link_settings, prepare_built
    from sigint.channel.build import build_file
    from sigint.schema import validate

    built = build_file(ROOT / "channels" / "ucie_advanced_2mm.yaml")
    opts, tx, rx = link_settings(built, options={"bits": 0})
    opts = validate(AnalysisOptions, dict(opts, rate=rate), source="bench")
    link = prepare_built(built)
    res = benchmark.pedantic(evaluate, args=(link, opts), kwargs=dict(
        victim=0, tx_overrides=tx, rx_overrides=rx), rounds=3, warmup_rounds=1)
    benchmark.extra_info.update(eq_s=round(res.timings["eq"], 3),
                                scored_in_full=len(res.eq.scores), chosen=res.eq.chosen.label)
    print(json.dumps(benchmark.extra_info))


def test_48_64_one_rate(benchmark, bus64_net):
    """All 32 victims at 64 GT/s with the spec's 42-candidate equalization search."""
    link = prepare(bus64_net, source="bus64")
    o = OPTS.model_copy(update={"rate": 64e9, "ber": None})
    res = benchmark.pedantic(evaluate_lanes, args=(link, o), rounds=1, warmup_rounds=0)
    benchmark.extra_info.update(per_lane_s=round(res.timings["lanes"] / len(res.lanes), 2))
    print(json.dumps(benchmark.extra_info))
