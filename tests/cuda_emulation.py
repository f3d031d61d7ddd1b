"""Run the ``__global__`` kernels of ``kernels/*.cu`` on the host, behind a stand-in CuPy.

Each source is compiled with g++ between a prelude that defines CUDA's built-ins
(``blockIdx``, ``threadIdx``, ``blockDim``, ``__syncthreads``, dynamic shared memory) and
an epilogue of ``extern "C"`` launchers that walk the grid. Kernels without a barrier
(BEM, PEEC) run every thread of every block in turn, which is their exact semantics; the
statistical-eye kernel synchronizes between steps, so it runs one thread per block, which
its thread-strided loops allow. :func:`fake_cupy` returns a module named ``cupy`` whose
arrays are numpy arrays and whose ``get_function`` launches these, so the device code
paths of :mod:`sigint.gpu.ops` (argument order, pointer offsets, chunking, shared or
global memory) run unchanged. What this cannot see: races between threads and NVRTC
itself (the PTX tests compile the sources with nvcc).
"""

from __future__ import annotations

import ctypes
import subprocess
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = r"""
#include <math.h>
#include <stdlib.h>
#define __host__
#define __device__
#define __global__
#define __shared__
#define __CUDACC__ 1
#define SIGINT_INSTANTIATE 1
struct sigint_dim3 { long x, y, z; };
static sigint_dim3 blockIdx, threadIdx, blockDim, gridDim;
static unsigned char* sigint_emu_smem;
static inline void __syncthreads() {}
#define SIGINT_DYNAMIC_SHARED(name) unsigned char* name = sigint_emu_smem
"""

_GRID = r"""
    gridDim.x = gx; gridDim.y = gy; gridDim.z = 1;
    blockDim.x = bx; blockDim.y = 1; blockDim.z = 1;
    sigint_emu_smem = (unsigned char*)malloc(smem > 0 ? smem : 1);
    for (long y = 0; y < gy; ++y)
        for (long x = 0; x < gx; ++x)
            for (long t = 0; t < bx; ++t) {
                blockIdx.x = x; blockIdx.y = y; blockIdx.z = 0;
                threadIdx.x = t; threadIdx.y = 0; threadIdx.z = 0;
                KERNEL;
            }
    free(sigint_emu_smem);
"""

EPILOGUE = {
    "bem_influence": ("""
extern "C" void emu_bem_influence(long gx, long gy, long bx, long smem, const double* obs,
        const double* nrm, const int* field_row, const double* a, const double* b, long m, long p,
        long self_offset, int has_ground, double ground_y, double* out, long ld, long stride) {
""", "bem_influence<double>(obs, nrm, field_row, a, b, m, p, self_offset, has_ground, ground_y, "
     "out, ld, stride)"),
    "peec_pair": ("""
extern "C" void emu_peec_mean_log_distance(long gx, long gy, long bx, long smem, const int* kind,
        const double* g, const int* owner, const int* circle, const double* cen, const double* cov,
        const double* size, const double* tn, const double* wn, const double* tn1, const double* wn1,
        int n_quad, int m_terms, double near, int has_image, double image_y, long n, long row0,
        long m, double* out, long ld) {
""", "peec_mean_log_distance(kind, g, owner, circle, cen, cov, size, tn, wn, tn1, wn1, n_quad, "
     "m_terms, near, has_image, image_y, n, row0, m, out, ld)"),
    "stateye_conv": ("""
extern "C" void emu_stateye_convolve(long gx, long gy, long bx, long smem, const long* q,
        const double* w, long r_cols, const long* col, const long* lo, const long* hi,
        long n_steps, long width, double* out, double* scratch, int use_shared) {
    bx = 1;   /* barriers between steps: one thread per block */
""", "stateye_convolve<double>(q, w, r_cols, col, lo, hi, n_steps, width, out, scratch, use_shared)"),
}


def build(tmp: Path, name: str) -> ctypes.CDLL:
    """Compile ``kernels/<name>.cu`` with the emulation around it; load the library."""
    head, call = EPILOGUE[name]
    src = tmp / f"{name}_emu.cpp"
    src.write_text(PRELUDE + (ROOT / "kernels" / f"{name}.cu").read_text() + head
                   + _GRID.replace("KERNEL", call) + "}\n")
    so = tmp / f"{name}_emu.so"
    out = subprocess.run(["g++", "-O2", "-std=c++14", "-shared", "-fPIC", str(src), "-o", str(so)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return ctypes.CDLL(str(so))


def _arg(a):
    if isinstance(a, np.ndarray):
        return ctypes.c_void_p(a.ctypes.data)
    if isinstance(a, np.int64):
        return ctypes.c_long(int(a))
    if isinstance(a, np.int32):
        return ctypes.c_int(int(a))
    if isinstance(a, np.float64):
        return ctypes.c_double(float(a))
    raise TypeError(f"kernel argument of type {type(a).__name__}")


class _Kernel:
    def __init__(self, fn):
        self.fn = fn
        self.max_dynamic_shared_size_bytes = 49152
        self.launches: list[tuple] = []

    def __call__(self, grid, block, args, shared_mem=0):
        grid = tuple(grid) + (1,) * (2 - len(grid))
        assert shared_mem <= self.max_dynamic_shared_size_bytes or shared_mem <= 49152
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous or a.ndim == 1
        self.launches.append((grid, tuple(block), shared_mem))
        self.fn(ctypes.c_long(grid[0]), ctypes.c_long(grid[1]), ctypes.c_long(block[0]),
                ctypes.c_long(shared_mem), *[_arg(a) for a in args])


def fake_cupy(libs: dict[str, ctypes.CDLL], *, free_bytes: int = 2 ** 34,
              shared_optin: int = 232448) -> types.ModuleType:
    """A module named ``cupy`` on numpy arrays, launching the emulated kernels."""
    cp = types.ModuleType("cupy")
    for name in ("asarray", "ascontiguousarray", "zeros", "empty", "full", "float64", "int32",
                 "int64", "complex128"):
        setattr(cp, name, getattr(np, name))
    cp.asnumpy = lambda a: np.array(a, copy=True)

    class Device:
        id = 0
        mem_info = (free_bytes, 2 * free_bytes)

        def __init__(self, *_a):
            pass

        def synchronize(self):
            pass

    class Pool:
        def free_bytes(self):
            return 0

    cp.cuda = types.SimpleNamespace(
        Device=Device,
        runtime=types.SimpleNamespace(getDeviceProperties=lambda _i: {
            "sharedMemPerBlockOptin": shared_optin, "sharedMemPerBlock": 49152}))
    cp.get_default_memory_pool = Pool
    kernels: dict[str, _Kernel] = {}

    def get_function(name, function, device_id=None):
        base = function.split("<")[0]
        if base not in kernels:
            kernels[base] = _Kernel(getattr(libs[name], f"emu_{base}"))
        return kernels[base]

    cp.get_function = get_function
    cp.kernels = kernels
    return cp
