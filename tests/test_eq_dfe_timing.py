"""DFE taps fixed at the sampling point, the unequalized Rx in the CTLE search, default
crosstalk timing by link kind, and the CLI refusing nonsense equalization settings."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import coupled_pair  # noqa: E402

from sigint.analysis.analyze import AnalysisOptions, analyze, xt_timing  # noqa: E402
from sigint.cli import main  # noqa: E402
from sigint.timedomain.pulse import PulseResponses  # noqa: E402
from sigint.timedomain.stateye import extract_cursors, statistical_eye  # noqa: E402


def _pulse_with_post_cursor(spui=16, n_ui=24):
    t = np.arange(spui * n_ui) / spui
    v = np.exp(-0.5 * ((t - 10.0) / 0.4) ** 2) + 0.45 * np.exp(-0.5 * ((t - 11.0) / 0.5) ** 2)
    n = v.size
    return PulseResponses(rate=1e9, samples_per_ui=spui, t=t * 1e-9, victim=v,
                          aggressors=np.zeros((0, n)), victim_impulse=np.gradient(v),
                          aggressor_impulses=np.zeros((0, n)), main=int(np.argmax(v)),
                          dc_gain=1.0, window=n * 1e-9, causality=0.0)


def test_dfe_tap_is_fixed_at_the_eye_centre():
    """The residual post-cursor at every phase is h1(phase) - h1(centre), by hand."""
    pr = _pulse_with_post_cursor()
    spui = pr.samples_per_ui
    cs = extract_cursors(pr, dfe_taps=1, tol=1e-9)
    k1 = int(np.flatnonzero(cs.isi_k == 1)[0])
    s = pr.main + np.rint(cs.phase_ui * spui).astype(int)
    h1 = pr.victim[(s + spui) % pr.victim.size]
    np.testing.assert_allclose(cs.isi[:, k1], h1 - h1[spui], atol=1e-12)
    assert cs.dfe_values == [pytest.approx(h1[spui])]
    eye = statistical_eye(cs, 1.0, ber=1e-12)
    assert 0.3 < eye.eye_width < 0.999


def test_dfe_eye_agrees_with_bit_by_bit():
    f = np.arange(0, 60e9 + 1, 50e6)
    net = coupled_pair(f, 12e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=90.0)
    r = analyze(net, AnalysisOptions(rate=16e9, spec="none", ber=1e-3, bits=1 << 16),
                rx_overrides={"dfe_taps": 1, "noise": 2e-3})
    main = 0.2 * r.cursors.main[r.eye.best]
    assert r.eye.eye_width < 0.999
    for lv in r.agreement["levels"]:
        assert abs(lv["diff_v"]) < 0.01 * main, lv


def test_ctle_search_keeps_the_unequalized_rx():
    """'off' is a candidate: a wider search never returns a lower checked score."""
    f = np.arange(0, 60e9 + 1, 50e6)
    net = coupled_pair(f, 8e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=40.0)
    off = analyze(net, AnalysisOptions(rate=24e9, spec="ucie", bits=0, ctle="off"))
    auto = analyze(net, AnalysisOptions(rate=24e9, spec="ucie", bits=0, ctle="auto"))
    assert auto.mask_height >= off.mask_height - 1e-12
    assert auto.eq.tried == 2 * 8                    # (no CTLE + 7 gains) x 2 de-emphasis


def test_default_timing_is_worst_phase_without_a_forwarded_clock_spec():
    assert xt_timing("auto", ["FEXT", "FEXT"], [True, False], True) == [0.0, "worst"]
    assert xt_timing("auto", ["FEXT"], [True], False) == ["worst"]
    f = np.arange(0, 60e9 + 1, 50e6)
    net = coupled_pair(f, 2e-3, 46.0, 42.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=20.0)
    r = analyze(net, AnalysisOptions(rate=16e9, spec="none", bits=0))
    assert r.cursors.xt_timing == ["worst"]
    r = analyze(net, AnalysisOptions(rate=16e9, spec="ucie", bits=0))
    assert r.cursors.xt_timing == ["sync"]


@pytest.mark.parametrize("args,fragment", [
    (["--eq", "0,0,0"], "--eq"), (["--eq", "5,5,5"], "--eq"), (["--ctle", "+20dB"], "--ctle"),
    (["--victim", "0"], "--victim"), (["--xt-phase", "2UI"], "--xt-phase")])
def test_cli_refuses_nonsense_equalization(args, fragment, tmp_path, capsys):
    f = np.arange(0, 40e9 + 1, 100e6)
    coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9).write_touchstone(filename="c", dir=str(tmp_path))
    code = main(["analyze", str(tmp_path / "c.s4p"), "--spec", "none", "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "internal error" not in err


def test_cli_refuses_reverse_on_a_yaml_channel(tmp_path, capsys):
    p = tmp_path / "ch.yaml"
    p.write_text("name: x\n")
    code = main(["analyze", str(p), "--reverse", "2", "--quiet"])
    assert code == 2 and "--reverse" in capsys.readouterr().err


def test_loss_mask_violation_near_dc_is_explained_in_words():
    """L(f) = L0 - 0.2 sqrt(f/GHz) crosses the line from L0 to -6.5 dB at fN = 8 GHz only
    below (0.2/0.3125)^2 = 0.41 GHz: the check fails and says why."""
    from sigint.specs import ucie

    row = ucie.ucie_row("standard", 16e9)
    f = np.linspace(0, 20e9, 401)
    loss = -4.0 - 0.2 * np.sqrt(f / 1e9)
    chk = {c.name: c for c in ucie.vtf_checks(row, f, loss, np.full(f.size, -60.0), 16e9)}
    assert not chk["vtf_loss"].passed
    assert chk["vtf_loss"].frequency_hz < 0.41e9
    assert "skin-effect onset" in chk["vtf_loss"].note


def test_unwritable_plot_folder_refused_before_work(tmp_path, capsys):
    f = np.arange(0, 40e9 + 1, 100e6)
    coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9).write_touchstone(filename="c", dir=str(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["analyze", str(tmp_path / "c.s4p"), "--spec", "none", "--quiet", "--json",
                 "--plot", str(blocker / "figs")])
    out = capsys.readouterr()
    assert code == 2 and "--plot" in out.err and out.out == ""


def test_api_reports_a_missing_file_first(tmp_path):
    import sigint
    from sigint.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        sigint.analyze(tmp_path / "nope.s4p")


@pytest.mark.parametrize("ber", ["nan", "1e-400", "0.7", "-1e-12"])
def test_cli_refuses_a_ber_that_is_not_a_probability(ber, tmp_path, capsys):
    f = np.arange(0, 40e9 + 1, 100e6)
    coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9).write_touchstone(filename="c", dir=str(tmp_path))
    code = main(["analyze", str(tmp_path / "c.s4p"), "--spec", "none", "--quiet", "--ber", ber])
    err = capsys.readouterr().err
    assert code == 2 and "--ber" in err and "probability" in err


def test_validation_error_names_the_other_problems():
    from pydantic import ValidationError

    from sigint.link.txrx import Tx
    from sigint.schema import describe_validation_error

    try:
        Tx(r=-1.0, c_pad=-1.0, swing=-1.0)
    except ValidationError as exc:
        text = describe_validation_error(exc, "tx")
    assert "2 more problems, at c_pad, swing" in text


def test_reused_winner_equals_a_fresh_computation():
    """The analysis reuses the search winner's eye: it must equal pulses made anew with the
    chosen Tx FFE."""
    from sigint.timedomain.pulse import pulse_responses

    f = np.arange(0, 60e9 + 1, 50e6)
    net = coupled_pair(f, 8e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=40.0)
    r = analyze(net, AnalysisOptions(rate=32e9, spec="ucie", bits=0))
    assert r.eq is not None and r.mask_height == r.eq.score
    tr = r.eye_transfers
    pr = pulse_responses(tr.f, tr.victim, tr.aggressors, r.rate, r.tx, r.rx)
    cs = extract_cursors(pr, xt_phase=[0.0] * tr.aggressors.shape[0])
    eye = statistical_eye(cs, r.tx.swing / 2, ber=r.ber)
    assert eye.mask_fit(r.row.eye_width)[0] == pytest.approx(r.mask_height, abs=1e-12)
    np.testing.assert_allclose(eye.contour(), r.eye.contour(), atol=1e-12)
