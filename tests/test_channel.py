"""Channels from geometry: cascading, vertical interconnects, files, errors, the CLI."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import skrf
from helpers import line_s

from sigint.channel.build import build_file
from sigint.channel.lines import cascade_s, mtl_s, star_product
from sigint.channel.vertical import end_correction, loop_inductance, partial_mutual_2d, partial_mutual_3d
from sigint.cli import main
from sigint.extract.rlgc import extract
from sigint.xsection.schema import load_cross_section

MU0 = 1.25663706212e-6
EPS0 = 8.8541878128e-12


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGINT_CACHE", str(tmp_path / "cache"))


def _net(s, f):
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)


def test_star_product_equals_scikit_rf_cascade():
    rng = np.random.default_rng(7)
    f = np.linspace(1e8, 4e10, 21)
    n = 4
    secs = []
    for _ in range(4):
        a = rng.normal(size=(n, n))
        l = 1e-7 * (a @ a.T + n * np.eye(n))
        b = rng.normal(size=(n, n))
        c = 1e-11 * (b @ b.T + n * np.eye(n))
        secs.append(mtl_s(f, rng.uniform(5, 50) * np.eye(n), l, 0.0, c, rng.uniform(1e-3, 1e-2)))
    ours = cascade_s(secs)
    ref = _net(secs[0], f)
    for s in secs[1:]:
        ref = ref ** _net(s, f)
    np.testing.assert_allclose(ours, ref.s, rtol=0, atol=1e-12)
    # associativity of the cascade
    left = star_product(star_product(secs[0], secs[1]), secs[2])
    right = star_product(secs[0], star_product(secs[1], secs[2]))
    np.testing.assert_allclose(left, right, atol=1e-13)


# ---------------------------------------------------------------- vertical interconnects
def test_short_tsv_pair_is_about_17_percent_below_2d():
    """REFERENCES.md: h/p ~ 2 needs 3D partial inductances, about 17% lower than 2D."""
    r, p, h = 5e-6, 50e-6, 100e-6
    d = np.array([[r * math.exp(-0.25), p], [p, r * math.exp(-0.25)]])
    sig = np.array([True, False])
    l3 = loop_inductance(partial_mutual_3d(h, d), sig)[0, 0]
    l2 = loop_inductance(partial_mutual_2d(h, d), sig)[0, 0]
    assert 0.80 < l3 / l2 < 0.87
    # the filament 2D loop is the closed form (mu0 h / pi) acosh(p / 2r) + internal
    assert l2 == pytest.approx(MU0 * h / math.pi * math.log(p / (r * math.exp(-0.25))), rel=1e-12)
    # long conductors: the correction vanishes
    dl = end_correction(np.array([0, p]), np.array([0, 0]), r, sig, 100 * p)
    assert abs(dl[0, 0]) * 100 * p < 0.011 * l2 * 100 * p / h     # reached 0.36 %


def test_tsv_pair_against_closed_forms():
    """Oxide and silicon C and G of a signal-ground TSV pair (Kim 2011; Xu 2010) and the
    pair's loop inductance, per unit length (REFERENCES.md, for cross-checks)."""
    r, t, p = 5e-6, 0.5e-6, 50e-6
    data = dict(stack=[dict(material="si")], mesh=dict(sectors=16),
                tsv_arrays=[dict(name="t", rows=1, cols=2, pitch="50 um", radius="5 um",
                                 liner=dict(thickness="0.5 um"), pattern=["SG"])])
    f = np.array([1e8, 1e9, 1e10, 5e10])
    res = extract(load_cross_section(data), f)
    e_ox, eps_si, sig_si = 3.9, 11.9, 10.0
    rp = r + t
    c_ox = 2 * math.pi * EPS0 * e_ox / math.log(rp / r)
    c_si = math.pi * EPS0 * eps_si / math.acosh(p / (2 * rp))
    g_si = math.pi * sig_si / math.acosh(p / (2 * rp))
    w = 2 * np.pi * f
    y_cf = 1 / (1 / (1j * w * c_ox / 2) + 1 / (g_si + 1j * w * c_si))
    y = res.g[:, 0, 0] + 1j * w * res.c[:, 0, 0]
    err = np.abs(y / y_cf - 1)
    assert err.max() < 0.027, err           # 100 MHz to 50 GHz; reached 0.90 % (at 100 MHz)
    l_ext = res.l[-1, 0, 0] - res.r[-1, 0, 0] / w[-1]
    # reached 2.0e-4
    assert l_ext == pytest.approx(MU0 / math.pi * math.acosh(p / (2 * r)), rel=6e-4)


# ---------------------------------------------------------------- channel files
def _write_channel(tmp_path, segments, lanes="[SGS, GSG]", extra=""):
    xs = tmp_path / "bus.yaml"
    xs.write_text("""
ground_plane: {y: 0 um}
stack: [{material: sio2, thickness: 6 um}, {material: air}]
buses:
  - {name: s, pattern: GSGSGSG, pitch: 4 um, width: 2 um, height: 1 um, y: 2 um}
""")
    ch = tmp_path / "ch.yaml"
    ch.write_text(f"""
name: test channel
link: {{rate: 16 GT/s, spec: ucie, package: advanced}}
lanes: {{pitch: 45 um, map: {lanes}}}
frequencies: 0:60GHz:121
{extra}
segments:
{segments}
""")
    return ch


SEGS = """  - {type: bump, diameter: 25 um, height: 20 um}
  - {type: trace, xsection: bus.yaml, length: 1 mm}
  - {type: bump, diameter: 25 um, height: 20 um}"""


def test_build_and_rebuild_from_cache(tmp_path):
    ch = _write_channel(tmp_path, SEGS)
    first = build_file(ch)
    assert first.s.shape == (121, 6, 6) and not any(b.cached for b in first.segments[:2])
    s = first.s
    np.testing.assert_allclose(s, np.swapaxes(s, 1, 2), atol=1e-12)                 # reciprocal
    assert np.linalg.svd(s, compute_uv=False).max() <= 1 + 1e-9                      # passive
    again = build_file(ch)
    assert all(b.cached for b in again.segments)
    np.testing.assert_allclose(again.s, first.s, atol=1e-14)
    d = first.delays()
    assert np.all(d > 5e-12) and np.ptp(d) < 1e-12
    dens = first.density()
    assert dens["gbps_per_mm"] == pytest.approx(3 * 16 / (3 * 0.045))


def test_touchstone_segment_round_trip(tmp_path):
    ch = _write_channel(tmp_path, SEGS)
    built = build_file(ch)
    p = tmp_path / "whole.s6p"
    built.network().write_touchstone(str(p.with_suffix("")))
    ch2 = _write_channel(tmp_path, "  - {type: touchstone, file: whole.s6p}")
    again = build_file(ch2)
    np.testing.assert_allclose(again.s, built.s, atol=1e-9)


def _three_lines(f):
    """Three uncoupled lossless 3 mm lines (eps_eff 4; 45, 50, 56 ohm) as a 6-port in
    scikit-rf order [near 1-3, far 1-3], from the closed-form line (helpers.line_s)."""
    s = np.zeros((f.size, 6, 6), complex)
    for i, zc in enumerate((45.0, 50.0, 56.0)):
        s2 = line_s(zc, 2j * np.pi * f * 2.0 * 3e-3 / 299792458.0)
        for a, pa in enumerate((i, i + 3)):
            for b, pb in enumerate((i, i + 3)):
                s[:, pa, pb] = s2[:, a, b]
    return s


def test_touchstone_segment_without_dc_off_grid_is_repaired(tmp_path):
    """A file from 0.3 GHz in 0.2 GHz steps: DC is extrapolated (a line is a thru at DC) and
    the data resampled onto the channel's 0.5 GHz grid, both against the closed form.
    Reached 1.3e-7 at DC and 9.3e-9 elsewhere (network.quality.regrid_transfers: delay out,
    cubic splines of real and imaginary parts through the data and their mirror image);
    scikit-rf's extrapolate_to_dc then its cubic in magnitude and phase reached 1.5e-5 and
    1.1e-3 (at 50 GHz, where S11 of the half-wave line passes through 0)."""
    ff = np.arange(0.3e9, 60.3e9, 0.2e9)
    _net(_three_lines(ff), ff).write_touchstone(str(tmp_path / "lines"))
    built = build_file(_write_channel(tmp_path, "  - {type: touchstone, file: lines.s6p}"))
    notes = " ".join(built.segments[0].notes)
    assert "DC extrapolated" in notes and "interpolated onto the channel's frequencies" in notes
    fc = np.linspace(0, 60e9, 121)
    err = np.abs(built.s - _three_lines(fc)).max(axis=(1, 2))
    assert err[0] < 4e-7 and err[1:].max() < 2.8e-8, (err[0], err[1:].max())


def _rc_lines(f, length=10e-3, r=2000.0):
    """Three uncoupled lines of 45, 50, 56 ohm (eps_eff 4) with a series resistance *r*
    ohm/m, as a 6-port (scikit-rf order), from the closed-form line (helpers.line_s)."""
    w = 2 * np.pi * f
    s = np.zeros((f.size, 6, 6), complex)
    for i, z in enumerate((45.0, 50.0, 56.0)):
        lp, cp = z * 2.0 / 299792458.0, 2.0 / 299792458.0 / z
        zs, yp = r + 1j * w * lp, 1e-9 + 1j * w * cp
        s2 = line_s(np.sqrt(zs / yp), np.sqrt(zs * yp) * length)
        for a, pa in enumerate((i, i + 3)):
            for b, pb in enumerate((i, i + 3)):
                s[:, pa, pb] = s2[:, a, b]
    return s


def test_touchstone_segment_log_sweep_is_repaired(tmp_path):
    """A log sweep from 10 MHz (301 points) of resistive 10 mm lines onto the channel's
    uniform grid from DC. At DC each line is its series resistance R l = 20 ohm between
    50 ohm ports: S21 = 2 Zr / (2 Zr + R l) = 5/6, S11 = R l / (2 Zr + R l) = 1/6 (closed
    form, independent of the line model). Elsewhere against the line's closed form.
    Reached 2.5e-10 at DC and 4.2e-3 elsewhere (the log sweep's last steps are 1.7 GHz:
    the phase of the 67 ps line turns 0.7 rad between points); scikit-rf's
    extrapolate_to_dc followed by its cubic in magnitude and phase reached 3.4e-7 and
    5.0e-2."""
    ff = np.geomspace(1e7, 60.1e9, 301)
    _net(_rc_lines(ff), ff).write_touchstone(str(tmp_path / "lines"))
    built = build_file(_write_channel(tmp_path, "  - {type: touchstone, file: lines.s6p}"))
    assert "DC extrapolated" in " ".join(built.segments[0].notes)
    dc = built.s[0]
    for i in range(3):
        assert abs(dc[i + 3, i] - 5 / 6) < 1e-9 and abs(dc[i, i] - 1 / 6) < 1e-9, dc[i + 3, i]
    fc = np.linspace(0, 60e9, 121)
    err = np.abs(built.s[1:] - _rc_lines(fc[1:])).max()
    assert err < 1.3e-2, err


def test_segment_s_parameters_are_cached_with_their_rlgc(tmp_path, monkeypatch):
    """A rebuild reads each line's S-parameters from the cache (mtl_s is not called) and
    gets the same bits; another length is another entry, computed afresh."""
    import sigint.channel.build as build_mod

    ch = _write_channel(tmp_path, SEGS)
    first = build_file(ch)
    assert len(list((tmp_path / "cache").glob("s-*.npz"))) == 2      # bump, trace
    calls = []
    real = build_mod.mtl_s
    monkeypatch.setattr(build_mod, "mtl_s", lambda *a, **k: calls.append(a[5]) or real(*a, **k))
    again = build_file(ch)
    assert calls == []
    np.testing.assert_array_equal(again.s, first.s)
    longer = _write_channel(tmp_path, SEGS.replace("length: 1 mm", "length: 2 mm"))
    build_file(longer)
    assert calls == [pytest.approx(2e-3)]
    # a foreign or damaged entry under the right key is recomputed, not used
    for entry in (tmp_path / "cache").glob("s-*.npz"):
        good = np.load(entry)["s"]
        np.savez(entry, s=good[:, :4, :4])
    calls.clear()
    np.testing.assert_array_equal(build_file(longer).s, build_file(longer, use_cache=False).s)
    assert len(calls) >= 2


def test_corrupt_cache_entry_is_recomputed_and_replaced(tmp_path):
    ch = _write_channel(tmp_path, "  - {type: trace, xsection: bus.yaml, length: 1 mm}")
    first = build_file(ch)
    entries = sorted(e for e in (tmp_path / "cache").glob("*.npz") if not e.name.startswith("s-"))
    assert len(entries) == 1 and not first.segments[0].cached
    entries[0].write_bytes(b"PK\x03\x04 truncated")            # a zip header and nothing else
    again = build_file(ch)
    assert not again.segments[0].cached                         # not trusted: recomputed
    np.testing.assert_array_equal(again.s, first.s)
    third = build_file(ch)                                      # and the entry rewritten
    assert third.segments[0].cached
    np.testing.assert_array_equal(third.s, first.s)


@pytest.mark.parametrize("segments,fragment", [
    ("  - {type: wire, length: 1 mm}", "unknown segment type; use one of trace"),
    ("  - {type: trace, xsection: bus.yaml, length: 1}", "segments[0].trace.length = 1"),
    ("  - {type: trace, xsection: nothere.yaml, length: 1 mm}", "no such file"),
    ("  - {type: touchstone, file: missing.s6p}", "no such file"),
])
def test_bad_channel_files(tmp_path, capsys, segments, fragment):
    ch = _write_channel(tmp_path, segments)
    code = main(["build", str(ch)])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err


def test_lane_mismatch_and_wrong_port_count(tmp_path, capsys):
    ch = _write_channel(tmp_path, SEGS, lanes="[SGSS, GSGS]")
    assert main(["build", str(ch)]) == 2
    assert "has 3 signal(s) but the link has 5 lane(s)" in capsys.readouterr().err
    net = skrf.Network(frequency=skrf.Frequency(0, 60, 121, "GHz"), s=np.zeros((121, 4, 4)), z0=50)
    net.write_touchstone(str(tmp_path / "four"))
    ch = _write_channel(tmp_path, "  - {type: touchstone, file: four.s4p}")
    assert main(["build", str(ch)]) == 2
    assert "has 4 ports, but the link has 3 lanes and needs a 6-port" in capsys.readouterr().err


def test_cli_build_writes_touchstone_and_analyze_takes_yaml(tmp_path, capsys):
    ch = _write_channel(tmp_path, SEGS)
    code = main(["build", str(ch), "-o", str(tmp_path / "out"), "-q"])
    out = capsys.readouterr().out
    assert code == 0 and "skew between lanes" in out and "Gb/s/mm" in out
    net = skrf.Network(str(tmp_path / "out.s6p"))
    assert net.nports == 6 and net.f[-1] == pytest.approx(60e9)
    code = main(["analyze", str(ch), "-q", "--bits", "2048", "--json", "--victim", "2"])
    j = json.loads(capsys.readouterr().out)
    # a 3-lane UCIe-advanced channel of a few mm: every check passes, so the exit code is 0
    assert code == 0 and j["passed"] is True and all(c["passed"] for c in j["checks"])
    assert j["rate_gbps"] == 16 and j["victim"] == "lane 2"
    # six UCIe checks and the bump-pitch group of the channel file's micro-bumps (Table 1-6)
    assert j["spec"].startswith("UCIe advanced") and len(j["checks"]) == 7
    assert j["checks"][-1]["name"] == "bump_pitch_group"
    # a channel file's default: every lane as victim
    code = main(["analyze", str(ch), "-q", "--bits", "0", "--json"])
    j = json.loads(capsys.readouterr().out)
    assert j["victim"] == "all" and len(j["per_lane"]) == 3
    # 6 checks of the row, the bump-pitch group, plus lane_skew across the lanes
    assert j["worst"]["spec"].startswith("UCIe advanced") and len(j["worst"]["checks"]) == 8
    code = main(["build", str(ch), "--json", "-q"])
    j = json.loads(capsys.readouterr().out)
    assert j["lanes"] == 3 and all(s["cached"] for s in j["segments"])
    assert set(j["backend_stages"].values()) == {"numpy"} and "build.cascade" in j["backend_stages"]


def test_shipped_channel_files_validate():
    """Every shipped channel loads, its cross-sections resolve and carry the lane count."""
    from sigint.channel.schema import TraceSegment, load_channel
    from sigint.xsection.geometry import resolve

    root = Path(__file__).resolve().parents[1] / "channels"
    files = sorted(root.glob("*.yaml"))
    assert len(files) >= 6
    for p in files:
        ch, base = load_channel(p)
        for seg in ch.segments:
            if isinstance(seg, TraceSegment):
                g = resolve(load_cross_section(base / seg.xsection))
                assert len(g.signals) == ch.lanes.n_lanes, p


def test_build_channel_takes_the_file_as_sigint_build_channel_does(tmp_path):
    """channel.build.build_channel(path) is sigint.build_channel(path): same network."""
    import sigint
    from sigint.channel.build import build_channel

    ch = tmp_path / "ch.yaml"
    (tmp_path / "bus.yaml").write_text(
        "ground_plane: {y: 0 um}\n"
        "stack: [{material: sio2, thickness: 6 um}, {material: air}]\n"
        "buses: [{name: s, pattern: GSGSG, pitch: 4 um, width: 2 um, height: 1 um, y: 2 um}]\n")
    ch.write_text(
        "name: two lanes\n"
        "link: {rate: 16 GT/s, spec: ucie, package: advanced}\n"
        "lanes: {pitch: 45 um, map: [SGS]}\n"
        "frequencies: 0:40GHz:81\n"
        "segments:\n"
        "  - {type: bump, diameter: 25 um, height: 20 um}\n"
        "  - {type: trace, xsection: bus.yaml, length: 1 mm}\n")
    a = build_channel(ch, use_cache=False)
    b = sigint.build_channel(ch, use_cache=False)
    assert a.n_lanes == b.n_lanes == 2
    np.testing.assert_array_equal(a.network().s, b.network().s)


def test_analyze_extends_a_grid_that_stops_at_nyquist(tmp_path, capsys):
    """`sigint analyze` of a channel file whose grid stops at the Nyquist frequency (8 GHz
    at 16 GT/s) builds it on 0 to 3 times the rate, where the eye has converged
    (api.ANALYSIS_GRID_RATES), with the same points per Hz, and says so: the same figures
    as a file that gives that grid itself."""
    short = _write_channel(tmp_path, SEGS)
    short.write_text(short.read_text().replace("0:60GHz:121", "0:8GHz:17"))
    code = main(["analyze", str(short), "-q", "--bits", "0", "--json", "--victim", "1"])
    j = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert any("0:8GHz:17 stop below 48 GHz" in n and "0:48GHz:97" in n for n in j["notes"])
    full = tmp_path / "full" / "ch.yaml"
    full.parent.mkdir()
    (full.parent / "bus.yaml").write_text((tmp_path / "bus.yaml").read_text())
    full.write_text(short.read_text().replace("0:8GHz:17", "0:48GHz:97"))
    main(["analyze", str(full), "-q", "--bits", "0", "--json", "--victim", "1"])
    k = json.loads(capsys.readouterr().out)
    assert not any("stop below" in n for n in k["notes"])
    for key in ("eye_height_v", "eye_width_ui", "vtf_loss_db_at_nyquist", "mask_height_v"):
        assert j[key] == pytest.approx(k[key], rel=1e-9)
    # the Python API builds it the same way
    import sigint

    r = sigint.analyze(short, victim=1, bits=0)
    assert r.eye.eye_height == pytest.approx(k["eye_height_v"], rel=1e-9)
    assert any("0:48GHz:97" in n for n in r.notes)
