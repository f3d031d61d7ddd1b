"""100 points of a 4-signal interposer bus sweep on Dask: 1 worker against 2.

    PYTHONPATH=. python bench/sweep_bench.py --out bench/results/sweep-cpu2.json

The channel: micro-bumps (45 um pitch, 2 x 4 map), the 4-signal silicon-interposer bus of
``channels/xsections/si_interposer_bus.yaml`` and micro-bumps again; 0.5 GHz steps to
64 GHz. The sweep: line width (4 values) x space (5, the bus pitch following as
width + space) x trace length (5), a grid of 100 points, so 20 different cross-sections are
extracted. Each run starts from an empty extraction cache (a fresh folder), runs the sweep
on a local Dask cluster of *n* worker processes with one thread each, and records the wall
time, the per-point split (extraction, the rest of the build, the analysis: the maximum-rate
search and the eye at 16 GT/s) summed over the points, and the load average before and
after (the machine may be shared). Target (issue 13): 100 points under 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHANNEL = """\
name: 4-signal interposer bus between micro-bumps
link: {rate: 16 GT/s, spec: ucie, package: advanced}
lanes: {pitch: 45 um, map: [SGSG, GSGS]}
frequencies: 0:64GHz:129
segments:
  - {type: bump, diameter: 25 um, height: 20 um}
  - {type: trace, xsection: bus.yaml, length: 2 mm}
  - {type: bump, diameter: 25 um, height: 20 um}
"""

SWEEP = """\
name: 4-signal interposer bus, width x space x length
base: ch.yaml
parameters:
  width:
    path: xsection.buses[0].width
    values: [1.5 um, 2 um, 2.5 um, 3 um]
  space:
    range: {start: 1 um, stop: 3 um, num: 5}
  length:
    path: segments[1].length
    values: [1 mm, 2 mm, 3 mm, 4 mm, 5 mm]
coupled:
  pitch: {path: "xsection.buses[0].pitch", expr: width + space}
analysis: {eye_rate: 16 GT/s}
pareto: {objective: length, goal: max}
"""


def run_once(workers: int, folder: Path) -> dict:
    from sigint.sweeps.run import run_sweep
    from sigint.sweeps.spec import load_sweep

    cache = folder / f"cache-{workers}"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["SIGINT_CACHE"] = str(cache)        # the workers inherit it
    sw = load_sweep(folder / "sweep.yaml")
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    res = run_sweep(sw, folder / f"w{workers}.zarr", overwrite=True, workers=workers,
                    progress=False)
    wall = time.perf_counter() - t0
    tm = res.timings
    split = {k: round(sum(t.get(k, 0.0) for t in tm), 2) for k in ("extract", "build", "analysis",
                                                                   "total")}
    n = len(tm)
    return {"workers": workers, "points": n, "done": int((res.dataset["status"] == 1).sum()),
            "wall_s": round(wall, 2), "per_point_s": round(wall / max(n, 1), 3),
            "sum_over_points_s": split,
            "mean_per_point_s": {k: round(v / max(n, 1), 3) for k, v in split.items()},
            "points_extracting": sum(1 for t in tm if t.get("extract", 0) > 0),
            "loadavg_before": [round(x, 2) for x in load0],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "dataset": res.dataset}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(tempfile.mkdtemp(prefix="sigint-sweep-bench-"))
    shutil.copy(ROOT / "channels" / "xsections" / "si_interposer_bus.yaml", folder / "bus.yaml")
    (folder / "ch.yaml").write_text(CHANNEL)
    (folder / "sweep.yaml").write_text(SWEEP)
    rows = []
    datasets = []
    for w in [int(x) for x in args.workers.split(",")]:
        row = run_once(w, folder)
        datasets.append(row.pop("dataset"))
        rows.append(row)
        print(json.dumps(row), flush=True)
    import xarray as xr

    for ds in datasets[1:]:
        xr.testing.assert_identical(ds, datasets[0])     # the same results, however run
    out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                       "python": sys.version.split()[0], "processor": platform.processor()},
           "sweep": "4 widths x 5 spaces x 5 lengths = 100 points, 20 cross-sections, 129 f",
           "runs": rows}
    base = next((r for r in rows if r["workers"] == 1), None)
    for r in rows:
        if base is not None and r is not base:
            r["speedup_vs_1_worker"] = round(base["wall_s"] / r["wall_s"], 2)
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
