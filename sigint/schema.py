"""The frozen, validated base of every sigint specification (after tidy3d's ``Tidy3dBaseModel``).

Models reject unknown keys (``extra="forbid"``) so that a typo in a file is an error that
names the key, never a silently ignored setting. :func:`validate` turns pydantic's
``ValidationError`` into one :class:`~sigint.errors.InputError` sentence that names the file,
the field path, the value and the fix.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar, get_args

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


def _models_in(ann: Any) -> list[type[BaseModel]]:
    """The pydantic models inside a type annotation (through Optional, list, unions...)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    out: list[type[BaseModel]] = []
    for a in get_args(ann):
        out += _models_in(a)
    return out


def _keys_at(cls: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """Keys the model accepts at the mapping that holds ``loc[-1]`` (best effort)."""
    if cls is None:
        return []
    models: list[type[BaseModel]] = [cls]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in models:
            if part in m.model_fields:
                nxt += _models_in(m.model_fields[part].annotation)
            elif any(part in get_args(f.annotation) for f in m.model_fields.values()):
                nxt.append(m)        # a tagged-union tag (the segment's type) names m itself
        models = nxt or models
    return sorted({k for m in models for k in m.model_fields})


def describe_validation_error(exc: ValidationError, source: str | Path | None = None,
                              cls: type[BaseModel] | None = None) -> str:
    """One sentence for the first problem of *exc* (and a count of the others).

    An unknown key comes first (a misspelt key also makes the real one "missing"), with the
    closest accepted key as a "did you mean" (:func:`difflib.get_close_matches`).
    """
    errs = exc.errors(include_url=False)
    errs = sorted(errs, key=lambda e: e.get("type") != "extra_forbidden")
    e = errs[0]
    loc = tuple(e.get("loc", ()))
    field = _loc(loc)
    typ = e.get("type", "")
    msg = e.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = e.get("input")
    head = f"{source}: " if source else ""
    if typ == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        missing = [str(x["loc"][-1]) for x in errs
                   if x.get("type") == "missing" and tuple(x["loc"][:-1]) == loc[:-1]]
        known = missing + [k for k in _keys_at(cls, loc) if k not in missing]
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if near:
            text = f"{head}{field}: unknown key; did you mean {near[0]!r}?"
        else:
            text = (f"{head}{field}: unknown key; check its spelling against the documented keys"
                    + (f" ({', '.join(known)})" if known else ""))
    elif typ == "missing":
        text = f"{head}{field}: missing; add it"
    else:
        shown = repr(value) if isinstance(value, str) else value
        if isinstance(value, (dict, list)):
            shown = type(value).__name__
        text = f"{head}{field} = {shown}: {msg}"
    if len(errs) > 1:
        others = list(dict.fromkeys(_loc(tuple(x.get("loc", ()))) for x in errs[1:]))
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        text += (f" (and {len(errs) - 1} more problem{'s' if len(errs) > 2 else ''}, at "
                 f"{shown})")
    return text


def validate(cls: type[M], data: Any, source: str | Path | None = None) -> M:
    """Validate *data* as *cls*, raising :class:`InputError` with a one-line message."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, source, cls)) from None
