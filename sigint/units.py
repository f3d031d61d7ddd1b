"""Quantities with explicit units: ``"2 um"``, ``"16 GT/s"``, ``"0.25 pF"``, ``"25 ohm"``.

Inside sigint every number is SI. Files and command lines carry units; a bare number where
a unit is expected is an error (PRODUCT.md, conventions). :func:`parse_quantity` converts a
string to SI for one *dimension* and :func:`format_quantity` prints an SI value back with
an engineering prefix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .errors import input_error

__all__ = ["DIMENSIONS", "parse_quantity", "format_quantity", "parse_rate", "is_quantity"]

_PREFIX: Mapping[str, float] = {
    "f": 1e-15,
    "p": 1e-12,
    "n": 1e-9,
    "u": 1e-6,
    "µ": 1e-6,
    "μ": 1e-6,
    "m": 1e-3,
    "c": 1e-2,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
}

# dimension -> {unit symbol (without prefix): scale to SI}; prefixes apply to every symbol
# except those listed in _NO_PREFIX.
DIMENSIONS: Mapping[str, Mapping[str, float]] = {
    "length": {"m": 1.0, "mil": 25.4e-6, "in": 25.4e-3},
    "frequency": {"Hz": 1.0},
    "time": {"s": 1.0, "sec": 1.0},
    "capacitance": {"F": 1.0},
    "inductance": {"H": 1.0},
    "resistance": {"ohm": 1.0, "Ohm": 1.0, "ohms": 1.0, "Ω": 1.0, "R": 1.0},
    "conductance": {"S": 1.0, "mho": 1.0},
    "voltage": {"V": 1.0},
    "current": {"A": 1.0},
    "rate": {"T/s": 1.0, "b/s": 1.0, "bps": 1.0, "Bd": 1.0, "baud": 1.0},
    "conductivity": {"S/m": 1.0},
    "resistivity": {"ohm*m": 1.0, "ohm.m": 1.0, "ohm-m": 1.0, "Ω·m": 1.0, "Ωm": 1.0,
                    "ohm*cm": 1e-2, "ohm.cm": 1e-2, "ohm-cm": 1e-2, "Ω·cm": 1e-2, "Ωcm": 1e-2},
    "resistance_per_length": {"ohm/m": 1.0, "Ω/m": 1.0, "ohm/mm": 1e3, "Ω/mm": 1e3},
    "inductance_per_length": {"H/m": 1.0},
    "capacitance_per_length": {"F/m": 1.0},
    "conductance_per_length": {"S/m": 1.0},
    "ratio_db": {"dB": 1.0},
    "ui": {"UI": 1.0},
}
_NO_PREFIX = {"mil", "in", "dB", "UI", "ohm*cm", "ohm.cm", "ohm-cm", "Ω·cm", "Ωcm",
              "ohm/mm", "Ω/mm", "Bd", "baud", "sec"}

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_QTY = re.compile(rf"^\s*({_NUMBER})\s*([^\s\d+-].*?)?\s*$")


def _unit_table(dimension: str) -> dict[str, float]:
    try:
        base = DIMENSIONS[dimension]
    except KeyError:  # programming error, not user input
        raise KeyError(f"unknown dimension {dimension!r}") from None
    table: dict[str, float] = {}
    for sym, scale in base.items():
        table[sym] = scale
        if sym in _NO_PREFIX:
            continue
        for p, pv in _PREFIX.items():
            if p:
                table.setdefault(p + sym, pv * scale)
    return table


_TABLES: dict[str, dict[str, float]] = {}


def _table(dimension: str) -> dict[str, float]:
    if dimension not in _TABLES:
        _TABLES[dimension] = _unit_table(dimension)
    return _TABLES[dimension]


def _example(dimension: str) -> str:
    return {
        "length": "'2 um'",
        "frequency": "'10 GHz'",
        "time": "'5 ps'",
        "capacitance": "'0.25 pF'",
        "inductance": "'0.1 nH'",
        "resistance": "'25 ohm'",
        "conductance": "'1 mS'",
        "voltage": "'0.4 V'",
        "rate": "'16 GT/s'",
        "conductivity": "'5.8e7 S/m'",
        "resistivity": "'10 ohm*cm'",
        "ratio_db": "'-3 dB'",
        "ui": "'0.75 UI'",
    }.get(dimension, "a number with its unit")


def is_quantity(text: object) -> bool:
    """Return True if *text* looks like ``<number> <unit>``."""
    return isinstance(text, str) and bool(_QTY.match(text)) and bool(_QTY.match(text).group(2))


def parse_quantity(
    text: str | float | int,
    dimension: str,
    *,
    source: str | None = None,
    field: str | None = None,
    allow_bare: bool = False,
) -> float:
    """Convert ``"<number> <unit>"`` to an SI float.

    Parameters
    ----------
    text : str or float
        The quantity, e.g. ``"2 um"``, ``"0.25pF"``, ``"16 GT/s"``. A bare number is
        accepted only when *allow_bare* is true (then it is taken as SI already).
    dimension : str
        One key of :data:`DIMENSIONS`, e.g. ``"length"``.
    source, field : str, optional
        Where the value came from, for the error message.
    allow_bare : bool
        Accept a number without a unit as an SI value.

    Returns
    -------
    float
        The value in SI units (m, Hz, s, F, H, Ω, S, V, symbols/s, S/m, Ω·m, dB, UI).

    Raises
    ------
    InputError
        If the text is not a number followed by a unit of that dimension.

    Examples
    --------
    >>> parse_quantity("2 um", "length")
    2e-06
    >>> parse_quantity("16GT/s", "rate")
    16000000000.0
    """
    where = dict(source=source, field=field, value=text)
    if isinstance(text, bool):
        raise input_error(f"expected a {dimension} such as {_example(dimension)}", **where)
    if isinstance(text, (int, float)):
        if allow_bare:
            return float(text)
        raise input_error(
            "a bare number has no unit", fix=f"write it with its unit, e.g. {_example(dimension)}",
            **where,
        )
    if not isinstance(text, str):
        raise input_error(f"expected a {dimension} such as {_example(dimension)}", **where)
    m = _QTY.match(text)
    if not m:
        raise input_error(
            "is not a number followed by a unit", fix=f"write e.g. {_example(dimension)}", **where
        )
    number = float(m.group(1))
    unit = (m.group(2) or "").strip()
    if not unit:
        if allow_bare:
            return number
        raise input_error(
            "has no unit", fix=f"write it with its unit, e.g. {_example(dimension)}", **where
        )
    table = _table(dimension)
    unit_n = unit.replace(" ", "")
    if unit_n in table:
        value = number * table[unit_n]
    elif unit_n.lower() in {k.lower() for k in table} and unit_n not in table:
        # case mismatch is only forgiven where it cannot change the prefix (e.g. 'ghz')
        matches = [k for k in table if k.lower() == unit_n.lower()]
        if len({table[k] for k in matches}) == 1:
            value = number * table[matches[0]]
        else:
            raise input_error(
                f"unit {unit!r} is ambiguous (is it {' or '.join(matches)}?)",
                fix=f"write e.g. {_example(dimension)}", **where,
            )
    else:
        raise input_error(
            f"unit {unit!r} is not a unit of {dimension.replace('_', ' ')}",
            fix=f"write e.g. {_example(dimension)}", **where,
        )
    if not math.isfinite(value):
        raise input_error("is not finite", **where)
    return value


def parse_rate(text: str | float, *, source: str | None = None, field: str = "rate") -> float:
    """Parse a data rate (``"16 GT/s"``, ``"25 Gb/s"``, ``"10Gbps"``) to symbols per second.

    Raises
    ------
    InputError
        If the text is not a positive finite rate.
    """
    rate = parse_quantity(text, "rate", source=source, field=field)
    if not rate > 0:
        raise input_error(
            "a data rate must be positive", source=source, field=field, value=text,
            fix="give e.g. '16 GT/s'",
        )
    return rate


_ENG = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
        (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]


def format_quantity(value: float, unit: str, digits: int = 4) -> str:
    """Format an SI value with an engineering prefix, e.g. ``format_quantity(2e-6, 'm')``.

    Examples
    --------
    >>> format_quantity(2.5e-13, "F")
    '250 fF'
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    a = abs(value)
    for scale, p in _ENG:
        if a >= scale * 0.9995:
            return f"{value / scale:.{digits}g} {p}{unit}"
    return f"{value:.{digits}g} {unit}"

