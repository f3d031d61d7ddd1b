"""Spec library: spec rows as data files, loaded into frozen, strictly keyed models.

Every spec sigint checks against is a YAML file of the same schema, whether it ships with
the package (``sigint/specs/data/*.yaml``: UCIe 3.0, UCIe-3D, BoW, AIB 2.0, each value
cited to its clause in ``clauses``) or a user writes it (``--spec FILE.yaml``; HBM masks,
say, which JEDEC does not publish). Values carry their units (``40 mV``, ``0.75 UI``,
``25 ohm``, ``-3 dB``); a bare number where a unit belongs is refused, as is an unknown
key, each in one sentence naming the file, field, value and fix (:func:`load_spec_file`).

.. code-block:: yaml

    spec: HBM3 (user)
    title: HBM3 data lines, user-written mask
    user_written: true
    forwarded_clock: true            # lanes of a bus share a clock: FEXT is synchronous
    rows:
      - rate_range: {min: 1 GT/s, max: 12 GT/s}   # continuous (or rates: [4 GT/s, 8 GT/s])
        ber: 1e-15
        tx: {r: 40 ohm, c_pad: 0.5 pF, swing: 0.4 V}
        rx: {r: open, c_pad: 0.5 pF}
        eye_mask: {shape: rectangle, height: 60 mV, width: 0.5 UI}
        loss_mask: [[0 GHz, 0 dB], [6.4 GHz, -6 dB]]     # optional: loss stays above
        crosstalk_mask: [[0 GHz, -25 dB], [6.4 GHz, -25 dB]]  # optional: XT stays below
        equalization: {tx_de_emphasis: [0 dB, -3 dB], ctle: {form: com, dc_gains: [0 dB, -3 dB]}}

A row of a spec with discrete rates covers the rates it lists; a rate between two rows
is checked against the next faster row (and says so).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import SpecError
from ..link.txrx import Rx, Tx, bow_reference_ctle, reference_ctle  # noqa: F401 (re-exported)
from ..schema import SigintModel, validate
from ..units import parse_quantity
from ..xsection.schema import unit_validator as _q
from . import BUILTIN_SPECS

__all__ = ["SpecFile", "SpecRow", "load_spec", "load_spec_file", "resolve_spec",
           "BUILTIN_SPECS", "DATA_DIR", "reference_ctle", "bow_reference_ctle"]

DATA_DIR = Path(__file__).with_name("data")


Rate = Annotated[float, _q("rate"), Field(gt=0)]
Res = Annotated[float, _q("resistance"), Field(gt=0)]
OpenRes = Annotated[float | None, _q("resistance", allow=("open",))]
Cap = Annotated[float, _q("capacitance"), Field(ge=0)]
Volt = Annotated[float, _q("voltage"), Field(gt=0)]
SignedVolt = Annotated[float, _q("voltage")]
Ui = Annotated[float, _q("ui")]
PosUi = Annotated[float, _q("ui"), Field(gt=0, le=1)]
Db = Annotated[float, _q("ratio_db")]
Freq = Annotated[float, _q("frequency"), Field(ge=0)]
Time = Annotated[float, _q("time"), Field(ge=0)]


class _Model(SigintModel):
    pass


class TxModel(_Model):
    """Reference transmitter: Thevenin source behind ``r`` with pad capacitance."""

    r: Res
    c_pad: Cap = 0.0
    swing: Volt | None = None
    rise_time: Time | None = None
    rise_time_ui: PosUi | None = None


class RxModel(_Model):
    """Reference receiver: pad capacitance with termination ``r`` (or ``open``)."""

    r: OpenRes
    c_pad: Cap = 0.0

    @field_validator("r")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError("a termination must be above 0 ohm; give e.g. 50 ohm, or open "
                             "for none")
        return v


def _polygon_problem(pts: list[tuple[float, float]]) -> str | None:
    """Why *pts* (time UI, voltage V, in order) is not a simple polygon around the eye's
    centre (0, 0), or None. Shoelace area, segment crossings and a ray-casting test."""
    n = len(pts)
    area = 0.5 * sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1]
                     for i in range(n))
    span = (max(p[0] for p in pts) - min(p[0] for p in pts)) * \
        (max(p[1] for p in pts) - min(p[1] for p in pts))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def crosses(p1, p2, q1, q2):
        d1, d2 = cross(q1, q2, p1), cross(q1, q2, p2)
        d3, d4 = cross(p1, p2, q1), cross(p1, p2, q2)
        return d1 * d2 < 0 and d3 * d4 < 0

    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue                   # neighbouring edges share a corner
            if crosses(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                return (f"its edges cross (edge {i + 1} and edge {j + 1}); list the corners "
                        "in order around the mask")
    if abs(area) <= 1e-9 * span:
        return "its corners enclose no area (they lie on one line)"
    inside = False
    for i in range(n):
        (x1, y1), (x2, y2) = pts[i], pts[(i + 1) % n]
        if (y1 > 0) != (y2 > 0) and 0 < x1 + (0 - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    if not inside:
        return ("it does not contain the eye's centre (0 UI, 0 V), where the mask is "
                "placed; give corners around it")
    return None


class EyeMask(_Model):
    """Eye mask centred on 0 V: a rectangle or diamond (height x width) or a polygon.

    A polygon lists its corners as ``[time, voltage]`` pairs (``[-0.2 UI, 0 mV]``),
    time from the mask's centre, in order around it.
    """

    shape: Literal["rectangle", "diamond", "polygon"]
    height: Volt | None = None
    width: PosUi | None = None
    points: list[tuple[Ui, SignedVolt]] | None = None

    @model_validator(mode="after")
    def _complete(self) -> EyeMask:
        if self.shape == "polygon":
            if self.points is None or len(self.points) < 3:
                raise ValueError("a polygon mask needs points: at least three [time, voltage] "
                                 "corners like [[-0.2 UI, 0 mV], [0 UI, 30 mV], [0.2 UI, 0 mV], "
                                 "[0 UI, -30 mV]]")
            if self.height is not None or self.width is not None:
                raise ValueError("a polygon mask takes points only; its height and width "
                                 "follow from them (remove height/width)")
            xs = [p[0] for p in self.points]
            vs = [p[1] for p in self.points]
            if max(xs) - min(xs) <= 0 or max(vs) <= 0 or min(vs) >= 0:
                raise ValueError("the polygon must span some time and reach above and below "
                                 "0 V (the eye's centre line)")
            if max(xs) - min(xs) > 1.0 + 1e-12:
                raise ValueError("the polygon is wider than 1 UI; an eye is at most 1 UI wide")
            why = _polygon_problem([(float(x), float(v)) for x, v in self.points])
            if why:
                raise ValueError(f"the polygon mask is not usable: {why}")
        else:
            if self.height is None or self.width is None:
                raise ValueError(f"a {self.shape} mask needs height and width, like "
                                 "{shape: rectangle, height: 40 mV, width: 0.75 UI}")
            if self.points is not None:
                raise ValueError(f"a {self.shape} mask takes height and width, not points "
                                 "(use shape: polygon for points)")
        return self

    @property
    def mask_height(self) -> float:
        if self.shape == "polygon":
            vs = [p[1] for p in self.points]
            return max(vs) - min(vs)
        return self.height

    @property
    def mask_width(self) -> float:
        if self.shape == "polygon":
            xs = [p[0] for p in self.points]
            return max(xs) - min(xs)
        return self.width


class CrosstalkLine(_Model):
    """UCIe crosstalk limit :math:`\\min(a L(f_N) + b, c)` dB."""

    slope: float
    offset: Db
    cap: Db


class UcieVtf(_Model):
    """UCIe VTF masks (§5.7.2.1): loss line to ``loss_fn`` at fN, crosstalk line."""

    loss_fn: Db
    loss_dc: Db | None = None
    crosstalk: CrosstalkLine


class CtleSet(_Model):
    """Rx CTLE candidates: the form and the DC gains searched."""

    form: Literal["ucie-reference", "bow-reference", "com"]
    dc_gains: list[Db] = Field(min_length=1)
    bypass: bool = False

    @field_validator("dc_gains")
    @classmethod
    def _gains(cls, v: list[float]) -> list[float]:
        if any(not -30.0 <= g <= 0.0 for g in v):
            raise ValueError("CTLE DC gains lie between -30 dB and 0 dB")
        return v


class Dfe(_Model):
    """Ideal DFE: taps and the largest |h1/h0| the spec allows."""

    taps: int = Field(ge=1, le=64)
    h1_h0_max: float | None = Field(None, gt=0, lt=1)


class Equalization(_Model):
    """Equalization candidates the spec allows (the search keeps the best)."""

    tx_de_emphasis: list[Db] = Field(default_factory=list)
    tx_presets: dict[str, tuple[float, float, float]] = Field(default_factory=dict)
    ctle: CtleSet | None = None
    dfe: Dfe | None = None

    @field_validator("tx_de_emphasis")
    @classmethod
    def _de(cls, v: list[float]) -> list[float]:
        if any(d > 0 or d < -20 for d in v):
            raise ValueError("de-emphasis is between -20 dB and 0 dB, like [0 dB, -2.2 dB]")
        return v

    @field_validator("tx_presets")
    @classmethod
    def _presets(cls, v: dict) -> dict:
        for name, taps in v.items():
            if abs(sum(abs(t) for t in taps) - 1.0) > 1e-9:
                raise ValueError(f"preset {name} = {list(taps)}: the taps (C-1, C0, C+1) must "
                                 "have |C-1| + |C0| + |C+1| = 1")
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.tx_de_emphasis or self.tx_presets or self.ctle or self.dfe)


class RateRange(_Model):
    """A continuous range of rates."""

    min: Rate
    max: Rate

    @model_validator(mode="after")
    def _order(self) -> RateRange:
        if self.max < self.min:
            raise ValueError("max is below min; give min <= max")
        return self


def _curve_ok(v: list | None, what: str) -> list | None:
    if v is None:
        return v
    if len(v) < 2:
        raise ValueError(f"a {what} needs at least two [frequency, dB] points")
    fs = [p[0] for p in v]
    if any(b <= a for a, b in zip(fs, fs[1:])):
        raise ValueError(f"the {what}'s frequencies must increase, like [[0 GHz, 0 dB], "
                         "[8 GHz, -3 dB]]")
    return v


class Row(_Model):
    """One row of a spec: the rates it covers and what a channel must meet there."""

    name: str | None = None
    package: str = "default"
    rates: list[Rate] | None = None
    rate_range: RateRange | None = None
    ber: float | dict[str, float]
    tx: TxModel
    rx: RxModel
    eye_mask: EyeMask
    vtf: UcieVtf | None = None
    loss_mask: list[tuple[Freq, Db]] | None = None
    crosstalk_mask: list[tuple[Freq, Db]] | None = None
    equalization: Equalization = Field(default_factory=Equalization)
    skew: Annotated[float, _q("ui"), Field(gt=0)] | None = None
    clauses: dict[str, str] = Field(default_factory=dict)

    @field_validator("rates")
    @classmethod
    def _rates(cls, v):
        if v is not None and not v:
            raise ValueError("give at least one rate, like [16 GT/s]")
        return v

    @model_validator(mode="after")
    def _one_kind_of_rates(self) -> Row:
        if (self.rates is None) == (self.rate_range is None):
            raise ValueError("give either rates (a list, like [8 GT/s, 16 GT/s]) or rate_range "
                             "(like {min: 1 GT/s, max: 12 GT/s}), one of the two")
        if self.rates is not None:
            g = [round(r / 1e9, 9) for r in self.rates]
            if len(set(g)) != len(g):
                dup = next(x for x in g if g.count(x) > 1)
                raise ValueError(f"rates lists {dup:g} GT/s twice; list each rate once")
        if isinstance(self.ber, dict):
            keyed = {round(parse_quantity(k, "rate") / 1e9, 9): k for k in self.ber}
            if self.rates is not None:
                have = {round(r / 1e9, 9) for r in self.rates}
                missing = sorted(have - set(keyed))
                extra = sorted(set(keyed) - have)
                if missing:
                    raise ValueError(f"ber gives no BER at {', '.join(f'{x:g} GT/s' for x in missing)} "
                                     "(a rate of this row); give one per rate, or one number")
                if extra:
                    raise ValueError(f"ber names {keyed[extra[0]]!r}, not a rate of this row; "
                                     "give one BER per rate of the row, or one number")
        return self

    @property
    def span(self) -> RateRange | list[float]:
        return self.rates if self.rates is not None else self.rate_range

    @field_validator("ber")
    @classmethod
    def _ber(cls, v):
        vals = v.values() if isinstance(v, dict) else [v]
        for b in vals:
            if not 0 < b < 0.5:
                raise ValueError(f"BER {b!r} is not a probability between 0 and 0.5; give "
                                 "e.g. 1e-15")
        if isinstance(v, dict):
            for k in v:
                parse_quantity(k, "rate")
        return v

    @field_validator("loss_mask")
    @classmethod
    def _loss(cls, v):
        return _curve_ok(v, "loss mask")

    @field_validator("crosstalk_mask")
    @classmethod
    def _xt(cls, v):
        return _curve_ok(v, "crosstalk mask")


class Fact(_Model):
    """A cited number of the spec that is not a row (pitch groups, reach, density ...)."""

    value: Any
    unit: str = ""
    clause: str


class SpecFile(_Model):
    """A spec: its rows, where its numbers come from, and the choices made reading it."""

    spec: str
    title: str
    document: str = ""
    user_written: bool = False
    forwarded_clock: bool = False
    choices: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)
    definitions: list[Any] | None = Field(None, description="YAML anchors; not read")
    rows: list[Row] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SpecFile:
        kinds = {r.rate_range is not None for r in self.rows}
        if len(kinds) > 1:
            raise ValueError("rows mix discrete rates (rates) and continuous ranges "
                             "(rate_range); use one kind in a spec")
        spans: dict[str, list[tuple[float, float, str]]] = {}
        for k, r in enumerate(self.rows):
            lo, hi = ((r.rate_range.min, r.rate_range.max) if r.rate_range is not None
                      else (min(r.rates), max(r.rates)))
            name = r.name or f"rows[{k}]"
            for lo2, hi2, other in spans.get(r.package, []):
                if lo <= hi2 * (1 + 1e-9) and lo2 <= hi * (1 + 1e-9):
                    raise ValueError(f"rows {other!r} and {name!r} both cover "
                                     f"{max(lo, lo2) / 1e9:g} GT/s"
                                     + ("" if r.package == "default" else f" ({r.package})")
                                     + "; give each rate to one row")
            spans.setdefault(r.package, []).append((lo, hi, name))
        return self

    @property
    def continuous(self) -> bool:
        return self.rows[0].rate_range is not None

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.package for r in self.rows))

    def rates(self, package: str | None = None) -> tuple[float, ...]:
        """The discrete rates of *package*, symbols/s, ascending."""
        rows = self._rows(package)
        if self.continuous:
            return ()
        return tuple(sorted({x for r in rows for x in r.rates}))

    def top_rate(self, package: str | None = None, up_to: float | None = None) -> float | None:
        """The highest rate (symbols/s) a search of *package* tries: the top discrete rate
        at or below *up_to*, or the top of the continuous range capped at *up_to*; None
        when no rate is left."""
        if self.continuous:
            top = max(r.rate_range.max for r in self._rows(package))
            return top if up_to is None else min(top, up_to)
        rates = [r for r in self.rates(package)
                 if up_to is None or r <= up_to * (1 + 1e-9)]
        return max(rates) if rates else None

    def _rows(self, package: str | None) -> list[Row]:
        pkgs = self.packages
        if len(pkgs) == 1:
            return list(self.rows)
        if package not in pkgs:
            raise SpecError(f"--package {package!r}: unknown {self.spec} package; choose one "
                            f"of {', '.join(pkgs)}")
        return [r for r in self.rows if r.package == package]

    def row(self, rate: float, package: str | None = None) -> SpecRow:
        """The row for *rate* (symbols/s) of *package* (see the module's note).

        Raises
        ------
        SpecError
            For an unknown package or a rate outside the spec.
        """
        rows = self._rows(package)
        g = rate / 1e9
        if self.continuous:
            for r in rows:
                if r.rate_range.min * (1 - 1e-9) <= rate <= r.rate_range.max * (1 + 1e-9):
                    return SpecRow(self, r)
            lo = min(r.rate_range.min for r in rows) / 1e9
            hi = max(r.rate_range.max for r in rows) / 1e9
            raise SpecError(f"rate {g:g} GT/s: {self.spec} covers {lo:g}-{hi:g} GT/s; give a "
                            "rate in that range or --spec none")
        spans = [(min(r.rates) / 1e9, max(r.rates) / 1e9, r) for r in rows]
        for lo, hi, r in spans:
            if lo - 1e-9 <= g <= hi + 1e-9:
                return SpecRow(self, r)
        bottom = min(s[0] for s in spans)
        top = max(s[1] for s in spans)
        pkg = "" if len(self.packages) == 1 else f" {package}"
        if g > top + 1e-9:
            span = f"only {top:g} GT/s" if bottom == top else f"{bottom:g}-{top:g} GT/s"
            raise SpecError(f"rate {g:g} GT/s: the {self.spec}{pkg} table covers {span}; "
                            "give a rate in that range or --spec none")
        if g < bottom - 1e-9:
            raise SpecError(f"rate {g:g} GT/s: {self.spec}{pkg} starts at {bottom:g} GT/s; give "
                            f"a rate of at least {bottom:g} GT/s or --spec none")
        return SpecRow(self, min((s for s in spans if s[0] > g), key=lambda s: s[0])[2])


@dataclass(frozen=True)
class SpecRow:
    """One row of a :class:`SpecFile`, with the names the checks use (SI units, GT/s).

    Attributes
    ----------
    spec : SpecFile
        The spec it belongs to.
    data : Row
        The row as written.
    """

    spec: SpecFile
    data: Row

    # -- rates -----------------------------------------------------------------------
    @property
    def package(self) -> str:
        return self.data.package

    @property
    def lo(self) -> float:
        r = self.data.span
        return (r.min if isinstance(r, RateRange) else min(r)) / 1e9

    @property
    def hi(self) -> float:
        r = self.data.span
        return (r.max if isinstance(r, RateRange) else max(r)) / 1e9

    def pitch_groups(self) -> tuple[dict, str] | None:
        """The spec's bump-pitch groups for this row's package (``facts.pitch_groups_<package>``:
        ``{"25-30 um": 24, ...}``, highest GT/s per range) and their clause, or None."""
        fact = self.spec.facts.get(f"pitch_groups_{self.data.package}")
        return None if fact is None else (dict(fact.value), fact.clause)

    def ber_at(self, rate: float) -> float:
        """The row's raw BER at *rate* (the next listed rate at or above it)."""
        b = self.data.ber
        if not isinstance(b, dict):
            return float(b)
        table = sorted((parse_quantity(k, "rate"), v) for k, v in b.items())
        for r, v in table:
            if r >= rate * (1 - 1e-9):
                return float(v)
        return float(table[-1][1])

    # -- VTF -------------------------------------------------------------------------
    @property
    def has_vtf(self) -> bool:
        return self.data.vtf is not None

    @property
    def loss_fn_db(self) -> float | None:
        return None if self.data.vtf is None else self.data.vtf.loss_fn

    @property
    def loss_dc_db(self) -> float | None:
        return None if self.data.vtf is None else self.data.vtf.loss_dc

    @property
    def xt_slope(self) -> float | None:
        return None if self.data.vtf is None else self.data.vtf.crosstalk.slope

    @property
    def xt_offset(self) -> float | None:
        return None if self.data.vtf is None else self.data.vtf.crosstalk.offset

    @property
    def xt_cap(self) -> float | None:
        return None if self.data.vtf is None else self.data.vtf.crosstalk.cap

    def xt_limit_db(self, loss_fn_db: float) -> float:
        """Crosstalk limit for a channel whose loss at Nyquist is *loss_fn_db*, dB."""
        return min(self.xt_slope * loss_fn_db + self.xt_offset, self.xt_cap)

    # -- circuit ---------------------------------------------------------------------
    @property
    def tx_r(self) -> float:
        return self.data.tx.r

    @property
    def tx_c(self) -> float:
        return self.data.tx.c_pad

    @property
    def rx_r(self) -> float | None:
        return self.data.rx.r

    @property
    def rx_c(self) -> float:
        return self.data.rx.c_pad

    def tx(self, **overrides: object) -> Tx:
        """The Tx model of this row's reference circuit."""
        d = self.data.tx
        kw: dict[str, Any] = {"r": d.r, "c_pad": d.c_pad}
        if d.swing is not None:
            kw["swing"] = d.swing
        if d.rise_time is not None:
            kw["rise_time"] = d.rise_time
        if d.rise_time_ui is not None:
            kw["rise_time_ui"] = d.rise_time_ui
        kw.update(overrides)
        return Tx(**kw)

    def rx(self, **overrides: object) -> Rx:
        """The Rx model of this row's reference circuit (with the spec's DFE, if any)."""
        kw: dict[str, Any] = {"r": self.data.rx.r, "c_pad": self.data.rx.c_pad}
        dfe = self.data.equalization.dfe
        if dfe is not None:
            kw["dfe_taps"] = dfe.taps
            kw["dfe_limit"] = dfe.h1_h0_max
        kw.update(overrides)
        return Rx(**kw)

    # -- eye -------------------------------------------------------------------------
    @property
    def mask(self) -> EyeMask:
        return self.data.eye_mask

    @property
    def mask_shape(self) -> str:
        return self.data.eye_mask.shape

    @property
    def eye_height(self) -> float:
        return self.data.eye_mask.mask_height

    @property
    def eye_width(self) -> float:
        return self.data.eye_mask.mask_width

    @property
    def eq(self) -> bool:
        """Whether the spec evaluates the eye with equalization on."""
        return self.data.equalization.enabled

    @property
    def equalization(self) -> Equalization:
        return self.data.equalization

    @property
    def skew_ui(self) -> float | None:
        return self.data.skew

    @property
    def forwarded_clock(self) -> bool:
        return self.spec.forwarded_clock

    def clause(self, key: str) -> str:
        return self.data.clauses.get(key, "")

    @property
    def title(self) -> str:
        pkg = "" if self.package == "default" else f" {self.package} package"
        if self.spec.spec == "ucie":
            pkg = {"advanced": " advanced package", "standard": " standard package, terminated",
                   "standard-unterminated": " standard package, unterminated"}.get(
                self.package, pkg)
            name = "UCIe" + pkg
        elif self.data.name and self.data.name.startswith(self.spec.title):
            # a row the spec names itself (BoW-128, AIB 2.0 Gen2): that name, the mode
            name = self.data.name + pkg
            if "GT/s" in self.data.name:
                return name
        else:
            name = self.spec.title + pkg
        rng = f"{self.lo:g} GT/s" if self.lo == self.hi else f"{self.lo:g}-{self.hi:g} GT/s"
        return f"{name}, {rng}"


def load_spec_file(path: str | Path) -> SpecFile:
    """Read and validate a spec file.

    Raises
    ------
    InputError
        One sentence naming the file, field, value and fix for any mistake.
    """
    from ..io.yamlfile import load_mapping

    p = Path(path)
    data = load_mapping(p, "spec, title, rows")
    return validate(SpecFile, data, source=p)


@functools.cache
def _builtin(name: str) -> SpecFile:
    return load_spec_file(DATA_DIR / BUILTIN_SPECS[name])


@functools.lru_cache(maxsize=32)
def _user(path: str, mtime: float) -> SpecFile:
    sf = load_spec_file(path)
    if sf.spec.strip().lower() in (*BUILTIN_SPECS, "none") or sf.spec.strip().lower().startswith("ucie-"):
        raise SpecError(f"{path}: spec = {sf.spec!r} is the name of a shipped spec, so results "
                        "would read as if checked against it; give your spec its own name")
    return sf


def load_spec(name: str) -> SpecFile:
    """A shipped spec by name (:data:`BUILTIN_SPECS`) or a spec file by path."""
    key = name.strip().lower()
    if key in BUILTIN_SPECS:
        return _builtin(key)
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml"):
        if not p.is_file():
            raise SpecError(f"--spec {name}: no such spec file; give a spec name "
                            f"({', '.join(BUILTIN_SPECS)}, none) or an existing .yaml file")
        return _user(str(p.resolve()), p.stat().st_mtime)
    raise SpecError(f"--spec {name}: unknown spec; give one of {', '.join(BUILTIN_SPECS)}, none, "
                    "or a spec file (.yaml)")


def resolve_spec(name: str | None) -> SpecFile | None:
    """:func:`load_spec`, or None for ``none``."""
    if name is None or name.strip().lower() == "none":
        return None
    return load_spec(name)


