"""Moved to :mod:`sigint.link.txrx`; this name is kept for one release."""
import warnings as _warnings

from .txrx import *  # noqa: F401,F403

_warnings.warn("sigint.link.models moved to sigint.link.txrx; import it from there",
               DeprecationWarning, stacklevel=2)
