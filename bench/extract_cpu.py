"""Wall time and peak memory of `sigint extract` on the CPU, and the scaling with bus width.

A script, not a suite (each run is a fresh process with a fresh extraction cache)::

    PYTHONPATH=. python bench/extract_cpu.py [--signals 16,32] [--files a.yaml,b.yaml]
        [--freq 1MHz:100GHz:201] [--threads 1] [--out bench/results/extract-cpu-cpu2.json]

``--compare F.yaml[@FMAX],...`` solves the filament system of each file in-process with
every filament an unknown and with the reduced basis (:mod:`sigint.extract.reduced`) and
records the largest relative deviation of R and L over 201 frequencies and at DC, with
both setup times; ``--basis full|reduced`` forces the unknowns of both solvers for the
timed runs (``sigint extract --basis``).

``--accuracy F.yaml`` instead extracts F at refine 1 and at refine 2 (in-process) and
records the largest relative deviation of R and L (diagonal and whole matrix) at every
frequency: the mesh error of the default extraction against the finer reference.

``--surface F.yaml[@FMAX],...`` checks the surface formulation (:mod:`sigint.extract.surface`)
against the volume solution: R and L of F from ``SurfaceSolver`` (filaments below its
crossover) and from the filament solver at refine 1 and refine 2 (the reference), at 201
log-spaced frequencies from 1 MHz to FMAX, in-process; it records the largest deviation
from the reference at every frequency (whole matrix, relative to its largest entry; and
the diagonal, entry by entry), where it is largest, the step at the crossover, the
unknowns and the times. ``--scaling F.yaml`` times both formulations (in-process, 41
frequencies) at top frequencies of 100 GHz, 300 GHz and 1 THz: the unknowns of the surface
grow with log(thickness / skin depth) per corner, the filaments' with its square.

``--tsv 3,5,8`` makes N x N variants of the shipped TSV array
(``channels/xsections/tsv_array_3x3.yaml``, checkerboard of signals and grounds) and times
them as ``--files`` does (their R and L by multipole expansion under ``auto``; ``--basis
full`` meshes filaments).

``--signals`` makes variants of the shipped 16-signal interposer bus
(``channels/xsections/si_interposer_bus16.yaml``) with N shielded signals (pattern
G(SG)^N, the ground plane widened with the bus) in a temporary directory; the exponent of
time and of peak memory against N are fitted over the sizes run. ``--files`` times shipped cross-sections as
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


TSV = ROOT / "channels" / "xsections" / "tsv_array_3x3.yaml"


def tsv_variant(n: int, directory: Path) -> Path:
    """The shipped TSV array with n x n vias (same pitch, radius and liner), signals and
    grounds alternating as on a checkerboard."""
    doc = yaml.safe_load(TSV.read_text())
    doc["name"] = f"{n} x {n} TSV array"
    arr = doc["tsv_arrays"][0]
    arr["rows"] = arr["cols"] = n
    arr["pattern"] = ["".join("G" if (i + j) % 2 == 0 else "S" for j in range(n))
                      for i in range(n)]
    path = directory / f"tsv_array_{n}x{n}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_extract(path: Path, freq: str, threads: int, refine: float = 1.0,
                filaments: str = "auto") -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               SIGINT_QUIET="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cache:
        env["SIGINT_CACHE"] = cache
        out = Path(cache) / "rlgc.nc"
        load0 = os.getloadavg()
        rss = Path(cache) / "rss"
        t0 = time.perf_counter()
        # GNU time's %M: the peak resident set of this child alone, kB; %U %S its CPU time
        # (user, system), less sensitive than the wall time to other work on the machine
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(rss), sys.executable, "-m",
                        "sigint.cli", "extract", str(path), "--freq", freq, "--out", str(out),
                        "--refine", f"{refine:g}", "--basis", filaments, "--json"],
                       env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        stages = json.loads(proc.stdout).get("timings_s", {})
        user_s, sys_s, peak_kb = (float(v) for v in rss.read_text().split()[-3:])
    row = {"file": path.name, "freq": freq, "refine": refine, "filaments": filaments,
           "blas_threads": threads,
           "wall_s": round(wall, 2), "cpu_s": round(user_s + sys_s, 2),
           "peak_rss_mb": round(peak_kb / 1024, 1),
           "stages_s": {k: round(float(v), 2) for k, v in stages.items()},
           "load_before": load0, "load_after": os.getloadavg()}
    print(json.dumps(row), flush=True)
    return row


def accuracy(path: Path, freq: str) -> dict:
    """Largest relative deviation of R and L at refine 1 from refine 2, per frequency."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sigint.extract.rlgc import extract

    res = {r: extract(path, freq, refine=r) for r in (1.0, 2.0)}
    out = {"file": path.name, "freq": freq, "filaments": {}, "wall_s": {}}
    for r, x in res.items():
        out["filaments"][f"refine {r:g}"] = x.peec_unknowns
        out["wall_s"][f"refine {r:g}"] = round(x.timings["total"], 2)
    for name in ("r", "l"):
        a, b = getattr(res[1.0], name), getattr(res[2.0], name)
        diag = np.abs(np.diagonal(a, 0, 1, 2) / np.diagonal(b, 0, 1, 2) - 1).max(axis=1)
        whole = np.abs(a - b).max(axis=(1, 2)) / np.abs(b).max(axis=(1, 2))
        k = int(diag.argmax())
        out[name.upper()] = {"max_rel_diag": float(diag.max()), "at_hz": float(res[1.0].f[k]),
                             "max_rel_matrix": float(whole.max()),
                             "per_frequency_rel_diag": [float(x) for x in diag]}
    print(json.dumps({k: v for k, v in out.items() if k not in ("R", "L")}
                     | {n: {k: v for k, v in out[n].items() if k != "per_frequency_rel_diag"}
                        for n in ("R", "L")}), flush=True)
    return out


def compare(path: Path, f_max: float, n_freq: int = 201) -> dict:
    """R and L of the reduced-basis filament solver against the full filament solution
    (same mesh, every filament an unknown): largest deviation relative to the largest
    entry at each of *n_freq* log-spaced frequencies, DC included, and the setup times."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sigint.extract.peec import PeecSolver
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(path))
    f = np.geomspace(1e6, f_max, n_freq)
    out = {"file": path.name, "f_max_hz": f_max, "frequencies": n_freq}
    z = {}
    for method in ("full", "reduced"):
        t0 = time.perf_counter()
        s = PeecSolver(geo, f_max, method=method)
        out[f"{method}_setup_s"] = round(time.perf_counter() - t0, 2)
        z[method] = (s.solve(f), s.dc())
        out[f"{method}_unknowns"] = int(s.lam.size)
        if s.reduced:
            out["clusters"] = s.reduced["clusters"]
            out["mirror"] = s.reduced["mirror"]
    (zf, (rf, lf)), (zr, (rr, lr)) = z["full"], z["reduced"]

    def rel(a, b):
        return float((np.abs(a - b).max(axis=(1, 2)) / np.abs(b).max(axis=(1, 2))).max())

    out["max_rel_R"] = rel(zr.real, zf.real)
    out["max_rel_L"] = rel(zr.imag, zf.imag)      # omega L: the same ratio at each f
    out["dc_rel_R"] = float(np.abs(rr - rf).max() / np.abs(rf).max())
    out["dc_rel_L"] = float(np.abs(lr - lf).max() / np.abs(lf).max())
    print(json.dumps(out), flush=True)
    return out


def _rel(a, b):
    """Largest deviation over the largest entry, and the largest entry-by-entry deviation of
    the diagonal, at each frequency: arrays (F,)."""
    import numpy as np

    whole = np.abs(a - b).max(axis=(1, 2)) / np.abs(b).max(axis=(1, 2))
    diag = np.abs(np.diagonal(a, 0, 1, 2) / np.diagonal(b, 0, 1, 2) - 1).max(axis=1)
    return whole, diag


def surface_check(path: Path, f_max: float, n_freq: int = 201) -> dict:
    """The surface solver and refine-1 filaments against refine-2 filaments (see above)."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sigint.extract.peec import PeecSolver
    from sigint.extract.surface import SurfaceSolver
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(path))
    f = np.geomspace(1e6, f_max, n_freq)
    out: dict = {"file": path.name, "f_max_hz": f_max, "frequencies": n_freq}
    z = {}
    for name, make in (("surface", lambda: SurfaceSolver(geo, f_max)),
                       ("filaments refine 1", lambda: PeecSolver(geo, f_max, method="full")),
                       ("filaments refine 2", lambda: PeecSolver(geo, f_max, 2.0, method="full"))):
        t0 = time.perf_counter()
        s = make()
        z[name] = s.solve(f)
        out[name] = {"wall_s": round(time.perf_counter() - t0, 2), "unknowns": int(s.unknowns)}
        if isinstance(s, SurfaceSolver):
            out[name] |= {"crossover_hz": s.f_cross, "filaments_below": int(s.fil.n),
                          "sampled_frequencies": s.sampled,
                          "interpolation_error_estimate": s.interpolation_error}
            cross = s.f_cross
    ref = z["filaments refine 2"]
    for name in ("surface", "filaments refine 1"):
        for q, part in (("R", np.real), ("L", np.imag)):
            whole, diag = _rel(part(z[name]), part(ref))
            k = int(whole.argmax())
            out[name][q] = {"max_rel_matrix": float(whole.max()), "at_hz": float(f[k]),
                            "max_rel_diag": float(diag.max()),
                            "per_frequency_rel_matrix": [float(x) for x in whole]}
    # the deviation from the reference at the last frequency below the crossover
    # (filaments) and the first above it (surface equations)
    k = int(np.searchsorted(f, cross, side="right"))
    out["surface"]["at_crossover"] = {
        q: {"below_hz": float(f[k - 1]), "above_hz": float(f[k]),
            "rel_below": out["surface"][q]["per_frequency_rel_matrix"][k - 1],
            "rel_above": out["surface"][q]["per_frequency_rel_matrix"][k]}
        for q in ("R", "L")}
    print(json.dumps({n: ({k2: v2 for k2, v2 in out[n].items() if k2 not in ("R", "L")}
                          | {q: {k3: v3 for k3, v3 in out[n][q].items()
                                 if not k3.startswith("per_")} for q in ("R", "L")})
                      if isinstance(out[n], dict) and "R" in out[n] else out[n] for n in out}),
          flush=True)
    return out


def scaling(path: Path) -> list[dict]:
    """Unknowns and time of both formulations at rising top frequencies (see above)."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sigint.extract.peec import PeecSolver
    from sigint.extract.surface import SurfaceSolver
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    geo = resolve(load_cross_section(path))
    rows = []
    for f_max in (1e11, 3e11, 1e12):
        f = np.geomspace(1e9, f_max, 41)
        row: dict = {"file": path.name, "f_max_hz": f_max}
        z = {}
        for name, make in (("surface", lambda fm=f_max: SurfaceSolver(geo, fm)),
                           ("filaments", lambda fm=f_max: PeecSolver(geo, fm, method="full"))):
            t0 = time.perf_counter()
            s = make()
            z[name] = s.solve(f)
            row[name] = {"wall_s": round(time.perf_counter() - t0, 2),
                         "unknowns": int(s.unknowns)}
        whole, _ = _rel(z["surface"].real, z["filaments"].real)
        row["surface_vs_filaments_max_rel_R"] = float(whole.max())
        whole, _ = _rel(z["surface"].imag, z["filaments"].imag)
        row["surface_vs_filaments_max_rel_L"] = float(whole.max())
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", default="")
    ap.add_argument("--files", default="")
    ap.add_argument("--freq", default="1MHz:100GHz:201")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--refine", type=float, default=1.0)
    ap.add_argument("--accuracy", type=Path)
    ap.add_argument("--tsv", default="", help="N,N,...: N x N variants of the TSV array")
    ap.add_argument("--basis", dest="filaments", default="auto",
                    choices=["auto", "full", "reduced", "multipole", "surface"])
    ap.add_argument("--surface", default="",
                    help="FILE[@FMAX_HZ],...: surface formulation vs filaments in-process")
    ap.add_argument("--scaling", type=Path,
                    help="FILE: both formulations at 100 GHz, 300 GHz and 1 THz")
    ap.add_argument("--compare", default="",
                    help="FILE[@FMAX_HZ],...: reduced vs full filament solution in-process")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.accuracy:
        doc = accuracy(a.accuracy, a.freq)
        doc["note"] = "shared machine: other work ran at the same time"
        if a.out:
            a.out.write_text(json.dumps(doc, indent=1) + "\n")
        return
    if a.surface or a.scaling:
        os.environ.setdefault("SIGINT_QUIET", "1")
        doc = {"load_before": os.getloadavg()}
        if a.surface:
            doc["rows"] = []
            for item in a.surface.split(","):
                name, _, fm = item.partition("@")
                doc["rows"].append(surface_check(Path(name), float(fm or 100e9)))
        if a.scaling:
            doc["scaling"] = scaling(a.scaling)
        doc["load_after"] = os.getloadavg()
        if a.out:
            a.out.write_text(json.dumps(doc, indent=1) + "\n")
        return
    if a.compare:
        os.environ.setdefault("SIGINT_QUIET", "1")
        rows = []
        for item in a.compare.split(","):
            name, _, fm = item.partition("@")
            rows.append(compare(Path(name), float(fm or 100e9)))
        doc = {"rows": rows, "note": "shared machine: other work ran at the same time"}
        if a.out:
            a.out.write_text(json.dumps(doc, indent=1) + "\n")
        return
    rows = []
    for f in filter(None, a.files.split(",")):
        rows.append(run_extract(Path(f), a.freq, a.threads, a.refine, a.filaments))
    sizes = [int(s) for s in a.signals.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in a.tsv.split(",") if s]:
            r = run_extract(tsv_variant(n, Path(tmp)), a.freq, a.threads, a.refine, a.filaments)
            r["vias"] = n * n
            rows.append(r)
        for n in sizes:
            r = run_extract(bus_variant(n, Path(tmp)), a.freq, a.threads, a.refine, a.filaments)
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
        zs = [math.log(r["peak_rss_mb"]) for r in scal]
        mz = sum(zs) / len(zs)
        doc["peak_rss_exponent_in_n"] = (sum((x - mx) * (z - mz) for x, z in zip(xs, zs))
                                         / sum((x - mx) ** 2 for x in xs))
        cs = [math.log(r["cpu_s"]) for r in scal]
        mc = sum(cs) / len(cs)
        doc["cpu_time_exponent_in_n"] = (sum((x - mx) * (c - mc) for x, c in zip(xs, cs))
                                         / sum((x - mx) ** 2 for x in xs))
        print(f"time ~ N^{doc['time_exponent_in_n']:.2f} "
              f"(CPU time ~ N^{doc['cpu_time_exponent_in_n']:.2f}), "
              f"peak memory ~ N^{doc['peak_rss_exponent_in_n']:.2f}")
    if a.out:
        a.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
