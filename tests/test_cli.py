"""The command line: exit codes, one-sentence errors, JSON, plots and netCDF."""

import json
import lzma
from pathlib import Path

import numpy as np
import pytest
import skrf
from helpers import coupled_pair

from sigint.cli import main

ROOT = Path(__file__).resolve().parents[1]

def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) <= 3, err           # click usage errors add a usage line and a hint
    for frag in fragments:
        assert frag in err, (frag, err)


@pytest.fixture
def ucie_file(tmp_path):
    f = np.arange(0, 60e9 + 1, 100e6)
    net = coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=20.0)
    net.write_touchstone(filename="ucie", dir=str(tmp_path))
    return tmp_path / "ucie.s4p"


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "analyze", tmp_path / "none.s4p")
    _assert_one_line_error(code, err, "none.s4p", "no such file")


def test_text_file(capsys, tmp_path):
    p = tmp_path / "readme.s4p"
    p.write_text("This is not S-parameter data.\n")
    code, _, err = run(capsys, "analyze", p)
    _assert_one_line_error(code, err, "not a Touchstone file")


def test_truncated_file(capsys, tmp_path, example2):
    p = tmp_path / "cut.s4p"
    p.write_bytes(lzma.decompress(example2["THRU"].read_bytes())[:500_000])
    code, _, err = run(capsys, "analyze", p, "--thru", "1:2", "--thru", "3:4")
    _assert_one_line_error(code, err, "truncated")


def test_nan_entries(capsys, tmp_path):
    p = tmp_path / "nan.s2p"
    p.write_text("# GHz S RI R 50\n0 0 0 1 0 1 0 0 0\n1 0 0 nan 0 1 0 0 0\n")
    code, _, err = run(capsys, "analyze", p)
    _assert_one_line_error(code, err, "non-finite", "line 3")


def test_three_port_needs_explicit_paths(capsys, tmp_path):
    net = skrf.Network(frequency=skrf.Frequency(0, 40, 41, "GHz"), s=np.zeros((41, 3, 3)), z0=50)
    net.write_touchstone(filename="three", dir=str(tmp_path))
    code, _, err = run(capsys, "analyze", tmp_path / "three.s3p")
    _assert_one_line_error(code, err, "has 3 ports", "--thru P:Q")


def test_unknown_port_in_mapping(capsys, ucie_file):
    code, _, err = run(capsys, "analyze", ucie_file, "--thru", "1:9")
    _assert_one_line_error(code, err, "port 9 does not exist", "ports 1-4")


@pytest.mark.parametrize("rate,fragment", [
    ("200GT/s", "impossible for this file"), ("16", "has no unit"),
    ("-16GT/s", "must be positive"), ("fast", "not a number"),
])
def test_impossible_or_malformed_rate(capsys, ucie_file, rate, fragment):
    code, _, err = run(capsys, "analyze", ucie_file, "--rate", rate, "--spec", "none")
    _assert_one_line_error(code, err, fragment)


def test_output_path_checked_before_work(capsys, ucie_file, tmp_path):
    code, _, err = run(capsys, "analyze", ucie_file, "--out", tmp_path / "no" / "r.nc")
    _assert_one_line_error(code, err, "does not exist")
    code, _, err = run(capsys, "analyze", ucie_file, "--out", tmp_path / "r.txt")
    _assert_one_line_error(code, err, ".nc")


def test_json_plot_and_netcdf(capsys, ucie_file, tmp_path):
    code, out, err = run(capsys, "analyze", ucie_file, "--rate", "16GT/s", "--json",
                         "--plot", tmp_path / "figs", "--out", tmp_path / "r.nc",
                         "--bits", "4096", "--backend", "numpy")
    assert code == 0, err
    j = json.loads(out)
    for key in ("backend", "rate_gbps", "vtf_loss_db_at_nyquist", "vtf_xt_db_at_nyquist",
                "eye_height_v", "eye_width_ui", "ber", "checks", "passed"):
        assert key in j
    assert j["backend"] == "numpy" and j["rate_gbps"] == 16 and j["passed"] is True
    assert j["ber"] == 1e-15
    for c in j["checks"]:
        assert set(c) >= {"name", "passed", "value", "limit", "margin"}
    for name in ("eye.png", "vtf.png", "bathtub.png", "pulse.png"):
        assert (tmp_path / "figs" / name).stat().st_size > 10_000
    assert (tmp_path / "r.nc").stat().st_size > 10_000


def test_failing_verdict_exits_1(capsys, tmp_path):
    f = np.arange(0, 60e9 + 1, 100e6)
    net = coupled_pair(f, 10e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=900.0)
    net.write_touchstone(filename="lossy", dir=str(tmp_path))
    code, out, _ = run(capsys, "analyze", tmp_path / "lossy.s4p", "--bits", "0")
    assert code == 1
    assert "FAIL  vtf_loss" in out and "=> FAIL" in out


def test_summary_names_the_backend_and_quality(capsys, ucie_file):
    code, out, _ = run(capsys, "analyze", ucie_file, "--bits", "2048")
    assert code == 0
    assert "backend numpy" in out and "passivity" in out and "Verdict: UCIe advanced" in out


def test_help_teaches(capsys):
    code, out, _ = run(capsys, "analyze", "--help")
    assert code == 0
    assert "--thru P:Q" in out and "Examples:" in out and "UCIe" in out


def test_unwritable_outputs_and_bad_taps_are_refused_before_any_work(capsys, tmp_path):
    """An output under a path that is a file cannot be written: one sentence, exit 2, before
    the (long) search or analysis; so do FFE taps that are not finite numbers."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    chan = ROOT / "channels" / "ucie_advanced_2mm.yaml"
    cases = [("rate", chan, "--plot", blocker / "figs"),
             ("validate", chan, "--junit", blocker / "r.xml"),
             ("analyze", chan, "--report", blocker / "r.html"),
             ("analyze", chan, "--out", blocker / "r.nc"),
             ("analyze", chan, "--eq", "1,2,nan")]
    code, _, err = run(capsys, "rate", chan, "--reverse", "2")
    assert code == 2 and "--reverse apply to Touchstone files" in err, err
    for args in cases:
        code, _, err = run(capsys, *args)
        assert code == 2, (args, err)
        assert "Traceback" not in err and ("cannot write" in err or "finite taps" in err), err
