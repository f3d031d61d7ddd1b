"""Progress reports: log lines with what runs, how far and the time left; a terminal bar."""

from __future__ import annotations

import io
import re
import time

import pytest

from sigint import progress
from sigint.cli import main


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset():
    yield
    progress.configure("off")


def test_log_lines_name_the_step_count_and_eta_and_keep_coming(monkeypatch):
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.0)
    out = io.StringIO()
    assert progress.configure("auto", stream=out, interval=0.15) == "log"   # not a terminal
    t0 = time.monotonic()
    with progress.task("building ch.yaml", total=2) as job:
        job.set_stage("segment 1 (trace)")
        with progress.task("filaments", total=8) as t:
            for _ in range(8):
                time.sleep(0.06)
                t.advance()
        job.advance()
    wall = time.monotonic() - t0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sigint: [") and "building ch.yaml 0/2" in lines[0]
    beats = [ln for ln in lines if "filaments" in ln and "ETA" in ln]
    assert beats, lines                                     # how far and how long to go
    assert re.search(r"filaments \d/8 \(\d+ %, ETA \d+ s\)", beats[-1])
    # a line at least every interval while work runs (0.48 s of work, 0.15 s heartbeat)
    assert len(lines) >= int(wall / 0.15) - 1, lines
    assert re.search(r"done in \d+ s$", lines[-1]), lines[-1]


def test_bar_on_a_terminal_and_cleared_at_the_end():
    out = _Tty()
    assert progress.configure("auto", stream=out) == "bar"
    with progress.task("extract x.yaml", total=4) as t:
        for _ in range(4):
            t.advance()
            time.sleep(0.1)
    text = out.getvalue()
    assert "\r\033[K" in text and "extract x.yaml" in text and "[#" in text
    assert text.endswith("\r\033[K")                        # nothing left on the line


def test_off_is_silent_and_tasks_still_count():
    out = io.StringIO()
    progress.configure("off", stream=out)
    with progress.task("x", total=3) as t:
        for _ in progress.track(range(5), "inner"):
            progress.advance()
        t.advance(3)
    assert out.getvalue() == "" and t.fraction == 1.0


def test_an_exception_ends_the_tasks_left_open():
    progress.configure("off")
    with pytest.raises(RuntimeError):
        with progress.task("outer"):
            progress.begin("inner")
            raise RuntimeError("boom")
    assert progress.current() is None


def test_first_line_within_two_seconds_and_none_for_a_quick_refusal():
    out = io.StringIO()
    progress.configure("log", stream=out)
    with pytest.raises(ValueError):
        with progress.task("analyze bad.s4p"):
            raise ValueError("refused at once")
    assert out.getvalue() == ""                 # the error sentence stands alone
    with progress.task("analyze ch.s4p"):
        time.sleep(progress.FIRST_LINE_AFTER + 0.4)
    first = out.getvalue().splitlines()[0]
    t = float(re.match(r"sigint: \[\s*([\d.]+) s\]", first).group(1))
    assert "analyze ch.s4p" in first and t <= 2.0


def test_cli_first_line_at_once_and_quiet_silences(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.0)
    xs = tmp_path / "coax.yaml"
    xs.write_text("name: coax\nstack:\n  - {material: air}\nconductors:\n"
                  "  - {name: a, shape: circle, x: 0 um, y: 0 um, radius: 1 um}\n"
                  "  - {name: g, shape: ring, x: 0 um, y: 0 um, inner_radius: 2 um, "
                  "outer_radius: 2.5 um, reference: true}\n")
    assert main(["extract", str(xs), "--freq", "1GHz,10GHz"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "sigint: [    0.0 s] extract coax.yaml"
    assert any("boundary elements" in ln for ln in err) and "done in" in err[-1]
    assert main(["extract", str(xs), "--freq", "1GHz,10GHz", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_reports_keep_coming_during_the_filament_eigendecomposition(monkeypatch):
    """The eigendecomposition (a minute on a large mesh) must not hold the GIL."""
    import numpy as np

    from sigint.extract.peec import _eigh

    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.0)
    out = io.StringIO()
    progress.configure("log", stream=out, interval=0.05)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1800, 1800))
    a = a + a.T
    with progress.task("filaments"):
        time.sleep(0.1)
        before = len(out.getvalue().splitlines())
        t0 = time.monotonic()
        _eigh(a)
        took = time.monotonic() - t0
        during = len(out.getvalue().splitlines()) - before
    # a GIL-holding call lets at most one line slip in as it returns
    assert during >= max(3, int(took / 0.05) // 4), (during, took)
