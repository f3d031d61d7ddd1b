"""Shared fixtures: the shipped example channel and closed-form test networks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE2 = ROOT / "channels" / "example2"

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def example2() -> dict[str, Path]:
    """Paths of the example2 files (xz-compressed Touchstone)."""
    files = {p.name.split("_")[1].split(".")[0]: p for p in EXAMPLE2.glob("example2_*.s4p.xz")}
    assert set(files) == {"THRU", "FEXT1", "FEXT2", "NEXT1", "NEXT2", "NEXT3"}
    return files


@pytest.fixture(autouse=True)
def _numpy_backend(monkeypatch):
    """Tests run on numpy unless they ask for the GPU themselves."""
    monkeypatch.setenv("SIGINT_BACKEND", os.environ.get("SIGINT_TEST_BACKEND", "numpy"))
    yield
