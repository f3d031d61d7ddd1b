"""sigint validate: exit codes, JUnit XML (one case per check), JSON, --spec none."""

import json
import xml.etree.ElementTree as ET

import pytest
from test_lanes import bus

from sigint.analysis.analyze import AnalysisOptions, analyze
from sigint.cli import main


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    d = tmp_path_factory.mktemp("val")
    net = bus(3, length=5e-3, r_scale=2.0, nf=321, fmax=16e9, c_mut=(-4e-12, -0.5e-12))
    net.write_touchstone(filename="bus", dir=str(d), skrf_comment=False)
    return d / "bus.s6p", net


@pytest.mark.parametrize("rate, want", [("8GT/s", 0), ("16GT/s", 1)])
def test_exit_code_and_junit(channel, tmp_path, capsys, rate, want):
    path, net = channel
    xml = tmp_path / "r.xml"
    rc = main(["validate", str(path), "--rate", rate, "--junit", str(xml), "--json", "-q"])
    out = json.loads(capsys.readouterr().out)
    # independently: each lane analysed on its own
    r_gt = float(rate.removesuffix("GT/s")) * 1e9
    singles = [analyze(net, AnalysisOptions(rate=r_gt, victim=v, bits=0)) for v in (1, 2, 3)]
    # plus lane_skew, which compares the (equal) lanes with each other and passes
    names = [c.name for c in singles[0].checks] + ["lane_skew"]
    failing = {c.name for r in singles for c in r.checks if not c.passed}
    assert rc == want == (1 if failing else 0)
    assert out["passed"] is (not failing)
    root = ET.parse(xml).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name").split(" at ")[0] for c in cases] == names
    assert {c.get("name").split(" at ")[0] for c in cases if c.find("failure") is not None} \
        == failing
    assert int(root.get("tests")) == len(names) and int(root.get("failures")) == len(failing)


def test_spec_none_says_nothing_was_checked(channel, tmp_path, capsys):
    path, _ = channel
    xml = tmp_path / "n.xml"
    rc = main(["validate", str(path), "--spec", "none", "--junit", str(xml), "-q"])
    out = capsys.readouterr().out
    assert rc == 0 and "nothing was checked" in out
    case = ET.parse(xml).getroot().find(".//testcase")
    assert case.find("skipped") is not None and case.find("failure") is None


def test_touchstone_without_rate_is_one_sentence(channel, capsys):
    path, _ = channel
    rc = main(["validate", str(path), "-q"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "--rate" in err and len(err.splitlines()) == 1


def test_no_aggressor_is_not_applicable(tmp_path, capsys):
    """One lane, no aggressor: the crosstalk check has no value; the summary says n/a and the
    verdict is the other checks' (a 5 mm line at 8 GT/s passes), never an internal error."""
    import numpy as np
    from helpers import lossy_line

    net = lossy_line(np.linspace(0, 16e9, 321), 5e-3, alpha_db_per_m_sqrt_ghz=20.0)
    net.write_touchstone(filename="one", dir=str(tmp_path), skrf_comment=False)
    rc = main(["validate", str(tmp_path / "one.s2p"), "--rate", "8GT/s", "-q"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "margin n/a dB no aggressors" in out


def test_a_spec_that_does_not_cover_the_rate_names_the_channel(channel, capsys):
    path, _ = channel
    rc = main(["validate", str(path), "--rate", "16GT/s", "--spec", "ucie-3d", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{path} against ucie-3d: rate 16 GT/s" in err
