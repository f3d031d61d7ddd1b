"""sigint extract: the 16-signal interposer bus, 201 frequencies to 100 GHz, and scaling.

Target (issue 3): the 16-signal bus with ground lines and a ground plane, skin effect
resolved to 100 GHz, 201 frequencies, under 60 s on 2 cores. Unknown counts, stage times
and peak memory go to ``extra_info``; time against the number of lines is reported for
4, 8, 16 and 32 signals.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sigint.extract.rlgc import extract
from sigint.xsection.schema import load_cross_section

ROOT = Path(__file__).resolve().parents[1]
BUS16 = ROOT / "channels" / "xsections" / "si_interposer_bus16.yaml"
FREQ = "1MHz:100GHz:201"


def bus(n_signals: int) -> dict:
    """The shipped bus with *n_signals* signals (pairs between ground lines)."""
    import yaml

    data = yaml.safe_load(BUS16.read_text())
    pattern = "G" + "SSG" * (n_signals // 2)
    width = (len(pattern) + 6) * 4
    data["buses"][0]["pattern"] = pattern
    data["conductors"][0]["width"] = f"{width} um"
    return data


def _peak_mb(code: str) -> float:
    prog = code + (
        "\nimport re\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def test_extract_16_signal_bus(benchmark):
    res = benchmark.pedantic(extract, args=(BUS16, FREQ), rounds=2, warmup_rounds=0)
    assert res.r.shape == (201, 16, 16)
    benchmark.extra_info.update(
        bem_unknowns=res.bem_unknowns, peec_filaments=res.peec_unknowns,
        stages_s={k: round(v, 2) for k, v in res.timings.items()},
        peak_rss_mb=round(_peak_mb(f"from sigint.extract.rlgc import extract; "
                                   f"extract({str(BUS16)!r}, {FREQ!r})"), 1))
    print(json.dumps(benchmark.extra_info))


@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_extract_scaling_with_lines(benchmark, n):
    xs = load_cross_section(bus(n))
    res = benchmark.pedantic(extract, args=(xs, FREQ), rounds=1, iterations=1)
    assert res.r.shape[1] == n
    benchmark.extra_info.update(lines=n, bem_unknowns=res.bem_unknowns,
                                peec_filaments=res.peec_unknowns,
                                stages_s={k: round(v, 2) for k, v in res.timings.items()})
