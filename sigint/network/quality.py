"""Quality checks of S-parameter data before use, in the spirit of IEEE P370.

Each check reports its number. Passivity is the largest singular value of S at each
frequency (:math:`\\sigma_{max}(S) \\le 1` for a passive network), reciprocity the largest
:math:`|S_{ij} - S_{ji}|`, causality the non-causal part of the victim's impulse response
(measured where the pulse responses are made), the phase convention (the sign of the
victim's bulk delay: conjugated, time-reversed data are refused by name), an extrapolated
DC transfer outside [0, 1], and the frequency grid is checked for a DC point, uniform
spacing and a top frequency that suits the data rate. Missing DC and
non-uniform spacing are repaired downstream (:func:`regrid_transfers`) and reported as
such; non-finite values and non-increasing frequencies never get this far (the reader
refuses them).

The two helpers that read a transfer's frequency data, :func:`uniform_grid` and
:func:`bulk_delay`, live here and serve the port mapping, the channel builder's lane delays
and the pulse responses too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..threads import small_matrix_blas
from ..units import format_quantity

__all__ = ["QualityItem", "QualityReport", "check_network", "largest_singular_value",
           "bulk_delay", "uniform_grid", "regrid", "regrid_transfers", "GRID_RTOL",
           "add_bandwidth", "add_causality",
           "add_dc_extrapolation", "add_mode_conversion", "check_phase"]

PASSIVITY_TOL = 1e-6
RECIPROCITY_WARN = 1e-3
CAUSALITY_WARN = 0.01
#: Relative tolerance, of the step, to which a frequency grid counts as uniform.
GRID_RTOL = 1e-6


@dataclass
class QualityItem:
    """One quality figure.

    Attributes
    ----------
    name : str
        ``passivity``, ``reciprocity``, ``causality``, ``dc_point``, ``grid``, ``bandwidth``...
    value : float
        The figure, in ``unit``.
    unit : str
        Unit of the value ('' for ratios).
    status : str
        ``ok``, ``warn`` (usable, look at it), ``fixed`` (repaired, said how) or ``info``.
    text : str
        One sentence for the report.
    """

    name: str
    value: float
    unit: str
    status: str
    text: str


@dataclass
class QualityReport:
    """The quality figures of one network.

    Attributes
    ----------
    source : str
        Name of the network (file) in the report.
    items : list of QualityItem
        The figures, in the order they were checked.
    """

    source: str
    items: list[QualityItem] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, status: str, text: str) -> None:
        """Append a figure."""
        self.items.append(QualityItem(name=name, value=float(value), unit=unit, status=status,
                                      text=text))

    def warnings(self) -> list[QualityItem]:
        """Figures that need attention or were repaired."""
        return [i for i in self.items if i.status in ("warn", "fixed")]

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"source": self.source, "items": [asdict(i) for i in self.items]}


@small_matrix_blas()
def largest_singular_value(s: np.ndarray, xp=np) -> np.ndarray:
    """:math:`\\sigma_{max}(S)` per frequency from the largest eigenvalue of :math:`S^H S`."""
    s = xp.asarray(s)
    g = xp.conj(xp.swapaxes(s, 1, 2)) @ s
    ev = xp.linalg.eigvalsh(g)[:, -1]
    return xp.sqrt(xp.maximum(ev, 0.0))


def uniform_grid(f: np.ndarray) -> tuple[float, bool]:
    """Step of a frequency grid and whether it is uniform, Hz.

    Uniform means every step equals the median step to :data:`GRID_RTOL` of it *and* every
    frequency is a whole multiple of the step (so the grid is part of :math:`k\\,\\Delta f`,
    k = 0, 1, ..., as an FFT needs).

    Parameters
    ----------
    f : ndarray, shape (F,)
        Increasing frequencies, Hz.

    Returns
    -------
    step : float
        The uniform step, or the smallest step when the grid is not uniform, Hz (a single
        frequency: that frequency; none: 1).
    uniform : bool

    >>> uniform_grid(np.array([0.0, 1e9, 2e9]))
    (1000000000.0, True)
    >>> uniform_grid(np.array([0.5e9, 1.5e9, 2.5e9]))[1]         # offset from k df
    False
    """
    d = np.diff(f)
    if d.size == 0:
        return float(f[0]) if f.size else 1.0, True
    step = float(np.median(d))
    uniform = bool(np.all(np.abs(d - step) <= GRID_RTOL * step))
    if f[0] > 0 and uniform:
        uniform = bool(abs(f[0] / step - round(f[0] / step)) < GRID_RTOL)
    return (step if uniform else float(d.min())), uniform


def bulk_delay(f: np.ndarray, h: np.ndarray, fmax: float | None = None) -> float:
    """Bulk delay of a transfer from the slope of its unwrapped phase, s.

    The weighted least-squares slope through the origin of
    :math:`\\arg H(f) = -2\\pi f \\tau` over :math:`0 < f \\le f_{max}`, weighted by
    :math:`|H|^2` so that the frequencies where the transfer carries signal decide.

    Parameters
    ----------
    f : ndarray, shape (F,)
        Increasing frequencies, Hz.
    h : ndarray, shape (F,)
        The transfer.
    fmax : float, optional
        Highest frequency used, Hz (default: all).

    Returns
    -------
    float
        :math:`\\tau`, s; 0 when fewer than two frequencies carry signal.

    >>> f = np.linspace(0.0, 20e9, 41)
    >>> round(bulk_delay(f, np.exp(-2j * np.pi * f * 50e-12)) * 1e12, 6)
    50.0
    """
    sel = f > 0
    if fmax is not None:
        sel &= f <= fmax
    if sel.sum() < 2:
        return 0.0
    ph = np.unwrap(np.angle(h[sel]))
    w = np.abs(h[sel]) ** 2
    if not np.any(w > 0):
        return 0.0
    fs = f[sel]
    tau = -np.sum(w * fs * ph) / (2 * np.pi * np.sum(w * fs * fs))
    return float(tau) if math.isfinite(tau) else 0.0


def regrid_transfers(f: np.ndarray, h: np.ndarray, f_new: np.ndarray) -> np.ndarray:
    """Transfers *h* interpolated onto *f_new*, with DC and the frequencies below the data
    filled in from the symmetry of a real impulse response.

    Each transfer's bulk delay (:func:`bulk_delay`) is taken out, so that the phase turns
    slowly between samples however long the line; the delay-free response is interpolated
    by cubic splines of its real and imaginary parts (not-a-knot,
    :func:`scipy.interpolate.make_interp_spline`), and the delay is put back. Below the
    first frequency nothing is extrapolated: a real impulse response has
    :math:`H(-f) = H^*(f)`, so the data mirrored to negative frequencies (real part even,
    imaginary part odd) let the same splines *interpolate* through DC, where the value is
    real.

    On the closed-form lines of ``tests/`` this is the most accurate of the repairs tried
    (errors against the closed form): a resistive 100 mm line from 0.25 GHz, DC 1.2e-3
    (cubic extrapolation of magnitude and phase, scikit-rf's ``interpolate`` with
    ``fill_value="extrapolate"``: 7.6e-3; linear in real and imaginary parts with a linear
    DC extrapolation, sigint's earlier pulse resampler: 2.7e-3); a lossless 3 mm line's
    S11 through its nulls, 2.3e-8 in band (cubic in magnitude and phase: 1.7e-3).

    Parameters
    ----------
    f : ndarray, shape (F,)
        Increasing frequencies of the data, Hz (F >= 2).
    h : ndarray, shape (..., F)
        The transfers (any leading shape).
    f_new : ndarray, shape (G,)
        New frequencies, Hz, inside ``[0, f[-1]]``.

    Returns
    -------
    ndarray, shape (..., G), complex

    A 40 ps delay behind a one-pole low-pass (10 GHz) sampled from 1 GHz in 1 GHz steps:

    >>> f = np.linspace(1e9, 20e9, 20)
    >>> def lowpass(f):
    ...     return np.exp(-2j * np.pi * f * 40e-12) / (1 + 1j * f / 10e9)
    >>> g = regrid_transfers(f, lowpass(f), np.array([0.0, 2.5e9]))
    >>> bool(abs(g[0] - 1) < 2.5e-4 and abs(g[1] - lowpass(2.5e9)) < 1.5e-5)
    True
    """
    from scipy.interpolate import make_interp_spline

    f = np.asarray(f, dtype=float)
    f_new = np.asarray(f_new, dtype=float)
    h = np.asarray(h)
    lead = h.shape[:-1]
    rows = h.reshape(-1, f.size)
    tau = np.array([bulk_delay(f, r) for r in rows])
    hc = rows * np.exp(2j * np.pi * f[None, :] * tau[:, None])
    fx = f
    if f[0] > 0 and f_new.size and f_new.min() < f[0]:
        fx = np.concatenate([-f[::-1], f])
        hc = np.concatenate([np.conj(hc[:, ::-1]), hc], axis=1)
    k = min(3, fx.size - 1)
    out = (make_interp_spline(fx, hc.real, k=k, axis=1)(f_new)
           + 1j * make_interp_spline(fx, hc.imag, k=k, axis=1)(f_new))
    out[:, f_new == 0] = out[:, f_new == 0].real
    out *= np.exp(-2j * np.pi * f_new[None, :] * tau[:, None])
    return out.reshape(lead + (f_new.size,))


def regrid(ntwk, f: np.ndarray):
    """*ntwk* interpolated onto the frequencies *f*, DC filled in where *f* starts there.

    Every S-parameter through :func:`regrid_transfers` (delay out, cubic splines of the
    real and imaginary parts through the data and their mirror image at negative
    frequencies, delay back). (scikit-rf's
    ``extrapolate_to_dc`` first re-interpolates the whole file linearly onto a uniform grid
    set by its first step: about 100 times the error of one cubic on the test lines, and a
    grid unrelated to a log sweep's.)

    Parameters
    ----------
    ntwk : skrf.Network
        The data.
    f : ndarray, shape (F,)
        New frequencies, Hz, inside the data's band except for a leading 0 Hz.

    Returns
    -------
    skrf.Network
    """
    import skrf

    f = np.asarray(f, dtype=float)
    s = np.moveaxis(regrid_transfers(ntwk.f, np.moveaxis(np.asarray(ntwk.s), 0, -1), f), -1, 0)
    return skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=s,
                        z0=np.asarray(ntwk.z0)[0], name=ntwk.name)


def check_network(ntwk, rate: float | None, name: str) -> QualityReport:
    """Passivity, reciprocity and frequency-grid figures of *ntwk* at *rate*.

    Parameters
    ----------
    ntwk : skrf.Network
        The data.
    rate : float, optional
        Symbol rate, 1/s, for the bandwidth check.
    name : str
        Name used in the report.
    """
    rep = QualityReport(name)
    f = np.asarray(ntwk.f, dtype=float)
    s = np.asarray(ntwk.s)
    sv = np.asarray(largest_singular_value(s))
    k = int(np.argmax(sv))
    worst = float(sv[k])
    n_bad = int((sv > 1 + PASSIVITY_TOL).sum())
    if n_bad:
        rep.add("passivity", worst, "", "warn",
                f"not passive at {n_bad} of {f.size} frequencies: largest singular value "
                f"{worst:.6f} at {format_quantity(f[k], 'Hz')} (a passive network stays <= 1); "
                "the data are used as they are")
    else:
        rep.add("passivity", worst, "", "ok",
                f"passive: largest singular value {worst:.6f} (at {format_quantity(f[k], 'Hz')})")
    if s.shape[1] > 1:
        d = np.abs(s - np.swapaxes(s, 1, 2)).max(axis=(1, 2))
        kr = int(np.argmax(d))
        rv = float(d[kr])
        st = "warn" if rv > RECIPROCITY_WARN else "ok"
        rep.add("reciprocity", rv, "", st,
                f"largest |Sij - Sji| = {rv:.3g} at {format_quantity(f[kr], 'Hz')}"
                + (" (a passive interconnect should be reciprocal)" if st == "warn" else ""))
    if f[0] == 0:
        rep.add("dc_point", 0.0, "Hz", "ok", "has a DC point")
    else:
        rep.add("dc_point", f[0], "Hz", "fixed",
                f"no DC point (first frequency {format_quantity(f[0], 'Hz')}): DC is "
                "extrapolated for the time domain")
    if f.size > 1:
        step, uniform = uniform_grid(f)
        d = np.diff(f)
        spread = float((d.max() - d.min()) / np.median(d))
        if uniform:
            rep.add("grid", step, "Hz", "ok",
                    f"{f.size} uniform points, step {format_quantity(step, 'Hz')} (time window "
                    f"{format_quantity(1 / step, 's')})")
        elif spread > GRID_RTOL:
            rep.add("grid", spread, "", "fixed",
                    f"non-uniform frequency spacing ({format_quantity(d.min(), 'Hz')} to "
                    f"{format_quantity(d.max(), 'Hz')}): resampled onto a uniform grid")
        else:
            rep.add("grid", f[0] / step, "", "fixed",
                    f"uniform step {format_quantity(step, 'Hz')}, but the frequencies are not "
                    f"whole multiples of it (first {format_quantity(f[0], 'Hz')}): resampled "
                    "onto a grid that is")
    if rate:
        add_bandwidth(rep, f, rate)
    return rep


#: The data's top frequency over the symbol rate below which the edges of the pulse
#: responses are shaped by the cut-off (a bandwidth warning; the rate search's note).
BANDWIDTH_MIN = 1.0


def band_limited(fmax: float, rate: float) -> bool:
    """Whether data ending at *fmax* (Hz) stop short of :data:`BANDWIDTH_MIN` times the
    symbol *rate* (1/s)."""
    return fmax < BANDWIDTH_MIN * rate * (1 - 1e-9)


def add_bandwidth(rep: QualityReport, f: np.ndarray, rate: float) -> None:
    """Record the data's top frequency relative to the symbol *rate* (1/s)."""
    fmax = float(np.asarray(f)[-1])
    ratio = fmax / rate
    st = "warn" if band_limited(fmax, rate) else "ok"
    rep.add("bandwidth", ratio, "x rate", st,
            f"top frequency {format_quantity(fmax, 'Hz')} = {ratio:.2f} x the symbol rate"
            + ("" if st == "ok" else " (below the rate: edges are shaped by the cut-off; "
               "extend the data to at least the rate)"))


def add_causality(rep: QualityReport, ratio: float) -> None:
    """Record the non-causal fraction of the victim's impulse response."""
    st = "warn" if ratio > CAUSALITY_WARN else "ok"
    rep.add("causality", ratio, "", st,
            f"before the input arrives (t < 0) the impulse response reaches {_pct(ratio)} of "
            "its peak (a causal channel: 0)"
            + (": the data are not causal, or too band-limited" if st == "warn" else ""))


def _pct(ratio: float) -> str:
    """A fraction as a percentage an engineer reads at a glance (``0.0059 %``, ``120 %``)."""
    pc = 100 * ratio
    if pc >= 10:
        return f"{pc:.0f} %"
    return f"{pc:.2g} %"


def check_phase(rep: QualityReport, f: np.ndarray, h: np.ndarray, rate: float,
                name: str) -> float:
    """Detect conjugated (time-reversed) data from the sign of the victim's bulk delay.

    A causal channel delays the signal: its phase falls with frequency,
    :math:`\\arg H = -2\\pi f \\tau` with :math:`\\tau > 0`. Data written with the opposite
    phase convention (:math:`e^{-i\\omega t}`, or conjugated by an export) have a phase that
    grows with frequency, so the fitted delay is negative and the impulse response would
    come before the input. More than one unit interval of negative delay cannot be noise or
    de-embedding error: the data are refused; less is reported. When the phase turns by
    more than a quarter cycle per step (median) the slope cannot be trusted: that is
    reported instead.

    Returns
    -------
    float
        The bulk delay, s.

    Raises
    ------
    InputError
        When the delay is more negative than one unit interval.
    """
    from ..errors import InputError

    f = np.asarray(f, dtype=float)
    h = np.asarray(h)
    tau = bulk_delay(f, h)
    ui = 1.0 / rate
    # the sign of an unwrapped phase slope means something only when the phase turns by
    # less than half a cycle per step (wrapped increments well inside +-pi)
    sel = f > 0
    turn = np.abs(np.angle(h[sel][1:] * np.conj(h[sel][:-1])))
    if turn.size and float(np.median(turn)) > np.pi / 2:
        rep.add("phase", tau, "s", "warn",
                f"the phase turns by {float(np.median(turn)):.2f} rad per frequency step "
                "(median): too coarse a step to resolve the delay; time-domain results alias")
        return tau
    if tau < -ui:
        raise InputError(
            f"{name}: the phase of the victim's transfer grows with frequency (bulk delay "
            f"{format_quantity(tau, 's')}, negative): the data use the opposite phase convention "
            "(conjugated, time-reversed), so the response would come before the input; "
            "conjugate every S-parameter (S -> S*) or re-export with the e^{+j w t} convention")
    st = "warn" if tau < 0 else "ok"
    rep.add("phase", tau, "s", st,
            f"bulk delay {format_quantity(tau, 's')}"
            + (" (negative: the phase grows with frequency; conjugated data, or over-"
               "de-embedded)" if st == "warn" else ""))
    return tau


def add_dc_extrapolation(rep: QualityReport, h0: float, f0: float) -> None:
    """Flag an extrapolated :math:`H(0)` outside [0, 1], impossible for a passive channel."""
    if 0.0 <= h0 <= 1.0 + 1e-6:
        return
    rep.add("dc_extrapolation", h0, "", "warn",
            f"H(0) filled in below {format_quantity(f0, 'Hz')} is {h0:.4g}, outside [0, 1] "
            "where a passive channel's DC transfer lies: the eye rests on a guess; give data "
            "from lower frequencies")


def add_mode_conversion(rep: QualityReport, db: float | None) -> None:
    """Record the largest differential-to-common conversion left out of a differential lane."""
    if db is None:
        return
    st = "warn" if db > -20 else "ok"
    rep.add("mode_conversion", db, "dB", st,
            f"largest |Scd| = {db:.1f} dB (left out of the differential-mode analysis)")
