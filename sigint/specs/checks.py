"""Pass/fail checks with their margins, the common currency of every verdict."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Check"]


@dataclass(frozen=True)
class Check:
    """One requirement and how the channel meets it.

    Attributes
    ----------
    name : str
        Machine-readable name (``vtf_loss``, ``vtf_crosstalk``, ``eye_mask`` ...).
    passed : bool
        Whether the requirement is met.
    value : float
        The measured value, in ``unit``.
    limit : float
        The limit, in ``unit``.
    margin : float
        Distance to the limit, positive when passing, in ``unit``.
    unit : str
        Unit of value, limit and margin.
    detail : str
        One sentence on how the value was measured.
    relation : {'>=', '<='}
        How value and limit must compare to pass; ``margin`` is ``value - limit`` for
        ``>=`` and ``limit - value`` for ``<=``, so a positive margin always passes.
    where : str
        Where value and limit were taken ("at 3.2 GHz", "at +0.03 UI from the peak").
    frequency_hz : float, optional
        The frequency of a frequency-domain check, Hz.
    note : str
        A remark the summary prints with the row (e.g. a failure within measurement noise).

    Examples
    --------
    >>> c = Check("vtf_loss_fn", True, -1.6, -3.0, 1.4, "dB", relation=">=", where="at fN")
    >>> c.adds_up()
    True
    """

    name: str
    passed: bool
    value: float
    limit: float
    margin: float
    unit: str
    detail: str = ""
    relation: str = ">="
    where: str = ""
    frequency_hz: float | None = None
    note: str = ""

    def adds_up(self, tol: float = 1e-9) -> bool:
        """Whether margin, value and limit agree (within *tol*, relative to the limit)."""
        want = self.value - self.limit if self.relation == ">=" else self.limit - self.value
        if not (math.isfinite(want) and math.isfinite(self.margin)):
            return bool(want == self.margin)
        scale = max(1.0, abs(self.limit), abs(self.value))
        return abs(want - self.margin) <= tol * scale

    def as_dict(self) -> dict:
        """JSON-ready dict (non-finite numbers become None)."""
        d = asdict(self)
        for k in ("value", "limit", "margin", "frequency_hz"):
            v = d[k]
            d[k] = float(v) if v is not None and math.isfinite(v) else None
        return d
