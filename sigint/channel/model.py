"""Moved to :mod:`sigint.channel.schema`; this name is kept for one release."""
import importlib as _importlib
import warnings as _warnings

from .schema import *  # noqa: F401,F403

_new = _importlib.import_module("sigint.channel.schema")


def __getattr__(name: str):
    """Every name of the new module, not only its public ones (PEP 562)."""
    return getattr(_new, name)


_warnings.warn("sigint.channel.model moved to sigint.channel.schema; import it from there",
               DeprecationWarning, stacklevel=2)
