import numpy as np
import pytest

from sigint.errors import SpecError
from sigint.specs import ucie


@pytest.mark.parametrize("pkg,rate,loss,dc,tx,rx", [
    ("advanced", 4, -3.0, None, (25, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 16, -3.0, None, (25, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 24, -5.0, None, (25, 0.25e-12), (None, 0.2e-12)),
    ("advanced", 32, -5.0, None, (25, 0.25e-12), (None, 0.2e-12)),
    ("standard", 8, -7.5, -4.5, (30, 0.3e-12), (50, 0.3e-12)),
    ("standard", 12, -6.5, -4.5, (30, 0.2e-12), (50, 0.2e-12)),
    ("standard", 32, -7.5, -4.5, (30, 0.125e-12), (50, 0.125e-12)),
    ("standard-unterminated", 8, -1.25, None, (30, 0.3e-12), (None, 0.2e-12)),
    # Table 5-25 note b: the 12 GT/s VTF circuit is the 16 GT/s one (0.2 pF), the masks the 4-12 column's
    ("standard-unterminated", 12, -1.25, None, (30, 0.2e-12), (None, 0.2e-12)),
    ("standard-unterminated", 16, -1.15, None, (30, 0.2e-12), (None, 0.2e-12)),
])
def test_rows_follow_the_table(pkg, rate, loss, dc, tx, rx):
    r = ucie.ucie_row(pkg, rate * 1e9)
    assert (r.loss_fn_db, r.loss_dc_db) == (loss, dc)
    assert (r.tx_r, r.tx_c) == tx and (r.rx_r, r.rx_c) == rx


@pytest.mark.parametrize("pkg,l,limit", [
    ("advanced", -3.0, -26.0),        # min(1.5 * -3 - 21.5, -23)
    ("advanced", -0.5, -23.0),
    ("standard", -5.0, -26.5),        # min(3 * -5 - 11.5, -25)
])
def test_crosstalk_limit_formula(pkg, l, limit):
    assert ucie.ucie_row(pkg, 8e9).xt_limit_db(l) == pytest.approx(limit)


def test_in_between_rates_use_the_faster_row_and_outside_rates_fail():
    assert ucie.ucie_row("advanced", 20e9).loss_fn_db == -5.0
    assert ucie.ucie_row("advanced", 64e9).mask_shape == "diamond"     # 48/64 rows exist now
    with pytest.raises(SpecError, match="covers 4-64 GT/s"):
        ucie.ucie_row("advanced", 80e9)
    with pytest.raises(SpecError, match="at least 4 GT/s"):
        ucie.ucie_row("advanced", 2e9)
    with pytest.raises(SpecError, match="unknown UCIe package"):
        ucie.ucie_row("organic", 8e9)


def test_default_ber():
    assert ucie.default_ber(12e9) == 1e-27
    assert ucie.default_ber(16e9) == 1e-15
    assert ucie.default_ber(64e9) == 1e-12


def test_vtf_checks_line_mask_and_margins():
    row = ucie.ucie_row("advanced", 16e9)
    f = np.linspace(0, 20e9, 201)
    loss = -0.25 * f / 1e9            # -2 dB at fN = 8 GHz: above the line to -3 dB
    xt = np.full_like(f, -30.0)
    c = {x.name: x for x in ucie.vtf_checks(row, f, loss, xt, 16e9)}
    # the line runs -0.375 dB/GHz, the loss -0.25 dB/GHz: the margin 0.125 dB/GHz x f is
    # smallest at the first point above DC, 0.1 GHz: value -0.025, limit -0.0375
    assert c["vtf_loss"].passed and c["vtf_loss"].frequency_hz == pytest.approx(0.1e9)
    assert c["vtf_loss"].value == pytest.approx(-0.025, abs=1e-12)
    assert c["vtf_loss"].limit == pytest.approx(-0.0375, abs=1e-12)
    assert c["vtf_loss"].margin == pytest.approx(0.0125, abs=1e-12)
    assert "first point above DC" in c["vtf_loss"].where
    # L(fN) against the table: -2 dB vs -3 dB
    assert (c["vtf_loss_fn"].value, c["vtf_loss_fn"].limit) == pytest.approx((-2.0, -3.0))
    assert c["vtf_loss_fn"].margin == pytest.approx(1.0, abs=1e-12)
    assert c["vtf_crosstalk"].limit == pytest.approx(-24.5)       # 1.5 * -2 - 21.5
    assert c["vtf_crosstalk"].margin == pytest.approx(5.5)
    assert all(x.adds_up() for x in c.values())
    bad = ucie.vtf_checks(row, f, -0.5 * f / 1e9, xt + 10, 16e9)
    assert not any(x.passed for x in bad)
    # a 2 dB dip below the line at 1 GHz fails even when L(fN) is fine; the row says where:
    # L(1 GHz) = -0.25 - 2 = -2.25 dB against the line's -0.375 dB, margin -1.875 dB
    dip = loss - 2.0 * np.exp(-((f - 1e9) / 0.3e9) ** 2)
    c = {x.name: x for x in ucie.vtf_checks(row, f, dip, xt, 16e9)}
    assert not c["vtf_loss"].passed and c["vtf_loss"].frequency_hz == pytest.approx(1e9)
    assert (c["vtf_loss"].value, c["vtf_loss"].limit) == pytest.approx((-2.25, -0.375), abs=1e-4)
    assert c["vtf_loss"].margin == pytest.approx(-1.875, abs=1e-4)
    assert c["vtf_loss_fn"].passed and c["vtf_loss"].note == ""     # a real failure


def test_noise_rms_of_white_noise():
    """Unbiased for white Gaussian noise on a straight line: the mean of 400 estimates (each
    from 400 points, spread 7 %) is within 3 standard errors (1.1 %) of sigma; reached 0.27 %."""
    rng = np.random.default_rng(1)
    est = [ucie.noise_rms_db(np.linspace(-4, -5, 400) + rng.normal(0, 0.01, 400))
           for _ in range(400)]
    assert np.mean(est) == pytest.approx(0.01, rel=0.011)
    assert ucie.noise_rms_db(np.linspace(0, 1, 400)) == pytest.approx(0, abs=1e-12)


def test_eye_checks():
    row = ucie.ucie_row("advanced", 16e9)
    checks = ucie.eye_checks(row, 0.05, 0.8, 0.045, 1e-15)
    assert all(c.passed for c in checks)
    assert checks[0].margin == pytest.approx(0.005)
    assert not ucie.eye_checks(row, 0.05, 0.7, 0.03, 1e-15)[0].passed


def test_raw_ber_per_package():
    """UCIe 3.0 Tables 1-1/1-2: 1e-27 up to 12 GT/s advanced, up to 8 GT/s standard."""
    assert ucie.default_ber(8e9, "standard") == 1e-27
    assert ucie.default_ber(12e9, "standard") == 1e-15
    assert ucie.default_ber(12e9, "advanced") == 1e-27
    assert ucie.default_ber(16e9, "advanced") == 1e-15
    assert ucie.default_ber(48e9, "standard") == 1e-15


def test_analysis_uses_the_package_ber():
    from sigint.analysis.analyze import AnalysisOptions

    assert AnalysisOptions(rate=12e9, package="standard").ber_for(12e9) == 1e-15
    assert AnalysisOptions(rate=12e9, package="advanced").ber_for(12e9) == 1e-27
