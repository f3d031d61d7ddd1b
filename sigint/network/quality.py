"""Quality checks of S-parameter data before use, in the spirit of IEEE P370.

Each check reports its number. Passivity is the largest singular value of S at each
frequency (:math:`\\sigma_{max}(S) \\le 1` for a passive network), reciprocity the largest
:math:`|S_{ij} - S_{ji}|`, causality the non-causal part of the victim's impulse response
(measured where the pulse responses are made), and the frequency grid is checked for a DC
point, uniform spacing and a top frequency that suits the data rate. Missing DC and
non-uniform spacing are repaired downstream (extrapolation, resampling) and reported as
such; non-finite values and non-increasing frequencies never get this far (the reader
refuses them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..units import format_quantity

__all__ = ["QualityItem", "QualityReport", "check_network", "largest_singular_value"]

PASSIVITY_TOL = 1e-6
RECIPROCITY_WARN = 1e-3
CAUSALITY_WARN = 0.01


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
    """The quality figures of one network."""

    source: str
    items: list[QualityItem] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, status: str, text: str) -> None:
        """Append a figure."""
        self.items.append(QualityItem(name, float(value), unit, status, text))

    def warnings(self) -> list[QualityItem]:
        """Figures that need attention or were repaired."""
        return [i for i in self.items if i.status in ("warn", "fixed")]

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"source": self.source, "items": [asdict(i) for i in self.items]}


def largest_singular_value(s: np.ndarray, xp=np) -> np.ndarray:
    """:math:`\\sigma_{max}(S)` per frequency from the largest eigenvalue of :math:`S^H S`."""
    s = xp.asarray(s)
    g = xp.conj(xp.swapaxes(s, 1, 2)) @ s
    ev = xp.linalg.eigvalsh(g)[:, -1]
    return xp.sqrt(xp.maximum(ev, 0.0))


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
    d = np.diff(f)
    if d.size:
        step = float(np.median(d))
        spread = float((d.max() - d.min()) / step)
        if spread > 1e-6:
            rep.add("grid", spread, "", "fixed",
                    f"non-uniform frequency spacing ({format_quantity(d.min(), 'Hz')} to "
                    f"{format_quantity(d.max(), 'Hz')}): resampled onto a uniform grid")
        else:
            rep.add("grid", step, "Hz", "ok",
                    f"{f.size} uniform points, step {format_quantity(step, 'Hz')} (time window "
                    f"{format_quantity(1 / step, 's')})")
    if rate:
        fmax = float(f[-1])
        ratio = fmax / rate
        st = "ok" if ratio >= 1.0 else "warn"
        rep.add("bandwidth", ratio, "x rate", st,
                f"top frequency {format_quantity(fmax, 'Hz')} = {ratio:.2f} x the symbol rate"
                + ("" if st == "ok" else " (below the rate: edges are shaped by the cut-off; "
                   "extend the data to at least the rate)"))
    return rep


def add_causality(rep: QualityReport, ratio: float) -> None:
    """Record the non-causal fraction of the victim's impulse response."""
    st = "warn" if ratio > CAUSALITY_WARN else "ok"
    rep.add("causality", ratio, "", st,
            f"largest impulse response before t = 0 is {100 * ratio:.3g}% of its peak"
            + (" (the data are not causal, or too band-limited)" if st == "warn" else ""))


def add_mode_conversion(rep: QualityReport, db: float | None) -> None:
    """Record the largest differential-to-common conversion left out of a differential lane."""
    if db is None:
        return
    st = "warn" if db > -20 else "ok"
    rep.add("mode_conversion", db, "dB", st,
            f"largest |Scd| = {db:.1f} dB (left out of the differential-mode analysis)")
