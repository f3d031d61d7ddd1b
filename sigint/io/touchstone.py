"""Touchstone 1.x / 2.x reading (fast, exact against scikit-rf) and writing.

scikit-rf parses Touchstone line by line in Python, about 13 s for a 64-port file of 2001
points (370 MB of text). :func:`read_touchstone` reads the common case -- S-parameters in
RI, MA or DB format with a full matrix -- through pandas' C tokenizer, which converts text
to the same correctly rounded doubles as Python's ``float``, and then applies scikit-rf's
own formulas (``mag * exp(1j * deg * pi / 180)``, the 2-port ``21_12`` order), so the
result is bit-for-bit the network scikit-rf would return. Everything else (Y/Z/G/H
parameters, lower/upper matrices, mixed-mode order, noise data, HFSS per-frequency port
impedances) is handed to scikit-rf itself. Either way the result is a
:class:`skrf.Network`, checked for what makes it unusable: non-finite numbers, a count of
numbers that is not whole frequency points (a truncated file) and frequencies that do not
increase.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TouchstoneError, input_error

__all__ = ["read_touchstone", "write_touchstone", "TouchstoneHeader", "ports_from_name"]

_FREQ_MULT = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9, "thz": 1e12}
_EXT = re.compile(r"\.[sS](\d+)[pP]$")
_NUMERIC_CHARS = b"0123456789.eE+- \t\r\n"


_COMPRESSED = {".gz": "gzip", ".xz": "lzma", ".bz2": "bz2"}


def _plain_name(path: str | Path) -> str:
    """File name without a compression suffix (``ch.s4p.xz`` -> ``ch.s4p``)."""
    p = str(path)
    for suf in _COMPRESSED:
        if p.lower().endswith(suf):
            return p[: -len(suf)]
    return p


def ports_from_name(path: str | Path) -> int | None:
    """Port count from a ``.sNp`` extension (also under .gz/.xz/.bz2), or None."""
    m = _EXT.search(_plain_name(path))
    return int(m.group(1)) if m else None


@dataclass
class TouchstoneHeader:
    """What the header of a Touchstone file says.

    Attributes
    ----------
    version : str
        ``"1.0"`` or the ``[Version]`` keyword's value.
    nports : int
        Number of ports.
    freq_unit : str
        Lower-case frequency unit (``hz``, ``khz``, ``mhz``, ``ghz``).
    parameter : str
        ``s``, ``y``, ``z``, ``g`` or ``h``.
    fmt : str
        ``ri``, ``ma`` or ``db``.
    z0 : list of float
        Reference resistance per port, ohm.
    data_start : int
        Byte offset of the first network-data line.
    data_end : int
        Byte offset where network data stop (noise data or ``[End]``), or file length.
    """

    version: str = "1.0"
    nports: int = 0
    freq_unit: str = "ghz"
    parameter: str = "s"
    fmt: str = "ma"
    z0: list[float] = field(default_factory=lambda: [50.0])
    two_port_21_12: bool = True
    matrix_format: str = "full"
    n_freq: int | None = None
    data_start: int = 0
    data_end: int = 0
    data_line: int = 0
    fast: bool = True
    why_slow: str = ""


def _fail(path: Path, problem: str, fix: str | None = None, line: int | None = None) -> TouchstoneError:
    where = f"{path}" + (f", line {line}" if line else "")
    return input_error(problem, source=where, fix=fix, cls=TouchstoneError)  # type: ignore[return-value]


def _parse_header(path: Path, data: bytes) -> TouchstoneHeader:
    """Walk the header lines of *data* up to the first network-data line."""
    h = TouchstoneHeader()
    n_from_name = ports_from_name(path)
    pos = 0
    lineno = 0
    option_seen = False
    keyword_v2 = False
    n = len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        raw = data[pos:end]
        lineno += 1
        stripped = raw.split(b"!", 1)[0].strip()
        low = stripped.lower()
        if b"! port impedance" in raw.lower() or raw.lower().lstrip().startswith(b"! gamma"):
            h.fast, h.why_slow = False, "HFSS port-impedance comments"
        if not stripped:
            pos = end + 1
            continue
        if low.startswith(b"#"):
            if not option_seen:
                toks = low[1:].decode("ascii", "replace").split()
                defaults = ["ghz", "s", "ma", "r", "50"]
                toks = toks + defaults[len(toks):]
                unit, param, fmt = toks[0], toks[1], toks[2]
                if unit not in _FREQ_MULT:
                    raise _fail(path, f"option line: frequency unit {unit!r} is not one of Hz, kHz, "
                                "MHz, GHz", "fix the '#' line", lineno)
                if param not in ("s", "y", "z", "g", "h"):
                    raise _fail(path, f"option line: parameter {param!r} is not S, Y, Z, G or H",
                                "fix the '#' line", lineno)
                if fmt not in ("ri", "ma", "db"):
                    raise _fail(path, f"option line: format {fmt!r} is not RI, MA or DB",
                                "fix the '#' line", lineno)
                h.freq_unit, h.parameter, h.fmt = unit, param, fmt
                try:
                    if toks[3] != "r":
                        raise ValueError
                    h.z0 = [float(t) for t in toks[4:]] or [50.0]
                except ValueError:
                    raise _fail(path, "option line: the reference must read 'R <ohms>'",
                                "write e.g. '# GHz S MA R 50'", lineno) from None
                option_seen = True
            pos = end + 1
            continue
        if low.startswith(b"["):
            keyword_v2 = True
            kw, _, rest = low.partition(b"]")
            kw = kw[1:].strip()
            rest_s = rest.decode("ascii", "replace").strip()
            if kw == b"version":
                h.version = rest_s or "2.0"
            elif kw == b"number of ports":
                try:
                    h.nports = int(rest_s)
                except ValueError:
                    raise _fail(path, f"[Number of Ports] {rest_s!r} is not an integer", None,
                                lineno) from None
            elif kw == b"two-port data order":
                h.two_port_21_12 = "21_12" in rest_s
            elif kw == b"number of frequencies":
                try:
                    h.n_freq = int(rest_s)
                except ValueError:
                    raise _fail(path, f"[Number of Frequencies] {rest_s!r} is not an integer",
                                None, lineno) from None
            elif kw == b"matrix format":
                h.matrix_format = rest_s.lower() or "full"
                if h.matrix_format != "full":
                    h.fast, h.why_slow = False, f"[Matrix Format] {rest_s}"
            elif kw == b"reference":
                vals = rest_s.split()
                # the reference may continue on following lines
                p2 = end + 1
                while len(vals) < max(h.nports, 1) and p2 < n:
                    e2 = data.find(b"\n", p2)
                    e2 = n if e2 < 0 else e2
                    more = data[p2:e2].split(b"!", 1)[0].strip().decode("ascii", "replace")
                    if more and not more.startswith("["):
                        vals += more.split()
                        p2 = e2 + 1
                        lineno += 1
                    else:
                        break
                end = p2 - 1
                try:
                    h.z0 = [float(v) for v in vals]
                except ValueError:
                    raise _fail(path, f"[Reference] {' '.join(vals)!r} is not a list of numbers",
                                None, lineno) from None
            elif kw == b"mixed-mode order":
                h.fast, h.why_slow = False, "[Mixed-Mode Order]"
            elif kw == b"network data":
                h.data_start = end + 1
                h.data_line = lineno + 1
                break
            pos = end + 1
            continue
        # a data line
        if keyword_v2:
            raise _fail(path, "data found before the [Network Data] keyword", None, lineno)
        if not option_seen:
            text = raw.strip()[:40].decode("utf-8", "replace")
            if re.match(r"^[+-]?(\d|\.\d)", text):
                raise _fail(path, "not a Touchstone file: numbers come before the '#' option line",
                            "add an option line such as '# GHz S MA R 50'", lineno)
            raise _fail(path, f"not a Touchstone file: line {lineno} ({text!r}) is neither a "
                        "comment (!), an option line (#), a [keyword] nor data",
                        "give a .sNp or .ts file")
        h.data_start = pos
        h.data_line = lineno
        break
    else:
        if not option_seen and not keyword_v2:
            raise _fail(path, "not a Touchstone file: it has no '#' option line and no data",
                        "give a .sNp or .ts file")
        h.data_start = n
    if keyword_v2 and h.nports == 0:
        raise _fail(path, "Touchstone 2 file without [Number of Ports]",
                    "add '[Number of Ports] N'")
    if not keyword_v2:
        if n_from_name is None:
            raise _fail(path, "cannot tell the number of ports: the name does not end in .sNp "
                        "and there is no [Number of Ports] keyword",
                        "rename the file to .sNp, N being its port count")
        h.nports = n_from_name
    if not option_seen:
        raise _fail(path, "no '#' option line", "add e.g. '# GHz S MA R 50' before the data")
    if h.parameter != "s":
        h.fast, h.why_slow = False, f"{h.parameter.upper()}-parameters"
    # where network data stop
    h.data_end = n
    if keyword_v2:
        m = re.compile(rb"^\s*\[(noise data|end)\]", re.I | re.M).search(data, h.data_start)
        if m:
            h.data_end = m.start()
            if m.group(1).lower() == b"noise data":
                h.fast, h.why_slow = False, "noise data"
    return h


def _parse_numbers(path: Path, data: bytes, h: TouchstoneHeader) -> np.ndarray:
    """All numbers of the network-data block, as float64, or a clear error.

    In the common case (no comments or tabs in the data, nothing after it) the file's bytes
    go to pandas as they are, header rows skipped, so the data are never copied.
    """
    import pandas as pd

    start, end = h.data_start, h.data_end
    has_comment = data.find(b"!", start, end) >= 0
    has_tab = data.find(b"\t", start, end) >= 0
    if has_comment or has_tab or end < len(data):
        src = data[start:end]
        if has_comment:
            src = re.sub(rb"![^\n]*", b"", src)
        if has_tab:
            src = src.replace(b"\t", b" ")
        skip, base, line0 = 0, 0, h.data_line
    else:
        src, skip, base, line0 = data, h.data_line - 1, start, h.data_line
    leftover = len(src.translate(None, _NUMERIC_CHARS))
    if skip:
        leftover -= len(data[:start].translate(None, _NUMERIC_CHARS))
    if leftover:
        # find the first offending token to name it with its line
        m = re.compile(rb"[^0-9.eE+\-\s]").search(src, base)
        assert m is not None
        a = src.rfind(b"\n", 0, m.start()) + 1
        b = src.find(b"\n", m.start())
        tokens = src[a:len(src) if b < 0 else b].split()
        bad = next((t for t in tokens if re.search(rb"[^0-9.eE+\-]", t)), b"?")
        line = line0 + src.count(b"\n", base, m.start())
        tok = bad.decode("utf-8", "replace")[:30]
        if tok.lower().lstrip("+-") in ("nan", "inf", "infinity", "1.#qnan", "1.#ind"):
            raise _fail(path, f"the data hold a non-finite value {tok!r}",
                        "re-export the file from its source; sigint will not guess a missing "
                        "value", line)
        raise _fail(path, f"{tok!r} is not a number", "remove the stray text or fix the export",
                    line)
    first_char = re.compile(rb"\S").search(src, base)
    if first_char is None:
        raise _fail(path, "the file has no network data", "check that the export finished")
    eol = src.find(b"\n", first_char.start())
    first = src[first_char.start():eol if eol >= 0 else len(src)]
    ncols = max(len(first.split()) + 1, 9)
    for _ in range(8):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # single-space separator with skipinitialspace is twice as fast as r"\s+"
                # in pandas' C tokenizer; runs of blanks collapse, padding reads as NaN
                frame = pd.read_csv(
                    io.BytesIO(src), sep=" ", skipinitialspace=True, header=None,
                    names=range(ncols), engine="c", dtype=np.float64, skip_blank_lines=True,
                    low_memory=False, skiprows=skip,
                )
            break
        except pd.errors.ParserError as exc:
            m2 = re.search(r"saw (\d+)", str(exc))
            if not m2:
                raise _fail(path, f"the data cannot be tokenized ({exc})") from None
            ncols = int(m2.group(1)) + 1
        except ValueError as exc:  # a token like '1.2.3' or '--5'
            raise _fail(path, f"the data hold a malformed number ({exc})") from None
    else:  # pragma: no cover - would need ever-longer lines
        raise _fail(path, "the data lines are too irregular to read")
    values = frame.to_numpy()
    del frame
    # the data were proven numeric, so NaN here is only the padding of short lines
    return values[~np.isnan(values)]


def _to_network(path: Path, f: np.ndarray, s: np.ndarray, z0: np.ndarray, name: str):
    import skrf

    freq = skrf.Frequency.from_f(f, unit="hz")
    ntwk = skrf.Network(frequency=freq, s=s, z0=z0, name=name)
    return ntwk


def _check_frequencies(path: Path, f: np.ndarray, unit: str) -> None:
    if f.size == 0:
        raise _fail(path, "the file has no frequency points", "check that the export finished")
    if not np.all(np.isfinite(f)):
        raise _fail(path, "a frequency is not finite", "re-export the file")
    if f[0] < 0:
        raise _fail(path, f"the first frequency is negative ({f[0]:g} Hz)", "re-export the file")
    d = np.diff(f)
    bad = np.flatnonzero(d <= 0)
    if bad.size:
        k = int(bad[0])
        mult = _FREQ_MULT.get(unit, 1.0)
        shown = {"hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz", "thz": "THz"}.get(unit, unit)
        raise _fail(
            path,
            f"frequencies must increase, but point {k + 2} ({f[k + 1] / mult:g} {shown}) follows "
            f"{f[k] / mult:g} {shown}",
            "sort the data or remove the repeated points; sigint will not reorder a file",
        )


def read_touchstone(path: str | Path, *, engine: str = "auto"):
    """Read a Touchstone file into a :class:`skrf.Network`.

    Parameters
    ----------
    path : str or Path
        A ``.sNp`` (Touchstone 1.x) or ``.ts``/``.sNp`` (2.x) file.
    engine : {'auto', 'fast', 'skrf'}
        ``auto`` uses the fast reader when the file allows it and scikit-rf otherwise;
        ``skrf`` always uses scikit-rf; ``fast`` refuses files it cannot read itself.

    Returns
    -------
    skrf.Network
        S-parameters with shape (frequency, n, n), frequencies in Hz, ``z0`` in ohm.

    Raises
    ------
    TouchstoneError
        For a missing or unreadable file, text that is not Touchstone, a truncated file,
        non-finite values or frequencies that do not increase.

    Examples
    --------
    >>> import skrf, tempfile, os
    >>> line = skrf.Network(frequency=skrf.Frequency(1, 2, 2, "GHz"),
    ...                     s=[[[0, 1], [1, 0]]] * 2, z0=50)
    >>> d = tempfile.mkdtemp(); line.write_touchstone(os.path.join(d, "thru"))
    >>> read_touchstone(os.path.join(d, "thru.s2p")).s21.s[:, 0, 0].real
    array([1., 1.])
    """
    p = Path(path)
    if not p.exists():
        raise _fail(p, "no such file", "check the path")
    if p.is_dir():
        raise _fail(p, "is a directory, not a Touchstone file", "give a .sNp or .ts file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise _fail(p, f"cannot be read ({exc.strerror})", "check its permissions") from None
    codec = _COMPRESSED.get(p.suffix.lower())
    if codec:
        import importlib

        try:
            data = importlib.import_module(codec).decompress(data)
        except Exception as exc:  # EOFError, lzma.LZMAError, OSError, zlib.error ...
            raise _fail(p, f"cannot be decompressed as {p.suffix} ({type(exc).__name__})",
                        "check that the download or copy is complete") from None
    if b"\x00" in data[:4096]:
        raise _fail(p, "is a binary file, not Touchstone text", "give a .sNp or .ts file")
    h = _parse_header(p, data)
    use_fast = engine == "fast" or (engine == "auto" and h.fast)
    if engine == "fast" and not h.fast:
        raise _fail(p, f"the fast reader does not handle {h.why_slow}", "use engine='auto'")
    n = h.nports
    if use_fast:
        vals = _parse_numbers(p, data, h)
        per = 1 + 2 * n * n
        if vals.size % per and n == 2 and h.version.startswith("1"):
            # a v1 two-port may append noise parameters (5 numbers a line): scikit-rf knows
            try:
                return _read_with_skrf(p, n, data if codec else None)
            except TouchstoneError:
                pass
        if vals.size % per:
            nf_full = vals.size // per
            raise _fail(
                p,
                f"the file is truncated or malformed: it holds {vals.size} numbers, not a whole "
                f"number of frequency points ({per} numbers each for {n} ports; {nf_full} "
                f"complete points and {vals.size - nf_full * per} left over)",
                "re-export the file; check that the transfer finished",
            )
        table = vals.reshape(-1, per)
        f = table[:, 0].copy()
        if (
            n == 2 and h.version.startswith("1") and f.size > 1 and np.any(np.diff(f) <= 0)
        ):  # a v1 two-port may carry noise data after a frequency step back: scikit-rf
            use_fast = False
    if use_fast:
        if h.n_freq is not None and h.n_freq != f.size:
            raise _fail(p, f"[Number of Frequencies] says {h.n_freq} but the data hold "
                        f"{f.size} points", "re-export the file")
        raw = table[:, 1:]
        if h.fmt == "db":
            raw = raw.copy()
            raw[:, 0::2] = 10 ** (raw[:, 0::2] / 20.0)
        if h.fmt in ("ma", "db"):  # scikit-rf's formula, operation for operation
            s_flat = raw[:, 0::2] * np.exp(1j * raw[:, 1::2] * np.pi / 180)
        else:
            s_flat = np.ascontiguousarray(raw).view(np.complex128)
        if n == 2 and h.two_port_21_12:
            s = np.transpose(s_flat.reshape((-1, 2, 2)), axes=(0, 2, 1))
        else:
            s = s_flat.reshape((-1, n, n))
        f = f * _FREQ_MULT[h.freq_unit]
        z0v = np.asarray(h.z0, dtype=complex)
        if z0v.size not in (1, n):
            raise _fail(p, f"{z0v.size} reference impedances for {n} ports",
                        "give one per port or one for all")
        z0 = np.broadcast_to(z0v if z0v.size == n else z0v[0], (f.size, n)).copy()
        _check_frequencies(p, f, h.freq_unit)
        return _to_network(p, f, s, z0, Path(_plain_name(p.name)).stem)
    return _read_with_skrf(p, n, data if codec else None)


def _read_with_skrf(p: Path, n: int, data: bytes | None = None):
    import tempfile

    import skrf

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if data is None:
                ntwk = skrf.Network(str(p))
            else:  # scikit-rf reads files by name: give it the decompressed text
                with tempfile.TemporaryDirectory() as d:
                    plain = Path(d) / Path(_plain_name(p.name)).name
                    plain.write_bytes(data)
                    ntwk = skrf.Network(str(plain))
    except Exception as exc:  # scikit-rf raises many kinds on malformed text
        raise _fail(p, f"scikit-rf cannot read it ({type(exc).__name__}: {exc})",
                    "check that it is a complete Touchstone file") from None
    if ntwk.s.shape[1] != n:
        raise _fail(p, f"holds {ntwk.s.shape[1]} ports but its header says {n}")
    if not np.all(np.isfinite(ntwk.s)):
        k = int(np.argwhere(~np.isfinite(ntwk.s))[0, 0])
        raise _fail(p, f"the data hold a non-finite value at point {k + 1} "
                    f"({ntwk.f[k]:g} Hz)", "re-export the file from its source")
    _check_frequencies(p, ntwk.f, "hz")
    return ntwk


def write_touchstone(ntwk, path: str | Path, *, fmt: str = "ri", comment: str | None = None) -> Path:
    """Write *ntwk* as Touchstone 1.1 via scikit-rf and return the file's path.

    Parameters
    ----------
    ntwk : skrf.Network
        The network to write.
    path : str or Path
        Target file; the ``.sNp`` extension is added when missing.
    fmt : {'ri', 'ma', 'db'}
        Number format.
    comment : str, optional
        Text written as ``!`` comment lines at the top.
    """
    p = Path(path)
    n = ntwk.nports
    if ports_from_name(p) != n:
        p = p.with_name(p.name + f".s{n}p") if p.suffix.lower() != f".s{n}p" else p
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt not in ("ri", "ma", "db"):
        raise ValueError(f"fmt must be 'ri', 'ma' or 'db', not {fmt!r}")
    out = ntwk.copy()
    out.comments = comment or ""
    out.write_touchstone(filename=p.stem, dir=str(p.parent), form=fmt, skrf_comment=False)
    return p

