"""Geometry sweeps: the sweep file's checks, the Dataset, failures, resume, Dask."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.cli import main
from sigint.errors import InputError
from sigint.sweeps.expr import Expression
from sigint.sweeps.pareto import front_indices
from sigint.sweeps.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]

BUS = """\
name: two lines
ground_plane: {y: 0 um}
stack: [{material: sio2, thickness: 6 um}, {material: air}]
buses:
  - {name: s, pattern: GSGSG, pitch: 4 um, width: 2 um, height: 1 um, y: 2 um}
"""
CHANNEL = """\
name: two lanes
link: {rate: 16 GT/s, spec: ucie, package: advanced}
lanes: {pitch: 45 um, map: [SGS]}
frequencies: 0:40GHz:41
segments:
  - {type: trace, xsection: bus.yaml, length: 1 mm}
"""
SWEEP = """\
name: tiny
base: ch.yaml
parameters:
  width:
    path: xsection.buses[0].width
    values: [1 um, 2 um]
  space: {range: {start: 1 um, stop: 2 um, num: 2}}
  length:
    path: segments[0].length
    range: {start: 1 mm, stop: 3 mm, step: 2 mm}
coupled:
  pitch: {path: "xsection.buses[0].pitch", expr: width + space}
constraints: ["pitch <= 3.5 um"]
pareto: {objective: length, goal: max}
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    d = tmp_path_factory.mktemp("cache")
    old = os.environ.get("SIGINT_CACHE")
    os.environ["SIGINT_CACHE"] = str(d)
    yield d
    if old is None:
        os.environ.pop("SIGINT_CACHE", None)
    else:
        os.environ["SIGINT_CACHE"] = old


def _files(folder: Path, sweep: str = SWEEP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bus.yaml").write_text(BUS)
    (folder / "ch.yaml").write_text(CHANNEL)
    (folder / "s.yaml").write_text(sweep)
    return folder / "s.yaml"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, cache):
    """The tiny sweep run once in this process: (sweep file, SweepRun)."""
    from sigint.sweeps.run import run_sweep

    f = _files(tmp_path_factory.mktemp("tiny"))
    sw = load_sweep(f)
    return f, run_sweep(sw, f.with_suffix(".zarr"), workers=0, progress=False)


# ----------------------------------------------------------------------------- the file
def _sweep_with(tmp_path, old: str, new: str) -> Path:
    assert old in SWEEP
    return _files(tmp_path, SWEEP.replace(old, new))


@pytest.mark.parametrize("old,new,says", [
    ("segments[0].length", "segments[3].length", "segments[3] has only 1 item(s)"),
    ("xsection.buses[0].width", "xsection.busses[0].width", "busses not in the base file"),
    ("xsection.buses[0].width", "xsection.buses[0].wdth",
     "parameters.width.path = 'xsection.buses[0].wdth': 'wdth' is not a field there; did you "
     "mean 'width'?"),
    ("values: [1 um, 2 um]", "values: [1, 2]", "has no unit"),
    ("values: [1 um, 2 um]", "values: []", "empty"),
    ("{start: 1 um, stop: 2 um, num: 2}", "{start: 2 um, stop: 1 um, num: 2}", "empty range"),
    ("{start: 1 um, stop: 2 um, num: 2}", "{start: 1 um, stop: 2 um, num: 0}", "num"),
    ('["pitch <= 3.5 um"]', '["pich <= 3.5 um"]', "'pich' is not a parameter"),
    ("expr: width + space", "expr: width + spacing", "'spacing' is not a parameter"),
    ("expr: width + space", "expr: __import__('os')", "only min, max, abs and sqrt may be called"),
    ("objective: length", "objective: reach", "not a result or parameter"),
    ("base: ch.yaml", "base: nothere.yaml", "no such file"),
    ("name: tiny", "name: tiny\nextra: 1", "unknown key"),
    # dimensions: a coupled value must have its path's, comparisons join equal ones
    ("expr: width + space", "expr: 0.55 * width * space",
     "gives length^2 but coupled.pitch.path = 'xsection.buses[0].pitch' holds length"),
    ("expr: width + space", "expr: width / space", "gives a plain number but"),
    ("expr: width + space", "expr: width + 1 GHz", "adds or subtracts length and frequency"),
    ('["pitch <= 3.5 um"]', '["pitch >= 1 GHz"]', "compares length and frequency"),
    ('["pitch <= 3.5 um"]', '["pitch + 1 mm"]', "is not a comparison"),
    ('["pitch <= 3.5 um"]', '["pitch <= 3.5 um and width"]', "'and'/'or' join comparisons"),
    ("expr: width + space", "expr: width * 9**9**9**9 / width ** 8",
     "** takes a constant exponent between -16 and 16"),
    ("expr: width + space", "expr: width ** 17 / width ** 16",
     "** takes a constant exponent between -16 and 16"),
    ("expr: width + space", "expr: width ** space", "** takes a constant exponent"),
    # the QA list: plain sentences naming the field, the value and the fix
    ("values: [1 um, 2 um]", "values: [1 GHz, 2 GHz]",
     "parameters.width.values[0] = '1 GHz': unit 'GHz' is not a unit of length"),
    ("start: 1 mm, stop", "start: 1 GHz, stop", "parameters.length.range.start = '1 GHz'"),
    ("values: [1 um, 2 um]", "values: [1 um, 0.002]",
     "values[1] = 0.002: has no unit; write it with its unit, e.g. '0.002 m' (that is "
     "'2000 um')"),
    ("values: [1 um, 2 um]", "values: [-1 um, 2 um]",
     "buses[0].pitch = '0.0 m': must be greater than 0"),
    ("start: 1 mm, stop: 3 mm, step: 2 mm", "start: 0 mm, stop: 2 mm, step: 2 mm",
     "segments[0].length = '0.0 m': must be greater than 0; 3 of the 6 points to compute"),
    ("step: 2 mm", "step: 1 nm", "makes 2000001 values, more than the 100000 points"),
    ("step: 2 mm", "num: 100000", "= 400000 points, more than the 100000 allowed"),
    ("pareto:", "design: {lhs: {samples: 0}}\npareto:",
     "design.lhs.samples = 0: give a whole number of points from 1 to 100000"),
    ("pareto:", "design: {lhs: {samples: 1000000000}}\npareto:", "design.lhs.samples"),
    ("pareto:", "design: {lhs: {samples: 3, seed: abc}}\npareto:",
     "design.lhs.seed = 'abc': give a whole number"),
    ("path: segments[0].length", "path: segments[0].lenght",
     "parameters.length.path = 'segments[0].lenght': 'lenght' is not a field there; did you "
     "mean 'length'?"),
    ("pareto:", "set: {'segments[0].lenght': 2 mm}\npareto:",
     "set: 'segments[0].lenght': 'lenght' is not a field there"),
    ("    path: segments[0].length\n    range: {start: 1 mm, stop: 3 mm, step: 2 mm}",
     "    {path: segments[0].length, range: {start: 1 mm, stop: 3 mm, step: 2 mm}}",
     "a path with [i] inside {...} must be quoted"),
    ("pareto:", "name: again\npareto:", "key 'name' is given twice (first on line 1;"),
    ("  space:", "  w2: {path: \"xsection.buses[0].width\", values: [1 um]}\n  space:",
     "parameters.width already sets segments[0].xsection.buses[0].width"),
    ("path: \"xsection.buses[0].pitch\"", "path: \"xsection.buses[0].width\"",
     "parameters.width already sets"),
    ("expr: width + space", "expr: 1 um * width / (space - space)",
     "1 um * width / (space - space) divides by zero at every point"),
])
def test_bad_sweep_file_is_one_sentence_exit_2_before_any_work(tmp_path, capsys, old, new, says):
    f = _sweep_with(tmp_path, old, new)
    assert main(["sweep", str(f), "--workers", "0", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.count("\n") == 0, err
    assert err.startswith("sigint: error: ") and str(f) in err
    assert not f.with_suffix(".zarr").exists()          # nothing was started


def test_empty_parameters_is_a_plain_sentence(tmp_path):
    import yaml

    spec = yaml.safe_load(SWEEP)
    spec["parameters"] = {}
    spec.pop("coupled")
    spec.pop("constraints")
    _files(tmp_path)
    with pytest.raises(InputError, match=r"^sweep: parameters: empty; give at least one"):
        load_sweep(spec, base_dir=tmp_path)


def test_coordinates_are_the_values_as_written(tmp_path):
    f = _files(tmp_path, SWEEP.replace("values: [1 um, 2 um]", "values: [25 um, 0.7 um]")
               .replace("{start: 1 um, stop: 2 um, num: 2}", "{start: 0.1 um, stop: 0.3 um, step: 0.1 um}")
               .replace('["pitch <= 3.5 um"]', "[]"))
    sw = load_sweep(f)
    assert sw.params[0].values == [25e-6, 0.7e-6]               # 25 * 1e-6 is not 25e-6
    assert sw.params[1].values == [1e-7, 2e-7, 3e-7]           # 0.1 um + 2 x 0.1 um neither
    assert {pt.values["pitch"] for pt in sw.points} >= {25.1e-6, 0.8e-6, 1e-6}


def test_ambiguous_xsection_shorthand_is_refused(tmp_path):
    f = _files(tmp_path)
    (tmp_path / "bus2.yaml").write_text(BUS.replace("height: 1 um", "height: 2 um"))
    (tmp_path / "ch.yaml").write_text(CHANNEL + "  - {type: trace, xsection: bus2.yaml, length: 1 mm}\n")
    with pytest.raises(InputError, match="ambiguous; address one as segments"):
        load_sweep(f)


def test_points_coupled_values_and_constraints(tmp_path, cache):
    sw = load_sweep(_files(tmp_path))
    assert sw.dims == ("width", "space", "length") and sw.shape == (2, 2, 2)
    for pt in sw.points:
        w, s = pt.values["width"], pt.values["space"]
        assert pt.values["pitch"] == pytest.approx(w + s, rel=1e-12)
        assert bool(pt.skipped) == (w + s > 3.5e-6)
        ch = sw.channel_data(pt)
        bus = ch["segments"][0]["xsection"]["buses"][0]
        assert float(bus["width"].split()[0]) == w and float(bus["pitch"].split()[0]) == w + s
        assert float(ch["segments"][0]["length"].split()[0]) == pt.values["length"]
    # the base file itself is untouched
    assert "width: 2 um" in (tmp_path / "bus.yaml").read_text()


def test_latin_hypercube_is_seeded_and_stratified(tmp_path, cache):
    text = SWEEP.replace('constraints: ["pitch <= 3.5 um"]\n', "").replace(
        "pareto:", "design: {lhs: {samples: 7, seed: 3}}\npareto:")
    text = text.replace("step: 2 mm", "num: 2")
    a = load_sweep(_files(tmp_path / "a", text))
    b = load_sweep(_files(tmp_path / "b", text))
    assert a.dims == ("point",) and a.shape == (7,)
    sp = np.array([p.values["space"] for p in a.points])
    assert np.array_equal(sp, [p.values["space"] for p in b.points])
    # one sample in each of the 7 equal strata of [1 um, 2 um]
    strata = np.floor((sp - 1e-6) / (1e-6 / 7)).astype(int)
    assert sorted(strata) == list(range(7))
    # a list parameter is sampled from its values
    assert {p.values["width"] for p in a.points} <= {1e-6, 2e-6}
    c = load_sweep(_files(tmp_path / "c", text.replace("seed: 3", "seed: 4")))
    assert not np.array_equal(sp, [p.values["space"] for p in c.points])


# ------------------------------------------------------------------------ the evaluator
@pytest.mark.parametrize("text", ["__import__('os').system('true')", "width.real",
                                  "[width]", "lambda: 1", "width if space else 1", "'a'",
                                  "open('x')"])
def test_expression_accepts_only_arithmetic(text):
    with pytest.raises(InputError):
        Expression(text)


@given(st.floats(1e-7, 1e-4), st.floats(1e-7, 1e-4))
@settings(max_examples=50, deadline=None)
def test_expression_values(a, b):
    assert Expression("2 * a - b / 4 + max(a, b) ** 2")({"a": a, "b": b}) == pytest.approx(
        2 * a - b / 4 + max(a, b) ** 2)
    assert Expression("a + 1 um < b")({"a": a, "b": b}) == (a + 1e-6 < b)
    assert Expression("sqrt(a * b) <= 1 mm and not a > b")({"a": a, "b": b}) == (
        (a * b) ** 0.5 <= 1e-3 and not a > b)


# ----------------------------------------------------------------------------- Pareto
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
@settings(max_examples=80, deadline=None)
def test_pareto_front_matches_enumeration(pts):
    a = np.array([p[0] for p in pts], float)
    b = np.array([p[1] for p in pts], float)
    expect = [i for i in range(len(pts))
              if not any(a[j] >= a[i] and b[j] >= b[i] and (a[j] > a[i] or b[j] > b[i])
                         for j in range(len(pts)))]
    assert front_indices(a, b).tolist() == expect


# ------------------------------------------------------------------------- the results
def test_dataset_layout_units_and_status(tiny):
    _, run = tiny
    ds = run.dataset
    assert ds["status"].dims == ("width", "space", "length")
    assert ds["width"].attrs["units"] == "m" and ds["width"].attrs["display_units"] == "um"
    assert ds["max_rate"].attrs["units"] == "T/s"
    assert ds["density_edge"].attrs["units"] == "Gb/s/mm"
    skipped = (ds["pitch"] > 3.5e-6).values
    assert np.array_equal(ds["status"].values == 3, skipped)
    assert np.all(ds["status"].values[~skipped] == 1)
    assert np.all(np.isnan(ds["max_rate"].values[skipped]))
    assert all("pitch <= 3.5 um" in m for m in ds["message"].values[skipped])
    assert ds.attrs["complete"] == 1
    # the Pareto front: density max, length max -- checked by enumeration over done points
    done = ds["status"].values == 1
    d = ds["density_edge"].values
    ln = np.broadcast_to(ds["length"].values, d.shape)
    front = np.zeros(d.shape, bool)
    for i in zip(*np.nonzero(done)):
        front[i] = not any(d[j] >= d[i] and ln[j] >= ln[i] and (d[j] > d[i] or ln[j] > ln[i])
                           for j in zip(*np.nonzero(done)))
    assert np.array_equal(ds["pareto"].values == 1, front)
    # every computed point says what limits it, or that nothing did up to the top rate
    lim = ds["limited_by"].values[done]
    assert all(t.startswith("check ") and " fails at " in t or t.startswith("none up to ")
               for t in lim), set(lim)
    # the sign of each dB figure is stated
    assert "negative dB" in ds["vtf_loss_fn"].attrs["long_name"]
    assert "positive dB" in ds["insertion_loss_fn"].attrs["long_name"]
    assert (ds["vtf_loss_fn"].values[done] < 0).all()
    assert (ds["insertion_loss_fn"].values[done] > 0).all()
    # the store holds the same Dataset
    from sigint.sweeps.run import open_dataset

    xr.testing.assert_identical(open_dataset(run.store), ds)
    # its metadata is consolidated: xarray's default open gives no warning (errors here)
    with xr.open_zarr(run.store) as plain:
        assert int(plain.attrs["complete"]) == 1


def test_a_point_agrees_with_the_rate_search_of_its_own_channel_file(tiny, tmp_path):
    """Point (width 1 um, space 2 um, length 3 mm) against `sigint rate` of a channel file
    written here by hand with those values."""
    _, run = tiny
    ds = run.dataset.sel(width=1e-6, space=2e-6, length=3e-3)
    (tmp_path / "bus.yaml").write_text(BUS.replace("pitch: 4 um, width: 2 um",
                                                   "pitch: 3 um, width: 1 um"))
    (tmp_path / "ch.yaml").write_text(CHANNEL.replace("length: 1 mm", "length: 3 mm"))
    out = tmp_path / "rate.json"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["rate", str(tmp_path / "ch.yaml"), "--json", "-q"])
    res = json.loads(buf.getvalue())
    out.write_text(buf.getvalue())
    assert float(ds["max_rate"]) == res["max_rate_gbps"] * 1e9
    # density: 2 lanes x rate over the bump map's 3 columns x 45 um
    assert float(ds["density_edge"]) == pytest.approx(2 * res["max_rate_gbps"] / 0.135, rel=1e-12)
    assert float(ds["density_area"]) == pytest.approx(2 * res["max_rate_gbps"] / 0.135 / 0.045,
                                                      rel=1e-12)
    row = next(r for r in res["rates"] if r["rate_gbps"] == 16)
    assert float(ds["eye_height"]) == pytest.approx(row["eye_height_v"], rel=1e-12)
    assert float(ds["eye_margin"]) == pytest.approx(row["eye_mask_margin_v"], rel=1e-12)
    # delay of 3 mm of oxide-embedded line: about length * sqrt(eps_r) / c (eps_r 3.9-4.2)
    assert 3e-3 * 3.9 ** 0.5 / 3e8 * 0.9 < float(ds["delay"]) < 3e-3 * 4.2 ** 0.5 / 3e8 * 1.2
    assert 0 <= float(ds["skew"]) < 1e-13      # two symmetric lanes


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path, cache):
    # width 5 um on a 4 um pitch: neighbouring lines overlap
    text = SWEEP.replace("values: [1 um, 2 um]", "values: [2 um, 5 um]").replace(
        'constraints: ["pitch <= 3.5 um"]\n', "").replace("expr: width + space", "expr: 4 um")
    text = text.replace("num: 2}", "num: 1}").replace("stop: 2 um", "stop: 1 um").replace(
        "step: 2 mm", "step: 4 mm")
    f = _files(tmp_path, text)
    import sigint

    ds = sigint.sweep(f, workers=0)
    st_ = ds["status"].values.reshape(-1)
    assert list(st_) == [1, 2]
    msg = str(ds["message"].values.reshape(-1)[1])
    assert "overlap" in msg and msg.count("\n") == 0
    assert np.isnan(ds["max_rate"].values.reshape(-1)[1])


def test_resume_recomputes_only_what_is_missing_to_the_same_bits(tiny, tmp_path, cache):
    """A store as a kill leaves it: one point's results written but not its status, another
    not started. --resume ends with the same Dataset, recomputing those two only."""
    import shutil

    import zarr

    from sigint.sweeps.run import run_sweep

    f, run = tiny
    store = tmp_path / "copy.zarr"
    shutil.copytree(run.store, store)
    g = zarr.open_group(str(store), mode="r+")
    status = np.asarray(g["status"][...])
    done = list(zip(*np.nonzero(status == 1)))
    a, b = done[0], done[-1]
    g["status"][a] = 0                      # results there, status not yet
    g["status"][b] = 0                      # never written
    for k in ("max_rate", "eye_height", "density_edge"):
        g[k][b] = np.nan
    g["limited_by"][b] = ""
    g.attrs["complete"] = 0
    again = run_sweep(load_sweep(f), store, resume=True, workers=0, progress=False)
    assert again.computed == 2 and again.already == int((status == 1).sum()) - 2
    xr.testing.assert_identical(again.dataset, run.dataset)


def test_a_store_of_another_sweep_is_refused(tiny, tmp_path, cache):
    import shutil

    f, run = tiny
    store = tmp_path / "copy.zarr"
    shutil.copytree(run.store, store)
    other = _files(tmp_path / "o", SWEEP.replace("step: 2 mm", "step: 1 mm"))
    with pytest.raises(InputError, match="holds a different sweep"):
        main_ = load_sweep(other)
        from sigint.sweeps.run import run_sweep

        run_sweep(main_, store, resume=True, workers=0)
    with pytest.raises(InputError, match="exists; give --resume"):
        run_sweep(load_sweep(f), store, workers=0)


def test_plots_are_written(tiny, tmp_path):
    from sigint.sweeps.plots import plot_sweep

    _, run = tiny
    paths = plot_sweep(run.dataset, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["heatmap.png", "margin_vs_length.png", "margin_vs_space.png",
                     "margin_vs_width.png", "pareto.png"]
    assert all(p.stat().st_size > 5000 for p in paths)


def test_heat_map_has_one_panel_per_value_or_says_which():
    from sigint.sweeps.plots import panel_values

    nine = [k * 1e-3 for k in range(1, 10)]          # the shipped example's 9 lengths
    assert panel_values(nine, "length") == (nine, "")
    shown, note = panel_values(list(range(31)), "length")
    assert len(shown) == 16 and shown[0] == 0 and shown[-1] == 30
    assert "16 of the 31 values of length" in note


def test_python_api_from_a_dict(tmp_path, cache, monkeypatch):
    import yaml

    import sigint

    f = _files(tmp_path)
    spec = yaml.safe_load(SWEEP)
    spec["parameters"] = {"length": spec["parameters"]["length"]}
    spec.pop("coupled")
    spec.pop("constraints")
    import sigint.sweeps.run as run_mod

    def no_dask(**kw):
        raise AssertionError("the API started Dask without being asked")

    monkeypatch.setattr(run_mod, "_connect", no_dask)
    ds = sigint.sweep(spec, base_dir=f.parent)             # in this process by default
    assert ds["status"].dims == ("length",) and list(ds["status"].values) == [1, 1]
    # the longer line is no faster
    assert ds["max_rate"].values[1] <= ds["max_rate"].values[0]
    assert ds["delay"].values[1] > 2.5 * ds["delay"].values[0]


# ------------------------------------------------------------------------ kill and resume
@pytest.mark.slow
def test_sigkill_at_a_random_moment_then_resume_gives_the_same_dataset(tmp_path, cache):
    import zarr

    import sigint

    f = _files(tmp_path)
    store = tmp_path / "killed.zarr"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    # a fresh cache: the killed run extracts while it runs
    env["SIGINT_CACHE"] = str(tmp_path / "cache-killed")
    proc = subprocess.Popen([sys.executable, "-m", "sigint.cli", "sweep", str(f), "--out",
                             str(store), "--workers", "0", "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            try:
                if (np.asarray(zarr.open_group(str(store), mode="r")["status"][...]) == 1).any():
                    break
            except Exception:      # noqa: BLE001 - not created yet
                pass
            time.sleep(0.05)
        time.sleep(random.uniform(0, 1.5))
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    status = np.asarray(zarr.open_group(str(store), mode="r")["status"][...])
    assert (status == 1).any()
    resumed = sigint.sweep(f, out=store, resume=True, workers=0)
    reference = sigint.sweep(f, out=tmp_path / "reference.zarr", workers=0)
    xr.testing.assert_identical(resumed, reference)
    for k in resumed.data_vars:
        assert np.array_equal(resumed[k].values, reference[k].values, equal_nan=(
            resumed[k].dtype.kind == "f")), k


# ------------------------------------------------------------------------------ Dask
@pytest.mark.slow
def test_sweep_through_a_running_dask_scheduler_and_two_workers(tmp_path, cache, capsys):
    f = _files(tmp_path)
    sched_file = tmp_path / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    bindir = Path(sys.executable).parent
    dask = [str(bindir / "dask")] if (bindir / "dask").exists() else [sys.executable, "-m",
                                                                     "distributed.cli.dask_spec"]
    procs = [subprocess.Popen([*dask, "scheduler", "--scheduler-file", str(sched_file),
                               "--port", "0", "--no-dashboard"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        t0 = time.monotonic()
        while not sched_file.exists() and time.monotonic() - t0 < 60:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([*dask, "worker", "--scheduler-file", str(sched_file),
                                           "--nthreads", "1", "--no-dashboard"], env=env,
                                          cwd=tmp_path, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        rc = main(["sweep", str(f), "--scheduler", address, "--json", "-q"])
        out = json.loads(capsys.readouterr().out)
        assert rc == 0 and out["done"] == 6 and out["skipped"] == 2
        assert "Dask scheduler" in out["scheduler"]
        reference = __import__("sigint").sweep(f, out=tmp_path / "ref.zarr", workers=0)
        from sigint.sweeps.run import open_dataset

        xr.testing.assert_identical(open_dataset(f.with_suffix(".zarr")), reference)
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.mark.slow
def test_local_cluster_of_two_workers_gives_the_in_process_dataset(tiny, tmp_path):
    import sigint

    f, run = tiny
    ds = sigint.sweep(f, out=tmp_path / "two.zarr", workers=2)
    xr.testing.assert_identical(ds, run.dataset)


# ------------------------------------------------------------------ the extraction cache
_WRITER = textwrap.dedent("""
    import sys, numpy as np
    from sigint.channel import cache
    value = float(sys.argv[1])
    a = np.full((64, 64, 64), value)            # 2 MB: a write takes a while
    for _ in range(int(sys.argv[2])):
        cache.store("samekey", {"r": a, "l": a})
""")


def test_two_processes_storing_the_same_key_never_leave_a_partial_entry(tmp_path):
    from sigint.channel import cache

    env = dict(os.environ, PYTHONPATH=str(ROOT), SIGINT_CACHE=str(tmp_path),
               OPENBLAS_NUM_THREADS="1")
    old = os.environ.get("SIGINT_CACHE")
    os.environ["SIGINT_CACHE"] = str(tmp_path)
    try:
        writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(v), "40"], env=env)
                   for v in (1.0, 2.0)]
        seen = set()
        while any(w.poll() is None for w in writers):
            hit = cache.load("samekey")
            if hit is not None:
                r = hit["r"]
                assert r.shape == (64, 64, 64) and hit["l"].shape == r.shape
                vals = np.unique(r)
                assert vals.size == 1 and vals[0] in (1.0, 2.0)      # one writer's whole entry
                assert np.array_equal(hit["l"], r)
                seen.add(float(vals[0]))
        assert [w.wait() for w in writers] == [0, 0]
    finally:
        if old is None:
            os.environ.pop("SIGINT_CACHE", None)
        else:
            os.environ["SIGINT_CACHE"] = old
    assert seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samekey.npz"]   # no temp files left


def test_a_division_by_zero_at_some_points_fails_those_points_only(tmp_path, capsys):
    from sigint.sweeps.run import FAILED, SKIPPED, skeleton

    f = _files(tmp_path, SWEEP.replace("expr: width + space",
                                       "expr: width + space * (space - 1 um) / (space - 1 um)"))
    sw = load_sweep(f)
    ds = skeleton(sw)
    at1 = ds["status"].sel(space=1e-6).values
    assert (at1 == FAILED).all()
    assert "divides by zero at this point" in str(ds["message"].sel(space=1e-6).values.flat[0])
    assert not (ds["status"].sel(space=2e-6).values == FAILED).any()
    # the constraint still decides the other points: pitch 3 um runs, 4 um is skipped
    assert (ds["status"].sel(space=2e-6, width=1e-6).values == 0).all()
    assert (ds["status"].sel(space=2e-6, width=2e-6).values == SKIPPED).all()


def test_comparisons_forgive_rounding_only():
    assert Expression("4 um - w >= 1 um")({"w": 3e-6})          # 9.999999999999999e-07
    assert not Expression("4 um - w >= 1 um")({"w": 3.001e-6})
    assert not Expression("4 um - w > 1 um")({"w": 3e-6})


def test_a_text_parameter_the_shielding_pattern(tmp_path, cache):
    import sigint

    text = textwrap.dedent("""\
        name: shielding
        base: ch.yaml
        parameters:
          pattern:
            path: xsection.buses[0].pattern
            values: [GSGSG, GSSG]
        pareto: {objective: fext_fn, goal: min}
        """)
    f = _files(tmp_path, text)
    ds = sigint.sweep(f, workers=0)
    assert list(ds["pattern"].values) == ["GSGSG", "GSSG"]
    assert list(ds["status"].values) == [1, 1]
    # two adjacent lines couple more than two lines with a ground line between them
    fext = ds["fext_fn"].values
    assert fext[1] > fext[0] + 3
    from sigint.sweeps.plots import plot_sweep

    assert [p.name for p in plot_sweep(ds, tmp_path / "p")] == ["pareto.png"]


def test_spec_and_up_to_are_checked_before_any_work(tmp_path):
    """analysis.spec takes the shipped names or a spec file; analysis.up_to below the
    spec's lowest rate (UCIe: 4 GT/s) is refused in one sentence."""
    from sigint.errors import InputError
    from sigint.sweeps.spec import load_sweep

    ch = Path(__file__).parents[1] / "channels" / "ucie_advanced_2mm.yaml"
    base = {"base": str(ch), "parameters": {"length": {"path": "segments[1].length",
                                                       "values": ["1 mm"]}}}
    sw = load_sweep(dict(base, analysis={"spec": "BoW", "up_to": "16 GT/s"}))
    assert sw.settings["spec"] == "bow" and sw.settings["up_to"] == 16e9
    with pytest.raises(InputError,
                       match=r"analysis.up_to = '2 GT/s': below the spec's lowest rate \(4 GT/s\)"):
        load_sweep(dict(base, analysis={"up_to": "2 GT/s"}))
    with pytest.raises(InputError, match=r"analysis.spec = 'nope.yaml'"):
        load_sweep(dict(base, analysis={"spec": "nope.yaml"}))
    with pytest.raises(InputError, match=r"analysis.spec = 'hbm'"):
        load_sweep(dict(base, analysis={"spec": "hbm"}))


# ------------------------------------------------------------ refusals before any work
def _one_sentence(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("sigint: error: ") and err.count("\n") == 0, err
    assert "Traceback" not in err
    return err


def test_overwrite_never_removes_what_is_not_a_sweep_store(tmp_path, capsys):
    f = _files(tmp_path)
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    for out, says in [(thesis, "is a folder that is not a sweep store"),
                      (f, "is the sweep file"), (tmp_path / "ch.yaml", "is its base channel"),
                      (tmp_path / "bus.yaml", "cross-section file"),
                      (tmp_path, "holds")]:
        assert main(["sweep", str(f), "--out", str(out), "--overwrite", "--workers", "0",
                     "-q"]) == 2
        assert says in _one_sentence(capsys)
    assert (thesis / "chapter1.tex").read_text() == "years of work"
    assert f.read_text() == SWEEP and (tmp_path / "ch.yaml").read_text() == CHANNEL
    # a plain file given to --resume is named for what it is
    assert main(["sweep", str(f), "--out", str(tmp_path / "ch.yaml"), "--resume", "-q"]) == 2
    assert "is its base channel" in _one_sentence(capsys)
    other = tmp_path / "notes.yaml"
    other.write_text("a: 1\n")
    assert main(["sweep", str(f), "--out", str(other), "--resume", "-q"]) == 2
    assert "is a file that is not a sweep store" in _one_sentence(capsys)


@pytest.mark.parametrize("address,says", [
    ("not a url", "not a Dask scheduler address"),
    ("tcp://127.0.0.1:9", "no Dask scheduler answers there (connection refused)"),
])
def test_a_bad_scheduler_is_refused_before_the_store_is_touched(tiny, tmp_path, capsys,
                                                                address, says):
    import shutil

    f, run = tiny
    store = tmp_path / "kept.zarr"
    shutil.copytree(run.store, store)
    before = xr.open_zarr(store, consolidated=False)["status"].values.copy()
    for extra in (["--overwrite"], ["--resume"], []):
        code = main(["sweep", str(f), "--out", str(store), "--scheduler", address, "-q", *extra])
        assert code == 2
        assert says in _one_sentence(capsys)
    np.testing.assert_array_equal(
        xr.open_zarr(store, consolidated=False)["status"].values, before)
    fresh = tmp_path / "fresh.zarr"
    assert main(["sweep", str(f), "--out", str(fresh), "--scheduler", address, "-q"]) == 2
    assert not fresh.exists()


def test_unwritable_out_and_plot_and_workers_with_scheduler_are_refused_up_front(tmp_path, capsys):
    f = _files(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):          # root writes anywhere: /proc refuses even root
        ro.chmod(0o755)
        ro = Path("/proc")
        if not ro.is_dir():
            pytest.skip("no read-only folder to try")
    try:
        cases = [(["--out", str(ro / "s.zarr")], "cannot be written"),
                 (["--plot", str(ro / "figs")], "cannot be written"),
                 (["--out", str(tmp_path / "nofolder" / "s.zarr")], "does not exist"),
                 (["--scheduler", "tcp://127.0.0.1:9", "--workers", "3"], "leave --workers out")]
        for extra, says in cases:
            assert main(["sweep", str(f), "-q", *extra]) == 2
            assert says in _one_sentence(capsys)
            assert not f.with_suffix(".zarr").exists()
    finally:
        if ro != Path("/proc"):
            ro.chmod(0o755)


def test_all_points_skipped_notes_why_and_resume_of_nothing_says_it_starts(tmp_path, capsys):
    f = _files(tmp_path, SWEEP.replace("pitch <= 3.5 um", "pitch <= 1 um"))
    store = tmp_path / "s.zarr"
    assert main(["sweep", str(f), "--out", str(store), "--resume", "--workers", "0", "-q"]) == 1
    err = capsys.readouterr().err
    assert "does not exist yet; --resume starts the sweep from the beginning" in err
    assert "every point breaks a constraint" in err
    # a changed sweep file: the refusal says what changed
    f.write_text(f.read_text().replace("pitch <= 1 um", "pitch <= 1.5 um"))
    assert main(["sweep", str(f), "--out", str(store), "--resume", "-q"]) == 2
    assert "holds a different sweep (the sweep file changed" in _one_sentence(capsys)


def test_a_worker_reimporting_the_script_leaves_quietly(monkeypatch):
    """A spawned worker that re-imports a script without the main guard exits at once
    (code 2) instead of starting workers of its own; the test process itself is fine."""
    import multiprocessing
    import os
    import types

    from sigint.sweeps.run import _check_main_module

    _check_main_module()                                  # the test process: fine
    fake = types.ModuleType("__mp_main__")
    fake.__file__ = "my_sweep.py"
    monkeypatch.setitem(sys.modules, "__main__", fake)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())

    def exit_(code):
        raise SystemExit(code)

    monkeypatch.setattr(os, "_exit", exit_)
    with pytest.raises(SystemExit) as e:
        _check_main_module()
    assert e.value.code == 2


@pytest.mark.slow
def test_a_script_without_the_main_guard_gets_one_sentence(tmp_path):
    """The real thing: a script calling sigint.sweep with two workers at import time ends
    with one sentence naming the script and the guard (the workers leave quietly)."""
    import subprocess

    script = tmp_path / "plain.py"
    script.write_text(
        "import sigint\n"
        f"sigint.sweep({{'base': {str(ROOT / 'channels' / 'ucie_advanced_2mm.yaml')!r},\n"
        "              'parameters': {'length': {'path': 'segments[1].length',\n"
        "                                        'values': ['1 mm', '2 mm']}}},\n"
        f"             out={str(tmp_path / 'pw.zarr')!r}, workers=2)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, timeout=300, cwd=tmp_path)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert "plain.py: a script that calls sigint.sweep with worker processes must do it " \
           "under if __name__ == '__main__':" in last, r.stderr[-2000:]
    assert r.stderr.count("Traceback") == 1, r.stderr[-3000:]
    assert not (tmp_path / "pw.zarr").exists()


def test_help_describes_the_file_keys_exit_codes_and_scheduler(capsys):
    assert main(["sweep", "--help"]) in (0, None)
    out = " ".join(capsys.readouterr().out.split())
    for word in ("constraints", "design", "lhs", "pareto", "set ", "up_to", "spec",
                 "Exit codes: 0", "1 none", "2 bad input", "Not with --workers",
                 "--max-points"):
        assert word in out, word
