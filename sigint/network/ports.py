"""Moved to :mod:`sigint.link.ports`; this name is kept for one release."""
import warnings as _warnings

from ..link.ports import *  # noqa: F401,F403

_warnings.warn("sigint.network.ports moved to sigint.link.ports; import it from there",
               DeprecationWarning, stacklevel=2)
