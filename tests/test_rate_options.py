"""Options of `sigint rate` / `validate` / `analyze` that must act or be refused: eye criteria
with a spec, their ranges, --package outside UCIe, 'all lanes' when a check limits every lane
alike, BoW's equalization in words, and a maximum set by the end of the data."""

import json

import numpy as np
import pytest
import skrf
from helpers import lossy_line
from test_lanes import bus

from sigint.analysis.analyze import AnalysisOptions, analyze, prepare
from sigint.analysis.lanes import ALL_LANES, evaluate_lanes
from sigint.analysis.rate import search_continuous, search_rates
from sigint.cli import main


@pytest.fixture(scope="module")
def net3():
    # as tests/test_rate.py: 3 lanes, 5 mm, lossy: passes UCIe up to 12 GT/s
    return bus(3, length=5e-3, r_scale=2.0, nf=321, fmax=16e9, c_mut=(-4e-12, -0.5e-12))


@pytest.fixture(scope="module")
def bus_file(net3, tmp_path_factory):
    d = tmp_path_factory.mktemp("rate_options")
    net3.write_touchstone(filename="bus", dir=str(d), skrf_comment=False)
    return d / "bus.s6p"


def _identical_lanes(n=3, nf=321, fmax=16e9):
    """*n* uncoupled identical lossy 50-ohm lines (3 mm), scikit-rf port order."""
    f = np.linspace(0, fmax, nf)
    s2 = lossy_line(f, 3e-3, alpha_db_per_m_sqrt_ghz=60.0).s
    s = np.zeros((nf, 2 * n, 2 * n), complex)
    for i in range(n):
        for a, pa in enumerate((i, i + n)):
            for b, pb in enumerate((i, i + n)):
                s[:, pa, pb] = s2[:, a, b]
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)


def _err(capsys, *args):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


# ------------------------------------------------------------ eye criteria and their ranges
@pytest.mark.parametrize("opt, value, fragment", [
    ("--eye-width", "2UI", "2 UI"), ("--eye-width", "1UI", "1 UI"),
    ("--eye-width", "0UI", "0UI"), ("--eye-width", "-0.2UI", "-0.2UI"),
    ("--eye-height", "0mV", "0mV"), ("--eye-height", "-5mV", "-5mV"),
])
def test_eye_criteria_outside_their_range_are_refused(bus_file, capsys, opt, value, fragment):
    rc, err = _err(capsys, "rate", bus_file, "--spec", "none", opt, value, "-q")
    assert rc == 2 and opt in err and fragment in err and "Traceback" not in err
    # with a spec too
    rc, err = _err(capsys, "rate", bus_file, opt, value, "-q")
    assert rc == 2 and opt in err


def test_eye_criteria_with_a_spec_are_checked_on_top_of_it(net3):
    """--eye-height with UCIe: every lane must also reach the height. The expected maximum
    comes from the spec-only search's own rows: the highest rate below the first at which
    a spec check fails or a lane's eye is under the criterion."""
    link = prepare(net3)
    plain = search_rates(link, AnalysisOptions(rate=16e9), exhaustive=True)
    lowest = {r.rate: min(x.eye.eye_height for x in r.lanes.lanes) for r in plain.rows}
    passing = [r.rate for r in plain.rows if r.lanes.passed]
    assert len(passing) >= 2
    # a height between the eyes of the two highest passing rates: it binds at the higher
    hi, lo = passing[-1], passing[-2]
    crit = 0.5 * (lowest[hi] + lowest[lo])
    assert lowest[hi] < crit < lowest[lo]
    s = search_rates(link, AnalysisOptions(rate=16e9), eye_height=crit, exhaustive=True)
    assert s.max_rate == lo and plain.max_rate == hi
    row = next(r for r in s.rows if r.rate == hi)
    assert not row.lanes.passed and "user_eye_height" in row.as_dict()["failing_checks"]
    names = {c.name for x in row.lanes.lanes for c in x.checks}
    assert {"eye_mask", "eye_height", "user_eye_height"} <= names
    assert "user_eye_width" not in names
    assert s.to_json()["user_criteria"] == {"eye_height_v": crit, "eye_width_ui": None}
    assert "on top of the spec's checks" in s.summary()


def test_eye_criteria_with_a_spec_on_the_command_line(net3, bus_file, capsys):
    """`sigint rate bus.s6p --eye-width 0.95UI`: the maximum is the highest rate below the
    first at which a lane fails UCIe or opens less than 0.95 UI, from single-lane analyses."""
    rc = main(["rate", str(bus_file), "--eye-width", "0.95UI", "--json", "-q"])
    out = json.loads(capsys.readouterr().out)
    assert out["user_criteria"] == {"eye_height_v": None, "eye_width_ui": 0.95}
    want = None
    for gt in (4, 8, 12, 16, 24, 32):
        lanes = [analyze(net3, AnalysisOptions(rate=gt * 1e9, victim=v, bits=0)) for v in (1, 2, 3)]
        if not all(r.passed and r.eye.eye_width >= 0.95 for r in lanes):
            break
        want = gt
    assert want is not None and want < 12          # the criterion binds below UCIe's own 12
    assert out["max_rate_gbps"] == want and rc == 0
    assert "user_eye_width" in out["rates"][0]["worst_margins"]


# ------------------------------------------------------------------ --package outside UCIe
@pytest.mark.parametrize("args", [
    ["rate", "{f}", "--spec", "bow", "--package", "standard"],
    ["rate", "{f}", "--spec", "aib", "--package", "advanced"],
    ["rate", "{f}", "--spec", "ucie-3d", "--package", "standard"],
    ["analyze", "{f}", "--rate", "16GT/s", "--spec", "bow", "--package", "standard"],
    ["analyze", "{f}", "--rate", "16GT/s", "--spec", "none", "--package", "standard"],
    ["validate", "{f}", "--rate", "16GT/s", "--spec", "bow", "--package", "standard"],
    ["validate", "{f}", "--rate", "16GT/s", "--spec", "ucie-advanced", "--package", "standard"],
])
def test_package_is_refused_for_specs_without_packages(bus_file, capsys, args):
    rc, err = _err(capsys, *[a.format(f=bus_file) for a in args], "-q")
    assert rc == 2 and "--package" in err and "Traceback" not in err, err
    assert len([ln for ln in err.splitlines() if ln.strip()]) <= 3


def test_package_of_a_channel_file_whose_spec_has_none(tmp_path, capsys):
    ch = tmp_path / "ch.yaml"
    ch.write_text("""
name: bow channel
link: {rate: 8 GT/s, spec: bow}
lanes: {pitch: 45 um, map: [SGS]}
frequencies: 0:40GHz:81
segments:
  - {type: bump, diameter: 25 um, height: 20 um}
""")
    rc, err = _err(capsys, "analyze", ch, "--package", "standard", "-q")
    assert rc == 2 and "bow has no packages" in err


def test_package_with_ucie_among_the_specs_is_kept(bus_file, capsys):
    rc = main(["validate", str(bus_file), "--rate", "8GT/s", "--spec", "bow", "--spec", "ucie",
               "--package", "standard", "--json", "-q"])
    out = json.loads(capsys.readouterr().out)
    assert rc in (0, 1) and [r["spec"] for r in out["results"]] == ["bow", "ucie standard"]


# ------------------------------------------------------- a check that limits every lane
def test_identical_lanes_are_limited_all_alike(tmp_path):
    net = _identical_lanes()
    opts = AnalysisOptions(rate=16e9, bits=0)
    # independently: each lane analysed alone has the same checks and margins
    singles = [analyze(net, opts.model_copy(update={"victim": v})) for v in (1, 2, 3)]
    for r in singles[1:]:
        assert [c.name for c in r.checks] == [c.name for c in singles[0].checks]
        np.testing.assert_allclose([c.margin for c in r.checks],
                                   [c.margin for c in singles[0].checks], rtol=1e-12)
    lanes = evaluate_lanes(prepare(net), opts)
    assert lanes.worst_lane == ALL_LANES
    j = lanes.to_json()
    assert j["worst_lane"] == ALL_LANES and j["worst_lane_in_full"] in ("lane 1", "lane 2", "lane 3")
    assert lanes.to_dataset().attrs["worst_lane"] == ALL_LANES
    assert "worst lane: all lanes" in lanes.summary()
    # the rate rows and the limiting check of the search
    s = search_rates(prepare(net), opts, rates=(8e9, 16e9))
    for row in s.rows:
        d = row.as_dict()
        assert d["worst_lane"] == ALL_LANES and d["figures_lane"].startswith("lane ")
        assert all(w["lane"] == ALL_LANES for w in d["worst_margins"].values())
    assert "     all " in s.summary()
    # validate's per-check rows
    from sigint.analysis.validate import SpecOutcome

    o = SpecOutcome(channel="x", spec="ucie", rate=16e9, lanes=lanes)
    assert o.as_dict()["worst_lane"] == ALL_LANES
    assert all(r["worst_lane"] == ALL_LANES for r in o.check_rows())


def test_lanes_that_differ_keep_their_lane(net3):
    lanes = evaluate_lanes(prepare(net3), AnalysisOptions(rate=16e9, bits=0))
    lim = lanes.limiting
    margins = [next(c.margin for c in x.checks if c.name == lim.name) for x in lanes.lanes]
    assert max(margins) - min(margins) > 1e-6 * abs(lim.margin)      # the lanes differ
    assert lanes.worst_lane == lanes.lanes[lanes.worst].victim != ALL_LANES


# ------------------------------------------------------------ BoW's equalization in words
def test_bow_equalization_is_the_ctle_choice(net3):
    """BoW-384/512 choose between the CTLE bypassed and the reference CTLE (no Tx FFE): the
    row names that choice, never an FFE."""
    s = search_rates(prepare(net3), AnalysisOptions(rate=24e9, spec="bow"), rates=(24e9, 32e9))
    text = s.summary()
    for row in s.rows:
        d = row.as_dict()
        assert "FFE" not in (d["equalization"] or "") and d["tx_setting"] is None
        assert d["tx_ffe"] == [1.0]
        if d["ctle_dc_gain_db"] is None:
            assert d["equalization"] == "CTLE bypassed" and d["ctle_bypassed"]
        else:
            assert d["ctle_dc_gain_db"] == pytest.approx(-2.27887)
            assert d["equalization"] == "reference CTLE -2.27887 dB"
            assert d["ctle_form"] == "bow-reference"
    assert "FFE" not in text and "CTLE" in text


# ------------------------------------------------------- a maximum set by the data's end
def test_maximum_set_by_the_end_of_the_data_says_so(capsys, tmp_path):
    """A 1 mm bus with data to 16 GHz: the eye criteria hold until the Nyquist frequency
    reaches the band where the response is tapered to zero (14.4-16 GHz)."""
    net = bus(3, length=1e-3, nf=321, fmax=16e9, c_mut=(-4e-12, -0.5e-12))
    s = search_continuous(prepare(net), AnalysisOptions(rate=16e9, spec="none"),
                          eye_height=1e-3, eye_width=0.1)
    first_fail = min(r.rate for r in s.rows if not r.lanes.passed)
    assert first_fail / 2 > 0.9 * 16e9          # its Nyquist frequency in the taper
    assert s.data_limited and s.to_json()["data_limited"] is True
    assert any("frequency range limits the maximum" in n for n in s.notes)
    assert "frequency range limits the maximum" in s.summary()
    # the same on the command line
    net.write_touchstone(filename="short", dir=str(tmp_path), skrf_comment=False)
    rc = main(["rate", str(tmp_path / "short.s6p"), "--spec", "none", "--eye-height", "1mV",
               "--eye-width", "0.1UI", "--json", "-q"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["data_limited"] is True


def test_maximum_set_by_a_check_has_no_data_note():
    """20 mm lossy lines with data to 40 GHz: the eye criteria fail at 18.4 GT/s, inside the
    data. (net3's 5 mm lines with data to 16 GHz pass to 24.4 GT/s, above the data's end,
    and are flagged: with data to 40 GHz they reach 60.6 GT/s.)"""
    net = bus(3, length=20e-3, r_scale=2.0, nf=801, fmax=40e9, c_mut=(-4e-12, -0.5e-12))
    s = search_continuous(prepare(net), AnalysisOptions(rate=16e9, spec="none"),
                          eye_height=0.1, eye_width=0.5)
    first_fail = min(r.rate for r in s.rows if not r.lanes.passed)
    assert first_fail < 40e9 * 0.9
    assert not s.data_limited and not any("frequency range" in n for n in s.notes)


def test_data_ending_below_the_symbol_rate_is_named():
    """A 1 mm bus passes UCIe 16 GT/s with data to 48 GHz; cut at 10 GHz (the Nyquist
    frequency 8 GHz still inside the data, below the taper) its 16 GT/s eye is shaped by
    the cut-off and fails: the search says the data may limit it (data_limited) and names
    the rates tried above the data's end, instead of blaming the channel silently."""
    def search(fmax, nf):
        net = bus(3, length=1e-3, nf=nf, fmax=fmax, c_mut=(-4e-12, -0.5e-12))
        return search_rates(prepare(net), AnalysisOptions(rate=8e9, spec="ucie"),
                            rates=(4e9, 8e9, 16e9))

    full = search(48e9, 961)
    assert full.max_rate == 16e9 and not full.data_limited
    assert not any("below the symbol rate" in n for n in full.notes)
    short = search(10e9, 201)
    assert short.max_rate == 8e9 and short.data_limited
    assert any("below the symbol rate of 16 GT/s" in n for n in short.notes)
    assert any("may limit the maximum" in n and "0.62 x the symbol rate" in n
               for n in short.notes)
