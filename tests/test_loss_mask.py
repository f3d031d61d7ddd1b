"""UCIe loss mask (UCIe 3.0 §5.7.2.1): a straight line from L(0) to the limit at fN.

Fixture: a synthetic 10 mm lossy line of a standard package at 16 GT/s (limit -6.5 dB at
fN = 8 GHz, L(0) > -4.5 dB), once clean and once with 0.01 dB rms of noise below 0.5 GHz.
The expected VTF is computed here from the line's ABCD matrix and the Thevenin Tx / loaded
Rx of the VTF circuit (Pozar, Microwave Engineering, Table 4.2), independently of the
S-parameter formulation sigint uses.
"""

from __future__ import annotations

import numpy as np
import pytest
import skrf

from sigint.analysis.analyze import AnalysisOptions, analyze
from sigint.report.summary import analysis_summary

F = np.arange(0, 50e9 + 1, 50e6)
FN = 8e9
LIMIT = -6.5
LENGTH = 10e-3
# per unit length: R = Rdc sqrt(1 + f/fs) (skin effect setting in above fs), L, C, tan d
RDC, FS, LP, CP, TAND = 60.0, 0.2e9, 350e-9, 140e-12, 0.01
RS, CS, RL, CL = 30.0, 0.2e-12, 50.0, 0.2e-12        # UCIe standard 12-16 GT/s VTF circuit


def _line_abcd() -> tuple[np.ndarray, ...]:
    w = 2 * np.pi * F
    z = RDC * np.sqrt(1 + F / FS) + 1j * w * LP
    y = w * CP * TAND + 1j * w * CP
    g = np.sqrt(z * y) * LENGTH
    zc = np.sqrt(z / np.where(y == 0, 1, y))
    a = np.cosh(g)
    b = np.where(F > 0, zc * np.sinh(g), z * LENGTH)
    c = np.where(F > 0, np.sinh(g) / np.where(F > 0, zc, 1), 0)
    return a, b, c, zc


def _network(noise_db: np.ndarray | None = None) -> skrf.Network:
    """The line as a 2-port in 50 ohm, S from ABCD (Pozar Table 4.2)."""
    a, b, c, _ = _line_abcd()
    z0 = 50.0
    den = a + b / z0 + c * z0 + a
    s = np.empty((F.size, 2, 2), dtype=complex)
    s[:, 0, 0] = s[:, 1, 1] = (b / z0 - c * z0) / den
    s[:, 0, 1] = s[:, 1, 0] = 2 / den
    if noise_db is not None:
        g = 10 ** (noise_db / 20)
        s[:, 0, 1] *= g
        s[:, 1, 0] *= g
    return skrf.Network(frequency=skrf.Frequency.from_f(F, unit="hz"), s=s, z0=z0)


def _expected_loss(noise_db: np.ndarray | None = None) -> np.ndarray:
    """L(f) = 20 log10 |Vr/Vs|: Thevenin source Rs with pad Cs, line, load RL || CL."""
    a, b, c, _ = _line_abcd()
    w = 2 * np.pi * F
    vth = 1 / (1 + 1j * w * RS * CS)
    zth = RS / (1 + 1j * w * RS * CS)
    zl = 1 / (1 / RL + 1j * w * CL)
    h = vth * zl / (a * zl + b + zth * (c * zl + a))
    loss = 20 * np.log10(np.abs(h))
    return loss if noise_db is None else loss + noise_db


def _margins(loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    line = loss[0] + (LIMIT - loss[0]) * F / FN
    return line, loss - line


def _analyze(net: skrf.Network):
    return analyze(net, AnalysisOptions(rate=16e9, package="standard", bits=0))


def _band() -> np.ndarray:
    return np.flatnonzero((F > 0) & (F <= FN))


def test_clean_10mm_line_rows_add_up_at_the_smallest_margin():
    r = _analyze(_network())
    loss = _expected_loss()
    np.testing.assert_allclose(r.vtf.loss_db, loss, atol=1e-9)
    line, m = _margins(loss)
    b = _band()
    k = b[np.argmin(m[b])]
    c = {x.name: x for x in r.checks}
    row = c["vtf_loss"]
    assert row.passed and row.frequency_hz == pytest.approx(F[k])
    assert row.value == pytest.approx(loss[k], abs=1e-9)
    assert row.limit == pytest.approx(line[k], abs=1e-9)
    assert row.margin == pytest.approx(m[k], abs=1e-9) and row.margin < 0.05    # never scaled
    fn_row = c["vtf_loss_fn"]
    l_fn = loss[F == FN][0]
    assert (fn_row.value, fn_row.limit, fn_row.margin) == pytest.approx(
        (l_fn, LIMIT, l_fn - LIMIT), abs=1e-9)
    assert c["vtf_loss_dc"].value == pytest.approx(20 * np.log10(RL / (RS + RDC * LENGTH + RL)),
                                                   abs=1e-9)
    assert all(x.adds_up() for x in r.checks)
    text = analysis_summary(r)
    assert "measurement noise" not in text
    _assert_printed_rows_add_up(text)


def test_noise_near_dc_fails_by_the_spec_and_says_so():
    rng = np.random.default_rng(3)
    noise = np.where((F > 0) & (F <= 0.5e9), rng.normal(0.0, 0.01, F.size), 0.0)
    loss = _expected_loss(noise)
    _, m = _margins(loss)
    b = _band()
    assert (m[b] < 0).any() and F[b][m[b] < 0].max() <= 0.5e9      # the fixture's premise
    r = _analyze(_network(noise))
    # noise on S21 reaches the VTF through the line's (small) reflections: 1e-4 dB
    np.testing.assert_allclose(r.vtf.loss_db, loss, atol=1e-4)
    row = next(x for x in r.checks if x.name == "vtf_loss")
    assert not row.passed and r.passed is False                      # the spec decides
    k = b[np.argmin(m[b])]
    assert row.frequency_hz == pytest.approx(F[k]) and row.margin == pytest.approx(m[k], abs=1e-4)
    assert "within the measurement noise" in row.note
    text = analysis_summary(r)
    assert "within the measurement noise" in text
    assert "=> FAIL (vtf_loss only, by less than the measurement noise near DC" in text
    _assert_printed_rows_add_up(text)


def _assert_printed_rows_add_up(text: str) -> None:
    """Every printed verdict row: margin = value - limit (>=) or limit - value (<=)."""
    rows = [ln.split() for ln in text.splitlines() if ln.strip().startswith(("PASS ", "FAIL "))]
    assert rows
    for t in rows:
        value, rel, limit, margin = float(t[2]), t[4], float(t[5]), float(t[7])
        want = value - limit if rel == ">=" else limit - value
        assert margin == pytest.approx(want, abs=1e-9), t
