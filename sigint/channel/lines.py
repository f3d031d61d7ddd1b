"""Multiconductor transmission lines: RLGC(f) and a length to 2N-port S-parameters.

Telegrapher's equations :math:`dV/dz = -Z I`, :math:`dI/dz = -Y V` with
:math:`Z = R + j\\omega L`, :math:`Y = G + j\\omega C` (N x N per unit length; Paul,
*Analysis of Multiconductor Transmission Lines*, 2nd ed., ch. 7). With the modal
decomposition :math:`ZY = T\\,\\Lambda\\,T^{-1}`, :math:`\\Gamma = T\\Lambda^{1/2}T^{-1}`, the
forward and backward voltage waves obey :math:`V^\\pm(z) = e^{\\mp\\Gamma z}V^\\pm(0)`, the
currents :math:`I = Y_c(V^+ - V^-)` with :math:`Y_c = Z^{-1}\\Gamma`.

Chain-matrix forms multiply :math:`e^{+\\Gamma\\ell}` by :math:`e^{-\\Gamma\\ell}` and lose
every digit beyond ~16 dB/decade of loss. Here only the decaying propagator
:math:`M = e^{-\\Gamma\\ell}` appears: with power waves on real references
:math:`Z_r` at each end, :math:`A = \\tfrac12 Z_r^{-1/2}(I + Z_r Y_c)`,
:math:`B = \\tfrac12 Z_r^{-1/2}(I - Z_r Y_c)`, and the unknowns :math:`V^+(0)`,
:math:`W = V^-(\\ell)`,

.. math:: \\begin{bmatrix}a_1\\\\a_2\\end{bmatrix} =
          \\begin{bmatrix}A_n & B_n M\\\\ B_f M & A_f\\end{bmatrix}
          \\begin{bmatrix}V^+\\\\W\\end{bmatrix},\\qquad
          \\begin{bmatrix}b_1\\\\b_2\\end{bmatrix} =
          \\begin{bmatrix}B_n & A_n M\\\\ A_f M & B_f\\end{bmatrix}
          \\begin{bmatrix}V^+\\\\W\\end{bmatrix},

so :math:`S = \\mathbf{B}\\mathbf{A}^{-1}` from bounded matrices, at any loss. At DC with
:math:`G = 0` the line is a series resistance network and is treated as such. Ports follow
scikit-rf: 0..N-1 at the near end, N..2N-1 at the far end, port i runs to N+i.
"""

from __future__ import annotations

import numpy as np

from ..threads import small_matrix_blas

__all__ = ["mtl_s", "series_impedance_s", "star_product", "cascade_s", "MODE_COND_LIMIT"]

MODE_COND_LIMIT = 1e8


def _as3(x, nf: int, n: int) -> np.ndarray:
    a = np.asarray(x, dtype=complex)
    if a.ndim == 0:
        a = a * np.eye(n)
    elif a.ndim == 1 and n == 1 and a.size == nf:    # a scalar line's per-frequency values
        a = a[:, None, None]
    if a.ndim == 2:
        a = np.broadcast_to(a, (nf, n, n))
    if a.shape != (nf, n, n):
        raise ValueError(f"per-unit-length matrix of shape {a.shape}, expected ({nf}, {n}, {n})")
    return a


def _ref(z_ref, n: int) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(z_ref, dtype=float)
    if z.ndim == 0:
        z = np.full(2 * n, float(z))
    if z.shape != (2 * n,):
        raise ValueError(f"z_ref must be a scalar or have 2N = {2 * n} entries, not {z.shape}")
    if np.any(z <= 0):
        raise ValueError("reference impedances must be positive")
    return z[:n], z[n:]


@small_matrix_blas()
def series_impedance_s(zs: np.ndarray, z_ref) -> np.ndarray:
    """S of a series impedance network (port i to N+i through ``zs``), shape (F, 2N, 2N).

    The branch currents :math:`I` enter at the near ports and leave at the far ones, and
    :math:`V_1 - V_2 = Z_s I`. With power waves on real references,
    :math:`K I = 2(Z_{rn}^{1/2}a_1 - Z_{rf}^{1/2}a_2)` where :math:`K = Z_s + Z_{rn} + Z_{rf}`,
    and :math:`b_1 = a_1 - Z_{rn}^{1/2} I`, :math:`b_2 = a_2 + Z_{rf}^{1/2} I`.

    Parameters
    ----------
    zs : ndarray, shape (F, N, N)
        Series impedance matrix, ohm.
    z_ref : float or array_like, shape (2N,)
        Real reference impedances, ohm.
    """
    zs = np.asarray(zs, dtype=complex)
    nf, n, _ = zs.shape
    zn, zf = _ref(z_ref, n)
    eye = np.eye(n)
    k = zs + np.diag(zn)[None] + np.diag(zf)[None]        # (Zs + Zrn + Zrf)
    # I = K^-1 (2 sqrt(Zrn) a1 - 2 sqrt(Zrf) a2)   (I flows into port 1, out of port 2)
    sn, sf = np.sqrt(zn), np.sqrt(zf)
    kinv = np.linalg.inv(k)
    # b1 = a1 - sqrt(Zrn) I ; b2 = a2 + sqrt(Zrf) I
    s = np.zeros((nf, 2 * n, 2 * n), dtype=complex)
    s[:, :n, :n] = eye - 2 * sn[:, None] * kinv * sn[None, :]
    s[:, :n, n:] = 2 * sn[:, None] * kinv * sf[None, :]
    s[:, n:, :n] = 2 * sf[:, None] * kinv * sn[None, :]
    s[:, n:, n:] = eye - 2 * sf[:, None] * kinv * sf[None, :]
    return s


def _modal(z: np.ndarray, y: np.ndarray, length: float):
    """Yc and M = exp(-Gamma l) per frequency, from the eigen-decomposition of ZY.

    Frequencies whose eigenvector matrix is ill-conditioned (near-defective ZY) are
    recomputed with the Schur-based ``scipy.linalg.sqrtm``/``expm``.
    """
    p = z @ y
    lam, t = np.linalg.eig(p)
    gam = np.sqrt(lam)
    gam = np.where(gam.real < 0, -gam, gam)                 # decaying branch
    tinv = np.linalg.inv(t)
    gm = (t * gam[:, None, :]) @ tinv
    m = (t * np.exp(-gam * length)[:, None, :]) @ tinv
    cond = np.linalg.norm(t, axis=(1, 2)) * np.linalg.norm(tinv, axis=(1, 2))  # Frobenius
    bad = np.flatnonzero(~np.isfinite(cond) | (cond > MODE_COND_LIMIT))
    if bad.size:
        import scipy.linalg

        for k in bad:
            g = scipy.linalg.sqrtm(p[k])
            gm[k] = g
            m[k] = scipy.linalg.expm(-g * length)
    yc = np.linalg.solve(z, gm)
    return yc, m


def mtl_s(f, r, l, g, c, length: float, z_ref=50.0, threads: int | None = None) -> np.ndarray:
    """S-parameters of a uniform multiconductor line, shape (F, 2N, 2N).

    Parameters
    ----------
    f : ndarray, shape (F,)
        Frequencies, Hz (may include 0).
    r, l, g, c : array_like, shape (F, N, N) or (N, N)
        Per-unit-length resistance (ohm/m), inductance (H/m), conductance (S/m) and
        capacitance (F/m) matrices.
    length : float
        Line length, m.
    z_ref : float or array_like, shape (2N,)
        Real reference impedance of every port, ohm.
    threads : int, optional
        Python threads over blocks of frequencies (each frequency is solved on its own, so
        the result does not depend on it; default :func:`sigint.threads.lane_threads`).

    Returns
    -------
    ndarray
        Complex S-matrices; ports 0..N-1 near end, N..2N-1 far end.

    Examples
    --------
    >>> import numpy as np
    >>> s = mtl_s(np.array([1e9]), 0.0, 250e-9, 0.0, 100e-12, 0.01)   # 50 ohm, lossless
    >>> float(abs(s[0, 1, 0]))
    1.0
    """
    f = np.asarray(f, dtype=float)
    if threads is None:
        from ..threads import lane_threads

        threads = lane_threads()
    blocks = min(int(threads), f.size // 256)
    if any(np.ndim(x) == 1 for x in (r, l, g, c)):     # per-frequency scalars: one block
        blocks = 1
    with small_matrix_blas():
        if blocks <= 1:
            return _mtl_s(f, r, l, g, c, length, z_ref)
        from concurrent.futures import ThreadPoolExecutor

        edges = np.linspace(0, f.size, blocks + 1).astype(int)

        def part(k):
            sl = slice(edges[k], edges[k + 1])
            cut = [x[sl] if np.ndim(x) == 3 else x for x in (r, l, g, c)]
            return _mtl_s(f[sl], *cut, length, z_ref)

        with ThreadPoolExecutor(blocks) as pool:
            return np.concatenate(list(pool.map(part, range(blocks))), axis=0)


def _mtl_s(f, r, l, g, c, length: float, z_ref) -> np.ndarray:
    f = np.asarray(f, dtype=float)
    nf = f.size
    n = max([np.shape(x)[-1] for x in (r, l, g, c) if np.ndim(x) >= 2] or [1])
    w = 2 * np.pi * f[:, None, None]
    z = _as3(r, nf, n) + 1j * w * _as3(l, nf, n)
    y = _as3(g, nf, n) + 1j * w * _as3(c, nf, n)
    zn, zf = _ref(z_ref, n)
    s = np.empty((nf, 2 * n, 2 * n), dtype=complex)
    dc = (f == 0) & np.all(np.abs(y) == 0, axis=(1, 2))
    if np.any(dc):
        s[dc] = series_impedance_s(z[dc] * length, z_ref)
    ac = ~dc
    if np.any(ac):
        yc, m = _modal(z[ac], y[ac], length)
        eye = np.eye(n)

        def ab(zr):
            h = 0.5 / np.sqrt(zr)[:, None]
            zy = zr[:, None] * yc
            return h * (eye + zy), h * (eye - zy)

        an, bn = ab(zn)
        af, bf = ab(zf)
        k = int(ac.sum())
        amat = np.empty((k, 2 * n, 2 * n), dtype=complex)
        bmat = np.empty_like(amat)
        amat[:, :n, :n], amat[:, :n, n:] = an, bn @ m
        amat[:, n:, :n], amat[:, n:, n:] = bf @ m, af
        bmat[:, :n, :n], bmat[:, :n, n:] = bn, an @ m
        bmat[:, n:, :n], bmat[:, n:, n:] = af @ m, bf
        # S = B A^-1  <=>  A^T S^T = B^T
        s[ac] = np.swapaxes(np.linalg.solve(np.swapaxes(amat, 1, 2), np.swapaxes(bmat, 1, 2)), 1, 2)
    return s


@small_matrix_blas()
def star_product(a: np.ndarray, b: np.ndarray, *, xp=np) -> np.ndarray:
    """Cascade two 2N-port S-matrices, A's far end to B's near end (Redheffer star product).

    Both use scikit-rf's port order and share the reference impedance at the junction.
    With :math:`X = (I - B_{11}A_{22})^{-1}` and the push-through identity
    :math:`(I - A_{22}B_{11})^{-1}A_{22} = A_{22}X`, one factorisation per frequency gives

    .. math:: S_{11} = A_{11} + A_{12}XB_{11}A_{21},\\quad S_{12} = A_{12}XB_{12},\\quad
              S_{21} = B_{21}(A_{21} + A_{22}XB_{11}A_{21}),\\quad
              S_{22} = B_{22} + B_{21}A_{22}XB_{12}

    (Redheffer, J. Math. Phys. 41, 1962), batched over frequency in ``xp`` calls only:
    with *xp* CuPy and device arrays every frequency is one batched solve on the device
    (:func:`sigint.gpu.ops.cascade`).

    Parameters
    ----------
    a, b : array, shape (F, 2N, 2N)
        S-matrices on *xp*'s device.
    xp : module
        ``numpy`` or ``cupy``.

    Returns
    -------
    array, shape (F, 2N, 2N), on *xp*
    """
    n = a.shape[-1] // 2
    a11, a12, a21, a22 = a[:, :n, :n], a[:, :n, n:], a[:, n:, :n], a[:, n:, n:]
    b11, b12, b21, b22 = b[:, :n, :n], b[:, :n, n:], b[:, n:, :n], b[:, n:, n:]
    eye = xp.eye(n)
    k = xp.linalg.solve(eye - b11 @ a22, xp.concatenate([b11 @ a21, b12], axis=2))  # X[B11A21, B12]
    out = xp.empty(a.shape, dtype=xp.result_type(a, b))
    out[:, :n, :] = a12 @ k
    out[:, :n, :n] += a11
    a22k = a22 @ k
    a22k[:, :, :n] += a21
    out[:, n:, :] = b21 @ a22k
    out[:, n:, n:] += b22
    return out


def _star_chunk(sections: list[np.ndarray], lo: int, hi: int, out: np.ndarray) -> None:
    """:func:`star_product` of every section over frequencies [lo, hi), one frequency at a
    time through BLAS/LAPACK calls, which release the GIL (numpy's stacked matmul holds it)."""
    from scipy.linalg.blas import zgemm
    from scipy.linalg.lapack import zgesv

    n = sections[0].shape[-1] // 2
    eye = np.eye(n, dtype=complex)
    for k in range(lo, hi):
        acc = np.ascontiguousarray(sections[0][k], dtype=complex)
        for sec in sections[1:]:
            b = np.asarray(sec[k], dtype=complex)
            a11, a12, a21, a22 = acc[:n, :n], acc[:n, n:], acc[n:, :n], acc[n:, n:]
            b11, b12, b21, b22 = b[:n, :n], b[:n, n:], b[n:, :n], b[n:, n:]
            rhs = np.empty((n, 2 * n), dtype=complex, order="F")
            rhs[:, :n] = zgemm(1.0, b11, a21)
            rhs[:, n:] = b12
            _, _, kk, info = zgesv(eye - zgemm(1.0, b11, a22), rhs, overwrite_a=True,
                                   overwrite_b=True)
            if info != 0:
                raise np.linalg.LinAlgError("singular junction in the cascade")
            new = np.empty((2 * n, 2 * n), dtype=complex)
            new[:n] = zgemm(1.0, a12, kk)
            new[:n, :n] += a11
            a22k = zgemm(1.0, a22, kk)
            a22k[:, :n] += a21
            new[n:] = zgemm(1.0, b21, a22k)
            new[n:, n:] += b22
            acc = new
        out[k] = acc


@small_matrix_blas()
def cascade_s(sections: list[np.ndarray], threads: int | None = None) -> np.ndarray:
    """Cascade 2N-port S-matrices in order (each far end to the next near end).

    One frequency at a time through BLAS/LAPACK (faster than numpy's stacked products for
    these small blocks, and multithreaded inside BLAS); *threads* > 1 also splits the
    frequencies over Python threads, which only helps for small blocks. The result equals
    :func:`star_product` applied in turn (tested against scikit-rf's ``**`` to 1e-12).
    """
    if not sections:
        raise ValueError("nothing to cascade")
    if len(sections) == 1:
        return sections[0]
    import os
    from concurrent.futures import ThreadPoolExecutor

    nf = sections[0].shape[0]
    threads = max(1, min(threads or 1, os.cpu_count() or 1, nf))
    out = np.empty(sections[0].shape, dtype=complex)
    bounds = np.linspace(0, nf, threads + 1).astype(int)
    if threads == 1:
        _star_chunk(sections, 0, nf, out)
        return out
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda k: _star_chunk(sections, bounds[k], bounds[k + 1], out),
                      range(threads)))
    return out
