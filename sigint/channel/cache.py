"""Extraction results cached by content: a rebuild with unchanged cross-sections is quick.

The key is a SHA-256 of the cross-section as validated data (so formatting and comments
do not matter), the frequencies, the mesh refinement and the extraction code's version.
Entries live in ``$SIGINT_CACHE`` (default ``~/.cache/sigint``) as ``.npz`` files; a
corrupt or mismatching entry is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "cache_key", "load", "store", "EXTRACTION_VERSION"]

EXTRACTION_VERSION = "1"


def cache_dir() -> Path:
    """The cache directory (created on first use)."""
    d = Path(os.environ.get("SIGINT_CACHE", Path.home() / ".cache" / "sigint"))
    return d


def cache_key(xsection_data: dict, f: np.ndarray, refine: float) -> str:
    """Hex digest identifying one extraction."""
    from .. import __version__

    h = hashlib.sha256()
    h.update(json.dumps(xsection_data, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(np.asarray(f, dtype=np.float64)).tobytes())
    h.update(repr(float(refine)).encode())
    h.update(f"{__version__}/{EXTRACTION_VERSION}".encode())
    return h.hexdigest()


def load(key: str) -> dict | None:
    """The cached arrays for *key*, or None."""
    p = cache_dir() / f"{key}.npz"
    if not p.exists():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:          # a truncated or foreign file: recompute
        return None


def store(key: str, arrays: dict) -> None:
    """Save *arrays* under *key* (best effort: a read-only cache only costs time)."""
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f"{key}.tmp.npz"
        np.savez(tmp, **arrays)
        tmp.replace(d / f"{key}.npz")
    except OSError:
        pass
