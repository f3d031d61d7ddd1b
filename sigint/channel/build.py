"""``sigint build``: a channel file to its 2N-port S-parameters.

Every segment becomes a 2N-port on the same reference impedance (N lanes, scikit-rf port
order: 0..N-1 at the Tx side, N..2N-1 at the Rx side): traces and vertical arrays through
:func:`sigint.channel.lines.mtl_s` from extracted RLGC, Touchstone segments as read. The
segments are joined by the batched block star product
(:func:`sigint.channel.lines.cascade_s`), which agrees with scikit-rf's ``**`` (tested) and
is much faster for many ports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import progress as tasks
from ..backend import Backend, get_backend
from ..errors import InputError
from ..extract.rlgc import extract, parse_frequencies
from ..network.quality import bulk_delay, regrid
from ..xsection.geometry import resolve
from ..xsection.schema import CrossSection, load_cross_section
from . import cache
from .lines import cascade_s, mtl_s
from .schema import VERTICAL_DEFAULTS, Channel, TouchstoneSegment, TraceSegment, VerticalSegment, load_channel
from .vertical import end_correction, map_positions

__all__ = ["BuiltSegment", "BuildResult", "build_channel", "build_file", "lane_density"]

Progress = Callable[[str], None]


def lane_density(n_lanes: int, rate: float, die_edge: float, depth: float | None,
                 segment: str) -> dict:
    """Bandwidth density of *n_lanes* lanes at *rate* laid out over *die_edge* x *depth*.

    The aggregate rate divided by the die-edge length (shoreline density) and by the
    footprint area (areal density), as UCIe 3.0 Table 1-4 counts them.

    Parameters
    ----------
    n_lanes : int
        Data lanes.
    rate : float
        Rate per lane, symbols/s (one bit per symbol).
    die_edge : float
        Length of die edge the lanes occupy, m.
    depth : float or None
        Depth of the footprint inwards from the edge, m (None: unknown, no areal density).
    segment : str
        What the footprint is counted at (reported as it is).

    Returns
    -------
    dict
        ``lanes``, ``aggregate_gbps`` (Gb/s), ``die_edge_mm``, ``depth_mm`` (None without a
        depth), ``gbps_per_mm`` (Gb/s/mm), ``gbps_per_mm2`` (Gb/s/mm^2; None without a
        depth), ``segment``.
    """
    total = n_lanes * rate / 1e9          # Gb/s
    return {"lanes": n_lanes, "aggregate_gbps": total, "die_edge_mm": die_edge * 1e3,
            "depth_mm": None if depth is None else depth * 1e3,
            "gbps_per_mm": total / (die_edge * 1e3),
            "gbps_per_mm2": None if depth is None else total / (die_edge * 1e3 * depth * 1e3),
            "segment": segment}


@dataclass
class BuiltSegment:
    """One segment's S-parameters and how they were made.

    Attributes
    ----------
    index : int
        Position in the channel file's ``segments`` list (0-based).
    name : str
        The segment's name (or its file's).
    kind : str
        Segment type: ``trace``, ``bump``, ``c4``, ``hybrid_bond``, ``tsv``, ``via`` or
        ``touchstone``.
    s : ndarray, shape (F, 2 N, 2 N)
        S-parameters on the channel's frequencies and reference impedance, ports
        [near end of lanes 1..N, far end of lanes 1..N].
    notes : list of str
        How they were made (interpolation, end correction...).
    cached : bool
        Whether the extraction came from the cache.
    seconds : float
        Time spent building it, s.
    """

    index: int
    name: str
    kind: str
    s: np.ndarray
    notes: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0


@dataclass
class BuildResult:
    """The cascaded channel and its segments.

    Attributes
    ----------
    channel : Channel
        The channel file as read.
    source : str
        Its name, for messages.
    f : ndarray, shape (F,)
        Frequencies, Hz.
    s : ndarray, shape (F, 2 N, 2 N)
        S-parameters of the whole channel, ports [near end of lanes 1..N, far end of lanes
        1..N] (scikit-rf's default lane order).
    z0 : float
        Reference impedance of every port, ohm.
    segments : list of BuiltSegment
        Each segment, in order.
    lane_names : list of str
        ``lane 1`` ... ``lane N``.
    backend : Backend
        Where the extraction and cascade ran.
    timings : dict of str to float
        Seconds per stage (``segments``, ``cascade``...).
    """

    channel: Channel
    source: str
    f: np.ndarray
    s: np.ndarray
    z0: float
    segments: list[BuiltSegment]
    lane_names: list[str]
    backend: Backend
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_lanes(self) -> int:
        return self.s.shape[1] // 2

    def summary(self) -> str:
        """The readable summary ``sigint build`` prints."""
        from ..report.build_report import build_summary

        return build_summary(self)

    def to_json(self) -> dict:
        """The summary as data (the ``--json`` output)."""
        from ..report.build_report import build_json

        return build_json(self)

    def __repr__(self) -> str:
        from ..report.html import build_repr

        return build_repr(self)

    def _repr_html_(self) -> str:
        from ..report.html import build_html

        return build_html(self)

    def network(self):
        """The channel as a :class:`skrf.Network` (2N ports)."""
        import skrf

        ntwk = skrf.Network(frequency=skrf.Frequency.from_f(self.f, unit="hz"), s=self.s,
                            z0=self.z0, name=self.channel.name)
        return ntwk

    def lane_figures(self, at: list[float]) -> dict:
        """Insertion loss, worst FEXT and NEXT per lane at frequencies *at*, and delays."""
        n = self.n_lanes
        s = self.s
        idx = [int(np.argmin(np.abs(self.f - x))) for x in at]
        il = -20 * np.log10(np.maximum(np.abs(s[:, np.arange(n) + n, np.arange(n)]), 1e-300))
        fext = np.abs(s[:, n:, :n]).copy()
        fext[:, np.arange(n), np.arange(n)] = 0
        next_ = np.abs(s[:, :n, :n]).copy()
        next_[:, np.arange(n), np.arange(n)] = 0
        with np.errstate(divide="ignore"):
            fx = 20 * np.log10(fext.max(axis=2))
            nx = 20 * np.log10(next_.max(axis=2))
        delay = self.delays()
        return {"frequencies_hz": [float(self.f[k]) for k in idx],
                "insertion_loss_db": il[idx].T.tolist(),
                "worst_fext_db": fx[idx].T.tolist(), "worst_next_db": nx[idx].T.tolist(),
                "delay_s": delay.tolist()}

    def delays(self) -> np.ndarray:
        """Delay of each lane from the phase slope of its through path, s.

        :func:`~sigint.network.quality.bulk_delay` up to the rate's Nyquist frequency (or
        the first 20 % of the band).
        """
        n, f = self.n_lanes, self.f
        fmax = min(self.channel.link.rate / 2, f[-1] * 0.2) if f[-1] > 0 else f[-1]
        top = max(fmax, f[min(3, f.size - 1)])
        return np.array([bulk_delay(f, self.s[:, n + i, i], top) for i in range(n)])

    def bump_pitch(self) -> float | None:
        """The micro-bump pitch of the path, m: the finest of its ``bump`` segments' pitches
        (each segment's own ``pitch``, else ``lanes.pitch``); None without a bump segment.
        A spec with pitch groups (UCIe advanced, Table 1-6) checks it against the rate."""
        ln = self.channel.lanes
        pitches = [seg.pitch or ln.pitch for seg in self.channel.segments
                   if getattr(seg, "type", None) == "bump"]
        return min(pitches) if pitches else None

    def density(self, rate: float | None = None) -> dict:
        """Bandwidth density of the lanes at *rate* (default: the link's): per mm of die
        edge and per mm^2, counted at the most restrictive segment.

        Each array segment (bump, c4, hybrid_bond, tsv, via) lays the bump map out at its
        own pitch (``pitch``, else ``lanes.pitch``): the map's columns x pitch along the
        die edge and rows x pitch inwards. The lanes must pass through every segment, so
        the density is that of the segment with the largest footprint (coarsest pitch),
        which is named; traces and Touchstone segments follow the lanes' own pitch.

        Returns
        -------
        dict
            ``lanes``, ``aggregate_gbps``, ``die_edge_mm``, ``depth_mm``, ``gbps_per_mm``,
            ``gbps_per_mm2``, ``segment`` (the restrictive one, with its pitch) and
            ``per_segment`` (each array segment's own densities).
        """
        ln = self.channel.lanes
        rate = self.channel.link.rate if rate is None else rate
        total = self.n_lanes * rate / 1e9          # Gb/s
        rows = [("lanes", ln.pitch, ln.width, ln.depth)]
        for i, seg in enumerate(self.channel.segments):
            if getattr(seg, "type", None) in ("bump", "c4", "hybrid_bond", "tsv", "via"):
                p = seg.pitch or ln.pitch
                py = seg.pitch or ln.pitch_y or ln.pitch
                name = seg.name or f"segments[{i}] ({seg.type})"
                rows.append((name, p, len(ln.map[0]) * p, len(ln.map) * py))
        per = [{"segment": n, "pitch_um": p * 1e6, "die_edge_mm": w * 1e3,
                "gbps_per_mm": total / (w * 1e3), "gbps_per_mm2": total / (w * d * 1e6)}
               for n, p, w, d in rows]
        k = max(range(len(rows)), key=lambda j: (rows[j][2] * rows[j][3], -j))
        name, p, w, d = rows[k]
        return dict(lane_density(self.n_lanes, rate, w, d, f"{name}, {p * 1e6:g} um pitch"),
                    per_segment=per)


# ----------------------------------------------------------------------------- segments
def _xsection_of(seg: TraceSegment, base: Path, where: str) -> tuple[CrossSection, str]:
    if isinstance(seg.xsection, dict):
        from ..schema import validate

        return validate(CrossSection, seg.xsection, source=where + ".xsection"), where
    p = (base / seg.xsection) if not Path(seg.xsection).is_absolute() else Path(seg.xsection)
    if not p.exists():
        raise InputError(f"{where}.xsection = {seg.xsection!r}: no such file (looked in "
                         f"{p.resolve()}){_near_misses(p)}; give a path relative to the channel "
                         "file")
    return load_cross_section(p), str(p)


def _near_misses(p: Path) -> str:
    """``"; beside it: a.yaml, b.yaml"`` -- the files in *p*'s folder whose names come close."""
    import difflib

    folder = p.parent
    if not folder.is_dir():
        return f" (the folder {folder.resolve()} does not exist)"
    names = sorted(x.name for x in folder.iterdir() if x.is_file())
    near = difflib.get_close_matches(p.name, names, n=3, cutoff=0.5)
    return f"; beside it: {', '.join(near)}" if near else ""


def _rlgc_cached(xs: CrossSection, src: str, f: np.ndarray, refine: float, backend: Backend,
                 use_cache: bool, say: Progress) -> tuple[dict, bool, list[str]]:
    key = cache.cache_key(xs.model_dump(mode="json"), f, refine)
    if use_cache:
        hit = cache.load(key)
        if hit is not None and _rlgc_ok(hit, f.size):
            hit["key"] = key
            return hit, True, []
    name = Path(src).name if src else "cross-section"
    say(f"extracting {name}")
    geo = resolve(xs, src)
    with tasks.task(f"extracting {name}"):
        res = extract(geo, f, refine=refine, backend=backend)
    arrays = {"r": res.r, "l": res.l, "g": res.g, "c": res.c}
    if use_cache:
        cache.store(key, arrays)
    arrays["key"] = key
    return arrays, False, res.notes


def _rlgc_ok(hit: dict, n_f: int) -> bool:
    """A cache entry that is whole: R, L, G, C of one shape (F, n, n), finite."""
    arrays = [hit.get(k) for k in "rlgc"]
    if any(a is None for a in arrays):
        return False
    shape = arrays[0].shape
    return (len(shape) == 3 and shape[0] == n_f and shape[1] == shape[2]
            and all(a.shape == shape and np.isfinite(a).all() for a in arrays))


#: modules that turn cached RLGC into a segment's S-parameters
LINE_MODULES = ("sigint.channel.lines", "sigint.channel.vertical")


def _mtl_s_cached(rl: dict, f: np.ndarray, l_used: np.ndarray, length: float, z0: float,
                  use_cache: bool) -> np.ndarray:
    """:func:`mtl_s` of a segment, kept in the cache beside its RLGC (a rebuild of an
    unchanged channel reads both): keyed by the RLGC's key, the inductance actually used
    (with a 3D end correction), the length, the reference impedance and the source of
    :data:`LINE_MODULES`."""
    import hashlib

    h = hashlib.sha256(str(rl["key"]).encode())
    h.update(np.ascontiguousarray(l_used, dtype=np.float64).tobytes())
    h.update(f"{float(length)!r}/{float(z0)!r}/{cache.solver_digest(LINE_MODULES)}".encode())
    key = "s-" + h.hexdigest()
    n2 = 2 * rl["r"].shape[-1]
    if use_cache:
        hit = cache.load(key)
        s = None if hit is None else hit.get("s")
        if (s is not None and s.shape == (f.size, n2, n2) and np.iscomplexobj(s)
                and np.isfinite(s).all()):
            return s
    s = mtl_s(f, rl["r"], l_used, rl["g"], rl["c"], length, z0)
    if use_cache:
        cache.store(key, {"s": s})
    return s


def _check_lanes(n: int, lanes: int, where: str, what: str) -> None:
    if n != lanes:
        raise InputError(f"{where}: {what} has {n} signal(s) but the link has {lanes} lane(s) "
                         "(the S entries of lanes.map); every segment must carry the same lanes "
                         "in the same order")


def _vertical_xsection(seg: VerticalSegment, ch: Channel) -> dict:
    """A cross-section of the round conductors laid out by the bump map."""
    dflt = VERTICAL_DEFAULTS[seg.type]
    pitch = seg.pitch or ch.lanes.pitch
    pitch_y = seg.pitch or ch.lanes.pitch_y or ch.lanes.pitch
    xs, ys, sig = map_positions(ch.lanes.map, pitch, pitch_y)
    r = seg.diameter / 2
    mat = seg.material or dflt["material"]
    conductors = []
    n_s = n_g = 0
    for x, y, s in zip(xs, ys, sig):
        if s:
            n_s += 1
            name = f"lane{n_s}"
        else:
            n_g += 1
            name = f"gnd{n_g}"
        conductors.append({"name": name, "shape": "circle", "x": f"{float(x)!r} m", "y": f"{float(y)!r} m",
                           "radius": f"{float(r)!r} m", "material": mat, "reference": not s})
    data = {"name": f"{seg.type} array", "stack": [{"material": seg.fill or dflt["fill"]}],
            "conductors": conductors, "materials": dict(seg.materials), "mesh": dict(seg.mesh)}
    if seg.liner is not None:
        data["regions"] = [{"shape": "shell", "around": c["name"],
                            "thickness": f"{float(seg.liner.thickness)!r} m", "material": seg.liner.material}
                           for c in conductors]
    return data


def _build_trace(i: int, seg: TraceSegment, ch: Channel, base: Path, f: np.ndarray,
                 backend: Backend, use_cache: bool, say: Progress, src: str) -> BuiltSegment:
    where = f"{src}: segments[{i}]"
    xs, xsrc = _xsection_of(seg, base, where)
    geo = resolve(xs, xsrc)
    _check_lanes(len(geo.signals), ch.lanes.n_lanes, f"segments[{i}] ({seg.type})",
                 f"cross-section {Path(xsrc).name}")
    t0 = time.perf_counter()
    rl, hit, notes = _rlgc_cached(xs, xsrc, f, seg.refine, backend, use_cache, say)
    s = _mtl_s_cached(rl, f, rl["l"], seg.length, ch.reference_impedance, use_cache)
    name = seg.name or f"trace {seg.length * 1e3:g} mm ({Path(xsrc).stem})"
    return BuiltSegment(index=i, name=name, kind="trace", s=s, notes=notes, cached=hit,
                        seconds=time.perf_counter() - t0)


def _build_vertical(i: int, seg: VerticalSegment, ch: Channel, f: np.ndarray, backend: Backend,
                    use_cache: bool, say: Progress, src: str) -> BuiltSegment:
    data = _vertical_xsection(seg, ch)
    from ..schema import validate

    if "G" not in "".join(ch.lanes.map):
        raise InputError(f"{src}: segments[{i}] ({seg.type}): the bump map has no ground (G), so "
                         "the vertical interconnects have no return path; add G bumps to lanes.map")
    xs = validate(CrossSection, data, source=f"{src}: segments[{i}]")
    t0 = time.perf_counter()
    rl, hit, notes = _rlgc_cached(xs, f"{seg.type} array", f, seg.refine, backend, use_cache, say)
    pitch = seg.pitch or ch.lanes.pitch
    pitch_y = seg.pitch or ch.lanes.pitch_y or ch.lanes.pitch
    x, y, sig = map_positions(ch.lanes.map, pitch, pitch_y)
    dl = end_correction(x, y, seg.diameter / 2, sig, seg.height)
    l_3d = rl["l"] + dl[None]
    s = _mtl_s_cached(rl, f, l_3d, seg.height, ch.reference_impedance, use_cache)
    name = seg.name or f"{seg.type} {seg.diameter * 1e6:g} um x {seg.height * 1e6:g} um"
    ratio = float(np.mean(np.diag(l_3d[-1]) / np.diag(rl["l"][-1])))
    notes = notes + [f"3D end correction: loop L x {ratio:.3f} (height {seg.height * 1e6:g} um, "
                     f"pitch {pitch * 1e6:g} um); end fringing of C not included"]
    return BuiltSegment(index=i, name=name, kind=seg.type, s=s, notes=notes, cached=hit,
                        seconds=time.perf_counter() - t0)


def _build_touchstone(i: int, seg: TouchstoneSegment, ch: Channel, base: Path, f: np.ndarray,
                      src: str) -> BuiltSegment:
    from ..io.touchstone import read_touchstone
    from ..link.ports import build_port_map

    p = (base / seg.file) if not Path(seg.file).is_absolute() else Path(seg.file)
    where = f"{src}: segments[{i}].file = {seg.file!r}"
    if not p.exists():
        raise InputError(f"{where}: no such file (looked in {p}); give a path relative to the "
                         "channel file")
    t0 = time.perf_counter()
    net = read_touchstone(p)
    n = ch.lanes.n_lanes
    if net.nports != 2 * n:
        raise InputError(f"{where}: has {net.nports} ports, but the link has {n} lanes and needs "
                         f"a {2 * n}-port (2 per lane)")
    pm = build_port_map(net.nports, thru=seg.thru, name=str(p))
    order = [ln.tx[0] for ln in pm.lanes] + [ln.rx[0] for ln in pm.lanes]
    net = net.copy()
    net.renumber(order, list(range(net.nports)))
    z0 = ch.reference_impedance
    if not np.allclose(net.z0, z0):
        net.renormalize(z0)
    notes = []
    if f[-1] > net.f[-1] * (1 + 1e-9) or (f[0] < net.f[0] and net.f[0] > 0 and f[0] > 0):
        raise InputError(f"{where}: covers {net.f[0] / 1e9:g}-{net.f[-1] / 1e9:g} GHz but the channel "
                         f"needs {f[0] / 1e9:g}-{f[-1] / 1e9:g} GHz; extend the file or the channel's "
                         "frequencies")
    if net.f.size != f.size or not np.allclose(net.f, f):
        dc = f[0] == 0 < net.f[0]
        net = regrid(net, f)
        notes.append("interpolated onto the channel's frequencies (scikit-rf, cubic, polar)"
                     + ("; DC extrapolated" if dc else ""))
    name = seg.name or p.name
    return BuiltSegment(index=i, name=name, kind="touchstone", s=np.asarray(net.s), notes=notes,
                        cached=False, seconds=time.perf_counter() - t0)


def build_channel(ch: Channel | str | Path, base: Path | None = None, *, source: str = "channel",
                  backend: Backend | None = None, use_cache: bool = True,
                  progress: Progress | None = None) -> BuildResult:
    """Build every segment of *ch* and cascade them.

    Parameters
    ----------
    ch : Channel, str or Path
        The channel, or its file (read, with its plausibility warnings, as by
        :func:`build_file`; *base* is then the file's folder) -- the same call as
        :func:`sigint.build_channel`.
    base : Path
        Directory that relative file names in the channel are taken from (needed with a
        :class:`Channel`).
    source : str
        Name of the channel file, for messages.
    backend : Backend, optional
        Compute backend of the extractions.
    use_cache : bool
        Reuse cached extractions of unchanged cross-sections.
    progress : callable, optional
        Called with stage names.
    """
    if isinstance(ch, (str, Path)):
        return build_file(ch, backend=backend, use_cache=use_cache, progress=progress)
    if base is None:
        raise TypeError("build_channel(Channel, base): give the folder its relative paths "
                        "start from, or give the channel file's path instead")
    say = progress or (lambda _s: None)
    backend = backend or get_backend()
    t0 = time.perf_counter()
    try:
        f = parse_frequencies(ch.frequencies)
    except InputError as exc:
        raise InputError(f"{source}: frequencies: {exc}") from None
    built: list[BuiltSegment] = []
    with tasks.task(f"building {Path(source).name}", total=len(ch.segments) + 1,
                    eta=False) as job:
        for i, seg in enumerate(ch.segments):
            say(f"segment {i + 1}/{len(ch.segments)} ({seg.type})")
            job.set_stage(f"segment {i + 1} ({seg.type})")
            if isinstance(seg, TraceSegment):
                built.append(_build_trace(i, seg, ch, base, f, backend, use_cache, say, source))
            elif isinstance(seg, VerticalSegment):
                built.append(_build_vertical(i, seg, ch, f, backend, use_cache, say, source))
            else:
                built.append(_build_touchstone(i, seg, ch, base, f, source))
            job.advance()
        t1 = time.perf_counter()
        say("cascading")
        job.set_stage("cascading")
        s = cascade_s([b.s for b in built])
        job.advance()
    n = ch.lanes.n_lanes
    res = BuildResult(channel=ch, source=source, f=f, s=s, z0=ch.reference_impedance,
                      segments=built, lane_names=[f"lane {k + 1}" for k in range(n)],
                      backend=backend)
    res.timings = {"segments": t1 - t0, "cascade": time.perf_counter() - t1,
                   "total": time.perf_counter() - t0}
    return res


def build_file(path: str | Path, *, warn=None, **kwargs) -> BuildResult:
    """Read a channel file and :func:`build_channel` it.

    *warn* (callable taking one sentence; default :func:`warnings.warn`) receives the
    plausibility warnings of :func:`~sigint.channel.schema.plausibility_warnings` before the
    first extraction starts.
    """
    import warnings

    from .schema import plausibility_warnings

    ch, base = load_channel(path)
    for w in plausibility_warnings(ch):
        msg = f"{path}: {w}"
        if warn is None:
            warnings.warn(msg, UserWarning, stacklevel=2)
        else:
            warn(msg)
    return build_channel(ch, base, source=str(path), **kwargs)


def grid_for_rate(ch: Channel, top_rate: float, name: str = "channel") -> tuple[Channel, str | None]:
    """*ch* with a frequency grid that reaches *top_rate* (Hz: twice the Nyquist frequency
    of the highest rate a search will try), and a note when it had to change.

    A grid that stops below *top_rate* -- at the Nyquist frequency included, where the
    response would be cut and the eye closed; the data-quality check asks for a bandwidth
    of the symbol rate for the same reason -- is replaced by one from 0 to *top_rate* with
    the same number of points per Hz. A grid that reaches it is kept.

    Parameters
    ----------
    ch : Channel
        The channel as read.
    top_rate : float
        Symbols/s of the highest rate to try.
    name : str
        The file's name for the note.

    Returns
    -------
    (Channel, str or None)
    """
    import math

    from ..extract.rlgc import parse_frequencies

    try:
        f = parse_frequencies(ch.frequencies)
    except Exception:            # noqa: BLE001 - the build reports a bad grid itself
        return ch, None
    top = float(top_rate)
    if f.size < 2 or f[-1] >= top * (1 - 1e-9):
        return ch, None
    per_hz = (f.size - 1) / max(f[-1] - f[0], 1.0)
    n = int(math.ceil(per_hz * top)) + 1
    grid = f"0:{top / 1e9:g}GHz:{n}"
    note = (f"{name}: frequencies {ch.frequencies} stop at {f[-1] / 1e9:g} GHz, below "
            f"{top / 1e9:g} GHz, twice the Nyquist frequency of the highest rate to try; "
            f"built once on {grid} instead")
    return ch.model_copy(update={"frequencies": grid}), note
