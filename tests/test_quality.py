"""The frequency-grid and phase-slope helpers of sigint.network.quality, and their users."""

import numpy as np
import pytest
import skrf

from sigint.link.txrx import Rx, Tx
from sigint.network.quality import bulk_delay, check_network, uniform_grid
from sigint.timedomain.pulse import pulse_responses

C0 = 299792458.0


@pytest.mark.parametrize("f,step,uniform", [
    (np.arange(0, 11) * 1e9, 1e9, True),
    (np.arange(3, 11) * 1e9, 1e9, True),                 # from 3 df: part of k df
    (np.arange(0.5, 10) * 1e9, 1e9, False),              # offset by half a step
    (np.array([0, 1, 2, 4, 5]) * 1e9, 1e9, False),       # a missing point: smallest step
    (np.geomspace(1e7, 1e10, 31), None, False),
])
def test_uniform_grid(f, step, uniform):
    got_step, got_uniform = uniform_grid(f)
    assert got_uniform is uniform
    assert got_step == pytest.approx(step if step else np.diff(f).min(), rel=1e-12)


def _net(f, s21):
    s = np.zeros((f.size, 2, 2), complex)
    s[:, 1, 0] = s[:, 0, 1] = s21
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)


def test_quality_and_pulse_agree_on_an_offset_grid():
    """A uniform step whose frequencies are not multiples of it must be resampled for the
    FFT: the quality report says so (it used to call such a grid uniform) and the pulse
    responses resample it."""
    f = np.arange(0.05e9, 40e9, 0.1e9)
    h = np.exp(-2j * np.pi * f * 30e-12)
    grid = [i for i in check_network(_net(f, h), 16e9, "x").items if i.name == "grid"][0]
    assert grid.status == "fixed" and "not whole multiples" in grid.text
    pr = pulse_responses(f, h, np.zeros((0, f.size)), 16e9, Tx(), Rx())
    assert any("not uniform" in n for n in pr.notes)
    f0 = np.arange(0, 40e9, 0.1e9)
    ok = [i for i in check_network(_net(f0, np.exp(-2j * np.pi * f0 * 30e-12)), 16e9, "x").items
          if i.name == "grid"][0]
    assert ok.status == "ok"


def test_bulk_delay_band_limit():
    """Only frequencies up to fmax count: a transfer whose phase slope changes at 10 GHz
    gives the low-band delay below it and the weighted mix above."""
    f = np.linspace(0, 40e9, 401)
    ph = np.where(f <= 10e9, -2 * np.pi * f * 20e-12, -2 * np.pi * (10e9 * 20e-12 + (f - 10e9) * 60e-12))
    h = np.exp(1j * ph)
    assert bulk_delay(f, h, 10e9) == pytest.approx(20e-12, rel=1e-12)
    assert bulk_delay(f, h) > 30e-12


def test_built_lane_delays_against_the_line(tmp_path):
    """Lane delays of a built channel (one Touchstone segment of three 3 mm lines of 45, 50,
    56 ohm) from the phase-slope fit: the matched lane's is the line delay 2 L / c exactly;
    a mismatched line's S21 phase delay lies between the line delay and its low-frequency
    limit tau (Zc/Zr + Zr/Zc) / 2 (the series L and shunt C seen by Zr; Pozar, Table 4.2
    expanded to first order in beta l). Reached: 1e-16 matched, inside the bounds."""
    from test_channel import _three_lines, _write_channel

    from sigint.channel.build import build_file

    ff = np.linspace(0, 60e9, 121)
    skrf.Network(frequency=skrf.Frequency.from_f(ff, unit="hz"), s=_three_lines(ff),
                 z0=50.0).write_touchstone(str(tmp_path / "lines"))
    d = build_file(_write_channel(tmp_path, "  - {type: touchstone, file: lines.s6p}")).delays()
    tau = 2.0 * 3e-3 / C0
    assert d[1] == pytest.approx(tau, rel=1e-9)
    for k, zc in ((0, 45.0), (2, 56.0)):
        assert tau < d[k] < tau * (zc / 50 + 50 / zc) / 2, (k, d[k] / tau)


def _rc_line(f, length, r=200.0, zc=50.0, entry=(1, 0)):
    """S-parameter of a line with series resistance r ohm/m (eps_eff 4), 50 ohm ports, from
    the closed form (helpers.line_s)."""
    from helpers import line_s

    w = 2 * np.pi * f
    zs, yp = r + 1j * w * zc * 2 / C0, 1e-9 + 1j * w * 2 / C0 / zc
    return line_s(np.sqrt(zs / yp), np.sqrt(zs * yp) * length)[:, entry[0], entry[1]]


@pytest.mark.parametrize("length,step,r,zc,entry,dc_tol,band_tol", [
    # 100 mm resistive line from 0.25 GHz (the phase turns 1 rad per step): reached DC
    # 1.2e-3, elsewhere 1.2e-3 (below the first point; 2.2e-4 in the data's band)
    (0.1, 0.25e9, 200.0, 50.0, (1, 0), 3.6e-3, 3.6e-3),
    # lossless mismatched 3 mm line, S11 through its nulls: reached 1.1e-8 and 2.3e-8
    (3e-3, 0.3e9, 0.0, 45.0, (0, 0), 3.3e-8, 7e-8),
    # 10 mm line, 2000 ohm/m, 1 GHz steps: reached S21 DC 1.8e-6, in band 2.6e-5
    (0.01, 1e9, 2000.0, 56.0, (1, 0), 5.4e-6, 7.8e-5),
])
def test_regrid_transfers_against_the_line(length, step, r, zc, entry, dc_tol, band_tol):
    """Resampling and DC of a transfer sampled from one step above DC, against the closed
    form; at DC the line is its series resistance, S21 = 2 Zr / (2 Zr + R l)."""
    from sigint.network.quality import regrid_transfers

    f = np.arange(step, 40e9 + step / 2, step)
    fg = np.linspace(0, 40e9, 3201)
    got = regrid_transfers(f, _rc_line(f, length, r, zc, entry), fg)
    ref = _rc_line(fg[1:], length, r, zc, entry)
    rl = r * length
    dc = 100 / (100 + rl) if entry == (1, 0) else rl / (100 + rl)     # S11 = R l / (2 Zr + R l)
    assert abs(got[0] - dc) < dc_tol, abs(got[0] - dc)
    assert got[0].imag == 0
    assert np.abs(got[1:] - ref).max() < band_tol, np.abs(got[1:] - ref).max()
