"""sigint: signal integrity of die-to-die links in advanced packaging.

From a package cross-section, a whole channel described in YAML, or a Touchstone file, to
RLGC matrices, S-parameters, VTF loss and crosstalk, pulse responses, statistical eyes and
a UCIe verdict -- on numpy anywhere, on CuPy where an NVIDIA GPU works.

The entry points (each documented with a runnable example):

- :func:`analyze` -- a Touchstone file, a channel YAML file or an :class:`skrf.Network`
  to VTFs, eye and verdict (``sigint.analyze("ch.s4p", "16GT/s")``);
- :func:`build_channel` -- a channel YAML file to its cascaded network and summary;
- :func:`extract_rlgc` -- a cross-section file to R, L, G, C per unit length;
- :func:`read_touchstone` -- a Touchstone file to an :class:`skrf.Network`.

Importing sigint is light: numpy, scipy and scikit-rf load on the first call.

Examples
--------
>>> import sigint
>>> sigint.__version__
'0.1.0'
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "analyze", "build_channel", "extract_rlgc", "read_touchstone",
           "analyze_file", "sweep"]


def __getattr__(name: str) -> Any:
    # ``sigint.analyze`` is both the pipeline module and the entry point: the module is
    # callable (it forwards to :func:`sigint.api.analyze`), so the name means the same
    # whether or not the submodule was imported first.
    if name == "analyze":
        import importlib

        return importlib.import_module(".analyze", __name__)
    raise AttributeError(f"module 'sigint' has no attribute {name!r}")


def read_touchstone(path):
    """Read a Touchstone file (fast, exact against scikit-rf) into a :class:`skrf.Network`.

    Examples
    --------
    >>> import sigint
    >>> net = sigint.read_touchstone("channels/example2/example2_THRU.s4p.xz")
    >>> net.nports, round(net.f[-1] / 1e9)
    (4, 40)
    """
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

    Returns
    -------
    xarray.Dataset
        ``R`` (ohm/m), ``L`` (H/m), ``G`` (S/m), ``C`` (F/m) on dims ``frequency``, ``i``,
        ``j``.

    Examples
    --------
    A coax of radii 1 and 2.5 um in air: C = 2 pi eps0 / ln(b/a) = 60.72 pF/m.

    >>> import sigint, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "coax.yaml"
    >>> _ = p.write_text('''
    ... name: coax
    ... stack: [{material: air}]
    ... conductors:
    ...   - {name: a, shape: circle, x: 0 um, y: 0 um, radius: 1 um}
    ...   - {name: g, shape: ring, x: 0 um, y: 0 um, inner_radius: 2.5 um,
    ...      outer_radius: 3 um, reference: true}
    ... ''')
    >>> ds = sigint.extract_rlgc(p, "1GHz,10GHz")
    >>> round(float(ds["C"].sel(i="a", j="a")[0]) * 1e12, 1)
    60.7
    """
    from .backend import get_backend
    from .extract.rlgc import extract

    return extract(xsection, freq, refine=refine, backend=get_backend(backend)).to_dataset()


def build_channel(path, *, backend=None, use_cache: bool = True):
    """Build a channel YAML file; the result keeps its summary, segments and network.

    Returns
    -------
    sigint.channel.build.BuildResult
        ``.network()`` (2N-port :class:`skrf.Network`), ``.summary()``, ``.to_json()``.

    Examples
    --------
    Two lanes of 1 mm of oxide-embedded line between micro-bumps (the shipped
    ``channels/*.yaml`` are built the same way, in a minute or two the first time):

    >>> import sigint, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "bus.yaml").write_text('''
    ... ground_plane: {y: 0 um}
    ... stack: [{material: sio2, thickness: 6 um}, {material: air}]
    ... buses: [{name: s, pattern: GSGSG, pitch: 4 um, width: 2 um, height: 1 um, y: 2 um}]
    ... ''')
    >>> _ = (d / "ch.yaml").write_text('''
    ... name: two lanes
    ... link: {rate: 16 GT/s, spec: ucie, package: advanced}
    ... lanes: {pitch: 45 um, map: [SGS]}
    ... frequencies: 0:40GHz:81
    ... segments:
    ...   - {type: bump, diameter: 25 um, height: 20 um}
    ...   - {type: trace, xsection: bus.yaml, length: 1 mm}
    ... ''')
    >>> b = sigint.build_channel(d / "ch.yaml", use_cache=False)
    >>> b.network().nports, b.n_lanes
    (4, 2)
    >>> print(repr(b)[:49])
    <BuildResult ch.yaml: 2 lanes, 2 segments, 81 fre
    """
    from .api import build_channel as _build

    return _build(path, backend=backend, use_cache=use_cache)


def analyze_file(path, rate: str = "16GT/s", **options):
    """Analyse a Touchstone file; kept for older scripts: use :func:`sigint.analyze`.

    Examples
    --------
    >>> import sigint
    >>> r = sigint.analyze_file("channels/example2/example2_THRU.s4p.xz", "10Gb/s",
    ...                         thru=["1:2", "3:4"], differential=True, spec="none", bits=0)
    >>> r.passed is None and r.eye.eye_height > 0
    True
    """
    from .api import analyze as _analyze

    return _analyze(path, rate, **options)


def sweep(source, **kwargs):
    """Run a geometry sweep (a sweep YAML file or mapping) and return its
    :class:`xarray.Dataset`; see :func:`sigint.sweeps.sweep` for the arguments.

    Examples
    --------
    >>> import sigint
    >>> sigint.sweep({"base": "ch.yaml", "parameters": {}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sigint.errors.InputError: sweep: parameters: empty; give at least one parameter to vary, ...
    """
    from .sweeps import sweep as _sweep

    return _sweep(source, **kwargs)
