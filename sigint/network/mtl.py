"""Moved to :mod:`sigint.channel.lines`; this name is kept for one release."""
import warnings as _warnings

from ..channel.lines import *  # noqa: F401,F403

_warnings.warn("sigint.network.mtl moved to sigint.channel.lines; import it from there",
               DeprecationWarning, stacklevel=2)
