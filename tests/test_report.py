"""The --report page: self-contained HTML, rendered in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers import coupled_pair

from sigint.cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    f = np.arange(0, 40e9 + 1, 100e6)
    coupled_pair(f, 2e-3, 46.0, 43.0, 4.1, 3.9, alpha_db_per_m_sqrt_ghz=20.0).write_touchstone(
        filename="pair", dir=str(d))
    page = d / "r.html"
    code = main(["analyze", str(d / "pair.s4p"), "--bits", "2048", "--report", str(page),
                 "--quiet"])
    assert code == 0
    return page


def test_page_is_self_contained_with_checks_and_provenance(report):
    text = report.read_text()
    assert "src='http" not in text and "href=" not in text          # nothing to fetch
    assert text.count("data:image/png;base64,") == 4                 # eye, vtf, bathtub, pulse
    for what in ("vtf_loss", "margin", "where", "Provenance", "sha256 pair.s4p", "--report",
                 "Notes", "numpy"):
        assert what in text, what


def test_rendered_by_headless_chromium(report, tmp_path):
    exe = _browser()
    if exe is None:
        pytest.skip("no headless browser: install Debian's chromium to render the report")
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
            "--enable-logging=stderr", "--v=0"]
    run = subprocess.run(base + ["--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    m = re.search(r'data-figures="(\d+)/(\d+)"', run.stdout)
    assert m, "the page's load script did not run"
    assert m.group(1) == m.group(2) == "4"                            # every figure decoded
    console = [ln for ln in run.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    shot = tmp_path / "shot.png"
    subprocess.run(base + [f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000
