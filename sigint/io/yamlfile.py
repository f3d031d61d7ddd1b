"""Reading the YAML input files (cross-sections, channels) with errors that name the line."""

from __future__ import annotations

import functools
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
    text = p.read_text()
    try:
        data = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise InputError(f"{p}, line {exc.line}: key {exc.key!r} is given twice (first on line "
                         f"{exc.first}; the second would silently win); keep one") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        at = f", line {line}" if line else ""
        problem = str(getattr(exc, "problem", exc))
        lines = text.splitlines()
        src_line = lines[line - 1] if line and line <= len(lines) else ""
        if "got '['" in problem and "{" in src_line:
            raise InputError(f"{p}{at}: {src_line.strip()!r}: a path with [i] inside {{...}} "
                             "must be quoted; write path: \"segments[1].length\" or put one "
                             "key per line (block style)") from None
        raise InputError(f"{p}{at}: not valid YAML ({problem}); check indentation and "
                         "colons") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a mapping of keys ({keys_hint}) at the top level")
    return data


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(key, line, first)
        self.key, self.line, self.first = key, line, first


@functools.cache
def _loader():
    """A SafeLoader that refuses a key given twice in one mapping (YAML 1.2 forbids it;
    PyYAML keeps the last). Merge keys (``<<: *anchor``) are not counted."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        dup = key in seen
                    except TypeError:          # unhashable: the base class reports it
                        continue
                    if dup:
                        raise _DuplicateKey(key, key_node.start_mark.line + 1, seen[key])
                    seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader
