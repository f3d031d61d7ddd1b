"""End to end: the real differential channel and a synthetic UCIe channel."""

import numpy as np
import pytest
import xarray as xr
from helpers import coupled_pair

from sigint.analysis.analyze import AnalysisOptions, analyze, analyze_files
from sigint.errors import InputError, PortMapError
from sigint.link.ports import build_port_map

REQUIRED = {"backend", "rate_gbps", "vtf_loss_db_at_nyquist", "vtf_xt_db_at_nyquist",
            "eye_height_v", "eye_width_ui", "ber", "checks", "passed"}


def _example2(example2, rate, **kw):
    opts = AnalysisOptions(rate=rate, spec="none", eq="auto", ctle="auto", ber=1e-12,
                           bits=1 << 16)
    return analyze_files(example2["THRU"], opts, thru=["1:2", "3:4"], differential=True,
                         fext=[example2["FEXT1"], example2["FEXT2"]],
                         next_=[example2["NEXT1"], example2["NEXT2"], example2["NEXT3"]], **kw)


@pytest.mark.slow  # 4-5 s per rate
@pytest.mark.parametrize("rate", [10e9, 25e9])
def test_example2_differential_end_to_end(example2, rate):
    r = _example2(example2, rate)
    j = r.to_json()
    assert REQUIRED <= set(j)
    assert j["backend"] == "numpy" and j["aggressors"] == 5 and j["passed"] is None
    assert r.eye.eye_height > 0 and 0 < r.eye.eye_width <= 1
    # the statistical eye and the bit-by-bit run agree where the run reaches
    main = r.eye.amplitude * r.cursors.main[r.eye.best]
    for lv in r.agreement["levels"]:
        assert abs(lv["diff_v"]) < 0.02 * main, lv


def test_dataset_round_trip(example2, tmp_path):
    from sigint.report.dataset import save_dataset

    r = _example2(example2, 10e9)
    p = save_dataset(r.to_dataset(), tmp_path / "r.nc")
    ds = xr.load_dataset(p, engine="h5netcdf")
    assert ds["vtf_loss"].attrs["units"] == "dB" and ds["eye_pmf"].dims == ("phase", "voltage")
    np.testing.assert_allclose(ds["vtf_loss"].values, r.vtf.loss_db)
    assert ds.attrs["eye_height_v"] == pytest.approx(r.eye.eye_height)


def _ucie_channel(length, alpha, z_even=46.0, z_odd=43.0):
    f = np.arange(0, 60e9 + 1, 50e6)
    return coupled_pair(f, length, z_even, z_odd, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=alpha)


def test_ucie_advanced_verdict_pass_and_fail():
    good = analyze(_ucie_channel(2e-3, 20.0), AnalysisOptions(rate=16e9, bits=0))
    names = [c.name for c in good.checks]
    assert names == ["vtf_loss", "vtf_loss_fn", "vtf_crosstalk", "eye_mask", "eye_height",
                     "eye_width"]
    assert good.passed, [c for c in good.checks if not c.passed]
    bad = analyze(_ucie_channel(10e-3, 900.0), AnalysisOptions(rate=16e9, bits=0))
    assert bad.passed is False
    assert not next(c for c in bad.checks if c.name == "vtf_loss").passed
    coupled = analyze(_ucie_channel(2e-3, 20.0, 50.0, 36.0), AnalysisOptions(rate=16e9, bits=0))
    assert not next(c for c in coupled.checks if c.name == "vtf_crosstalk").passed


def test_impossible_rate_is_refused(example2):
    with pytest.raises(InputError, match="Nyquist frequency 50 GHz lies above"):
        analyze_files(example2["THRU"], AnalysisOptions(rate=100e9, spec="none"),
                      thru=["1:2", "3:4"])


def test_wrong_default_mapping_is_refused(example2):
    with pytest.raises(PortMapError, match="--thru 1:2 --thru 3:4"):
        analyze_files(example2["THRU"], AnalysisOptions(rate=10e9, spec="none", bits=0))


def test_victim_out_of_range():
    net = _ucie_channel(2e-3, 20.0)
    with pytest.raises(InputError, match="no such lane"):
        analyze(net, AnalysisOptions(rate=16e9, victim=3), port_map=build_port_map(4))


def test_data_starting_above_nyquist_is_one_sentence():
    f = np.linspace(20e9, 60e9, 41)
    with pytest.raises(InputError, match="start at 20 GHz, at or above the Nyquist frequency 8 GHz"):
        analyze(coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9), AnalysisOptions(rate=16e9, bits=0))


def test_aggressor_file_on_another_grid_is_resampled():
    """A separate FEXT file sampled every 70 MHz (not the victim's 50 MHz): its transfer,
    S21/2 for matched 50-ohm ends (a 0.1 coupling delayed 40 ps), is interpolated onto the
    victim's frequencies and said. Reached 3.8e-5 of |S21/2|: the chord error of a
    straight-line interpolation of a phasor turning d = 0.0176 rad a step, d^2 / 8 = 3.9e-5."""
    import skrf

    from sigint.analysis.analyze import Aggressor

    victim = _ucie_channel(2e-3, 20.0)
    fa = np.arange(0, 60e9 + 70e6, 70e6)
    s = np.zeros((fa.size, 4, 4), complex)    # the victim's layout: lanes 1->3 and 2->4
    for a, b in ((0, 2), (1, 3)):
        s[:, a, b] = s[:, b, a] = 0.1 * np.exp(-2j * np.pi * fa * 40e-12)
    agg = Aggressor("fext.s4p", "FEXT", skrf.Network(frequency=skrf.Frequency.from_f(fa, unit="hz"),
                                                     s=s, z0=50.0))
    r = analyze(victim, AnalysisOptions(rate=16e9, spec="none", bits=0), aggressors=[agg],
                port_map=build_port_map(4))
    assert r.vtf.aggressor_names[-1] == "fext.s4p"
    assert any("fext.s4p: resampled onto the victim file's frequencies" in n for n in r.notes)
    ref = 0.05 * np.exp(-2j * np.pi * r.vtf.f * 40e-12)
    err = np.abs(r.vtf.aggressors[-1] - ref).max() / 0.05
    assert err < 1.2e-4, err
