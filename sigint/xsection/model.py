"""Moved to :mod:`sigint.xsection.schema`; this name is kept for one release."""
import warnings as _warnings

from .schema import *  # noqa: F401,F403

_warnings.warn("sigint.xsection.model moved to sigint.xsection.schema; import it from there",
               DeprecationWarning, stacklevel=2)
