"""Reading the YAML input files (cross-sections, channels) with errors that name the line."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["load_mapping"]


def load_mapping(path: str | Path, keys_hint: str) -> dict:
    """The top-level mapping of a YAML file.

    Parameters
    ----------
    path : str or Path
        The file.
    keys_hint : str
        The keys expected at the top level, for the message when the file holds something
        else (e.g. ``"name, stack, conductors..."``).

    Raises
    ------
    InputError
        A missing file, a YAML syntax error (with its line) or a top level that is not a
        mapping.
    """
    import yaml

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{p}{at}: not valid YAML ({getattr(exc, 'problem', exc)}); check "
                         "indentation and colons") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a mapping of keys ({keys_hint}) at the top level")
    return data
