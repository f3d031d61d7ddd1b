"""Moved to :mod:`sigint.analysis.rate`; this name is kept for one release."""
import warnings as _warnings

from .analysis.rate import *  # noqa: F401,F403

_warnings.warn("sigint.rate moved to sigint.analysis.rate; import it from there",
               DeprecationWarning, stacklevel=2)
