"""The frozen, validated base of every sigint specification (after tidy3d's ``Tidy3dBaseModel``).

Models reject unknown keys (``extra="forbid"``) so that a typo in a file is an error that
names the key, never a silently ignored setting. :func:`validate` turns pydantic's
``ValidationError`` into one :class:`~sigint.errors.InputError` sentence that names the file,
the field path, the value and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InputError

__all__ = ["SigintModel", "validate", "describe_validation_error"]

M = TypeVar("M", bound="SigintModel")


class SigintModel(BaseModel):
    """Immutable, strictly keyed base model; change values with ``model_copy(update=...)``."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True,
                              str_strip_whitespace=True)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or str(part) in ("tagged-union",):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def describe_validation_error(exc: ValidationError, source: str | Path | None = None) -> str:
    """One sentence for the first problem of *exc* (and a count of the others)."""
    errs = exc.errors(include_url=False)
    e = errs[0]
    field = _loc(tuple(e.get("loc", ())))
    typ = e.get("type", "")
    msg = e.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = e.get("input")
    head = f"{source}: " if source else ""
    if typ == "extra_forbidden":
        text = f"{head}{field}: unknown key; check its spelling against the documented keys"
    elif typ == "missing":
        text = f"{head}{field}: missing; add it"
    else:
        shown = repr(value) if isinstance(value, str) else value
        if isinstance(value, (dict, list)):
            shown = type(value).__name__
        text = f"{head}{field} = {shown}: {msg}"
    if len(errs) > 1:
        text += f" (and {len(errs) - 1} more problem{'s' if len(errs) > 2 else ''})"
    return text


def validate(cls: type[M], data: Any, source: str | Path | None = None) -> M:
    """Validate *data* as *cls*, raising :class:`InputError` with a one-line message."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, source)) from None
