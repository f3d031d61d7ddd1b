"""Maximum data rate search, bandwidth density at the coarsest pitch."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import skrf
from test_lanes import bus

from sigint.analysis.analyze import AnalysisOptions, analyze, prepare
from sigint.analysis.rate import search_rates
from sigint.channel.build import BuildResult
from sigint.channel.schema import load_channel
from sigint.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def net3():
    # 3 lanes, 5 mm, lossy: passes up to 12 GT/s, its eye closes at 16 GT/s
    return bus(3, length=5e-3, r_scale=2.0, nf=321, fmax=16e9, c_mut=(-4e-12, -0.5e-12))


@pytest.fixture(scope="module")
def search(net3):
    return search_rates(prepare(net3), AnalysisOptions(rate=16e9))


def test_reported_rate_passes_and_next_fails(net3, search):
    # the data stop at 16 GHz: 48/64 GT/s (Nyquist 24/32 GHz) are not tried
    assert search.max_rate is not None and search.not_tried == [48e9, 64e9]
    mx = search.max_rate
    # independently: a separate single-victim analysis of every lane at each rate
    for v in (1, 2, 3):
        r = analyze(net3, AnalysisOptions(rate=mx, victim=v, bits=0))
        assert r.passed, (v, [c for c in r.checks if not c.passed])
    lim = search.limiting
    nxt = lim["rate_gbps"] * 1e9
    assert nxt > mx and nxt == min(row.rate for row in search.rows if row.rate > mx)
    failed = set()
    for v in (1, 2, 3):
        r = analyze(net3, AnalysisOptions(rate=nxt, victim=v, bits=0))
        failed |= {c.name for c in r.checks if not c.passed}
    assert lim["check"] in failed
    # every rate tried is reported with the worst lane's figures
    rows = search.to_json()["rates"]
    assert [d["rate_gbps"] for d in rows] == [4, 8, 12, 16, 24, 32]
    assert all(d["passed"] == (d["rate_gbps"] <= mx / 1e9) for d in rows if d["rate_gbps"] <= 16)
    json.dumps(search.to_json())


def test_data_that_stop_short_limit_the_search(net3):
    f = net3.f
    keep = f <= 10e9
    short = skrf.Network(frequency=skrf.Frequency.from_f(f[keep], unit="hz"),
                         s=net3.s[keep], z0=50.0)
    s = search_rates(prepare(short), AnalysisOptions(rate=16e9), rates=(12e9, 16e9, 24e9))
    assert [r.rate for r in s.rows] == [12e9, 16e9] and s.not_tried == [24e9]
    assert "stop at 10 GHz" in s.notes[0] and "24 GT/s not tried" in s.notes[0]


def test_margin_plot(search, tmp_path):
    (p,) = search.plot(tmp_path)
    assert p.name == "rate_margin.png" and p.stat().st_size > 1000


def test_density_of_a_stack_counts_the_coarsest_pitch():
    ch, _ = load_channel(ROOT / "channels" / "stack_3d_tsv.yaml")
    stub = SimpleNamespace(channel=ch, n_lanes=8)
    d = BuildResult.density(stub, 16e9)
    # 4 x 4 checkerboard, 8 signals; hybrid bonds at 9 um, TSVs at 40 um: the TSV array
    # spans 4 x 40 um = 0.16 mm of die edge and 0.16 mm inwards
    assert d["gbps_per_mm"] == pytest.approx(8 * 16 / 0.16)
    assert d["gbps_per_mm2"] == pytest.approx(8 * 16 / 0.16 ** 2)
    assert "tsv" in d["segment"] and "40 um" in d["segment"]
    hb = [x for x in d["per_segment"] if "hybrid_bond" in x["segment"]]
    assert hb[0]["gbps_per_mm"] == pytest.approx(8 * 16 / 0.036)


def test_rate_cli_touchstone_density_and_spec_none(net3, tmp_path, capsys):
    net3.write_touchstone(filename="bus", dir=str(tmp_path), skrf_comment=False)
    path = tmp_path / "bus.s6p"
    rc = main(["rate", str(path), "--lane-pitch", "45um", "--module-depth", "0.1mm", "--json",
               "-q"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    mx = out["max_rate_gbps"]
    d = out["bandwidth_density"]
    assert d["gbps_per_mm"] == pytest.approx(3 * mx / (3 * 0.045))
    assert d["gbps_per_mm2"] == pytest.approx(3 * mx / (3 * 0.045 * 0.1))
    assert d["ucie_table_1_4_gbytes_per_mm"] == {4: 165, 8: 329, 12: 494, 16: 658}[round(mx)]
    rc = main(["rate", str(path), "--spec", "none", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "--eye-height" in err and len(err.strip().splitlines()) == 1
    assert np.isfinite(mx)


def test_early_stop_gives_the_exhaustive_verdicts(net3, search):
    full = search_rates(prepare(net3), AnalysisOptions(rate=16e9), exhaustive=True)
    assert full.max_rate == search.max_rate
    assert all(r.lanes.complete for r in full.rows)
    first_fail = min(r.rate for r in search.rows if not r.lanes.passed)
    by_rate = {r.rate: r for r in full.rows}
    for r in search.rows:
        assert r.lanes.complete or r.rate > first_fail
        ref = by_rate[r.rate]
        if r.lanes.complete:
            assert r.passed == ref.passed
        else:                 # one lane probed: its own verdict, and a failure settles it
            assert len(r.lanes.lanes) == 1
            probe = r.lanes.lanes[0]
            same = next(x for x in ref.lanes.lanes if x.victim == probe.victim)
            assert probe.passed == same.passed
            assert r.passed is (False if probe.passed is False else None)
            if r.passed is False:
                assert ref.passed is False


def test_ucie_table_1_4_is_128_lanes_over_the_x64_module():
    from sigint.analysis.rate import UCIE_DENSITY_GBYTES_PER_MM

    # UCIe 3.0 Table 1-4 (advanced, 45 um): 64 Tx + 64 Rx lanes over a 388.8 um module
    for gt, gbytes in UCIE_DENSITY_GBYTES_PER_MM.items():
        assert 128 * gt / 0.3888 / 8 == pytest.approx(gbytes, abs=0.6)


def test_continuous_search_without_spec(net3):
    from sigint.analysis.rate import search_continuous

    opts = AnalysisOptions(rate=16e9, spec="none", ber=1e-12)
    s = search_continuous(prepare(net3), opts, eye_height=0.1, eye_width=0.5)
    mx = s.max_rate
    assert mx is not None and abs(mx / 1e8 - round(mx / 1e8)) < 1e-9
    nxt = mx + 0.1e9
    assert nxt in [r.rate for r in s.rows]
    # independently: separate single-victim analyses at the reported rate and 0.1 GT/s above
    at = [analyze(net3, opts.model_copy(update={"rate": mx, "victim": v, "bits": 0}))
          for v in (1, 2, 3)]
    assert all(r.eye.eye_height >= 0.1 and r.eye.eye_width >= 0.5 for r in at)
    above = [analyze(net3, opts.model_copy(update={"rate": nxt, "victim": v, "bits": 0}))
             for v in (1, 2, 3)]
    assert not all(r.eye.eye_height >= 0.1 and r.eye.eye_width >= 0.5 for r in above)


def test_touchstone_density_per_mm_without_module_depth(tmp_path, capsys):
    """--lane-pitch alone gives Gb/s per mm of die edge (1 lane x rate / pitch) and says
    that Gb/s/mm^2 needs --module-depth, instead of failing after the search."""
    import numpy as np
    from helpers import lossy_line

    from sigint.cli import main

    net = lossy_line(np.linspace(0, 16e9, 321), 2e-3, alpha_db_per_m_sqrt_ghz=20.0)
    net.write_touchstone(filename="one", dir=str(tmp_path), skrf_comment=False)
    rc = main(["rate", str(tmp_path / "one.s2p"), "--lane-pitch", "45um", "--up-to", "8GT/s", "-q"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "maximum data rate: 8 GT/s" in out
    assert f"{8 / 0.045:.0f} Gb/s/mm" in out and "per mm^2: give --module-depth" in out


def test_lane_density_is_the_aggregate_rate_over_edge_and_area():
    """One formula for a channel file's segments and a Touchstone file's command-line
    geometry: 16 lanes x 16 GT/s = 256 Gb/s over 0.36 mm x 0.18 mm is 256 / 0.36 =
    711.1 Gb/s/mm and 256 / 0.0648 = 3950.6 Gb/s/mm^2 (by hand); without a depth the
    areal density is unknown, not zero."""
    from sigint.channel.build import lane_density

    d = lane_density(16, 16e9, 0.36e-3, 0.18e-3, "bumps")
    assert d["aggregate_gbps"] == pytest.approx(256.0, rel=1e-15)
    assert d["die_edge_mm"] == pytest.approx(0.36, rel=1e-15)
    assert d["depth_mm"] == pytest.approx(0.18, rel=1e-15)
    assert d["gbps_per_mm"] == pytest.approx(711.1111111111111, rel=1e-14)
    assert d["gbps_per_mm2"] == pytest.approx(3950.617283950617, rel=1e-14)
    assert d["segment"] == "bumps" and d["lanes"] == 16
    flat = lane_density(1, 8e9, 45e-6, None, "--lane-pitch 45 um x 1 lanes")
    assert flat["gbps_per_mm"] == pytest.approx(8 / 0.045, rel=1e-14)
    assert flat["depth_mm"] is None and flat["gbps_per_mm2"] is None


def test_rate_rows_name_limiting_lane_equalization_and_worst_lane_per_check(search):
    """Each rate row is the limiting lane's; beside it, per check, the smallest margin over
    every lane evaluated (from each lane's own checks), and the equalization chosen."""
    from sigint.timedomain.eq import de_emphasis_taps

    for row in search.rows:
        d = row.as_dict()
        lim_lane = row.lanes.lanes[row.lanes.worst]
        assert d["figures_lane"] == lim_lane.victim
        assert d["worst_lane"] in (lim_lane.victim, "all lanes")
        for name, w in d["worst_margins"].items():
            ms = {x.victim: c.margin for x in row.lanes.lanes for c in x.checks if c.name == name}
            assert w["margin"] == min(ms.values())
            if w["lane"] == "all lanes":     # the same margin on every lane (lane_skew here)
                assert len(ms) == 3 and max(ms.values()) - min(ms.values()) <= 1e-9 * abs(
                    w["margin"])
            else:
                assert ms[w["lane"]] == w["margin"]
        if "eye_mask" in d["worst_margins"]:
            assert d["worst_margins"]["eye_mask"]["margin"] <= d["eye_mask_margin_v"]
        assert d["tx_ffe"] == list(lim_lane.tx.ffe) and d["ctle_dc_gain_db"] is None
        if row.rate >= 24e9:
            # UCIe 24/32 GT/s: de-emphasis 0 or -2.2 dB (Table 5-13), the taps of that one
            assert d["spec_row"] == "UCIe advanced package, 24-32 GT/s"
            taps = {"de-emphasis 0 dB": [1.0], "de-emphasis -2.2 dB": list(de_emphasis_taps(-2.2))}
            assert d["tx_ffe"] == pytest.approx(taps[d["tx_setting"]], abs=1e-15)
        else:
            assert d["tx_setting"] is None and d["spec_row"] == "UCIe advanced package, 4-16 GT/s"
    text = search.summary()
    assert "equalization chosen, limiting lane:" in text and "de-emphasis" in text
    assert "min mask mV (lane)" in text and "limiting lane's figures" in text
