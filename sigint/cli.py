"""The ``sigint`` command line.

Exit codes: 0 success (and every spec check passed), 1 a spec check failed, 2 bad input or
usage, 3 an internal error (a bug: please report it with the command that caused it).
Errors are one sentence on stderr naming the file, field, value and fix -- no traceback
(set ``SIGINT_DEBUG=1`` to see one).
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from . import __version__
from .errors import SigintError
from .units import parse_quantity

__all__ = ["main", "cli"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3

#: The command line of this run, for the provenance of reports.
_COMMAND_LINE: list[str] | None = None


class Quantity(click.ParamType):
    """A click parameter with a unit, parsed to SI (e.g. ``16GT/s``, ``0.25pF``)."""

    def __init__(self, dimension: str, allow: tuple[str, ...] = (), positive: bool = False) -> None:
        self.dimension = dimension
        self.allow = allow
        self.positive = positive
        self.name = dimension

    def convert(self, value: Any, param, ctx) -> Any:
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        if text.lower() in self.allow:
            return text.lower()
        try:
            value = parse_quantity(text, self.dimension)
        except SigintError as exc:
            self.fail(f"{text!r} {exc}", param, ctx)
        if self.positive and not value > 0:
            self.fail(f"{text!r}: must be positive", param, ctx)
        if not self.positive and value < 0 and self.dimension not in ("ratio_db", "ui"):
            self.fail(f"{text!r}: must not be negative", param, ctx)
        return value


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating,)):
        v = float(o)
        return v if math.isfinite(v) else None
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _clean(o: Any) -> Any:
    """Replace non-finite floats by None so the JSON is strict."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        return _clean(o.item())
    return o


def _check_out(out: Path | None, suffixes: tuple[str, ...], what: str) -> None:
    """Refuse an output path before any work: wrong extension or missing directory."""
    if out is None:
        return
    if suffixes and out.suffix.lower() not in suffixes:
        raise click.BadParameter(f"{out}: {what}; give a {suffixes[0]} file name",
                                 param_hint="--out")
    if not out.parent.exists():
        raise click.BadParameter(f"{out}: directory {out.parent} does not exist",
                                 param_hint="--out")
    _check_writable(out, "--out")


def _check_writable(path: Path, hint: str) -> None:
    """Refuse an output file whose folder cannot be written, before any work."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".sigint-write-test"):
            pass
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot write in {path.parent} "
                                 f"({exc.strerror or exc}); give a writable folder",
                                 param_hint=hint) from None


def _require_files(*paths: Path) -> None:
    """Refuse a missing input file before the heavy imports (seconds) start."""
    from .errors import InputError

    for p in paths:
        if not Path(p).exists():
            raise InputError(f"{p}: no such file; check the path")
        if Path(p).is_dir():
            raise InputError(f"{p}: is a directory, not a file; give the file's path")


def _warn(text: str) -> None:
    """A warning on stderr, on its own line, as soon as it is known."""
    click.echo(f"sigint: warning: {text}", err=True)


def _with_progress(verb: str, arg: str):
    """Run a command inside one progress task named after its input file.

    Progress goes to stderr from the first moment (before the heavy imports): a live bar
    on a terminal, log lines (at least one every few seconds, with what runs, how far and
    the time left) otherwise; ``--quiet`` silences it.
    """
    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            from . import progress

            progress.configure("off" if kwargs.get("quiet") else "auto")
            target = kwargs.get(arg)
            if isinstance(target, (list, tuple)):     # several files: name the first, count
                names = [Path(str(t)).name for t in target]
                label = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
            else:
                label = Path(str(target)).name
            try:
                with progress.task(f"{verb} {label}"):
                    return f(*args, **kwargs)
            finally:
                progress.configure("off")
        return wrapper
    return deco


def _say(text: str) -> None:
    from . import progress

    progress.stage(text)


def _done() -> None:
    from . import progress

    progress.clear()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sigint")
def cli() -> None:
    """sigint: signal integrity of die-to-die links in advanced packaging.

    \b
    Commands follow the pipeline:
      extract   a cross-section (YAML) -> R, L, G, C per unit length
      build     a channel (YAML) -> 2N-port S-parameters (Touchstone)
      analyze   a channel (Touchstone or YAML) -> VTF loss/crosstalk, pulse
                responses, statistical eye, UCIe verdict
      rate      a channel -> maximum data rate over every lane, margin vs rate,
                bandwidth density
      validate  channels x specs -> exit code, JUnit XML, JSON (for CI)
    Every command takes --backend auto|numpy|cupy (or $SIGINT_BACKEND) and says
    which backend ran. Exit codes: 0 pass, 1 a spec check failed, 2 bad input.
    """


def _emit(as_json: bool, data: Any, text: str) -> None:
    """Print the summary: *data* as JSON with ``--json``, else the readable *text*."""
    _done()
    click.echo(json.dumps(_clean(data), indent=2, default=_json_default) if as_json else text)


def _save_results(result: Any, out: Path | None, plot: Path | None, plot_fn, as_json: bool,
                  say, done) -> None:
    """Write ``result.to_dataset()`` to *out* and ``plot_fn(result, plot)`` figures, if asked.

    *say* and *done* are the progress callbacks (:func:`_say`, :func:`_done`).
    """
    if out is not None:
        from .report.dataset import save_dataset

        save_dataset(result.to_dataset(), out)
        if not as_json:
            click.echo(f"\nsaved {out}")
    if plot is not None:
        say("plotting")
        paths = plot_fn(result, plot)
        done()
        if not as_json:
            click.echo("plots: " + ", ".join(str(p) for p in paths))


def _report_option(f):
    return click.option(
        "--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Write one self-contained HTML page: summary, checks, figures, notes, provenance.",
    )(f)


def _write_report(report: Path | None, title: str, summary: str, result: Any, plot_fn,
                  inputs: list[Path], backend: str, checks=(), passed=None, notes=(),
                  as_json: bool = False) -> None:
    """Render the figures of *result* and write the ``--report`` page to *report*."""
    if report is None:
        return
    import tempfile

    from . import progress
    from .report.html import provenance, report_page

    with progress.task("writing the report"), tempfile.TemporaryDirectory() as tmp:
        figs = [(p.name, p.read_bytes()) for p in plot_fn(result, Path(tmp))]
        page = report_page(title, summary, checks=checks, verdict=passed, notes=notes,
                           figures=figs, prov=provenance(inputs, backend, _COMMAND_LINE))
    report.write_text(page, encoding="utf-8")
    if not as_json:
        click.echo(f"report: {report}")


def _channel_inputs(channel: Path, built: Any = None) -> list[Path]:
    """The input files of a run: the channel and, for YAML, the files its segments name."""
    files = [channel]
    if built is not None:
        base = channel.parent
        for seg in built.channel.segments:
            for attr in ("xsection", "file"):
                v = getattr(seg, attr, None)
                if isinstance(v, str):
                    files.append(Path(v) if Path(v).is_absolute() else base / v)
    return files


def _check_ber(ber: float | None) -> float | None:
    """A target BER is a probability between 1e-300 (what a double resolves) and 0.5."""
    if ber is not None and not (math.isfinite(ber) and 1e-300 <= ber < 0.5):
        raise click.BadParameter(f"{ber!r}: a BER is a probability between 1e-300 and 0.5 "
                                 "(numbers below 1e-308 read as 0); give e.g. 1e-15",
                                 param_hint="--ber")
    return ber


_UCIE_PKGS = ("ucie-advanced", "ucie-standard", "ucie-standard-unterminated")


def _check_spec(spec: str | None) -> str | None:
    """A spec name or spec file, loaded once here so that a mistake stops at once (exit 2)."""
    if spec is None:
        return None
    from .specs import BUILTIN_SPECS

    low = spec.strip().lower()
    if low in BUILTIN_SPECS or low == "none":
        return low                  # no heavy import for a shipped spec's name
    from .specs.library import resolve_spec

    resolve_spec(spec)
    return spec


def _check_plot_dir(plot: Path | None) -> None:
    """Create the --plot folder (and refuse an unwritable one) before any work starts."""
    if plot is None:
        return
    if plot.exists() and not plot.is_dir():
        raise click.BadParameter(f"{plot} exists and is not a directory", param_hint="--plot")
    try:
        plot.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"{plot}: cannot write figures there ({exc.strerror or exc}); "
                                 "give a writable folder", param_hint="--plot") from None
    _check_writable(plot / "figure.png", "--plot")


def _check_report(report: Path | None) -> None:
    if report is None:
        return
    if report.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{report}: the report is HTML; give a .html file name",
                                 param_hint="--report")
    if not report.parent.exists():
        raise click.BadParameter(f"{report}: directory {report.parent} does not exist",
                                 param_hint="--report")
    _check_writable(report, "--report")


def _backend_option(f):
    return click.option(
        "--backend", type=click.Choice(["auto", "numpy", "cupy"]), default=None,
        help="Compute backend [default: $SIGINT_BACKEND or auto: CuPy when a GPU works].",
    )(f)


def _quiet_option(f):
    return click.option("-q", "--quiet", is_flag=True, help="No progress messages.")(f)


def _package_option(f):
    return click.option(
        "--package", type=click.Choice(["advanced", "standard", "standard-unterminated"]),
        default="advanced", show_default=True,
        help="UCIe package (table row); UCIe only: other specs (BoW, AIB, UCIe-3D, a spec "
             "file without packages) refuse it.")(f)


def _spec_of(channel: Path, spec: str, explicit: set) -> str:
    """The spec a run checks: *spec* when given on the command line, else a channel file's
    own (a spec file named relative to the channel file resolved), else *spec*."""
    if "spec" in explicit or channel.suffix.lower() not in (".yaml", ".yml"):
        return spec
    from .channel.schema import load_channel

    own = load_channel(channel)[0].link.spec
    if own.lower().endswith((".yaml", ".yml")) and not Path(own).is_absolute():
        own = str(channel.parent / own)
    return own


def _check_package(spec: str, package: str) -> None:
    """Refuse ``--package`` for a spec that has no packages (only UCIe has them)."""
    low = spec.strip().lower()
    if low == "none":
        raise click.BadParameter(
            f"{package}: --spec none checks no spec, so a UCIe package has nothing to choose; "
            "drop --package (or give --spec ucie)", param_hint="--package")
    from .specs.library import load_spec

    sf = load_spec(spec)
    pkgs = [p for p in sf.packages if p != "default"]
    if not pkgs:
        raise click.BadParameter(
            f"{package}: {sf.spec} has no packages (--package chooses a UCIe table row: "
            "advanced, standard, standard-unterminated); drop --package", param_hint="--package")
    if package not in pkgs:
        raise click.BadParameter(f"{package}: {sf.spec} has the packages {', '.join(pkgs)}; "
                                 "give one of them", param_hint="--package")


def _check_eye_height(_ctx, _param, value: float | None) -> float | None:
    """``--eye-height``: a finite voltage above 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value!r} V: an eye height is a finite voltage above 0 V; "
                                 "give e.g. 40mV", param_hint="--eye-height")
    return value


def _check_eye_width(_ctx, _param, value: float | None) -> float | None:
    """``--eye-width``: a finite fraction of the unit interval, strictly between 0 and 1 UI."""
    if value is not None and not (math.isfinite(value) and 0.0 < value < 1.0):
        raise click.BadParameter(f"{value:g} UI: an eye width is a fraction of the unit "
                                 "interval, above 0 UI and below 1 UI (a 1 UI eye has no "
                                 "edges at all); give e.g. 0.5UI", param_hint="--eye-width")
    return value


def _reverse_option(f):
    return click.option("--reverse", type=int, multiple=True, metavar="LANE",
                        help="Lane whose Tx sits at the far end (repeatable).")(f)


def _option_group(group: str, *options):
    """Add *options* (``click.option`` decorators, in the order ``--help`` lists them) to a
    command and hand their values to it as one dict, keyword *group*, keyed by parameter
    name: a command reads its options by stage instead of as one long parameter list."""
    def deco(f):
        names: list[str] = []

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            kwargs[group] = {n: kwargs.pop(n) for n in names}
            return f(*args, **kwargs)

        before = len(getattr(wrapper, "__click_params__", ()))
        for opt in reversed(options):
            opt(wrapper)                    # click appends to wrapper.__click_params__
        names.extend(p.name for p in wrapper.__click_params__[before:])
        return wrapper
    return deco


def _explicit(ctx: click.Context, names: tuple[str, ...]) -> set[str]:
    """Those of *names* given on the command line (or by the environment), not defaulted."""
    return {n for n in names
            if ctx.get_parameter_source(n) not in (click.core.ParameterSource.DEFAULT, None)}


_ANALYZE_LANE_OPTIONS = _option_group(
    "lanes",
    click.option("--thru", multiple=True, metavar="P:Q",
                 help="Through path, 1-based, Tx port first (repeat for every path)."),
    click.option("--ports", "preset", type=click.Choice(["skrf", "sequential"]), default=None,
                 help="Port convention: skrf (i -> N+i, the default) or sequential (1->2, 3->4)."),
    click.option("--diff/--single-ended", "differential", default=False, show_default=True,
                 help="Pair consecutive through paths as differential lanes (+ first)."),
    _reverse_option,
    click.option("--victim", default=None, metavar="LANE|all",
                 help="Victim lane, 1-based, or 'all': every lane as victim (one batched solve), "
                      "a per-lane table and the worst lane [Touchstone: 1; channel YAML: all]."),
    click.option("--fext", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
                 help="Separate far-end crosstalk file, mapped like CHANNEL (repeatable)."),
    click.option("--next", "next_", type=click.Path(dir_okay=False, path_type=Path),
                 multiple=True,
                 help="Separate near-end crosstalk file, mapped like CHANNEL (repeatable)."),
)

_ANALYZE_CIRCUIT_OPTIONS = _option_group(
    "circuit",
    click.option("--tx-r", type=Quantity("resistance", positive=True), default=None,
                 help="Tx resistance [spec]."),
    click.option("--tx-c", type=Quantity("capacitance"), default=None, help="Tx pad C [spec]."),
    click.option("--rx-r", type=Quantity("resistance", allow=("open",), positive=True),
                 default=None, help="Rx termination or 'open' [spec]."),
    click.option("--rx-c", type=Quantity("capacitance"), default=None, help="Rx pad C [spec]."),
    click.option("--swing", type=Quantity("voltage", positive=True), default=None,
                 help="Tx source swing, peak-to-peak [0.4V]."),
    click.option("--rise-time", type=Quantity("time", allow=()), default=None,
                 help="Tx 20-80% edge time [0.1 UI]."),
    click.option("--rj", type=Quantity("time"), default=None, help="Tx random jitter, rms [0]."),
    click.option("--dj", type=Quantity("time"), default=None,
                 help="Tx deterministic jitter, dual-Dirac p-p [0]."),
    click.option("--noise", type=Quantity("voltage"), default=None, help="Rx noise, rms [0]."),
)

_ANALYZE_EYE_OPTIONS = _option_group(
    "eye",
    click.option("--eq", default="spec", show_default=True, metavar="spec|off|auto|TAPS",
                 help="Tx FFE: as the spec says, off, searched, or taps like -0.1,0.8,-0.1."),
    click.option("--ctle", default="off", show_default=True, metavar="off|auto|GAIN",
                 help="Rx CTLE: off, searched DC gain, or a DC gain like -6dB."),
    click.option("--dfe", type=click.IntRange(0, 64), default=0, show_default=True,
                 help="Ideal DFE taps."),
    click.option("--xt-phase", default="auto", show_default=True, metavar="auto|worst|UI",
                 help="Crosstalk timing. auto: with a forwarded-clock spec (UCIe), lanes of the "
                      "file running the victim's way (FEXT) share its clock (synchronous, same "
                      "launch instant); lanes running the other way (NEXT), --fext/--next files "
                      "and links without such a spec are asynchronous at their worst phase; "
                      "worst: every aggressor at its worst phase; a number like 0.25UI: every "
                      "aggressor synchronous at that clock offset."),
    click.option("--samples-per-ui", type=click.IntRange(8, 256), default=32, show_default=True),
    click.option("--vbins", type=click.IntRange(128, 65536), default=2048, show_default=True,
                 help="Voltage bins of the statistical eye."),
    click.option("--bits", type=click.IntRange(0, 1 << 24), default=1 << 14, show_default=True,
                 help="Bits per lane of the bit-by-bit run (0 skips it)."),
)

_ANALYZE_OUTPUT_OPTIONS = _option_group(
    "outputs",
    click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."),
    click.option("--plot", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Directory for eye.png, vtf.png, bathtub.png, pulse.png."),
    click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Save VTFs, pulse responses and the eye as netCDF (.nc)."),
    _report_option,
)

#: Options of ``sigint analyze`` that override the channel file's link when given.
_ANALYZE_OVERRIDES = ("rate", "spec", "package", "ber", "tx_r", "tx_c", "rx_r", "rx_c", "swing",
                      "rise_time", "rj", "dj", "noise", "dfe")


@cli.command("analyze", context_settings={"max_content_width": 100})
@click.argument("channel", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rate", type=Quantity("rate", positive=True), default="16GT/s", show_default=True,
              help="Data rate with its unit (GT/s, Gb/s).")
@click.option("--spec", default="ucie", show_default=True, metavar="NAME|FILE.yaml",
              callback=lambda _c, _p, v: _check_spec(v),
              help="Spec to check: ucie, ucie-3d, bow, aib, a spec file (YAML, units "
                   "required), or 'none' (analysis without a verdict).")
@_package_option
@click.option("--ber", type=float, default=None, callback=lambda _c, _p, v: _check_ber(v),
              help="Target BER, between 1e-300 and 0.5 [default: the spec's raw BER at the rate, "
                   "else 1e-15].")
@_ANALYZE_LANE_OPTIONS
@_ANALYZE_CIRCUIT_OPTIONS
@_ANALYZE_EYE_OPTIONS
@_ANALYZE_OUTPUT_OPTIONS
@_quiet_option
@_backend_option
@click.pass_context
@_with_progress("analyze", "channel")
def analyze_cmd(ctx: click.Context, channel: Path, rate: float, spec: str, package: str,
                ber: float | None, lanes: dict, circuit: dict, eye: dict, outputs: dict,
                quiet: bool, backend: str | None) -> int:
    """Analyse a channel (YAML or Touchstone): VTF, pulse responses, eye, UCIe verdict.

    \b
    CHANNEL is a channel file (.yaml, built first as by `sigint build`; its link
    gives the rate, spec and Tx/Rx unless options say otherwise; frequencies that
    stop below 3 times the rate are built up to it, where the eye has converged,
    and a note says so) or a Touchstone 1.x/2.x file (.sNp, .ts). A Touchstone
    file's lanes are its through paths:
      * default: port i runs to port N+i (scikit-rf), single-ended;
      * --ports sequential: 1->2, 3->4, ...;
      * --thru P:Q (repeat): explicit paths, Tx port first, 1-based;
      * --diff: consecutive paths pair into differential lanes (+ then -).
    Every other lane of the file is an aggressor of the victim (--victim); more
    aggressors come from --fext/--next files, mapped the same way.

    \b
    The VTF follows UCIe 3.0 §5.7: L(f) = 20 log10|Vr/Vs| with the spec's Tx/Rx
    circuit, crosstalk = power sum of the 19 largest aggressors. The eye is
    statistical (exact ISI/crosstalk distributions, Gaussian noise, Tx jitter) at
    the target BER, checked against a bit-by-bit PRBS run.

    \b
    Examples:
      sigint analyze channels/ucie_advanced_2mm.yaml
      sigint analyze channel.s32p --rate 16GT/s
      sigint analyze thru.s4p --thru 1:2 --thru 3:4 --diff --spec none \\
          --rate 10Gb/s --fext fext.s4p --next next.s4p --eq auto --ctle auto
      sigint analyze ch.s8p --rate 32GT/s --json --plot figs/ --out result.nc
    """
    _require_files(channel, *lanes["fext"], *lanes["next_"])
    from .backend import get_backend

    be = get_backend(backend)
    is_yaml = channel.suffix.lower() in (".yaml", ".yml")
    explicit = _explicit(ctx, _ANALYZE_OVERRIDES)
    if "package" in explicit:
        _check_package(_spec_of(channel, spec, explicit), package)
    _check_out(outputs["out"], (".nc", ".nc4"), "the dataset is netCDF")
    _check_report(outputs["report"])
    _check_plot_dir(outputs["plot"])
    tx_over, rx_over = _circuit_overrides(**circuit, dfe=eye["dfe"])
    common = _eye_settings(eye, tx_over, rx_over)
    victim, all_lanes = _parse_victim(lanes["victim"], is_yaml)
    try:
        res, built = _run_analysis(
            channel, be, is_yaml=is_yaml, given={"rate": rate, "spec": spec,
                                                 "package": package, "ber": ber},
            explicit=explicit, lanes=lanes, victim=victim, all_lanes=all_lanes, common=common,
            tx_over=tx_over, rx_over=rx_over)
    finally:
        _done()
    return _present_analysis(res, channel, built, all_lanes=all_lanes,
                             extra_inputs=list(lanes["fext"]) + list(lanes["next_"]), **outputs)


def _circuit_overrides(*, tx_r, tx_c, rx_r, rx_c, swing, rise_time, rj, dj, noise,
                       dfe: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Tx and Rx fields that ``sigint analyze`` options set (those given only)."""
    tx_over: dict[str, Any] = {}
    rx_over: dict[str, Any] = {}
    for key, val in (("r", tx_r), ("c_pad", tx_c), ("swing", swing), ("rise_time", rise_time),
                     ("rj", rj), ("dj", dj)):
        if val is not None:
            tx_over[key] = val
    if rx_r is not None:
        rx_over["r"] = None if rx_r == "open" else rx_r
    if rx_c is not None:
        rx_over["c_pad"] = rx_c
    if noise is not None:
        rx_over["noise"] = noise
    if dfe:
        rx_over["dfe_taps"] = dfe
    return tx_over, rx_over


def _eye_settings(eye: dict, tx_over: dict, rx_over: dict) -> dict[str, Any]:
    """The ``AnalysisOptions`` fields of the eye options; fixed FFE taps and a fixed CTLE
    gain go into *tx_over* / *rx_over* (and their search mode becomes ``off``)."""
    eq_mode, ffe = _parse_ffe(eye["eq"])
    if ffe is not None:
        tx_over["ffe"] = ffe
        tx_over["ffe_main"] = int(np.argmax(np.abs(ffe)))
    ctle_mode, ctle_db = _parse_ctle(eye["ctle"])
    if ctle_db is not None:
        from .link.txrx import Ctle

        rx_over["ctle"] = Ctle(dc_gain_db=ctle_db)
    return dict(xt_phase=_parse_xt_phase(eye["xt_phase"]), samples_per_ui=eye["samples_per_ui"],
                nbins=eye["vbins"], eq=eq_mode, ctle=ctle_mode, bits=eye["bits"])


def _parse_ffe(eq: str) -> tuple[str, tuple[float, ...] | None]:
    """``--eq``: (mode, None) for spec/off/auto, ("off", taps) for fixed FFE taps."""
    eq_mode = eq.strip().lower()
    if eq_mode in ("spec", "off", "auto"):
        return eq_mode, None
    try:
        taps = tuple(float(t) for t in eq_mode.replace(";", ",").split(","))
    except ValueError:
        taps = (float("nan"),)
    if not all(math.isfinite(t) for t in taps):
        raise click.BadParameter(f"{eq!r}: give spec, off, auto or finite taps like "
                                 "-0.1,0.8,-0.1", param_hint="--eq")
    if not any(taps) or sum(abs(t) for t in taps) > 1.0 + 1e-9:
        raise click.BadParameter(
            f"{eq!r}: FFE taps need sum |c| <= 1 (the Tx swing is shared by the taps) and a "
            "nonzero main tap, like -0.1,0.8,-0.1", param_hint="--eq")
    return "off", taps


def _parse_ctle(ctle: str) -> tuple[str, float | None]:
    """``--ctle``: (mode, None) for off/auto, ("off", DC gain in dB) for a fixed CTLE."""
    ctle_mode = ctle.strip().lower()
    if ctle_mode in ("off", "auto"):
        return ctle_mode, None
    try:
        g = parse_quantity(ctle_mode.replace("db", "dB"), "ratio_db", allow_bare=True)
    except SigintError:
        raise click.BadParameter(f"{ctle!r}: give off, auto or a DC gain like -6dB",
                                 param_hint="--ctle") from None
    if not -30.0 <= g <= 0.0:
        raise click.BadParameter(f"{ctle!r}: the CTLE DC gain is between -30 dB and 0 dB "
                                 "(its peaking is the negative of it); give e.g. -6dB",
                                 param_hint="--ctle")
    return "off", g


def _parse_xt_phase(xt_phase: str) -> str | float:
    """``--xt-phase``: ``auto``, ``worst`` or a clock offset in (-1, 1) UI."""
    xtp: str | float = xt_phase.strip().lower()
    if xtp in ("worst", "auto"):
        return xtp
    try:
        xtp = float(parse_quantity(str(xtp), "ui", allow_bare=True))
        if not -1.0 < xtp < 1.0:
            raise SigintError("outside (-1, 1) UI")
    except SigintError:
        raise click.BadParameter(f"{xt_phase!r}: give auto, worst or a clock offset in "
                                 "(-1, 1) UI like 0.25UI", param_hint="--xt-phase") from None
    return xtp


def _parse_victim(victim: str | None, is_yaml: bool) -> tuple[int | None, bool]:
    """``--victim``: (1-based lane or None, every lane?); a channel file defaults to all."""
    if victim is None:
        return None, is_yaml
    if victim.strip().lower() == "all":
        return None, True
    try:
        lane = int(victim)
    except ValueError:
        raise click.BadParameter(f"{victim!r}: give a 1-based lane number or 'all'",
                                 param_hint="--victim") from None
    if lane < 1:
        raise click.BadParameter(f"{lane}: lanes are numbered from 1", param_hint="--victim")
    return lane, False


def _run_analysis(channel: Path, be, *, is_yaml: bool, given: dict, explicit: set, lanes: dict,
                  victim: int | None, all_lanes: bool, common: dict, tx_over: dict,
                  rx_over: dict):
    """(result, built) of ``sigint analyze``: a channel file built then analysed with its own
    link settings under the options given, or a Touchstone file with its lanes mapped."""
    if is_yaml:
        if any(lanes[k] for k in ("thru", "preset", "differential", "fext", "next_", "reverse")):
            raise click.UsageError("--thru/--ports/--diff/--reverse/--fext/--next apply to "
                                   "Touchstone files; a YAML channel defines its lanes "
                                   "itself")
        from .api import analyze_built, build_for_rate

        # a grid that stops short of 3 times the rate (where the eye has converged,
        # api.ANALYSIS_GRID_RATES) is extended, as `validate` does (the note says so)
        the_rate = given["rate"] if "rate" in explicit else None
        built, note = build_for_rate(channel, the_rate, backend=be, warn=_warn)
        opts = {k: v for k, v in given.items() if k in explicit and k != "rate"}
        res = analyze_built(built, rate=the_rate,
                            options=dict(common, victim=victim, **opts), tx=tx_over,
                            rx=rx_over, backend=be, progress=_say, all_lanes=all_lanes,
                            notes=[note] if note else None)
        return res, built
    from .analysis.analyze import AnalysisOptions, analyze_files
    from .schema import validate

    opts = validate(AnalysisOptions, dict(given, victim=victim or 1, **common),
                    source="sigint analyze")
    res = analyze_files(channel, opts, thru=list(lanes["thru"]) or None, preset=lanes["preset"],
                        differential=lanes["differential"], reverse=list(lanes["reverse"]),
                        fext=[str(p) for p in lanes["fext"]],
                        next_=[str(p) for p in lanes["next_"]], tx_overrides=tx_over,
                        rx_overrides=rx_over, backend=be, progress=_say, all_lanes=all_lanes)
    return res, None


def _present_analysis(res, channel: Path, built, *, all_lanes: bool, extra_inputs: list[Path],
                      as_json: bool, plot: Path | None, out: Path | None,
                      report: Path | None) -> int:
    """Print, save, plot and report an analysis; the exit code of its verdict."""
    from .report.plots import plot_analysis
    from .report.summary import analysis_summary

    text = res.summary() if all_lanes else analysis_summary(res)
    _emit(as_json, res.to_json(), text)
    if all_lanes:
        _save_results(res, out, None, plot_analysis, as_json, _say, _done)
        _save_results(res.worst_result, None, plot, plot_analysis, as_json, _say, _done)
        rep_res = res.worst_result
    else:
        _save_results(res, out, plot, plot_analysis, as_json, _say, _done)
        rep_res = res
    _write_report(report, f"sigint analyze {channel.name}", text, rep_res, plot_analysis,
                  _channel_inputs(channel, built) + extra_inputs,
                  rep_res.backend.describe(), checks=res.checks, passed=res.passed,
                  notes=rep_res.notes + [c.note for c in res.checks if c.note], as_json=as_json)
    return EXIT_FAIL if res.passed is False else EXIT_OK


def _top_rate(channel: Path, spec: str, package: str, explicit: set,
              up_to: float | None = None) -> float | None:
    """The highest rate a search of *channel* will try (its own spec unless given), at or
    below *up_to* (:meth:`~sigint.specs.library.SpecFile.top_rate`)."""
    if channel.suffix.lower() not in (".yaml", ".yml"):
        return None
    from .channel.schema import load_channel
    from .specs.library import load_spec

    if "spec" not in explicit:
        link = load_channel(channel)[0].link
        spec = link.spec
        if spec.lower().endswith((".yaml", ".yml")) and not Path(spec).is_absolute():
            spec = str(channel.parent / spec)
        if "package" not in explicit:
            package = link.package
    if spec == "none":
        spec = "ucie"
    sf = load_spec(spec)
    return sf.top_rate(package if package in sf.packages else None, up_to)


def _channel_for_search(channel: Path, top_rate: float | None, be, reach: float | None = None):
    """Build a channel file on a grid that reaches twice the Nyquist frequency of *top_rate*
    (default: the file's own rate), or *reach* times the rate when given (a check at one
    rate: :data:`sigint.api.ANALYSIS_GRID_RATES`, as ``sigint analyze`` builds it).

    A file whose ``frequencies`` stop below *top_rate* (Hz, twice its Nyquist frequency) is
    built once on the same number of points per GHz from 0 to *top_rate* (with a note), so
    that the rate search is not cut short or closed by the grid; otherwise the file's own
    grid is used.
    """
    from .channel.build import build_channel, grid_for_rate
    from .channel.schema import load_channel, plausibility_warnings

    ch, base = load_channel(channel)
    for w in plausibility_warnings(ch):
        _warn(f"{channel}: {w}")
    the_rate = ch.link.rate if top_rate is None else top_rate
    if reach is None:
        ch, note = grid_for_rate(ch, the_rate, channel.name)
    else:
        from .api import analysis_grid

        ch, note = analysis_grid(ch, the_rate, channel.name, reach)
    built = build_channel(ch, base, source=str(channel), backend=be)
    return built, note


def _prepare_channel(channel: Path, be, *, spec, package, ber, explicit: set, thru, preset,
                     differential, reverse, common: dict, top_rate: float | None = None,
                     reach: float | None = None):
    """(link, options, models, built) of a channel file for the rate and validate commands.

    A channel file is built on a grid reaching twice the Nyquist frequency of *top_rate*
    (symbols/s; default the file's own rate), or *reach* times it
    (:func:`_channel_for_search`).
    """
    from .analysis.analyze import AnalysisOptions, prepare
    from .schema import validate

    if channel.suffix.lower() in (".yaml", ".yml"):
        if thru or preset or differential or reverse:
            raise click.UsageError("--thru/--ports/--diff/--reverse apply to Touchstone files; "
                                   "a YAML channel defines its lanes itself")
        from .api import link_settings, prepare_built

        built, note = _channel_for_search(channel, top_rate, be, reach)
        given = {"spec": spec, "package": package, "ber": ber}
        opts, tx_over, rx_over = link_settings(
            built, options=dict(common, **{k: v for k, v in given.items() if k in explicit}))
        opts = validate(AnalysisOptions, dict(opts, rate=built.channel.link.rate),
                        source=str(channel))
        link = prepare_built(built, backend=be, progress=_say)
        if note:
            link.notes.append(note)
        return link, opts, {"tx_overrides": tx_over, "rx_overrides": rx_over}, built
    from .io.touchstone import read_touchstone
    from .link.ports import build_port_map

    net = read_touchstone(channel)
    pmap = build_port_map(net.nports, thru=list(thru) or None, preset=preset,
                          differential=differential, reverse=list(reverse), name=str(channel))
    opts = validate(AnalysisOptions, dict(rate=16e9, spec=spec, package=package, ber=ber,
                                          **common), source=str(channel))
    link = prepare(net, port_map=pmap, backend=be, source=str(channel), progress=_say)
    return link, opts, {}, None


def _touchstone_density(n_lanes: int, rate: float, lane_pitch, module_width, module_depth):
    """Density of a Touchstone channel from the geometry given on the command line."""
    from .channel.build import lane_density

    if module_width is not None:
        return lane_density(n_lanes, rate, module_width, module_depth, "--module-width")
    if lane_pitch is not None:
        return lane_density(n_lanes, rate, n_lanes * lane_pitch, module_depth,
                            f"--lane-pitch {lane_pitch * 1e6:g} um x {n_lanes} lanes")
    return None


def _common_channel_options(f):
    for deco in reversed([
        click.argument("channel", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--spec", default="ucie", show_default=True, metavar="NAME|FILE.yaml",
                     callback=lambda _c, _p, v: _check_spec(v),
                     help="Spec: ucie, ucie-3d, bow, aib, a spec file (YAML), or none "
                          "[a channel file's own spec unless given]."),
        _package_option,
        click.option("--ber", type=float, default=None,
                     callback=lambda _c, _p, v: _check_ber(v),
                     help="Target BER [default: the spec's raw BER at each rate]."),
        click.option("--thru", multiple=True, metavar="P:Q",
                     help="Through path of a Touchstone file, 1-based, Tx port first."),
        click.option("--ports", "preset", type=click.Choice(["skrf", "sequential"]),
                     default=None, help="Port convention of a Touchstone file."),
        click.option("--diff/--single-ended", "differential", default=False,
                     help="Pair consecutive through paths as differential lanes."),
        _reverse_option,
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        _quiet_option,
        _backend_option,
    ]):
        f = deco(f)
    return f


@cli.command("rate", context_settings={"max_content_width": 100})
@_common_channel_options
@click.option("--lane-pitch", type=Quantity("length", positive=True), default=None,
              help="Touchstone input: lane pitch along the die edge, for the bandwidth density.")
@click.option("--module-width", type=Quantity("length", positive=True), default=None,
              help="Touchstone input: die-edge width of the lanes (overrides --lane-pitch).")
@click.option("--module-depth", type=Quantity("length", positive=True), default=None,
              help="Touchstone input: depth of the bump field, for Gb/s per mm^2.")
@click.option("--plot", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for rate_margin.png (margin vs rate).")
@click.option("--eye-height", type=Quantity("voltage", positive=True), default=None,
              callback=_check_eye_height,
              help="Eye height every lane must reach at the BER (e.g. 40mV): with --spec none "
                   "the criterion of a continuous search; with a spec, checked on top of the "
                   "spec's own checks (its eye mask stays).")
@click.option("--eye-width", type=Quantity("ui", positive=True), default=None,
              callback=_check_eye_width,
              help="Eye width every lane must reach at the BER, between 0 and 1 UI (e.g. "
                   "0.5UI); with --spec none or a spec, as --eye-height.")
@click.option("--exhaustive", is_flag=True,
              help="Every lane at every rate (default: above the first failing rate, each "
                   "rate is probed on one lane, the worst at the last rate evaluated in full: a "
                   "failure there settles it, a pass is reported as not settled).")
@click.option("--up-to", "up_to", type=Quantity("rate", positive=True), default=None,
              help="Try no rate above this one (e.g. 32GT/s: UCIe without its 48/64 GT/s "
                   "rows and their equalization search).")
@click.pass_context
@_with_progress("rate", "channel")
def rate_cmd(ctx: click.Context, channel: Path, spec: str, package: str, ber, thru, preset,
             differential, reverse, as_json: bool, quiet: bool, backend, lane_pitch,
             module_width, module_depth, plot: Path | None, eye_height, eye_width,
             exhaustive: bool, up_to: float | None) -> int:
    """Maximum data rate of a channel: every lane at every spec rate.

    \b
    Every rate of the spec (a channel file's own, or --spec: UCIe 4-64 GT/s, BoW,
    AIB, UCIe-3D, a spec file) whose Nyquist frequency the data reach is analysed
    with every lane as victim and the spec's equalization search; the maximum is
    the highest rate below the first failing one (every check of every lane
    passes there and at every lower rate). A channel file is built once on a grid
    reaching the top rate's Nyquist frequency; a spec with a rate_range is
    searched continuously to 0.1 GT/s. Per rate: the worst lane's eye height,
    width, mask, loss and crosstalk margins and its limiting check. The bandwidth
    density at the maximum comes from the channel file's geometry (counted at its
    coarsest-pitch segment) or --lane-pitch/--module-width; for the UCIe advanced
    package it is shown beside UCIe Table 1-4.

    \b
    Exit codes: 0 a maximum rate was found, 1 no rate tried passes, 2 bad input.
    --spec none needs --eye-height and/or --eye-width (at --ber, default 1e-15): a
    continuous search to 0.1 GT/s (rates doubling from 1 GT/s, then bisection).
    With a spec, --eye-height/--eye-width are extra criteria: every lane must meet
    them and every check of the spec. When the end of the input's data, not a
    check, limits the maximum, a note says so ("data_limited" in --json).

    \b
    Examples:
      sigint rate channels/ucie_advanced_2mm.yaml --plot figs
      sigint rate bus.s64p --package standard --lane-pitch 110um --json
      sigint rate channels/hbm3_interposer_5mm.yaml --spec channels/specs/hbm4_user.yaml
      sigint rate bus.s8p --spec none --eye-height 40mV --eye-width 0.5UI
      sigint rate channels/ucie_advanced_2mm.yaml --eye-height 100mV
    """
    _require_files(channel)
    _check_plot_dir(plot)
    from .analysis.rate import spec_rates
    from .backend import get_backend

    explicit = _explicit(ctx, ("spec", "package", "ber"))
    if "package" in explicit:
        own = _spec_of(channel, spec, explicit)
        if own == "none" and "spec" not in explicit and eye_height is None \
                and eye_width is None:
            own = "ucie"            # a link declaring no spec is searched against UCIe
        _check_package(own, package)
    user_spec = spec == "none" and "spec" in explicit     # the eye criteria are the spec
    if user_spec:
        if eye_height is None and eye_width is None:
            from .errors import InputError

            raise InputError("--spec none: there is no spec to pass; give the eye criteria "
                             "for a continuous search, e.g. --eye-height 40mV --eye-width 0.5UI")
    else:
        spec_rates(spec, package)
    be = get_backend(backend)
    try:
        link, opts, models, built = _prepare_channel(
            channel, be, spec=spec, package=package, ber=ber, explicit=explicit, thru=thru,
            preset=preset, differential=differential, reverse=reverse, common={"bits": 0},
            top_rate=_top_rate(channel, spec, package, explicit, up_to))
        if user_spec:
            opts = opts.model_copy(update={"spec": "none"})
        res = _search(channel, link, opts, models, user_spec=user_spec, eye_height=eye_height,
                      eye_width=eye_width, exhaustive=exhaustive, up_to=up_to)
    finally:
        _done()
    res.notes[:0] = [n for n in link.notes if "built once on" in n]
    if res.max_rate is not None:
        res.density = _rate_density(res, built, link.n_lanes, lane_pitch, module_width,
                                    module_depth)
    _emit(as_json, res.to_json(), res.summary())
    if plot is not None:
        paths = res.plot(plot)
        if not as_json:
            click.echo("plots: " + ", ".join(str(p) for p in paths))
    return EXIT_OK if res.max_rate is not None else EXIT_FAIL


def _search(channel: Path, link, opts, models: dict, *, user_spec: bool, eye_height, eye_width,
            exhaustive: bool, up_to: float | None):
    """The rate search of ``sigint rate``: continuous against the eye criteria (``--spec
    none`` or a link declaring no spec) or a spec's continuous range, else over the spec's
    discrete rates at or below *up_to*."""
    from .analysis.rate import search_continuous, search_rates, spec_rates

    criteria = {"eye_height": eye_height, "eye_width": eye_width}
    if user_spec:
        return search_continuous(link, opts, progress=_say, stop=up_to, **criteria, **models)
    if opts.spec == "none":
        if eye_height is not None or eye_width is not None:
            return search_continuous(link, opts, progress=_say, stop=up_to, **criteria,
                                     **models)
        opts = opts.model_copy(update={"spec": "ucie"})
        _warn(f"{channel}: its link declares spec none; searched against UCIe {opts.package}")
    if opts.spec_file().continuous:
        return search_continuous(link, opts, progress=_say, stop=up_to, **criteria, **models)
    rates = None
    if up_to is not None:
        rates = tuple(r for r in spec_rates(opts.spec, opts.package) if r <= up_to * (1 + 1e-9))
        if not rates:
            from .errors import InputError

            raise InputError(f"--up-to {up_to / 1e9:g} GT/s: below the spec's "
                             "lowest rate; give a higher rate")
    res = search_rates(link, opts, progress=_say, exhaustive=exhaustive, rates=rates,
                       **criteria, **models)
    if up_to is not None:
        res.notes.append(f"rates above {up_to / 1e9:g} GT/s not tried (--up-to)")
    return res


def _rate_density(res, built, n_lanes: int, lane_pitch, module_width, module_depth):
    """Bandwidth density at the maximum rate: from the channel file's geometry, else from
    the command line's; beside UCIe Table 1-4 for the UCIe advanced package."""
    from .analysis.rate import UCIE_DENSITY_GBYTES_PER_MM

    if built is not None:
        density = built.density(res.max_rate)
        density.pop("per_segment", None)
    else:
        density = _touchstone_density(n_lanes, res.max_rate, lane_pitch, module_width,
                                      module_depth)
    if density is not None and res.spec == "ucie" and res.package == "advanced":
        density["ucie_table_1_4_gbytes_per_mm"] = UCIE_DENSITY_GBYTES_PER_MM.get(
            round(res.max_rate / 1e9))
        density["gbytes_per_mm"] = density["gbps_per_mm"] / 8
    return density


@cli.command("validate", context_settings={"max_content_width": 100})
@click.argument("channels", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spec", "specs", multiple=True, default=(), metavar="NAME|FILE.yaml",
              callback=lambda _c, _p, v: tuple(_check_spec(x) if x.lower() not in _UCIE_PKGS
                                               else x.lower() for x in v),
              help="Spec to check (repeatable): ucie (with --package or the channel file's "
                   "package), ucie-advanced, ucie-standard, ucie-standard-unterminated, "
                   "ucie-3d, bow, aib, a spec file (YAML), or none (checks nothing and says "
                   "so) [a channel file's own spec; ucie for Touchstone].")
@click.option("--package", type=click.Choice(["advanced", "standard", "standard-unterminated"]),
              default=None, help="UCIe package for --spec ucie [the channel file's, else "
                                 "advanced]; refused when no spec of the run is UCIe.")
@click.option("--rate", type=Quantity("rate", positive=True), default=None,
              help="Rate to check at [a channel file's own rate; required for Touchstone "
                   "unless --max-rate].")
@click.option("--max-rate", is_flag=True,
              help="Check at each channel's maximum rate (the search of `sigint rate`).")
@click.option("--thru", multiple=True, metavar="P:Q", help="Touchstone through paths.")
@click.option("--ports", "preset", type=click.Choice(["skrf", "sequential"]), default=None,
              help="Touchstone port convention.")
@click.option("--diff/--single-ended", "differential", default=False,
              help="Touchstone: pair consecutive paths as differential lanes.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write JUnit XML: a test case per check (CI systems show it).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_quiet_option
@_backend_option
@_with_progress("validate", "channels")
def validate_cmd(channels: tuple[Path, ...], specs: tuple[str, ...], package: str | None,
                 rate: float | None, max_rate: bool, thru, preset, differential,
                 junit: Path | None, as_json: bool, quiet: bool, backend) -> int:
    """Check every channel against every spec, every lane as victim (for CI).

    \b
    Exit codes: 0 every check of every channel passes (or nothing was checked,
    --spec none, which says so), 1 a check fails, 2 bad input. --junit FILE
    writes JUnit XML with a test case per check (the lane with the smallest margin;
    the failing lanes listed); --spec none gives a skipped case.

    \b
    Examples:
      sigint validate channels/ucie_advanced_2mm.yaml --junit results.xml
      sigint validate a.s32p b.s32p --rate 16GT/s --spec ucie-standard --json
    """
    _require_files(*channels)
    if junit is not None and not junit.parent.exists():
        raise click.BadParameter(f"{junit}: directory {junit.parent} does not exist",
                                 param_hint="--junit")
    if junit is not None:
        _check_writable(junit, "--junit")
    if max_rate and rate is not None:
        raise click.UsageError("--rate and --max-rate exclude each other; give one")
    if package is not None:
        _check_validate_package(channels, specs, package)
    for ch in channels:
        if ch.suffix.lower() not in (".yaml", ".yml") and rate is None and not max_rate \
                and any(sp != "none" for sp in (specs or ("ucie",))):
            from .errors import InputError

            raise InputError(f"{ch}: a Touchstone file has no rate of its own; give "
                             "--rate (e.g. 16GT/s) or --max-rate")
    from .analysis.validate import junit_xml, summary
    from .backend import get_backend
    from .errors import InputError

    be = get_backend(backend)
    outcomes = []
    try:
        for ch in channels:
            # at one rate (--rate, else the file's: None) the grid reaches 3 times it, as
            # `sigint analyze` builds it (same eye, same verdict); with --max-rate the
            # Nyquist frequency of the highest rate tried, as the rate search builds it
            top = _validate_top_rate(ch, specs, package) if max_rate else rate
            from .api import ANALYSIS_GRID_RATES

            link, opts, models, built = _prepare_channel(
                ch, be, spec="ucie", package=package or "advanced", ber=None,
                explicit={"package"} if package else set(), thru=thru, preset=preset,
                differential=differential, reverse=(), common={"bits": 0}, top_rate=top,
                reach=None if max_rate else ANALYSIS_GRID_RATES)
            own = opts.spec if built is not None else "ucie"
            for sp in specs or (own,):
                try:
                    outcomes.append(_spec_outcome(ch, sp, link, opts, models, built,
                                                  package=package, rate=rate,
                                                  max_rate=max_rate))
                except InputError as exc:     # name the pair; the other channels' results are kept
                    if junit is not None and outcomes:
                        junit.write_text(junit_xml(outcomes), encoding="utf-8")
                    msg = str(exc)
                    raise type(exc)(msg if msg.startswith(str(ch)) else f"{ch} against {sp}: {msg}") from None
    finally:
        _done()
    if junit is not None:
        junit.write_text(junit_xml(outcomes), encoding="utf-8")
    data = {"passed": (None if all(o.passed is None for o in outcomes)
                       else all(o.passed is not False for o in outcomes)),
            "results": [o.as_dict() for o in outcomes]}
    _emit(as_json, data, summary(outcomes))
    if junit is not None and not as_json:
        click.echo(f"junit: {junit}")
    return EXIT_FAIL if any(o.passed is False for o in outcomes) else EXIT_OK


def _check_validate_package(channels: tuple[Path, ...], specs: tuple[str, ...],
                             package: str) -> None:
    """Refuse ``validate --package`` when no spec of the run has packages (it applies to
    ``--spec ucie`` or a channel file's own UCIe spec; ucie-advanced etc. name their own)."""
    if specs:
        targets = [sp for sp in specs if sp not in _UCIE_PKGS]
        if not targets:
            raise click.BadParameter(
                f"{package}: every --spec given names its own package ("
                + ", ".join(specs) + "); drop --package or give --spec ucie",
                param_hint="--package")
    else:
        targets = [_spec_of(ch, "ucie", set()) for ch in channels]
    first_error = None
    for sp in targets:
        try:
            _check_package(sp, package)
            return
        except click.BadParameter as exc:
            first_error = first_error or exc
    raise first_error


def _validate_top_rate(ch: Path, specs: tuple[str, ...], package: str | None) -> float | None:
    """The highest rate ``sigint validate --max-rate`` tries on *ch* over every spec."""
    if specs:
        tops = [_top_rate(ch, "ucie" if sp in _UCIE_PKGS else sp,
                          sp.removeprefix("ucie-") if sp in _UCIE_PKGS
                          else (package or "advanced"),
                          {"spec"} | ({"package"} if package or sp in _UCIE_PKGS else set()))
                for sp in specs if sp != "none"]
    else:
        tops = [_top_rate(ch, "ucie", package or "advanced", {"package"} if package else set())]
    return max((t for t in tops if t is not None), default=None)


def _spec_outcome(ch: Path, sp: str, link, opts, models: dict, built, *, package: str | None,
                  rate: float | None, max_rate: bool):
    """One channel against one spec for ``sigint validate``: every lane at *rate* (else the
    file's), or at the maximum rate with *max_rate*."""
    from .analysis.lanes import evaluate_lanes
    from .analysis.rate import search_continuous, search_rates
    from .analysis.validate import SpecOutcome

    if sp == "none":
        return SpecOutcome(channel=str(ch), spec="none", rate=None, lanes=None)
    if sp in _UCIE_PKGS:
        name, pkg = "ucie", sp.removeprefix("ucie-")
    else:
        name = sp
        pkg = package or (built.channel.link.package if built is not None else "advanced")
    o = opts.model_copy(update={"spec": name, "package": pkg})
    sf = o.spec_file()
    label = f"ucie {pkg}" if name == "ucie" else sf.spec
    notes: list[str] = []
    if sf.user_written:
        notes.append(f"{sf.spec}: a user-written spec ({sf.title})")
    if max_rate:
        res = (search_continuous(link, o, progress=_say, **models) if sf.continuous
               else search_rates(link, o, progress=_say, **models))
        notes += res.notes
        if res.max_rate is not None:
            row = next(r for r in res.rows if r.rate == res.max_rate)
            how = "maximum rate"
        else:
            row = res.rows[0]
            how = "lowest rate tried; no rate passes"
        return SpecOutcome(channel=str(ch), spec=label, rate=row.rate, lanes=row.lanes,
                           how=how, notes=notes)
    r_at = rate if rate is not None else opts.rate
    how = "--rate" if rate is not None else "the channel file's rate"
    from .analysis.analyze import check_rate

    check_rate(link.f, r_at, str(ch))
    lanes = evaluate_lanes(link, o.model_copy(update={"rate": r_at}), progress=_say, **models)
    return SpecOutcome(channel=str(ch), spec=label, rate=r_at, lanes=lanes, how=how,
                       notes=notes)


@cli.command("extract", context_settings={"max_content_width": 100})
@click.argument("xsection", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--freq", default="1MHz:100GHz:201", show_default=True, metavar="START:STOP:N[:log]",
              help="Frequencies: linear START:STOP:N, logarithmic START:STOP:N:log, or a list "
                   "1GHz,10GHz, or one value 1GHz.")
@click.option("--refine", type=click.FloatRange(0.1, 16.0), default=1.0, show_default=True,
              help="Mesh refinement (2 halves every panel and filament); compare two values "
                   "to see convergence.")
@click.option("--basis", type=click.Choice(["auto", "full", "reduced", "multipole", "surface"]),
              default="auto", show_default=True,
              help="Unknowns of the field solvers: every boundary panel and filament (full), "
                   "or a reduced basis per cluster of them (reduced: the same C and G to "
                   "~1e-9, R and L of thin conductors to ~1e-5, far faster on dense buses), "
                   "or for solid round conductors (TSVs, wires) multipole expansions with no "
                   "filaments (multipole: exact skin and proximity effect at any frequency), "
                   "or for thick conductors unknowns on their surfaces only above a crossover "
                   "frequency, filaments below it (surface: exact interior); auto takes "
                   "multipole wherever it applies, surface where every conductor is 16+ skin "
                   "depths thick at the top frequency, and reduces 3000+ conductor panels and "
                   "4000+ filaments of thin conductors.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save R, L, G, C as netCDF (.nc).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--plot", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for xsection.png (geometry and mesh) and rlgc.png.")
@_report_option
@_quiet_option
@_backend_option
@_with_progress("extract", "xsection")
def extract_cmd(xsection: Path, freq: str, refine: float, basis: str, out: Path | None,
                as_json: bool, plot: Path | None, report: Path | None, quiet: bool,
                backend: str | None) -> int:
    """Extract R(f), L(f), G(f), C(f) of a 2D cross-section.

    \b
    XSECTION is a YAML file (see the README, "Cross-section files"): a planar stack of
    dielectrics (constant, Djordjevic-Sarkar, or conducting silicon), conductors
    (rectangles, trapezoids, circles, rings), buses with an S/G pattern, TSV arrays
    with liners, and the reference (G conductors or an infinite ground plane).

    \b
    C and G: boundary elements with complex permittivity (dielectric and silicon loss).
    R and L: filaments graded to the skin depth at the top frequency (skin and
    proximity effect, finite ground return), exact at every frequency; round
    conductors only (TSV, bump, via arrays): multipole expansions with the exact
    Bessel-function interior, no filaments; conductors many skin depths thick
    (striplines, planes): unknowns on their surfaces above a crossover frequency
    (--basis).
    The summary gives, per line, Z0, eps_eff, delay and loss in dB/mm, and the even
    and odd modes of the first pair.

    \b
    Examples:
      sigint extract channels/xsections/si_interposer_bus16.yaml --out rlgc.nc
      sigint extract tsv.yaml --freq 10MHz:100GHz:41:log --plot figs --json
    """
    _require_files(xsection)
    from .backend import get_backend
    from .extract.rlgc import extract, parse_frequencies
    from .report.extract_report import extract_json, extract_summary, plot_extract

    be = get_backend(backend)
    _check_out(out, (".nc", ".nc4"), "the dataset is netCDF")
    _check_report(report)
    _check_plot_dir(plot)
    freqs = parse_frequencies(freq)
    say, done = _say, _done
    try:
        res = extract(xsection, freqs, refine=refine, backend=be, basis=basis)
    finally:
        done()
    text = extract_summary(res)
    _emit(as_json, extract_json(res), text)
    _save_results(res, out, plot, plot_extract, as_json, say, done)
    _write_report(report, f"sigint extract {xsection.name}", text, res, plot_extract, [xsection],
                  res.backend.describe(), notes=res.notes, as_json=as_json)
    return EXIT_OK


@cli.command("build", context_settings={"max_content_width": 100})
@click.argument("channel", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Touchstone file to write (.sNp; the extension is added when missing).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--no-cache", is_flag=True, help="Extract every cross-section again.")
@click.option("--plot", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for sparams.png (IL, RL, FEXT, NEXT per lane).")
@_report_option
@_quiet_option
@_backend_option
@_with_progress("build", "channel")
def build_cmd(channel: Path, out: Path | None, as_json: bool, no_cache: bool,
              plot: Path | None, report: Path | None, quiet: bool, backend: str | None) -> int:
    """Build a die-to-die channel from its YAML description into 2N-port S-parameters.

    \b
    The channel file (README, "Channel files") lists the link (rate, spec, Tx/Rx),
    the lanes (a bump map of signals and grounds at a pitch), the frequencies, and
    the segments from the Tx die to the Rx die: bump, c4, hybrid_bond, tsv and via
    arrays (round conductors laid out like the bump map, with a 3D end correction),
    traces (a cross-section and a length) and existing Touchstone files. Each
    becomes a 2N-port; they are cascaded with a batched star product.

    \b
    Extractions are cached by content in $SIGINT_CACHE (~/.cache/sigint): a rebuild
    with unchanged cross-sections takes seconds.

    \b
    Examples:
      sigint build channels/ucie_advanced_2mm.yaml -o ucie_a.s32p --plot figs
      sigint analyze channels/ucie_advanced_2mm.yaml --plot figs
    """
    _require_files(channel)
    from .backend import get_backend
    from .channel.build import build_file
    from .io.touchstone import write_touchstone
    from .report.build_report import build_json, build_summary, plot_build

    be = get_backend(backend)
    _check_out(out, (), "")
    _check_report(report)
    _check_plot_dir(plot)
    say, done = _say, _done
    try:
        res = build_file(channel, backend=be, use_cache=not no_cache, warn=_warn)
    finally:
        done()
    text = build_summary(res)
    _emit(as_json, build_json(res), text)
    if out is not None:
        say("writing Touchstone")
        p = write_touchstone(res.network(), out,
                             comment=f"sigint build {channel}: {res.channel.name}\n"
                                     f"backend {res.backend.describe()}")
        done()
        if not as_json:
            click.echo(f"\nwrote {p}")
    _save_results(res, None, plot, plot_build, as_json, say, done)
    _write_report(report, f"sigint build {channel.name}", text, res, plot_build,
                  _channel_inputs(channel, res), res.backend.describe(),
                  notes=[n for seg in res.segments for n in seg.notes], as_json=as_json)
    return EXIT_OK



def _register_sweep() -> None:
    from .sweeps.cli import register

    register(cli, _with_progress, EXIT_OK, EXIT_FAIL)


_register_sweep()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sigint`` console command; returns the exit code."""
    debug = bool(os.environ.get("SIGINT_DEBUG"))
    global _COMMAND_LINE
    _COMMAND_LINE = ["sigint", *(sys.argv[1:] if argv is None else [str(a) for a in argv])]
    try:
        rv = cli.main(args=argv, prog_name="sigint", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return EXIT_INPUT if exc.exit_code == 2 else int(exc.exit_code or EXIT_INPUT)
    except click.exceptions.Abort:
        click.echo("sigint: aborted", err=True)
        return 130
    except SigintError as exc:
        if debug:
            raise
        click.echo(f"sigint: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("\nsigint: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for SIGINT_DEBUG
        if debug:
            raise
        click.echo(f"sigint: internal error ({type(exc).__name__}: {exc}); this is a bug - "
                   "rerun with SIGINT_DEBUG=1 and report the traceback", err=True)
        return EXIT_BUG
    return int(rv) if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
