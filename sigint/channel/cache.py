"""Extraction results cached by content: a rebuild with unchanged cross-sections is quick.

The key is a SHA-256 of the cross-section as validated data (so formatting and comments
do not matter), the frequencies, the mesh refinement and the extraction code itself: the
source text of every module the result depends on (:data:`SOLVER_MODULES`), so a change to
a solver misses the cache without anyone bumping a version.
Entries live in ``$SIGINT_CACHE`` (default ``~/.cache/sigint``) as ``.npz`` files; a
corrupt or mismatching entry is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._version import __version__

__all__ = ["cache_dir", "cache_key", "load", "store", "solver_digest", "SOLVER_MODULES"]

#: modules whose source decides an extraction's numbers (geometry, meshing, solvers, the
#: frequency driver and the material models); a change to any of them changes the key
SOLVER_MODULES = ("sigint.extract.bem", "sigint.extract.peec", "sigint.extract.reduced",
                  "sigint.extract.multipole", "sigint.extract.interp", "sigint.extract.surface",
                  "sigint.extract.clusters", "sigint.extract.rlgc",
                  "sigint.xsection.geometry", "sigint.xsection.schema",
                  "sigint.xsection.materials", "sigint.constants", "sigint.units")

_DIGESTS: dict[tuple[str, ...], str] = {}


def solver_digest(modules: tuple[str, ...] | None = None) -> str:
    """SHA-256 of the source files of *modules* (default :data:`SOLVER_MODULES`), read once
    per process."""
    import importlib.util

    modules = tuple(SOLVER_MODULES if modules is None else modules)
    if modules in _DIGESTS:
        return _DIGESTS[modules]

    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        h.update(name.encode())
        h.update(Path(origin).read_bytes() if origin and Path(origin).is_file() else b"?")
    digest = _DIGESTS[modules] = h.hexdigest()
    return digest


def cache_dir() -> Path:
    """The cache directory (created on first use)."""
    d = Path(os.environ.get("SIGINT_CACHE", Path.home() / ".cache" / "sigint"))
    return d


def cache_key(xsection_data: dict, f: np.ndarray, refine: float) -> str:
    """Hex digest identifying one extraction: its inputs and the solver code's digest."""
    h = hashlib.sha256()
    h.update(json.dumps(xsection_data, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(np.asarray(f, dtype=np.float64)).tobytes())
    h.update(repr(float(refine)).encode())
    h.update(f"{__version__}/{solver_digest()}".encode())
    return h.hexdigest()


def load(key: str) -> dict | None:
    """The cached arrays for *key*, or None."""
    p = cache_dir() / f"{key}.npz"
    if not p.exists():
        return None
    try:
        # the file is opened here so that it is closed even when numpy cannot read it
        # (np.load leaves its own handle open when a truncated zip fails to parse)
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:          # a truncated or foreign file: recompute
        return None


def store(key: str, arrays: dict) -> None:
    """Save *arrays* under *key* (best effort: a read-only cache only costs time).

    The entry is written to a temporary file of its own (unique name, same folder) and
    renamed into place with :func:`os.replace`, which is atomic: a reader sees the old entry,
    none, or the whole new one, never a partial file, and two processes storing the same key
    at once (two Dask workers extracting the same cross-section) each rename a complete file.
    """
    import tempfile

    d = cache_dir()
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=d)
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, d / f"{key}.npz")
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
