"""Touchstone 1.x / 2.x reading (fast, every header honoured) and writing.

scikit-rf parses Touchstone line by line in Python, about 13 s for a 64-port file of 2001
points (370 MB of text). :func:`read_touchstone` walks the header itself and reads the
numbers through pandas' C tokenizer, which converts text to the same correctly rounded
doubles as Python's ``float``; S-parameters in RI, MA or DB then go through scikit-rf's own
formulas (``mag * exp(1j * deg * pi / 180)``, the 2-port ``21_12`` order), so a plain S file
gives bit for bit the network scikit-rf returns. What the header says about the numbers'
meaning is applied here too, not handed on: the parameter and its normalization (Touchstone
1 stores normalized Y, Z, H and G; scikit-rf 2.2 de-normalizes v1 Y the wrong way), the
matrix format, the mixed-mode order, per-port and per-frequency (HFSS) references, and the
frequency unit is checked against the values. Only a Touchstone 1 two-port with noise
parameters goes to scikit-rf. The result is a :class:`skrf.Network`, checked for what makes
it unusable: non-finite numbers, a count of numbers that is not whole frequency points (a
truncated file), frequencies that do not increase or cannot be in the option line's unit.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TouchstoneError, input_error
from ..threads import small_matrix_blas

__all__ = ["read_touchstone", "write_touchstone", "TouchstoneHeader", "ports_from_name"]

_FREQ_MULT = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9, "thz": 1e12}
_UNIT_NAME = {"hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz", "thz": "THz"}
_EXT = re.compile(r"\.[sS](\d+)[pP]$")
_NUMERIC_CHARS = b"0123456789.eE+- \t\r\n"
#: Highest plausible frequency of interconnect data, Hz: above it the option line's unit is
#: not the unit the numbers were written in.
F_PLAUSIBLE_MAX = 10e12


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
        Reference resistance per port, ohm (one entry: every port).
    two_port_21_12 : bool
        Two-port data in the order S11 S21 S12 S22 (Touchstone 1 and the 2.0 default).
    matrix_format : str
        ``full``, ``upper`` or ``lower`` (``[Matrix Format]``).
    n_freq : int or None
        ``[Number of Frequencies]``, when given.
    data_start : int
        Byte offset of the first network-data line.
    data_end : int
        Byte offset where network data stop (noise data or ``[End]``), or file length.
    data_line : int
        1-based line number of the first network-data line.
    option_line : int
        1-based line number of the ``#`` option line.
    option_text : str
        The option line as written.
    mixed_mode : list of (str, int, int) or None
        ``[Mixed-Mode Order]`` as (``d``/``c``/``s``, 0-based port i, port j or -1).
    hfss_port_z : bool
        Whether HFSS ``! Port Impedance`` comments follow the frequencies.
    notes : list of str
        Remarks about the header (unusual token order, unused keywords).
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
    option_line: int = 0
    option_text: str = ""
    mixed_mode: list | None = None
    hfss_port_z: bool = False
    notes: list[str] = field(default_factory=list)


def _fail(path: Path, problem: str, fix: str | None = None, line: int | None = None) -> TouchstoneError:
    where = f"{path}" + (f", line {line}" if line else "")
    return input_error(problem, source=where, fix=fix, cls=TouchstoneError)  # type: ignore[return-value]


_PARAMS = ("s", "y", "z", "g", "h")
_FORMATS = ("ri", "ma", "db")
#: Touchstone 2 keywords whose content sigint does not need (IBIS Touchstone 2.0/2.1).
_UNUSED_KEYWORDS = (b"number of noise frequencies", b"end", b"noise data")
_MM_TOKEN = re.compile(r"^([dcs])(\d+)(?:,(\d+))?$")
_BOM = b"\xef\xbb\xbf"


def _option_line(path: Path, h: TouchstoneHeader, text: str, lineno: int, original: str) -> None:
    """Read the '#' line's tokens in whatever order they come (the format fixes none)."""
    toks = text.split()
    kinds = []
    unit = param = fmt = None
    z0: list[float] | None = None
    i = 0
    names = ("frequency unit", "parameter", "format")
    while i < len(toks):
        t = toks[i]
        if t in _FREQ_MULT and unit is None:
            unit, kind = t, "unit"
        elif t in _PARAMS and param is None:
            param, kind = t, "param"
        elif t in _FORMATS and fmt is None:
            fmt, kind = t, "fmt"
        elif t == "r" and z0 is None:
            vals = []
            while i + 1 < len(toks):
                try:
                    vals.append(float(toks[i + 1]))
                except ValueError:
                    break
                i += 1
            if not vals or not all(v > 0 and np.isfinite(v) for v in vals):
                raise _fail(path, f"option line {text.strip()!r}: the reference must read "
                            "'R <ohms>' with positive resistances", "write e.g. '# GHz S MA R 50'",
                            lineno)
            z0, kind = vals, "r"
        else:
            what = names[i] if i < 3 else "token"
            allowed = {"frequency unit": "is not one of Hz, kHz, MHz, GHz",
                       "parameter": "is not S, Y, Z, G or H",
                       "format": "is not RI, MA or DB"}.get(
                what, "is not a unit, parameter, format or 'R <ohms>' (or it is repeated)")
            raise _fail(path, f"option line: {what} {t!r} {allowed}",
                        "fix the '#' line, e.g. '# GHz S MA R 50'", lineno)
        kinds.append(kind)
        i += 1
    h.freq_unit = unit or "ghz"
    h.parameter = param or "s"
    h.fmt = fmt or "ma"
    h.z0 = z0 or [50.0]
    h.option_line, h.option_text = lineno, original.strip()
    canonical = [k for k in ("unit", "param", "fmt", "r") if k in kinds]
    if kinds != canonical:
        h.notes.append(f"{path.name}: option line '{h.option_text}' has its tokens in an unusual "
                       f"order; read as unit {_UNIT_NAME[h.freq_unit]}, parameter "
                       f"{h.parameter.upper()}, "
                       f"format {h.fmt.upper()}, R {' '.join(f'{v:g}' for v in h.z0)}")


def _mixed_mode_order(path: Path, tokens: list[str], n: int, lineno: int) -> list[tuple]:
    """Parse ``[Mixed-Mode Order]`` tokens (``D1,2``, ``C3,4``, ``S5``) into (kind, i, j)."""
    out = []
    for t in tokens:
        m = _MM_TOKEN.match(t.lower())
        if not m or (m.group(1) in "dc") != (m.group(3) is not None):
            raise _fail(path, f"[Mixed-Mode Order] token {t!r} is not D<i>,<j>, C<i>,<j> or S<i>",
                        "write e.g. '[Mixed-Mode Order] D1,3 D2,4 C1,3 C2,4'", lineno)
        i = int(m.group(2)) - 1
        j = int(m.group(3)) - 1 if m.group(3) else -1
        out.append((m.group(1), i, j))
    if len(out) != n:
        raise _fail(path, f"[Mixed-Mode Order] names {len(out)} ports but the file has {n}",
                    "give one D, C or S entry per port", lineno)
    cover = sorted(p for k, i, j in out for p in ((i,) if k == "s" else (i, j)) if k != "c")
    d_pairs = sorted((i, j) for k, i, j in out if k == "d")
    c_pairs = sorted((i, j) for k, i, j in out if k == "c")
    if cover != list(range(n)) or d_pairs != c_pairs:
        raise _fail(path, f"[Mixed-Mode Order] {' '.join(tokens)!r} does not name every "
                    f"single-ended port 1-{n} once, with a C entry for every D pair",
                    "fix the keyword", lineno)
    return out


@dataclass
class _Scan:
    """Where the walk through a header stands: the bytes, the current line, what was seen."""

    path: Path
    data: bytes
    pos: int = 0                 # byte offset of the current line
    end: int = 0                 # byte offset where the current line (or list) ends
    lineno: int = 0
    option_seen: bool = False
    keyword_v2: bool = False
    mm_tokens: list[str] | None = None
    mm_line: int = 0

    def line(self) -> bytes:
        """The line at ``pos`` (without its newline); ``end`` and ``lineno`` advance."""
        end = self.data.find(b"\n", self.pos)
        self.end = len(self.data) if end < 0 else end
        self.lineno += 1
        return self.data[self.pos:self.end]


def _parse_header(path: Path, data: bytes) -> TouchstoneHeader:
    """Walk the header lines of *data* up to the first network-data line."""
    h = TouchstoneHeader()
    sc = _Scan(path, data)
    n = len(data)
    while sc.pos < n:
        raw = sc.line()
        stripped = raw.split(b"!", 1)[0].strip()
        low = stripped.lower()
        if low.startswith(b"#"):
            if not sc.option_seen:
                _option_line(path, h, low[1:].decode("ascii", "replace"), sc.lineno,
                             stripped.decode("ascii", "replace"))
                sc.option_seen = True
        elif low.startswith(b"["):
            sc.keyword_v2 = True
            if _keyword(h, sc, low):
                break
        elif stripped:
            _first_data_line(h, sc, raw)
            break
        sc.pos = sc.end + 1
    else:
        if not sc.option_seen and not sc.keyword_v2:
            raise _fail(path, "not a Touchstone file: it has no '#' option line and no data",
                        "give a .sNp or .ts file")
        h.data_start = n
    _check_header(h, sc)
    _locate_data(h, sc)
    return h


def _keyword(h: TouchstoneHeader, sc: _Scan, low: bytes) -> bool:
    """Apply one ``[Keyword] value`` line (lower case) to *h*; True at ``[Network Data]``."""
    path, lineno = sc.path, sc.lineno
    kw, _, rest = low.partition(b"]")
    kw = b" ".join(kw[1:].split())
    rest_s = rest.decode("ascii", "replace").strip()
    if kw == b"version":
        h.version = rest_s or "2.0"
    elif kw == b"number of ports":
        try:
            h.nports = int(rest_s)
            if h.nports < 1:
                raise ValueError
        except ValueError:
            raise _fail(path, f"[Number of Ports] {rest_s!r} is not a positive integer",
                        None, lineno) from None
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
        if h.matrix_format not in ("full", "upper", "lower"):
            raise _fail(path, f"[Matrix Format] {rest_s!r} is not Full, Upper or Lower",
                        "fix the keyword", lineno)
    elif kw == b"reference":
        h.z0 = _reference(sc, _keyword_list(sc, rest_s, h.nports))
    elif kw == b"mixed-mode order":
        sc.mm_tokens = _keyword_list(sc, rest_s, h.nports)
        sc.mm_line = sc.lineno
    elif kw == b"begin information":
        _skip_information(sc)
    elif kw == b"network data":
        h.data_start = sc.end + 1
        h.data_line = lineno + 1
        return True
    elif kw not in _UNUSED_KEYWORDS and kw != b"end information":
        h.notes.append(f"{path.name}: keyword [{kw.decode('ascii', 'replace')}] on line "
                       f"{lineno} is not one sigint uses; ignored")
    return False


def _keyword_list(sc: _Scan, rest: str, nports: int) -> list[str]:
    """The values of a list keyword, which may continue on the following lines (blank and
    comment lines inside it skipped) until *nports* values or the next keyword."""
    data, n = sc.data, len(sc.data)
    vals = rest.split()
    p2 = sc.end + 1
    while len(vals) < max(nports, 1) and p2 < n:
        e2 = data.find(b"\n", p2)
        e2 = n if e2 < 0 else e2
        more = data[p2:e2].split(b"!", 1)[0].strip().decode("ascii", "replace")
        if more and not more.startswith("["):
            vals += more.split()
        elif more or data[p2:e2].strip().startswith(b"["):
            break
        p2 = e2 + 1
        sc.lineno += 1
    sc.end = p2 - 1
    return vals


def _reference(sc: _Scan, vals: list[str]) -> list[float]:
    """``[Reference]`` values as positive resistances, ohm."""
    try:
        z0 = [float(v) for v in vals]
    except ValueError:
        raise _fail(sc.path, f"[Reference] {' '.join(vals)!r} is not a list of numbers", None,
                    sc.lineno) from None
    if not all(v > 0 and np.isfinite(v) for v in z0):
        raise _fail(sc.path, f"[Reference] {' '.join(vals)!r}: reference impedances must be "
                    "positive", None, sc.lineno)
    return z0


def _skip_information(sc: _Scan) -> None:
    """Move past a ``[Begin Information]`` ... ``[End Information]`` block."""
    m = re.compile(rb"^[ \t]*\[end information\]", re.I | re.M).search(sc.data, sc.end)
    if m is None:
        raise _fail(sc.path, "[Begin Information] without [End Information]", "close the block",
                    sc.lineno)
    sc.lineno += sc.data.count(b"\n", sc.end, m.start())
    sc.end = m.end()
    nl = sc.data.find(b"\n", sc.end)
    if nl >= 0:
        sc.end = nl


def _first_data_line(h: TouchstoneHeader, sc: _Scan, raw: bytes) -> None:
    """Mark the data's start at the current line, or refuse a line that cannot be data."""
    path, lineno = sc.path, sc.lineno
    if sc.keyword_v2:
        raise _fail(path, "data found before the [Network Data] keyword", None, lineno)
    if not sc.option_seen:
        text = raw.strip()[:40].decode("utf-8", "replace")
        if re.match(r"^[+-]?(\d|\.\d)", text):
            raise _fail(path, "not a Touchstone file: numbers come before the '#' option line",
                        "add an option line such as '# GHz S MA R 50'", lineno)
        raise _fail(path, f"not a Touchstone file: line {lineno} ({text!r}) is neither a "
                    "comment (!), an option line (#), a [keyword] nor data",
                    "give a .sNp or .ts file")
    h.data_start = sc.pos
    h.data_line = lineno


def _check_header(h: TouchstoneHeader, sc: _Scan) -> None:
    """Port count, option line, parameter and references consistent with each other."""
    path = sc.path
    if sc.keyword_v2 and h.nports == 0:
        raise _fail(path, "Touchstone 2 file without [Number of Ports]",
                    "add '[Number of Ports] N'")
    if not sc.keyword_v2:
        n_from_name = ports_from_name(path)
        if n_from_name is None:
            raise _fail(path, "cannot tell the number of ports: the name does not end in .sNp "
                        "and there is no [Number of Ports] keyword",
                        "rename the file to .sNp, N being its port count")
        h.nports = n_from_name
    if not sc.option_seen:
        raise _fail(path, "no '#' option line", "add e.g. '# GHz S MA R 50' before the data")
    if h.parameter in ("g", "h") and h.nports != 2:
        raise _fail(path, f"{h.parameter.upper()}-parameters are defined for two-ports only, but "
                    f"the file has {h.nports} ports", "export S-parameters", h.option_line)
    if len(h.z0) not in (1, h.nports):
        raise _fail(path, f"{len(h.z0)} reference impedances for {h.nports} ports",
                    "give one per port or one for all")
    if sc.mm_tokens is not None:
        h.mixed_mode = _mixed_mode_order(path, sc.mm_tokens, h.nports, sc.mm_line)
        if h.parameter != "s":
            raise _fail(path, f"mixed-mode {h.parameter.upper()}-parameters are not supported",
                        "export mixed-mode S-parameters or single-ended data", sc.mm_line)
    if not sc.keyword_v2 and h.matrix_format != "full":  # pragma: no cover - v1 has no keyword
        h.matrix_format = "full"


def _locate_data(h: TouchstoneHeader, sc: _Scan) -> None:
    """Where the network data stop, and whether HFSS port-impedance comments follow them."""
    data = sc.data
    h.data_end = len(data)
    if sc.keyword_v2:
        m = re.compile(rb"^\s*\[(noise data|end)\]", re.I | re.M).search(data, h.data_start)
        if m:
            h.data_end = m.start()
    # HFSS writes the port impedances as comments after every frequency ("not renormalized")
    first_bang = data.find(b"!", h.data_start)        # memchr: HFSS comments follow data
    if not sc.keyword_v2 and first_bang >= 0 and _HFSS_FIND.search(data, first_bang) is not None:
        h.hfss_port_z = True


_HFSS_Z = re.compile(rb"^[ \t]*![ \t]*port[ \t]+impedance", re.I | re.M)
#: the same without the line anchor, which the regex engine scans for at C speed ('!' first)
_HFSS_FIND = re.compile(rb"![ \t]*port[ \t]+impedance", re.I)


def _hfss_port_impedances(path: Path, data: bytes, n: int, nf: int) -> np.ndarray:
    """Per-frequency port impedances from HFSS ``! Port Impedance`` comment blocks, (F, n).

    A block is the keyword line and the comment lines holding only numbers after it; it gives
    one complex value per port, or the full n x n matrix of which the diagonal belongs to the
    ports (the layout scikit-rf also reads).
    """
    lines = data.split(b"\n")
    blocks = []
    num = re.compile(rb"^[ \t]*!([ \t0-9.eE+\-]*)\r?$")
    k = 0
    while k < len(lines):
        ln = lines[k]
        m = _HFSS_Z.match(ln)
        if m:
            vals = ln[m.end():].split()
            k += 1
            while k < len(lines):
                mm = num.match(lines[k])
                if not mm or not mm.group(1).strip():
                    break
                vals += mm.group(1).split()
                k += 1
            try:
                blocks.append([float(v) for v in vals])
            except ValueError:
                raise _fail(path, f"'! Port Impedance' block {len(blocks) + 1} holds a value "
                            "that is not a number", "re-export the file") from None
            continue
        k += 1
    if len(blocks) != nf:
        raise _fail(path, f"{len(blocks)} '! Port Impedance' blocks for {nf} frequencies",
                    "re-export the file with the port impedances of every frequency")
    sizes = {len(b) for b in blocks}
    if sizes not in ({2 * n}, {2 * n * n}):
        raise _fail(path, f"'! Port Impedance' blocks hold {sorted(sizes)} numbers; expected "
                    f"{2 * n} (one complex value per port) or {2 * n * n}", "re-export the file")
    z = np.array(blocks, dtype=float).view(np.complex128)
    if z.shape[1] == n * n and n > 1:
        z = np.diagonal(z.reshape(-1, n, n), axis1=1, axis2=2).copy()
    if not np.all(np.isfinite(z)) or np.any(z.real <= 0):
        raise _fail(path, "an HFSS port impedance is not finite or has no positive real part",
                    "re-export the file")
    return z


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
        m = re.compile(rb"[^0-9.eE+\- \t\r\n]").search(src, base)
        if m is None:  # pragma: no cover - the translate count above found one
            raise _fail(path, "the data hold characters that are not numbers")
        a = src.rfind(b"\n", 0, m.start()) + 1
        b = src.find(b"\n", m.start())
        tokens = re.split(rb"[ \t\r]+", src[a:len(src) if b < 0 else b])
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


def _check_frequencies(path: Path, f: np.ndarray, h: TouchstoneHeader) -> None:
    unit = h.freq_unit
    if f.size == 0:
        raise _fail(path, "the file has no frequency points", "check that the export finished")
    if not np.all(np.isfinite(f)):
        raise _fail(path, "a frequency is not finite", "re-export the file")
    if f[0] < 0:
        raise _fail(path, f"the first frequency is negative ({f[0]:g} Hz)", "re-export the file")
    mult = _FREQ_MULT.get(unit, 1.0)
    shown = _UNIT_NAME.get(unit, unit)
    if f[-1] > F_PLAUSIBLE_MAX:
        # the values were written in a smaller unit than the option line says
        guess = next((u for u, m in (("Hz", 1.0), ("kHz", 1e3), ("MHz", 1e6))
                      if f[-1] / mult * m <= F_PLAUSIBLE_MAX), "Hz")
        raise _fail(path, f"the option line '{h.option_text.strip()}' gives the frequencies in "
                    f"{shown}, which puts the last point at {f[-1] / 1e12:.4g} THz (step "
                    f"{(f[1] - f[0]) / 1e12 if f.size > 1 else 0:.4g} THz); no interconnect is "
                    f"measured there, so the values are in another unit",
                    f"write the unit the numbers are in on the option line (probably '{guess}')",
                    h.option_line or None)
    d = np.diff(f)
    bad = np.flatnonzero(d <= 0)
    if bad.size:
        k = int(bad[0])
        raise _fail(
            path,
            f"frequencies must increase, but point {k + 2} ({f[k + 1] / mult:g} {shown}) follows "
            f"{f[k] / mult:g} {shown}",
            "sort the data or remove the repeated points; sigint will not reorder a file",
        )


@small_matrix_blas()
def _hybrid_to_s(p: np.ndarray, kind: str) -> np.ndarray:
    """S from a normalized Z, Y, H or G matrix, (F, n, n).

    With normalized waves :math:`v = a + b`, :math:`i = a - b` (reference 1), a parameter
    matrix :math:`P` relates outputs :math:`x = A_x a + B_x b` to inputs
    :math:`u = A_u a + B_u b` by :math:`x = P u`, so
    :math:`S = (P B_u - B_x)^{-1} (A_x - P A_u)`. Z: x = v, u = i; Y: x = i, u = v;
    H: x = (v1, i2), u = (i1, v2); G: x = (i1, v2), u = (v1, i2) (Pozar, Microwave
    Engineering, 4th ed., section 4.3-4.4 and Table 4.2).
    """
    n = p.shape[-1]
    volt = {"z": np.ones(n), "y": np.zeros(n), "h": np.array([1.0, 0.0]),
            "g": np.array([0.0, 1.0])}[kind]     # 1 where x is a voltage
    ax = np.diag(np.ones(n))
    bx = np.diag(np.where(volt == 1, 1.0, -1.0))
    au = np.diag(np.ones(n))
    bu = np.diag(np.where(volt == 1, -1.0, 1.0))
    lhs = p @ bu - bx
    rhs = ax - p @ au
    try:
        return np.linalg.solve(lhs, rhs)
    except np.linalg.LinAlgError:
        return np.full_like(p, np.nan)


def _normalize(p: np.ndarray, kind: str, r: np.ndarray) -> np.ndarray:
    """Touchstone 2 values (not normalized) to the normalized matrix of :func:`_hybrid_to_s`.

    :math:`z = R^{-1/2} Z R^{-1/2}`, :math:`y = R^{1/2} Y R^{1/2}`; for H and G the voltage
    rows and columns scale by :math:`R^{-1/2}`, the current ones by :math:`R^{1/2}`.
    """
    sq = np.sqrt(r)
    n = r.size
    volt = {"z": np.ones(n), "y": np.zeros(n), "h": np.array([1.0, 0.0]),
            "g": np.array([0.0, 1.0])}[kind]
    # x = P u, x_n = Dx x, u_n = Du u, so p = Dx P Du^-1 with Dx, Du = 1/sqrt(R) for a
    # voltage and sqrt(R) for a current; at each port u is a current where x is a voltage
    dx = np.where(volt == 1, 1 / sq, sq)
    du_inv = np.where(volt == 1, 1 / sq, sq)
    return dx[None, :, None] * p * du_inv[None, None, :]


def _mixed_to_single(s_mm: np.ndarray, order: list[tuple], z0: np.ndarray, path: Path,
                     notes: list[str]) -> np.ndarray:
    """Single-ended S from mixed-mode S in the file's ``[Mixed-Mode Order]``.

    With equal single-ended references R on the two legs of each pair and the mixed-mode
    references 2R (differential) and R/2 (common), the mixed-mode waves are
    :math:`a_d = (a_i - a_j)/\\sqrt 2`, :math:`a_c = (a_i + a_j)/\\sqrt 2`
    (Bockelman & Eisenstadt, IEEE T-MTT 43(7), 1995), an orthogonal map M, so
    :math:`S_{se} = M^T S_{mm} M`.
    """
    n = len(order)
    m = np.zeros((n, n))
    r = 1 / np.sqrt(2)
    for row, (kind, i, j) in enumerate(order):
        if kind == "s":
            m[row, i] = 1.0
        else:
            if abs(z0[i] - z0[j]) > 1e-9 * abs(z0[i]):
                raise _fail(path, f"[Mixed-Mode Order] pairs ports {i + 1} and {j + 1}, whose "
                            f"references differ ({z0[i]:g} and {z0[j]:g} ohm)",
                            "give both legs of a pair the same [Reference]")
            m[row, i], m[row, j] = r, (-r if kind == "d" else r)
    notes.append(f"{path.name}: [Mixed-Mode Order] {' '.join(_mm_name(o) for o in order)} "
                 "honoured: converted to single-ended ports 1-" + str(n))
    return np.einsum("ki,fkl,lj->fij", m, s_mm, m)


def _mm_name(o: tuple) -> str:
    k, i, j = o
    return f"{k.upper()}{i + 1}" + (f",{j + 1}" if k != "s" else "")


def read_touchstone(path: str | Path, *, engine: str = "auto", notes: list[str] | None = None):
    """Read a Touchstone file into a :class:`skrf.Network`.

    Every header is honoured: the option line (its tokens in any order), per-port
    references (option line, ``[Reference]``, HFSS ``! Port Impedance`` comments after each
    frequency, complex and frequency-dependent), the parameter (S, Y, Z; H and G for
    two-ports) with the version's normalization (Touchstone 1 stores Y x R, Z / R, H11 / R,
    H22 x R, G11 x R, G22 / R; Touchstone 2 stores values as they are), ``[Matrix Format]``
    Full/Upper/Lower, ``[Mixed-Mode Order]`` (converted to single-ended ports 1..N),
    ``[Begin Information]`` blocks and a UTF-8 byte-order mark.

    Parameters
    ----------
    path : str or Path
        A ``.sNp`` (Touchstone 1.x) or ``.ts``/``.sNp`` (2.x) file.
    engine : {'auto', 'fast', 'skrf'}
        ``auto`` reads the file itself, except a Touchstone 1 two-port with noise
        parameters (scikit-rf); ``skrf`` always uses scikit-rf; ``fast`` refuses what it
        cannot read itself.
    notes : list of str, optional
        Receives one sentence per thing read in an unusual way (an option line in an
        unusual order, an unknown keyword, a conversion).

    Returns
    -------
    skrf.Network
        S-parameters with shape (frequency, n, n), frequencies in Hz, ``z0`` in ohm
        (shape (frequency, n), complex).

    Raises
    ------
    TouchstoneError
        For a missing or unreadable file, text that is not Touchstone, a truncated file,
        non-finite values, frequencies that do not increase or a unit that cannot be right.

    Examples
    --------
    >>> import skrf, tempfile, os
    >>> line = skrf.Network(frequency=skrf.Frequency(1, 2, 2, "GHz"),
    ...                     s=[[[0, 1], [1, 0]]] * 2, z0=50)
    >>> d = tempfile.mkdtemp(); line.write_touchstone(os.path.join(d, "thru"))
    >>> read_touchstone(os.path.join(d, "thru.s2p")).s21.s[:, 0, 0].real
    array([1., 1.])
    """
    notes = [] if notes is None else notes
    p = Path(path)
    data, changed = _file_bytes(p)
    h = _parse_header(p, data)
    n = h.nports
    if engine == "skrf":
        return _read_with_skrf(p, n, data if changed else None)
    vals = _parse_numbers(p, data, h)
    per = 1 + 2 * (n * n if h.matrix_format == "full" else n * (n + 1) // 2)
    v1_two_port = n == 2 and h.version.startswith("1")
    if v1_two_port and (vals.size % per or _steps_back(vals, per)):
        # a v1 two-port may append noise parameters (5 numbers a line): scikit-rf knows
        if engine == "fast":
            raise _fail(p, "the fast reader does not handle noise parameters", "use engine='auto'")
        try:
            return _read_with_skrf(p, n, data)
        except TouchstoneError:
            pass
    f, x = _matrices(p, vals, h, per)
    del vals
    f = f * _FREQ_MULT[h.freq_unit]
    _check_frequencies(p, f, h)
    z0r = np.broadcast_to(np.asarray(h.z0, dtype=float), (n,)).copy()
    s = _as_s(p, x, f, h, z0r, notes)
    if h.mixed_mode is not None:
        s = _mixed_to_single(s, h.mixed_mode, z0r, p, notes)
    if h.hfss_port_z:
        z0 = _hfss_port_impedances(p, data, n, f.size)
    else:
        z0 = np.broadcast_to(z0r.astype(complex), (f.size, n)).copy()
    if not np.all(np.isfinite(s)):
        k = int(np.argwhere(~np.isfinite(s))[0, 0])
        raise _fail(p, f"the data hold a non-finite value at point {k + 1} ({f[k]:g} Hz)",
                    "re-export the file from its source")
    notes.extend(h.notes)
    ntwk = _to_network(p, f, s, z0, Path(_plain_name(p.name)).stem)
    if h.hfss_port_z:
        _hfss_reference(ntwk, z0, p, notes)
    return ntwk


def _file_bytes(p: Path) -> tuple[bytes, bool]:
    """The file's text as bytes, decompressed and without a byte-order mark, and whether it
    differs from the bytes on disk; a missing, unreadable or binary file is refused."""
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
    changed = bool(codec)
    if data.startswith(_BOM):
        data, changed = data[len(_BOM):], True
    if b"\x00" in data[:4096]:
        raise _fail(p, "is a binary file, not Touchstone text", "give a .sNp or .ts file")
    return data, changed


def _matrices(p: Path, vals: np.ndarray, h: TouchstoneHeader, per: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (in the file's unit) and the (F, n, n) complex matrices of the numbers
    *vals*, *per* numbers a frequency, in the header's format and matrix layout."""
    n = h.nports
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
    if h.n_freq is not None and h.n_freq != f.size:
        raise _fail(p, f"[Number of Frequencies] says {h.n_freq} but the data hold "
                    f"{f.size} points", "re-export the file")
    raw = table[:, 1:]
    if h.fmt == "db":
        raw = raw.copy()
        raw[:, 0::2] = 10 ** (raw[:, 0::2] / 20.0)
    if h.fmt in ("ma", "db"):  # scikit-rf's formula, operation for operation
        flat = raw[:, 0::2] * np.exp(1j * raw[:, 1::2] * np.pi / 180)
    else:
        flat = np.ascontiguousarray(raw).view(np.complex128)
    del raw, table
    if h.matrix_format == "full":
        if n == 2 and h.two_port_21_12:
            return f, np.transpose(flat.reshape((-1, 2, 2)), axes=(0, 2, 1))
        return f, flat.reshape((-1, n, n))
    x = np.empty((f.size, n, n), dtype=complex)
    iu = np.triu_indices(n) if h.matrix_format == "upper" else np.tril_indices(n)
    x[:, iu[0], iu[1]] = flat
    x[:, iu[1], iu[0]] = flat
    return f, x


def _as_s(p: Path, x: np.ndarray, f: np.ndarray, h: TouchstoneHeader, z0r: np.ndarray,
          notes: list[str]) -> np.ndarray:
    """S-parameters from the file's Y, Z, H or G (each version's normalization) at the
    real references *z0r* (ohm); S as it is."""
    if h.parameter == "s":
        return x
    if h.version.startswith("1"):
        if np.ptp(z0r) > 0:
            notes.append(f"{p.name}: Touchstone 1 {h.parameter.upper()}-parameters with "
                         "per-port R: each port's values taken as normalized to its own R")
        norm = x
    else:
        norm = _normalize(x, h.parameter, z0r)
    with np.errstate(all="ignore"):
        s = _hybrid_to_s(norm, h.parameter)
    bad = ~np.all(np.isfinite(s), axis=(1, 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise _fail(p, f"the {h.parameter.upper()}-matrix at {f[k]:g} Hz has no S-matrix "
                    "(it is singular with the reference impedances added)",
                    "export S-parameters")
    return s


def _hfss_reference(ntwk, z0: np.ndarray, p: Path, notes: list[str]) -> None:
    """Mark *ntwk* as HFSS pseudo-wave S at the port impedances of the comments, and say so."""
    from skrf.constants import S_DEF_HFSS_DEFAULT

    ntwk.s_def = S_DEF_HFSS_DEFAULT   # pseudo-waves, as scikit-rf reads HFSS exports
    if np.ptp(z0, axis=0).max() > 0 or np.abs(z0.imag).max() > 0 or np.ptp(z0[0].real) > 0:
        notes.append(f"{p.name}: S at the HFSS port impedances (from the '! Port "
                     "Impedance' comments, frequency-dependent or complex)")
    else:
        notes.append(f"{p.name}: S at the HFSS port impedance {z0[0, 0].real:g} ohm (from "
                     "the '! Port Impedance' comments)")


def _steps_back(vals: np.ndarray, per: int) -> bool:
    """Whether the would-be frequency column steps back (v1 two-port noise data follow)."""
    nf = vals.size // per
    if nf < 2:
        return False
    f = vals[: nf * per : per]
    return bool(np.any(np.diff(f) <= 0))


def _to_network(path: Path, f: np.ndarray, s: np.ndarray, z0: np.ndarray, name: str):
    import skrf

    freq = skrf.Frequency.from_f(f, unit="hz")
    ntwk = skrf.Network(frequency=freq, s=s, z0=z0, name=name)
    return ntwk


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
    h = TouchstoneHeader(freq_unit="hz", option_text="#")
    _check_frequencies(p, ntwk.f, h)
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

