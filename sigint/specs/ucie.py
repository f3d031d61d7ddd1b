"""UCIe 3.0 channel and eye requirements (public specification text, §5.7).

Each :class:`UcieRow` holds one row of the channel table: the VTF loss limit at Nyquist
(and at DC for the terminated standard package), the crosstalk limit as a function of the
channel's own loss :math:`L = L(f_N)`, the Tx/Rx models of the VTF circuit, the eye mask
and the raw BER. The loss mask is the straight line from the channel's :math:`L(0)` to the
limit at :math:`f_N`; the crosstalk must stay under its flat limit from DC to :math:`f_N`.

Where the product brief is silent the choices are stated in :data:`ASSUMPTIONS` and
printed with every verdict.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .checks import Check
from .library import SpecRow, load_spec

__all__ = ["UcieRow", "ucie_row", "UCIE_RATES", "PACKAGES", "vtf_checks", "eye_checks",
           "ASSUMPTIONS", "default_ber", "TX_PRESETS", "REFERENCE_CTLE_GAINS_DB",
           "DE_EMPHASIS_DB", "noise_rms_db", "NEAR_DC_FRACTION"]

PACKAGES = ("advanced", "standard", "standard-unterminated")

ASSUMPTIONS = (
    "Tx swing 0.4 V peak-to-peak at the source unless given (--swing)",
    "Tx edge: Gaussian, 20-80 % rise 0.1 UI unless given (--rise-time)",
    "rates between table rows use the next faster row (e.g. 20 GT/s checks as 24 GT/s)",
    "crosstalk: at each frequency the 19 largest aggressors (a bound on any fixed choice)",
)


#: A row of the UCIe table: :class:`~sigint.specs.library.SpecRow` (kept under its old name).
UcieRow = SpecRow


def _spec():
    return load_spec("ucie")


def _rates() -> tuple[float, ...]:
    return tuple(sorted({r for p in PACKAGES for r in _spec().rates(p)}))


UCIE_RATES = _rates()

_HI = next(r for r in _spec().rows if r.package == "advanced" and r.equalization.tx_presets)
# Tx FFE presets for channel analysis at 48/64 GT/s, (C-1, C0, C+1) (UCIe 3.0 Table 5-7,
# from the spec data file)
TX_PRESETS = dict(_HI.equalization.tx_presets)
# Reference Rx CTLE DC gains, dB: -6 to 0 dB in 1-dB steps (UCIe 3.0 §5.4.4, §5.7)
REFERENCE_CTLE_GAINS_DB = tuple(_HI.equalization.ctle.dc_gains)
# Tx de-emphasis settings at 24/32 GT/s, dB (UCIe 3.0 Table 5-6, Table 5-15 note b)
DE_EMPHASIS_DB = tuple(next(r for r in _spec().rows if r.equalization.tx_de_emphasis)
                       .equalization.tx_de_emphasis)


def ucie_row(package: str, rate: float) -> SpecRow:
    """The table row for *package* at *rate* (symbols/s), from ``data/ucie-3.0.yaml``.

    Raises
    ------
    SpecError
        For an unknown package or a rate outside the table.
    """
    pkg = package.lower()
    if pkg not in PACKAGES:
        raise SpecError(f"--package {package!r}: unknown UCIe package; choose one of "
                        f"{', '.join(PACKAGES)}")
    rates = _spec().rates(pkg)
    g = rate / 1e9
    if g < rates[0] / 1e9 - 1e-9:
        raise SpecError(f"--rate {g:g} GT/s: UCIe starts at 4 GT/s; give a rate of at least "
                        "4 GT/s or --spec none")
    if g > rates[-1] / 1e9 + 1e-9:
        raise SpecError(f"--rate {g:g} GT/s: the UCIe {pkg} table covers {rates[0] / 1e9:g}-"
                        f"{rates[-1] / 1e9:g} GT/s; give a rate in that range or --spec none")
    return _spec().row(rate, pkg)


def default_ber(rate: float, package: str = "advanced") -> float:
    """UCIe raw BER at *rate* (symbols/s) for *package*, from the spec data file.

    1e-27 up to 12 GT/s on the advanced package and up to 8 GT/s on the standard package,
    1e-15 above, and 1e-12 at 64 GT/s (UCIe 3.0 Tables 1-1, 1-2 and 5-32).

    >>> default_ber(12e9, "advanced"), default_ber(12e9, "standard"), default_ber(64e9)
    (1e-27, 1e-15, 1e-12)
    """
    pkg = package if package in PACKAGES else "advanced"
    rates = _spec().rates(pkg)
    r = min(max(rate, rates[0]), rates[-1])
    return _spec().row(r, pkg).ber_at(r)


def _interp_db(f: np.ndarray, y: np.ndarray, f0: float) -> float:
    return float(np.interp(f0, f, y))


#: "Near DC" for the noise remark on the loss mask: below this fraction of fN.
NEAR_DC_FRACTION = 0.1


def noise_rms_db(y: np.ndarray) -> float | None:
    """Robust rms of the point-to-point noise of a smooth curve *y* (dB), or None.

    Second differences of white noise of rms sigma have rms :math:`\\sqrt{6}\\,\\sigma`,
    while a smooth curve on a fine grid contributes almost nothing to them; the median
    absolute deviation (times 1.4826, its ratio to sigma for Gaussian noise) ignores the
    few points where the curve itself bends.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 6:
        return None
    d2 = np.diff(y, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6))


def _ghz(f: float) -> str:
    return f"{f / 1e9:.3g} GHz"


def vtf_checks(row: UcieRow, f: np.ndarray, loss_db: np.ndarray, xt_db: np.ndarray,
               rate: float) -> list[Check]:
    """Loss and crosstalk mask checks of UCIe 3.0 §5.7.2.1.

    The loss mask is the straight line from (0, L(0)) to (fN, limit): "Loss from DC to fN
    needs to be above the spec line". Rows (value, limit and margin of one quantity at one
    frequency, margin > 0 passing, never scaled):

    - ``vtf_loss``: L(f) against the line at the frequency in (0, fN] where L(f) - line(f)
      is smallest. Because the line starts at the channel's own L(0), the margin of every
      channel shrinks to 0 towards DC; the row's detail also gives the smallest margin
      above ``NEAR_DC_FRACTION`` x fN. When the only violation lies near DC and is no
      deeper than three times the measurement noise of L there (:func:`noise_rms_db`), the
      row still fails, as the spec says, and its ``note`` says so in words.
    - ``vtf_loss_fn``: L(fN) against the table's limit (the line's end point).
    - ``vtf_loss_dc``: L(0) against the DC limit, where the row has one.
    - ``vtf_crosstalk``: XT(f) against min(a L(fN) + b, c) at the frequency in [0, fN]
      where it comes closest.

    Examples
    --------
    >>> import numpy as np
    >>> row = ucie_row("advanced", 16e9)
    >>> f = np.linspace(0, 16e9, 321)
    >>> loss = -0.25 * f / 1e9 - 1.0 * np.exp(-((f - 2e9) / 0.2e9) ** 2)   # a 1 dB dip at 2 GHz
    >>> c = vtf_checks(row, f, loss, np.full_like(f, -40.0), 16e9)[0]
    >>> c.name, c.passed, round(c.frequency_hz / 1e9, 2), round(c.margin, 3)
    ('vtf_loss', False, 2.0, -0.75)
    """
    f = np.asarray(f, dtype=float)
    fn = rate / 2
    l0 = _interp_db(f, loss_db, 0.0) if f[0] > 0 else float(loss_db[0])
    lfn = _interp_db(f, loss_db, fn)
    band = f <= fn * (1 + 1e-12)
    fb = f[band]
    lb, xb = loss_db[band], xt_db[band]
    if fb[-1] < fn * (1 - 1e-12):
        fb = np.append(fb, fn)
        lb = np.append(lb, lfn)
        xb = np.append(xb, _interp_db(f, xt_db, fn))
    lim = row.loss_fn_db
    line = l0 + (lim - l0) * fb / fn
    m = lb - line
    pos = np.flatnonzero(fb > 0)
    k = pos[int(np.argmin(m[pos]))]
    near = NEAR_DC_FRACTION * fn
    away = pos[fb[pos] >= near]
    ka = away[int(np.argmin(m[away]))] if away.size else k
    passed = bool(m[k] >= -1e-12)
    where = f"at {_ghz(fb[k])}"
    if k == pos[0]:
        where += " (first point above DC)"
    note = ""
    if not passed:
        bad = pos[m[pos] < 0]
        depth = float(-m[k])
        noise = noise_rms_db(lb[(fb > 0) & (fb <= near)])
        if fb[bad].max() <= near and noise is not None and depth <= 3 * noise:
            note = (f"the only violation lies below {_ghz(near)} and is {depth:.3f} dB deep, "
                    f"within the measurement noise of the loss there (about {noise:.3f} dB "
                    f"rms); the spec line is still crossed, so the check fails; above "
                    f"{_ghz(near)} the smallest margin is {m[ka]:.2f} dB at {_ghz(fb[ka])}")
        elif fb[bad].max() <= near:
            note = (f"the only violation lies below {_ghz(near)}, {depth:.4f} dB deep: the line "
                    f"starts at this channel's own L(0), so a loss that falls faster near DC "
                    f"than the line (skin-effect onset) crosses it there; the spec line is "
                    f"still crossed, so the check fails; above {_ghz(near)} the smallest "
                    f"margin is {m[ka]:.2f} dB at {_ghz(fb[ka])}")
    checks = [
        Check(name="vtf_loss", passed=passed, value=float(lb[k]), limit=float(line[k]),
              margin=float(m[k]), unit="dB", relation=">=", where=where,
              frequency_hz=float(fb[k]), note=note,
              detail=(f"mask: straight line from L(0) = {l0:+.2f} dB at DC to {lim:g} dB at "
                      f"fN = {_ghz(fn)} (UCIe 3.0 §5.7.2.1); the loss must stay above it from "
                      f"DC to fN; smallest margin above {_ghz(near)}: {m[ka]:.2f} dB at "
                      f"{_ghz(fb[ka])}")),
        Check(name="vtf_loss_fn", passed=bool(lfn >= lim), value=lfn, limit=lim,
              margin=lfn - lim, unit="dB", relation=">=", where=f"at fN = {_ghz(fn)}",
              frequency_hz=fn, detail="L(fN) against the table's loss limit"),
    ]
    if row.loss_dc_db is not None:
        checks.append(Check(
            name="vtf_loss_dc", passed=bool(l0 >= row.loss_dc_db), value=l0,
            limit=row.loss_dc_db, margin=l0 - row.loss_dc_db, unit="dB", relation=">=",
            where="at DC", frequency_hz=0.0, detail="L(0) against the table's DC limit"))
    xlim = row.xt_limit_db(lfn)
    xm = xlim - xb
    j = int(np.argmin(xm))
    xwhere = f"at {_ghz(fb[j])}" if np.isfinite(xb[j]) else "no aggressors"
    checks.append(Check(
        name="vtf_crosstalk", passed=bool(xm[j] >= 0), value=float(xb[j]), limit=xlim,
        margin=float(xm[j]), unit="dB", relation="<=", where=xwhere,
        frequency_hz=float(fb[j]),
        detail=(f"power sum of the 19 largest aggressors, worst from DC to fN; limit "
                f"min({row.xt_slope:g} L(fN) {row.xt_offset:+g}, {row.xt_cap:g}) dB with "
                f"L(fN) = {lfn:+.2f} dB"),
    ))
    return checks


def eye_checks(row: UcieRow, eye_height: float, eye_width: float, mask_height: float,
               ber: float) -> list[Check]:
    """Eye mask check: the row's mask (rectangle, diamond or polygon) must fit in the eye at
    *ber*; and the eye's height and width against the mask's.

    *mask_height* is the tallest mask of the row's shape and width that fits (V; for a
    polygon, its height scaled by the largest factor that fits).
    """
    at = f"BER {ber:.0e}"
    shape = row.mask_shape
    return [
        Check(name="eye_mask", passed=bool(mask_height >= row.eye_height), value=mask_height,
              limit=row.eye_height, margin=mask_height - row.eye_height, unit="V",
              where=f"{row.eye_width:g} UI wide {shape}, {at}",
              detail=(f"tallest {row.eye_width:g} UI wide {shape} inside the BER {ber:.0e} "
                      f"contour vs the {row.eye_height * 1e3:g} mV x {row.eye_width:g} UI mask")),
        Check(name="eye_height", passed=bool(eye_height >= row.eye_height), value=eye_height,
              limit=row.eye_height, margin=eye_height - row.eye_height, unit="V",
              where=f"best phase, {at}", detail=f"at the best sampling phase, BER {ber:.0e}"),
        Check(name="eye_width", passed=bool(eye_width >= row.eye_width), value=eye_width,
              limit=row.eye_width, margin=eye_width - row.eye_width, unit="UI",
              where=f"at 0 V, {at}", detail=f"at 0 V, BER {ber:.0e}"),
    ]
