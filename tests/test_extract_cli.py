"""sigint extract from the command line: outputs, units, errors, shipped examples."""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sigint.cli import main

ROOT = Path(__file__).resolve().parents[1]
XS = ROOT / "channels" / "xsections"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_writes_dataset_plots_and_json(capsys, tmp_path):
    code, out, err = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--freq", "0:50GHz:11",
                         "--out", tmp_path / "rlgc.nc", "--plot", tmp_path / "figs", "-q")
    assert code == 0, err
    assert "Z0 (ohm)" in out and "pair s1-s2" in out and "backend numpy" in out
    ds = xr.load_dataset(tmp_path / "rlgc.nc", engine="h5netcdf")
    assert set(ds.data_vars) >= {"R", "L", "G", "C"}
    assert ds["R"].dims == ("frequency", "i", "j") and list(ds["i"].values) == ["s1", "s2", "s3", "s4"]
    assert {ds[v].attrs["units"] for v in "RLGC"} == {"ohm/m", "H/m", "S/m", "F/m"}
    assert np.all(ds["R"].values[:, 0, 0] > 0) and ds["frequency"].values[0] == 0
    for name in ("xsection.png", "rlgc.png"):
        assert (tmp_path / "figs" / name).stat().st_size > 20_000
    code, out, _ = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--freq", "1GHz,10GHz",
                       "--json", "-q")
    j = json.loads(out)
    assert j["signals"] == ["s1", "s2", "s3", "s4"] and j["backend"] == "numpy"
    line = j["summary"]["lines"]["s1"][1]
    assert 30 < line["z0_ohm"] < 80 and line["loss_db_per_mm"] > 0


@pytest.mark.parametrize("name", ["organic_rdl_bus",
                                  pytest.param("tsv_array_3x3", marks=pytest.mark.slow)])
def test_shipped_examples_extract(capsys, name):
    code, out, err = run(capsys, "extract", XS / f"{name}.yaml", "--freq", "100MHz:20GHz:5:log", "-q")
    assert code == 0, err
    assert "delay (ps/mm)" in out


def test_bad_inputs_are_one_sentence(capsys, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("conductors:\n  - {name: s, shape: rectangle, x: 0, y: 1 um, width: 2, height: 1 um}\n")
    code, _, err = run(capsys, "extract", p)
    assert code == 2 and "Traceback" not in err
    assert "conductors[0].rectangle.width = 2" in err and "no unit" in err
    code, _, err = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--freq", "1GHz:2GHz")
    assert code == 2 and "START:STOP:N" in err
    code, _, err = run(capsys, "extract", tmp_path / "missing.yaml")
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--freq", "0")
    assert code == 2 and "above 0 Hz" in err


def test_basis_option_gives_the_same_rlgc(capsys, tmp_path):
    outs = {}
    for basis in ("full", "reduced"):
        code, out, err = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--freq",
                             "10MHz:100GHz:9:log", "--basis", basis, "--json", "-q",
                             "--out", tmp_path / f"{basis}.nc")
        assert code == 0, err
        outs[basis] = (json.loads(out), xr.load_dataset(tmp_path / f"{basis}.nc",
                                                        engine="h5netcdf"))
    notes = " ".join(outs["reduced"][0]["notes"])
    assert "reduced basis" in notes and "reduced basis" not in " ".join(outs["full"][0]["notes"])
    assert outs["reduced"][1].attrs["rl_basis"].startswith("reduced: ")
    assert outs["full"][1].attrs["cg_basis"].startswith("full: every one of")
    assert outs["reduced"][0]["unknowns"]["peec_reduced"] < outs["reduced"][0]["unknowns"][
        "peec_filaments"]
    for v, tol in (("R", 3e-5), ("L", 3e-6), ("C", 1e-8), ("G", 1e-8)):
        a, b = outs["reduced"][1][v].values, outs["full"][1][v].values
        assert np.abs(a - b).max() <= tol * np.abs(b).max(), v
    code, _, err = run(capsys, "extract", XS / "si_interposer_bus.yaml", "--basis", "fast")
    assert code == 2 and "--basis" in err
