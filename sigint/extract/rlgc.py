"""``sigint extract``: per-unit-length R(f), L(f), G(f), C(f) of a cross-section.

C and G come from the boundary element solver (:mod:`.bem`), R and L from the filament
solver (:mod:`.peec`). Frequency sampling that costs little:

* R and L are exact at every requested frequency: the PEEC system is diagonalised once
  and each frequency is then a small matrix product (round conductors only: multipole
  expansions, :mod:`sigint.extract.multipole`, their proximity term splined between
  log-spaced solves for long frequency lists, with the error measured; conductors many
  skin depths thick: the surface formulation, :mod:`sigint.extract.surface`, above a
  crossover frequency, splined between log-spaced solves with the error estimated);
* C and G need one BEM solve when every dielectric has a frequency-independent complex
  permittivity (then :math:`C` and :math:`G/\\omega` are constant); with dispersion
  (Djordjevic-Sarkar) or conduction (silicon) the BEM runs at a few frequencies per
  decade and :math:`C` and :math:`G/\\omega` are interpolated in :math:`\\log f` with a
  cubic spline. The interpolation error (relative to the largest entry at that frequency)
  is measured by extra solves half-way between samples and reported.

The result is an :class:`xarray.Dataset` with variables ``R`` (ohm/m), ``L`` (H/m),
``G`` (S/m), ``C`` (F/m) on dims ``frequency``, ``i``, ``j`` (signal conductor names).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import progress as tasks
from ..backend import Backend, get_backend
from ..errors import InputError
from ..units import parse_quantity
from ..xsection.geometry import Geometry, resolve
from ..xsection.materials import EPS0, MU0, roughness_factor
from ..xsection.schema import CrossSection, load_cross_section
from .bem import BemSolver
from .interp import spline_log
from .multipole import MultipoleSolver
from .multipole import applies as multipole_applies
from .multipole import why_not as multipole_why_not
from .peec import PeecSolver
from .surface import SurfaceSolver, surface_note, surface_pays
from .surface import applies as surface_applies
from .surface import crossover as surface_crossover
from .surface import why_not as surface_why_not

__all__ = ["ExtractResult", "extract", "parse_frequencies", "line_summary", "BEM_PER_DECADE"]

BEM_PER_DECADE = 5
EXACT_RANK = 1500      # up to this many frequency-dependent panels, no interpolation
C0 = 299792458.0


def parse_frequencies(text: str) -> np.ndarray:
    """``"1MHz:100GHz:201"`` (linear), ``"...:201:log"`` (logarithmic), or a list
    ``"1GHz,5GHz,10GHz"`` or one value ``"1GHz"`` to an array of frequencies in Hz.

    Raises
    ------
    InputError
        Malformed text, a non-positive count, stop below start, or log spacing from 0 Hz.
    """
    t = text.strip()
    if ":" not in t and "," not in t:      # one frequency, e.g. --freq 1GHz
        if t in ("0", "0Hz", "DC", "dc"):
            raise InputError(f"--freq {text!r}: give at least one frequency above 0 Hz "
                             "(DC comes with any list that holds 0, e.g. 0,1GHz)")
        try:
            parse_quantity(t, "frequency", field="--freq", allow_bare=False)
        except InputError:
            raise InputError(f"--freq {text!r}: write START:STOP:N (linear), START:STOP:N:log, "
                             "a list 1GHz,10GHz or one value 1GHz") from None
        t = t + ","
    if "," in t and ":" not in t:
        vals = [0.0 if x.strip() in ("0", "0Hz")
                else parse_quantity(x, "frequency", field="--freq", allow_bare=False)
                for x in t.split(",") if x.strip()]
        f = np.array(sorted(vals))
    else:
        parts = t.split(":")
        if len(parts) not in (3, 4):
            raise InputError(f"--freq {text!r}: write START:STOP:N (linear) or START:STOP:N:log, "
                             "e.g. 1MHz:100GHz:201")
        start = 0.0 if parts[0].strip() in ("0", "0Hz", "DC", "dc") else parse_quantity(
            parts[0], "frequency", field="--freq start")
        stop = parse_quantity(parts[1], "frequency", field="--freq stop")
        try:
            n = int(parts[2])
        except ValueError:
            raise InputError(f"--freq {text!r}: the point count {parts[2]!r} is not an integer") from None
        if n < 1:
            raise InputError(f"--freq {text!r}: the point count must be at least 1")
        if stop < start:
            raise InputError(f"--freq {text!r}: the stop frequency is below the start")
        mode = parts[3].strip().lower() if len(parts) == 4 else "lin"
        if mode not in ("lin", "log"):
            raise InputError(f"--freq {text!r}: the spacing must be lin or log, not {mode!r}")
        if mode == "log":
            if start <= 0:
                raise InputError(f"--freq {text!r}: log spacing cannot start at 0 Hz")
            f = np.geomspace(start, stop, n)
        else:
            f = np.linspace(start, stop, n)
    return check_frequencies(f, f"--freq {text!r}")


def check_frequencies(f: np.ndarray, what: str = "frequencies") -> np.ndarray:
    """*f* if it is a non-empty 1-D list of finite frequencies of 0 Hz or more with at least
    one above 0 Hz.

    Raises
    ------
    InputError
        Naming *what* and the rule broken.
    """
    if f.ndim != 1 or f.size == 0:
        raise InputError(f"{what}: give a non-empty list of frequencies")
    if np.any(f < 0) or not np.all(np.isfinite(f)):
        raise InputError(f"{what}: frequencies must be finite and non-negative")
    if f.max() <= 0:
        raise InputError(f"{what}: give at least one frequency above 0 Hz")
    return f


@dataclass
class ExtractResult:
    """RLGC matrices and what it took to get them.

    Built by :func:`extract`. F is the number of frequencies, n of signal conductors
    (ordered as ``geometry.signals``); every matrix is per unit length, symmetric, against
    the reference conductors (or the ground plane).

    Attributes
    ----------
    geometry : Geometry
        The resolved cross-section.
    f : ndarray, shape (F,)
        Frequencies, Hz.
    r : ndarray, shape (F, n, n)
        Resistance, ohm/m (with the conductors' roughness).
    l : ndarray, shape (F, n, n)
        Inductance, H/m.
    g : ndarray, shape (F, n, n)
        Conductance, S/m.
    c : ndarray, shape (F, n, n)
        Capacitance, F/m.
    c0 : ndarray, shape (n, n)
        Capacitance with every dielectric replaced by vacuum, F/m.
    backend : Backend
        The compute backend of the dense solves.
    bem_unknowns : int
        Unknowns of the boundary-element system (panel charges).
    peec_unknowns : int
        Current filaments and surface-current segments.
    bem_frequencies : ndarray, shape (B,)
        Frequencies the BEM solved at, Hz (interpolated between them when B < F).
    interpolation_error : float or None
        Measured relative error of the C and G/omega interpolation (0 when nothing is
        interpolated, None when not measured).
    timings : dict of str to float
        Wall time of each stage, s.
    notes : list of str
        What was done on the way, for the reader.
    bem : BemSolver or None
        The boundary-element solver (for further solves).
    peec : PeecSolver or None
        The filament solver.
    stages : dict of str to str
        Where each stage ran (``numpy`` or ``cupy``), see :func:`extract_stages`.
    """

    geometry: Geometry
    f: np.ndarray
    r: np.ndarray
    l: np.ndarray
    g: np.ndarray
    c: np.ndarray
    c0: np.ndarray
    backend: Backend
    bem_unknowns: int
    peec_unknowns: int
    bem_frequencies: np.ndarray
    interpolation_error: float | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    bem: BemSolver | None = None
    peec: PeecSolver | None = None
    stages: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Names of the signal conductors, in the order of the matrices' rows."""
        return list(self.geometry.signals)

    def summary(self) -> str:
        """The readable summary ``sigint extract`` prints."""
        from ..report.extract_report import extract_summary

        return extract_summary(self)

    def __repr__(self) -> str:
        from ..report.html import extract_repr

        return extract_repr(self)

    def _repr_html_(self) -> str:
        from ..report.html import extract_html

        return extract_html(self)

    @property
    def l_external(self) -> np.ndarray:
        r"""External (high-frequency) inductance :math:`L_{ext} = \mu_0\varepsilon_0
        C_0^{-1}`, H/m, shape (n, n): the current on the conductors' surfaces, from the
        vacuum capacitance (exact for TEM lines, REFERENCES.md E10)."""
        return MU0 * EPS0 * np.linalg.inv(self.c0)

    def to_dataset(self):
        """The RLGC matrices as an :class:`xarray.Dataset`."""
        import xarray as xr

        names = np.array(self.names, dtype=str)
        dims = ("frequency", "i", "j")
        ds = xr.Dataset(
            {
                "R": (dims, self.r, {"units": "ohm/m", "long_name": "resistance per unit length"}),
                "L": (dims, self.l, {"units": "H/m", "long_name": "inductance per unit length"}),
                "G": (dims, self.g, {"units": "S/m", "long_name": "conductance per unit length"}),
                "C": (dims, self.c, {"units": "F/m", "long_name": "capacitance per unit length"}),
                "C_vacuum": (("i", "j"), self.c0, {
                    "units": "F/m", "long_name": "capacitance with every dielectric replaced by vacuum"}),
                "L_external": (("i", "j"), self.l_external, {
                    "units": "H/m", "long_name": "external (high-frequency) inductance "
                    "mu0 eps0 C_vacuum^-1"}),
            },
            coords={"frequency": ("frequency", self.f, {"units": "Hz"}),
                    "i": ("i", names), "j": ("j", names)},
            attrs={
                "title": f"sigint extract {self.geometry.source}",
                "cross_section": self.geometry.name,
                "source": str(self.geometry.source),
                "backend": self.backend.name,
                "reference": ", ".join(self.geometry.references) or "ground plane",
                "bem_unknowns": self.bem_unknowns,
                "peec_filaments": (self.peec_unknowns if self.peec is None
                                   or self.peec.unknowns_what == "filaments"
                                   else 0 if self.peec.fil is None else self.peec.fil.n),
                "rl_basis": _rl_basis_text(self.peec, self.peec_unknowns),
                "cg_basis": _basis_text(None if self.bem is None
                                        else self.bem.reduced_unknowns,
                                        self.bem_unknowns, "panels"),
                "bem_frequencies_hz": np.asarray(self.bem_frequencies, dtype=float),
                "cg_interpolation_rel_error": -1.0 if self.interpolation_error is None
                else float(self.interpolation_error),
                "rl_interpolation_rel_error": (
                    float(self.peec.interpolation_error)
                    if getattr(self.peec, "interpolation_error", None) is not None else -1.0),
                "notes": "\n".join(self.notes),
            },
        )
        return ds


def _basis_text(reduced: int | None, total: int, what: str) -> str:
    """How a solver's unknowns were taken, for the dataset's attributes."""
    if reduced is None:
        return f"full: every one of {total} {what}"
    return f"reduced: {reduced} unknowns (see sigint.extract.reduced) for {total} {what}"


def _rl_basis_text(solver, unknowns: int) -> str:
    """How R and L were solved, for the dataset's attributes."""
    if isinstance(solver, MultipoleSolver):
        return (f"multipole: order {solver.order}, {solver.unknowns} coefficients for "
                f"{solver.radius.size} round conductors (see sigint.extract.multipole)")
    if isinstance(solver, SurfaceSolver):
        return (f"surface: {solver.unknowns} boundary panels above "
                f"{solver.f_cross / 1e9:.4g} GHz, "
                + (f"{solver.fil.n} filaments" if solver.fil is not None else "filaments")
                + " below (see sigint.extract.surface)")
    return _basis_text(solver.reduced["unknowns"] if solver is not None and solver.reduced
                       else None, unknowns, "filaments")


def _bem_samples(f: np.ndarray) -> np.ndarray:
    pos = f[f > 0]
    lo, hi = float(pos.min()), float(pos.max())
    if hi / lo < 1.0001:
        return np.array([lo])
    n = max(6, int(math.ceil(math.log10(hi / lo) * BEM_PER_DECADE)) + 1)
    return np.geomspace(lo, hi, n)


def extract(
    source: CrossSection | Geometry | str | Path,
    f: np.ndarray | str,
    *,
    refine: float = 1.0,
    backend: Backend | None = None,
    measure_interpolation: bool = True,
    progress: Callable[[str], None] | None = None,
    basis: str = "auto",
) -> ExtractResult:
    """Extract R, L, G, C of every signal conductor against the reference.

    Parameters
    ----------
    source : CrossSection, Geometry, or path to a YAML file
        The cross-section.
    f : ndarray or str
        Frequencies, Hz (or a ``--freq`` string such as ``"1MHz:100GHz:201"``).
    refine : float
        Mesh refinement on top of the file's ``mesh.refine`` (2 halves panel and filament
        sizes; use it to check convergence).
    backend : Backend, optional
        Compute backend for the dense solves.
    measure_interpolation : bool
        Whether to spend extra BEM solves measuring the C/G interpolation error.
    progress : callable, optional
        Called with stage names.
    basis : {"auto", "full", "reduced", "multipole", "surface"}
        Unknowns of the field solvers: every boundary panel and filament (``full``), or a
        reduced basis per cluster of them (``reduced``, :mod:`sigint.extract.reduced`: the
        same C and G to about 1e-9 and R and L to about 1e-5, much faster on dense buses);
        ``multipole`` solves R and L of solid round conductors without filaments
        (:mod:`sigint.extract.multipole`: exact interior at any skin depth, expansions to
        :data:`sigint.extract.multipole.ORDER_TOL`; C and G as ``auto``); ``surface`` solves
        R and L of thick conductors from their boundaries above a crossover frequency
        (:mod:`sigint.extract.surface`: exact interior, unknowns on the surface only;
        filaments below the crossover; C and G as ``auto``). ``auto`` takes the
        multipole solver wherever it applies (:func:`sigint.extract.multipole.applies`),
        the surface solver where every conductor is many skin depths thick
        (:func:`sigint.extract.surface.surface_pays`, numpy backend only),
        reduces the conductor block of at least
        :data:`sigint.extract.bem.REDUCED_MIN_PANELS` panels and meshes of at least
        :data:`sigint.extract.peec.REDUCED_MIN_FILAMENTS` filaments of conductors at most a few
        skin depths thick (:func:`sigint.extract.peec._reduce_pays`).

    Returns
    -------
    ExtractResult

    Raises
    ------
    InputError
        For a cross-section that cannot be read or frequencies that are not a list.
    """
    say = progress or (lambda _s: None)
    backend = backend or get_backend()
    t0 = time.perf_counter()
    geo = _geometry(source)
    freqs = (parse_frequencies(f) if isinstance(f, str)
             else check_frequencies(np.asarray(f, dtype=float)))
    timings: dict[str, float] = {"resolve": time.perf_counter() - t0}
    notes: list[str] = []
    say("boundary elements (C, G)")
    t1 = time.perf_counter()
    bem_task = tasks.begin("boundary elements (C, G)")
    tasks.stage("assembling")
    bem = BemSolver(geo, refine, xp=backend.xp,
                    method=basis if basis in ("full", "reduced") else "auto")
    c0 = bem.solve_vacuum()
    cre, gow, fs, err = _capacitance_conductance(bem, geo, freqs, measure_interpolation, notes)
    if bem.reduced_unknowns is not None:
        notes.append(f"C and G: conductor charges on a reduced basis of {bem.reduced_unknowns} "
                     f"unknowns for {bem.cond_rows.size} panels (--basis full solves every "
                     "panel)")
    cmat, gmat = _symmetric_cg(cre, gow, freqs, notes)
    timings["bem"] = time.perf_counter() - t1
    tasks.end(bem_task)
    say("R and L")
    t2 = time.perf_counter()
    f_top = float(freqs.max())
    if basis in ("auto", "multipole") and multipole_applies(geo):
        with tasks.task("multipole expansions (R, L)"):
            peec = MultipoleSolver(geo, refine)
        notes.append(f"R and L: multipole expansions of order {peec.order} about each of "
                     f"{len(geo.conductors)} round conductors, exact interior (Bessel "
                     "functions) at every frequency, no filaments (--basis full meshes "
                     "filaments)")
    elif (basis == "surface" and surface_applies(geo) and f_top > surface_crossover(geo)) or (
            basis == "auto" and backend.xp is np and surface_pays(geo, f_top)):
        with tasks.task("surface panels (R, L)"):
            peec = SurfaceSolver(geo, f_top, refine)
    else:
        with tasks.task("filaments (R, L)"):
            peec = PeecSolver(geo, f_top, refine, xp=backend.xp,
                              method=basis if basis in ("full", "reduced") else "auto")
        reason = multipole_why_not(geo)
        if basis == "multipole":
            notes.append("R and L: filaments (--basis multipole needs solid round conductors "
                         "only, at most a ground plane, none nearly touching"
                         + (f": {reason})" if reason else ")"))
        elif basis == "surface":
            why = surface_why_not(geo)
            notes.append(f"R and L: filaments (--basis surface does not apply: {why})" if why
                         else "R and L: filaments (--basis surface: no frequency above its "
                         f"crossover, {surface_crossover(geo) / 1e9:.4g} GHz, where every "
                         "conductor is at least a skin depth thick; below it filaments are small)")
        elif basis == "auto" and reason:
            notes.append(f"R and L: filaments, not multipole expansions ({reason})")
    if peec.reduced is not None:
        r = peec.reduced
        notes.append(f"R and L: reduced basis of {r['unknowns']} unknowns for {peec.fil.n} "
                     f"filaments in {r['clusters']} clusters (relative tolerance {r['tol']:g}; "
                     "--basis full solves every filament)")
    elif basis == "reduced":
        notes.append("R and L: every filament solved (--basis reduced does not apply to "
                     "perfect conductors and zero-thickness strips)" if peec.sheets is not None
                     else "R and L: every filament solved (--basis reduced needs the numpy "
                     "backend)")
    timings["peec_setup"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    rmat, lmat = _resistance_inductance(peec, geo, freqs, notes)
    if isinstance(peec, SurfaceSolver):
        notes.append(surface_note(peec, freqs))
    if isinstance(peec, MultipoleSolver) and peec.interpolation_error is not None:
        notes.append(f"R and L: the multipoles' proximity term solved at {peec.sampled} "
                     f"frequencies and interpolated in log f (cubic spline); interpolation "
                     f"error {peec.interpolation_error:.1e} of the largest inductance, measured "
                     "half-way between samples")
    timings["peec_solve"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return ExtractResult(
        geometry=geo, f=freqs, r=rmat, l=lmat, g=gmat, c=cmat, c0=c0, backend=backend,
        bem_unknowns=bem.unknowns, peec_unknowns=peec.unknowns, bem_frequencies=fs,
        interpolation_error=err, timings=timings, notes=notes, bem=bem, peec=peec,
        stages=extract_stages(backend, reduced_rl=peec.reduced is not None
                              or isinstance(peec, (MultipoleSolver, SurfaceSolver))))


def _geometry(source: CrossSection | Geometry | str | Path) -> Geometry:
    """The resolved geometry of a cross-section file, a :class:`CrossSection` or a
    :class:`Geometry` (returned as it is)."""
    if isinstance(source, (str, Path)):
        return resolve(load_cross_section(source), source)
    if isinstance(source, CrossSection):
        return resolve(source)
    return source


def _capacitance_conductance(bem: BemSolver, geo: Geometry, freqs: np.ndarray,
                             measure_interpolation: bool, notes: list[str]):
    """C and G/omega at every frequency, by the cheapest of three ways.

    Exact low-rank updates when few interface panels touch a frequency-dependent material
    (and that costs less than sampling), spline interpolation in log f between BEM solves at
    :data:`BEM_PER_DECADE` frequencies per decade otherwise, one solve when no dielectric
    depends on frequency. Appends what was done to *notes*.

    Returns
    -------
    c, g_over_omega : ndarray, shape (F, n, n)
        F/m and S/(m rad/s) (unsymmetrised).
    fs : ndarray
        The frequencies the BEM solved at, Hz.
    err : float or None
        Measured relative interpolation error (0 where nothing is interpolated, None where
        not measured).
    """
    k = bem.varying.size
    n_pos = int((freqs > 0).sum())
    exact_cost = n_pos * (k ** 3 / 3 + k * k * len(geo.signals)) + bem.unknowns ** 3
    sampled_cost = (1.5 * _bem_samples(freqs).size + 1) * bem.unknowns ** 3 / 3
    if geo.frequency_dependent_dielectrics and k <= EXACT_RANK and exact_cost <= sampled_cost:
        return _cg_updated(bem, geo, freqs, notes)
    if geo.frequency_dependent_dielectrics:
        return _cg_interpolated(bem, freqs, measure_interpolation, notes)
    fs = np.array([1e9])
    cc1 = bem.solve(1e9)
    cre = np.broadcast_to(cc1.real, (freqs.size,) + cc1.shape).copy()
    gow = np.broadcast_to(-cc1.imag, (freqs.size,) + cc1.shape).copy()
    notes.append("dielectrics are frequency-independent: C and G/omega from one BEM solve")
    return cre, gow, fs, 0.0


def _cg_updated(bem: BemSolver, geo: Geometry, freqs: np.ndarray, notes: list[str]):
    """C and G/omega exact at every frequency: one factorisation, a rank-k update each."""
    pos = freqs > 0
    fref = float(np.sqrt(freqs[pos].min() * freqs[pos].max()))
    bem.factor(fref)
    cc = np.empty((freqs.size, len(geo.signals), len(geo.signals)), dtype=complex)
    for k, fk in enumerate(tasks.track(freqs, f"{bem.unknowns} unknowns, frequencies")):
        cc[k] = bem.solve(max(fk, freqs[pos].min()))
    notes.append(f"C and G solved at every frequency ({bem.varying.size} interface panels "
                 "touch a frequency-dependent material: one factorisation and a low-rank "
                 "update per frequency)")
    if np.any(~pos):
        notes.append("at 0 Hz C and G/omega are those of the lowest frequency")
    return cc.real, -cc.imag, freqs[pos], 0.0


def _cg_interpolated(bem: BemSolver, freqs: np.ndarray, measure_interpolation: bool,
                     notes: list[str]):
    """C and G/omega solved at a few frequencies per decade and interpolated (cubic spline
    in log f); the error measured by solves half-way between samples when asked."""
    fs = _bem_samples(freqs)
    cc = np.array([bem.solve(fk) for fk in tasks.track(fs, f"{bem.unknowns} unknowns, frequencies")])
    cre = spline_log(fs, cc.real, freqs)
    gow = spline_log(fs, -cc.imag, freqs)           # G / omega
    err = None
    if measure_interpolation and fs.size > 2:
        mids = np.sqrt(fs[:-1] * fs[1:])
        pick = mids[:: max(1, mids.size // 4)]
        ref = np.array([bem.solve(fk) for fk in tasks.track(pick, "interpolation check")])
        est_c = spline_log(fs, cc.real, pick)
        est_g = spline_log(fs, -cc.imag, pick)
        # relative to the largest entry at the same frequency (G/omega of a lossy
        # substrate varies by orders of magnitude across the band)
        scale_c = np.abs(ref.real).max(axis=(1, 2), keepdims=True)
        scale_g = np.maximum(np.abs(ref.imag).max(axis=(1, 2), keepdims=True), 1e-300)
        err = float(max((np.abs(est_c - ref.real) / scale_c).max(),
                        (np.abs(est_g + ref.imag) / scale_g).max()))
    interp = f"; interpolation error {err:.2g} (relative, measured half-way)" if err is not None else ""
    notes.append(f"C and G/omega solved at {fs.size} frequencies ({BEM_PER_DECADE} per decade) "
                 "and interpolated in log f" + interp if fs.size > 1 else
                 f"C and G/omega solved at {fs[0] / 1e9:.4g} GHz and held constant (one frequency)")
    below = freqs < fs[0]
    if np.any(below & (freqs > 0)):
        notes.append("below the lowest BEM frequency C and G/omega are held constant")
    return cre, gow, fs, err


def _symmetric_cg(cre: np.ndarray, gow: np.ndarray, freqs: np.ndarray,
                  notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """C (F/m) and G = omega (G/omega) (S/m), each the symmetric part of the solve's."""
    w = 2 * np.pi * freqs
    # Collocation leaves C and G asymmetric at the level of the discretisation error
    # (~1e-3); reciprocity requires symmetric matrices, so their symmetric part is used.
    asym = float(np.abs(cre - np.swapaxes(cre, 1, 2)).max() / np.abs(cre).max())
    cmat = 0.5 * (cre + np.swapaxes(cre, 1, 2))
    gmat = 0.5 * (gow + np.swapaxes(gow, 1, 2)) * w[:, None, None]
    if asym > 0:
        notes.append(f"C and G symmetrised (largest asymmetry {asym:.1e} of the largest entry)")
    return cmat, gmat


def _resistance_inductance(peec: PeecSolver, geo: Geometry, freqs: np.ndarray,
                           notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """R (ohm/m, with the conductors' roughness) and L (H/m) at every frequency, shape
    (F, n, n); DC values at 0 Hz."""
    w = 2 * np.pi * freqs
    z = np.empty((freqs.size, len(geo.signals), len(geo.signals)), dtype=complex)
    pos = freqs > 0
    if pos.any():
        z[pos] = peec.solve(freqs[pos])
    rdc, ldc = peec.dc()
    rmat = z.real.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        lmat = z.imag / np.where(w > 0, w, 1.0)[:, None, None]
    if (~pos).any():
        rmat[~pos] = rdc
        lmat[~pos] = ldc
    rmat = _roughness(rmat, rdc, freqs, geo)
    if peec.sheets is not None:
        names = sorted({geo.conductors[k].name for k in peec.sheets[2].tolist()})
        notes.append(f"{', '.join(names)}: perfect conductor or zero-thickness strip, modelled "
                     "by a surface current with no resistance (give a strip a height and a "
                     "metal for its loss)")
    return rmat, lmat


def extract_stages(backend: Backend, reduced_rl: bool = False) -> dict[str, str]:
    """Where each stage of :func:`extract` runs on *backend*: only the dense BEM solve
    (``BemSolver.factor``) and the PEEC eigendecomposition (``peec._eigh``) take ``xp``;
    the assembly of both (O(N^2) closed forms), the vacuum solve, the per-frequency BEM
    updates and the PEEC frequency sweep run on the host, and so does the whole R, L solve
    when *reduced_rl* (the reduced filament system, :mod:`sigint.extract.reduced`, the
    multipole solver, :mod:`sigint.extract.multipole`, or the surface formulation,
    :mod:`sigint.extract.surface`: all host only)."""
    dev = "cupy" if backend.name == "cupy" else "numpy"
    return {"extract.bem_assembly": "numpy", "extract.bem_vacuum_solve": "numpy",
            "extract.bem_factor": dev, "extract.bem_frequency_updates": "numpy",
            "extract.peec_assembly": "numpy",
            "extract.peec_eigh": "numpy" if reduced_rl else dev,
            "extract.peec_frequency_sweep": "numpy"}


def _roughness(r: np.ndarray, rdc: np.ndarray, f: np.ndarray, geo: Geometry) -> np.ndarray:
    """Hammerstad-Jensen factor on the frequency-dependent part of R, per signal."""
    sig = [geo.conductor(n) for n in geo.signals]
    if not any(c.roughness > 0 for c in sig):
        return r
    k = np.stack([roughness_factor(f, c.conductivity, c.roughness) for c in sig], axis=1)
    kk = np.sqrt(k[:, :, None] * k[:, None, :])
    return rdc[None] + kk * (r - rdc[None])


def line_summary(res: ExtractResult, at: list[float]) -> dict:
    """Per line and for the first coupled pair: Z0, eps_eff, delay and loss at frequencies.

    Single-line figures use the diagonal terms (each line alone in the presence of the
    others, held at the reference); the pair's even and odd modes use the 2x2 block of the
    first two signals (exact for a symmetric pair).
    """
    f = res.f
    out = {"frequencies_hz": [], "lines": {}, "pair": None}
    idx = [int(np.argmin(np.abs(f - x))) for x in at]
    out["frequencies_hz"] = [float(f[k]) for k in idx]
    zz = res.r + 1j * 2 * np.pi * f[:, None, None] * res.l
    yy = res.g + 1j * 2 * np.pi * f[:, None, None] * res.c

    def figures(z, y, fk):
        w = 2 * np.pi * fk
        gam = np.sqrt(z * y)
        z0 = np.sqrt(z / y)
        beta, alpha = gam.imag, gam.real
        return {"z0_ohm": float(abs(z0)), "eps_eff": float((C0 * beta / w) ** 2),
                "delay_ps_per_mm": float(beta / w * 1e9), "loss_db_per_mm": float(8.685889638 * alpha * 1e-3)}

    for n_i, name in enumerate(res.names):
        out["lines"][name] = [figures(zz[k, n_i, n_i], yy[k, n_i, n_i], f[k]) if f[k] > 0 else None
                              for k in idx]
    if len(res.names) >= 2:
        a, b = 0, 1
        pair = {"lines": [res.names[a], res.names[b]], "even": [], "odd": []}
        for k in idx:
            if f[k] <= 0:
                pair["even"].append(None)
                pair["odd"].append(None)
                continue
            pair["even"].append(figures(zz[k, a, a] + zz[k, a, b], yy[k, a, a] + yy[k, a, b], f[k]))
            pair["odd"].append(figures(zz[k, a, a] - zz[k, a, b], yy[k, a, a] - yy[k, a, b], f[k]))
        out["pair"] = pair
    return out

