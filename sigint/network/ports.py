"""Moved to :mod:`sigint.link.ports`; this name is kept for one release."""
import importlib as _importlib
import warnings as _warnings

from ..link.ports import *  # noqa: F401,F403

_new = _importlib.import_module("sigint.link.ports")


def __getattr__(name: str):
    """Every name of the new module, not only its public ones (PEP 562)."""
    return getattr(_new, name)


_warnings.warn("sigint.network.ports moved to sigint.link.ports; import it from there",
               DeprecationWarning, stacklevel=2)
