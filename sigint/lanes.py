"""Moved to :mod:`sigint.analysis.lanes`; this name is kept for one release."""
import warnings as _warnings

from .analysis.lanes import *  # noqa: F401,F403

_warnings.warn("sigint.lanes moved to sigint.analysis.lanes; import it from there",
               DeprecationWarning, stacklevel=2)
