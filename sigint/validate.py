"""Moved to :mod:`sigint.analysis.validate`; this name is kept for one release."""
import warnings as _warnings

from .analysis.validate import *  # noqa: F401,F403

_warnings.warn("sigint.validate moved to sigint.analysis.validate; import it from there",
               DeprecationWarning, stacklevel=2)
