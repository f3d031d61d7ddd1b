"""``sigint.analyze``: the entry point, callable, and the names of the analysis pipeline.

``sigint.analyze(source, rate, ...)`` is :func:`sigint.api.analyze`; the pipeline itself
(:func:`prepare`, :func:`evaluate`, :class:`AnalysisResult`...) lives in
:mod:`sigint.analysis.analyze` and its public names are re-exported here, so
``from sigint.analyze import AnalysisOptions`` keeps working.
"""
from __future__ import annotations

import sys
import types
from typing import Any

from .analysis import analyze as _pipeline
from .analysis.analyze import *  # noqa: F401,F403


def __getattr__(name: str) -> Any:
    """Every name of :mod:`sigint.analysis.analyze`, private ones included (PEP 562)."""
    return getattr(_pipeline, name)


class _CallableModule(types.ModuleType):
    """This module, callable: ``sigint.analyze(source, rate, ...)`` is :func:`sigint.api.analyze`.

    ``sigint.analyze`` names both this module and the package's entry point; a callable
    module keeps both meanings whichever is imported first.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .api import analyze as _entry

        return _entry(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
