"""Moved to :mod:`sigint.schema`; this name is kept for one release."""
import warnings as _warnings

from .schema import *  # noqa: F401,F403

_warnings.warn("sigint.model moved to sigint.schema; import it from there",
               DeprecationWarning, stacklevel=2)
