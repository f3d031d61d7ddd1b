"""sigint: signal integrity of die-to-die links in advanced packaging.

From a package cross-section, a whole channel described in YAML, or a Touchstone file, to
RLGC matrices, S-parameters, VTF loss and crosstalk, pulse responses, statistical eyes and
a UCIe verdict -- on numpy anywhere, on CuPy where an NVIDIA GPU works.

Examples
--------
>>> import sigint
>>> ds = sigint.extract_rlgc("channels/xsections/si_interposer_bus.yaml",
...                          "1GHz,10GHz")                          # doctest: +SKIP
>>> ds["R"].sel(i="s1", j="s1").values                               # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "read_touchstone", "extract_rlgc", "build_channel", "analyze_file"]


def read_touchstone(path):
    """Read a Touchstone file (fast, exact against scikit-rf) into a :class:`skrf.Network`."""
    from .io.touchstone import read_touchstone as _read

    return _read(path)


def extract_rlgc(xsection, freq="1MHz:100GHz:201", *, refine: float = 1.0, backend=None):
    """R(f), L(f), G(f), C(f) of a cross-section file as an :class:`xarray.Dataset`.

    Parameters
    ----------
    xsection : str or Path
        Cross-section YAML file.
    freq : str or array_like
        ``"START:STOP:N"``, ``"START:STOP:N:log"``, a list ``"1GHz,10GHz"``, or Hz values.
    refine : float
        Mesh refinement factor.
    backend : {'auto', 'numpy', 'cupy'}, optional
        Compute backend.
    """
    from .backend import get_backend
    from .extract.rlgc import extract

    return extract(xsection, freq, refine=refine, backend=get_backend(backend)).to_dataset()


def build_channel(path, *, backend=None, use_cache: bool = True):
    """Build a channel YAML file into its 2N-port :class:`skrf.Network`."""
    from .backend import get_backend
    from .channel.build import build_file

    return build_file(path, backend=get_backend(backend), use_cache=use_cache).network()


def analyze_file(path, rate: str = "16GT/s", **options):
    """Analyse a Touchstone file: ``analyze_file("ch.s4p", "10Gb/s", spec="none")``.

    Keyword arguments go to :class:`sigint.analyze.AnalysisOptions` (``spec``, ``ber``,
    ``victim``...) and, for the port mapping, to :func:`sigint.analyze.analyze_files`
    (``thru``, ``differential``, ``fext``, ``next_``).
    """
    from .analyze import AnalysisOptions, analyze_files
    from .units import parse_rate

    mapping = {k: options.pop(k) for k in ("thru", "preset", "differential", "reverse", "fext",
                                           "next_") if k in options}
    opts = AnalysisOptions(rate=parse_rate(rate), **options)
    return analyze_files(path, opts, **mapping)
