"""Cascade and VTF kernels beside a concurrent CPU-busy process, BLAS threads default vs limited.

A script, not a suite (it needs processes started with controlled environments)::

    PYTHONPATH=. python bench/threads_busy.py [--freqs 401] [--out bench/results/threads-busy-cpu2.json]

Each measurement runs in a fresh child process whose environment leaves the BLAS thread
count to OpenBLAS (``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` removed), so that
``default`` reproduces what sigint did before it limited threads: the small-matrix kernels
run with OpenBLAS's default count (one per core), obtained here by setting
``SIGINT_SMALL_MATRIX_THREADS`` to the core count; ``limited`` is sigint's default (one
thread). The busy neighbour is one process multiplying 400 x 400 matrices with one BLAS
thread, stopped after the measurement (and bounded in time in any case). Kernels, on a
32-line bus (64 ports, physical RLGC from ``channels.bus_rlgc``):

* ``cascade``: ten 64-port sections cascaded (:func:`sigint.channel.lines.cascade_s`);
* ``star``: the same, through the batched :func:`~sigint.channel.lines.star_product`;
* ``vtf``: the terminated-network solves of all 32 victims
  (:func:`sigint.link.vtf.terminated_transfers`) on one 64-port line, at 5 x the frequencies.

Each time is the best of three runs; the slowdown is busy / idle. The load average of the
machine (shared with other work) is recorded before and after every measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BUSY = """
import time, numpy as np
a = np.random.default_rng(0).standard_normal((400, 400))
end = time.time() + {seconds}
while time.time() < end:
    a = np.tanh(a @ a)
"""


def _worker(kind: str, n_freq: int) -> None:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from channels import bus_rlgc
    from sigint.channel.lines import cascade_s, mtl_s, star_product
    from sigint.link.ports import LinkNetwork
    from sigint.link.txrx import Rx, Tx
    from sigint.link.vtf import terminated_transfers

    if kind == "vtf":
        n_freq *= 5               # one 64-port network: more frequencies for a longer run
    f = np.linspace(0, 40e9, n_freq)
    r, l, g, c = bus_rlgc(32, f)
    lengths = np.linspace(0.4e-3, 1.3e-3, 10)
    secs = [] if kind == "vtf" else [mtl_s(f, r, l, g, c, x, 50.0) for x in lengths]
    if kind == "cascade":
        def run():
            return cascade_s(secs)
    elif kind == "star":
        def run():
            out = secs[0]
            for s in secs[1:]:
                out = star_product(out, s)
            return out
    else:
        s = mtl_s(f, r, l, g, c, float(lengths.sum()), 50.0)
        ln = LinkNetwork(f, s, np.full(64, 50.0), np.arange(32), np.arange(32, 64),
                         [f"lane {i}" for i in range(32)], 1.0, False)
        tx, rx = Tx(r=30.0, c_pad=0.2e-12), Rx(c_pad=0.2e-12)

        def run():
            return terminated_transfers(ln, tx, rx)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"best_s": min(times), "times_s": times}))


def _measure(kind: str, mode: str, busy: bool, n_freq: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    ncpu = os.cpu_count() or 1
    env["SIGINT_SMALL_MATRIX_THREADS"] = str(ncpu if mode == "default" else 1)
    neighbour = None
    if busy:
        benv = dict(env, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        neighbour = subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=600)], env=benv)
        time.sleep(1.0)
    load0 = os.getloadavg()
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", kind, "--freqs", str(n_freq)],
                             env=env, capture_output=True, text=True, timeout=1800, check=True)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(kind=kind, mode=mode, busy=busy, load_before=load0, load_after=os.getloadavg(),
               small_matrix_threads=int(env["SIGINT_SMALL_MATRIX_THREADS"]))
    print(f"{kind:8s} {mode:8s} {'busy' if busy else 'idle':5s} {res['best_s']:8.3f} s  "
          f"load {load0[0]:.2f}", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=["cascade", "star", "vtf"])
    ap.add_argument("--freqs", type=int, default=401)
    ap.add_argument("--kinds", default="cascade,star,vtf")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    if a.worker:
        _worker(a.worker, a.freqs)
        return
    rows = []
    for kind in a.kinds.split(","):
        for mode in ("default", "limited"):
            for busy in (False, True):
                rows.append(_measure(kind, mode, busy, a.freqs))
    summary = {}
    for kind in a.kinds.split(","):
        for mode in ("default", "limited"):
            t = {r["busy"]: r["best_s"] for r in rows if r["kind"] == kind and r["mode"] == mode}
            summary[f"{kind}/{mode}"] = {"idle_s": t[False], "busy_s": t[True],
                                         "slowdown": t[True] / t[False]}
            print(f"{kind}/{mode}: idle {t[False]:.3f} s, busy {t[True]:.3f} s, "
                  f"slowdown {t[True] / t[False]:.2f}x")
    doc = {"cpu_count": os.cpu_count(), "n_freq": a.freqs, "rows": rows, "summary": summary,
           "note": "shared machine: other work ran at the same time (see the load averages)"}
    if a.out:
        a.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
