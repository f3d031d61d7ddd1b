"""Moved to :mod:`sigint.analysis.validate`; this name is kept for one release."""
import importlib as _importlib
import warnings as _warnings

from .analysis.validate import *  # noqa: F401,F403

_new = _importlib.import_module("sigint.analysis.validate")


def __getattr__(name: str):
    """Every name of the new module, not only its public ones (PEP 562)."""
    return getattr(_new, name)


_warnings.warn("sigint.validate moved to sigint.analysis.validate; import it from there",
               DeprecationWarning, stacklevel=2)
