"""The channel file: a whole die-to-die link in one YAML file.

.. code-block:: yaml

    name: UCIe advanced package, 2 mm silicon interposer, x16 slice
    link: {rate: 16 GT/s, spec: ucie, package: advanced}
    lanes:
      pitch: 45 um                  # bump pitch along the die edge (and inwards)
      map: [SGSGSGSG, GSGSGSGS, ...]   # bump map, S = signal lane, G = ground
    frequencies: 0:100GHz:2001
    segments:                       # from the Tx die to the Rx die
      - {type: bump, diameter: 25 um, height: 20 um}
      - {type: trace, xsection: xsections/si_interposer_bus16.yaml, length: 2 mm}
      - {type: bump, diameter: 25 um, height: 20 um}

Lanes are the S entries of the bump map in reading order (row by row); every segment must
carry the same number of signals, in the same order. The bump map's grounds are the return
of the vertical segments; a trace's return is its cross-section's reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from ..errors import InputError
from ..schema import SigintModel, validate
from ..xsection.schema import PosLength
from ..xsection.schema import unit_validator as _q

__all__ = ["Channel", "load_channel", "TraceSegment", "VerticalSegment", "TouchstoneSegment",
           "LinkSpec", "Lanes", "VERTICAL_DEFAULTS", "PLAUSIBLE", "plausibility_warnings"]


class _FileModel(SigintModel):
    """File models: defaults are SI values already, so they skip the unit parsers."""

    model_config = ConfigDict(**{**SigintModel.model_config, "validate_default": False})


Rate = Annotated[float, _q("rate"), Field(gt=0)]
Resistance = Annotated[float, _q("resistance"), Field(gt=0)]
OpenResistance = Annotated[float | None, _q("resistance", allow=("open",))]
Capacitance = Annotated[float, _q("capacitance"), Field(ge=0)]
Voltage = Annotated[float, _q("voltage"), Field(gt=0)]
Time = Annotated[float, _q("time"), Field(ge=0)]


class TxSpec(_FileModel):
    """Transmitter of the link (units required); unset fields come from the spec."""

    r: Resistance | None = None
    c_pad: Capacitance | None = None
    swing: Voltage | None = None
    rise_time: Time | None = None
    rj: Time | None = None
    dj: Time | None = None


class RxSpec(_FileModel):
    """Receiver of the link; ``r: open`` for an unterminated receiver."""

    r: OpenResistance = Field(None, description="termination, or 'open'")
    c_pad: Capacitance | None = None
    noise: Voltage | None = None
    dfe_taps: int | None = Field(None, ge=0, le=64)


class LinkSpec(_FileModel):
    """Rate, spec and Tx/Rx of the link."""

    rate: Rate
    spec: str = Field("ucie", description="ucie, ucie-3d, bow, aib, none or a spec file "
                                           "(YAML, relative to the channel file)")
    package: Literal["advanced", "standard", "standard-unterminated"] = "advanced"
    ber: float | None = Field(None, gt=0, lt=0.5)
    tx: TxSpec = Field(default_factory=TxSpec)
    rx: RxSpec = Field(default_factory=RxSpec)


    @field_validator("spec")
    @classmethod
    def _spec(cls, v: str) -> str:
        from ..specs.library import BUILTIN_SPECS

        low = v.strip().lower()
        if low in BUILTIN_SPECS or low == "none":
            return low
        if low.endswith((".yaml", ".yml")):
            return v
        raise ValueError(f"unknown spec; use one of {', '.join(BUILTIN_SPECS)}, none, or a "
                         "spec file (.yaml) beside the channel file")


class Lanes(_FileModel):
    """The bump map: rows of S (signal lane) and G (ground), the first row at the die edge."""

    map: list[str] = Field(min_length=1)
    pitch: PosLength
    pitch_y: PosLength | None = None

    @field_validator("map")
    @classmethod
    def _rows(cls, rows: list[str]) -> list[str]:
        rows = [r.replace(" ", "").upper() for r in rows]
        if any(set(r) - {"S", "G"} for r in rows):
            raise ValueError("bump map rows may only hold S (signal) and G (ground)")
        if len({len(r) for r in rows}) != 1:
            raise ValueError("every bump map row must have the same number of bumps")
        if not any("S" in r for r in rows):
            raise ValueError("the bump map has no signal (S)")
        return rows

    @property
    def n_lanes(self) -> int:
        return sum(r.count("S") for r in self.map)

    @property
    def width(self) -> float:
        """Extent along the die edge, m (columns x pitch)."""
        return len(self.map[0]) * self.pitch

    @property
    def depth(self) -> float:
        """Extent inwards from the die edge, m (rows x pitch)."""
        return len(self.map) * (self.pitch_y or self.pitch)


class TraceSegment(_FileModel):
    """A multiconductor trace: a cross-section (file, relative to the channel file, or
    inline) and a length."""

    type: Literal["trace"]
    name: str | None = None
    xsection: str | dict
    length: PosLength
    refine: float = Field(1.0, gt=0.1, le=16)


VERTICAL_DEFAULTS = {
    "bump": {"material": "solder", "fill": "underfill"},
    "c4": {"material": "solder", "fill": "underfill"},
    "hybrid_bond": {"material": "cu", "fill": "sio2"},
    "tsv": {"material": "cu", "fill": "si"},
    "via": {"material": "cu", "fill": "sio2"},
}


class Liner(_FileModel):
    thickness: PosLength
    material: str = "sio2"


class VerticalSegment(_FileModel):
    """An array of round vertical conductors laid out like the bump map.

    Their filament mesh is coarser than a trace's by default (12 filaments around, first
    layer half a skin depth): a bump or via is short and its resistance a small part of
    the channel's; ``mesh`` overrides it.
    """

    type: Literal["bump", "c4", "hybrid_bond", "tsv", "via"]
    name: str | None = None
    diameter: PosLength
    height: PosLength
    pitch: PosLength | None = None
    material: str | None = None
    fill: str | None = None
    liner: Liner | None = None
    materials: dict = Field(default_factory=dict)
    refine: float = Field(1.0, gt=0.1, le=16)
    mesh: dict = Field(default_factory=lambda: {"sectors": 12, "skin_fraction": 0.5, "growth": 1.5})


class TouchstoneSegment(_FileModel):
    """An existing Touchstone file (2N ports, scikit-rf order unless ``thru`` says)."""

    type: Literal["touchstone"]
    name: str | None = None
    file: str
    thru: list[str] | None = None


Segment = Annotated[TraceSegment | VerticalSegment | TouchstoneSegment,
                    Field(discriminator="type")]


class Channel(_FileModel):
    """A die-to-die channel: link, lanes, frequencies and segments from Tx to Rx."""

    name: str = "channel"
    description: str = ""
    link: LinkSpec
    lanes: Lanes
    frequencies: str = "0:100GHz:2001"
    segments: list[Segment] = Field(min_length=1)
    reference_impedance: Annotated[float, _q("resistance"), Field(gt=0)] = 50.0


def _segment_type_error(data: dict, src: str) -> None:
    """A clear sentence for an unknown segment type (pydantic's union error is cryptic)."""
    known = ("trace", "bump", "c4", "hybrid_bond", "tsv", "via", "touchstone")
    for i, seg in enumerate(data.get("segments") or []):
        if isinstance(seg, dict):
            t = seg.get("type")
            if t is None:
                raise InputError(f"{src}: segments[{i}].type: missing; give one of {', '.join(known)}")
            if t not in known:
                raise InputError(f"{src}: segments[{i}].type = {t!r}: unknown segment type; use "
                                 f"one of {', '.join(known)}")


def load_channel(path: str | Path) -> tuple[Channel, Path]:
    """Read and validate a channel file; returns the model and its directory."""
    from ..io.yamlfile import load_mapping

    p = Path(path)
    data = load_mapping(p, "name, link, lanes, segments")
    _segment_type_error(data, str(p))
    return validate(Channel, data, source=p), p.parent


#: Sizes met in die-to-die packaging, m: (smallest, largest). Outside them a value is most
#: likely a unit slip (``4 mm`` for ``4 um``), and the extraction it starts can take minutes.
PLAUSIBLE = {
    "lanes.pitch": (1e-6, 1e-3),          # hybrid bonds ~1-10 um ... C4 bumps ~150-250 um
    "diameter": (0.5e-6, 0.5e-3),         # hybrid-bond pads ... C4 balls
    "height": (0.1e-6, 2e-3),             # bond layers ... substrate vias
    "pitch": (1e-6, 1e-3),
    "liner.thickness": (1e-9, 20e-6),
    "length": (1e-6, 0.3),                # a trace: micrometres to a 300 mm board route
}


def plausibility_warnings(ch: Channel) -> list[str]:
    """Sentences for sizes outside :data:`PLAUSIBLE` (with the value and the usual range).

    Checked before any extraction starts, so a unit slip costs a warning, not minutes.
    """
    from ..units import format_quantity

    out = []

    def check(where: str, key: str, value: float | None) -> None:
        if value is None:
            return
        lo, hi = PLAUSIBLE[key]
        if not lo <= value <= hi:
            out.append(f"{where} = {format_quantity(value, 'm')} is outside the sizes met in "
                       f"packaging ({format_quantity(lo, 'm')} to {format_quantity(hi, 'm')}); "
                       "check its unit (um or mm?)")

    check("lanes.pitch", "lanes.pitch", ch.lanes.pitch)
    check("lanes.pitch_y", "lanes.pitch", ch.lanes.pitch_y)
    for i, seg in enumerate(ch.segments):
        w = f"segments[{i}]"
        if isinstance(seg, VerticalSegment):
            check(f"{w}.diameter", "diameter", seg.diameter)
            check(f"{w}.height", "height", seg.height)
            check(f"{w}.pitch", "pitch", seg.pitch)
            if seg.liner is not None:
                check(f"{w}.liner.thickness", "liner.thickness", seg.liner.thickness)
        elif isinstance(seg, TraceSegment):
            check(f"{w}.length", "length", seg.length)
    return out
