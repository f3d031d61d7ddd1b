"""Every lane as victim from one batched solve, against separate single-victim runs."""

import json

import numpy as np
import pytest
import skrf
import xarray as xr

from sigint.analysis.analyze import AnalysisOptions, analyze, prepare
from sigint.analysis.lanes import evaluate_lanes, relative_margin
from sigint.channel.lines import mtl_s
from sigint.link.ports import build_port_map, link_network
from sigint.link.vtf import terminated_transfers

MU0, EPS0 = 4e-7 * np.pi, 8.8541878128e-12


def bus(n=4, length=3e-3, fmax=40e9, nf=401, c_mut=(-20e-12, -3e-12), r_scale=1.0):
    """An n-line bus in a homogeneous dielectric (L = mu0 eps0 eps_r C^-1), skin-effect R."""
    f = np.linspace(0, fmax, nf)
    c = np.diag(np.full(n, 130e-12))
    for k, v in enumerate(c_mut, start=1):
        c += np.diag(np.full(n - k, v), k) + np.diag(np.full(n - k, v), -k)
    el = MU0 * EPS0 * 3.5 * np.linalg.inv(c)
    r = r_scale * 120.0 * np.sqrt(1 + f / 1e8)[:, None, None] * np.eye(n)
    g = (2 * np.pi * f * 0.01)[:, None, None] * c
    s = mtl_s(f, r, el, g, c, length, 50.0)
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50.0)


@pytest.fixture(scope="module")
def net4():
    return bus(4)


def test_all_victims_equal_single_victim_runs(net4):
    opts = AnalysisOptions(rate=16e9, bits=0)
    lanes = evaluate_lanes(prepare(net4), opts)
    assert len(lanes.lanes) == 4
    ln = link_network(net4, build_port_map(net4.nports))
    for v, r in enumerate(lanes.lanes):
        one = analyze(net4, opts.model_copy(update={"victim": v + 1}))
        # the batched solve against a solve for this victim alone
        alone = terminated_transfers(ln, r.tx, r.rx, [v])[:, 0, :]
        np.testing.assert_allclose(r.vtf.victim, alone[:, v], rtol=1e-10, atol=1e-14)
        assert r.victim == one.victim
        assert r.eye.eye_height == pytest.approx(one.eye.eye_height, abs=1e-12)
        assert r.mask_height == pytest.approx(one.mask_height, abs=1e-12)
        # lane_skew compares lanes with each other: only the all-lanes run has it
        assert [(c.name, c.passed) for c in r.checks if c.name != "lane_skew"] == \
            [(c.name, c.passed) for c in one.checks]
        np.testing.assert_allclose([c.margin for c in r.checks if c.name != "lane_skew"],
                                   [c.margin for c in one.checks],
                                   rtol=1e-9, atol=1e-12)
    # symmetric bus: the edge lanes see fewer aggressors than the inner ones
    xt = [r.worst_crosstalk()["vtf_xt_db_worst"] for r in lanes.lanes]
    assert xt[0] < xt[1] and xt[3] < xt[2]


def test_worst_lane_is_the_smallest_relative_margin(net4):
    lanes = evaluate_lanes(prepare(net4), AnalysisOptions(rate=16e9, bits=0))
    # by hand: every check of every lane, margin over |limit|
    best = min(((c.margin / abs(c.limit), i, c.name) for i, r in enumerate(lanes.lanes)
                for c in r.checks), key=lambda t: t[0])
    assert lanes.worst == best[1]
    assert lanes.limiting.name == best[2]
    assert relative_margin(lanes.limiting) == pytest.approx(best[0])
    j = lanes.to_json()
    json.dumps(j)
    assert j["worst_lane"] == lanes.lanes[best[1]].victim and len(j["per_lane"]) == 4
    assert j["passed"] == all(r.passed for r in lanes.lanes)


def test_lanes_dataset_and_cli(net4, tmp_path):
    from sigint.cli import main
    from sigint.report.dataset import save_dataset

    path = tmp_path / "bus.s8p"
    net4.write_touchstone(filename="bus", dir=str(tmp_path), skrf_comment=False)
    out = tmp_path / "r.nc"
    rc = main(["analyze", str(path), "--victim", "all", "--rate", "16GT/s", "--bits", "0", "-q",
              "--out", str(out), "--json"])
    assert rc in (0, 1)
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert ds.sizes["lane"] == 4 and ds["lane_vtf_loss"].dims == ("lane", "frequency")
    lanes = evaluate_lanes(prepare(net4), AnalysisOptions(rate=16e9, bits=0))
    np.testing.assert_allclose(ds["lane_eye_height_v"].values,
                               [r.eye.eye_height for r in lanes.lanes], rtol=1e-9)
    assert rc == (0 if lanes.passed else 1)
    save_dataset(lanes.to_dataset(), tmp_path / "again.nc")


def test_api_victim_all(net4):
    import sigint
    from sigint.analysis.lanes import LanesResult

    res = sigint.analyze(net4, "16GT/s", victim="all", bits=0)
    assert isinstance(res, LanesResult) and [r.victim for r in res.lanes] == \
        [f"lane {i}" for i in (1, 2, 3, 4)]
    assert "worst lane" in res.summary()


def test_short_repr(net4):
    lanes = evaluate_lanes(prepare(net4), AnalysisOptions(rate=16e9, bits=0))
    text = repr(lanes)
    assert text.startswith("<LanesResult network, 16 GT/s, 4 lanes: worst lane ")
    assert len(text) < 200


def test_mirror_lanes_reuse_the_equalization_of_their_mates(net4, monkeypatch):
    """A symmetric bus: only lanes 1 and 2 are evaluated, lanes 4 and 3 take their figures
    (the worst lane, if a mirror lane, is evaluated as itself with its mate's
    equalization); every lane's figures equal those of a run that evaluates every lane,
    and a bus that is symmetric only to 1e-6 is not taken as mirrored (near a tie of two
    candidates a small asymmetry can change the better choice)."""
    import sigint.analysis.lanes as lanes_mod
    from sigint.analysis.lanes import mirror_lanes

    link = prepare(net4)
    np.testing.assert_array_equal(mirror_lanes(link), [3, 2, 1, 0])
    s = net4.s.copy()
    s[:, 0, 4] *= 1 + 1e-6       # lane 1's through path 1e-6 stronger than lane 4's
    s[:, 4, 0] *= 1 + 1e-6
    skewed = skrf.Network(frequency=net4.frequency, s=s, z0=50.0)
    assert mirror_lanes(prepare(skewed)) is None
    opts = AnalysisOptions(rate=48e9, bits=0)        # UCIe 48 GT/s: a 42-candidate search
    calls = []
    real = lanes_mod.evaluate

    def counting(*a, equalization=None, **k):
        calls.append(equalization is not None)
        return real(*a, equalization=equalization, **k)

    monkeypatch.setattr(lanes_mod, "evaluate", counting)
    for threads in (1, 2):
        calls.clear()
        got = evaluate_lanes(link, opts, threads=threads)
        assert calls.count(False) == 2 and calls.count(True) <= 1
        assert [r.mirror_of is not None for r in got.lanes].count(True) == 2 - calls.count(True)
        assert got.worst_result.mirror_of is None
        monkeypatch.setattr(lanes_mod, "mirror_lanes", lambda _link: None)
        ref = evaluate_lanes(link, opts, threads=threads)
        monkeypatch.setattr(lanes_mod, "mirror_lanes", mirror_lanes)
        for a, b in zip(got.lanes, ref.lanes):
            assert a.victim == b.victim and a.eq.chosen == b.eq.chosen
            assert a.eye.eye_height == pytest.approx(b.eye.eye_height, abs=1e-12)
            assert a.pd_width == pytest.approx(b.pd_width, abs=1e-12)
            assert [(c.name, c.passed) for c in a.checks] == [(c.name, c.passed)
                                                              for c in b.checks]
            np.testing.assert_allclose([c.margin for c in a.checks],
                                       [c.margin for c in b.checks], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("victims", [[], [4], [-1], [0, 2, 2]])
def test_bad_victim_lists_are_refused(net4, victims):
    """Empty, out-of-range, negative and repeated lanes: one sentence naming the range
    (a repeated lane used to get the skew check twice and become the worst lane)."""
    from sigint.errors import InputError

    with pytest.raises(InputError, match="distinct 0-based lane indices from 0 to 3"):
        evaluate_lanes(prepare(net4), AnalysisOptions(rate=16e9, bits=0), victims=victims)
