"""The spec library: every row's numbers against the clause it cites, typed here from the
spec texts (independent of the loader's code), the reference CTLEs against their defining
properties, the polygon mask fit, user spec files and their mistakes."""

import math
from pathlib import Path

import numpy as np
import pytest
import skrf

from sigint.cli import main
from sigint.specs.library import (
    BUILTIN_SPECS,
    bow_reference_ctle,
    load_spec,
    load_spec_file,
    reference_ctle,
)
from sigint.specs.masks import polygon_mask_fit, skew_check
from sigint.timedomain.stateye import contour_mask_fit

ROOT = Path(__file__).resolve().parents[1]
G = 1e9


def ucie(pkg, gt):
    return load_spec("ucie").row(gt * G, pkg)


# --- UCIe 3.0 -----------------------------------------------------------------------------

@pytest.mark.parametrize("pkg,gt,loss_fn,loss_dc,xt,tx,rx", [
    # Table 5-17 (p. 209): advanced, L(fN) > -3 / -5 dB, XT < 1.5 L - 21.5 and < -23 /
    # 1.5 L - 19 and < -24; note a: Tx 25 ohm / 0.25 pF, Rx 0.2 pF
    ("advanced", 4, -3.0, None, (1.5, -21.5, -23.0), (25.0, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 16, -3.0, None, (1.5, -21.5, -23.0), (25.0, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 24, -5.0, None, (1.5, -19.0, -24.0), (25.0, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 32, -5.0, None, (1.5, -19.0, -24.0), (25.0, 0.25e-12), (None, 0.2e-12)),
    # Table 5-24 (p. 235): standard terminated
    ("standard", 8, -7.5, -4.5, (3.0, -11.5, -25.0), (30.0, 0.3e-12), (50.0, 0.3e-12)),
    ("standard", 16, -6.5, -4.5, (3.0, -11.5, -25.0), (30.0, 0.2e-12), (50.0, 0.2e-12)),
    ("standard", 32, -7.5, -4.5, (2.5, -10.0, -26.0), (30.0, 0.125e-12), (50.0, 0.125e-12)),
    # Table 5-25 (p. 235): standard, no Rx termination
    ("standard-unterminated", 4, -1.25, None, (7.0, -12.5, -15.0), (30.0, 0.3e-12),
     (None, 0.2e-12)),
    ("standard-unterminated", 12, -1.25, None, (7.0, -12.5, -15.0), (30.0, 0.2e-12),
     (None, 0.2e-12)),                                     # note b: 12 GT/s with 16 GT/s
    ("standard-unterminated", 16, -1.15, None, (4.0, -13.5, -17.0), (30.0, 0.2e-12),
     (None, 0.2e-12)),
])
def test_ucie_vtf_rows(pkg, gt, loss_fn, loss_dc, xt, tx, rx):
    r = ucie(pkg, gt)
    assert (r.loss_fn_db, r.loss_dc_db) == (loss_fn, loss_dc)
    assert (r.xt_slope, r.xt_offset, r.xt_cap) == xt
    assert (r.tx_r, r.tx_c) == pytest.approx(tx) and r.rx_r == rx[0]
    assert r.rx_c == pytest.approx(rx[1])


@pytest.mark.parametrize("pkg", ["advanced", "standard"])
@pytest.mark.parametrize("gt", [48, 64])
def test_ucie_48_64_eye_only_diamond_presets_reference_ctle(pkg, gt):
    r = ucie(pkg, gt)
    # §5.7 (p. 206): no VTF masks at 48/64; diamond 65 mV x 0.65 UI; Tx presets of Table 5-7
    # (p. 194); 1st-order CTLE, DC gain -6..0 dB in 1-dB steps
    assert not r.has_vtf
    assert (r.mask_shape, r.eye_height, r.eye_width) == ("diamond", pytest.approx(0.065),
                                                         pytest.approx(0.65))
    assert r.equalization.tx_presets == {
        "P0": (0, 1, 0), "P1": (-0.05, 0.95, 0), "P2": (0, 0.9, -0.1),
        "P3": (-0.05, 0.85, -0.1), "P4": (0, 0.8, -0.2), "P5": (-0.05, 0.75, -0.2)}
    assert r.equalization.ctle.form == "ucie-reference"
    assert sorted(r.equalization.ctle.dc_gains) == [-6, -5, -4, -3, -2, -1, 0]
    # §5.4.4 (p. 201): 1-tap DFE at 64 GT/s with h1/h0 < 0.35
    dfe = r.equalization.dfe
    assert (dfe is not None and dfe.taps == 1 and dfe.h1_h0_max == 0.35) == (gt == 64)
    assert r.rx_r is not None          # §5.7: Rx terminated at 48/64


@pytest.mark.parametrize("pkg,gt,w,eq", [
    # Table 5-15 (p. 206): 40 mV x 0.75 UI at 4-16; 40 mV x 0.65 UI at 24/32 with EQ
    ("advanced", 4, 0.75, ()), ("advanced", 16, 0.75, ()),
    ("advanced", 24, 0.65, (0.0, -2.2)), ("standard", 32, 0.65, (0.0, -2.2)),
    ("standard-unterminated", 12, 0.75, ()),
])
def test_ucie_rectangle_masks(pkg, gt, w, eq):
    r = ucie(pkg, gt)
    assert (r.mask_shape, r.eye_height, r.eye_width) == ("rectangle", pytest.approx(0.040),
                                                         pytest.approx(w))
    # Table 5-6 (p. 194): Tx de-emphasis 0 / -2.2 dB at 24/32 GT/s
    assert tuple(r.equalization.tx_de_emphasis) == eq


@pytest.mark.parametrize("pkg,gt,ber", [
    # Table 5-32 (p. 251), Tables 1-1/1-2 (p. 40)
    ("advanced", 4, 1e-27), ("advanced", 12, 1e-27), ("advanced", 16, 1e-15),
    ("advanced", 32, 1e-15), ("advanced", 48, 1e-15), ("advanced", 64, 1e-12),
    ("standard", 8, 1e-27), ("standard", 12, 1e-15), ("standard", 64, 1e-12),
])
def test_ucie_raw_ber(pkg, gt, ber):
    assert ucie(pkg, gt).ber_at(gt * G) == ber


@pytest.mark.parametrize("pkg,gt,skew", [
    # Table 5-16 (p. 208): +-0.03 UI advanced 4-32, +-0.06 at 48/64; standard +-0.07 at
    # 4-16, +-0.10 at 24/32, +-0.20 at 48/64
    ("advanced", 8, 0.03), ("advanced", 32, 0.03), ("advanced", 48, 0.06),
    ("advanced", 64, 0.06), ("standard", 16, 0.07), ("standard", 24, 0.10),
    ("standard", 64, 0.20),
])
def test_ucie_lane_skew(pkg, gt, skew):
    assert ucie(pkg, gt).skew_ui == pytest.approx(skew)


def test_ucie_facts():
    f = load_spec("ucie").facts
    # Table 1-4 (p. 49): advanced package, 45 um pitch, GB/s/mm
    assert f["density_table_1_4"].value == {4: 165, 8: 329, 12: 494, 16: 658, 24: 988,
                                            32: 1317, 48: 1975, 64: 2634}
    # Table 1-6 (p. 50): pitch groups and their maximum rate
    assert f["pitch_groups_advanced"].value == {"25-30 um": 24, "31-37 um": 32,
                                                "38-44 um": 48, "45-55 um": 64}
    assert f["module_width_advanced"].value == 388.8
    assert f["reach_advanced"].value == 2


def test_ucie_3d():
    s = load_spec("ucie-3d")
    r = s.row(4 * G)
    # Table 1-3 (p. 41): up to 4 GT/s, BER 1e-27
    assert s.rates() == (4 * G,) and r.ber_at(4 * G) == 1e-27
    assert s.facts["bump_pitch_max"].value == 10
    # Table 6-2 (§6.4.1) timing budget: eye closure due to the channel 0.1 UI -> the eye
    # must stay 0.9 UI wide; lane-to-lane skew 0.12 UI peak to peak -> +-0.06 UI
    assert s.rows[0].eye_mask.width == pytest.approx(0.9)
    assert s.rows[0].skew == pytest.approx(0.06)


# --- BoW, AIB --------------------------------------------------------------------------

@pytest.mark.parametrize("gt,c_pad,rx_r,height,width", [
    # 'Maximum Parasitic Capacitance at a BoW I/O vs. Mode': 800 fF (32/64), 400 fF (128),
    # 200 fF (256), 125 fF (384/512 doubly terminated); 'Receiver Voltage and Timing
    # Requirements': V_err,tot,RX 200 / 150 / 75 mV unterminated, 75 mV at 384/512;
    # t_err,tot,RX 36.5 % Tbit (256 and below), 32.5 % (384 and above)
    (2, 800e-15, None, 0.200, 0.365), (4, 800e-15, None, 0.200, 0.365),
    (8, 400e-15, None, 0.150, 0.365), (16, 200e-15, None, 0.075, 0.365),
    (24, 125e-15, 64.0, 0.075, 0.325), (32, 125e-15, 64.0, 0.075, 0.325),
])
def test_bow_rows(gt, c_pad, rx_r, height, width):
    r = load_spec("bow").row(gt * G)
    assert r.rx_c == pytest.approx(c_pad) and r.tx_c == pytest.approx(c_pad)
    assert r.rx_r == rx_r
    # Tx 36-50 ohm (36-43 ohm doubly terminated at 384+); Rx 59-69 ohm at 384+
    assert 36 <= r.tx_r <= (43 if gt >= 24 else 50)
    assert rx_r is None or 59 <= rx_r <= 69
    tx = r.tx()
    assert tx.rise_time_ui <= 0.23 and tx.swing == pytest.approx(0.75)   # 0.75 V I/O
    assert (r.eye_height, r.eye_width) == (pytest.approx(height), pytest.approx(width))
    assert r.ber_at(gt * G) == 1e-15                                      # per wire
    ctle = r.equalization.ctle
    if gt >= 24:      # Apk = 1.3: DC gain 1/1.3
        assert ctle.form == "bow-reference" and ctle.bypass
        assert 10 ** (ctle.dc_gains[0] / 20) == pytest.approx(1 / 1.3, rel=1e-5)
    else:
        assert ctle is None


def test_aib_row():
    r = load_spec("aib").row(6.4 * G)
    # Table 21 (p. 82): Gen2 data far end +-50 mV, 0.4 UI; Table 1: 0.4 V swing, 6.4 Gb/s;
    # §4.1: 0.3 pF load
    assert (r.eye_height, r.eye_width) == (pytest.approx(0.100), pytest.approx(0.4))
    assert r.tx().swing == pytest.approx(0.4) and r.rx_c == pytest.approx(0.3e-12)
    assert max(load_spec("aib").rates()) == 6.4 * G


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_every_shipped_row_cites_its_clauses(name):
    s = load_spec(name)
    assert s.document and not s.user_written
    for row in s.rows:
        need = {"tx", "rx", "eye_mask", "ber"}
        if row.vtf is not None:
            need.add("vtf")
        if row.equalization.enabled:
            need.add("equalization")
        if row.skew is not None:
            need.add("skew")
        missing = need - set(row.clauses)
        assert not missing, (name, row.name, missing)
        assert all(row.clauses[k].strip() for k in need)
    for fact in s.facts.values():
        assert fact.clause.strip()


# --- reference CTLEs --------------------------------------------------------------------

@pytest.mark.parametrize("g", [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])
@pytest.mark.parametrize("fn", [24e9, 32e9])
def test_ucie_reference_ctle_peaks_at_fn_with_0db(g, fn):
    f = np.linspace(0, 4 * fn, 400001)
    h = np.abs(reference_ctle(f, g, fn))
    # UCIe 3.0 §5.4.4: DC gain ADC, peak (0 dB) at fn
    assert h[0] == pytest.approx(10 ** (g / 20), rel=1e-12)
    k = int(np.argmax(h))
    assert f[k] == pytest.approx(fn, rel=2e-3)
    assert 20 * np.log10(h[k]) == pytest.approx(0.0, abs=1e-6)


def test_ucie_reference_ctle_at_0db_clamps_the_pole():
    # Eq. 5-3: wp = min(wn / (1 - A^2)^(1/4), 2 wn); at A = 1 the first term is infinite,
    # wp = 2 wn, and Eq. 5-4 gives wz = wp / sqrt(2); H(s) = A wp^2/wz (s + wz)/(s + wp)^2
    fn = 32e9
    wn = 2 * math.pi * fn
    wp, wz = 2 * wn, 2 * wn / math.sqrt(2)
    for f in (1e9, 16e9, 32e9, 80e9):
        s = 2j * math.pi * f
        want = wp * wp / wz * (s + wz) / (s + wp) ** 2
        assert complex(reference_ctle(np.array([f]), 0.0, fn)[0]) == pytest.approx(want)


def test_bow_reference_ctle():
    rate = 32e9
    apk = 1.3
    wz = math.pi / (2 / rate)        # pi / (2 Tbit)
    g = -20 * math.log10(apk)
    h0 = complex(bow_reference_ctle(np.array([0.0]), g, rate)[0])
    assert h0 == pytest.approx(1 / apk)
    # at s = j wz: (1/Apk)(1 + j)/(1 + j/Apk)
    hz = complex(bow_reference_ctle(np.array([wz / (2 * math.pi)]), g, rate)[0])
    assert hz == pytest.approx((1 / apk) * (1 + 1j) / (1 + 1j / apk))
    hinf = abs(bow_reference_ctle(np.array([1e15]), g, rate)[0])
    assert hinf == pytest.approx(1.0, rel=1e-4)


# --- polygon masks ------------------------------------------------------------------------

def _contour():
    phase = np.linspace(-0.5, 0.5, 65)
    top = 0.05 * np.cos(np.pi * phase) ** 2 - 0.004 + 0.002 * np.sin(7 * phase)
    return phase, top


@pytest.mark.parametrize("w", [0.2, 0.45, 0.7])
def test_polygon_equal_to_a_rectangle_gives_the_rectangle(w):
    phase, top = _contour()
    h = 0.03
    rect = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    ph, pc = polygon_mask_fit(phase, top, rect)
    rh, rc = contour_mask_fit(phase, top, w, "rectangle")
    assert ph == pytest.approx(rh, rel=1e-9, abs=1e-12) and pc == pytest.approx(rc, abs=1e-9)


def test_polygon_equal_to_a_diamond_gives_the_diamond():
    phase, top = _contour()
    w, h = 0.5, 0.02
    dia = [(-w / 2, 0.0), (0.0, h / 2), (w / 2, 0.0), (0.0, -h / 2)]
    ph, _ = polygon_mask_fit(phase, top, dia)
    dh, _ = contour_mask_fit(phase, top, w, "diamond")
    assert ph == pytest.approx(dh, rel=1e-6)


def test_polygon_hand_computed():
    # contour T(x) = 0.1 - 0.2 |x| V; hexagon 0.4 UI wide, 40 mV tall, flat from -0.1 to
    # 0.1 UI: the binding point is x = +-0.1 UI, where T = 0.08 V against 0.02 V: scale 4,
    # fitted height 4 x 40 mV = 160 mV, centred at 0 UI
    phase = np.linspace(-0.5, 0.5, 101)
    top = 0.1 - 0.2 * np.abs(phase)
    hexa = [(-0.2, 0.0), (-0.1, 0.02), (0.1, 0.02), (0.2, 0.0), (0.1, -0.02), (-0.1, -0.02)]
    h, c = polygon_mask_fit(phase, top, hexa)
    assert h == pytest.approx(0.16, rel=1e-6) and c == pytest.approx(0.0, abs=1e-9)


def test_skew_check_is_about_the_centre():
    # delays 10, 20, 40 ps at 16 GT/s (62.5 ps UI): centre 25 ps, farthest lane 15 ps away
    c = skew_check(np.array([10e-12, 20e-12, 40e-12]), ["a", "b", "c"], 16e9, 0.03)
    assert c.value == pytest.approx(15e-12 * 16e9) and not c.passed and c.adds_up()
    assert c.where.startswith("a") or c.where.startswith("c")


# --- analysis with the new rows ---------------------------------------------------------

def _delay_lines(delays, fmax=40e9, nf=801):
    """Independent matched 50 ohm lines of the given delays, ports i -> N + i."""
    f = np.linspace(0, fmax, nf)
    n = len(delays)
    s = np.zeros((nf, 2 * n, 2 * n), dtype=complex)
    for i, tau in enumerate(delays):
        s[:, i, n + i] = s[:, n + i, i] = np.exp(-2j * np.pi * f * tau)
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)


@pytest.mark.parametrize("delays,passes", [((20e-12, 22e-12, 24e-12), True),
                                            ((20e-12, 40e-12, 60e-12), False)])
def test_lanes_of_different_length_are_checked_for_skew(delays, passes):
    from sigint.analysis.analyze import AnalysisOptions, prepare
    from sigint.analysis.lanes import evaluate_lanes

    # standard package at 8 GT/s (UI 125 ps): the Rx is terminated in the lines' 50 ohm, so
    # the lanes differ by their line delays only; the farthest lane from the centre of the
    # spread lies (max - min) / 2 away: 2 ps = 0.016 UI, 20 ps = 0.16 UI; limit 0.07 UI
    res = evaluate_lanes(prepare(_delay_lines(delays)),
                         AnalysisOptions(rate=8e9, package="standard", bits=0))
    c = next(c for c in res.lanes[0].checks if c.name == "lane_skew")
    want = (max(delays) - min(delays)) / 2 * 8e9
    assert c.value == pytest.approx(want, rel=0.05)
    assert c.passed is passes and c.limit == pytest.approx(0.07)
    assert res.passed is passes


# --- user specs -------------------------------------------------------------------------

def test_shipped_hbm_user_specs_load():
    for name in ("hbm3_user.yaml", "hbm4_user.yaml"):
        s = load_spec_file(ROOT / "channels" / "specs" / name)
        assert s.user_written and "user" in s.title.lower()
        assert s.rows[0].eye_mask.shape in ("rectangle", "diamond", "polygon")


GOOD = """spec: my-bus
title: a user bus spec
user_written: true
rows:
  - rate_range: {min: 1 GT/s, max: 12 GT/s}
    ber: 1e-15
    tx: {r: 40 ohm, c_pad: 0.5 pF, swing: 0.4 V}
    rx: {r: open, c_pad: 0.5 pF}
    eye_mask: {shape: polygon, points: [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV],
                                        [0 UI, -30 mV]]}
    loss_mask: [[0 GHz, 0 dB], [6 GHz, -6 dB]]
    equalization: {ctle: {form: com, dc_gains: [0 dB, -3 dB]}}
"""


@pytest.mark.parametrize("old,new,field", [
    ("c_pad: 0.5 pF, swing", "c_pad: 0.5, swing", "tx.c_pad"),                 # no unit
    ("eye_mask: {shape: polygon", "eye_mask: {shap: polygon", "eye_mask"),     # typo
    ("ber: 1e-15", "ber: 2", "ber"),                                          # not a BER
    ("max: 12 GT/s", "max: 0.5 GT/s", "rate_range"),                              # max < min
    ("[6 GHz, -6 dB]", "[0 GHz, -6 dB]", "loss_mask"),                        # not increasing
    ("[0 UI, -30 mV]]}", "]}", "eye_mask"),               # a polygon all above 0 V
    ("shape: polygon, points: [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV],\n"
     "                                        [0 UI, -30 mV]]",
     "shape: rectangle, height: 40 mV", "eye_mask"),                          # no width
    ("rx: {r: open", "rx: {r: 50", "rx.r"),                                   # bare ohms
    ("rows:", "rowz:", "rowz"),                                               # unknown key
    ("rate_range: {min: 1 GT/s, max: 12 GT/s}", "rates: [4 GT/s, 8]", "rates"),  # bare rate
    ("rate_range: {min: 1 GT/s, max: 12 GT/s}", "ber_x: 1", "ber_x"),         # no rates at all
    ("form: com", "form: cmo", "form"),                                       # unknown CTLE
    ("rx: {r: open", "rx: {r: -50 ohm", "rx.r"),                              # negative ohms
    ("points: [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV],\n"            # bow tie
     "                                        [0 UI, -30 mV]]",
     "points: [[-0.2 UI, -20 mV], [0.2 UI, 20 mV], [0.2 UI, -20 mV], [-0.2 UI, 20 mV]]",
     "edges cross"),
    ("points: [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV],\n"            # beside the centre
     "                                        [0 UI, -30 mV]]",
     "points: [[0.1 UI, -20 mV], [0.3 UI, -20 mV], [0.3 UI, 20 mV], [0.1 UI, 20 mV]]",
     "centre"),
    ("points: [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV],\n"            # on one line
     "                                        [0 UI, -30 mV]]",
     "points: [[-0.2 UI, -20 mV], [0 UI, 0 mV], [0.2 UI, 20 mV]]", "no area"),
    ("spec: my-bus", "spec: ucie", "shipped spec"),                           # a shipped name
    ("title: a user bus spec", "title: a\ntitle: b", "twice"),                # duplicate key
    ("rate_range: {min: 1 GT/s, max: 12 GT/s}\n    ber: 1e-15",               # BER map short
     "rates: [4 GT/s, 8 GT/s]\n    ber: {8 GT/s: 1e-15}", "no BER at 4 GT/s"),
    ("rate_range: {min: 1 GT/s, max: 12 GT/s}", "rates: [4 GT/s, 4 GT/s]", "twice"),
])
def test_user_spec_mistakes_give_one_sentence_and_exit_2(tmp_path, capsys, old, new, field):
    text = GOOD.replace(old, new)
    assert text != GOOD
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    ch = tmp_path / "ch.s4p"
    ch.write_text("# GHz S RI R 50\n0 0 0 1 0 0 0 0 0\n")      # never read: the spec fails first
    rc = main(["analyze", str(ch), "--spec", str(p), "--rate", "8GT/s", "-q"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert "Traceback" not in err and err.count("\n") <= 1, err
    assert "bad.yaml" in err and field.split(".")[0] in err, err


@pytest.mark.parametrize("spec,msg", [("ucie-4d", "unknown spec"),
                                      ("nope.yaml", "no such spec file")])
def test_unknown_spec_names(tmp_path, capsys, spec, msg):
    ch = tmp_path / "ch.s4p"
    ch.write_text("# GHz S RI R 50\n0 0 0 1 0 0 0 0 0\n")
    rc = main(["analyze", str(ch), "--spec", spec, "-q"])
    assert rc == 2 and msg in capsys.readouterr().err


def test_every_shipped_channel_declares_its_spec():
    from sigint.channel.schema import load_channel

    seen = set()
    for p in sorted((ROOT / "channels").glob("*.yaml")):
        ch, base = load_channel(p)
        spec = ch.link.spec
        assert spec != "none", p.name
        if spec.endswith(".yaml"):
            spec = str(base / spec)
        s = load_spec(spec)
        s.row(ch.link.rate, ch.link.package)       # its rate is one the spec covers
        seen.add(s.spec)
    assert {"ucie", "ucie-3d", "bow", "hbm3-user"} <= seen


def test_two_rows_covering_one_rate_are_refused(tmp_path, capsys):
    text = GOOD.replace("rows:\n", "rows:\n  - rate_range: {min: 10 GT/s, max: 20 GT/s}\n"
                        "    ber: 1e-15\n    tx: {r: 40 ohm}\n    rx: {r: open}\n"
                        "    eye_mask: {shape: rectangle, height: 40 mV, width: 0.5 UI}\n")
    p = tmp_path / "two.yaml"
    p.write_text(text)
    rc = main(["analyze", str(tmp_path / "x.s4p"), "--spec", str(p), "--rate", "8GT/s", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "both cover 10 GT/s" in err, err


def test_top_rate_of_a_search():
    """The highest rate a search tries: UCIe advanced 64 GT/s (Table 1-4's top), 24 GT/s
    below a 30 GT/s cap (the rates are discrete), the standard package without Rx
    termination 16 GT/s; a continuous range is capped at the cap itself."""
    u = load_spec("ucie")
    assert u.top_rate("advanced") == 64 * G
    assert u.top_rate("advanced", up_to=30 * G) == 24 * G
    assert u.top_rate("standard-unterminated") == 16 * G
    assert u.top_rate("advanced", up_to=2 * G) is None
    h = load_spec_file(ROOT / "channels" / "specs" / "hbm3_user.yaml")
    assert h.continuous and h.top_rate(up_to=5 * G) == 5 * G


def test_bow_rows_are_titled_by_their_mode():
    """BoW-N carries N Gb/s over a slice of 16 data wires: BoW-32 ... BoW-512 are 2 ... 32
    GT/s per wire, and each row's title names its mode (not just "BoW")."""
    sf = load_spec("bow")
    titles = [sf.row(r, None).title for r in sf.rates(None)]
    assert titles == [f"BoW-{16 * g}, {g} GT/s" for g in (2, 4, 8, 16, 24, 32)]
    assert load_spec("ucie").row(16e9, "advanced").title == "UCIe advanced package, 4-16 GT/s"


def test_loss_mask_from_0_db_at_dc_is_judged_where_it_asks_something():
    """A user loss mask from 0 dB at DC to -6 dB at 6 GHz over a channel lossless at DC
    with a loss of 2 dB per 6 GHz, linear: the margin is (6 - 2) f/6GHz dB, 0 at DC. The
    check is reported where its margin relative to the mask is smallest (4/6 of it, at
    any frequency above DC), not at DC with a 0 dB margin, and an eye check with a
    relative margin of 0.3 ranks as limiting; a loss that crosses the mask still fails."""
    from sigint.analysis.lanes import limiting_check, relative_margin
    from sigint.specs.checks import Check
    from sigint.specs.masks import curve_checks

    f = np.linspace(0, 8e9, 81)
    loss = -2.0 * f / 6e9
    mask = [(0.0, 0.0), (6e9, -6.0)]
    (chk,) = curve_checks(f, loss, np.full(f.size, -60.0), 6e9, loss_mask=mask)
    assert chk.passed and chk.frequency_hz > 0
    assert relative_margin(chk) == pytest.approx(4.0 / 6.0, rel=1e-9)
    eye = Check("eye_height", True, 0.052, 0.04, 0.012, "V")          # relative 0.3
    assert limiting_check([chk, eye]) is eye
    # a channel over the mask near 3 GHz fails, at the frequency of its worst relative margin
    bad = loss - 2.5 * np.exp(-((f - 3e9) / 0.5e9) ** 2)
    (chk,) = curve_checks(f, bad, np.full(f.size, -60.0), 6e9, loss_mask=mask)
    m = bad - np.interp(f, [0.0, 6e9], [0.0, -6.0])
    sel = (f > 0) & (f <= 6e9)
    j = np.argmin(m[sel] / (6.0 * f[sel] / 6e9))
    assert not chk.passed and chk.frequency_hz == f[sel][j] and chk.margin < 0


def test_mask_corner_between_data_frequencies_is_judged():
    """A user loss mask whose tightest point (a corner at 2.5 GHz, -1.5 dB) falls between
    the data's 1 GHz steps, over a channel of loss 0.8 dB per GHz (linear, so its value at
    2.5 GHz is -2.0 dB whichever way it is interpolated): at the data frequencies 2 and 3
    GHz the mask is -2.4 dB and the channel passes (-1.6 and -2.4 dB); at the corner it
    fails by 0.5 dB. The crosstalk mask likewise: a dip to -40 dB at 2.5 GHz under a
    crosstalk of -35 dB that the data frequencies see at -44 dB and below."""
    from sigint.specs.masks import curve_checks

    f = np.linspace(0, 8e9, 9)
    loss = -0.8 * f / 1e9
    mask = [(0.0, -6.0), (2.5e9, -1.5), (5e9, -6.0)]
    xt = np.full(f.size, -35.0)
    xmask = [(0.0, -20.0), (2.5e9, -40.0), (5e9, -20.0)]
    lchk, xchk = curve_checks(f, loss, xt, 6e9, loss_mask=mask, xt_mask=xmask)
    assert not lchk.passed and lchk.frequency_hz == 2.5e9
    assert lchk.value == pytest.approx(-2.0, abs=1e-12) and lchk.limit == pytest.approx(-1.5)
    assert lchk.margin == pytest.approx(-0.5, abs=1e-12) and lchk.adds_up()
    assert not xchk.passed and xchk.frequency_hz == 2.5e9
    assert xchk.margin == pytest.approx(-5.0, abs=1e-12) and xchk.adds_up()
    # at the data frequencies alone both masks pass (what was judged before)
    on_grid = np.interp(f, [p[0] for p in mask], [p[1] for p in mask])
    assert np.all(loss[f <= 5e9] >= on_grid[f <= 5e9])
    # a corner beyond the data (20 GHz) is not judged; the check stays within the data
    (chk,) = curve_checks(f, loss, xt, 6e9, loss_mask=[(0.0, -1.0), (2e9, -1.7), (20e9, -30.0)])
    assert chk.passed and 0 < chk.frequency_hz <= 8e9
