"""Memory planning: chunk sizes from the free memory of the device, or of the host.

A problem that does not fit is split (over rows of a matrix, frequencies, phases) into
chunks sized from the memory actually free, so an out-of-memory error is never the
answer. ``$SIGINT_MEMORY_LIMIT`` (bytes, or with a unit: ``64MB``, ``2GiB``) caps the
memory a plan may use, on either backend; tests use it to force chunking.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import numpy as np

from ..errors import InputError

__all__ = ["ENV_LIMIT", "parse_bytes", "available_bytes", "plan_chunk", "chunks"]

ENV_LIMIT = "SIGINT_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}


def parse_bytes(text: str, source: str = f"${ENV_LIMIT}") -> int:
    """Bytes in *text* (``"123"``, ``"64MB"``, ``"1.5 GiB"``).

    Raises
    ------
    InputError
        If *text* is not a positive size.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?i?[bB]?)\s*", str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS or float(m.group(1)) <= 0:
        raise InputError(f"{source} = {text!r}: not a memory size; give bytes, e.g. 2000000000 "
                         "or 2GB or 512MiB")
    return int(float(m.group(1)) * _UNITS[unit])


def _host_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 * 2 ** 30


def available_bytes(xp=np, limit: int | None = None) -> int:
    """Memory a computation on *xp* may use now, bytes.

    On CuPy the device's free memory (``cupy.cuda.Device().mem_info``) plus what CuPy's
    memory pool holds unused; on numpy the host's available memory. Capped by *limit*
    and by ``$SIGINT_MEMORY_LIMIT``.
    """
    if xp is not np and getattr(xp, "__name__", "") == "cupy":
        free, _total = xp.cuda.Device().mem_info
        free += xp.get_default_memory_pool().free_bytes()
    else:
        free = _host_available()
    env = os.environ.get(ENV_LIMIT)
    if env:
        free = min(free, parse_bytes(env))
    if limit is not None:
        free = min(free, int(limit))
    return int(free)


def plan_chunk(n_items: int, bytes_per_item: float, *, fixed_bytes: float = 0.0, xp=np,
               fraction: float = 0.5, limit: int | None = None) -> int:
    """How many of *n_items* to process at once.

    Parameters
    ----------
    n_items : int
        Items to process (rows, frequencies, phases).
    bytes_per_item : float
        Peak working memory per item, temporaries included, bytes.
    fixed_bytes : float
        Memory needed whatever the chunk (inputs kept resident), bytes.
    xp : module
        numpy or cupy: whose memory is planned.
    fraction : float
        Share of the available memory a plan may use (the rest is headroom for the
        allocator and other arrays).
    limit : int, optional
        Cap on the memory, bytes (also ``$SIGINT_MEMORY_LIMIT``).

    Returns
    -------
    int
        Chunk size, between 1 and *n_items* (at least 1: a single item always runs).
    """
    if n_items <= 0:
        return 0
    budget = fraction * available_bytes(xp, limit) - fixed_bytes
    per = max(float(bytes_per_item), 1.0)
    return int(min(n_items, max(1, budget // per)))


def chunks(n_items: int, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive ``(start, stop)`` ranges of at most *size* covering ``range(n_items)``."""
    size = max(1, int(size))
    for lo in range(0, n_items, size):
        yield lo, min(n_items, lo + size)
