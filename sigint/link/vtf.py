"""Voltage transfer functions of a terminated multiport, as UCIe defines them.

Every transmitter port of the network is loaded by its Tx model (a Norton source
:math:`I_N = V_s/R` in parallel with :math:`Y_{tx} = 1/R + j\\omega C_{tx}`), every receiver
port by its Rx model (:math:`Y_{rx} = j\\omega C_{rx}` [+ 1/R]) and every other port by its
reference impedance. With power waves on real reference impedances :math:`z_{0k}` a port
loaded by admittance :math:`Y_k` and Norton current :math:`I_k` obeys

.. math:: a_k = \\Gamma_k b_k + e_k,\\qquad
          \\Gamma_k = \\frac{1 - z_{0k} Y_k}{1 + z_{0k} Y_k},\\qquad
          e_k = \\frac{\\sqrt{z_{0k}}\\, I_k}{1 + z_{0k} Y_k},

so that with :math:`b = S a` the incident waves are :math:`a = (I - \\Gamma S)^{-1} e` and the
port voltages :math:`V = \\sqrt{z_0}\\,(I + S)\\,a`. The VTF of lane *v* driven by lane *j* is
:math:`V_{rx,v}/V_{s,j}`; the UCIe loss is :math:`L(f) = 20\\log_{10}|V_r/V_s|` of the victim
and the crosstalk :math:`XT(f) = 10\\log_{10}\\sum_i |V_{a,i}/V_s|^2` over the largest 19
aggressors (UCIe 3.0 §5.7). Only the receiver rows are needed, so the transposed systems
:math:`(I - \\Gamma S)^T y = (I + S)^T u_v` are solved, batched over frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backend import array_namespace, to_numpy
from ..threads import small_matrix_blas
from .ports import LinkNetwork
from .txrx import Rx, Tx

__all__ = ["Transfers", "terminated_transfers", "power_sum_db", "N_AGGRESSORS_UCIE"]

N_AGGRESSORS_UCIE = 19


@dataclass
class Transfers:
    """Voltage transfer functions into one victim receiver.

    Attributes
    ----------
    f : ndarray, shape (F,)
        Frequencies, Hz.
    victim : ndarray, shape (F,)
        :math:`V_r/V_s` of the victim lane.
    aggressors : ndarray, shape (A, F)
        :math:`V_{r,victim}/V_{s,i}` for each aggressor *i*.
    aggressor_names : list of str
        Names (``lane 3``, ``FEXT1.s4p``...).
    aggressor_kinds : list of str
        ``in-file``, ``FEXT`` or ``NEXT``.
    victim_name : str
        Name of the victim lane.
    notes : list of str
        What was done on the way (e.g. an aggressor file resampled onto these frequencies).
    """

    f: np.ndarray
    victim: np.ndarray
    aggressors: np.ndarray
    aggressor_names: list[str]
    aggressor_kinds: list[str]
    victim_name: str
    notes: list[str] = field(default_factory=list)

    @property
    def loss_db(self) -> np.ndarray:
        """VTF loss :math:`20\\log_{10}|V_r/V_s|`, dB."""
        return 20 * np.log10(np.maximum(np.abs(self.victim), 1e-300))

    def xt_db(self, n_largest: int = N_AGGRESSORS_UCIE) -> np.ndarray:
        """Power-sum crosstalk over the *n_largest* aggressors at each frequency, dB."""
        return power_sum_db(self.aggressors, n_largest)


def power_sum_db(h: np.ndarray, n_largest: int = N_AGGRESSORS_UCIE) -> np.ndarray:
    """:math:`10\\log_{10}\\sum |h_i|^2` over the *n_largest* entries per frequency, dB.

    Choosing the largest aggressors at each frequency gives, at every frequency, the
    largest sum any fixed choice of *n_largest* aggressors could give (a safe bound).
    """
    if h.shape[0] == 0:
        return np.full(h.shape[1:], -np.inf)
    p = np.abs(h) ** 2
    if p.shape[0] > n_largest:
        p = -np.partition(-p, n_largest - 1, axis=0)[:n_largest]
    with np.errstate(divide="ignore"):
        return 10 * np.log10(p.sum(axis=0))


def _port_loads(ln: LinkNetwork, tx: Tx, rx: Rx, xp):
    f = ln.f
    m = ln.s.shape[1]
    y = np.empty((f.size, m), dtype=complex)
    y[:] = (1.0 / ln.z0)[None, :]
    i_n = np.zeros((f.size, m), dtype=complex)
    y[:, ln.tx] = (ln.admittance_scale * tx.admittance(f))[:, None]
    i_n[:, ln.tx] = (ln.admittance_scale * tx.norton_current(f))[:, None]
    y[:, ln.rx] = (ln.admittance_scale * rx.admittance(f))[:, None]
    zy = ln.z0[None, :] * y
    gamma = (1 - zy) / (1 + zy)
    e = np.sqrt(ln.z0)[None, :] * i_n / (1 + zy)
    return xp.asarray(gamma), xp.asarray(e)


@small_matrix_blas()
def terminated_transfers(
    ln: LinkNetwork,
    tx: Tx,
    rx: Rx,
    victims: list[int] | None = None,
    *,
    xp=None,
) -> np.ndarray:
    """Transfer matrix :math:`V_{rx,v}/V_{s,j}` for victim lanes *v* and all Tx lanes *j*.

    Parameters
    ----------
    ln : LinkNetwork
        The network with its lanes.
    tx, rx : Tx, Rx
        Models loading every Tx and Rx port.
    victims : list of int, optional
        Lane indices whose receivers are wanted (default: all lanes).
    xp : module, optional
        Array namespace (numpy or cupy); default from the arrays.

    Returns
    -------
    ndarray, shape (F, V, L)
        Complex VTF from each of the L lanes' sources to each of the V victims' receivers.
    """
    if victims is None:
        victims = list(range(len(ln.tx)))
    xp = xp or array_namespace(ln.s)
    s = xp.asarray(ln.s)
    gamma, e = _port_loads(ln, tx, rx, xp)
    m = s.shape[1]
    eye = xp.eye(m, dtype=s.dtype)
    a_mat = eye[None] - gamma[:, :, None] * s          # I - Gamma S
    rows = xp.asarray(ln.rx[victims])
    sq = xp.asarray(np.sqrt(ln.z0))
    # u_v = sqrt(z0_r) * (I + S)[r, :]  ->  y = A^-T u_v
    ips = eye[None] + s
    u = sq[rows][None, :, None] * ips[:, rows, :]       # (F, V, M)
    y = xp.linalg.solve(xp.swapaxes(a_mat, 1, 2), xp.swapaxes(u, 1, 2))  # (F, M, V)
    cols = xp.asarray(ln.tx)
    t = xp.swapaxes(y[:, cols, :], 1, 2) * e[:, None, cols]              # (F, V, L)
    return to_numpy(t)
