"""The Python entry points behind :func:`sigint.analyze` and :func:`sigint.build_channel`.

One :func:`analyze` takes a Touchstone file, a channel YAML file (built first, its link
giving the rate, spec and Tx/Rx) or an in-memory :class:`skrf.Network`, exactly as
``sigint analyze`` does on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["analyze", "analyze_built", "analysis_grid", "build_channel", "build_for_rate",
           "density_at", "link_settings", "prepare_built", "ANALYSIS_GRID_RATES", "YAML_SUFFIXES"]

YAML_SUFFIXES = (".yaml", ".yml")

#: Top of the frequency grid an analysis at one rate needs, in multiples of the rate: a
#: channel file whose grid stops below it is built up to it (:func:`build_for_rate`). The
#: pulse responses take the response above the data as zero behind a cosine taper over the
#: last tenth of the band (:func:`sigint.timedomain.pulse.pulse_responses`), while the Tx
#: edge (20-80 % in 0.1 UI: its Gaussian spectrum is still 0.53 at 3x the rate) and the
#: crosstalk, which grows with frequency, carry content well above the Nyquist frequency.
#: Eye height of the middle lane against the grid's top (grids cut from one built on
#: 0-100 GHz / 0-50 GHz at 50 MHz steps, spec equalization, no bit-by-bit run), 1x / 1.5x /
#: 2x / 2.5x / 3x / 3.5x / 4x / 5x / 6x the rate:
#:   ucie_advanced_2mm.yaml at 16 GT/s: 392.0 / 375.0 / 392.2 / 387.0 / 394.8 / 394.8 / 395.1 /
#:   394.9 / 395.2 mV; ucie_standard_10mm.yaml at 8 GT/s: 232.2 / 197.1 / 229.6 / 221.0 /
#:   224.3 / 223.2 / 222.2 / 221.0 / 220.9 mV; hbm3_interposer_5mm.yaml at 6.4 GT/s: 258.3 /
#:   256.3 / 262.6 / 261.9 / 260.7 / 260.8 / 260.7 / 260.7 / 260.7 mV; bow_laminate.yaml at
#:   8 GT/s: 632.0 / 634.4 / 638.1 / 644.2 / 647.9 / 647.9 / 647.9 / 647.9 / 647.9 mV.
#: 3x is the smallest top whose eye changes by less than 0.5 % at the next (3.5x) on all four
#: (0.013 %, 0.48 %, 0.008 %, 0.002 %; 2.5x -> 3x changed the first by 2.0 %); the standard
#: package's 10 mm channel still drifts by 1.5 % in all from 3x to 6x (its crosstalk), the
#: other three by under 0.1 %. The rate search builds to the Nyquist frequency of its
#: highest rate only (a grid to 3x of 64 GT/s would be 192 GHz).
ANALYSIS_GRID_RATES = 3.0

_OPTION_KEYS = ("spec", "package", "ber", "victim", "xt_phase", "n_aggressors", "samples_per_ui",
                "nbins", "eq", "ctle", "bits")
_MAP_KEYS = ("thru", "preset", "differential", "reverse", "fext", "next_")


def _rate(rate: str | float) -> float:
    from .units import parse_rate

    return float(rate) if isinstance(rate, (int, float)) else parse_rate(str(rate))


def link_settings(built: Any, *, options: dict | None = None, tx: dict | None = None,
                  rx: dict | None = None) -> tuple[dict, dict, dict]:
    """(options, tx overrides, rx overrides) of a built channel's link, *options*, *tx* and
    *rx* taking precedence (the victim defaults to the middle lane)."""
    link = built.channel.link
    opts = dict(options or {})
    spec = link.spec
    if spec.lower().endswith((".yaml", ".yml")) and not Path(spec).is_absolute():
        spec = str(Path(built.source).parent / spec)      # relative to the channel file
    opts.setdefault("spec", spec)
    opts.setdefault("package", link.package)
    if link.ber is not None:
        opts.setdefault("ber", link.ber)
    if opts.get("victim") is None:
        opts["victim"] = (built.n_lanes + 1) // 2
    tx_over = dict(tx or {})
    rx_over = dict(rx or {})
    for key, val in link.tx.model_dump().items():
        if val is not None:
            tx_over.setdefault(key, val)
    for key, val in link.rx.model_dump().items():
        if val is not None or (key == "r" and "r" in link.rx.model_fields_set):
            rx_over.setdefault(key, val)
    return opts, tx_over, rx_over


def prepare_built(built: Any, *, backend: Any = None, progress: Any = None) -> Any:
    """The rate-independent stage (:func:`sigint.analyze.prepare`) of a built channel."""
    from .analysis.analyze import prepare

    link = prepare(built.network(), backend=backend, source=str(built.source),
                   progress=progress)
    link.bump_pitch = built.bump_pitch()
    return link


def density_at(built: Any, rate: float) -> dict:
    """Bandwidth density of a built channel's lanes at *rate* (symbols/s), counted at its
    most restrictive segment (:meth:`~sigint.channel.build.BuildResult.density`)."""
    return built.density(rate)


def analyze_built(built: Any, *, rate: float | None = None, options: dict | None = None,
                  tx: dict | None = None, rx: dict | None = None, backend: Any = None,
                  progress: Any = None, all_lanes: bool = False,
                  notes: list[str] | None = None) -> Any:
    """Analyse a :class:`~sigint.channel.build.BuildResult` with its link's settings.

    The channel file's link gives the rate, spec, package, BER and Tx/Rx; *rate*, entries
    of *options* (``AnalysisOptions`` fields) and of *tx*/*rx* (model fields) override
    them. The victim is the middle lane unless *options* names one; with *all_lanes*
    every lane is the victim in turn and a :class:`sigint.analysis.lanes.LanesResult` comes back.
    The result carries the bandwidth density of the lanes at the rate in
    ``extra["bandwidth_density"]``. *notes* (e.g. how the channel was built) go into the
    result's notes.
    """
    from .analysis.analyze import AnalysisOptions, check_rate, evaluate
    from .schema import validate

    opts, tx_over, rx_over = link_settings(built, options=options, tx=tx, rx=rx)
    rate = built.channel.link.rate if rate is None else rate
    aopts = validate(AnalysisOptions, dict(opts, rate=rate), source=str(built.source))
    if not all_lanes and aopts.victim > built.n_lanes:
        from .errors import InputError

        raise InputError(f"--victim {aopts.victim}: no such lane; {built.source} has "
                         f"{built.n_lanes} lane(s)")
    check_rate(built.f, rate, str(built.source))
    link = prepare_built(built, backend=backend, progress=progress)
    link.notes.extend(notes or [])
    if all_lanes:
        from .analysis.lanes import evaluate_lanes

        res = evaluate_lanes(link, aopts, tx_overrides=tx_over, rx_overrides=rx_over,
                             progress=progress)
        res.timings["prepare"] = link.timings["quality"]
    else:
        res = evaluate(link, aopts, tx_overrides=tx_over, rx_overrides=rx_over,
                       progress=progress)
    res.timings["build"] = built.timings.get("total", 0.0)
    res.extra["bandwidth_density"] = density_at(built, res.rate)
    return res


def analyze(source: Any, rate: str | float | None = None, *, tx: dict | None = None,
            rx: dict | None = None, backend: str | None = None, use_cache: bool = True,
            **options: Any) -> Any:
    """Analyse a channel: VTF loss and crosstalk, pulse responses, eye and verdict.

    Parameters
    ----------
    source : str, Path or skrf.Network
        A Touchstone file (``.sNp``, ``.ts``, compressed too), a channel YAML file (built
        first; its link gives the rate, spec and Tx/Rx), or a network in memory.
    rate : str or float, optional
        Symbol rate: ``"16GT/s"`` or symbols/s. Required except for a YAML channel.
    tx, rx : dict, optional
        Tx/Rx model fields for the eye (``{"swing": 0.4, "rj": 0.2e-12}``, ``{"r": 50.0}``),
        SI units.
    backend : {'auto', 'numpy', 'cupy'}, optional
        Compute backend.
    use_cache : bool
        Reuse cached extractions when building a YAML channel.
    **options
        Fields of :class:`sigint.analyze.AnalysisOptions` (``spec``, ``package``, ``ber``,
        ``victim``: a 1-based lane or ``"all"`` for every lane as victim, returning a
        :class:`sigint.analysis.lanes.LanesResult`; ``eq``, ``ctle``, ``bits``...) and, for
        Touchstone files and networks, the port mapping of
        :func:`sigint.analyze.analyze_files` (``thru``, ``preset``, ``differential``,
        ``reverse``, ``fext``, ``next_``).

    Returns
    -------
    sigint.analyze.AnalysisResult
        ``.checks`` (value, limit, margin and where of each check), ``.passed``,
        ``.summary()``, ``.to_json()``, ``.to_dataset()``; a short ``repr`` and an HTML
        view in notebooks.

    Raises
    ------
    InputError
        For a missing file, a missing rate, an option that does not apply, bad data.

    Examples
    --------
    A matched lossless line at 16 GT/s (no spec): the eye is fully open.

    >>> import numpy as np, skrf, sigint
    >>> f = np.linspace(0, 20e9, 401)
    >>> s = np.zeros((f.size, 2, 2), complex)
    >>> s[:, 0, 1] = s[:, 1, 0] = np.exp(-2j * np.pi * f * 50e-12)
    >>> net = skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s, z0=50)
    >>> r = sigint.analyze(net, "16GT/s", spec="none", bits=0)
    >>> round(r.loss_db_at_nyquist, 2)      # 50-ohm Tx and Rx: half the source voltage
    -6.02
    >>> print(repr(r)[:48])
    <AnalysisResult network, 16 GT/s, victim lane 1:
    """
    from .backend import get_backend

    be = get_backend(backend)
    bad = sorted(set(options) - set(_OPTION_KEYS) - set(_MAP_KEYS))
    if bad:
        raise InputError(f"sigint.analyze: unknown option(s) {', '.join(bad)}; give fields of "
                         f"AnalysisOptions ({', '.join(_OPTION_KEYS)}) or of the port mapping "
                         f"({', '.join(_MAP_KEYS)})")
    mapping = {k: options.pop(k) for k in _MAP_KEYS if k in options}
    if isinstance(source, (str, Path)) and not Path(source).exists():
        raise InputError(f"{source}: no such file; check the path")
    all_lanes = isinstance(options.get("victim"), str) and options["victim"].lower() == "all"
    if all_lanes:
        options.pop("victim")
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() in YAML_SUFFIXES:
        if mapping:
            raise InputError(f"{source}: {', '.join(mapping)} apply to Touchstone files; a "
                             "channel file defines its lanes itself")
        r = None if rate is None else _rate(rate)
        built, note = build_for_rate(source, r, backend=be, use_cache=use_cache)
        return analyze_built(built, rate=r, options=options, tx=tx, rx=rx, backend=be,
                             all_lanes=all_lanes, notes=[note] if note else None)
    from .analysis.analyze import AnalysisOptions, analyze_files
    from .analysis.analyze import analyze as run
    from .schema import validate

    if rate is None:
        raise InputError(f"sigint.analyze({source!r}): give the rate, e.g. rate='16GT/s'")
    opts = validate(AnalysisOptions, dict(options, rate=_rate(rate)), source="sigint.analyze")
    if isinstance(source, (str, Path)):
        if not Path(source).exists():
            raise InputError(f"{source}: no such file; give a Touchstone (.sNp) or channel "
                             "YAML file")
        return analyze_files(source, opts, tx_overrides=tx, rx_overrides=rx, backend=be,
                             all_lanes=all_lanes, **mapping)
    from .analysis.analyze import Aggressor
    from .io.touchstone import read_touchstone
    from .link.ports import build_port_map

    if not hasattr(source, "s") or not hasattr(source, "f"):
        raise InputError(f"sigint.analyze: {type(source).__name__} is not a channel; give a "
                         "file name or an skrf.Network")
    name = getattr(source, "name", None) or "network"
    pmap = build_port_map(source.nports, thru=mapping.get("thru"), preset=mapping.get("preset"),
                          differential=mapping.get("differential", False),
                          reverse=mapping.get("reverse", ()), name=name)
    aggs = [Aggressor(str(p), kind, read_touchstone(p))
            for kind, key in (("FEXT", "fext"), ("NEXT", "next_")) for p in mapping.get(key, ())]
    if all_lanes:
        from .analysis.analyze import check_rate, prepare
        from .analysis.lanes import evaluate_lanes

        check_rate(np.asarray(source.f, dtype=float), opts.rate, name)
        link = prepare(source, port_map=pmap, aggressors=aggs, backend=be, source=name)
        return evaluate_lanes(link, opts, tx_overrides=tx, rx_overrides=rx)
    return run(source, opts, port_map=pmap, aggressors=aggs, tx_overrides=tx, rx_overrides=rx,
               backend=be, source=name)


def build_for_rate(path: str | Path, rate: float | None = None, *, backend: Any = None,
                   use_cache: bool = True, warn: Any = None,
                   reach: float = ANALYSIS_GRID_RATES) -> tuple[Any, str | None]:
    """Build a channel YAML file on a grid that reaches *reach* times *rate* (symbols/s;
    default the file's own rate), where the eye at that rate has converged
    (:data:`ANALYSIS_GRID_RATES`).

    A file whose ``frequencies`` stop below that is built on the same number of points
    per Hz from 0 to *reach* x *rate* instead (:func:`sigint.channel.build.grid_for_rate`),
    and the sentence saying so comes back with the result.

    Returns
    -------
    (sigint.channel.build.BuildResult, str or None)

    Raises
    ------
    InputError
        For a missing or malformed channel file.
    """
    import warnings

    from .channel.build import build_channel as build
    from .channel.schema import load_channel, plausibility_warnings

    be = _channel_backend(path, backend)
    ch, base = load_channel(path)
    for w in plausibility_warnings(ch):
        if warn is None:
            warnings.warn(f"{path}: {w}", UserWarning, stacklevel=2)
        else:
            warn(f"{path}: {w}")
    ch, note = analysis_grid(ch, ch.link.rate if rate is None else rate, Path(path).name,
                             reach)
    return build(ch, base, source=str(path), backend=be, use_cache=use_cache), note


def analysis_grid(ch: Any, rate: float, name: str, reach: float = ANALYSIS_GRID_RATES
                  ) -> tuple[Any, str | None]:
    """*ch* (a :class:`~sigint.channel.schema.Channel`) with a frequency grid reaching
    *reach* x *rate* (Hz; :func:`sigint.channel.build.grid_for_rate`) and the note saying
    so when the file's grid stopped short (None when it did not)."""
    from .channel.build import grid_for_rate

    new, note = grid_for_rate(ch, reach * rate, name)
    if note is None:
        return ch, None
    return new, (f"{name}: frequencies {ch.frequencies} stop below {reach * rate / 1e9:g} GHz, "
                 f"{reach:g} times the rate of {rate / 1e9:g} GT/s, the band the eye needs "
                 f"to converge; built once on {new.frequencies} instead")


def build_channel(path: str | Path, *, backend: Any = None, use_cache: bool = True) -> Any:
    """Build a channel YAML file; the result keeps its segments, summary and network.

    Returns
    -------
    sigint.channel.build.BuildResult
        ``.network()`` (the 2N-port :class:`skrf.Network`), ``.summary()``, ``.to_json()``,
        ``.lane_figures(...)``, ``.density()``.

    Raises
    ------
    InputError
        For a missing or malformed channel file.
    """
    from .channel.build import build_file

    return build_file(path, backend=_channel_backend(path, backend), use_cache=use_cache)


def _channel_backend(path: str | Path, backend: Any) -> Any:
    """The backend for building the channel file *path* (which must exist)."""
    from .backend import Backend, get_backend

    if not Path(path).exists():
        raise InputError(f"{path}: no such channel file")
    return backend if isinstance(backend, Backend) else get_backend(backend)
