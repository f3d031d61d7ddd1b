"""Numerical threads set deliberately around loops over small matrices.

OpenBLAS (numpy's and scipy's) starts one worker per core and, between calls, its workers
spin while they wait. On stacks of small matrices (a 64-port star product is a few 128 x 128
products per frequency, thousands of frequencies) the hand-off costs more than the work, and
beside any other busy process the spinning workers and the process compete for the same
cores: the same cascade ran 3 to 10 times slower with default threads than with one. The
stacked small-matrix kernels of sigint (cascade and star products, the MTL section, the
terminated-network solves, batched eigenvalue and inverse loops) therefore run inside
:func:`small_matrix_blas`, which limits BLAS/LAPACK to :func:`small_matrix_threads` threads
(default 1; parallelism over frequencies, where wanted, comes from explicit Python threads,
e.g. ``cascade_s(..., threads=k)``). The large dense factorisations of the field solvers keep
the default BLAS threads.

The environment variable ``SIGINT_SMALL_MATRIX_THREADS`` sets another count (a positive
integer). Limits are set through threadpoolctl and restored on leaving the outermost block;
nested and concurrent blocks (several Python threads) share one reference-counted limit.
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["small_matrix_blas", "small_matrix_threads", "blas_threads_now", "pinned_blas",
           "lane_threads", "one_thread", "SMALL_MATRIX_THREADS_ENV", "LANE_THREADS_ENV"]

SMALL_MATRIX_THREADS_ENV = "SIGINT_SMALL_MATRIX_THREADS"
LANE_THREADS_ENV = "SIGINT_LANE_THREADS"

_lock = threading.Lock()
_depth = 0
_limiter = None


def small_matrix_threads() -> int:
    """BLAS threads for loops over small matrices: ``SIGINT_SMALL_MATRIX_THREADS`` or 1.

    Raises
    ------
    InputError
        If the environment variable is set to anything but a positive integer.
    """
    raw = os.environ.get(SMALL_MATRIX_THREADS_ENV, "").strip()
    if not raw:
        return 1
    return _positive_count(SMALL_MATRIX_THREADS_ENV, raw,
                           "set it to the number of BLAS threads (e.g. 1) or unset it")


def _positive_count(name: str, raw: str, fix: str) -> int:
    """The positive integer an environment variable *name* holds (*raw*), or one sentence
    (InputError) naming the variable, its value and *fix*."""
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        from .errors import input_error

        raise input_error("is not a positive integer", source="environment", field=name,
                          value=raw, fix=fix)
    return n


_ONE_THREAD: contextvars.ContextVar[bool] = contextvars.ContextVar("sigint_one_thread",
                                                                  default=False)


@contextmanager
def one_thread() -> Iterator[None]:
    """Context in which :func:`lane_threads` is 1: work that already runs one task per core
    (a sweep's points) does not start threads of its own."""
    token = _ONE_THREAD.set(True)
    try:
        yield
    finally:
        _ONE_THREAD.reset(token)


def lane_threads() -> int:
    """Python threads for independent pieces of an analysis run side by side (the lanes of
    a rate search, the frequency blocks of a line's S-parameters): ``SIGINT_LANE_THREADS``
    or the cores this process may run on; 1 inside :func:`one_thread`.

    Each lane's analysis (pulses, equalization search, statistical eye) is a sequence of
    numpy operations on arrays of a few thousand to a million elements, most of which
    release the GIL; lanes are independent, so they run in parallel threads, each with one
    BLAS thread (:func:`small_matrix_blas`). A sweep, which runs one point per core already,
    runs its points inside :func:`one_thread`.

    Raises
    ------
    InputError
        If the environment variable is set to anything but a positive integer.
    """
    if _ONE_THREAD.get():
        return 1
    raw = os.environ.get(LANE_THREADS_ENV, "").strip()
    if not raw:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            return os.cpu_count() or 1
    return _positive_count(LANE_THREADS_ENV, raw,
                           "set it to the number of lanes analysed at once (e.g. 2) or unset it")


@functools.lru_cache(maxsize=1)
def _controller():
    # both BLAS copies (numpy's and scipy's wheels each ship one) must be loaded before the
    # controller lists them
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def small_matrix_blas() -> Iterator[None]:
    """Context (or decorator) limiting BLAS/LAPACK to :func:`small_matrix_threads` threads.

    Re-entrant and safe to enter from several Python threads at once: the first block to
    enter sets the limit, the last to leave restores the previous thread counts.
    """
    global _depth, _limiter
    n = small_matrix_threads()
    with _lock:
        if _depth == 0:
            _limiter = _controller().limit(limits=n, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


def blas_threads_now() -> list[int]:
    """Current thread count of every loaded BLAS library (for tests and reports)."""
    return [lib.num_threads for lib in _controller().select(user_api="blas").lib_controllers]


@contextmanager
def pinned_blas(n: int = 1) -> Iterator[None]:
    """Context limiting every BLAS/LAPACK library to *n* threads, whatever the environment.

    Used around each point of a sweep on a Dask worker: a worker per core with one
    numerical thread each, so workers do not oversubscribe the cores (and a point's numbers
    do not depend on the thread count of the machine it lands on).
    """
    limiter = _controller().limit(limits=int(n), user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()
