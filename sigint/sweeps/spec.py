"""The sweep file: a base channel and the parameters to vary, checked before any work.

.. code-block:: yaml

    name: UCIe advanced, line width x space x length
    base: ../ucie_advanced_2mm.yaml        # a channel file, relative to this file
    set:                                   # fixed changes to the base (same paths)
      frequencies: 0:64GHz:257
    parameters:
      width:  {path: xsection.buses[0].width, values: [1 um, 2 um, 3 um]}
      space:  {range: {start: 1 um, stop: 3 um, num: 3}}      # no path: used by 'coupled'
      length: {path: segments[1].length, range: {start: 1 mm, stop: 4 mm, step: 1 mm}}
    coupled:
      pitch: {path: xsection.buses[0].pitch, expr: width + space}
    constraints:
      - pitch <= 6 um
    design: grid                           # or {lhs: {samples: 50, seed: 1}}
    analysis: {eye_rate: 16 GT/s}          # spec, package, ber: the channel's link by default;
                                           # up_to: 32 GT/s caps the rate search
    pareto: {objective: length, goal: max}

Paths
-----
A path walks the base channel file as written: keys joined by dots, list items by
``[i]`` (``segments[1].length``, ``lanes.pitch``, ``link.tx.swing``). A trace's
cross-section is addressed through its segment, ``segments[1].xsection.buses[0].width``,
whether the channel names a cross-section file or writes it inline: the file is read and
the path continues inside it (the file itself is never changed). ``xsection.<path>`` is a
short form for the cross-section of every trace segment when they all use the same one
(the usual one-trace channel); with several different ones it is refused as ambiguous.

Values
------
A parameter is a list (``values``), a range (``range: {start, stop, num}`` or
``{start, stop, step}``, both ends included, optionally ``scale: log``), or, in a random
design (``design: {lhs: {samples, seed}}``), a range sampled by a seeded Latin hypercube
(:class:`scipy.stats.qmc.LatinHypercube`) or a list sampled uniformly. Quantities carry
their unit wherever the base file's field does; plain numbers (``eps_r``) stay plain;
text fields (a bus ``pattern``, a ``material``) take lists of text. Coupled parameters
are expressions of the parameters (:class:`~sigint.sweeps.expr.Expression`, SI values);
constraints are expressions that a point must satisfy to be computed.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import SigintModel, validate
from .expr import BOOL, Expression, dim_of, dim_text

__all__ = ["SweepFile", "Sweep", "load_sweep", "OUTPUTS", "parse_path", "Point"]

#: The per-point results: name -> (unit, long name). Each is the worst lane's figure.
OUTPUTS: dict[str, tuple[str, str]] = {
    "max_rate": ("T/s", "maximum data rate that passes the spec, worst lane (0: none)"),
    "density_edge": ("Gb/s/mm", "bandwidth density per mm of die edge at the maximum rate"),
    "density_area": ("Gb/s/mm^2", "bandwidth density per mm^2 at the maximum rate"),
    "eye_height": ("V", "eye height at the eye rate, worst lane"),
    "eye_width": ("UI", "eye width at the eye rate, worst lane"),
    "eye_margin": ("V", "eye mask margin at the eye rate, worst lane"),
    "vtf_loss_fn": ("dB", "VTF at the eye rate's Nyquist frequency, worst lane: a gain, "
                    "negative dB (-3 dB is 3 dB of loss); the value the spec check "
                    "vtf_loss_fn compares with its limit"),
    "vtf_xt": ("dB", "VTF crosstalk (power sum), worst lane, at the eye rate: a gain, "
               "negative dB; the value the spec check vtf_xt compares with its limit"),
    "insertion_loss_fn": ("dB", "channel insertion loss at the eye rate's fN, worst lane: a "
                          "loss, positive dB (the opposite sign of vtf_loss_fn)"),
    "fext_fn": ("dB", "channel worst single FEXT at the eye rate's fN (a gain, negative dB)"),
    "next_fn": ("dB", "channel worst single NEXT at the eye rate's fN (a gain, negative dB)"),
    "delay": ("s", "largest lane delay (phase slope)"),
    "skew": ("s", "largest minus smallest lane delay"),
}
#: What a point's values and results mean, as stored: 2 = coordinates exact to 12
#: significant digits, ``limited_by`` "none up to R GT/s" (a store of format 1 is refused
#: by ``--resume`` as another sweep).
STORE_FORMAT = 2
#: Text outputs (empty where they do not apply).
TEXT_OUTPUTS = {"limited_by": "the spec check (its name in the spec) that fails at the first "
                              "rate above the maximum, 'check X fails at R GT/s'; 'none up to "
                              "R GT/s' when every rate tried passes",
                "message": "why a point failed or was skipped"}

_PART = re.compile(r"([A-Za-z_][\w\-]*)((?:\[\d+\])*)")


def parse_path(path: str) -> list[str | int]:
    """``"segments[1].xsection.buses[0].width"`` -> ``['segments', 1, 'xsection', 'buses', 0,
    'width']``.

    >>> parse_path("segments[1].length")
    ['segments', 1, 'length']

    Raises
    ------
    ValueError
        For text that is not a path.
    """
    out: list[str | int] = []
    for piece in str(path).strip().split("."):
        m = _PART.fullmatch(piece)
        if not m:
            raise ValueError(f"{piece!r} is not a key or key[index]")
        out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def _fmt_path(parts: list[str | int]) -> str:
    s = ""
    for p in parts:
        s += f"[{p}]" if isinstance(p, int) else ("." if s else "") + p
    return s


# ---------------------------------------------------------------------------- the file model
class RangeSpec(SigintModel):
    start: str | float
    stop: str | float
    num: int | None = Field(None, ge=1)
    step: str | float | None = None
    scale: Literal["linear", "log"] = "linear"


class ParameterSpec(SigintModel):
    path: str | None = None
    values: list[str | float] | None = None
    range: RangeSpec | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values: [...] or range: {start, stop, num}")
        return self


class CoupledSpec(SigintModel):
    path: str | None = None
    expr: str


class LhsSpec(SigintModel):
    samples: int = Field(ge=1, le=1_000_000)
    seed: int = 0


class RandomDesign(SigintModel):
    lhs: LhsSpec


class AnalysisSpec(SigintModel):
    spec: str | None = None
    package: Literal["advanced", "standard", "standard-unterminated"] | None = None
    ber: float | None = Field(None, gt=0, lt=0.5)
    eye_rate: str | float | None = None
    up_to: str | float | None = None
    eye_height: str | None = None
    eye_width: float | None = Field(None, gt=0, le=1)
    exhaustive: bool = False
    backend: Literal["numpy", "cupy", "auto"] = "numpy"


class ParetoSpec(SigintModel):
    density: Literal["density_edge", "density_area"] = "density_edge"
    objective: str = "eye_margin"
    goal: Literal["max", "min"] = "max"


class SweepFile(SigintModel):
    """The sweep file as written (units still text)."""

    name: str = "sweep"
    description: str = ""
    base: str
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    coupled: dict[str, CoupledSpec] = Field(default_factory=dict)
    constraints: list[str] = Field(default_factory=list)
    design: Literal["grid"] | RandomDesign = "grid"
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    pareto: ParetoSpec = Field(default_factory=ParetoSpec)


# ----------------------------------------------------------------------------- resolution
@dataclass
class Param:
    """One swept (or coupled) parameter, resolved.

    Attributes
    ----------
    name : str
        The parameter's name in the sweep file.
    path : str or None
        The channel field it sets (the first of its paths once resolved; None: used only
        in expressions).
    kind : str
        A units dimension (``length``, ``rate``...), ``number`` or ``text``.
    unit : str
        SI unit symbol of its values ("" for numbers and text).
    values : list
        Grid values, SI floats or text (empty for a coupled parameter).
    expr : Expression or None
        A coupled parameter's expression of the others.
    range : tuple or None
        ``(start, stop, scale)`` in SI units, for the random design.
    display : tuple of (str, float)
        The unit the user wrote and its SI scale, for plots and tables.
    """

    name: str
    path: str | None
    kind: str
    unit: str
    values: list
    expr: Expression | None = None
    range: tuple | None = None
    display: tuple[str, float] = ("", 1.0)


@dataclass
class Point:
    """One point of a sweep.

    Attributes
    ----------
    index : int
        Flat index (row-major over the grid, or the sample's number).
    values : dict of str to Any
        Every parameter's and coupled parameter's value, SI units.
    skipped : str
        The constraint it breaks ("" when none).
    failed : str
        Why its coupled values or constraints cannot be computed ("" when they can).
    """

    index: int
    values: dict[str, Any]
    skipped: str = ""
    failed: str = ""


@dataclass
class Sweep:
    """A checked sweep: its parameters, points and the base channel (as data).

    Attributes
    ----------
    file : SweepFile
        The sweep file as validated.
    source : str
        Its name, for messages.
    base_path : Path
        The base channel file.
    base : dict
        The base channel with ``set`` applied and its cross-sections inlined.
    params : list of Param
        The swept parameters (one dimension each on a grid).
    coupled : list of Param
        The coupled parameters, expressions of the swept ones.
    constraints : list of Expression
        Comparisons every computed point must meet.
    points : list of Point
        Every point, in flat order.
    dims : tuple of str
        The Dataset's dimensions (the parameters' names on a grid, ``point`` otherwise).
    shape : tuple of int
        Their sizes.
    settings : dict
        The analysis settings of every point (spec, package, BER, eye rate, backend...).
    sweep_path : Path or None
        The sweep file (None: given as a mapping).
    xsection_files : list of Path
        The cross-section files the base channel reads (for the provenance).
    """

    file: SweepFile
    source: str
    base_path: Path
    base: dict
    params: list[Param]
    coupled: list[Param]
    constraints: list[Expression]
    points: list[Point]
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    settings: dict = field(default_factory=dict)
    sweep_path: Path | None = None
    xsection_files: list[Path] = field(default_factory=list)

    @property
    def is_grid(self) -> bool:
        return self.file.design == "grid"

    def channel_data(self, point: Point) -> dict:
        """The base channel with *point*'s values written at their paths."""
        data = copy.deepcopy(self.base)
        for p in (*self.params, *self.coupled):
            for path in getattr(p, "paths", []):
                _assign(data, path, _as_field(point.values[p.name], p), self.source)
        return data

    def fingerprint(self) -> str:
        """SHA-256 of everything that decides the results: the sweep, the base channel with
        its cross-sections, sigint's version and the solver code (see
        :func:`sigint.channel.cache.solver_digest`)."""
        from .._version import __version__
        from ..channel.cache import solver_digest

        h = hashlib.sha256()
        h.update(self.file.model_dump_json().encode())
        h.update(json.dumps(self.base, sort_keys=True, default=str).encode())
        h.update(json.dumps(self.settings, sort_keys=True, default=str).encode())
        h.update(f"{__version__}/{solver_digest()}/{STORE_FORMAT}".encode())
        return h.hexdigest()

    def fingerprint_parts(self) -> dict[str, str]:
        """The pieces of :meth:`fingerprint`, each hashed alone, named as a message says
        what changed between a store and this sweep."""
        from .._version import __version__
        from ..channel.cache import solver_digest

        def sha(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()[:16]

        return {"the sweep file": sha(self.file.model_dump_json()),
                "the base channel or a cross-section": sha(
                    json.dumps(self.base, sort_keys=True, default=str)),
                "the analysis settings": sha(json.dumps(self.settings, sort_keys=True,
                                                        default=str)),
                "sigint's version, its solvers or the store format": sha(
                    f"{__version__}/{solver_digest()}/{STORE_FORMAT}")}


def _as_field(value: Any, p: Param) -> Any:
    if p.kind in ("text", "number"):
        return value
    return f"{float(value)!r} {p.unit}"


def _si_unit(dim: str) -> str:
    from ..units import DIMENSIONS

    return next(u for u, s in DIMENSIONS[dim].items() if s == 1.0)


def _dimension_of(text: str) -> str | None:
    """The first unit dimension *text* parses in (None: not a quantity)."""
    from ..units import DIMENSIONS, is_quantity, parse_quantity

    if not is_quantity(text):
        return None
    for dim in DIMENSIONS:
        try:
            parse_quantity(text, dim)
            return dim
        except Exception:        # noqa: BLE001 - another dimension
            continue
    return None


_MISSING = object()


def _walk(data: Any, parts: list, src: str, field_: str, full: str) -> tuple[Any, Any]:
    """(container, key) of the last part of a path; the key may be absent from a mapping."""
    node = data
    for k, part in enumerate(parts[:-1]):
        node = _step(node, part, parts[:k + 1], src, field_, full)
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise _path_error(src, field_, full, parts, "no such list item")
    elif not isinstance(node, dict):
        raise _path_error(src, field_, full, parts, "leads into a value, not a mapping")
    return node, last


def _step(node: Any, part: Any, upto: list, src: str, field_: str, full: str) -> Any:
    if isinstance(part, int):
        if not isinstance(node, list):
            raise _path_error(src, field_, full, upto, "is not a list")
        if part >= len(node):
            raise _path_error(src, field_, full, upto, f"has only {len(node)} item(s)")
        return node[part]
    if not isinstance(node, dict) or part not in node:
        keys = sorted(node) if isinstance(node, dict) else []
        hint = f" (keys there: {', '.join(map(str, keys))})" if keys else ""
        raise _path_error(src, field_, full, upto, f"not in the base file{hint}")
    return node[part]


def _path_error(src, field_, full, upto, why) -> InputError:
    return InputError(f"{src}: {field_} = {full!r}: {_fmt_path(upto)} {why}; give a path in "
                      "the base channel file, e.g. segments[1].length or "
                      "xsection.buses[0].width")


def _get(data: dict, path: str) -> Any:
    node, key = _walk(data, parse_path(path), "", "", path)
    if isinstance(node, dict):
        return node.get(key, _MISSING)
    return node[key]


def _assign(data: dict, path: str, value: Any, src: str) -> None:
    node, key = _walk(data, parse_path(path), src, "path", path)
    node[key] = value


def _expand_paths(path: str, base: dict, src: str, where: str) -> str:
    """Check a path's shape; ``xsection.`` paths stay as written (expanded at assignment)."""
    try:
        parse_path(path)
    except ValueError as exc:
        raise InputError(f"{src}: {where} = {path!r}: {exc}; write keys joined by dots and list "
                         "items as [i], e.g. segments[1].length") from None
    return path


def _load_base(sf: SweepFile, src: Path, files: list[Path] | None = None) -> tuple[dict, Path]:
    from ..io.yamlfile import load_mapping

    p = Path(sf.base)
    p = p if p.is_absolute() else src.parent / p
    if not p.exists():
        raise InputError(f"{src}: base = {sf.base!r}: no such file (looked in {p.resolve()}); "
                         "give the channel file relative to the sweep file")
    data = load_mapping(p, "name, link, lanes, segments")
    if "segments" not in data or "lanes" not in data:
        raise InputError(f"{src}: base = {sf.base!r}: not a channel file (no lanes or segments); "
                         "a cross-section is swept through a channel that uses it "
                         "(xsection.<path>)")
    # inline every trace's cross-section file: paths then continue inside it
    for i, seg in enumerate(data.get("segments") or []):
        if isinstance(seg, dict) and seg.get("type") == "trace" and isinstance(seg.get("xsection"), str):
            xp = Path(seg["xsection"])
            xp = xp if xp.is_absolute() else p.parent / xp
            if not xp.exists():
                raise InputError(f"{p}: segments[{i}].xsection = {seg['xsection']!r}: no such file "
                                 f"(looked in {xp.resolve()}); give a path relative to the channel file")
            seg["xsection"] = load_mapping(xp, "name, stack, conductors, buses")
            if files is not None:
                files.append(xp)
    return data, p


def _rewrite_xsection_path(path: str, base: dict, src: str, where: str) -> list[str]:
    """``xsection.X`` -> ``segments[i].xsection.X`` for every trace using the one cross-section."""
    parts = parse_path(path)
    if parts[0] != "xsection":
        return [path]
    traces = [(i, s) for i, s in enumerate(base.get("segments") or [])
              if isinstance(s, dict) and s.get("type") == "trace"]
    if not traces:
        raise InputError(f"{src}: {where} = {path!r}: the base channel has no trace segment, so "
                         "there is no cross-section to address")
    kinds = {json.dumps(s["xsection"], sort_keys=True, default=str) for _, s in traces}
    if len(kinds) > 1:
        raise InputError(f"{src}: {where} = {path!r}: the base channel's traces use "
                         f"{len(kinds)} different cross-sections, so 'xsection.' is ambiguous; "
                         "address one as segments[i].xsection." + _fmt_path(parts[1:]))
    rest = _fmt_path(parts[1:])
    return [f"segments[{i}].xsection.{rest}" for i, _ in traces]


def _numbers(raw: list, kind: str, unit_hint: str, src: str, where: str) -> list:
    from ..units import parse_quantity

    out = []
    for i, v in enumerate(raw):
        at = (f"{where}[{i}]" if where.endswith(".values") else
              f"{where}.{('start', 'stop')[i]}" if where.endswith(".range") and len(raw) == 2
              else where)
        if kind == "text":
            if not isinstance(v, str):
                raise InputError(f"{src}: {at} = {v!r}: the field holds text; give text values")
            out.append(v)
        elif kind == "number":
            if isinstance(v, str) or isinstance(v, bool):
                raise InputError(f"{src}: {at} = {v!r}: the field is a plain number; give "
                                 "numbers without units")
            out.append(_exact(float(v)))
        else:
            example = _example(kind, unit_hint)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                si = _si_unit(kind)
                raise InputError(f"{src}: {at} = {v!r}: has no unit; write it with its unit, "
                                 f"e.g. '{v:g} {si}'" + (
                                     f" (that is '{v / _scale(unit_hint, kind):g} {unit_hint}')"
                                     if unit_hint and unit_hint != si else ""))
            try:
                out.append(_exact(parse_quantity(v, kind)))
            except InputError as exc:
                why = str(exc).split(";")[0].split(": ")[-1]
                raise InputError(f"{src}: {at} = {v!r}: {why} (the field at this path is a "
                                 f"{kind}); give a {kind} such as {example!r}") from None
    return out


def _scale(unit: str, kind: str) -> float:
    from ..units import parse_quantity

    return parse_quantity(f"1 {unit}", kind)


def _example(kind: str, unit_hint: str) -> str:
    return f"2 {unit_hint or _si_unit(kind)}"


def _kind_of(base_value: Any, values: list, src: str, where: str) -> str:
    if isinstance(base_value, str):
        d = _dimension_of(base_value)
        return d if d is not None else "text"
    if isinstance(base_value, (int, float)) and not isinstance(base_value, bool):
        return "number"
    if base_value is _MISSING or base_value is None:
        first = values[0] if values else None
        if isinstance(first, str):
            d = _dimension_of(first)
            return d if d is not None else "text"
        return "number"
    raise InputError(f"{src}: {where}: the base file holds a {type(base_value).__name__} there, "
                     "not a value; address a field inside it")


def _display(raw: Any, kind: str) -> tuple[str, float]:
    from ..units import _QTY as QTY
    from ..units import parse_quantity

    if isinstance(raw, str) and kind not in ("text", "number"):
        m = QTY.match(raw)
        if m and m.group(2):
            unit = m.group(2).strip()
            try:
                return unit, parse_quantity(f"1 {unit}", kind)
            except InputError:          # a unit of another dimension: _numbers names it
                return "", 1.0
    return "", 1.0


def _load_yaml(path: Path) -> dict:
    """The sweep file's top-level mapping (:func:`sigint.io.yamlfile.load_mapping`: a key
    given twice is refused, an unquoted ``[i]`` path in a flow mapping is named)."""
    from ..io.yamlfile import load_mapping

    return load_mapping(path, "base, parameters, design")


def _precheck(raw: dict, src: str, max_points: int | None) -> None:
    """Plain sentences for the mistakes pydantic would word in its own terms."""
    params = raw.get("parameters")
    if isinstance(params, dict) and not params:
        raise InputError(f"{src}: parameters: empty; give at least one parameter to vary, e.g. "
                         "length: {path: segments[1].length, values: [1 mm, 2 mm]}")
    design = raw.get("design", "grid")
    if design == "grid":
        return
    lhs = design.get("lhs") if isinstance(design, dict) else None
    if not isinstance(design, dict) or set(design) != {"lhs"} or not isinstance(lhs, dict):
        raise InputError(f"{src}: design = {design!r}: give grid or {{lhs: {{samples: N, "
                         "seed: S}}}")
    extra = sorted(set(lhs) - {"samples", "seed"})
    if extra:
        raise InputError(f"{src}: design.lhs.{extra[0]}: unknown key; give samples and seed")
    cap = max_points or 1_000_000
    n = lhs.get("samples")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= cap:
        raise InputError(f"{src}: design.lhs.samples = {n!r}: give a whole number of points "
                         f"from 1 to {cap}" + (" (raise --max-points for more)" if max_points
                                                else ""))
    seed = lhs.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"{src}: design.lhs.seed = {seed!r}: give a whole number >= 0 (the "
                         "same seed gives the same points)")


#: Most points a sweep may have unless ``max_points`` (``--max-points``) says otherwise.
MAX_POINTS = 100_000


def load_sweep(source: str | Path | dict, *, base_dir: str | Path | None = None,
               max_points: int = MAX_POINTS) -> Sweep:
    """Read and check a sweep file (or mapping) completely, before any work.

    Parameters
    ----------
    source : str, Path or dict
        The sweep YAML file, or its content (then ``base`` is taken relative to
        *base_dir*, default the working directory).
    max_points : int
        Most points accepted (counted from the sizes before any point is built).

    Returns
    -------
    Sweep

    Raises
    ------
    InputError
        One sentence for: an unknown key, a path not in the base file, a value without its
        unit, an empty range or list, an expression naming an unknown parameter or of the
        wrong dimension, two parameters on one path, more than *max_points* points, a value
        that the channel model refuses at some point (a length <= 0).
    """
    if isinstance(source, dict):
        src = Path(base_dir or ".") / "sweep"
        raw = copy.deepcopy(source)
        name = "sweep"
    else:
        src = Path(source)
        raw = _load_yaml(src)
        name = str(src)
    _precheck(raw, name, max_points)
    sf = validate(SweepFile, raw, source=name)
    xs_files: list[Path] = []
    base, base_path = _load_base(sf, src, xs_files)
    # fixed changes first
    for path, value in sf.set.items():
        _expand_paths(path, base, name, "set")
        for full in _rewrite_xsection_path(path, base, name, f"set.{path}"):
            _assign_checked(base, full, value, name, f"set.{path}")
    params: list[Param] = []
    known: set[str] = set()
    owner: dict[str, str] = {}          # expanded path -> the parameter that sets it

    def claim(paths: list[str], who: str, written: str | None) -> None:
        for full in paths:
            if full in owner:
                raise InputError(f"{name}: {who}.path = {written!r}: {owner[full]} already sets "
                                 f"{full}, and the second would silently win; give each path "
                                 "to one parameter")
            owner[full] = who
    for pname, ps in sf.parameters.items():
        where = f"parameters.{pname}"
        _check_name(pname, name, where)
        raw_vals = ps.values if ps.values is not None else [ps.range.start, ps.range.stop]
        if ps.values is not None and not ps.values:
            raise InputError(f"{name}: {where}.values: empty; give at least one value")
        paths = _param_paths(ps.path, base, name, where)
        claim(paths, where, ps.path)
        base_value = _get_checked(base, paths[0], name, where) if paths else _MISSING
        kind = _kind_of(base_value, raw_vals, name, f"{where}.path") if paths else (
            _dimension_of(raw_vals[0]) if isinstance(raw_vals[0], str) and _dimension_of(raw_vals[0])
            else ("text" if isinstance(raw_vals[0], str) else "number"))
        hint = _display(base_value, kind)[0] if isinstance(base_value, str) else ""
        unit = "" if kind in ("text", "number") else _si_unit(kind)
        disp = _display(raw_vals[0], kind)
        if ps.values is not None:
            vals = _numbers(ps.values, kind, hint, name, f"{where}.values")
            rng = None
        else:
            if kind == "text":
                raise InputError(f"{name}: {where}.range: the field holds text; give values: [...]")
            r = ps.range
            start, stop = _numbers([r.start, r.stop], kind, hint, name, f"{where}.range")
            rng = (start, stop, r.scale)
            vals = _range_values(r, start, stop, kind, hint, name, f"{where}.range",
                                 need_count=sf.design == "grid", cap=max_points)
        params.append(Param(name=pname, path=ps.path, kind=kind, unit=unit, values=vals,
                            range=rng, display=disp))
        params[-1]._paths = paths          # type: ignore[attr-defined]
        known.add(pname)
    coupled: list[Param] = []
    dims_of = {p.name: dim_of(p.kind) for p in params}
    text_names = {p.name for p in params if p.kind == "text"}
    for cname, cs in sf.coupled.items():
        where = f"coupled.{cname}"
        _check_name(cname, name, where)
        if cname in known:
            raise InputError(f"{name}: {where}: {cname!r} is also a parameter; give it one role")
        ex = Expression(cs.expr, source=name, field=f"{where}.expr")
        _check_names(ex, known, name, f"{where}.expr")
        _no_text(ex, text_names, name, f"{where}.expr")
        got = ex.dimension(dims_of)
        if got == BOOL:
            raise InputError(f"{name}: {where}.expr = {cs.expr!r}: is a comparison; a coupled "
                             "parameter is a value (put conditions under constraints)")
        paths = _param_paths(cs.path, base, name, where)
        claim(paths, where, cs.path)
        if paths:
            base_value = _get_checked(base, paths[0], name, where)
            kind = _kind_of(base_value, [], name, f"{where}.path")
            if kind == "text":
                raise InputError(f"{name}: {where}.path = {cs.path!r}: the field holds text; an "
                                 "expression gives numbers")
            if got != dim_of(kind):
                raise InputError(f"{name}: {where}.expr = {cs.expr!r}: gives {dim_text(got)} but "
                                 f"{where}.path = {cs.path!r} holds {dim_text(dim_of(kind))}; "
                                 "write an expression of that dimension (e.g. width + space "
                                 "for a pitch)")
            unit = "" if kind == "number" else _si_unit(kind)
            disp = _display(base_value, kind) if isinstance(base_value, str) else ("", 1.0)
        else:
            kind = next((k for k in _dimension_names() if dim_of(k) == got), "number")
            unit = "" if not got else _si_unit(kind) if kind != "number" else _unit_text(got)
            disp = ("", 1.0)
        coupled.append(Param(name=cname, path=cs.path, kind=kind, unit=unit, values=[], expr=ex,
                             display=disp))
        coupled[-1]._paths = paths         # type: ignore[attr-defined]
        dims_of[cname] = got
        known.add(cname)
    constraints = []
    for k, text in enumerate(sf.constraints):
        ex = Expression(text, source=name, field=f"constraints[{k}]")
        _check_names(ex, known, name, f"constraints[{k}]")
        _no_text(ex, text_names, name, f"constraints[{k}]")
        if ex.dimension(dims_of) != BOOL:
            raise InputError(f"{name}: constraints[{k}] = {text!r}: is not a comparison, so it "
                             "says nothing about a point; write one such as 'pitch - width >= "
                             "1 um'")
        constraints.append(ex)
    _check_pareto(sf, known, name)
    settings = _settings(sf, base, name, src, base_path)
    # points
    if sf.design == "grid":
        dims = tuple(p.name for p in params)
        shape = tuple(len(p.values) for p in params)
        total = math.prod(shape)
        if total > max_points:
            sizes = " x ".join(f"{p.name} {len(p.values)}" for p in params)
            raise InputError(f"{name}: parameters: {sizes} = {total:g} points, more than the "
                             f"{max_points} allowed; use fewer values, a random design "
                             "(design: {lhs: {samples: N}}) or raise --max-points")
        combos = itertools.product(*[p.values for p in params])
    else:
        lhs = sf.design.lhs
        dims = ("point",)
        shape = (lhs.samples,)
        combos = _lhs(params, lhs.samples, lhs.seed)
    points = []
    for i, combo in enumerate(combos):
        vals = dict(zip([p.name for p in params], combo))
        try:
            for c in coupled:
                vals[c.name] = math.nan
                vals[c.name] = _exact(c.expr(vals))
            broken = next((e.text for e in constraints if not e(vals)), "")
        except ValueError as exc:
            for c in coupled:
                vals.setdefault(c.name, math.nan)
            points.append(Point(index=i, values=vals,
                                failed=f"{name}: {exc}; change the expression or the "
                                       "parameter ranges"))
            continue
        points.append(Point(index=i, values=vals,
                            skipped=f"breaks the constraint {broken!r}" if broken else ""))
    if points and all(pt.failed for pt in points):
        raise InputError(points[0].failed.replace("at this point", "at every point"))
    sw = Sweep(file=sf, source=name, base_path=base_path, base=base, params=params,
               coupled=coupled, constraints=constraints, points=points, dims=dims, shape=shape,
               settings=settings, sweep_path=None if isinstance(source, dict) else src,
               xsection_files=xs_files)
    for p in (*params, *coupled):
        p.written_path = p.path        # type: ignore[attr-defined]
        sw_paths = getattr(p, "_paths", [])
        p.path = sw_paths[0] if sw_paths else None
        p.paths = sw_paths             # type: ignore[attr-defined]
    _check_channels(sw)
    return sw


def _assign_checked(data: dict, path: str, value: Any, src: str, where: str) -> None:
    node, key = _walk(data, parse_path(path), src, where, path)
    node[key] = value


def _get_checked(data: dict, path: str, src: str, where: str) -> Any:
    node, key = _walk(data, parse_path(path), src, f"{where}.path", path)
    if isinstance(node, dict):
        return node.get(key, _MISSING)
    return node[key]


def _param_paths(path: str | None, base: dict, src: str, where: str) -> list[str]:
    if path is None:
        return []
    _expand_paths(path, base, src, f"{where}.path")
    return _rewrite_xsection_path(path, base, src, f"{where}.path")


def _no_text(ex: Expression, text_names: set[str], src: str, where: str) -> None:
    bad = sorted(ex.names & text_names)
    if bad:
        raise InputError(f"{src}: {where} = {ex.text!r}: {bad[0]} holds text and cannot appear "
                         "in an expression; use a numeric parameter")


def _dimension_names() -> list[str]:
    from ..units import DIMENSIONS

    return list(DIMENSIONS)


def _unit_text(d) -> str:
    """SI unit of a derived dimension, e.g. ``m^2``."""
    parts = []
    for base_name, e in d:
        sym = _si_unit(base_name)
        parts.append(sym if e == 1 else f"{sym}^{e}")
    return " ".join(parts)


def _check_name(name: str, src: str, where: str) -> None:
    reserved = ("point", "status", "pareto", *OUTPUTS, *TEXT_OUTPUTS)
    if not re.fullmatch(r"[A-Za-z_]\w*", name) or name.startswith("__") or name in reserved:
        raise InputError(f"{src}: {where}: {name!r} cannot name a parameter; use letters, digits "
                         "and _ (starting with a letter), not the name of a result")


def _check_names(ex: Expression, known: set[str], src: str, where: str) -> None:
    import difflib

    bad = sorted(ex.names - known)
    if bad:
        near = difflib.get_close_matches(bad[0], sorted(known), n=1)
        hint = f"did you mean {near[0]!r}?" if near else (
            f"the parameters are {', '.join(sorted(known))}")
        raise InputError(f"{src}: {where} = {ex.text!r}: {bad[0]!r} is not a parameter (a coupled "
                         f"parameter must be defined before it is used); {hint}")


def _check_pareto(sf: SweepFile, known: set[str], src: str) -> None:
    ok = set(OUTPUTS) | known
    if sf.pareto.objective not in ok:
        raise InputError(f"{src}: pareto.objective = {sf.pareto.objective!r}: not a result or "
                         f"parameter; choose one of {', '.join(sorted(ok))}")


def _range_values(r: RangeSpec, start: float, stop: float, kind: str, hint: str, src: str,
                  where: str, need_count: bool, cap: int = 100_000) -> list[float]:
    if r.num is not None and r.step is not None:
        raise InputError(f"{src}: {where}: give num or step, not both")
    if r.scale == "log" and (start <= 0 or stop <= 0):
        raise InputError(f"{src}: {where}: a log range needs positive start and stop")
    if stop < start:
        raise InputError(f"{src}: {where}: empty range (stop {stop:g} < start {start:g} in SI); "
                         "give start <= stop")
    if r.step is not None:
        (step,) = _numbers([r.step], kind, hint, src, f"{where}.step")
        if not step > 0:
            raise InputError(f"{src}: {where}.step: must be positive")
        if r.scale == "log":
            raise InputError(f"{src}: {where}: a log range takes num, not step")
        n = int(math.floor((stop - start) / step * (1 + 1e-9))) + 1
        if n > cap:
            raise InputError(f"{src}: {where}.step = {r.step!r}: makes {n} values, more than the "
                             f"{cap} points allowed; give a larger step or raise --max-points")
        return [_exact(start + k * step) for k in range(n)]
    if r.num is not None and r.num > cap:
        raise InputError(f"{src}: {where}.num = {r.num}: more than the {cap} points allowed; "
                         "give fewer or raise --max-points")
    if r.num is None:
        if need_count:
            raise InputError(f"{src}: {where}: give num (points) or step for a grid")
        return []
    if r.num == 1:
        if start != stop:
            raise InputError(f"{src}: {where}: num 1 with start != stop; give num >= 2")
        return [start]
    if r.scale == "log":
        return [_exact(x) for x in np.geomspace(start, stop, r.num)]
    return [_exact(x) for x in np.linspace(start, stop, r.num)]


def _exact(x: float) -> float:
    """*x* to 12 significant digits: the value as written, without the noise of unit
    scaling or range arithmetic (25 um is 2.5e-05, not 2.4999999999999998e-05), so that
    ``ds.sel(width=25e-6)`` finds it."""
    return float(f"{float(x):.12g}")


def _lhs(params: list[Param], n: int, seed: int):
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(seed)).random(n)
    for row in u:
        combo = []
        for p, x in zip(params, row):
            if p.range is not None:
                a, b, scale = p.range
                combo.append(float(a * (b / a) ** x) if scale == "log" else float(a + (b - a) * x))
            else:
                combo.append(p.values[min(int(x * len(p.values)), len(p.values) - 1)])
        yield tuple(combo)


def _spec_name(given: str, rel_to: Path, src: str, field: str) -> str:
    """A spec name as the rate search takes it: a shipped name, none, or a spec file made
    absolute (relative paths start at the file that names it)."""
    from ..errors import SpecError
    from ..specs import BUILTIN_SPECS
    from ..specs.library import load_spec

    key = given.strip().lower()
    if key == "none" or key in BUILTIN_SPECS:
        return key
    p = Path(given)
    p = p if p.is_absolute() else rel_to.parent / p
    try:
        load_spec(str(p))
    except SpecError as exc:
        raise InputError(f"{src}: {field} = {given!r}: {str(exc).split(': ', 1)[-1]}") from None
    return str(p.resolve())


def _settings(sf: SweepFile, base: dict, src: str, sweep_path: Path, base_path: Path) -> dict:
    from ..units import parse_quantity, parse_rate

    a = sf.analysis
    link = base.get("link") or {}
    spec = (_spec_name(a.spec, sweep_path, src, "analysis.spec") if a.spec is not None else
            _spec_name(str(link.get("spec", "ucie")), base_path, src, "the base channel's link.spec"))
    out: dict[str, Any] = {"spec": spec,
                           "package": a.package or link.get("package", "advanced"),
                           "ber": a.ber, "exhaustive": a.exhaustive, "backend": a.backend}
    try:
        out["eye_rate"] = (None if a.eye_rate is None else
                           float(a.eye_rate) if isinstance(a.eye_rate, (int, float))
                           else parse_rate(a.eye_rate, source=src, field="analysis.eye_rate"))
        out["up_to"] = (None if a.up_to is None else
                        float(a.up_to) if isinstance(a.up_to, (int, float))
                        else parse_rate(a.up_to, source=src, field="analysis.up_to"))
    except InputError:
        raise
    if out["spec"] == "none":
        if a.eye_height is None or a.eye_width is None:
            raise InputError(f"{src}: analysis.spec = 'none': there is no spec to pass; give the "
                             "eye criteria of the rate search, e.g. eye_height: 40 mV, "
                             "eye_width: 0.5")
        out["eye_height"] = parse_quantity(a.eye_height, "voltage", source=src,
                                           field="analysis.eye_height")
        out["eye_width"] = a.eye_width
    elif out["up_to"] is not None:
        from ..analysis.rate import spec_rates

        rates = spec_rates(out["spec"], out["package"])
        if rates and not any(r <= out["up_to"] * (1 + 1e-9) for r in rates):
            raise InputError(f"{src}: analysis.up_to = {a.up_to!r}: below the spec's lowest rate "
                             f"({min(rates) / 1e9:g} GT/s); give a higher rate or leave it out")
    return out


def _check_channels(sw: Sweep) -> None:
    """Every computed point's channel through the channel model (no extraction), before
    any work: a value a field refuses on its own (a length <= 0) is the sweep file's, even
    at one point (exit 2, with how many points have one); a geometry that only some points
    make (lines that overlap) fails those points with its sentence, and is the file's when
    every point makes it."""
    from ..channel.schema import Channel, _segment_type_error
    from ..xsection.schema import CrossSection

    first_msg = None
    first_pt = None
    n_bad = 0
    todo = [p for p in sw.points if not (p.skipped or p.failed)]
    for pt in todo:
        data = sw.channel_data(pt)
        try:
            _segment_type_error(data, sw.source)
            validate(Channel, _strip_private(data), source=f"{sw.source} (point {pt.index})")
            for i, seg in enumerate(data["segments"]):
                if isinstance(seg, dict) and isinstance(seg.get("xsection"), dict):
                    validate(CrossSection, seg["xsection"],
                             source=f"{sw.source} (point {pt.index}): segments[{i}].xsection")
        except InputError as exc:
            msg = str(exc)
            if "unknown key" in msg:
                raise _unknown_key(sw, msg) from None
            if "Input should be" not in msg:
                # a geometry of this point only (lines that overlap): the point fails with
                # its sentence, recorded before any work, and the sweep goes on
                pt.failed = msg
                continue
            if first_msg is None:
                first_msg, first_pt = msg, pt
            n_bad += 1
    if todo and all(p.failed for p in todo):
        raise InputError(todo[0].failed)
    if n_bad:
        # the README promises the whole file is checked before any work: a value the
        # channel model refuses (a length <= 0) is the sweep file's, even at one point
        msg = re.sub(r"Input should be greater than (\S+)", r"must be greater than \1",
                     first_msg.rstrip("."))
        msg = re.sub(r"Input should be", "must be", msg)
        msg = re.sub(r"(segments\[\d+\])\.[a-z_]+\.(\w+ = )", r"\1.\2", msg)
        vals = ", ".join(f"{p.name} = {_show(first_pt.values[p.name], p)}" for p in sw.params)
        raise InputError(f"{msg}; {n_bad} of the {len(todo)} points to compute have such a "
                         f"value (the first: {vals}); narrow the values under parameters or "
                         "add a constraint that skips them")


def _show(value: Any, p: Param) -> str:
    if p.kind in ("text", "number"):
        return repr(value) if p.kind == "text" else f"{value:g}"
    unit, scale = p.display if p.display[0] else (p.unit, 1.0)
    return f"{value / scale:.6g} {unit}"


def _unknown_key(sw: Sweep, msg: str) -> InputError:
    """The channel model's 'unknown key' turned into the sweep field that wrote the key."""
    m = re.search(r"(\w+): unknown key(?:; did you mean '([^']+)'\?)?", msg)
    key, near = (m.group(1), m.group(2)) if m else ("", None)
    fix = f"did you mean {near!r}?" if near else "give the path of a field the base file has"
    for p in (*sw.params, *sw.coupled):
        written = getattr(p, "written_path", None) or p.path
        if written and parse_path(written)[-1] == key:
            role = "coupled" if p.expr is not None else "parameters"
            return InputError(f"{sw.source}: {role}.{p.name}.path = {written!r}: {key!r} is not "
                              f"a field there; {fix}")
    for path in sw.file.set:
        if parse_path(path)[-1] == key:
            return InputError(f"{sw.source}: set: {path!r}: {key!r} is not a field there; {fix}")
    return InputError(f"{msg.rstrip('.')} -- a path of the sweep file names a key the channel "
                      "file does not have; check the paths under parameters, coupled and set")


def _strip_private(data: dict) -> dict:
    out = copy.deepcopy(data)
    for seg in out.get("segments") or []:
        if isinstance(seg, dict):
            seg.pop("_xsection_file", None)
    return out
