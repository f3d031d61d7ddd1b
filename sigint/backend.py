"""One backend switch: numpy everywhere, CuPy where a GPU really works.

The backend is chosen once per process from, in order: an explicit argument (the CLI's
``--backend``), the environment variable ``SIGINT_BACKEND`` (``auto|numpy|cupy``), and
``auto``. ``auto`` takes CuPy only when it imports **and** a smoke test passes (a device
exists, an allocation, a matrix product, an FFT and a linear solve run and give the right
numbers); otherwise numpy, with the reason kept for the report. On a machine without a GPU
``import cupy`` succeeds and the first allocation raises, so importing is not enough.

CuPy is never imported at module level anywhere in sigint: ``import sigint`` works where
CuPy is absent. Only the stages that run on the GPU take an ``xp`` (the array namespace, in
the manner of ``scipy._lib._array_api.array_namespace``): the BEM and PEEC solvers
(``extract.bem``, ``extract.peec``, driven by ``extract.rlgc``), the Vr/Vs termination
(``link.vtf``) and the passivity check (``network.quality``). The CUDA kernels of
``gpu.ops`` (BEM influence, PEEC pair terms, the statistical eye's convolution, the
batched cascade) take ``xp`` too, but the pipeline does not call them yet (the tests and
``bench/`` do). Everything else (Touchstone reading, port mapping, the cascade of a
channel's segments, pulse responses, the statistical eye, the bit-by-bit run, specs and
reports) calls numpy directly, on arrays brought back with :func:`to_numpy`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .errors import BackendError

__all__ = [
    "CHOICES",
    "Backend",
    "get_backend",
    "set_backend",
    "array_namespace",
    "to_numpy",
    "cupy_smoke_test",
]

CHOICES = ("auto", "numpy", "cupy")
_ENV = "SIGINT_BACKEND"


@dataclass(frozen=True)
class Backend:
    """The compute backend in use.

    Attributes
    ----------
    name : str
        ``"numpy"`` or ``"cupy"``: what actually runs.
    requested : str
        What was asked for (``auto``, ``numpy`` or ``cupy``).
    device : str
        ``"CPU"`` or the GPU's name.
    reason : str
        Why this backend runs (e.g. why CuPy was not used).

    Examples
    --------
    >>> b = get_backend("numpy")
    >>> b.name, b.xp.__name__
    ('numpy', 'numpy')
    """

    name: str
    requested: str
    device: str
    reason: str

    @property
    def xp(self) -> ModuleType:
        """The array namespace: :mod:`numpy` or :mod:`cupy`."""
        if self.name == "cupy":
            import cupy  # lazy: only reached after the smoke test passed

            return cupy
        return np

    def describe(self) -> str:
        """One line for reports, e.g. ``numpy (CPU; CuPy not installed)``."""
        return f"{self.name} ({self.device}; {self.reason})"

    def asarray(self, a: Any) -> Any:
        """Move *a* to this backend's device."""
        return self.xp.asarray(a)


def cupy_smoke_test() -> tuple[bool, str, str]:
    """Check that CuPy can really compute here.

    Returns
    -------
    ok : bool
        True when every step ran and gave the right numbers.
    device : str
        The GPU's name when found, else ``"CPU"``.
    reason : str
        What passed, or the first step that failed and how.
    """
    try:
        import cupy
    except ModuleNotFoundError:
        return False, "CPU", "CuPy not installed"
    except Exception as exc:  # a broken CUDA install can raise anything on import
        return False, "CPU", f"CuPy not importable ({type(exc).__name__}: {exc})".strip()
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return False, "CPU", f"CuPy found no CUDA device ({type(exc).__name__})"
    if n < 1:
        return False, "CPU", "CuPy found no CUDA device"
    try:
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    except Exception:
        name = "CUDA GPU"
    try:
        a = cupy.asarray(np.array([[4.0, 1.0], [2.0, 3.0]]))
        b = cupy.asarray(np.array([1.0, 2.0]))
        prod = cupy.asnumpy(a @ a)
        sol = cupy.asnumpy(cupy.linalg.solve(a, b))
        spec = cupy.asnumpy(cupy.fft.fft(cupy.arange(8, dtype=cupy.float64)))
        cupy.cuda.Device().synchronize()
    except Exception as exc:
        return False, "CPU", f"CuPy smoke test failed on {name} ({type(exc).__name__}: {exc})"
    ok = (
        np.allclose(prod, [[18.0, 7.0], [14.0, 11.0]])
        and np.allclose(sol, np.linalg.solve([[4.0, 1.0], [2.0, 3.0]], [1.0, 2.0]))
        and np.allclose(spec, np.fft.fft(np.arange(8.0)))
    )
    if not ok:
        return False, "CPU", f"CuPy smoke test gave wrong numbers on {name}"
    return True, name, "CuPy smoke test passed"


_lock = threading.Lock()
_cache: dict[str, Backend] = {}
_override: str | None = None


def _resolve(requested: str) -> Backend:
    if requested == "numpy":
        return Backend("numpy", requested, "CPU", "requested")
    ok, device, reason = cupy_smoke_test()
    if requested == "cupy":
        if not ok:
            raise BackendError(
                f"backend 'cupy' was requested but cannot run here: {reason}; "
                "use --backend numpy (or auto), or install the gpu extra on a machine with "
                "an NVIDIA GPU"
            )
        return Backend("cupy", requested, device, reason)
    if ok:
        return Backend("cupy", requested, device, reason)
    return Backend("numpy", requested, "CPU", reason)


def get_backend(requested: str | None = None) -> Backend:
    """Return the backend for *requested* (or ``set_backend``'s, ``$SIGINT_BACKEND``, auto).

    Parameters
    ----------
    requested : {'auto', 'numpy', 'cupy'}, optional
        Overrides the environment for this call.

    Raises
    ------
    BackendError
        If the name is unknown, or ``cupy`` was asked for and cannot run.
    """
    source = "argument"
    if requested is None:
        requested, source = _override, "set_backend"
    if requested is None:
        requested, source = os.environ.get(_ENV, "auto"), f"${_ENV}"
    req = str(requested).strip().lower() or "auto"
    if req not in CHOICES:
        raise BackendError(
            f"{source}: backend = {requested!r}: unknown backend; choose one of "
            f"{', '.join(CHOICES)}"
        )
    with _lock:
        if req not in _cache:
            _cache[req] = _resolve(req)
        return _cache[req]


def set_backend(requested: str | None) -> Backend:
    """Set the process-wide backend (``None`` returns to the environment's choice)."""
    global _override
    backend = get_backend(requested) if requested is not None else None
    _override = requested
    return backend if backend is not None else get_backend()


def array_namespace(*arrays: Any) -> ModuleType:
    """Return :mod:`cupy` if any argument is a CuPy array, else :mod:`numpy`."""
    for a in arrays:
        if type(a).__module__.startswith("cupy"):
            import cupy

            return cupy
    return np


def to_numpy(a: Any) -> np.ndarray:
    """Return *a* as a numpy array (copying from the GPU when needed)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)
