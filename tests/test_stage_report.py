"""Every stage says where it ran; no stage that ran on the host claims CuPy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from helpers import coupled_pair

from sigint.analysis.analyze import AnalysisOptions, _stages, analyze
from sigint.backend import Backend
from sigint.cli import main
from sigint.extract.rlgc import extract_stages
from sigint.report.build_report import build_stages

XS = Path(__file__).resolve().parents[1] / "channels" / "xsections"
# the stages that run on the host whatever the backend (no xp reaches them)
HOST_ANALYZE = {"quality", "eq", "pulses", "stateye", "bit_by_bit"}
HOST_EXTRACT = {"extract.bem_assembly", "extract.bem_vacuum_solve", "extract.bem_frequency_updates",
                "extract.peec_assembly", "extract.peec_frequency_sweep"}


def test_analyze_json_reports_stages_on_numpy():
    f = np.arange(0, 60e9 + 1, 100e6)
    r = analyze(coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=20.0),
                AnalysisOptions(rate=16e9, bits=1 << 12))
    j = json.loads(json.dumps(r.to_json()))
    assert j["backend"] == "numpy"
    assert set(j["backend_stages"]) == {"quality", "vtf", "eq", "pulses", "stateye", "bit_by_bit"}
    assert set(j["backend_stages"].values()) == {"numpy"}


def test_extract_json_reports_stages_on_numpy(capsys):
    code = main(["extract", str(XS / "si_interposer_bus.yaml"), "--freq", "1GHz,10GHz", "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    st = json.loads(out)["backend_stages"]
    assert HOST_EXTRACT <= set(st) and set(st.values()) == {"numpy"}


def test_host_stages_never_claim_cupy():
    gpu = Backend("cupy", "cupy", "NVIDIA H200", "CuPy smoke test passed")
    st = _stages(gpu, bit_by_bit=True)
    assert st["vtf"] == "cupy"
    assert {k for k, v in st.items() if v == "numpy"} == HOST_ANALYZE
    st = extract_stages(gpu)
    assert {k for k, v in st.items() if v == "numpy"} == HOST_EXTRACT
    assert {k for k, v in st.items() if v == "cupy"} == {"extract.bem_factor", "extract.peec_eigh"}
    st = build_stages(gpu)
    assert {k for k, v in st.items() if v == "cupy"} == {"extract.bem_factor", "extract.peec_eigh"}
    assert st["build.cascade"] == st["build.line_s_parameters"] == "numpy"
