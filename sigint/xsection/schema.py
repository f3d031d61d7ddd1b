"""The cross-section file: a YAML description of a 2D multiconductor cross-section.

Every length carries its unit (``"2 um"``); conductivities ``"5.8e7 S/m"``; frequencies
``"10 GHz"``. Keys are strict: a misspelt key is an error that names it. See the README's
"Cross-section files" section for the format with examples; in short:

.. code-block:: yaml

    name: silicon interposer bus
    materials:                     # optional, in addition to the built-ins
      lossy_si: {eps_r: 11.9, conductivity: 10 S/m}
    stack:                         # planar layers, bottom to top; y = 0 at the bottom
      - {material: lossy_si, thickness: 100 um}
      - {material: sio2, thickness: 3 um}
      - {material: air}            # the top layer may extend upwards (no thickness)
    conductors:
      - {name: gnd, shape: rectangle, x: 0 um, y: 100 um, width: 120 um, height: 1 um}
    buses:
      - {name: s, pattern: GSSGSSG, pitch: 4 um, width: 2 um, height: 1 um,
         x: 0 um, y: 102 um}

Coordinates: ``x`` is the horizontal centre of a shape, ``y`` its bottom (rectangle,
trapezoid) or centre (circle).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ..errors import InputError
from ..schema import SigintModel, validate
from ..units import parse_quantity
from .materials import BUILTIN_MATERIALS, Material

__all__ = ["CrossSection", "load_cross_section", "unit_validator", "Rectangle", "Trapezoid", "Circle", "Ring",
           "Bus", "TsvArray", "Layer", "Shell", "Block", "GroundPlane", "TopPlane", "MeshSettings"]


def unit_validator(dimension: str, allow: tuple[str, ...] = ()):
    """A pydantic validator parsing ``"<number> <unit>"`` of *dimension* to SI.

    Words in *allow* (e.g. ``"open"``) become None; a bare 0 is accepted (it is zero in
    every unit); any other bare number is refused with the fix.
    """
    def conv(v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in allow:
            return None
        if isinstance(v, str):
            try:
                return parse_quantity(v, dimension)
            except InputError as exc:
                # pydantic puts the key path in front; keep our sentence (after 'value: ')
                raise ValueError(str(exc).split(": ", 1)[-1]) from None
        if isinstance(v, bool):
            raise ValueError(f"expected a {dimension.replace('_', ' ')} with its unit")
        if isinstance(v, (int, float)) and v == 0:
            return 0.0          # zero is zero in every unit
        if isinstance(v, (int, float)):
            raise ValueError(f"a bare number has no unit; write it with its unit, e.g. "
                             f"'{v} {_UNIT_HINT.get(dimension, '')}'".rstrip())
        return v
    return BeforeValidator(conv)


_q = unit_validator


_UNIT_HINT = {"length": "um", "conductivity": "S/m", "frequency": "GHz", "resistance": "ohm",
              "capacitance": "pF", "voltage": "mV", "time": "ps", "rate": "GT/s",
              "ratio_db": "dB", "ui": "UI"}

Length = Annotated[float, _q("length")]
PosLength = Annotated[float, _q("length"), Field(gt=0)]
NonNegLength = Annotated[float, _q("length"), Field(ge=0)]
Conductivity = Annotated[float, _q("conductivity"), Field(ge=0)]
Frequency = Annotated[float, _q("frequency"), Field(gt=0)]


class MaterialSpec(Material):
    """A material as written in a file: conductivity, roughness and f_ref carry units."""

    model_config = ConfigDict(**{**Material.model_config, "validate_default": False})

    conductivity: Conductivity = 0.0
    f_ref: Frequency = 1e9
    roughness: NonNegLength = 0.0


class Layer(SigintModel):
    """A planar layer of the stack."""

    material: str
    thickness: PosLength | None = None
    name: str | None = None


class _Shape(SigintModel):
    name: str
    x: Length
    material: str = "cu"
    reference: bool = False


class Rectangle(_Shape):
    """A rectangle: ``x`` centre, ``y`` bottom, ``width`` x ``height`` (0 height: a strip)."""

    shape: Literal["rectangle"]
    y: Length
    width: PosLength
    height: NonNegLength


class Trapezoid(_Shape):
    """An etched trace: ``bottom_width`` at ``y``, ``top_width`` at ``y + height``."""

    shape: Literal["trapezoid"]
    y: Length
    bottom_width: PosLength
    top_width: PosLength
    height: PosLength


class Circle(_Shape):
    """A round conductor (TSV, wire): centre (``x``, ``y``) and ``radius``."""

    shape: Literal["circle"]
    y: Length
    radius: PosLength


class Ring(_Shape):
    """A hollow round conductor (coax shield, TSV shield): centre, ``inner_radius`` and
    ``outer_radius``."""

    shape: Literal["ring"]
    y: Length
    inner_radius: PosLength
    outer_radius: PosLength

    @model_validator(mode="after")
    def _radii(self) -> Ring:
        if self.outer_radius <= self.inner_radius:
            raise ValueError("outer_radius must exceed inner_radius")
        return self


ConductorSpec = Annotated[Rectangle | Trapezoid | Circle | Ring, Field(discriminator="shape")]

_PATTERN = re.compile(r"^[SG]+$")


class Bus(SigintModel):
    """A row of rectangular (or trapezoidal) lines at a pitch, signal/ground per ``pattern``.

    Signals are named ``<name>1, <name>2, ...`` and grounds ``<name>_g1, ...`` left to right;
    grounds are references. ``x`` is the centre of the row, ``y`` the bottom of the lines.
    """

    name: str
    pattern: str
    pitch: PosLength
    width: PosLength
    height: PosLength
    x: Length = 0.0
    y: Length
    top_width: PosLength | None = None
    material: str = "cu"

    @field_validator("pattern")
    @classmethod
    def _pat(cls, v: str) -> str:
        v = v.replace(" ", "").upper()
        if not _PATTERN.match(v):
            raise ValueError("pattern must be a string of S (signal) and G (ground), e.g. "
                             "'GSSGSSG'")
        return v

    @model_validator(mode="after")
    def _fits(self) -> Bus:
        if max(self.width, self.top_width or 0) >= self.pitch:
            raise ValueError(f"width {self.width * 1e6:g} um does not fit the pitch "
                             f"{self.pitch * 1e6:g} um: neighbouring lines would overlap")
        return self


class Liner(SigintModel):
    """A concentric dielectric shell around each TSV of an array (oxide liner)."""

    thickness: PosLength
    material: str = "sio2"


class TsvArray(SigintModel):
    """A rows x cols array of round conductors at a pitch, centred on (``x``, ``y``).

    ``pattern`` lists the rows top to bottom with S and G (default: all signal; then a
    ground plane or an explicit reference must exist). Signals are named
    ``<name>_r<row>c<col>`` (1-based, row 1 at the top).
    """

    name: str
    rows: int = Field(ge=1, le=64)
    cols: int = Field(ge=1, le=64)
    pitch: PosLength
    radius: PosLength
    x: Length = 0.0
    y: Length = 0.0
    material: str = "cu"
    liner: Liner | None = None
    pattern: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> TsvArray:
        outer = self.radius + (self.liner.thickness if self.liner else 0.0)
        if 2 * outer >= self.pitch:
            raise ValueError(f"radius (with liner) {outer * 1e6:g} um does not fit the pitch "
                             f"{self.pitch * 1e6:g} um")
        if self.pattern is not None:
            rows = [r.replace(" ", "").upper() for r in self.pattern]
            if len(rows) != self.rows or any(len(r) != self.cols or not _PATTERN.match(r)
                                             for r in rows):
                raise ValueError(f"pattern must be {self.rows} strings of {self.cols} "
                                 "S/G letters, top row first")
        return self


class Shell(SigintModel):
    """A concentric dielectric shell around a round conductor (e.g. a TSV's oxide liner).

    Several shells around the same conductor stack outwards in the order listed.
    """

    shape: Literal["shell"]
    around: str
    thickness: PosLength
    material: str


class Block(SigintModel):
    """A rectangular dielectric region that replaces the stack where it lies."""

    shape: Literal["block"]
    x: Length
    y: Length
    width: PosLength
    height: PosLength
    material: str


RegionSpec = Annotated[Shell | Block, Field(discriminator="shape")]


class GroundPlane(SigintModel):
    """An infinite, perfectly conducting ground plane along y = ``y`` (the reference).

    Use a wide rectangle conductor instead when the plane's resistance matters.
    """

    y: Length = 0.0


class TopPlane(SigintModel):
    """A second infinite, perfectly conducting plane along y = ``y``, above the ground plane
    and every conductor (the upper ground of a stripline or a package); part of the
    reference. Needs ``ground_plane``."""

    y: Length


class MeshSettings(SigintModel):
    """Discretization controls (defaults suit 0.5 % accuracy; ``refine`` scales them)."""

    refine: float = Field(1.0, gt=0.05, le=16.0, description="multiplies panel/filament counts")
    panels_per_edge: int = Field(8, ge=2, le=400)
    panels_per_circle: int = Field(64, ge=8, le=4096)
    truncation: float = Field(300.0, ge=2.0, le=1e5,
                              description="stack interfaces extend this many times the "
                                          "conductor span beyond it")
    skin_fraction: float = Field(0.25, gt=0.01, le=2.0,
                                 description="outermost filament thickness / skin depth")
    growth: float = Field(1.3, ge=1.05, le=3.0,
                          description="filament size growth inwards from a surface")
    sectors: int | None = Field(None, ge=1, le=512,
                                description="filaments around a round conductor "
                                            "(default 32 x refine)")


class CrossSection(SigintModel):
    """A 2D cross-section: materials, stack, regions and conductors."""

    name: str = "cross-section"
    description: str = ""
    materials: dict[str, MaterialSpec] = Field(default_factory=dict)
    stack: list[Layer] = Field(default_factory=lambda: [Layer(material="air")], min_length=1)
    ground_plane: GroundPlane | None = None
    top_plane: TopPlane | None = None
    regions: list[RegionSpec] = Field(default_factory=list)
    conductors: list[ConductorSpec] = Field(default_factory=list)
    buses: list[Bus] = Field(default_factory=list)
    tsv_arrays: list[TsvArray] = Field(default_factory=list)
    reference: list[str] = Field(default_factory=list)
    mesh: MeshSettings = Field(default_factory=MeshSettings)

    @model_validator(mode="after")
    def _stack(self) -> CrossSection:
        for i, layer in enumerate(self.stack[:-1]):
            if layer.thickness is None:
                raise ValueError(f"stack[{i}] has no thickness; only the top layer may extend "
                                 "upwards without one")
        return self

    def material(self, key: str) -> Material:
        """The material named *key* (file-defined first, then built-in)."""
        if key in self.materials:
            return self.materials[key]
        return BUILTIN_MATERIALS[key]

    def known_materials(self) -> list[str]:
        """Names usable as ``material``."""
        return sorted(set(self.materials) | set(BUILTIN_MATERIALS))


def load_cross_section(source: str | Path | dict, *, name: str | None = None) -> CrossSection:
    """Read a cross-section from a YAML file (or an already-parsed mapping).

    Raises
    ------
    InputError
        Missing file, YAML syntax error, unknown key, missing unit, bad value -- one
        sentence naming the file, key and value.
    """
    if isinstance(source, dict):
        data, where = source, name or "cross-section"
    else:
        from ..io.yamlfile import load_mapping

        where = str(source)
        data = load_mapping(source, "name, stack, conductors...")
    xs = validate(CrossSection, data, source=where)
    return xs
