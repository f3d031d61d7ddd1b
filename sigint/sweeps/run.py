"""Running a sweep: every point on Dask (or in this process), written to Zarr as it finishes.

The store is created before the first point runs, holding the whole Dataset: coordinates,
the parameters, every result filled with NaN and a ``status`` per point (0 pending, 1 done,
2 failed, 3 skipped by a constraint). Each finished point is written into it at once:
its results first, its ``status`` last. Zarr's local store writes every chunk to a
temporary file and renames it into place, so a chunk is always either the old or the new
one. A sweep killed at any moment therefore leaves a store whose points with status 1 or
2 are complete; ``--resume`` computes the others and ends with the same Dataset as a run
that was never stopped (a point killed between its results and its status is computed
again, to the same bits: the computation of a point depends only on its channel, and BLAS
is pinned to one thread in every worker).

A point's results are the worst lane's (:data:`sigint.sweeps.spec.OUTPUTS`). A point that
fails (a geometry the solver refuses, a channel the model rejects) gets status 2 and its
one-sentence reason in ``message``; the sweep goes on.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, SigintError
from .spec import OUTPUTS, TEXT_OUTPUTS, Sweep

__all__ = ["evaluate_point", "run_sweep", "SweepRun", "PENDING", "DONE", "FAILED", "SKIPPED"]

PENDING, DONE, FAILED, SKIPPED = 0, 1, 2, 3
STATUS_MEANING = "0 pending, 1 done, 2 failed (see message), 3 skipped (breaks a constraint)"


# ---------------------------------------------------------------------------- one point
def evaluate_point(task: dict) -> dict:
    """Build one point's channel and analyse it (runs on a Dask worker or in this process).

    Parameters
    ----------
    task : dict
        ``index`` (flat point index), ``channel`` (the channel file's data with the point's
        values), ``base_dir`` (for relative file names), ``source`` (for messages),
        ``settings`` (spec, package, ber, eye_rate, eye criteria, exhaustive).

    Returns
    -------
    dict
        ``index``, ``status`` (1 done, 2 failed), ``message``, ``values`` (every
        :data:`~sigint.sweeps.spec.OUTPUTS` entry, SI or as its unit says), ``text``
        (``limited_by``), ``timings`` (extract, build, analysis seconds; not stored).
    """
    from ..threads import one_thread, pinned_blas

    t0 = time.perf_counter()
    out: dict[str, Any] = {"index": task["index"], "status": FAILED, "message": "",
                           "values": {}, "text": {"limited_by": ""},
                           "timings": {"extract": 0.0, "build": 0.0, "analysis": 0.0}}
    try:
        with pinned_blas(1), one_thread():
            _evaluate(task, out)
        out["status"] = DONE
    except SigintError as exc:
        out["message"] = str(exc)
    except Exception as exc:    # noqa: BLE001 - one point's failure must not stop the sweep
        text = " ".join(str(exc).split()) or "no message"
        out["message"] = f"{type(exc).__name__}: {text}"
    out["timings"]["total"] = time.perf_counter() - t0
    return out


def _evaluate(task: dict, out: dict) -> None:
    from ..analysis.analyze import AnalysisOptions
    from ..analysis.lanes import evaluate_lanes
    from ..analysis.rate import search_continuous, search_rates, spec_rates
    from ..api import link_settings, prepare_built
    from ..channel.build import build_channel, grid_for_rate
    from ..channel.schema import Channel
    from ..schema import validate

    st = task["settings"]
    src = f"{task['source']} (point {task['index']})"
    t0 = time.perf_counter()
    from ..backend import get_backend

    be = get_backend(st.get("backend", "numpy"))
    ch = validate(Channel, task["channel"], source=src)
    top = _top_rate(st)
    if top is not None:               # the grid the rate search needs, as `sigint rate` builds
        ch, _ = grid_for_rate(ch, top, src)
    built = build_channel(ch, Path(task["base_dir"]), source=src, backend=be, use_cache=True)
    extract = sum(s.seconds for s in built.segments if not s.cached and s.kind != "touchstone")
    t1 = time.perf_counter()
    out["timings"]["extract"] = extract
    out["timings"]["build"] = (t1 - t0) - extract
    given = {"bits": 0, "spec": st["spec"], "package": st["package"]}
    if st.get("ber") is not None:
        given["ber"] = st["ber"]
    opts, tx, rx = link_settings(built, options=given)
    eye_rate = st.get("eye_rate") or ch.link.rate
    opts = validate(AnalysisOptions, dict(opts, rate=eye_rate), source=src)
    link = prepare_built(built, backend=be)
    models = {"tx_overrides": tx, "rx_overrides": rx}
    up_to = st.get("up_to")
    # one point per worker process already: the lanes of a point run one after another
    if st["spec"] == "none":
        search = search_continuous(link, opts, eye_height=st["eye_height"],
                                   eye_width=st["eye_width"], stop=up_to, threads=1, **models)
    elif opts.spec_file().continuous:
        search = search_continuous(link, opts, stop=up_to, threads=1, **models)
    else:
        rates = None
        if up_to is not None:
            rates = tuple(r for r in spec_rates(opts.spec, opts.package) if r <= up_to * (1 + 1e-9))
        search = search_rates(link, opts, rates=rates, exhaustive=bool(st.get("exhaustive")),
                              threads=1, **models)
    max_rate = float(search.max_rate or 0.0)
    lim = search.limiting
    top = max((r.rate for r in search.rows), default=max_rate)
    out["text"]["limited_by"] = (
        f"none up to {top / 1e9:g} GT/s" if lim is None or lim["check"] is None else
        f"check {lim['check']} fails at {lim['rate_gbps']:g} GT/s")
    row = next((r for r in search.rows if r.rate == eye_rate and r.lanes.complete), None)
    lanes = row.lanes if row is not None else evaluate_lanes(
        link, opts.model_copy(update={"rate": eye_rate, "bits": 0}), threads=1, **models)
    tab = lanes.table()

    def worst(key: str, fn) -> float:
        vals = [t[key] for t in tab if t[key] is not None]
        return float(fn(vals)) if vals else math.nan

    v = out["values"]
    v["max_rate"] = max_rate
    if max_rate > 0:
        d = built.density(max_rate)
        v["density_edge"], v["density_area"] = float(d["gbps_per_mm"]), float(d["gbps_per_mm2"])
    else:
        v["density_edge"] = v["density_area"] = 0.0
    v["eye_height"] = worst("eye_height_v", min)
    v["eye_width"] = worst("eye_width_ui", min)
    v["eye_margin"] = worst("eye_mask_margin_v", min)
    v["vtf_loss_fn"] = worst("vtf_loss_db_at_nyquist", min)
    v["vtf_xt"] = worst("vtf_xt_db_worst", max)
    fig = built.lane_figures([eye_rate / 2])
    v["insertion_loss_fn"] = float(max(x[0] for x in fig["insertion_loss_db"]))
    v["fext_fn"] = float(max(x[0] for x in fig["worst_fext_db"]))
    v["next_fn"] = float(max(x[0] for x in fig["worst_next_db"]))
    delays = np.asarray(fig["delay_s"], dtype=float)
    v["delay"] = float(delays.max())
    v["skew"] = float(delays.max() - delays.min())
    out["timings"]["analysis"] = time.perf_counter() - t1


# ---------------------------------------------------------------------------- the store
def _chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One chunk for sweeps up to 4096 points; beyond, chunks along the last dimension."""
    if int(np.prod(shape)) <= 4096:
        return tuple(shape)
    return tuple([1] * (len(shape) - 1) + [min(shape[-1], 4096)])


def _initial(pt) -> int:
    """A point's status before it runs: failed (its expressions cannot be computed),
    skipped (it breaks a constraint) or pending."""
    return FAILED if pt.failed else SKIPPED if pt.skipped else PENDING


def skeleton(sw: Sweep):
    """The Dataset of *sw* before any point ran (results NaN, status pending/skipped)."""
    import xarray as xr

    shape, dims = sw.shape, sw.dims
    coords: dict[str, Any] = {}
    data: dict[str, Any] = {}

    def attrs(p) -> dict:
        a = {"units": p.unit, "path": ", ".join(getattr(p, "paths", [])) or "(none)"}
        if p.display[0]:
            a["display_units"], a["display_scale"] = p.display[0], p.display[1]
        if p.expr is not None:
            a["expression"] = p.expr.text
        return a

    def arr(values, dtype=None):
        return np.asarray(values, dtype=dtype)

    if sw.is_grid:
        for p in sw.params:
            coords[p.name] = (p.name, arr(p.values, object if p.kind == "text" else float), attrs(p))
    else:
        coords["point"] = ("point", np.arange(shape[0]))
        for p in sw.params:
            vals = [pt.values[p.name] for pt in sw.points]
            data[p.name] = (dims, arr(vals, object if p.kind == "text" else float), attrs(p))
    for c in sw.coupled:
        vals = np.array([pt.values[c.name] for pt in sw.points], dtype=float).reshape(shape)
        data[c.name] = (dims, vals, attrs(c))
    for name, (unit, long) in OUTPUTS.items():
        data[name] = (dims, np.full(shape, np.nan), {"units": unit, "long_name": long})
    status = np.array([_initial(pt) for pt in sw.points], dtype=np.int8).reshape(shape)
    data["status"] = (dims, status, {"long_name": STATUS_MEANING})
    msg = np.array([pt.failed or pt.skipped for pt in sw.points], dtype=object).reshape(shape)
    data["message"] = (dims, msg, {"long_name": TEXT_OUTPUTS["message"]})
    data["limited_by"] = (dims, np.full(shape, "", dtype=object),
                          {"long_name": TEXT_OUTPUTS["limited_by"]})
    data["pareto"] = (dims, np.zeros(shape, np.int8),
                      {"long_name": f"1 on the Pareto front of {sw.file.pareto.density} (max) and "
                                    f"{sw.file.pareto.objective} ({sw.file.pareto.goal})"})
    st = sw.settings
    ds = xr.Dataset(data, coords=coords)
    from .._version import __version__

    ds.attrs.update({
        "title": sw.file.name, "description": sw.file.description, "base": sw.file.base,
        "design": "grid" if sw.is_grid else "latin hypercube",
        "spec": st["spec"], "package": st["package"],
        "eye_rate": "the channel's link rate" if st.get("eye_rate") is None else
        f"{st['eye_rate'] / 1e9:g} GT/s",
        "pareto_density": sw.file.pareto.density, "pareto_objective": sw.file.pareto.objective,
        "pareto_goal": sw.file.pareto.goal,
        "sweep": sw.file.model_dump_json(), "fingerprint": sw.fingerprint(),
        "fingerprint_parts": json.dumps(sw.fingerprint_parts()),
        "sigint_version": __version__, "complete": 0,
    })
    return ds


def _create(sw: Sweep, path: Path) -> None:
    ds = skeleton(sw)
    ch = _chunks(sw.shape)
    enc = {k: {"chunks": ch} for k in ds.data_vars}
    ds.to_zarr(path, mode="w", consolidated=False, encoding=enc)
    consolidate(path)


def consolidate(path: Path) -> None:
    """Write the store's consolidated metadata (one read opens it; ``xr.open_zarr(path)``
    then gives no warning). Zarr 3 warns that consolidated metadata is not yet in the v3
    specification; it is only an index of the metadata already in the store."""
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        zarr.consolidate_metadata(str(path))


def _is_store(path: Path) -> bool:
    """Whether *path* is a sweep store: a Zarr group carrying this module's marker
    attributes (``fingerprint`` and ``sweep``)."""
    import zarr

    if not path.is_dir() or not (path / "zarr.json").is_file():
        return False
    try:
        attrs = dict(zarr.open_group(str(path), mode="r").attrs)
    except Exception:         # noqa: BLE001 - not a Zarr group of ours
        return False
    return "fingerprint" in attrs and "sweep" in attrs


def _protected(sw: Sweep) -> list[tuple[Path, str]]:
    """Files a sweep reads: never replaced by ``--overwrite``."""
    out = [(sw.base_path.resolve(), "its base channel file")]
    if sw.sweep_path is not None:
        out.append((Path(sw.sweep_path).resolve(), "the sweep file"))
    out += [(Path(f).resolve(), "a cross-section file of the base channel")
            for f in getattr(sw, "xsection_files", [])]
    return out


def check_out(sw: Sweep, path: Path, *, resume: bool, overwrite: bool) -> str:
    """What to do with the store at *path* -- ``"resume"``, ``"create"`` or ``"replace"`` --
    decided without touching anything.

    Raises
    ------
    InputError
        For a path that is (or holds) one of the sweep's own files, something that is not
        a sweep store (``--overwrite`` replaces only a sweep store), a store of another
        sweep, or a folder that cannot be written.
    """
    import zarr

    where = Path(path).resolve() if Path(path).exists() or Path(path).parent.exists() else Path(path)
    for f, what in _protected(sw):
        if f == where or where in f.parents:
            raise InputError(f"--out {path}: {'is' if f == where else 'holds'} {what} ({f}); "
                             "give another --out, e.g. the sweep file's name with .zarr")
    exists = path.exists() or path.is_symlink()
    if exists:
        store = _is_store(path)
        if not store:
            kind = "a file" if path.is_file() else "a folder" if path.is_dir() else "something"
            raise InputError(f"--out {path}: is {kind} that is not a sweep store (no sweep "
                             "fingerprint in it); --overwrite and --resume only take a sweep "
                             "store, so give another --out or remove it yourself")
        if resume:
            attrs = dict(zarr.open_group(str(path), mode="r").attrs)
            if attrs.get("fingerprint") != sw.fingerprint():
                raise InputError(f"--out {path}: holds a different sweep ("
                                 f"{_what_changed(attrs, sw)} changed since it was written); "
                                 "give another --out, or --overwrite to start again")
            return "resume"
        if not overwrite:
            raise InputError(f"--out {path}: exists; give --resume to continue that sweep or "
                             "--overwrite to start again")
        return "replace"
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: the folder {path.parent} does not exist; create it or "
                         "give another --out")
    if not writable(path.parent):
        raise InputError(f"--out {path}: the folder {path.parent} cannot be written; give "
                         "another --out")
    return "create"


def writable(folder: Path) -> bool:
    """Whether a folder can be created in *folder* (tried: permissions alone do not tell,
    e.g. as root in ``/proc``); the probe is removed at once."""
    import tempfile

    try:
        probe = tempfile.mkdtemp(prefix=".sigint-probe-", dir=folder)
    except OSError:
        return False
    os.rmdir(probe)
    return True


def _what_changed(attrs: dict, sw: Sweep) -> str:
    try:
        old = json.loads(attrs.get("fingerprint_parts", ""))
    except (TypeError, ValueError):
        old = None
    if not isinstance(old, dict):
        return "the sweep file, its base channel, a cross-section or sigint's solvers"
    new = sw.fingerprint_parts()
    names = [k for k in new if old.get(k) != new[k]]
    return " and ".join(names) or "something"


def _open_for(sw: Sweep, path: Path, *, resume: bool, overwrite: bool,
              action: str | None = None):
    """The store's group, created or checked; raises InputError before any work."""
    import zarr

    action = action or check_out(sw, path, resume=resume, overwrite=overwrite)
    if action == "resume":
        return zarr.open_group(str(path), mode="r+")
    if action == "replace":
        if not _is_store(path):        # checked again just before the only removal
            raise InputError(f"--out {path}: is not a sweep store; give another --out")
        shutil.rmtree(path)
    _create(sw, path)
    return zarr.open_group(str(path), mode="r+")


def _write(g, sw: Sweep, res: dict) -> None:
    """One finished point into the store: results first, status last."""
    idx = np.unravel_index(int(res["index"]), sw.shape)
    for name in OUTPUTS:
        g[name][idx] = res["values"].get(name, math.nan)
    g["limited_by"][idx] = res["text"].get("limited_by", "")
    g["message"][idx] = res["message"]
    g["status"][idx] = res["status"]


def open_dataset(path: str | Path):
    """The sweep store as an in-memory :class:`xarray.Dataset`."""
    import xarray as xr

    with xr.open_zarr(path, consolidated=False) as ds:
        return ds.load()


# ---------------------------------------------------------------------------- execution
@dataclass
class SweepRun:
    """A finished (or resumed) sweep.

    Attributes
    ----------
    dataset : xarray.Dataset
        Every point's parameters and results (the store's contents).
    store : Path or None
        The Zarr store (None when the sweep ran in a temporary one).
    computed : int
        Points computed in this run (done or failed).
    failed : int
        Points whose evaluation failed (in the whole store).
    skipped : int
        Points skipped (in the whole store).
    already : int
        Points found already done in the store (a resumed sweep).
    wall : float
        Wall time of the run, s.
    timings : list of dict
        Per point computed: ``index``, ``status`` and seconds per stage (``extract``,
        ``build``, ``analysis``, ``total``).
    workers : int
        Dask workers used (0: this process).
    scheduler : str
        Where the points ran.
    """

    dataset: Any
    store: Path | None
    computed: int
    failed: int
    skipped: int
    already: int
    wall: float
    timings: list[dict] = field(default_factory=list)
    workers: int = 0
    scheduler: str = "this process"


def _order(sw: Sweep, tasks: list[dict]) -> list[dict]:
    """Points of different extractions first (round robin over the groups of points that
    share every cross-section), so that workers do not extract the same one at once."""
    groups: dict[str, list[dict]] = {}
    for t in tasks:
        ch = json.loads(json.dumps(t["channel"], default=str))
        ch.pop("link", None)
        for seg in ch.get("segments", []):
            if isinstance(seg, dict) and seg.get("type") == "trace":
                seg.pop("length", None)
        key = hashlib.sha256(json.dumps(ch, sort_keys=True).encode()).hexdigest()
        groups.setdefault(key, []).append(t)
    out = []
    lists = list(groups.values())
    for k in range(max((len(x) for x in lists), default=0)):
        out += [x[k] for x in lists if k < len(x)]
    return out


def run_sweep(sw: Sweep, out: str | Path | None = None, *, resume: bool = False,
              overwrite: bool = False, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True) -> SweepRun:
    """Run every pending point of *sw* and return the Dataset read back from the store.

    Parameters
    ----------
    sw : Sweep
        From :func:`sigint.sweeps.spec.load_sweep`.
    out : str or Path, optional
        The Zarr store (a folder); default a temporary one, removed afterwards.
    resume : bool
        Continue the sweep in *out* (it must hold this very sweep: its fingerprint).
    overwrite : bool
        Replace *out* if it exists.
    workers : int, optional
        Dask local cluster size (processes, one thread each); default the machine's cores;
        0 runs the points one after another in this process, without Dask.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); checked (a refused
        connection fails at once) before *out* is touched; *workers* must then be None.
        Its workers need sigint installed and, to share extractions, the same
        ``SIGINT_CACHE`` folder (else each extracts for itself).

    Returns
    -------
    SweepRun

    Raises
    ------
    InputError
        Before any work and before *out* is touched: a store that exists (without
        resume/overwrite), holds another sweep, or is not a sweep store at all (never
        removed); an *out* that is one of the sweep's own files or cannot be written; a
        scheduler address that is malformed or where no scheduler answers; *workers* given
        with *scheduler*.
    """
    import tempfile

    from .. import progress as tasks_
    from .pareto import pareto_mask

    t_start = time.perf_counter()
    tmp = None
    path = None if out is None else Path(out)
    if scheduler is not None and workers is not None:
        raise InputError(f"--workers {workers} with --scheduler {scheduler}: the cluster behind "
                         "the scheduler decides the workers; leave --workers out")
    if scheduler is not None:
        check_scheduler(scheduler)
    # everything about --out is decided before any work and before anything is written
    action = "create" if path is None else check_out(sw, path, resume=resume,
                                                      overwrite=overwrite)
    if action == "create" and resume and path is not None:
        if progress:
            _note(f"sigint: note: --out {path} does not exist yet; --resume starts the sweep "
                  "from the beginning")
    if action == "resume":
        import zarr

        status = np.asarray(zarr.open_group(str(path), mode="r")["status"][...]).reshape(-1)
    else:
        status = np.array([_initial(pt) for pt in sw.points])
    todo = [pt for pt in sw.points if status[pt.index] == PENDING]
    already = int(np.sum((status == DONE) | (status == FAILED)))
    base_dir = str(sw.base_path.parent.resolve())
    tasks = [{"index": pt.index, "channel": _plain(sw.channel_data(pt)), "base_dir": base_dir,
              "source": sw.source, "settings": sw.settings} for pt in todo]
    tasks = _order(sw, tasks)
    counts = {"done": 0, "failed": 0}
    timings: list[dict] = []
    n_workers = 0
    where = "this process"
    conn = None
    if tasks and not (scheduler is None and workers == 0):
        _check_main_module()
        conn = _connect(workers=workers, scheduler=scheduler, n_tasks=len(tasks))
        where = conn[2]
    try:
        if path is None:            # a temporary store, made only once nothing can refuse
            tmp = tempfile.mkdtemp(prefix="sigint-sweep-")
            path = Path(tmp) / "sweep.zarr"
        g = _open_for(sw, path, resume=resume, overwrite=overwrite, action=action)
        with tasks_.task("points", total=len(tasks)) as job:
            def finished(res: dict) -> None:
                if res["status"] != PENDING:     # PENDING: its worker was lost; --resume retries it
                    _write(g, sw, res)
                counts["done" if res["status"] == DONE else "failed"] += 1
                timings.append(dict(res["timings"], index=res["index"], status=res["status"]))
                job.advance()
                text = f"{counts['done']} done, {counts['failed']} failed"
                if res["status"] == FAILED:
                    text += f" (point {res['index']}: {res['message'][:120]})"
                tasks_.stage(text)

            if conn is None:
                for t in tasks:
                    # the stage names the point and the counts, so that the lines of the
                    # point's own steps (extraction, build) still say where the sweep is
                    tasks_.stage(f"point {t['index']} ({counts['done']} done, "
                                 f"{counts['failed']} failed of {len(tasks)})")
                    finished(evaluate_point(t))
            else:
                tasks_.stage(f"{len(tasks)} points sent to {where}; the first ones extract "
                             "their cross-sections (the cache then serves the others)")
                n_workers = _dask(tasks, finished, conn[0])
    finally:
        if conn is not None:
            conn[0].close()
            if conn[1] is not None:
                conn[1].close()
    ds = open_dataset(path)
    mask = pareto_mask(ds, sw.file.pareto.density, sw.file.pareto.objective, sw.file.pareto.goal)
    g["pareto"][...] = mask.astype(np.int8)
    if not (np.asarray(g["status"][...]) == PENDING).any():
        g.attrs["complete"] = 1
    consolidate(path)
    ds = open_dataset(path)
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    st = ds["status"].values
    return SweepRun(dataset=ds, store=None if tmp else path,
                    computed=counts["done"] + counts["failed"], failed=int((st == FAILED).sum()),
                    skipped=int((st == SKIPPED).sum()), already=already,
                    wall=time.perf_counter() - t_start, timings=timings, workers=n_workers,
                    scheduler=where)


def _cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _plain(data: Any) -> Any:
    """Data made of dicts, lists, str, float, int, bool (what crosses to a worker)."""
    return json.loads(json.dumps(data, default=str))


def _note(text: str) -> None:
    import sys

    from .. import progress as tasks_

    tasks_.clear()
    print(text, file=sys.stderr)


def check_scheduler(address: str, timeout: float = 3.0) -> None:
    """Refuse a Dask scheduler address that is not ``[tcp://]host:port``, or where nothing
    listens (a refused connection fails at once, an unanswered one after *timeout* s).

    Raises
    ------
    InputError
        One sentence naming the address and the fix.
    """
    import socket

    m = re.fullmatch(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})",
                     address.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise InputError(f"--scheduler {address!r}: not a Dask scheduler address; give "
                         "tcp://host:port, e.g. tcp://127.0.0.1:8786")
    host, port = m.group(2).strip("[]"), int(m.group(3))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        why = ("connection refused" if isinstance(exc, ConnectionRefusedError) else
               f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else
               " ".join(str(exc).split()))
        raise InputError(f"--scheduler {address}: no Dask scheduler answers there ({why}); "
                         "start one with `dask scheduler` or leave --scheduler out") from None


def _check_main_module() -> None:
    """Refuse to start worker processes from a process that is itself a worker being
    spawned: a script calling :func:`sigint.sweep` with workers, without the
    ``if __name__ == "__main__":`` guard, is imported again by every spawned process."""
    import multiprocessing
    import os
    import sys

    main = sys.modules.get("__main__")
    bootstrapping = bool(getattr(multiprocessing.current_process(), "_inheriting", False))
    if bootstrapping or (multiprocessing.parent_process() is not None
                         and getattr(main, "__name__", "") == "__mp_main__"):
        # a worker process re-importing the script: leave at once and quietly (a traceback
        # here would be one per worker); the parent says why in one sentence
        sys.stderr.flush()
        os._exit(2)


def _connect(*, workers: int | None, scheduler: str | None, n_tasks: int):
    """(client, cluster or None, description) -- before the store is touched."""
    import logging

    from distributed import Client, LocalCluster

    from .. import progress as tasks_

    if scheduler is not None:
        tasks_.stage(f"connecting to the Dask scheduler {scheduler}")
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: no Dask scheduler answers there "
                             f"({' '.join(str(exc).split())[:200]}); start one with `dask "
                             "scheduler` or leave --scheduler out") from None
        return client, None, f"Dask scheduler {scheduler}"
    n = max(1, min(workers or _cores(), n_tasks))
    tasks_.stage(f"starting {n} Dask worker process(es)")
    # death_timeout: workers left behind by a killed client close themselves
    # the scheduler's HTTP server (metrics) on a free port, no dashboard: the default
    # port 8787 may be another cluster's (then distributed warns and moves)
    try:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL,
                               death_timeout=60,
                               scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})
    except Exception as exc:        # noqa: BLE001 - workers that could not start
        import sys

        main = sys.modules.get("__main__")
        script = getattr(main, "__file__", None)
        hint = (f"{script}: a script that calls sigint.sweep with worker processes must do it "
                "under if __name__ == '__main__': (each worker imports the script again), or "
                "give workers=0" if script and not str(script).endswith(("sigint/__main__.py",
                                                                         "cli.py"))
                else "check that new processes can start here, or give --workers 0")
        raise InputError(f"the Dask worker processes did not start ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:120]}); {hint}") from None
    return Client(cluster), cluster, f"local Dask cluster, {n} worker process(es) x 1 thread"


def _dask(tasks: list[dict], finished, client) -> int:
    from distributed import as_completed

    n_workers = len(client.scheduler_info().get("workers", {}))
    futures = [client.submit(evaluate_point, t, key=f"sigint-point-{t['index']}-"
                             f"{hashlib.sha1(json.dumps(t, sort_keys=True).encode()).hexdigest()[:10]}",
                             pure=False, retries=0)
               for t in tasks]
    for fut in as_completed(futures):
        try:
            res = fut.result()
        except Exception as exc:       # noqa: BLE001 - a worker died with the point
            idx = next(t["index"] for t, f in zip(tasks, futures) if f is fut)
            res = {"index": idx, "status": PENDING, "values": {}, "text": {},
                   "message": f"the worker computing it was lost ({type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:200]})",
                   "timings": {}}
        finished(res)
        fut.release()
    return n_workers


def _top_rate(st: dict) -> float | None:
    """The highest rate a point's search tries (the spec's, capped by analysis.up_to)."""
    if st["spec"] == "none":
        return None
    from ..specs.library import load_spec

    sf = load_spec(st["spec"])
    return sf.top_rate(st["package"] if st["package"] in sf.packages else None, st.get("up_to"))
