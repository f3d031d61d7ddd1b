"""The Python API: one sigint.analyze for channel YAML, Touchstone files and networks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import coupled_pair
from test_channel import SEGS, _write_channel

import sigint
from sigint.errors import InputError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGINT_CACHE", str(tmp_path / "cache"))


def test_one_analyze_for_yaml_file_and_network(tmp_path):
    ch = _write_channel(tmp_path, SEGS)
    b = sigint.build_channel(ch)
    assert repr(b).startswith("<BuildResult ch.yaml: 3 lanes, 3 segments")
    assert "skew between lanes" in b.summary() and b.network().nports == 6
    r_yaml = sigint.analyze(ch, bits=0)
    # the link's rate and spec, the middle lane as victim (like the command line)
    assert r_yaml.rate == 16e9 and r_yaml.victim == "lane 2" and r_yaml.row is not None
    assert r_yaml.extra["bandwidth_density"]["lanes"] == 3
    # the same channel as a file and as a network in memory gives the same VTF
    b.network().write_touchstone(filename="ch", dir=str(tmp_path))
    r_file = sigint.analyze(tmp_path / "ch.s6p", "16GT/s", victim=2, bits=0)
    r_net = sigint.analyze(b.network(), 16e9, victim=2, bits=0)
    np.testing.assert_allclose(r_file.vtf.victim, r_yaml.vtf.victim, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r_net.vtf.victim, r_yaml.vtf.victim, rtol=1e-12, atol=1e-15)
    # the channel file also knows its micro-bump pitch (UCIe Table 1-6 pitch groups)
    assert [c.name for c in r_net.checks] + ["bump_pitch_group"] == [c.name for c in r_yaml.checks]


def test_results_print_short_and_render_in_notebooks():
    f = np.arange(0, 40e9 + 1, 100e6)
    r = sigint.analyze(coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9, 20.0), "16GT/s", bits=0)
    text = repr(r)
    assert len(text) < 300 and "\n" not in text and "PASS" in text
    html = r._repr_html_()
    assert "<table" in html and "vtf_loss_fn" in html and "<body" not in html
    assert r.summary().startswith("sigint analyze")


def test_module_and_entry_point_are_one_name():
    import sigint.analysis.analyze as module

    assert module.AnalysisOptions is sigint.analyze.AnalysisOptions and callable(sigint.analyze)


def test_bad_calls_are_one_sentence(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        sigint.analyze(tmp_path / "x.s4p")
    (tmp_path / "y.s2p").write_text("# GHz S RI R 50\n1 0 0 1 0 1 0 0 0\n")
    with pytest.raises(InputError, match="give the rate"):
        sigint.analyze(tmp_path / "y.s2p")
    with pytest.raises(InputError, match="no such file"):
        sigint.analyze(tmp_path / "x.s4p", "16GT/s")
    with pytest.raises(InputError, match="unknown option"):
        sigint.analyze(tmp_path / "x.s4p", "16GT/s", vicitm=2)


def test_short_grid_of_a_channel_file_is_built_to_where_the_eye_converges(tmp_path):
    """A channel file whose grid stops at 8 GHz, analysed at 16 GT/s: it is built to 3x the
    rate (api.ANALYSIS_GRID_RATES), and its eye matches the eye of the same channel from a
    dense grid to 200 GHz (12.5x the rate). Channel: three uncoupled lossless 3 mm lines of
    45, 50, 56 ohm (closed form, test_channel._three_lines) as a Touchstone segment.
    Measured, eye height of the middle lane vs the dense grid: grid to 1x the rate -6.9 %
    (the old build), 1.5x -5.5 %, 2x -2.1 %, 2.5x -0.89 %, 3x -0.09 %, 3.5x -0.30 %, 5x
    +0.37 %, 6x +0.18 %, 8x +0.0003 % (a lossless line leaves only the Tx edge and the pads
    to roll the response off); the tolerance, 1 %, is about 3 times the largest
    difference from 3x on."""
    from test_channel import _net, _three_lines

    from sigint.api import ANALYSIS_GRID_RATES

    ff = np.arange(0, 200e9 + 1, 0.1e9)
    s = _three_lines(ff)
    _net(s, ff).write_touchstone(str(tmp_path / "lines"))
    ch = tmp_path / "ch.yaml"
    ch.write_text("""
name: three lines
link: {rate: 16 GT/s, spec: ucie, package: advanced}
lanes: {pitch: 45 um, map: [SGS, GSG]}
frequencies: 0:8GHz:81
segments:
  - {type: touchstone, file: lines.s6p}
""")
    r = sigint.analyze(ch, bits=0)
    assert ANALYSIS_GRID_RATES == 3.0
    assert r.vtf.f[-1] == pytest.approx(48e9) and r.vtf.f[1] == pytest.approx(0.1e9)
    assert any("built once on 0:48GHz:481" in n for n in r.notes)
    dense = sigint.analyze(_net(s, ff), "16GT/s", victim=2, bits=0)
    assert r.victim == "lane 2"
    assert r.eye.eye_height == pytest.approx(dense.eye.eye_height, rel=0.01)
    assert r.eye.eye_width == pytest.approx(dense.eye.eye_width, rel=0.01)
