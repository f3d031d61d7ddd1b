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
    """

    name: str
    passed: bool
    value: float
    limit: float
    margin: float
    unit: str
    detail: str = ""

    def as_dict(self) -> dict:
        """JSON-ready dict (non-finite numbers become None)."""
        d = asdict(self)
        for k in ("value", "limit", "margin"):
            v = d[k]
            d[k] = float(v) if v is not None and math.isfinite(v) else None
        return d
