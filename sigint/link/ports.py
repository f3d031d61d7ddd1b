"""Which port drives which: lanes, through paths, victims and differential pairs.

A *lane* is one Tx-to-Rx path through a multiport network: one port at each end when
single-ended, a (+, -) pair at each end when differential. The default mapping of a
2N-port is scikit-rf's (ports 0..N-1 at the near end, N..2N-1 at the far end, port i runs to
port N+i); the ``sequential`` preset is the other common convention (1->2, 3->4, ...), and
explicit ``--thru P:Q`` pairs (1-based, Tx first) override both. With ``differential=True``
consecutive through paths pair up as the + and - legs of one lane.

:func:`link_network` turns a network and a mapping into the matrix the link model works
on: single-ended, the S-matrix itself; differential, the differential-mode block of
scikit-rf's generalized mixed-mode S-parameters (``Network.se2gmm``), with the common-mode
and unused ports terminated in their reference impedance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import PortMapError
from ..network.quality import bulk_delay

__all__ = [
    "Lane",
    "PortMap",
    "PRESETS",
    "parse_thru",
    "build_port_map",
    "LinkNetwork",
    "link_network",
    "suggest_mapping",
]

PRESETS = ("skrf", "sequential")


@dataclass(frozen=True)
class Lane:
    """One Tx-to-Rx path.

    Attributes
    ----------
    name : str
        Label used in reports (``lane 1``, or ``1:2`` style when explicit).
    tx, rx : tuple of int
        0-based port indices at the transmitter and receiver end; one index when
        single-ended, (+, -) when differential.
    reversed : bool
        True when the lane was given as running the other way (``--reverse``): its
        coupling into a forward lane's receiver is near-end crosstalk.
    """

    name: str
    tx: tuple[int, ...]
    rx: tuple[int, ...]
    reversed: bool = False


@dataclass(frozen=True)
class PortMap:
    """The lanes of a network and how they were chosen.

    Attributes
    ----------
    nports : int
        Number of ports of the network.
    lanes : tuple of Lane
        The lanes, in order; lane numbers in reports are 1-based positions here.
    differential : bool
        True when each lane is a differential pair.
    source : str
        How the mapping was made (``skrf default``, ``sequential preset``, ``--thru``).
    explicit : bool
        True when the user gave the mapping (explicit pairs or a preset).
    """

    nports: int
    lanes: tuple[Lane, ...]
    differential: bool
    source: str
    explicit: bool

    def describe(self) -> str:
        """Mapping in 1-based port numbers, e.g. ``1:2, 3:4 (differential: 1,3 -> 2,4)``."""
        parts = []
        for ln in self.lanes:
            tx = ",".join(str(p + 1) for p in ln.tx)
            rx = ",".join(str(p + 1) for p in ln.rx)
            parts.append(f"{tx}->{rx}")
        mode = "differential" if self.differential else "single-ended"
        return f"{mode}; " + "; ".join(parts) + f" ({self.source})"


_THRU = re.compile(r"^\s*(\d+)\s*[:>,-]\s*(\d+)\s*$")


def parse_thru(text: str, nports: int | None = None, *, source: str = "--thru") -> tuple[int, int]:
    """Parse ``"P:Q"`` (1-based, Tx port first) into 0-based ``(tx, rx)``.

    Raises
    ------
    PortMapError
        If the text is malformed, names port 0, a port the network lacks, or P == Q.
    """
    m = _THRU.match(str(text))
    if not m:
        raise PortMapError(f"{source} {text!r}: write a through path as P:Q, e.g. 1:2 "
                           "(1-based port numbers, transmitter port first)")
    p, q = int(m.group(1)), int(m.group(2))
    for port in (p, q):
        if port < 1:
            raise PortMapError(f"{source} {text!r}: port numbers start at 1")
        if nports is not None and port > nports:
            raise PortMapError(
                f"{source} {text!r}: port {port} does not exist; the network has ports "
                f"1-{nports}")
    if p == q:
        raise PortMapError(f"{source} {text!r}: a through path needs two different ports")
    return p - 1, q - 1


def build_port_map(
    nports: int,
    *,
    thru: Sequence[str] | None = None,
    preset: str | None = None,
    differential: bool = False,
    reverse: Sequence[int] = (),
    name: str = "network",
) -> PortMap:
    """Build the lanes of an *nports* network.

    Parameters
    ----------
    nports : int
        Ports of the network.
    thru : sequence of str, optional
        Explicit through paths ``"P:Q"`` (1-based, Tx first). Overrides *preset*.
    preset : {'skrf', 'sequential'}, optional
        ``skrf`` (default): port i runs to N+i. ``sequential``: 1->2, 3->4, ...
    differential : bool
        Pair consecutive through paths into differential lanes (+ first).
    reverse : sequence of int
        1-based lane numbers whose Tx sits at the far end (their paths run Q->P).
    name : str
        Name of the network, for messages.

    Raises
    ------
    PortMapError
        If the mapping does not fit the network (odd port count for a preset, a port used
        twice, an odd number of paths for differential lanes, unknown preset or lane).
    """
    if thru:
        pairs = [parse_thru(t, nports) for t in thru]
        source, explicit = "--thru", True
    else:
        pre = (preset or "skrf").lower()
        if pre not in PRESETS:
            raise PortMapError(f"--ports {preset!r}: unknown preset; choose one of "
                               f"{', '.join(PRESETS)} or give --thru P:Q")
        if nports % 2:
            raise PortMapError(
                f"{name}: has {nports} ports, but the {pre} mapping needs an even number "
                "(2N ports for N through paths); give the through paths with --thru P:Q")
        half = nports // 2
        if pre == "skrf":
            pairs = [(i, half + i) for i in range(half)]
        else:
            pairs = [(2 * i, 2 * i + 1) for i in range(half)]
        source = "scikit-rf default (port i runs to N+i)" if pre == "skrf" else "sequential preset"
        explicit = preset is not None
    used: dict[int, str] = {}
    for p, q in pairs:
        for port in (p, q):
            if port in used:
                raise PortMapError(f"{name}: port {port + 1} appears in two through paths "
                                   f"({used[port]} and {p + 1}:{q + 1}); each port belongs "
                                   "to one path")
            used[port] = f"{p + 1}:{q + 1}"
    if differential:
        if len(pairs) % 2:
            raise PortMapError(
                f"{name}: {len(pairs)} through paths cannot pair into differential lanes; "
                "give an even number (the + and - legs of each lane, + first)")
        lanes = []
        for k in range(0, len(pairs), 2):
            (pp, qp), (pn, qn) = pairs[k], pairs[k + 1]
            lanes.append(Lane(name=f"lane {k // 2 + 1}", tx=(pp, pn), rx=(qp, qn)))
    else:
        lanes = [Lane(name=f"lane {k + 1}", tx=(p,), rx=(q,)) for k, (p, q) in enumerate(pairs)]
    for r in reverse:
        if not 1 <= r <= len(lanes):
            raise PortMapError(f"--reverse {r}: no such lane; lanes are numbered 1-{len(lanes)}")
        ln = lanes[r - 1]
        lanes[r - 1] = Lane(name=ln.name, tx=ln.rx, rx=ln.tx, reversed=True)
    return PortMap(nports=nports, lanes=tuple(lanes), differential=differential, source=source,
                   explicit=explicit)


def _lowband(s: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Mean |S| over the lowest 1 % of the band (at least 3 points, DC excluded), where a
    through path is unmistakable: near-lossless while crosstalk is weakest."""
    idx = np.flatnonzero(f > 0)
    if idx.size == 0:
        idx = np.arange(f.size)
    k = max(3, idx.size // 100)
    return np.abs(s[idx[:k]]).mean(axis=0)


def suggest_mapping(s: np.ndarray, f: np.ndarray) -> list[tuple[int, int]] | None:
    """Guess through paths from low-frequency transmission: each port's strongest partner.

    Returns the list of (tx, rx) 0-based pairs if the strongest-partner relation is a perfect
    pairing of the ports, else None.
    """
    mag = _lowband(s, f).copy()
    n = mag.shape[0]
    np.fill_diagonal(mag, -1.0)
    partner = mag.argmax(axis=0)
    pairs = []
    seen = set()
    for j in range(n):
        k = int(partner[j])
        if int(partner[k]) != j:
            return None
        if j not in seen:
            pairs.append((j, k))
            seen.update((j, k))
    return pairs


def _path_delay(s: np.ndarray, f: np.ndarray, t: int, r: int) -> float:
    """Bulk delay of the path t -> r, s (phase slope weighted by |S|^2)."""
    return bulk_delay(f, s[:, r, t])


#: A mapped path carrying this much less at low frequency than another path from the same
#: port is not the through path (6 dB: no real coupling comes near a through path).
MAPPING_RATIO = 2.0
#: Below this low-frequency transmission (-10 dB) a path is not a through path at all.
THRU_FLOOR = 10 ** (-10 / 20)


def check_mapping(s: np.ndarray, f: np.ndarray, pmap: PortMap, name: str) -> list[str]:
    """Check that every mapped path is the through path of its Tx port.

    A through path carries the most at low frequency (where loss and crosstalk are smallest)
    and has the channel's delay; near-end coupling has almost none. A mapped path t -> r is
    taken for a coupling path when another port b receives from t at least
    ``MAPPING_RATIO`` times more at low frequency, or more at low frequency and with over
    twice the delay. Not one threshold on one ratio: P/N coupling of -20 dB at a connector
    is met in real channels.

    Returns warning texts. Raises :class:`PortMapError` when the mapping is the default one
    and looks wrong, or when an explicit mapping names a path that carries less than
    -10 dB at low frequency while another carries 6 dB more (a coupling path taken for a
    lane); the message suggests the mapping that fits.
    """
    if s.shape[1] < 2:
        return []
    mag = _lowband(s, f)
    notes: list[str] = []
    bad = []
    step = float(np.median(np.diff(f))) if f.size > 1 else 1.0
    for ln in pmap.lanes:
        for t, r in zip(ln.tx, ln.rx):
            col = mag[:, t].copy()
            col[t] = 0.0
            best = int(col.argmax())
            if best == r:
                continue
            t_map, t_best = max(col[r], 1e-300), col[best]
            stronger = t_best >= MAPPING_RATIO * t_map
            longer = False
            if not stronger and t_best > t_map:
                d_map, d_best = _path_delay(s, f, t, r), _path_delay(s, f, t, best)
                longer = d_best > 2 * max(d_map, 0.0) + 1 / (f[-1] or step)
            if stronger or longer:
                bad.append((t, r, best, 20 * np.log10(t_map), 20 * np.log10(t_best), t_map))
    if not bad:
        return notes
    t, r, best, db_r, db_b, t_map = bad[0]
    guess = suggest_mapping(s, f)
    hint = ""
    if guess:
        hint = " --thru " + " --thru ".join(f"{a + 1}:{b + 1}" for a, b in guess)
        if pmap.differential:
            hint += " --diff"
    msg = (f"{name}: the mapped path {t + 1}->{r + 1} carries {db_r:.1f} dB at low frequency "
           f"while {t + 1}->{best + 1} carries {db_b:.1f} dB; the file seems to use another "
           "port convention")
    if not pmap.explicit or t_map < THRU_FLOOR:
        how = "the through paths given" if pmap.explicit else "the default mapping"
        raise PortMapError(msg + f"; {how} would analyse a coupling path as the lane: give "
                           "the through paths that fit, e.g." +
                           (hint or " --ports sequential or --thru P:Q"))
    notes.append(msg + " (kept, because the mapping was given explicitly)" +
                 (f"; the data suggest{hint}" if hint else ""))
    return notes


@dataclass
class LinkNetwork:
    """The matrix the link model terminates: ports, lanes and reference impedances.

    Attributes
    ----------
    f : ndarray, shape (F,)
        Frequencies, Hz.
    s : ndarray, shape (F, M, M)
        S-parameters of the (single-ended or differential-mode) ports.
    z0 : ndarray, shape (M,)
        Real reference impedance per port, ohm.
    tx, rx : ndarray of int, shape (lanes,)
        Port index of each lane's transmitter and receiver in ``s``.
    lane_names : list of str
        Names of the lanes.
    admittance_scale : float
        Factor from a single-ended termination admittance to this port's: 1 for
        single-ended, 1/2 for the differential mode (two legs in series).
    differential : bool
        Whether the ports are differential-mode ports.
    mode_conversion_db : float or None
        Largest |S_cd| over the band (dB) when differential, a measure of what the
        differential-mode reduction leaves out.
    notes : list of str
        What was done to the data on the way (references made real, mixed-mode reduction).
    """

    f: np.ndarray
    s: np.ndarray
    z0: np.ndarray
    tx: np.ndarray
    rx: np.ndarray
    lane_names: list[str]
    admittance_scale: float
    differential: bool
    mode_conversion_db: float | None = None
    notes: list[str] = field(default_factory=list)


def _real_z0(ntwk) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """S and a real, frequency-independent z0; renormalize with scikit-rf when needed."""
    z0 = np.asarray(ntwk.z0)
    notes = []
    if np.any(np.abs(z0.imag) > 0) or np.any(np.ptp(z0.real, axis=0) > 0) or np.any(z0.real <= 0):
        target = 50.0
        ntwk = ntwk.copy()
        ntwk.renormalize(target)
        notes.append(f"reference impedances renormalized to {target:g} ohm (scikit-rf)")
    return ntwk.s, np.real(np.asarray(ntwk.z0)[0]).astype(float), notes


def link_network(ntwk, pmap: PortMap) -> LinkNetwork:
    """Reduce *ntwk* to the ports the link model terminates, per *pmap*.

    Single-ended: every port of the network stays (unused ones are terminated in their
    reference impedance later). Differential: ports are reordered so each lane's pairs are
    adjacent, converted with scikit-rf's ``se2gmm`` (Ferrero & Pirola 2006), and the
    differential-mode block is kept; common-mode ports and unused single-ended ports are
    thereby terminated in their (mixed-mode) reference impedances.
    """
    f = np.asarray(ntwk.f, dtype=float)
    if not pmap.differential:
        s, z0, notes = _real_z0(ntwk)
        tx = np.array([ln.tx[0] for ln in pmap.lanes], dtype=int)
        rx = np.array([ln.rx[0] for ln in pmap.lanes], dtype=int)
        return LinkNetwork(f=f, s=np.asarray(s), z0=z0, tx=tx, rx=rx,
                           lane_names=[ln.name for ln in pmap.lanes], admittance_scale=1.0,
                           differential=False, mode_conversion_db=None, notes=notes)
    # order: lane1 tx+, tx-, lane1 rx+, rx-, lane2 ...; then the rest
    order: list[int] = []
    for ln in pmap.lanes:
        order += [ln.tx[0], ln.tx[1], ln.rx[0], ln.rx[1]]
    rest = [p for p in range(ntwk.nports) if p not in order]
    mm = ntwk.copy()
    # skrf renumber(from, to): port from[i] moves to to[i]
    mm.renumber(order + rest, list(range(ntwk.nports)))
    p = len(order) // 2
    s_se, z0_se, notes = _real_z0(mm)
    mm.s = s_se
    mm.z0 = np.broadcast_to(z0_se, (f.size, ntwk.nports)).astype(complex)
    mm.se2gmm(p=p)
    s = np.asarray(mm.s)
    z0 = np.real(np.asarray(mm.z0)[0, :p]).astype(float)
    s_dd = s[:, :p, :p].copy()
    s_cd = s[:, p:2 * p, :p]
    conv = float(20 * np.log10(max(np.abs(s_cd).max(), 1e-300))) if s_cd.size else None
    n_l = len(pmap.lanes)
    tx = np.array([2 * k for k in range(n_l)], dtype=int)
    rx = np.array([2 * k + 1 for k in range(n_l)], dtype=int)
    notes.append("differential-mode block of the mixed-mode S-parameters (scikit-rf se2gmm); "
                 "common modes terminated in their reference impedance")
    return LinkNetwork(f=f, s=s_dd, z0=z0, tx=tx, rx=rx, lane_names=[ln.name for ln in pmap.lanes],
                       admittance_scale=0.5, differential=True, mode_conversion_db=conv,
                       notes=notes)
