"""Kernel dispatch: each CUDA kernel where ``xp`` is CuPy, its numpy twin otherwise.

========================  =====================================  ==========================================
operation                 kernel (``kernels/``)                  numpy twin
========================  =====================================  ==========================================
:func:`bem_influence`     ``bem_influence.cu``                   :func:`bem_influence_numpy` (built on
                                                                 ``bem.potential_kernel``/``field_kernel``)
:func:`mean_log_distance` ``peec_pair.cu``                       ``peec.mean_log_distance``
:func:`fine_distribution` ``stateye_conv.cu``                    ``stateye.fine_distribution``
:func:`cascade`           batched ``xp.linalg.solve`` / matmul   ``lines.star_product`` / ``lines.cascade_s``
========================  =====================================  ==========================================

Every path is chunked by :mod:`sigint.gpu.memory`, so a problem larger than the free
memory runs in pieces. :func:`kernel_cost` estimates each kernel's FP64 operations and
bytes moved, for the benchmarks' roofline figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import memory

__all__ = [
    "bem_influence",
    "bem_influence_numpy",
    "peec_arrays",
    "mean_log_distance",
    "fine_plan",
    "fine_distribution",
    "KernelCost",
    "kernel_cost",
    "cascade",
]

_BLOCK = 128
_GRID_Y_MAX = 65535


def _is_cupy(xp) -> bool:
    return xp is not np and getattr(xp, "__name__", "") == "cupy"


# ----------------------------------------------------------------------------- BEM
def bem_influence_numpy(obs: np.ndarray, nrm: np.ndarray, field_row: np.ndarray, a: np.ndarray,
                        b: np.ndarray, ground_y: float | None = None, self_offset: int = 0,
                        memory_limit: int | None = None) -> np.ndarray:
    """BEM system-matrix block from the closed forms of :mod:`sigint.extract.bem`.

    Parameters
    ----------
    obs, nrm : ndarray, shape (M, 2)
        Observation points (m) and the unit normal of the panel each lies on.
    field_row : ndarray of bool, shape (M,)
        True for interface rows (normal field), False for conductor rows (potential).
    a, b : ndarray, shape (P, 2)
        Panel end points, m.
    ground_y : float, optional
        Height of an infinite ground plane (the image panel, of opposite sign, is
        subtracted).
    self_offset : int
        Observer *i* lies on panel ``i + self_offset``, whose field there is the principal
        value, 0.
    memory_limit : int, optional
        Cap on the working memory, bytes (rows are chunked to fit).

    Returns
    -------
    ndarray, shape (M, P)
        Potential (conductor rows) or normal field (interface rows) of a unit density
        (times :math:`1/\\varepsilon_0`).
    """
    from ..extract.bem import field_kernel, potential_kernel

    m, p = obs.shape[0], a.shape[0]
    out = np.empty((m, p))
    field_row = np.asarray(field_row, dtype=bool)
    if ground_y is not None:
        ai, bi = a.copy(), b.copy()
        ai[:, 1] = 2 * ground_y - a[:, 1]
        bi[:, 1] = 2 * ground_y - b[:, 1]
    # about a dozen (rows, P) float64 temporaries live at once in the closed forms
    rows = memory.plan_chunk(m, 12 * 8 * p, limit=memory_limit)
    for lo, hi in memory.chunks(m, rows):
        idx = np.arange(lo, hi)
        cr = idx[~field_row[lo:hi]]
        fr = idx[field_row[lo:hi]]
        if cr.size:
            pot = potential_kernel(obs[cr], a, b)
            if ground_y is not None:
                pot -= potential_kernel(obs[cr], ai, bi)
            out[cr] = pot
        if fr.size:
            ex, ey = field_kernel(obs[fr], a, b)
            own = fr + self_offset
            ok = own < p
            ex[np.flatnonzero(ok), own[ok]] = 0.0
            ey[np.flatnonzero(ok), own[ok]] = 0.0
            kn = ex * nrm[fr, 0:1] + ey * nrm[fr, 1:2]
            if ground_y is not None:
                exi, eyi = field_kernel(obs[fr], ai, bi)
                kn -= exi * nrm[fr, 0:1] + eyi * nrm[fr, 1:2]
            out[fr] = kn
    return out


def bem_influence(obs, nrm, field_row, a, b, ground_y: float | None = None, self_offset: int = 0,
                  *, xp=np, out=None, memory_limit: int | None = None):
    """BEM system-matrix block on *xp*: the ``bem_influence`` kernel on CuPy, else
    :func:`bem_influence_numpy` (same arguments and result).

    On CuPy, *out* may be a complex128 (or float64) device matrix of at least (M, P)
    (C order): the entries are written into its real parts in place, the imaginary parts
    untouched, so the complex system matrix is filled without a host round trip.
    """
    if not _is_cupy(xp):
        res = bem_influence_numpy(np.asarray(obs), np.asarray(nrm), np.asarray(field_row),
                                  np.asarray(a), np.asarray(b), ground_y, self_offset, memory_limit)
        if out is None:
            return res
        out.real[:res.shape[0], :res.shape[1]] = res
        return out
    from .kernels import get_function

    cp = xp
    obs_d = cp.ascontiguousarray(cp.asarray(obs, dtype=cp.float64))
    nrm_d = cp.ascontiguousarray(cp.asarray(nrm, dtype=cp.float64))
    fr_d = cp.ascontiguousarray(cp.asarray(field_row).astype(cp.int32))
    a_d = cp.ascontiguousarray(cp.asarray(a, dtype=cp.float64))
    b_d = cp.ascontiguousarray(cp.asarray(b, dtype=cp.float64))
    m, p = int(obs_d.shape[0]), int(a_d.shape[0])
    fn = get_function("bem_influence", "bem_influence<double>")
    has_g = ground_y is not None

    def launch(lo, hi, dst, ld, stride, row0):
        fn(((p + _BLOCK - 1) // _BLOCK, hi - lo), (_BLOCK,),
           (obs_d[lo:hi], nrm_d[lo:hi], fr_d[lo:hi], a_d, b_d, np.int64(hi - lo), np.int64(p),
            np.int64(self_offset + lo), np.int32(has_g), np.float64(ground_y if has_g else 0.0),
            dst[(lo - row0) * ld * stride:], np.int64(ld), np.int64(stride)))

    if out is not None:
        if (out.ndim != 2 or not out.flags.c_contiguous or out.shape[0] < m or out.shape[1] < p
                or out.dtype not in (cp.complex128, cp.float64)):
            raise ValueError(f"out must be a C-contiguous complex128 or float64 matrix of at "
                             f"least ({m}, {p})")
        stride = 2 if out.dtype == cp.complex128 else 1
        flat = out.view(cp.float64).ravel()
        for lo, hi in memory.chunks(m, _GRID_Y_MAX):
            launch(lo, hi, flat, int(out.shape[1]), stride, 0)
        return out
    return _rows_on_device(cp, m, p, lambda lo, hi, buf: launch(lo, hi, buf.ravel(), p, 1, lo),
                           memory_limit)


def _rows_on_device(cp, m: int, ncol: int, launch, memory_limit):
    """Run *launch(lo, hi, buf)* over row chunks: the whole (m, ncol) result on the device
    when it fits in the free memory, else chunk by chunk into a host array."""
    rows = memory.plan_chunk(m, 8 * ncol, xp=cp, limit=memory_limit)
    if rows >= m:
        out = cp.empty((m, ncol), dtype=cp.float64)
        for lo, hi in memory.chunks(m, _GRID_Y_MAX):
            launch(lo, hi, out[lo:])
        return out
    rows = min(rows, _GRID_Y_MAX)
    host = np.empty((m, ncol))
    buf = cp.empty((rows, ncol), dtype=cp.float64)
    for lo, hi in memory.chunks(m, rows):
        launch(lo, hi, buf)
        host[lo:hi] = cp.asnumpy(buf[:hi - lo])
    return host


# ----------------------------------------------------------------------------- PEEC
def peec_arrays(fil, n_quad: int = 6) -> dict:
    """Filament data laid out for ``peec_pair.cu`` (numpy arrays, C order)."""
    from ..extract.peec import _GL, M_TERMS, NEAR

    tn, wn = _GL[n_quad]
    tn1, wn1 = _GL[n_quad + 1]
    cov = np.stack([fil.cov[:, 0, 0], fil.cov[:, 0, 1], fil.cov[:, 1, 1]], axis=1)
    c = np.ascontiguousarray
    return dict(kind=c(fil.kind, dtype=np.int32), g=c(fil.g, dtype=np.float64),
                owner=c(fil.owner, dtype=np.int32), circle=c(fil.circle, dtype=np.int32),
                cen=c(fil.centroid, dtype=np.float64), cov=c(cov, dtype=np.float64),
                size=c(fil.size, dtype=np.float64), tn=c(tn), wn=c(wn), tn1=c(tn1), wn1=c(wn1),
                n_quad=n_quad, m_terms=M_TERMS, near=NEAR)


def mean_log_distance(fil, image_y: float | None = None, *, xp=np, memory_limit: int | None = None):
    """Mean ln distances between filaments (n, n) on *xp*: the ``peec_mean_log_distance``
    kernel on CuPy (a device array), ``peec.mean_log_distance`` on numpy."""
    if not _is_cupy(xp):
        from ..extract.peec import mean_log_distance as twin

        return twin(fil, image_y)
    from .kernels import get_function

    cp = xp
    h = peec_arrays(fil)
    d = {k: cp.asarray(v) for k, v in h.items() if isinstance(v, np.ndarray)}
    n = fil.n
    fn = get_function("peec_pair", "peec_mean_log_distance")

    def launch(lo, hi, buf):
        fn(((n + _BLOCK - 1) // _BLOCK, hi - lo), (_BLOCK,),
           (d["kind"], d["g"], d["owner"], d["circle"], d["cen"], d["cov"], d["size"], d["tn"],
            d["wn"], d["tn1"], d["wn1"], np.int32(h["n_quad"]), np.int32(h["m_terms"]),
            np.float64(h["near"]), np.int32(image_y is not None),
            np.float64(image_y if image_y is not None else 0.0), np.int64(n), np.int64(lo),
            np.int64(hi - lo), buf, np.int64(n)))

    return _rows_on_device(cp, n, n, launch, memory_limit)


# ----------------------------------------------------------------------------- stat eye
def fine_plan(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The column order and support windows of ``stateye.fine_distribution``.

    Returns (col, lo, hi, smax): for step *s*, column ``col[s]`` is convolved on the window
    ``[lo[s], hi[s])`` of a grid of ``2 smax + 1`` points (origin at ``smax``); columns
    whose offsets are all 0 are skipped.
    """
    q = np.asarray(q)
    tot = q.sum(axis=1)
    smax = int(tot.max()) if tot.size else 0
    cols, los, his = [], [], []
    s = 0
    for k in np.argsort(q.max(axis=0), kind="stable") if q.size else []:
        qm = int(q[:, k].max())
        if qm == 0:
            continue
        s_new = min(s + qm, smax)
        cols.append(int(k))
        los.append(smax - s_new)
        his.append(smax + s_new + 1)
        s = s_new
    as64 = np.asarray
    return as64(cols, dtype=np.int64), as64(los, dtype=np.int64), as64(his, dtype=np.int64), smax


def fine_distribution(q: np.ndarray, w: np.ndarray, *, xp=np, memory_limit: int | None = None):
    """Distribution of :math:`\\sum_k s_k q_k` per row on the integer grid, on *xp*.

    Same contract as ``stateye.fine_distribution`` (its numpy twin, used on numpy):
    returns (pmf (P, 2 S + 1), S). On CuPy one block per row convolves every column by
    direct shift-and-add, the row in shared memory when it fits; rows are chunked to the
    free memory.
    """
    if not _is_cupy(xp):
        from ..timedomain import stateye

        return stateye.fine_distribution(np.asarray(q), np.asarray(w))
    from .kernels import get_function

    cp = xp
    q_h = np.ascontiguousarray(np.asarray(q if isinstance(q, np.ndarray) else cp.asnumpy(q)),
                               dtype=np.int64)
    col, lo, hi, smax = fine_plan(q_h)
    p, r = q_h.shape
    width = 2 * smax + 1
    out = cp.zeros((p, width), dtype=cp.float64)
    out[:, smax] = 1.0
    if col.size == 0 or p == 0:
        return out, smax
    q_d = cp.asarray(q_h)
    w_d = cp.ascontiguousarray(cp.asarray(w, dtype=cp.float64))
    col_d, lo_d, hi_d = cp.asarray(col), cp.asarray(lo), cp.asarray(hi)
    dev = cp.cuda.Device()
    props = cp.cuda.runtime.getDeviceProperties(dev.id)
    smem_max = int(props.get("sharedMemPerBlockOptin", props.get("sharedMemPerBlock", 49152)))
    need = 2 * width * 8
    fn = get_function("stateye_conv", "stateye_convolve<double>")
    use_shared = need <= smem_max
    if use_shared and need > 49152:
        use_shared = _allow_shared(fn, need)
    if use_shared:
        rows = p
        scratch = cp.empty(1, dtype=cp.float64)
    else:
        rows = memory.plan_chunk(p, need, xp=cp, limit=memory_limit)
        scratch = cp.empty((rows, 2, width), dtype=cp.float64)
    threads = 256 if width >= 256 else 32 * max(1, math.ceil(width / 32))
    for r0, r1 in memory.chunks(p, rows):
        fn((r1 - r0,), (threads,),
           (q_d[r0:r1], w_d[r0:r1], np.int64(r), col_d, lo_d, hi_d, np.int64(col.size),
            np.int64(width), out[r0:r1], scratch, np.int32(use_shared)),
           shared_mem=need if use_shared else 0)
    return out, smax


def _allow_shared(fn, need: int) -> bool:
    """Opt *fn* in to *need* bytes of dynamic shared memory (above the 48 KiB default);
    False when this CuPy cannot (the kernel then keeps its rows in global memory)."""
    import warnings

    try:
        with warnings.catch_warnings():
            # newer CuPy deprecates the RawKernel attribute in favour of fn.function's
            warnings.simplefilter("ignore", DeprecationWarning)
            fn.max_dynamic_shared_size_bytes = need
        return True
    except Exception:
        return False


# ----------------------------------------------------------------------------- costs
@dataclass(frozen=True)
class KernelCost:
    """Work of one kernel launch, for roofline figures (estimates, stated per formula).

    Attributes
    ----------
    flops : float
        FP64 additions, subtractions, multiplications and divisions.
    transcendentals : float
        Calls of log, atan, atan2, cos, sin, sqrt, pow (each tens of FP64 operations on a
        GPU; not counted in *flops*, so FLOP/s from *flops* is a lower bound).
    bytes : float
        Bytes moved to and from device memory (each input read once, each output written
        once: the kernels keep their operands in registers or shared memory).
    """

    flops: float
    transcendentals: float
    bytes: float


def kernel_cost(name: str, **size) -> KernelCost:
    """Estimated work of a kernel: ``bem_influence`` (m, p, ground), ``peec_pair``
    (n, far, rect, sector, quad, image: pair counts), ``stateye_conv`` (rows, elements:
    sum over steps of the window widths, width, cols).

    Counts per pair from the closed forms in ``kernels/*.cu``: a panel evaluation is ~17
    operations for its local frame plus ~20 for the potential (sqrt, 2 log, 2 atan2) or
    ~26 for the field (sqrt, 2 log, 2 atan); a far filament pair ~20 (1 log); a rectangle
    pair 16 corner terms of ~30 (log, 2 atan, 2 pow); a sector pair ~40 per series term (4
    cos, up to 4 pow); a quadrature pair 36 x 49 points of ~8 (1 log; sectors add cos, sin).
    A statistical-eye step is 6 operations per grid point and row.
    """
    if name == "bem_influence":
        m, p, ground = size["m"], size["p"], size.get("ground", True)
        evals = m * p * (2 if ground else 1)
        return KernelCost(evals * 40.0, evals * 5.0, 8.0 * m * p + 8 * 4 * (m + p))
    if name == "peec_pair":
        n = size["n"]
        far, rect, sector, quad = (size.get(k, 0) for k in ("far", "rect", "sector", "quad"))
        fl = far * 20.0 + rect * 16 * 30.0 + sector * 96 * 40.0 + quad * 36 * 49 * 8.0
        tr = far * 1.0 + rect * 16 * 5.0 + sector * 96 * 8.0 + quad * 36 * 49 * 1.0
        return KernelCost(fl, tr, 8.0 * n * n + 8 * 16 * n)
    if name == "stateye_conv":
        rows, elements, width, cols = size["rows"], size["elements"], size["width"], size["cols"]
        return KernelCost(6.0 * rows * elements, 0.0, 8.0 * rows * (2 * width + 2 * cols))
    raise ValueError(f"unknown kernel {name!r}; choose bem_influence, peec_pair or stateye_conv")


# ----------------------------------------------------------------------------- cascade
def cascade(sections, *, xp=np):
    """Cascade 2N-port S-matrices (F, 2N, 2N) in order, batched over frequency on *xp*.

    :func:`sigint.channel.lines.star_product` (its formula, written in ``xp`` calls) applied
    junction by junction to complex128 copies on *xp*'s device: on CuPy every frequency of
    every junction is one batched solve there (``mtl.cascade_s`` is the host path).

    Returns
    -------
    array, shape (F, 2N, 2N), on *xp*
    """
    from ..channel.lines import star_product

    if not sections:
        raise ValueError("nothing to cascade")
    acc = xp.asarray(sections[0], dtype=xp.complex128)
    for sec in sections[1:]:
        acc = star_product(acc, xp.asarray(sec, dtype=xp.complex128), xp=xp)
    return acc
