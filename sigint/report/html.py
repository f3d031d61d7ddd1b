"""Short reprs, notebook HTML and the self-contained ``--report`` page.

The report is one HTML file: the summary, the verdict table (value, limit and margin of
one quantity at one point, where it was taken), notes, figures inlined as base64 PNG, and
the provenance of the numbers (version, backend, command line, SHA-256 of every input).
"""

from __future__ import annotations

import base64
import hashlib
import html
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.analyze import AnalysisResult
    from ..channel.build import BuildResult
    from ..extract.rlgc import ExtractResult
    from ..specs.checks import Check

__all__ = ["analysis_repr", "analysis_html", "build_repr", "build_html", "extract_repr",
           "extract_html", "checks_table_html", "report_page", "file_sha256", "provenance"]

_TABLE_CSS = """
table.sig{border-collapse:collapse;margin:.5em 0}
table.sig td,table.sig th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.sig th{background:#f3f3f3}table.sig td.l,table.sig th.l{text-align:left}
.pass{color:#0a7a2a;font-weight:600}.fail{color:#b00020;font-weight:600}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}
"""

_CSS = _TABLE_CSS + """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;
color:#1b1b1b;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
figure{display:block;margin:.8em 0}
figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}
.note{color:#8a4b00}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _verdict(passed: bool | None) -> str:
    return "no spec" if passed is None else ("PASS" if passed else "FAIL")


# ----------------------------------------------------------------------------- analysis
def analysis_repr(r: AnalysisResult) -> str:
    """One line: what was analysed, the headline figures and the verdict."""
    e = r.eye
    spec = f"{r.row.title}: {_verdict(r.passed)}" if r.row else "no spec"
    return (f"<AnalysisResult {Path(r.source).name}, {r.rate / 1e9:g} GT/s, victim {r.victim}: "
            f"L(fN) {r.loss_db_at_nyquist:+.2f} dB, XT(fN) {r.xt_db_at_nyquist:+.2f} dB, eye "
            f"{e.eye_height * 1e3:.1f} mV x {e.eye_width:.3f} UI at BER {r.ber:.0e}; {spec}>")


def checks_table_html(checks: Iterable[Check]) -> str:
    """The verdict table: check, value, relation, limit, margin (printed so it adds up), where."""
    from .summary import check_row_numbers

    rows = []
    for c in checks:
        v, lim, m = check_row_numbers(c)
        cls = "pass" if c.passed else "fail"
        note = f"<br><span class='note'>{_esc(c.note)}</span>" if c.note else ""
        rows.append(f"<tr><td class='{cls} l'>{'PASS' if c.passed else 'FAIL'}</td>"
                    f"<td class='l' title='{_esc(c.detail)}'>{_esc(c.name)}</td><td>{_esc(v)}</td>"
                    f"<td>{_esc(c.relation)}</td><td>{_esc(lim)}</td><td>{_esc(m)}</td>"
                    f"<td class='l'>{_esc(c.where)}{note}</td></tr>")
    return ("<table class='sig'><tr><th class='l'></th><th class='l'>check</th><th>value</th>"
            "<th></th><th>limit</th><th>margin</th><th class='l'>where</th></tr>"
            + "".join(rows) + "</table>")


def analysis_html(r: AnalysisResult) -> str:
    """Notebook view: headline figures and the verdict table."""
    from .summary import SIGN_CONVENTION

    e = r.eye
    head = (f"<b>{_esc(Path(r.source).name)}</b>: {r.rate / 1e9:g} GT/s, victim {_esc(r.victim)}, "
            f"backend {_esc(r.backend.name)}<br>L(0) {r.vtf.loss_db[0]:+.2f} dB, "
            f"L(fN) {r.loss_db_at_nyquist:+.2f} dB, XT(fN) {r.xt_db_at_nyquist:+.2f} dB; eye "
            f"{e.eye_height * 1e3:.2f} mV x {e.eye_width:.3f} UI at BER {r.ber:.0e}")
    if r.row is None:
        return f"<div>{head}<br>no spec checked</div>"
    cls = "pass" if r.passed else "fail"
    return (f"<div>{head}<br>{_esc(r.row.title)}: <span class='{cls}'>{_verdict(r.passed)}</span>"
            f"<style>{_TABLE_CSS}</style>{checks_table_html(r.checks)}"
            f"<small>{_esc(SIGN_CONVENTION)}</small></div>")


# ----------------------------------------------------------------------------- build
def build_repr(b: BuildResult) -> str:
    """One line: the channel, its size and its worst insertion loss at Nyquist."""
    from .build_report import build_json

    j = build_json(b)
    il = max(max(x) for x in j["lane_figures"]["insertion_loss_db"])
    return (f"<BuildResult {Path(b.source).name}: {b.n_lanes} lanes, {len(b.segments)} segments, "
            f"{b.f.size} frequencies to {b.f[-1] / 1e9:g} GHz; worst IL "
            f"{il:.2f} dB at {j['lane_figures']['frequencies_hz'][0] / 1e9:g} GHz>")


def build_html(b: BuildResult) -> str:
    """Notebook view of a build: the summary text."""
    from .build_report import build_summary

    return f"<pre>{_esc(build_summary(b))}</pre>"


# ----------------------------------------------------------------------------- extract
def extract_repr(x: ExtractResult) -> str:
    """One line: the cross-section, its signals and the frequency range."""
    from .extract_report import rl_unknowns

    return (f"<ExtractResult {x.geometry.name}: {len(x.names)} signal(s), {x.f.size} "
            f"frequencies {x.f.min() / 1e9:g}-{x.f.max() / 1e9:g} GHz, {x.bem_unknowns} boundary "
            f"elements, {rl_unknowns(x)}>")


def extract_html(x: ExtractResult) -> str:
    """Notebook view of an extraction: the summary text."""
    from .extract_report import extract_summary

    return f"<pre>{_esc(extract_summary(x))}</pre>"


# ----------------------------------------------------------------------------- report page
def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def provenance(inputs: Iterable[str | Path], backend: str, argv: list[str] | None = None) -> dict:
    """Version, backend, command line, platform, time and the SHA-256 of every input file."""
    from .._version import __version__

    files = {}
    for p in inputs:
        p = Path(p)
        if p.is_file():
            files[str(p)] = file_sha256(p)
    return {"sigint": __version__, "backend": backend,
            "command": " ".join(argv if argv is not None else ["sigint", *sys.argv[1:]]),
            "python": platform.python_version(), "platform": platform.platform(),
            "time_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "inputs": files}


def report_page(title: str, summary: str, *, checks: Iterable[Check] = (),
                verdict: bool | None = None, notes: Iterable[str] = (),
                figures: Iterable[tuple[str, bytes]] = (), prov: dict | None = None) -> str:
    """One self-contained HTML page (no external resource: figures inline as base64 PNG)."""
    from .summary import SIGN_CONVENTION

    checks = list(checks)
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>"]
    if checks:
        cls = "pass" if verdict else "fail"
        parts.append(f"<p>Verdict: <span class='{cls}' id='verdict'>{_verdict(verdict)}</span></p>")
        parts.append("<h2>Checks</h2>" + checks_table_html(checks)
                     + f"<p><small>{_esc(SIGN_CONVENTION)}</small></p>")
    figs = list(figures)
    if figs:
        parts.append("<h2>Figures</h2>")
        for name, png in figs:
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img alt='{_esc(name)}' src='data:image/png;base64,{b64}'>"
                         f"<figcaption>{_esc(name)}</figcaption></figure>")
    parts.append(f"<h2>Summary</h2><pre>{_esc(summary)}</pre>")
    notes = list(dict.fromkeys(notes))
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in notes)
                     + "</ul>")
    if prov:
        rows = [(k, v) for k, v in prov.items() if k != "inputs"]
        rows += [(f"sha256 {Path(k).name}", v) for k, v in prov.get("inputs", {}).items()]
        parts.append("<h2>Provenance</h2><table class='sig'>" + "".join(
            f"<tr><th class='l'>{_esc(k)}</th><td class='l'><code>{_esc(v)}</code></td></tr>"
            for k, v in rows) + "</table>")
    # a self-check a reader (or a test in a headless browser) can see: figures decoded
    parts.append("<script>window.addEventListener('load',function(){var m=document.images,"
                 "k=0;for(var i=0;i<m.length;i++){if(m[i].complete&&m[i].naturalWidth>0)k++;}"
                 "document.body.setAttribute('data-figures',k+'/'+m.length);});</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
