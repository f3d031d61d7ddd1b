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

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError
from ..link.models import Rx, Tx
from .checks import Check

__all__ = ["UcieRow", "ucie_row", "UCIE_RATES", "PACKAGES", "vtf_checks", "eye_checks",
           "ASSUMPTIONS", "default_ber", "TX_PRESETS", "REFERENCE_CTLE_GAINS_DB",
           "DE_EMPHASIS_DB"]

UCIE_RATES = (4e9, 8e9, 12e9, 16e9, 24e9, 32e9)
PACKAGES = ("advanced", "standard", "standard-unterminated")

ASSUMPTIONS = (
    "Tx swing 0.4 V peak-to-peak at the source unless given (--swing)",
    "Tx edge: Gaussian, 20-80 % rise 0.1 UI unless given (--rise-time)",
    "rates between table rows use the next faster row (e.g. 20 GT/s checks as 24 GT/s)",
    "crosstalk: at each frequency the 19 largest aggressors (a bound on any fixed choice)",
)


@dataclass(frozen=True)
class UcieRow:
    """One row of the UCIe channel table.

    Attributes
    ----------
    package : str
        ``advanced``, ``standard`` (terminated) or ``standard-unterminated``.
    lo, hi : float
        Rates the row covers, GT/s.
    loss_fn_db : float
        VTF loss limit at Nyquist, dB (loss must stay above).
    loss_dc_db : float or None
        Limit on L(0), dB, where the table gives one.
    xt_slope, xt_offset, xt_cap : float
        Crosstalk limit :math:`\\min(a L + b, c)` dB with L the loss at Nyquist.
    tx_r, tx_c, rx_r, rx_c : float
        VTF circuit: Tx ohm and F, Rx ohm (None: unterminated) and F.
    eye_height, eye_width : float
        Eye mask, V and UI.
    eq : bool
        Whether the spec evaluates the eye with equalization on.
    """

    package: str
    lo: float
    hi: float
    loss_fn_db: float
    loss_dc_db: float | None
    xt_slope: float
    xt_offset: float
    xt_cap: float
    tx_r: float
    tx_c: float
    rx_r: float | None
    rx_c: float
    eye_height: float
    eye_width: float
    eq: bool

    def xt_limit_db(self, loss_fn_db: float) -> float:
        """Crosstalk limit for a channel whose loss at Nyquist is *loss_fn_db*, dB."""
        return min(self.xt_slope * loss_fn_db + self.xt_offset, self.xt_cap)

    def tx(self, **overrides: object) -> Tx:
        """The Tx model of this row's VTF circuit."""
        return Tx(r=self.tx_r, c_pad=self.tx_c, **overrides)

    def rx(self, **overrides: object) -> Rx:
        """The Rx model of this row's VTF circuit."""
        return Rx(r=self.rx_r, c_pad=self.rx_c, **overrides)

    @property
    def title(self) -> str:
        name = {"advanced": "UCIe advanced package",
                "standard": "UCIe standard package, terminated",
                "standard-unterminated": "UCIe standard package, unterminated"}[self.package]
        rng = f"{self.lo:g} GT/s" if self.lo == self.hi else f"{self.lo:g}-{self.hi:g} GT/s"
        return f"{name}, {rng}"


# Tx FFE presets for channel analysis at 48/64 GT/s, (C-1, C0, C+1) (UCIe 3.0 Table 5-7;
# the eye at those rates is judged with the best of them, §5.7)
TX_PRESETS = {
    "P0": (0.0, 1.0, 0.0), "P1": (-0.05, 0.95, 0.0), "P2": (0.0, 0.9, -0.1),
    "P3": (-0.05, 0.85, -0.1), "P4": (0.0, 0.8, -0.2), "P5": (-0.05, 0.75, -0.2),
}
# Reference Rx CTLE DC gains, dB: -6 to 0 dB in 1-dB steps (UCIe 3.0 §5.4.4, §5.7)
REFERENCE_CTLE_GAINS_DB = tuple(float(g) for g in range(0, -7, -1))
# Tx de-emphasis settings at 24/32 GT/s, dB (UCIe 3.0 §5.3, Tx equalization at 24/32 GT/s;
# Table 5-15 note b: the eye mask there applies with equalization enabled)
DE_EMPHASIS_DB = (0.0, -2.2)

_MASK_LOW = (0.040, 0.75)     # 4-16 GT/s
_MASK_EQ = (0.040, 0.65)      # 24-32 GT/s, equalization on

_ROWS = (
    UcieRow("advanced", 4, 16, -3.0, None, 1.5, -21.5, -23.0, 25.0, 0.25e-12, None, 0.2e-12,
            *_MASK_LOW, False),
    UcieRow("advanced", 24, 32, -5.0, None, 1.5, -19.0, -24.0, 25.0, 0.25e-12, None, 0.2e-12,
            *_MASK_EQ, True),
    UcieRow("standard", 4, 8, -7.5, -4.5, 3.0, -11.5, -25.0, 30.0, 0.3e-12, 50.0, 0.3e-12,
            *_MASK_LOW, False),
    UcieRow("standard", 12, 16, -6.5, -4.5, 3.0, -11.5, -25.0, 30.0, 0.2e-12, 50.0, 0.2e-12,
            *_MASK_LOW, False),
    UcieRow("standard", 24, 32, -7.5, -4.5, 2.5, -10.0, -26.0, 30.0, 0.125e-12, 50.0, 0.125e-12,
            *_MASK_EQ, True),
    UcieRow("standard-unterminated", 4, 12, -1.25, None, 7.0, -12.5, -15.0, 30.0, 0.3e-12, None,
            0.2e-12, *_MASK_LOW, False),
    UcieRow("standard-unterminated", 16, 16, -1.15, None, 4.0, -13.5, -17.0, 30.0, 0.2e-12, None,
            0.2e-12, *_MASK_LOW, False),
)


def ucie_row(package: str, rate: float) -> UcieRow:
    """The table row for *package* at *rate* (symbols/s).

    Raises
    ------
    SpecError
        For an unknown package or a rate outside the table.
    """
    pkg = package.lower()
    if pkg not in PACKAGES:
        raise SpecError(f"--package {package!r}: unknown UCIe package; choose one of "
                        f"{', '.join(PACKAGES)}")
    g = rate / 1e9
    rows = [r for r in _ROWS if r.package == pkg]
    for r in rows:
        if r.lo - 1e-9 <= g <= r.hi + 1e-9:
            return r
    faster = [r for r in rows if r.lo > g]
    top = max(r.hi for r in rows)
    if g > top + 1e-9 or not faster:
        raise SpecError(
            f"--rate {g:g} GT/s: the UCIe {pkg} table covers {min(r.lo for r in rows):g}-"
            f"{top:g} GT/s (48/64 GT/s rows are not implemented yet); give a rate in that "
            "range or --spec none")
    if g < min(r.lo for r in rows):
        raise SpecError(f"--rate {g:g} GT/s: UCIe starts at 4 GT/s; give a rate of at least "
                        "4 GT/s or --spec none")
    return min(faster, key=lambda r: r.lo)


def default_ber(rate: float, package: str = "advanced") -> float:
    """UCIe raw BER at *rate* (symbols/s) for *package*.

    1e-27 up to 12 GT/s on the advanced package and up to 8 GT/s on the standard package,
    1e-15 above, and 1e-12 at 64 GT/s (UCIe 3.0 Tables 1-1 and 1-2, §5.7 Tables 5-15 and
    5-32).

    >>> default_ber(12e9, "advanced"), default_ber(12e9, "standard"), default_ber(64e9)
    (1e-27, 1e-15, 1e-12)
    """
    g = rate / 1e9
    deep = 12 if package == "advanced" else 8
    if g <= deep + 1e-9:
        return 1e-27
    if g <= 48 + 1e-9:
        return 1e-15
    return 1e-12


def _interp_db(f: np.ndarray, y: np.ndarray, f0: float) -> float:
    return float(np.interp(f0, f, y))


def vtf_checks(row: UcieRow, f: np.ndarray, loss_db: np.ndarray, xt_db: np.ndarray,
               rate: float) -> list[Check]:
    """Loss and crosstalk mask checks of UCIe §5.7.

    The loss must stay above the straight line from (0, L(0)) to (fN, limit) at every
    frequency up to fN; the crosstalk below min(a L(fN) + b, c) at every frequency up to fN.
    The loss margin is the change of the fN limit (dB) that would make the line touch the
    curve; the crosstalk margin the smallest distance to its limit over the band, dB.
    """
    fn = rate / 2
    l0 = _interp_db(f, loss_db, 0.0) if f[0] > 0 else float(loss_db[0])
    lfn = _interp_db(f, loss_db, fn)
    band = f <= fn * (1 + 1e-12)
    fb = np.append(f[band], fn)
    lb = np.append(loss_db[band], lfn)
    xb = np.append(xt_db[band], _interp_db(f, xt_db, fn))
    mask = l0 + (row.loss_fn_db - l0) * fb / fn
    # The mask starts at the channel's own L(0), so L - mask -> 0 at DC for every channel.
    # The margin reported is how far the limit at fN could move before the line touches
    # the curve: min over (0, fN] of (L - mask) * fN / f, which at fN is L(fN) - limit.
    pos = fb > 0
    scaled = (lb[pos] - mask[pos]) * fn / fb[pos]
    k = int(np.argmin(scaled))
    fk = fb[pos][k]
    checks = [Check(
        name="vtf_loss", passed=bool(scaled[k] >= -1e-9), value=lfn, limit=row.loss_fn_db,
        margin=float(scaled[k]), unit="dB",
        detail=(f"L(fN={fn / 1e9:g} GHz) = {lfn:.2f} dB; mask from L(0) = {l0:.2f} dB to "
                f"{row.loss_fn_db:g} dB at fN; closest to the mask at {fk / 1e9:.3g} GHz"),
    )]
    if row.loss_dc_db is not None:
        checks.append(Check(
            name="vtf_loss_dc", passed=bool(l0 >= row.loss_dc_db), value=l0,
            limit=row.loss_dc_db, margin=l0 - row.loss_dc_db, unit="dB",
            detail=f"L(0) = {l0:.2f} dB, limit {row.loss_dc_db:g} dB"))
    lim = row.xt_limit_db(lfn)
    xm = lim - xb
    j = int(np.argmin(xm))
    checks.append(Check(
        name="vtf_crosstalk", passed=bool(xm[j] >= 0), value=float(xb[j]), limit=lim,
        margin=float(xm[j]), unit="dB",
        detail=(f"power sum of the 19 largest aggressors; limit min({row.xt_slope:g}*L "
                f"{row.xt_offset:+g}, {row.xt_cap:g}) = {lim:.2f} dB; worst at "
                f"{fb[j] / 1e9:.3g} GHz"),
    ))
    return checks


def eye_checks(row: UcieRow, eye_height: float, eye_width: float, mask_height: float,
               ber: float) -> list[Check]:
    """Eye mask check: a rectangle of the row's height x width must fit in the eye at *ber*.

    *mask_height* is the tallest rectangle of the mask's width that fits (V).
    """
    return [
        Check(name="eye_mask", passed=bool(mask_height >= row.eye_height), value=mask_height,
              limit=row.eye_height, margin=mask_height - row.eye_height, unit="V",
              detail=(f"tallest {row.eye_width:g} UI wide rectangle inside the BER {ber:.0e} "
                      f"contour vs the {row.eye_height * 1e3:g} mV x {row.eye_width:g} UI mask")),
        Check(name="eye_height", passed=bool(eye_height >= row.eye_height), value=eye_height,
              limit=row.eye_height, margin=eye_height - row.eye_height, unit="V",
              detail=f"at the best sampling phase, BER {ber:.0e}"),
        Check(name="eye_width", passed=bool(eye_width >= row.eye_width), value=eye_width,
              limit=row.eye_width, margin=eye_width - row.eye_width, unit="UI",
              detail=f"at 0 V, BER {ber:.0e}"),
    ]
