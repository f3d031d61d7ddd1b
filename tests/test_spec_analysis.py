"""Analyses against the spec rows added with the spec library: UCIe 48/64 GT/s (diamond
mask, presets x reference CTLE, the 64 GT/s DFE and its h1/h0 check), a channel file built
on a grid that reaches the highest rate's Nyquist frequency, and a user spec end to end."""

import json

import numpy as np
import pytest
from test_lanes import bus

from sigint.analysis.analyze import AnalysisOptions, analyze, eq_candidates
from sigint.cli import main
from sigint.specs import ucie
from sigint.timedomain.stateye import extract_cursors


@pytest.fixture(scope="module")
def net3():
    return bus(3, length=1e-3, fmax=40e9, nf=401)


def test_64gts_candidates_are_presets_times_reference_ctle():
    cands = eq_candidates(AnalysisOptions(rate=64e9), ucie.ucie_row("advanced", 64e9))
    # UCIe 3.0 §5.7: Tx presets P0-P5 (Table 5-7) x CTLE DC gain -6..0 dB in 1-dB steps
    assert {c.label for c in cands} == {"P0", "P1", "P2", "P3", "P4", "P5"}
    assert {c.ctle_db for c in cands} == {0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0}
    assert {c.ctle_form for c in cands} == {"ucie-reference"} and len(cands) == 42
    p3 = next(c for c in cands if c.label == "P3")
    assert p3.ffe == (-0.05, 0.85, -0.1) and p3.ffe_main == 1


def test_64gts_eye_only_diamond_and_dfe_ratio(net3):
    r = analyze(net3, AnalysisOptions(rate=64e9, victim=2, bits=0, eq="off"))
    names = [c.name for c in r.checks]
    # no VTF masks at 64 GT/s; the diamond mask, height, width and the DFE ratio
    assert names == ["eye_mask", "eye_height", "eye_width", "dfe_h1_h0"]
    assert "diamond" in r.checks[0].where and r.checks[0].limit == pytest.approx(0.065)
    assert r.rx.dfe_taps == 1 and r.rx.dfe_limit == 0.35 and r.ber == 1e-12
    # independently: the cursors of the same pulses without the DFE, at the phase the DFE
    # taps are taken (the pulse peak), give h1/h0
    raw = extract_cursors(r.pulses, xt_phase=0.0, dfe_taps=0)
    j = raw.spui
    h1 = raw.isi[j, int(np.flatnonzero(raw.isi_k == 1)[0])]
    chk = r.checks[-1]
    assert chk.value == pytest.approx(abs(h1 / raw.main[j]), rel=1e-9)
    assert chk.passed == (chk.value < 0.35) and chk.adds_up()


def test_48gts_has_no_dfe(net3):
    r = analyze(net3, AnalysisOptions(rate=48e9, victim=1, bits=0, eq="off"))
    assert [c.name for c in r.checks] == ["eye_mask", "eye_height", "eye_width"]
    assert r.rx.dfe_taps == 0 and r.ber == 1e-15


def _channel(tmp_path, frequencies, spec="ucie", package="standard-unterminated"):
    (tmp_path / "bus.yaml").write_text("""
ground_plane: {y: 0 um}
stack: [{material: sio2, thickness: 6 um}, {material: air}]
buses:
  - {name: s, pattern: GSGSGSG, pitch: 4 um, width: 2 um, height: 1 um, y: 2 um}
""")
    ch = tmp_path / "ch.yaml"
    ch.write_text(f"""
name: test channel
link: {{rate: 8 GT/s, spec: {spec}, package: {package}}}
lanes: {{pitch: 45 um, map: [SGS, GSG]}}
frequencies: {frequencies}
segments:
  - {{type: bump, diameter: 25 um, height: 20 um}}
  - {{type: trace, xsection: bus.yaml, length: 1 mm}}
  - {{type: bump, diameter: 25 um, height: 20 um}}
""")
    return ch


@pytest.mark.parametrize("grid", ["0:5GHz:11", "0:8GHz:17"])
def test_rate_builds_the_channel_on_a_grid_reaching_the_top_nyquist(tmp_path, capsys, grid):
    # the unterminated standard package tops out at 16 GT/s (Nyquist 8 GHz); the file's grid
    # stops at 5 GHz (below Nyquist) or at 8 GHz (at it: the response would be cut at fN),
    # with 2 points per GHz: built once on 0..16 GHz (twice the Nyquist frequency), 33 points
    ch = _channel(tmp_path, grid)
    rc = main(["rate", str(ch), "--json", "-q"])
    j = json.loads(capsys.readouterr().out)
    assert [d["rate_gbps"] for d in j["rates"]] == [4, 8, 12, 16] and not j["not_tried_gbps"]
    assert any("built once on 0:16GHz:33" in n for n in j["notes"])
    assert rc == (0 if j["max_rate_gbps"] else 1)


USER = """spec: bus-user
title: a user bus spec
user_written: true
forwarded_clock: true
rows:
  - rate_range: {min: 1 GT/s, max: 10 GT/s}
    ber: 1e-12
    tx: {r: 40 ohm, c_pad: 0.2 pF, swing: 0.4 V}
    rx: {r: open, c_pad: 0.2 pF}
    eye_mask: {shape: polygon, points: [[-0.25 UI, 0 mV], [-0.1 UI, 50 mV], [0.1 UI, 50 mV],
                                        [0.25 UI, 0 mV], [0.1 UI, -50 mV], [-0.1 UI, -50 mV]]}
    loss_mask: [[0 GHz, -0.5 dB], [3 GHz, -3 dB]]
    crosstalk_mask: [[0 GHz, -20 dB], [3 GHz, -20 dB]]
    skew: 0.1 UI
"""


def test_user_spec_end_to_end(tmp_path, capsys):
    (tmp_path / "user.yaml").write_text(USER)
    ch = _channel(tmp_path, "0:10GHz:41", spec="user.yaml", package="advanced")
    xml = tmp_path / "r.xml"
    rc = main(["validate", str(ch), "--junit", str(xml), "--json", "-q"])
    j = json.loads(capsys.readouterr().out)
    res = j["results"][0]
    assert res["spec"] == "bus-user" and res["rate_gbps"] == 8
    names = [c["check"] for c in res["checks"]]
    assert names == ["loss_mask", "crosstalk_mask", "eye_mask", "eye_height", "eye_width",
                     "lane_skew"]
    assert any("user-written" in n for n in res["notes"])
    import xml.etree.ElementTree as ET

    cases = ET.parse(xml).getroot().findall(".//testcase")
    assert len(cases) == len(names)                      # one JUnit case per check
    assert rc == (0 if res["passed"] else 1)
    # the mask is a polygon: its height is the polygon's, 100 mV, and its width 0.5 UI
    mask = next(c for c in res["checks"] if c["check"] == "eye_mask")
    assert mask["limit"] == pytest.approx(0.1)


@pytest.mark.slow
def test_user_spec_rate_search_is_consistent(tmp_path, capsys):
    (tmp_path / "user.yaml").write_text(USER.replace("max: 10 GT/s", "max: 40 GT/s"))
    ch = _channel(tmp_path, "0:20GHz:81", spec="user.yaml", package="advanced")
    rc = main(["rate", str(ch), "--json", "-q"])
    j = json.loads(capsys.readouterr().out)
    mx = j["max_rate_gbps"]
    assert rc == 0 and mx is not None and j["spec"] == "bus-user"
    # independently, every check of every lane at the reported rate, and the limiting check
    # 0.1 GT/s above it
    assert main(["validate", str(ch), "--rate", f"{mx:g}GT/s", "--json", "-q"]) == 0
    capsys.readouterr()
    lim = j["limited_by"]
    if lim is not None:
        nxt = lim["rate_gbps"]
        assert nxt == pytest.approx(mx + 0.1)
        assert main(["validate", str(ch), "--rate", f"{nxt:g}GT/s", "--json", "-q"]) == 1
        out = json.loads(capsys.readouterr().out)
        failing = [c["check"] for c in out["results"][0]["checks"] if not c["passed"]]
        assert lim["check"] in failing


def test_rate_up_to_stops_the_search(tmp_path, capsys):
    ch = _channel(tmp_path, "0:20GHz:81", package="advanced")
    rc = main(["rate", str(ch), "--up-to", "8GT/s", "--json", "-q"])
    j = json.loads(capsys.readouterr().out)
    assert [d["rate_gbps"] for d in j["rates"]] == [4, 8] and rc == 0
    assert any("--up-to" in n for n in j["notes"])
    assert main(["rate", str(ch), "--up-to", "2GT/s", "-q"]) == 2
    assert "lowest rate" in capsys.readouterr().err


@pytest.mark.parametrize("pitch_um, gt, passed, limit", [
    (25, 24, True, 25.0),      # UCIe 3.0 Table 1-6: 25-30 um reaches 24 GT/s
    (25, 32, False, 31.0),     # ... but not 32: the finest pitch at 32 GT/s is 31 um
    (45, 64, True, 45.0),      # 45-55 um reaches 64 GT/s
    (40, 64, False, 45.0),
    (60, 16, False, 55.0),     # outside every group (the advanced package's 25-55 um)
])
def test_bump_pitch_groups(pitch_um, gt, passed, limit):
    from sigint.specs.library import load_spec
    from sigint.specs.masks import pitch_group_check

    groups, clause = load_spec("ucie").row(gt * 1e9, "advanced").pitch_groups()
    assert "Table 1-6" in clause
    c = pitch_group_check(groups, gt * 1e9, pitch_um * 1e-6, clause)
    assert (c.passed, c.value, c.limit) == (passed, pitch_um, limit) and c.adds_up()


def test_a_25um_bump_pitch_caps_the_rate_search_at_24gts(tmp_path, capsys):
    """The channel's eye and VTF pass at 32 GT/s, but its 25 um bumps belong to the
    25-30 um group, which UCIe Table 1-6 allows 24 GT/s: the maximum is 24 GT/s, limited
    by bump_pitch_group at 32 GT/s."""
    ch = _channel(tmp_path, "0:64GHz:129", package="advanced")
    ch.write_text(ch.read_text().replace("pitch: 45 um", "pitch: 25 um")
                  .replace("diameter: 25 um", "diameter: 15 um"))
    rc = main(["rate", str(ch), "--json", "-q", "--up-to", "32GT/s", "--exhaustive"])
    j = json.loads(capsys.readouterr().out)
    assert rc == 0 and j["max_rate_gbps"] == 24, j
    r32 = next(r for r in j["rates"] if r["rate_gbps"] == 32)
    assert r32["limiting_check"] == "bump_pitch_group", r32
