"""Physical constants, in one place (SI units).

The speed of light is exact by the definition of the metre (SI brochure, 9th ed., 2019);
it is written out rather than read from :mod:`scipy.constants`, whose import costs a
command-line run a tenth of a second. The vacuum permeability and permittivity are measured quantities
since the 2019 SI redefinition; sigint pins the CODATA 2018 recommended values (Tiesinga,
Mohr, Newell & Taylor, Rev. Mod. Phys. 93, 025010, 2021) rather than read them from
:mod:`scipy.constants`, whose table follows the newest CODATA set (2022 from SciPy 1.15:
:math:`\\mu_0` changes by 7e-10 relative). Pinning keeps every result, cache key and
test identical whatever SciPy is installed; the difference is far below any accuracy
sigint claims. ``tests/test_units.py`` checks the pinned values against SciPy's to 1e-9
and :math:`\\varepsilon_0 \\mu_0 c^2 = 1`.
"""

from __future__ import annotations

__all__ = ["C0", "MU0", "EPS0", "CODATA"]

CODATA = "2018"
"""The CODATA set of :data:`MU0` and :data:`EPS0`."""

C0: float = 299_792_458.0
"""Speed of light in vacuum, m/s (exact: 299 792 458)."""

MU0: float = 1.25663706212e-6
"""Vacuum magnetic permeability, H/m (CODATA 2018; relative uncertainty 1.5e-10)."""

EPS0: float = 8.8541878128e-12
"""Vacuum electric permittivity, F/m (CODATA 2018; relative uncertainty 1.5e-10)."""
