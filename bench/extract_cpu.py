"""Wall time and peak memory of `sigint extract` on the CPU, and the scaling with bus width.

A script, not a suite (each run is a fresh process with a fresh extraction cache)::

    PYTHONPATH=. python bench/extract_cpu.py [--signals 16,32] [--files a.yaml,b.yaml]
        [--freq 1MHz:100GHz:201] [--threads 1] [--out bench/results/extract-cpu-cpu2.json]

``--signals`` makes variants of the shipped 16-signal interposer bus
(``channels/xsections/si_interposer_bus16.yaml``) with N shielded signals (pattern
G(SG)^N, the ground plane widened with the bus) in a temporary directory; the exponent of
time against N is fitted over the sizes run. ``--files`` times shipped cross-sections as
they are. BLAS threads are set by ``--threads`` (``OPENBLAS_NUM_THREADS``). The load
average of the machine is recorded with each row: on a shared machine the times include
whatever else ran.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUS16 = ROOT / "channels" / "xsections" / "si_interposer_bus16.yaml"


def bus_variant(n_signals: int, directory: Path) -> Path:
    """The 16-signal interposer bus with *n_signals* signals (same pitch, plane widened)."""
    doc = yaml.safe_load(BUS16.read_text())
    doc["name"] = f"silicon interposer bus, {n_signals} shielded signals"
    doc["buses"][0]["pattern"] = "G" + "SG" * n_signals
    pitch_um = 4.0
    span_um = (2 * n_signals + 1) * pitch_um
    doc["conductors"][0]["width"] = f"{max(150.0, span_um + 20.0):g} um"
    path = directory / f"si_interposer_bus{n_signals}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_extract(path: Path, freq: str, threads: int) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               SIGINT_QUIET="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cache:
        env["SIGINT_CACHE"] = cache
        out = Path(cache) / "rlgc.nc"
        load0 = os.getloadavg()
        rss = Path(cache) / "rss"
        t0 = time.perf_counter()
        # GNU time's %M: the peak resident set of this child alone, kB
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss), sys.executable, "-m",
                        "sigint.cli", "extract", str(path), "--freq", freq, "--out", str(out)],
                       env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak_kb = float(rss.read_text().split()[-1])
    row = {"file": path.name, "freq": freq, "blas_threads": threads, "wall_s": round(wall, 2),
           "peak_rss_mb": round(peak_kb / 1024, 1),
           "load_before": load0, "load_after": os.getloadavg()}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", default="")
    ap.add_argument("--files", default="")
    ap.add_argument("--freq", default="1MHz:100GHz:201")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    rows = []
    for f in filter(None, a.files.split(",")):
        rows.append(run_extract(Path(f), a.freq, a.threads))
    sizes = [int(s) for s in a.signals.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            r = run_extract(bus_variant(n, Path(tmp)), a.freq, a.threads)
            r["signals"] = n
            rows.append(r)
    doc = {"rows": rows, "cpu_count": os.cpu_count(),
           "note": "shared machine: other work ran at the same time (see the load averages)"}
    scal = [r for r in rows if "signals" in r]
    if len(scal) >= 2:
        xs = [math.log(r["signals"]) for r in scal]
        ys = [math.log(r["wall_s"]) for r in scal]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        doc["time_exponent_in_n"] = (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
                                     / sum((x - mx) ** 2 for x in xs))
        print(f"time ~ N^{doc['time_exponent_in_n']:.2f}")
    if a.out:
        a.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
