"""``sigint analyze``: from a channel's S-parameters to VTFs, eyes and a spec verdict.

The pipeline (PRODUCT.md): read and check the data, terminate every lane with its Tx/Rx
model and compute the victim's VTF loss and the power-sum crosstalk, make pulse
responses, choose equalization where asked, compute the statistical eye (and the
worst-case and bit-by-bit eyes), and check the result against the spec.

Examples
--------
>>> from sigint.analyze import AnalysisOptions
>>> AnalysisOptions(rate=16e9).ber_for(16e9)
1e-15
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from ..backend import Backend, get_backend
from ..errors import InputError
from ..io.touchstone import read_touchstone
from ..link.ports import PortMap, build_port_map, check_mapping, link_network
from ..link.txrx import Ctle, Rx, Tx
from ..link.vtf import N_AGGRESSORS_UCIE, Transfers, terminated_transfers
from ..network.quality import (
    QualityReport,
    add_bandwidth,
    add_causality,
    add_dc_extrapolation,
    add_mode_conversion,
    check_network,
    check_phase,
)
from ..schema import SigintModel
from ..specs import ucie
from ..specs.checks import Check
from ..timedomain.eq import CTLE_GAINS as _CTLE_GAINS
from ..timedomain.eq import EqCandidate, EqResult, de_emphasis_taps, ffe_grid, optimize_eq
from ..timedomain.pulse import PulseResponses, pulse_responses
from ..timedomain.stateye import CursorSet, StatEye, extract_cursors, peak_distortion_eye, statistical_eye
from ..timedomain.waveform import WaveformEye, simulate_waveform
from ..units import format_quantity

__all__ = ["AnalysisOptions", "AnalysisResult", "Aggressor", "Link", "analyze", "analyze_files",
           "evaluate", "prepare"]

Progress = Callable[[str], None]


class AnalysisOptions(SigintModel):
    """What to analyse and how.

    Parameters
    ----------
    rate : float
        Symbol rate, 1/s (GT/s x 1e9).
    spec : str
        Spec to check against: a shipped one (``ucie``, ``ucie-3d``, ``bow``, ``aib``;
        :mod:`sigint.specs.library`), a spec file (``*.yaml``), or ``none`` for the
        analysis without a verdict.
    package : {'advanced', 'standard', 'standard-unterminated'}
        UCIe package row (other specs have one package and ignore it).
    ber : float, optional
        Target BER (default: the spec's raw BER at the rate, else 1e-15).
    victim : int
        1-based lane number of the victim.
    xt_phase : 'auto', 'worst' or float
        Crosstalk timing (see :func:`xt_timing`). ``auto``: with a forwarded-clock spec
        (UCIe clocks every lane of a module together), lanes of the network travelling the
        victim's way (FEXT) are synchronous; lanes travelling the other way (NEXT), separate
        crosstalk files and links without such a spec are asynchronous at their worst phase.
        ``worst``: every aggressor at its worst phase. A float: every aggressor synchronous
        with its clock that many UI from the victim's.
    n_aggressors : int
        Aggressors in the VTF power sum (UCIe: 19).
    samples_per_ui : int
        Time samples per UI (>= 32).
    nbins : int
        Voltage bins of the statistical eye.
    eq : {'spec', 'off', 'auto'}
        Tx FFE: the spec's candidate set where the spec evaluates with equalization on
        (UCIe 24/32 GT/s: de-emphasis 0 or -2.2 dB), off, or a search over a 3-tap grid.
    ctle : {'off', 'auto'}
        Rx CTLE DC gain search (UCIe reference gains -6..0 dB with a spec, 0..-12 dB
        without); ``off`` keeps the Rx model's own CTLE, if any.
    bits : int
        Bits per lane in the bit-by-bit simulation (0: skip it).
    """

    rate: float = Field(gt=0, description="symbols/s")
    spec: str = "ucie"
    package: Literal["advanced", "standard", "standard-unterminated"] = "advanced"
    ber: float | None = Field(None, gt=0, lt=0.5)
    victim: int = Field(1, ge=1)
    xt_phase: Literal["auto", "worst"] | float = "auto"
    n_aggressors: int = Field(N_AGGRESSORS_UCIE, ge=1)
    samples_per_ui: int = Field(32, ge=8, le=256)
    nbins: int = Field(2048, ge=128, le=1 << 16)
    eq: Literal["spec", "off", "auto"] = "spec"
    ctle: Literal["off", "auto"] = "off"
    bits: int = Field(1 << 14, ge=0)

    @field_validator("spec")
    @classmethod
    def _spec_name(cls, v: str) -> str:
        from ..specs.library import BUILTIN_SPECS

        low = v.strip().lower()
        if low in BUILTIN_SPECS or low == "none":
            return low
        if Path(v).suffix.lower() in (".yaml", ".yml"):
            return v
        raise ValueError(f"unknown spec; give one of {', '.join(BUILTIN_SPECS)}, none, or a "
                         "spec file (.yaml)")

    def spec_file(self):
        """The :class:`~sigint.specs.library.SpecFile` checked against (None for none)."""
        from ..specs.library import resolve_spec

        return resolve_spec(self.spec)

    def spec_row(self, rate: float):
        """The spec's row at *rate* (None without a spec)."""
        if self.spec == "none":
            return None
        if self.spec == "ucie":
            return ucie.ucie_row(self.package, rate)
        return self.spec_file().row(rate, self.package)

    @field_validator("samples_per_ui")
    @classmethod
    def _even(cls, v: int) -> int:
        return v + (v % 2)

    def ber_for(self, rate: float) -> float:
        """Target BER: the explicit one, else the spec's, else 1e-15."""
        if self.ber is not None:
            return self.ber
        if self.spec == "ucie":
            return ucie.default_ber(rate, self.package)
        if self.spec != "none":
            from ..errors import SpecError

            try:
                return self.spec_row(rate).ber_at(rate)
            except SpecError:
                return 1e-15
        return 1e-15


@dataclass
class Aggressor:
    """A separate crosstalk file: its network and whether it is FEXT or NEXT.

    Attributes
    ----------
    path : str
        The file.
    kind : {"FEXT", "NEXT"}
        Far-end or near-end crosstalk into the victim's receiver.
    network : skrf.Network, optional
        Its S-parameters, once read.
    """

    path: str
    kind: Literal["FEXT", "NEXT"]
    network: Any = None


@dataclass
class AnalysisResult:
    r"""Everything ``sigint analyze`` computes (see :meth:`to_json`, :meth:`to_dataset`).

    Built by :func:`evaluate` for one victim lane at one rate. F is the number of
    frequencies, A of aggressors, P of sampling phases in the unit interval.

    Attributes
    ----------
    source : str
        Name of the input, for reports.
    backend : Backend
        The compute backend the transfers were solved on.
    options : AnalysisOptions
        The options of the run (rate, spec, BER, victim, numerical settings).
    port_map : PortMap
        The lanes of the network.
    victim : str
        Name of the victim lane.
    rate : float
        Data rate, symbols/s (GT/s x 1e9).
    ber : float
        Target bit error ratio the eye is read at.
    row : UcieRow or None
        The spec row at the rate (None: ``spec none``, no verdict).
    tx, rx : Tx, Rx
        The Tx and Rx of the eye, with the equalization chosen.
    quality : list of QualityReport
        Data checks of the channel (first) and of each aggressor file.
    vtf : Transfers
        Victim and aggressor transfers with the spec's VTF reference circuit, shape (F,)
        and (A, F), V/V.
    eye_transfers : Transfers
        The same with the eye's Tx/Rx (the same object when the circuits agree).
    loss_db_at_nyquist : float
        VTF loss :math:`-20\log_{10}|V_r/V_s|` at the Nyquist frequency, dB.
    xt_db_at_nyquist : float
        Power-sum VTF crosstalk at the Nyquist frequency, dB (-inf without aggressors).
    pulses : PulseResponses
        Victim and aggressor pulse responses, V per V of source amplitude.
    cursors : CursorSet
        Cursors at each of the P sampling phases.
    eye : StatEye
        The statistical eye at *ber* (heights V, widths UI).
    pd_top : ndarray, shape (P,)
        Upper edge of the worst-case (peak-distortion) eye at each phase, V.
    pd_height : float
        Worst-case eye height, V.
    pd_width : float
        Worst-case eye width, UI.
    mask_height : float or None
        Height of the tallest spec mask that fits the eye, V (None without a spec).
    mask_centre_ui : float or None
        Phase of that mask's centre, UI (None without a spec).
    wave : WaveformEye or None
        The bit-by-bit PRBS run (None with ``bits=0``).
    agreement : dict or None
        Statistical against bit-by-bit eye edges: ``bits`` and per reachable BER ``levels``
        (``stat_v``, ``bit_by_bit_v``, ``diff_v`` in V, ``diff_bins`` in voltage bins).
    eq : EqResult or None
        The equalization search (None with a single candidate).
    checks : list of Check
        Every spec check (empty without a spec).
    notes : list of str
        What was done on the way, for the reader.
    timings : dict of str to float
        Wall time of each stage, s.
    extra : dict
        Further entries of :meth:`to_json` (e.g. ``bandwidth_density`` of a channel file).
    stages : dict of str to str
        Where each stage ran (``numpy`` or ``cupy``): only the terminated transfers take
        the backend's ``xp``; equalization, pulses, the statistical eye and the
        bit-by-bit simulation run on the host.
    mirror_of : str or None
        In an every-lane run of a mirror-symmetric link, the lane whose figures this
        lane's are (:func:`sigint.analysis.lanes.evaluate_lanes`); None when evaluated
        as itself.
    """

    source: str
    backend: Backend
    options: AnalysisOptions
    port_map: PortMap
    victim: str
    rate: float
    ber: float
    row: ucie.UcieRow | None
    tx: Tx
    rx: Rx
    quality: list[QualityReport]
    vtf: Transfers
    eye_transfers: Transfers
    loss_db_at_nyquist: float
    xt_db_at_nyquist: float
    pulses: PulseResponses
    cursors: CursorSet
    eye: StatEye
    pd_top: np.ndarray
    pd_height: float
    pd_width: float
    mask_height: float | None
    mask_centre_ui: float | None
    wave: WaveformEye | None
    agreement: dict | None
    eq: EqResult | None
    checks: list[Check]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    mirror_of: str | None = None

    @property
    def passed(self) -> bool | None:
        """True/False when checked against a spec, None without one."""
        if not self.checks:
            return None
        return all(c.passed for c in self.checks)

    def crosstalk_timing(self) -> list[dict]:
        """Per aggressor: name, kind and the timing the eye used."""
        cs = self.cursors
        out = []
        for name, kind, mode, ph in zip(self.eye_transfers.aggressor_names,
                                        self.eye_transfers.aggressor_kinds, cs.xt_timing,
                                        cs.aggressor_phase_ui):
            how = (f"synchronous, clock offset {ph:g} UI" if mode == "sync"
                   else f"asynchronous, worst phase ({ph:.3f} UI from the victim's window)")
            out.append({"aggressor": name, "kind": kind, "timing": how})
        return out

    @property
    def nyquist(self) -> float:
        """Nyquist frequency, Hz."""
        return self.rate / 2

    def to_json(self) -> dict:
        """The machine-readable result (the ``--json`` output)."""
        e = self.eye
        out = {
            "source": self.source,
            "backend": self.backend.name,
            "backend_detail": self.backend.describe(),
            "backend_stages": dict(self.stages),
            "rate_gbps": self.rate / 1e9,
            "nyquist_ghz": self.nyquist / 1e9,
            "spec": self.row.title if self.row else None,
            "victim": self.victim,
            "mapping": self.port_map.describe(),
            "aggressors": len(self.vtf.aggressor_names),
            "vtf_loss_db_at_nyquist": _f(self.loss_db_at_nyquist),
            "vtf_loss_db_at_dc": _f(float(self.vtf.loss_db[0])),
            "vtf_xt_db_at_nyquist": _f(self.xt_db_at_nyquist),
            **self.worst_crosstalk(),
            "eye_height_v": _f(e.eye_height),
            "eye_width_ui": _f(e.eye_width),
            "ber": self.ber,
            "best_phase_ui": _f(float(e.phase_ui[e.best])),
            "worst_case_eye_height_v": _f(self.pd_height),
            "worst_case_eye_width_ui": _f(self.pd_width),
            "mask_height_v": _f(self.mask_height) if self.mask_height is not None else None,
            "equalization": None if self.eq is None else {
                **self.eq.as_dict(), "dfe_taps": self.rx.dfe_taps},
            "crosstalk_timing": self.crosstalk_timing(),
            "tx": self.tx.model_dump(), "rx": self.rx.model_dump(),
            "checks": [c.as_dict() for c in self.checks],
            "passed": self.passed,
            "bit_by_bit": self.agreement,
            "quality": [q.as_dict() for q in self.quality],
            "notes": self.notes,
            "resolution": {"voltage_bin_v": e.dv, "samples_per_ui": self.pulses.samples_per_ui,
                           "cursors": int(self.cursors.isi.shape[1] + 1),
                           "aggressor_cursors": int(self.cursors.xt_fixed.size
                                                    + self.cursors.xt_phase.shape[1]),
                           "exact_cursors": e.n_exact, "convolved_terms": e.n_convolved,
                           "subbins_per_voltage_bin": e.subbins,
                           "dropped_sum_v_per_v": self.cursors.dropped},
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
        }
        out.update(self.extra)
        return out

    def worst_crosstalk(self) -> dict:
        """The largest power-sum crosstalk from DC to fN (the value the spec checks)."""
        if not self.vtf.aggressors.shape[0]:
            return {"vtf_xt_db_worst": None, "vtf_xt_worst_hz": None}
        xt = self.vtf.xt_db(self.options.n_aggressors)
        band = np.flatnonzero(self.vtf.f <= self.nyquist * (1 + 1e-12))
        j = band[int(np.argmax(xt[band]))]
        return {"vtf_xt_db_worst": _f(float(xt[j])), "vtf_xt_worst_hz": float(self.vtf.f[j])}

    def to_dataset(self):
        """VTFs, pulse responses and the eye as an :class:`xarray.Dataset` (netCDF-ready)."""
        from ..report.dataset import result_dataset

        return result_dataset(self)

    def summary(self) -> str:
        """The readable summary ``sigint analyze`` prints."""
        from ..report.summary import analysis_summary

        return analysis_summary(self)

    def __repr__(self) -> str:
        from ..report.html import analysis_repr

        return analysis_repr(self)

    def _repr_html_(self) -> str:
        from ..report.html import analysis_html

        return analysis_html(self)


def _f(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _models(opts: AnalysisOptions, row: ucie.UcieRow | None, tx: Tx | None, rx: Rx | None,
            tx_over: dict, rx_over: dict) -> tuple[Tx, Rx, Tx, Rx]:
    """(VTF Tx, VTF Rx, eye Tx, eye Rx): the spec's circuit for the VTF, user's for the eye."""
    if row is not None:
        vtx, vrx = row.tx(), row.rx()
    else:
        vtx = tx or Tx(r=50.0, c_pad=0.0)
        vrx = rx or Rx(r=50.0, c_pad=0.0)
    etx = (tx or vtx).model_copy(update=tx_over) if tx_over else (tx or vtx)
    erx = (rx or vrx).model_copy(update=rx_over) if rx_over else (rx or vrx)
    etx = Tx.model_validate(etx.model_dump())
    erx = Rx.model_validate(erx.model_dump())
    if row is None:
        vtx, vrx = etx.model_copy(update={"ffe": (1.0,), "ffe_main": 0}), \
            erx.model_copy(update={"ctle": None, "dfe_taps": 0})
    return vtx, vrx, etx, erx


def _same_circuit(a: Tx, b: Tx, c: Rx, d: Rx) -> bool:
    return a.r == b.r and a.c_pad == b.c_pad and c.r == d.r and c.c_pad == d.c_pad


def xt_timing(option: str | float, kinds: list[str], in_file: list[bool],
              forwarded_clock: bool) -> list[str | float]:
    """Per-aggressor timing from the ``xt_phase`` option and the aggressors' kinds.

    ``auto``: on a forwarded-clock link (a spec that defines one, e.g. UCIe), lanes of the
    same network running the victim's way (FEXT) share the victim's clock and launch
    instant: synchronous at 0 UI. Everything else (lanes running the other way, separate
    crosstalk files whose timing the file does not say, any link without such a spec) is
    asynchronous at its worst phase. ``worst``: all asynchronous; a float: all synchronous
    at that clock offset.

    >>> xt_timing("auto", ["FEXT", "NEXT", "FEXT"], [True, True, False], True)
    [0.0, 'worst', 'worst']
    >>> xt_timing("auto", ["FEXT"], [True], False)
    ['worst']
    """
    if option == "auto":
        return [0.0 if forwarded_clock and k == "FEXT" and f else "worst"
                for k, f in zip(kinds, in_file)]
    return [option] * len(kinds)


def eq_candidates(options: AnalysisOptions, row: ucie.UcieRow | None) -> list[EqCandidate]:
    """The equalization settings to try: Tx FFE set x CTLE gain set (see AnalysisOptions).

    With ``eq='spec'`` the row's own candidates: its Tx de-emphasis settings or presets
    (UCIe 48/64 GT/s: P0-P5) times its CTLE DC gains (UCIe 48/64 GT/s: the reference CTLE,
    -6..0 dB; BoW-384/512: the reference CTLE or bypassed, no Tx setting). A row without Tx
    equalization gives candidates without a Tx label (the choice is the CTLE's alone);
    ``eq='off'`` labels the Tx ``Tx FFE as given`` (none unless taps were given).

    >>> [c.label for c in eq_candidates(AnalysisOptions(rate=32e9), ucie.ucie_row("advanced", 32e9))]
    ['de-emphasis 0 dB', 'de-emphasis -2.2 dB']
    >>> len(eq_candidates(AnalysisOptions(rate=64e9), ucie.ucie_row("advanced", 64e9)))
    42
    >>> bow = AnalysisOptions(rate=24e9, spec="bow")
    >>> [c.describe() for c in eq_candidates(bow, bow.spec_row(24e9))]
    ['CTLE bypassed', 'reference CTLE -2.27887 dB']
    """
    spec_eq = row.equalization if row is not None else None
    if options.eq == "auto":
        ffes = [(c.ffe, c.ffe_main, c.label) for c in ffe_grid()]
    elif options.eq == "spec" and spec_eq is not None and spec_eq.tx_presets:
        ffes = [(tuple(float(t) for t in taps), 1, name)
                for name, taps in spec_eq.tx_presets.items()]
    elif options.eq == "spec" and spec_eq is not None and spec_eq.tx_de_emphasis:
        ffes = [((1.0,), 0, "de-emphasis 0 dB") if d == 0 else
                (de_emphasis_taps(d), 0, f"de-emphasis {d:g} dB") for d in spec_eq.tx_de_emphasis]
    elif options.eq == "off":
        ffes = [((1.0,), 0, "Tx FFE as given")]
    else:                          # the spec sets no Tx equalization: nothing to name
        ffes = [((1.0,), 0, "")]
    form = "com"
    gains: list[float | None] = [None]
    bypass = False
    if options.eq == "spec" and spec_eq is not None and spec_eq.ctle is not None:
        form = spec_eq.ctle.form
        bypass = bool(spec_eq.ctle.bypass)
        gains = ([None] if spec_eq.ctle.bypass else []) + list(spec_eq.ctle.dc_gains)
    elif options.ctle == "auto":
        # None: the Rx without a chosen CTLE (none unless one was given) is a candidate too
        gains = [None] + list(ucie.REFERENCE_CTLE_GAINS_DB if row is not None else _CTLE_GAINS)
    return [EqCandidate(ffe, m, g, label, form, ctle_bypass=bypass and g is None)
            for g in gains for ffe, m, label in ffes]


class Link:
    """The rate-independent stage of an analysis: read data, quality, lanes, transfers.

    Built once by :func:`prepare`; :func:`evaluate` (one victim) and :func:`evaluate_lanes`
    (every victim) then run the rate-dependent stage (pulses, equalization, eye, checks)
    at any rate. Terminated transfers are solved once per Tx/Rx circuit for every lane as
    victim (one batched solve, :func:`~sigint.link.vtf.terminated_transfers`) and kept.

    Attributes
    ----------
    network : skrf.Network
        The channel's S-parameters.
    port_map : PortMap
        Its lanes.
    source : str
        Name of the input, for reports.
    backend : Backend
        The compute backend of the terminated transfers.
    aggressors : list of (Aggressor, LinkNetwork)
        Separate FEXT/NEXT files with their reduced networks.
    quality : list of QualityReport
        Rate-independent quality figures of the channel and of each aggressor file.
    notes : list of str
        Remarks from the mapping check.
    ln : LinkNetwork
        The channel reduced to its lanes (:func:`~sigint.link.ports.link_network`).
    timings : dict of str to float
        Wall time of the rate-independent stage, s (``quality``).
    f : ndarray, shape (F,)
        The channel's frequencies, Hz.
    bump_pitch : float or None
        Bump pitch of a channel file, m (for the spec's pitch-group check).
    """

    def __init__(self, network, port_map: PortMap, source: str, backend: Backend,
                 aggressors: list, quality: list[QualityReport], notes: list[str],
                 ln, timings: dict[str, float]) -> None:
        self.network = network
        self.port_map = port_map
        self.source = source
        self.backend = backend
        self.aggressors = aggressors
        self.quality = quality
        self.notes = notes
        self.ln = ln
        self.timings = timings
        self.f = np.asarray(network.f, dtype=float)
        self.bump_pitch: float | None = None   # m, from a channel file (pitch-group check)
        self._cache: dict[tuple, tuple[np.ndarray, list[np.ndarray]]] = {}
        self._lock = threading.Lock()       # lanes may be evaluated in several threads

    @property
    def n_lanes(self) -> int:
        """Number of lanes."""
        return len(self.port_map.lanes)

    def transfer_matrix(self, tx: Tx, rx: Rx) -> tuple[np.ndarray, list[np.ndarray]]:
        """Every lane to every lane, terminated with *tx*/*rx*: one batched solve, cached.

        Returns
        -------
        t : ndarray, shape (F, L, L)
            :math:`V_{rx,v}/V_{s,j}` for victim *v* and driven lane *j*.
        files : list of ndarray, shape (F, L)
            Per aggressor file, its transfer into each victim lane's receiver, on the
            channel's frequencies.
        """
        key = (tx.r, tx.c_pad, rx.r, rx.c_pad)
        with self._lock:
            return self._transfer_matrix(key, tx, rx)

    def _transfer_matrix(self, key: tuple, tx: Tx, rx: Rx
                         ) -> tuple[np.ndarray, list[np.ndarray]]:
        if key not in self._cache:
            t = terminated_transfers(self.ln, tx, rx, None, xp=self.backend.xp)
            files = []
            nl = t.shape[1]
            for _agg, aln in self.aggressors:
                na = len(aln.tx)
                lanes = [v if v < na else 0 for v in range(nl)]
                ta = terminated_transfers(aln, tx, rx, sorted(set(lanes)), xp=self.backend.xp)
                pos = {lane: i for i, lane in enumerate(sorted(set(lanes)))}
                ta = np.stack([ta[:, pos[v], v] for v in lanes], axis=1)      # (Fa, L)
                if aln.f.shape != self.f.shape or not np.allclose(aln.f, self.f, rtol=1e-9,
                                                                  atol=0):
                    ta = np.stack([np.interp(self.f, aln.f, c.real)
                                   + 1j * np.interp(self.f, aln.f, c.imag) for c in ta.T],
                                  axis=1)
                files.append(ta)
            self._cache[key] = (t, files)
        return self._cache[key]

    def transfers(self, tx: Tx, rx: Rx, victim: int, notes: list[str] | None = None
                  ) -> Transfers:
        """The victim's :class:`Transfers` (0-based lane *victim*) from the cached matrix."""
        t, files = self.transfer_matrix(tx, rx)
        t = t[:, victim, :]
        ln, pmap = self.ln, self.port_map
        others = [j for j in range(t.shape[1]) if j != victim]
        names = [ln.lane_names[j] for j in others]
        # a lane driven from the victim's receiver end couples near-end (NEXT), one driven
        # from its transmitter end far-end (FEXT)
        rev = [bool(getattr(lane, "reversed", False)) for lane in pmap.lanes]
        kinds = ["FEXT" if rev[j] == rev[victim] else "NEXT" for j in others]
        rows = [t[:, j] for j in others]
        for (agg, aln), ta in zip(self.aggressors, files):
            rows.append(ta[:, victim])
            names.append(Path(agg.path).name)
            kinds.append(agg.kind)
            if notes is not None and (aln.f.shape != self.f.shape or not np.allclose(
                    aln.f, self.f, rtol=1e-9, atol=0)):
                notes.append(f"{Path(agg.path).name}: resampled onto the victim file's "
                             "frequencies")
        aggs = np.array(rows) if rows else np.zeros((0, self.f.size), dtype=complex)
        return Transfers(self.f, t[:, victim], aggs, names, kinds, ln.lane_names[victim])


def prepare(
    network,
    *,
    port_map: PortMap | None = None,
    aggressors: list[Aggressor] = (),
    backend: Backend | None = None,
    source: str = "network",
    progress: Progress | None = None,
) -> Link:
    """The rate-independent stage: lanes, quality checks and the reduced network.

    Parameters
    ----------
    network : skrf.Network
        The channel's S-parameters.
    port_map : PortMap, optional
        Lanes of the network (default: scikit-rf's convention, single-ended).
    aggressors : list of Aggressor
        Separate FEXT/NEXT files (networks already read), mapped like *network*.
    backend : Backend, optional
        Compute backend for the terminated transfers.
    source : str
        Name of the input, for reports.
    progress : callable, optional
        Called with a short stage name.

    Returns
    -------
    Link

    Raises
    ------
    InputError
        For a single-point sweep or aggressor data that do not cover the victim's band.
    """
    say = progress or (lambda _s: None)
    backend = backend or get_backend()
    t0 = time.perf_counter()
    pmap = port_map or build_port_map(network.nports, name=source)
    f = np.asarray(network.f, dtype=float)
    if f.size < 2:
        raise InputError(f"{source}: has a single frequency point; a pulse response needs "
                         "a sweep from (near) DC to above the Nyquist frequency")
    fmax = float(f[-1])
    for agg in aggressors:
        fa = np.asarray(agg.network.f, dtype=float)
        if fa[-1] < fmax * (1 - 1e-9) or fa[0] > max(f[0], 0.0) + 0.01 * fmax:
            raise InputError(
                f"{agg.path}: the aggressor data cover {format_quantity(fa[0], 'Hz')} to "
                f"{format_quantity(fa[-1], 'Hz')}, but the victim {Path(source).name} uses "
                f"{format_quantity(f[0], 'Hz')} to {format_quantity(fmax, 'Hz')}; crosstalk "
                "outside the aggressor's band is unknown and sigint will not take it as zero; "
                "give aggressor data over the victim's whole band")
    say("checking data quality")
    quality = [check_network(network, None, source)]
    for agg in aggressors:
        quality.append(check_network(agg.network, None, agg.path))
    ln = link_network(network, pmap)
    notes = check_mapping(np.asarray(network.s), f, _se_map(pmap), source)
    add_mode_conversion(quality[0], ln.mode_conversion_db)
    agg_lns = [(a, link_network(a.network, pmap)) for a in aggressors]
    return Link(network=network, port_map=pmap, source=source, backend=backend,
                aggressors=agg_lns, quality=quality, notes=notes, ln=ln,
                timings={"quality": time.perf_counter() - t0})


def analyze(
    network,
    options: AnalysisOptions,
    *,
    port_map: PortMap | None = None,
    aggressors: list[Aggressor] = (),
    tx: Tx | None = None,
    rx: Rx | None = None,
    tx_overrides: dict | None = None,
    rx_overrides: dict | None = None,
    backend: Backend | None = None,
    source: str = "network",
    progress: Progress | None = None,
) -> AnalysisResult:
    """Analyse one victim lane of *network* at ``options.rate``: :func:`prepare` then
    :func:`evaluate`.

    Parameters
    ----------
    network : skrf.Network
        The channel's S-parameters.
    options : AnalysisOptions
        Rate, spec, BER, victim and numerical settings.
    port_map : PortMap, optional
        Lanes of the network (default: scikit-rf's convention, single-ended).
    aggressors : list of Aggressor
        Separate FEXT/NEXT files (networks already read), mapped like *network*.
    tx, rx : Tx, Rx, optional
        Models for the eye (default: the spec's VTF circuit, or 50 ohm without a spec).
    tx_overrides, rx_overrides : dict, optional
        Field overrides applied on top of those models.
    backend : Backend, optional
        Compute backend (default: :func:`~sigint.backend.get_backend`).
    source : str
        Name of the input, for reports.
    progress : callable, optional
        Called with a short stage name as work proceeds.

    Returns
    -------
    AnalysisResult
    """
    pmap = port_map or build_port_map(network.nports, name=source)
    if options.victim > len(pmap.lanes):
        raise InputError(f"--victim {options.victim}: no such lane; {source} has "
                         f"{len(pmap.lanes)} lane(s) under the mapping {pmap.describe()}")
    check_rate(np.asarray(network.f, dtype=float), options.rate, source)
    link = prepare(network, port_map=pmap, aggressors=aggressors, backend=backend,
                   source=source, progress=progress)
    res = evaluate(link, options, tx=tx, rx=rx, tx_overrides=tx_overrides,
                   rx_overrides=rx_overrides, progress=progress)
    res.timings["total"] += link.timings["quality"]     # both stages
    return res


def check_rate(f: np.ndarray, rate: float, source: str) -> None:
    """Refuse a rate whose Nyquist frequency the data do not reach or start above."""
    fmax = float(f[-1])
    if rate / 2 > fmax * (1 + 1e-9):
        raise InputError(
            f"{source}: rate = {rate / 1e9:g} GT/s: impossible for this file: its Nyquist "
            f"frequency {rate / 2e9:g} GHz lies above the file's top frequency "
            f"{fmax / 1e9:g} GHz; give a rate of at most {2 * fmax / 1e9:g} GT/s or data that "
            f"reach {rate / 2e9:g} GHz")
    if f[0] >= rate / 2:
        raise InputError(
            f"{source}: the data start at {format_quantity(f[0], 'Hz')}, at or above the Nyquist "
            f"frequency {format_quantity(rate / 2, 'Hz')} of {rate / 1e9:g} GT/s: there is "
            "nothing below Nyquist to extrapolate DC from, and the eye depends on it; give data "
            "from (near) DC")


def evaluate(
    link: Link,
    options: AnalysisOptions,
    *,
    victim: int | None = None,
    tx: Tx | None = None,
    rx: Rx | None = None,
    tx_overrides: dict | None = None,
    rx_overrides: dict | None = None,
    progress: Progress | None = None,
    equalization: EqResult | None = None,
) -> AnalysisResult:
    """The rate-dependent stage for one victim: VTF checks, equalization, pulses, eye.

    Parameters
    ----------
    link : Link
        From :func:`prepare`.
    options : AnalysisOptions
        Rate, spec, BER and numerical settings.
    victim : int, optional
        0-based victim lane (default: ``options.victim - 1``).
    tx, rx, tx_overrides, rx_overrides, progress
        As for :func:`analyze`.
    equalization : EqResult, optional
        The equalization search of an equivalent victim (a mirror-image lane of a symmetric
        network, :func:`sigint.analysis.lanes.mirror_lanes`): its winner is applied without
        searching again.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InputError
        For a victim that does not exist or a rate the data cannot carry.
    SpecError
        For a rate outside the spec's table.
    """
    say = progress or (lambda _s: None)
    timings: dict[str, float] = {"quality": link.timings.get("quality", 0.0)}
    t0 = time.perf_counter()
    rate, pmap, f = options.rate, link.port_map, link.f
    victim = options.victim - 1 if victim is None else victim
    if not 0 <= victim < len(pmap.lanes):
        raise InputError(f"--victim {victim + 1}: no such lane; {link.source} has "
                         f"{len(pmap.lanes)} lane(s) under the mapping {pmap.describe()}")
    check_rate(f, rate, link.source)
    row = options.spec_row(rate)
    notes = list(link.notes) + _rate_notes(options, row, pmap.differential)
    ber = options.ber_for(rate)
    quality = _rate_quality(link, rate)
    say("terminating the network")
    with _timed(timings, "vtf"):
        vtf, eye_tr, etx, erx = _terminate(link, options, row, victim, notes, tx=tx, rx=rx,
                                           tx_overrides=tx_overrides, rx_overrides=rx_overrides)
    check_phase(quality[0], f, vtf.victim, rate, link.source)
    xt = vtf.xt_db(options.n_aggressors)
    n_files = len(link.aggressors)
    in_file = [True] * (len(eye_tr.aggressor_kinds) - n_files) + [False] * n_files
    timing = xt_timing(options.xt_phase, eye_tr.aggressor_kinds, in_file,
                       row is not None and row.forwarded_clock)
    mask = _eye_mask(row)
    with _timed(timings, "eq"):
        eq, etx, erx = _equalize(eye_tr, options, row, etx, erx, ber=ber, timing=timing,
                                 chosen=equalization,
                                 mask=mask, say=say)
    say("pulse responses")
    with _timed(timings, "pulses"):
        pr = _pulses(eye_tr, options, eq, etx, erx, quality[0])
        notes += pr.notes
    say("statistical eye")
    with _timed(timings, "stateye"):
        cs, eye, (pd_top, pd_h, pd_w), (mask_h, mask_c) = _eyes(
            pr, options, eq, etx, erx, ber=ber, timing=timing, mask=mask)
    wave = agreement = None
    if options.bits:
        say("bit-by-bit simulation")
        with _timed(timings, "bit_by_bit"):
            wave = simulate_waveform(pr, etx.swing / 2, n_bits=options.bits,
                                     phase_ui=eye.phase_ui, xt_shift=cs.xt_shift(eye.best),
                                     noise=erx.noise, rj=etx.rj, dj=etx.dj, dfe=cs.dfe_values)
            agreement = _agreement(eye, wave)
    checks: list[Check] = []
    if row is not None:
        checks = _spec_checks(row, f, vtf.loss_db, xt, rate, eye, mask_h, ber, cs)
        checks += _pitch_checks(row, rate, link.bump_pitch)
    timings["total"] = time.perf_counter() - t0
    fn = rate / 2
    return AnalysisResult(
        source=link.source, backend=link.backend, options=options, port_map=pmap,
        victim=vtf.victim_name, rate=rate, ber=ber, row=row, tx=etx, rx=erx, quality=quality,
        vtf=vtf, eye_transfers=eye_tr, loss_db_at_nyquist=float(np.interp(fn, f, vtf.loss_db)),
        xt_db_at_nyquist=(float(np.interp(fn, f, xt)) if vtf.aggressors.shape[0]
                          else float("-inf")),
        pulses=pr, cursors=cs, eye=eye, pd_top=pd_top, pd_height=pd_h, pd_width=pd_w,
        mask_height=mask_h, mask_centre_ui=mask_c, wave=wave, agreement=agreement, eq=eq,
        checks=checks, notes=notes, timings=timings,
        stages=_stages(link.backend, bool(options.bits)),
    )


@contextmanager
def _timed(timings: dict[str, float], key: str):
    """Record the wall time of the ``with`` body in ``timings[key]``, s."""
    t = time.perf_counter()
    yield
    timings[key] = time.perf_counter() - t


def _terminate(link: Link, options: AnalysisOptions, row: ucie.UcieRow | None, victim: int,
               notes: list[str], *, tx: Tx | None, rx: Rx | None, tx_overrides: dict | None,
               rx_overrides: dict | None) -> tuple[Transfers, Transfers, Tx, Rx]:
    """The victim's transfers with the spec's VTF circuit and with the eye's Tx/Rx (the same
    object when the circuits agree), and the eye's Tx and Rx."""
    vtx, vrx, etx, erx = _models(options, row, tx, rx, tx_overrides or {}, rx_overrides or {})
    vtf = link.transfers(vtx, vrx, victim, notes)
    if _same_circuit(vtx, etx, vrx, erx):
        return vtf, vtf, etx, erx
    eye_tr = link.transfers(etx, erx, victim)
    if row is not None:
        notes.append("the VTF checks use the spec's reference circuit; the eye uses the "
                      "Tx/Rx models given on the command line")
    return vtf, eye_tr, etx, erx


def _rate_notes(options: AnalysisOptions, row: ucie.UcieRow | None,
                differential: bool) -> list[str]:
    """Remarks on the rate and lanes against the spec row: a rate the spec does not list,
    UCIe masks applied to a differential lane."""
    notes: list[str] = []
    if row is None:
        return notes
    rate = options.rate
    listed = row.data.rates
    if (not (row.lo - 1e-9 <= rate / 1e9 <= row.hi + 1e-9)
            or (listed is not None and not any(abs(rate - x) <= 1e-9 * x for x in listed))):
        notes.append(f"{rate / 1e9:g} GT/s is not a rate of the spec's own; checked against "
                     f"the {row.title} row")
    if differential and options.spec == "ucie":
        notes.append("UCIe data lanes are single-ended; the UCIe masks are applied to the "
                     "differential lane as they are")
    return notes


def _rate_quality(link: Link, rate: float) -> list[QualityReport]:
    """Copies of the link's quality reports with the bandwidth each file has at *rate*."""
    quality = [QualityReport(q.source, list(q.items)) for q in link.quality]
    add_bandwidth(quality[0], link.f, rate)
    for q, (agg, _aln) in zip(quality[1:], link.aggressors):
        add_bandwidth(q, np.asarray(agg.network.f, dtype=float), rate)
    return quality


def _eye_mask(row: ucie.UcieRow | None) -> tuple | None:
    """The eye mask of a spec row as the eye search and the mask fit take it.

    Parameters
    ----------
    row : UcieRow or None
        The spec row at the rate (None: no spec, no mask).

    Returns
    -------
    tuple or None
        ``(points, "polygon")`` for a polygon mask (``points``: (phase UI, voltage V)
        vertices), ``(width, shape)`` otherwise (``width`` in UI, ``shape`` the row's
        ``mask_shape``), None without a row.
    """
    if row is None:
        return None
    if row.mask_shape == "polygon":
        return tuple(row.mask.points), "polygon"
    return row.eye_width, row.mask_shape


def _equalize(eye_tr: Transfers, options: AnalysisOptions, row: ucie.UcieRow | None, etx: Tx,
              erx: Rx, *, ber: float, timing, mask, say: Progress,
              chosen: EqResult | None = None) -> tuple[EqResult | None, Tx, Rx]:
    """Choose FFE/CTLE among the candidates, each judged by the eye the verdict uses: the
    search's result (None with one candidate) and the Tx/Rx with the winner applied. With
    *chosen* (a search made for an equivalent victim) its winner is applied without a
    search; its pulses, cursors and eye are the other victim's and are made again."""
    cands = eq_candidates(options, row)
    if len(cands) <= 1:
        return None, etx, erx
    if chosen is not None:
        import dataclasses

        eq = dataclasses.replace(chosen, winner=None)
    else:
        say(f"choosing equalization ({len(cands)} candidates)")
        eq = optimize_eq(eye_tr.f, eye_tr.victim, eye_tr.aggressors, options.rate, etx, erx,
                         cands, amplitude=etx.swing / 2, ber=ber, xt_phase=timing, mask=mask,
                         samples_per_ui=options.samples_per_ui, nbins=options.nbins,
                         aggressor_impulses=bool(options.bits))
    etx = etx.model_copy(update={"ffe": eq.ffe, "ffe_main": eq.ffe_main})
    if eq.ctle_db is not None:
        erx = erx.model_copy(update={"ctle": Ctle(dc_gain_db=eq.ctle_db,
                                                  form=eq.chosen.ctle_form)})
    return eq, etx, erx


def _pulses(eye_tr: Transfers, options: AnalysisOptions, eq: EqResult | None, etx: Tx, erx: Rx,
            quality: QualityReport) -> PulseResponses:
    """The pulse responses of the eye (the equalization search's winner's when it made
    them), with their causality and DC extrapolation added to *quality*."""
    f, rate = eye_tr.f, options.rate
    if eq is not None and eq.winner is not None:
        pr = eq.winner[0]        # the search already made the winner's pulses, cursors, eye
    else:
        pr = pulse_responses(f, eye_tr.victim, eye_tr.aggressors, rate, etx, erx,
                             samples_per_ui=options.samples_per_ui)
    add_causality(quality, pr.causality)
    if f[0] > 0:
        filt0 = complex(etx.edge_filter(np.zeros(1), rate)[0])
        if erx.ctle is not None:
            filt0 *= complex(erx.ctle.response(np.zeros(1), rate)[0])
        add_dc_extrapolation(quality, pr.dc_gain / filt0.real, float(f[0]))
    return pr


def _eyes(pr: PulseResponses, options: AnalysisOptions, eq: EqResult | None, etx: Tx, erx: Rx,
          *, ber: float, timing, mask):
    """Cursors, the statistical eye, the worst-case (peak-distortion) eye (top, height,
    width) and the mask fit (height, centre; None without a mask)."""
    amp = etx.swing / 2
    if eq is not None and eq.winner is not None:
        cs, eye = eq.winner[1], eq.winner[2]
    else:
        cs = extract_cursors(pr, xt_phase=timing, dfe_taps=erx.dfe_taps,
                             dfe_limit=erx.dfe_limit)
        eye = statistical_eye(cs, amp, ber=ber, noise=erx.noise, rj=etx.rj, dj=etx.dj,
                              nbins=options.nbins)
    pd = peak_distortion_eye(cs, amp, dj=etx.dj)
    fit = (None, None)
    if mask is not None and mask[1] == "polygon":
        from ..specs.masks import polygon_mask_fit

        fit = polygon_mask_fit(eye.phase_ui, eye.contour(), mask[0])
    elif mask is not None:
        fit = eye.mask_fit(mask[0], shape=mask[1])
    return cs, eye, pd, fit


def _pitch_checks(row: ucie.UcieRow, rate: float, bump_pitch: float | None) -> list[Check]:
    """The spec row's bump-pitch group check (UCIe: the rate a pitch allows), if any."""
    groups = row.pitch_groups()
    if groups is None or bump_pitch is None:
        return []
    from ..specs.masks import pitch_group_check

    chk = pitch_group_check(groups[0], rate, bump_pitch, groups[1])
    return [] if chk is None else [chk]


def _spec_checks(row, f, loss, xt, rate, eye, mask_h, ber, cs) -> list[Check]:
    """Every check of the spec row: VTF masks, user loss/crosstalk masks, eye, DFE ratio."""
    from ..specs import masks

    checks: list[Check] = []
    if row.has_vtf:
        checks += ucie.vtf_checks(row, f, loss, xt, rate)
    checks += masks.curve_checks(f, loss, xt, rate, row.data.loss_mask, row.data.crosstalk_mask,
                                 row.clause("loss_mask") or row.clause("crosstalk_mask"))
    checks += ucie.eye_checks(row, eye.eye_height, eye.eye_width, mask_h or 0.0, ber)
    dfe = row.equalization.dfe
    if dfe is not None and dfe.h1_h0_max is not None and cs.dfe_taps >= 1:
        j = cs.spui                       # the phase the DFE taps were taken at
        h0 = float(cs.main[j])
        k1 = np.flatnonzero(cs.isi_k == 1)
        resid = float(cs.isi[j, k1[0]]) if k1.size else 0.0
        h1 = (cs.dfe_values[0] if cs.dfe_values else 0.0) + resid
        checks.append(masks.dfe_check(h1 / h0 if h0 else np.inf, dfe.h1_h0_max,
                                      row.clause("dfe")))
    return checks


def _stages(backend: Backend, bit_by_bit: bool) -> dict[str, str]:
    """Where each stage of :func:`analyze` ran: the terminated transfers on the backend
    (``terminated_transfers`` takes ``xp``), everything else on the host."""
    out = {"quality": "numpy", "vtf": "cupy" if backend.name == "cupy" else "numpy",
           "eq": "numpy", "pulses": "numpy", "stateye": "numpy"}
    if bit_by_bit:
        out["bit_by_bit"] = "numpy"
    return out


def _se_map(pmap: PortMap) -> PortMap:
    """The single-ended legs of a differential mapping (for the plausibility check)."""
    from ..link.ports import Lane

    lanes = []
    for ln in pmap.lanes:
        for t, r in zip(ln.tx, ln.rx):
            lanes.append(Lane(ln.name, (t,), (r,)))
    return PortMap(pmap.nports, tuple(lanes), False, pmap.source, pmap.explicit)


def _agreement(eye: StatEye, wave: WaveformEye) -> dict:
    """Compare statistical and bit-by-bit eye edges at the BERs the simulation reaches."""
    n_ones = int((wave.bits > 0).sum())
    out = []
    for q in (1e-2, 1e-3, 1e-4):
        if q * n_ones < 10:      # want at least 10 samples beyond the quantile
            continue
        s = eye.edge(q)
        w = wave.quantile_edge(q, eye.best)
        out.append({"ber": q, "stat_v": s, "bit_by_bit_v": w, "diff_v": s - w,
                    "diff_bins": (s - w) / eye.dv})
    return {"bits": int(wave.bits.size), "levels": out}


def analyze_files(
    path: str | Path,
    options: AnalysisOptions,
    *,
    thru: list[str] | None = None,
    preset: str | None = None,
    differential: bool = False,
    reverse: list[int] = (),
    fext: list[str] = (),
    next_: list[str] = (),
    progress: Progress | None = None,
    all_lanes: bool = False,
    **kwargs: Any,
) -> Any:
    """Read a Touchstone channel (and aggressor files) and :func:`analyze` it.

    With *all_lanes*, every lane is the victim in turn (:func:`sigint.analysis.lanes.evaluate_lanes`)
    and a :class:`sigint.analysis.lanes.LanesResult` is returned instead of an AnalysisResult.
    """
    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    say(f"reading {Path(path).name}")
    read_notes: list[str] = []
    net = read_touchstone(path, notes=read_notes)
    read_s = time.perf_counter() - t0
    pmap = build_port_map(net.nports, thru=thru, preset=preset, differential=differential,
                          reverse=reverse, name=str(path))
    aggs = []
    for kind, files in (("FEXT", fext), ("NEXT", next_)):
        for p in files:
            say(f"reading {Path(p).name}")
            an = read_touchstone(p, notes=read_notes)
            if an.nports != net.nports:
                raise InputError(
                    f"{p}: has {an.nports} ports but {path} has {net.nports}; an aggressor "
                    "file is mapped like the victim's file, so it needs the same ports")
            aggs.append(Aggressor(str(p), kind, an))
    if all_lanes:
        from .lanes import evaluate_lanes

        check_rate(np.asarray(net.f, dtype=float), options.rate, str(path))
        link = prepare(net, port_map=pmap, aggressors=aggs, source=str(path),
                       backend=kwargs.pop("backend", None), progress=progress)
        lres = evaluate_lanes(link, options, progress=progress, **kwargs)
        lres.timings["read"] = read_s
        lres.timings["prepare"] = link.timings["quality"]
        for r in {id(x): x for x in (*lres.lanes, lres.worst_result)}.values():
            r.notes[:0] = read_notes
        return lres
    res = analyze(net, options, port_map=pmap, aggressors=aggs, source=str(path),
                  progress=progress, **kwargs)
    res.timings["read"] = read_s
    res.notes[:0] = read_notes
    return res
