"""Channel files as met in the field: every header honoured, nonsense refused, no crash.

One test (or a few) per kind of issue 8, each on a small fixture made here from closed
forms (tests/helpers.py, tests/touchstone_variants.py), never from the code under test.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import skrf
from helpers import coupled_pair, line_s, lossy_line
from touchstone_variants import Variant, write

from sigint.analysis.analyze import Aggressor, AnalysisOptions, analyze
from sigint.errors import InputError, PortMapError, TouchstoneError
from sigint.io.touchstone import read_touchstone
from sigint.link.ports import build_port_map
from sigint.network.quality import QualityReport, add_causality

C0 = 299792458.0


def _rows2(f_ghz: float, m: np.ndarray) -> str:
    """A Touchstone 1 two-port data line (order 11 21 12 22), RI."""
    vals = [complex(m[0, 0]), complex(m[1, 0]), complex(m[0, 1]), complex(m[1, 1])]
    return f"{float(f_ghz)!r} " + " ".join(f"{v.real!r} {v.imag!r}" for v in vals)


# ------------------------------------------------------------- 1. port reference impedances
@pytest.mark.parametrize("wrapped", [False, True])
def test_hfss_port_impedance_comments_after_every_frequency(tmp_path, wrapped):
    """S "not renormalized": at per-frequency port impedances given as comments after each
    frequency block. Renormalized to 50 ohm it must be the 50-ohm S of the same line."""
    f = np.linspace(0.2e9, 20e9, 100)  # no DC point: a thru has no Z, renormalizing is ill-posed
    gl = (0.2 * np.sqrt(f / 1e9) / 8.686 + 2j * np.pi * f * 2.0 / C0) * 0.05
    zport = 85.0 + 0.5 * np.arange(f.size)            # a different impedance at every point
    lines = ["! Touchstone file exported from HFSS", "! Data is not renormalized", "# GHZ S RI"]
    for k in range(f.size):
        lines.append(_rows2(f[k] / 1e9, line_s(85.0, gl[k], zport[k])))
        lines.append("! Gamma ! 0.0 1.0 0.0 1.0")
        if wrapped:
            lines += [f"! Port Impedance {float(zport[k])!r} 0", f"!  {float(zport[k])!r} 0"]
        else:
            lines.append(f"! Port Impedance{float(zport[k])!r} 0 {float(zport[k])!r} 0")
    p = tmp_path / "hfss.s2p"
    p.write_text("\n".join(lines) + "\n")
    net = read_touchstone(p)
    np.testing.assert_allclose(net.z0.real, np.repeat(zport[:, None], 2, axis=1), rtol=1e-12)
    # the analysis renormalizes to its 50-ohm reference: same VTF as the 50-ohm data
    at50 = skrf.Network(frequency=net.frequency, s=line_s(85.0, gl, 50.0), z0=50.0)
    opts = AnalysisOptions(rate=16e9, spec="none", bits=0)
    np.testing.assert_allclose(analyze(net, opts).vtf.victim, analyze(at50, opts).vtf.victim,
                               atol=1e-11)
    net.renormalize(50.0)
    np.testing.assert_allclose(net.s, line_s(85.0, gl, 50.0), atol=1e-11)


# ---------------------------------------------- 2. parameter type and normalization
R_SERIES = 10.0


def _series_resistor_s(r0: float = 50.0) -> np.ndarray:
    """S of a series resistor between two ports (Pozar, Table 4.2 / series impedance)."""
    z = R_SERIES
    return np.array([[z / (z + 2 * r0), 2 * r0 / (z + 2 * r0)],
                     [2 * r0 / (z + 2 * r0), z / (z + 2 * r0)]])


@pytest.mark.parametrize("param, values", [
    # the series resistor's Y, H and G, normalized as Touchstone 1 says (R = 50)
    ("Y", np.array([[1, -1], [-1, 1]]) / R_SERIES * 50.0),          # Y x R
    ("H", np.array([[R_SERIES / 50.0, 1.0], [-1.0, 0.0]])),        # H11 / R, H22 x R
    ("G", np.array([[0.0, -1.0], [1.0, R_SERIES / 50.0]])),        # G11 x R, G22 / R
])
def test_touchstone1_parameters_are_denormalized_as_the_spec_says(tmp_path, param, values):
    p = tmp_path / f"series_{param}.s2p"
    p.write_text(f"# GHz {param} RI R 50\n" + _rows2(1.0, values) + "\n" + _rows2(2.0, values)
                 + "\n")
    np.testing.assert_allclose(read_touchstone(p).s[0], _series_resistor_s(), atol=1e-14)


def test_touchstone1_and_2_z_parameters_of_a_tee(tmp_path):
    """A resistive tee (series 10, shunt 50, series 10 ohm): Z = [[60, 50], [50, 60]]."""
    z = np.array([[60.0, 50.0], [50.0, 60.0]])
    r0 = 50.0
    dz = (z[0, 0] + r0) * (z[1, 1] + r0) - z[0, 1] * z[1, 0]      # Pozar Table 4.2
    s11 = ((z[0, 0] - r0) * (z[1, 1] + r0) - z[0, 1] * z[1, 0]) / dz
    s21 = 2 * z[1, 0] * r0 / dz
    want = np.array([[s11, s21], [s21, s11]])
    p1 = tmp_path / "tee.s2p"
    p1.write_text("# GHz Z RI R 50\n" + _rows2(1.0, z / r0) + "\n")
    p2 = tmp_path / "tee.ts"
    p2.write_text("[Version] 2.0\n# GHz Z RI R 50\n[Number of Ports] 2\n"
                  "[Two-Port Data Order] 21_12\n[Network Data]\n" + _rows2(1.0, z) + "\n[End]\n")
    for p in (p1, p2):
        np.testing.assert_allclose(read_touchstone(p).s[0], want, atol=1e-14)


def test_what_scikit_rf_gets_wrong_for_touchstone1_y(tmp_path):
    """scikit-rf 2.x multiplies a Touchstone 1 Y file by R instead of dividing: its Y is
    R^2 = 2500 times the true Y of the series resistor, so its S is nearly a thru."""
    y_file = np.array([[1, -1], [-1, 1]]) / R_SERIES * 50.0
    p = tmp_path / "series_y.s2p"
    p.write_text("# GHz Y RI R 50\n" + _rows2(1.0, y_file) + "\n" + _rows2(2.0, y_file) + "\n")
    true_y = np.array([[1, -1], [-1, 1]]) / R_SERIES
    np.testing.assert_allclose(read_touchstone(p).y[0], true_y, rtol=1e-12)
    theirs = skrf.Network(str(p))
    if np.allclose(theirs.y[0], true_y, rtol=1e-9):
        pytest.skip("scikit-rf reads Touchstone 1 Y correctly now")
    np.testing.assert_allclose(theirs.y[0], true_y * 50.0 ** 2, rtol=1e-9)


def test_option_line_tokens_in_any_order_are_read_with_a_note(tmp_path):
    s = _series_resistor_s()
    mag, ang = np.abs(s), np.degrees(np.angle(s))
    row = " ".join(f"{float(mag[i, j])!r} {float(ang[i, j])!r}" for i, j in ((0, 0), (1, 0), (0, 1), (1, 1)))
    p = tmp_path / "order.s2p"
    p.write_text(f"# MHz MA S R 50.0\n1000 {row}\n")
    notes: list[str] = []
    net = read_touchstone(p, notes=notes)
    assert net.f[0] == 1e9
    np.testing.assert_allclose(net.s[0], s, atol=1e-14)
    assert any("unusual order" in t and "format MA" in t for t in notes)


# ----------------------------------------------------------------------- 3. mixed mode
@pytest.mark.parametrize("order", [
    [("D", 1, 2), ("D", 3, 4), ("C", 1, 2), ("C", 3, 4)],
    [("C", 3, 4), ("D", 1, 2), ("C", 1, 2), ("D", 3, 4)],
])
def test_mixed_mode_order_is_honoured(tmp_path, order):
    f = np.linspace(0, 40e9, 161)
    pair = coupled_pair(f, 0.05, 52.0, 48.0, 3.9, 3.7, alpha_db_per_m_sqrt_ghz=3.0)
    p = tmp_path / "mm.ts"
    p.write_bytes(write(f, pair.s, np.full(4, 50.0), Variant(version=2, mixed_mode=order)))
    notes: list[str] = []
    net = read_touchstone(p, notes=notes)
    np.testing.assert_allclose(net.s, pair.s, atol=1e-12)
    assert any("Mixed-Mode Order" in t for t in notes)
    opts = AnalysisOptions(rate=16e9, spec="none", bits=0)
    pm = build_port_map(4, differential=True)
    a = analyze(net, opts, port_map=pm)
    b = analyze(pair, opts, port_map=pm)
    assert a.eye.eye_height == pytest.approx(b.eye.eye_height, abs=1e-6)


# ---------------------------------------------------------------------- 4. structure
@pytest.mark.parametrize("variant", [
    Variant(version=1, bom=True),
    Variant(version=2, information=True),
    Variant(version=2, information=True, bom=True, crlf=True, comments=True),
])
def test_bom_and_information_blocks_are_skipped(tmp_path, variant):
    f = np.array([0.0, 1e9, 2e9])
    s = np.array([_series_resistor_s()] * 3)
    p = tmp_path / ("x.ts" if variant.version == 2 else "x.s2p")
    p.write_bytes(write(f, s, np.full(2, 50.0), variant))
    np.testing.assert_allclose(read_touchstone(p).s, s, atol=1e-14)


def test_empty_information_block_and_unknown_keyword_note(tmp_path):
    p = tmp_path / "info.ts"
    p.write_text("[Version] 2.1\n# GHz S RI R 50\n[Number of Ports] 1\n[Begin Information]\n"
                 "[End Information]\n[Some Future Keyword] 3\n[Network Data]\n1 0.5 0\n[End]\n")
    notes: list[str] = []
    assert read_touchstone(p, notes=notes).s[0, 0, 0] == 0.5
    assert any("[some future keyword]" in t and "ignored" in t for t in notes)


def test_touchstone2_noise_data_after_the_network_data_are_skipped(tmp_path):
    p = tmp_path / "noise.ts"
    p.write_text("[Version] 2.0\n# GHz S MA R 50\n[Number of Ports] 2\n"
                 "[Two-Port Data Order] 12_21\n[Number of Frequencies] 1\n"
                 "[Number of Noise Frequencies] 1\n[Network Data]\n"
                 "1 0.1 0 0.8 -90 0.7 -90 0.2 0\n[Noise Data]\n1 1.5 0.3 45 0.4\n[End]\n")
    net = read_touchstone(p)
    assert net.s[0, 0, 1] == pytest.approx(-0.8j) and net.s[0, 1, 0] == pytest.approx(-0.7j)


# ----------------------------------------------------------- 5. plausibility of the band
def test_ghz_option_line_with_hz_values_is_refused(tmp_path):
    p = tmp_path / "units.s1p"
    p.write_text("# GHz S RI R 50\n0 0.1 0\n25000000 0.1 0\n50000000 0.1 0\n")
    with pytest.raises(TouchstoneError) as e:
        read_touchstone(p)
    msg = str(e.value)
    assert "line 1" in msg and "# GHz S RI R 50" in msg and "'Hz'" in msg


def test_data_starting_above_nyquist_is_refused():
    f = np.linspace(30e9, 40e9, 101)
    with pytest.raises(InputError, match="above the Nyquist"):
        analyze(lossy_line(f, 0.01), AnalysisOptions(rate=16e9, spec="none", bits=0))


def test_aggressor_that_misses_part_of_the_band_is_refused():
    f = np.linspace(0, 40e9, 161)
    victim = coupled_pair(f, 0.05, 52.0, 48.0, 3.9, 3.7)
    short = coupled_pair(f[f <= 20e9], 0.05, 52.0, 48.0, 3.9, 3.7)
    opts = AnalysisOptions(rate=32e9, spec="none", bits=0)
    pm = build_port_map(4, differential=True)
    with pytest.raises(InputError, match="will not take it as zero"):
        analyze(victim, opts, port_map=pm, aggressors=[Aggressor("fext.s4p", "FEXT", short)])
    full = analyze(victim, opts, port_map=pm,
                   aggressors=[Aggressor("fext.s4p", "FEXT", victim)])
    assert np.isfinite(full.xt_db_at_nyquist)


def test_extrapolated_dc_outside_zero_to_one_is_flagged():
    """A 2-port whose first two points extrapolate linearly to a negative H(0)."""
    f = np.linspace(1e9, 40e9, 40)
    s21 = np.full(f.size, 0.9)
    s21[0] = 0.1                        # 0.1 at 1 GHz, 0.9 at 2 GHz -> H(0) < 0
    s = np.zeros((f.size, 2, 2), dtype=complex)
    s[:, 0, 1] = s[:, 1, 0] = s21
    net = skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50)
    res = analyze(net, AnalysisOptions(rate=16e9, spec="none", bits=0))
    item = [i for i in res.quality[0].items if i.name == "dc_extrapolation"]
    assert item and item[0].status == "warn" and item[0].value < 0


# --------------------------------------------------- 6. phase convention and causality
def test_conjugated_data_are_named():
    f = np.linspace(0, 40e9, 401)
    line = lossy_line(f, 0.1, alpha_db_per_m_sqrt_ghz=5.0)
    ok = analyze(line, AnalysisOptions(rate=16e9, spec="none", bits=0))
    tau = [i for i in ok.quality[0].items if i.name == "phase"][0].value
    assert tau == pytest.approx(0.1 * 2.0 / C0, rel=0.02)       # sqrt(eps_eff) = 2
    conj = line.copy()
    conj.s = np.conj(line.s)
    with pytest.raises(InputError, match="conjugate"):
        analyze(conj, AnalysisOptions(rate=16e9, spec="none", bits=0))
    # a step too coarse for the delay (2 GHz x 667 ps = 1.3 cycles a step) proves nothing
    coarse = lossy_line(np.linspace(0, 40e9, 21), 0.1, alpha_db_per_m_sqrt_ghz=5.0)
    res = analyze(coarse, AnalysisOptions(rate=16e9, spec="none", bits=0))
    item = [i for i in res.quality[0].items if i.name == "phase"][0]
    assert item.status == "warn" and "too coarse" in item.text


def test_causality_figure_reads_as_a_percentage():
    rep = QualityReport("x")
    add_causality(rep, 1.0)
    add_causality(rep, 5.9e-5)
    assert "100 %" in rep.items[0].text and "e+" not in rep.items[0].text
    assert "0.0059 %" in rep.items[1].text


# --------------------------------------------------- 7. time window vs frequency step
def _eye(f, bits=2048):
    line = lossy_line(f, 0.05, alpha_db_per_m_sqrt_ghz=20.0)
    return analyze(line, AnalysisOptions(rate=10e9, spec="none", bits=bits))


def test_fine_step_and_log_sweep_run_in_a_window_sized_to_the_channel():
    ref = _eye(np.linspace(0, 20e9, 1001), bits=0)       # 20 MHz step: 500 UI window
    fine = _eye(np.arange(1, 10001) * 2e6)              # 2 MHz step, no DC: 5000 UI allowed
    assert fine.pulses.window * 10e9 <= 4096
    assert fine.eye.eye_height == pytest.approx(ref.eye.eye_height, abs=0.5e-3)   # 2.4e-4
    # the bit-by-bit run on the fine grid agrees with its statistical eye: 1.6e-4 V reached
    assert abs(fine.agreement["levels"][0]["diff_v"]) < 5e-4
    log = _eye(np.geomspace(10e6, 20e9, 301))           # first step 0.25 MHz: 40000 UI
    assert log.pulses.window * 10e9 <= 4096
    assert log.eye.eye_height == pytest.approx(ref.eye.eye_height, abs=1e-3)      # 3.2e-4


# ------------------------------------------------------------- 8. port mapping
def _sequential_pair_with_end_coupling(coupling: float = 0.1) -> skrf.Network:
    """Two lines, P: ports 1->2 and N: 3->4, with P/N coupling `coupling` at each end."""
    f = np.linspace(0, 40e9, 161)
    ln = lossy_line(f, 0.05, alpha_db_per_m_sqrt_ghz=3.0).s
    s = np.zeros((f.size, 4, 4), dtype=complex)
    for a, b in ((0, 1), (2, 3)):
        s[:, a, a], s[:, a, b], s[:, b, a], s[:, b, b] = (ln[:, 0, 0], ln[:, 0, 1],
                                                          ln[:, 1, 0], ln[:, 1, 1])
    for a, b in ((0, 2), (1, 3)):
        s[:, a, b] = s[:, b, a] = coupling
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50)


def test_default_mapping_refused_despite_tight_coupling():
    net = _sequential_pair_with_end_coupling()
    opts = AnalysisOptions(rate=16e9, spec="none", bits=0)
    for diff in (False, True):
        with pytest.raises(PortMapError, match="--thru 1:2 --thru 3:4"):
            analyze(net, opts, port_map=build_port_map(4, differential=diff))


def test_explicit_coupling_path_refused_and_right_paths_accepted():
    net = _sequential_pair_with_end_coupling()
    opts = AnalysisOptions(rate=16e9, spec="none", bits=0)
    wrong = build_port_map(4, thru=["1:3", "2:4"], differential=True)
    with pytest.raises(PortMapError, match="--thru 1:2 --thru 3:4"):
        analyze(net, opts, port_map=wrong)
    right = build_port_map(4, thru=["1:2", "3:4"], differential=True)
    res = analyze(net, opts, port_map=right)
    assert res.vtf.loss_db[0] > -7.0


# ------------------------------------------------------------- 10. channel YAML mistakes
_CHANNEL = """\
name: typo test
link: {rate: 16 GT/s}
lanes: {pitch: PITCH, map: [SGS]}
frequencies: 0:10GHz:11
segments:
  - {type: bump, diameter: 25 um, height: 20 um}
  - {type: trace, xsection: XS, LENGTHKEY: 2 mm}
"""


def _channel(tmp_path, pitch="45 um", xs="bus.yaml", key="length") -> Path:
    p = tmp_path / "ch.yaml"
    p.write_text(_CHANNEL.replace("PITCH", pitch).replace("XS", xs).replace("LENGTHKEY", key))
    return p


def test_misspelt_key_is_named_with_a_suggestion(tmp_path):
    from sigint.channel.schema import load_channel

    with pytest.raises(InputError) as e:
        load_channel(_channel(tmp_path, key="lenght"))
    msg = str(e.value)
    assert "lenght: unknown key" in msg and "did you mean 'length'" in msg


def test_implausible_size_warns_with_the_value(tmp_path):
    from sigint.channel.schema import load_channel, plausibility_warnings

    ch, _ = load_channel(_channel(tmp_path, pitch="4 mm"))
    warns = plausibility_warnings(ch)
    assert len(warns) == 1 and "lanes.pitch = 4 mm" in warns[0] and "um or mm" in warns[0]
    ok, _ = load_channel(_channel(tmp_path))
    assert plausibility_warnings(ok) == []


def test_missing_cross_section_names_the_path_and_near_misses(tmp_path):
    from sigint.channel.build import _xsection_of
    from sigint.channel.schema import load_channel

    (tmp_path / "bus16.yaml").write_text("x: 1\n")
    ch, base = load_channel(_channel(tmp_path, xs="bus61.yaml"))
    with pytest.raises(InputError) as e:
        _xsection_of(ch.segments[1], base, "segments[1]")
    msg = str(e.value)
    assert str((tmp_path / "bus61.yaml").resolve()) in msg and "bus16.yaml" in msg


def test_freq_takes_one_value():
    from sigint.extract.rlgc import parse_frequencies

    np.testing.assert_array_equal(parse_frequencies("1GHz"), [1e9])


def test_missing_input_is_refused_before_the_heavy_imports(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from sigint.cli import main
        rc = main(["analyze", {str(tmp_path / 'nope.s4p')!r}])
        print(rc, 'skrf' in sys.modules, 'scipy' in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": ""})
    assert out.stdout.split() == ["2", "False", "False"], out.stderr
    assert "no such file" in out.stderr
