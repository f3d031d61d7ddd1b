"""Moved to :mod:`sigint.channel.schema`; this name is kept for one release."""
import warnings as _warnings

from .schema import *  # noqa: F401,F403

_warnings.warn("sigint.channel.model moved to sigint.channel.schema; import it from there",
               DeprecationWarning, stacklevel=2)
