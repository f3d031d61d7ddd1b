"""CUDA kernel sources and their compiled modules, memoized per device.

The sources live in ``kernels/`` at the repository root and are shipped in the wheel as
``sigint/kernels`` (pyproject's ``force-include``). Each is compiled by CuPy
(:class:`cupy.RawModule`, NVRTC) at first use on a device; templates are instantiated
through ``name_expressions`` (``"bem_influence<double>"``), in the manner of
``cupyx/scipy/ndimage/_interp_kernels.py``. CuPy keeps its own on-disk cache of the
compiled binaries, so a later process pays only the load.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

__all__ = ["KERNELS", "COMPILE_OPTIONS", "kernel_dir", "kernel_source", "kernel_files", "get_function"]

KERNELS: dict[str, tuple[str, ...]] = {
    "bem_influence": ("bem_influence<double>", "bem_influence<float>"),
    "peec_pair": (),                       # extern "C": peec_mean_log_distance
    "stateye_conv": ("stateye_convolve<double>", "stateye_convolve<float>"),
}
"""Kernel files (without ``.cu``) and the template instantiations each module exports."""

COMPILE_OPTIONS: tuple[str, ...] = ("--std=c++14", "--fmad=false")
"""NVRTC options. ``--fmad=false`` keeps every product rounded on its own, as numpy does,
so a kernel and its numpy twin agree to a few units in the last place."""


def kernel_dir() -> Path:
    """The folder holding the ``.cu`` sources: ``sigint/kernels`` in an installed wheel,
    ``kernels/`` beside the package in a source checkout.

    Raises
    ------
    FileNotFoundError
        If neither exists (a broken install).
    """
    pkg = Path(__file__).resolve().parents[1]
    for cand in (pkg / "kernels", pkg.parent / "kernels"):
        if cand.is_dir() and any(cand.glob("*.cu")):
            return cand
    raise FileNotFoundError(f"no CUDA kernel sources in {pkg / 'kernels'} or {pkg.parent / 'kernels'}; "
                            "reinstall sigint (the wheel ships them as sigint/kernels)")


def kernel_files() -> list[Path]:
    """Every ``.cu`` source, sorted by name."""
    return sorted(kernel_dir().glob("*.cu"))


def kernel_source(name: str) -> str:
    """Text of ``kernels/<name>.cu``."""
    return (kernel_dir() / f"{name}.cu").read_text()


_lock = threading.Lock()
_modules: dict[tuple[str, int], Any] = {}


def _module(name: str, device_id: int):
    key = (name, device_id)
    with _lock:
        mod = _modules.get(key)
        if mod is None:
            import cupy

            with cupy.cuda.Device(device_id):
                mod = cupy.RawModule(code=kernel_source(name), options=COMPILE_OPTIONS,
                                     name_expressions=list(KERNELS[name]) or None)
                if hasattr(mod, "compile"):      # compile now, for this device
                    mod.compile()
            _modules[key] = mod
        return mod


def get_function(name: str, function: str, device_id: int | None = None):
    """The compiled kernel *function* (a name or template expression) of ``kernels/<name>.cu``
    on *device_id* (default: the current device), compiled once per device and process."""
    import cupy

    dev = cupy.cuda.Device().id if device_id is None else int(device_id)
    return _module(name, dev).get_function(function)
