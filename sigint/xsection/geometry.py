"""Resolve a :class:`~sigint.xsection.schema.CrossSection` into shapes, and validate it.

The result, :class:`Geometry`, lists every conductor as a primitive (rectangle, trapezoid,
circle) with its conductivity, says which conductors are signals and which are the
reference, and answers :meth:`Geometry.material_at`: the material at any point, from
(in order) dielectric shells, blocks and the planar stack. The stack's bottom layer also
fills everything below y = 0 (unless an infinite ground plane is there) and its top layer
everything above; if the top layer has a thickness, air lies above it.

Every problem is reported as one sentence naming the file, the key and the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .materials import Material
from .schema import Block, Bus, Circle, CrossSection, Rectangle, Ring, Shell, Trapezoid, TsvArray

__all__ = ["Conductor", "Geometry", "resolve", "touch_point"]


@dataclass(frozen=True)
class Conductor:
    """A conductor as a primitive shape.

    Attributes
    ----------
    name : str
        Unique name.
    kind : {'rect', 'trap', 'circle', 'ring'}
        Shape.
    x0, x1, y0, y1 : float
        Bounding box, m (for 'trap' the bottom is [xb0, xb1], the top [xt0, xt1]).
    xt0, xt1 : float
        Top edge of a trapezoid, m.
    cx, cy, r : float
        Centre and (outer) radius of a circle or ring, m.
    r_in : float
        Inner radius of a ring, m.
    conductivity : float
        S/m.
    roughness : float
        RMS surface roughness, m.
    reference : bool
        Whether it belongs to the reference (ground).
    key : str
        Where it came from in the file (for messages).
    """

    name: str
    kind: str
    x0: float
    x1: float
    y0: float
    y1: float
    conductivity: float
    roughness: float = 0.0
    reference: bool = False
    xt0: float = 0.0
    xt1: float = 0.0
    cx: float = 0.0
    cy: float = 0.0
    r: float = 0.0
    r_in: float = 0.0
    key: str = ""

    def polygon(self) -> np.ndarray:
        """Counter-clockwise vertices (rectangle, trapezoid), shape (4, 2)."""
        if self.kind == "rect":
            return np.array([[self.x0, self.y0], [self.x1, self.y0], [self.x1, self.y1],
                             [self.x0, self.y1]])
        if self.kind == "trap":
            return np.array([[self.x0, self.y0], [self.x1, self.y0], [self.xt1, self.y1],
                             [self.xt0, self.y1]])
        raise ValueError("a circle has no polygon")

    @property
    def round(self) -> bool:
        """Circle or ring."""
        return self.kind in ("circle", "ring")

    @property
    def area(self) -> float:
        """Cross-section area, m^2."""
        if self.kind == "circle":
            return math.pi * self.r ** 2
        if self.kind == "ring":
            return math.pi * (self.r ** 2 - self.r_in ** 2)
        if self.kind == "trap":
            return 0.5 * ((self.x1 - self.x0) + (self.xt1 - self.xt0)) * (self.y1 - self.y0)
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    @property
    def size(self) -> float:
        """A characteristic size (smallest dimension, or diameter), m."""
        if self.kind == "circle":
            return 2 * self.r
        if self.kind == "ring":
            return self.r - self.r_in
        h = self.y1 - self.y0
        w = self.x1 - self.x0
        return min(w, h) if h > 0 else w

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether points lie strictly inside."""
        x, y = np.asarray(x), np.asarray(y)
        if self.round:
            d2 = (x - self.cx) ** 2 + (y - self.cy) ** 2
            inside = d2 < self.r ** 2 * (1 - 1e-12)
            if self.kind == "ring":
                inside &= d2 > self.r_in ** 2 * (1 + 1e-12)
            return inside
        inside_y = (y > self.y0) & (y < self.y1)
        if self.kind == "rect":
            return inside_y & (x > self.x0) & (x < self.x1)
        t = (y - self.y0) / max(self.y1 - self.y0, 1e-300)
        xl = self.x0 + t * (self.xt0 - self.x0)
        xr = self.x1 + t * (self.xt1 - self.x1)
        return inside_y & (x > xl) & (x < xr)


@dataclass
class Geometry:
    """A resolved, validated cross-section.

    Attributes
    ----------
    name : str
        The cross-section's name.
    source : str
        Where it came from (file name), for messages.
    conductors : list of Conductor
        Every conductor, signals first (in file order), then references.
    signals, references : list of str
        Names of the signal and the reference conductors.
    levels : list of float
        Heights of the stack's interfaces, bottom to top, m (y = 0 is the stack's base).
    layer_materials : list of str
        Material of each band between the levels, ``len(levels) + 1`` entries: below the
        first level (the bottom layer, also below y = 0), ..., above the last (air when
        the top layer has a thickness).
    shells : list of (float, float, float, float, str, str)
        Dielectric shells as (cx, cy, inner radius, outer radius) in m, material, and the
        conductor they surround.
    blocks : list of (float, float, float, float, str)
        Dielectric blocks as (x0, x1, y0, y1) in m and material.
    ground_y : float or None
        Height of the infinite ground plane, m (None: none).
    materials : dict of str to Material
        Every material used, by name.
    mesh : object
        The file's mesh settings (:class:`~sigint.xsection.schema.MeshSettings`).
    notes : list of str
        Remarks for the report.
    top_y : float or None
        Height of a second infinite plane above (needs ``ground_y``), m.
    """

    name: str
    source: str
    conductors: list[Conductor]
    signals: list[str]
    references: list[str]
    levels: list[float]
    layer_materials: list[str]
    shells: list[tuple[float, float, float, float, str, str]]
    blocks: list[tuple[float, float, float, float, str]]
    ground_y: float | None
    materials: dict[str, Material]
    mesh: object
    notes: list[str] = field(default_factory=list)
    top_y: float | None = None

    def conductor(self, name: str) -> Conductor:
        """The conductor called *name*."""
        for c in self.conductors:
            if c.name == name:
                return c
        raise KeyError(name)

    def material_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Material name at each point (dielectric space only), as an object array."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        idx = np.searchsorted(np.asarray(self.levels), y, side="right")
        out = np.array(self.layer_materials, dtype=object)[idx]
        for x0, x1, y0, y1, mat in self.blocks:
            out[(x > x0) & (x < x1) & (y > y0) & (y < y1)] = mat
        for cx, cy, r0, r1, mat, _ in self.shells:
            d2 = (x - cx) ** 2 + (y - cy) ** 2
            out[(d2 < r1 * r1) & (d2 > r0 * r0 * (1 - 1e-12))] = mat
        return out

    @property
    def dielectrics(self) -> set[str]:
        """Names of every dielectric material present."""
        s = set(self.layer_materials) | {b[4] for b in self.blocks} | {s[4] for s in self.shells}
        return s

    @property
    def frequency_dependent_dielectrics(self) -> bool:
        """Whether C and G/omega change with frequency (dispersion or conduction)."""
        return any(self.materials[m].frequency_dependent for m in self.dielectrics)

    @property
    def span(self) -> tuple[float, float, float, float]:
        """Bounding box of all conductors and regions (x0, x1, y0, y1), m."""
        xs, ys = [], []
        for c in self.conductors:
            xs += [c.x0, c.x1]
            ys += [c.y0, c.y1]
        for b in self.blocks:
            xs += [b[0], b[1]]
            ys += [b[2], b[3]]
        for s in self.shells:
            xs += [s[0] - s[3], s[0] + s[3]]
            ys += [s[1] - s[3], s[1] + s[3]]
        return min(xs), max(xs), min(ys), max(ys)


def _err(src: str, key: str, value, problem: str, fix: str | None = None) -> InputError:
    shown = repr(value) if isinstance(value, str) else value
    msg = f"{src}: {key} = {shown}: {problem}"
    return InputError(msg + (f"; {fix}" if fix else ""))


def _conductor_from(spec, xs: CrossSection, key: str, src: str) -> Conductor:
    mat = _metal(xs, spec.material, f"{key}.material", src)
    common = dict(name=spec.name, conductivity=mat.conductivity, roughness=mat.roughness,
                  reference=spec.reference, key=key)
    if isinstance(spec, Rectangle):
        return Conductor(kind="rect", x0=spec.x - spec.width / 2, x1=spec.x + spec.width / 2,
                         y0=spec.y, y1=spec.y + spec.height, **common)
    if isinstance(spec, Trapezoid):
        return Conductor(kind="trap", x0=spec.x - spec.bottom_width / 2,
                         x1=spec.x + spec.bottom_width / 2, y0=spec.y, y1=spec.y + spec.height,
                         xt0=spec.x - spec.top_width / 2, xt1=spec.x + spec.top_width / 2,
                         **common)
    if isinstance(spec, Ring):
        r = spec.outer_radius
        return Conductor(kind="ring", x0=spec.x - r, x1=spec.x + r, y0=spec.y - r, y1=spec.y + r,
                         cx=spec.x, cy=spec.y, r=r, r_in=spec.inner_radius, **common)
    assert isinstance(spec, Circle)
    return Conductor(kind="circle", x0=spec.x - spec.radius, x1=spec.x + spec.radius,
                     y0=spec.y - spec.radius, y1=spec.y + spec.radius, cx=spec.x, cy=spec.y,
                     r=spec.radius, **common)


def _material(xs: CrossSection, key: str, where: str, src: str) -> Material:
    try:
        return xs.material(key)
    except KeyError:
        raise _err(src, where, key, "unknown material",
                   f"use one of {', '.join(xs.known_materials())} or define it under "
                   "materials:") from None


def _metal(xs: CrossSection, key: str, where: str, src: str) -> Material:
    m = _material(xs, key, where, src)
    if not m.is_metal:
        raise _err(src, where, key, "is not a conductor (conductivity below 1e4 S/m)",
                   "use cu, al, w or a material with a conductivity")
    return m


def _dielectric(xs: CrossSection, key: str, where: str, src: str) -> Material:
    m = _material(xs, key, where, src)
    if m.is_metal:
        raise _err(src, where, key, "a metal cannot fill a dielectric region",
                   "model it as a conductor")
    return m


def _bus(b: Bus, i: int, xs: CrossSection, src: str) -> list[Conductor]:
    key = f"buses[{i}]"
    mat = _metal(xs, b.material, f"{key}.material", src)
    n = len(b.pattern)
    out = []
    sig = gnd = 0
    for k, letter in enumerate(b.pattern):
        xc = b.x + (k - (n - 1) / 2) * b.pitch
        if letter == "S":
            sig += 1
            name = f"{b.name}{sig}"
        else:
            gnd += 1
            name = f"{b.name}_g{gnd}"
        tw = b.top_width if b.top_width is not None else b.width
        kind = "rect" if tw == b.width else "trap"
        out.append(Conductor(
            name=name, kind=kind, x0=xc - b.width / 2, x1=xc + b.width / 2, y0=b.y,
            y1=b.y + b.height, xt0=xc - tw / 2, xt1=xc + tw / 2, conductivity=mat.conductivity,
            roughness=mat.roughness, reference=letter == "G", key=f"{key} ({name})"))
    return out


def _tsvs(t: TsvArray, i: int, xs: CrossSection, src: str) -> tuple[list[Conductor], list]:
    key = f"tsv_arrays[{i}]"
    mat = _metal(xs, t.material, f"{key}.material", src)
    rows = [r.replace(" ", "").upper() for r in t.pattern] if t.pattern else ["S" * t.cols] * t.rows
    conds, shells = [], []
    for r in range(t.rows):
        for c in range(t.cols):
            cx = t.x + (c - (t.cols - 1) / 2) * t.pitch
            cy = t.y + ((t.rows - 1) / 2 - r) * t.pitch
            g = rows[r][c] == "G"
            name = f"{t.name}_r{r + 1}c{c + 1}"
            conds.append(Conductor(name=name, kind="circle", x0=cx - t.radius, x1=cx + t.radius,
                                   y0=cy - t.radius, y1=cy + t.radius, cx=cx, cy=cy, r=t.radius,
                                   conductivity=mat.conductivity, roughness=mat.roughness,
                                   reference=g, key=f"{key} ({name})"))
            if t.liner:
                _dielectric(xs, t.liner.material, f"{key}.liner.material", src)
                shells.append((cx, cy, t.radius, t.radius + t.liner.thickness,
                               t.liner.material, name))
    return conds, shells


def _overlap(a: Conductor, b: Conductor) -> bool:
    tol = 1e-12 * max(a.size, b.size, 1e-9)
    if a.x1 <= b.x0 + tol or b.x1 <= a.x0 + tol or a.y1 <= b.y0 + tol or b.y1 <= a.y0 + tol:
        return False
    if a.kind == "ring" or b.kind == "ring":
        # sample the intersection of the bounding boxes
        x0, x1 = max(a.x0, b.x0), min(a.x1, b.x1)
        y0, y1 = max(a.y0, b.y0), min(a.y1, b.y1)
        gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
        return bool(np.any(a.contains(gx, gy) & b.contains(gx, gy)))
    if a.kind == "circle" and b.kind == "circle":
        return math.hypot(a.cx - b.cx, a.cy - b.cy) < a.r + b.r - tol
    if a.kind == "circle" or b.kind == "circle":
        c, p = (a, b) if a.kind == "circle" else (b, a)
        poly = p.polygon()
        if p.contains(np.array([c.cx]), np.array([c.cy]))[0]:
            return True
        for k in range(4):
            p0, p1 = poly[k], poly[(k + 1) % 4]
            d = p1 - p0
            t = np.clip(np.dot([c.cx, c.cy] - p0, d) / np.dot(d, d), 0, 1)
            q = p0 + t * d
            if math.hypot(c.cx - q[0], c.cy - q[1]) < c.r - tol:
                return True
        return False
    # convex polygons: separating axis theorem
    pa, pb = a.polygon(), b.polygon()
    for poly in (pa, pb):
        for k in range(4):
            e = poly[(k + 1) % 4] - poly[k]
            n = np.array([-e[1], e[0]])
            if not np.any(n):
                continue
            sa, sb = pa @ n, pb @ n
            gap = tol * np.linalg.norm(n)
            if sa.max() <= sb.min() + gap or sb.max() <= sa.min() + gap:
                return False
    return True


def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """Distance from point p to segment a-b, and the closest point."""
    d = b - a
    dd = float(np.dot(d, d))
    t = 0.0 if dd == 0 else float(np.clip(np.dot(p - a, d) / dd, 0.0, 1.0))
    q = a + t * d
    return float(np.hypot(*(p - q))), q


def _outline(c: Conductor) -> list[tuple[np.ndarray, np.ndarray]]:
    p = c.polygon()
    return [(p[k], p[(k + 1) % 4]) for k in range(4)]


def _bbox(c: Conductor) -> tuple[float, float, float, float]:
    """(x min, x max, y min, y max) of a conductor's outline, m."""
    if c.round:
        return c.cx - c.r, c.cx + c.r, c.cy - c.r, c.cy + c.r
    p = c.polygon()
    return (float(p[:, 0].min()), float(p[:, 0].max()), float(p[:, 1].min()),
            float(p[:, 1].max()))


def touch_point(a: Conductor, b: Conductor) -> np.ndarray | None:
    """A point where two non-overlapping conductors touch (closer than 1e-9 of their
    size), or None."""
    tol = 1e-9 * max(a.size, b.size, 1e-12)
    (ax0, ax1, ay0, ay1), (bx0, bx1, by0, by1) = _bbox(a), _bbox(b)
    if max(ax0 - bx1, bx0 - ax1, ay0 - by1, by0 - ay1) > tol:
        return None              # boxes farther apart than tol: so are the conductors
    if a.round and b.round:
        d = math.hypot(b.cx - a.cx, b.cy - a.cy)
        u = np.array([b.cx - a.cx, b.cy - a.cy]) / max(d, 1e-300)
        if abs(d - a.r - b.r) <= tol:
            return np.array([a.cx, a.cy]) + a.r * u
        for ring, other in ((a, b), (b, a)):      # one inside the other's hole
            if ring.kind == "ring" and abs(ring.r_in - (d + other.r)) <= tol:
                sgn = 1.0 if other is b else -1.0
                return np.array([ring.cx, ring.cy]) + sgn * ring.r_in * u
        return None
    if a.round or b.round:
        c, p = (a, b) if a.round else (b, a)
        centre = np.array([c.cx, c.cy])
        best, q = min((_seg_dist(centre, e0, e1) for e0, e1 in _outline(p)), key=lambda t: t[0])
        if abs(best - c.r) <= tol:
            return q
        if c.kind == "ring":
            far = max(float(np.hypot(*(v - centre))) for v in p.polygon())
            if abs(c.r_in - far) <= tol:
                v = max(p.polygon(), key=lambda v: float(np.hypot(*(v - centre))))
                return v
        return None
    best, q = np.inf, None
    for e0, e1 in _outline(a):
        for f0, f1 in _outline(b):
            for pt, s0, s1 in ((e0, f0, f1), (e1, f0, f1), (f0, e0, e1), (f1, e0, e1)):
                d, _ = _seg_dist(pt, s0, s1)
                if d < best:
                    best, q = d, pt
    return q if best <= tol else None


def _bottom(c: Conductor) -> float:
    return c.cy - c.r if c.round else c.y0


def _top(c: Conductor) -> float:
    return c.cy + c.r if c.round else c.y1


def resolve(xs: CrossSection, source: str | Path = "cross-section") -> Geometry:
    """Check *xs* and turn it into a :class:`Geometry`.

    Raises
    ------
    InputError
        Unknown or misused material, duplicate names, overlapping conductors, a conductor
        inside the ground plane, a shell around something that is not a circle, no signal
        or no reference.
    """
    src = str(source)
    materials: dict[str, Material] = {}
    levels, layer_mats = _stack(xs, src, materials)
    conds, shells, names = _conductors(xs, src)
    blocks = _regions(xs, src, conds, names, shells, materials)
    for sh in shells:
        materials[sh[4]] = xs.material(sh[4])
    if not conds:
        raise InputError(f"{src}: no conductors; add conductors, buses or tsv_arrays")
    _check_overlaps(src, conds, shells)
    ground_y, top_y = _planes(xs, src, conds, levels, materials)
    conds, signals, refs = _nets(xs, src, conds, names, ground_y)
    _check_touching(src, conds, refs, ground_y, top_y)
    ordered = [c for c in conds if c.name in signals] + [c for c in conds if c.name in refs]
    geo = Geometry(name=xs.name, source=src, conductors=ordered, signals=signals,
                   references=refs, levels=levels, layer_materials=layer_mats, shells=shells,
                   blocks=blocks, ground_y=ground_y, materials=materials, mesh=xs.mesh,
                   top_y=top_y)
    _check_zero_thickness(src, geo)
    return geo


def _stack(xs: CrossSection, src: str, materials: dict[str, Material]
           ) -> tuple[list[float], list[str]]:
    """Interface heights (the top of every layer with a thickness, m) and the material of
    each band between them, bottom to top; the stack's materials go into *materials*."""
    levels, layer_mats = [], []
    y = 0.0
    for i, layer in enumerate(xs.stack):
        m = _dielectric(xs, layer.material, f"stack[{i}].material", src)
        materials[layer.material] = m
        layer_mats.append(layer.material)
        if layer.thickness is not None:
            y += layer.thickness
            levels.append(y)
    # levels: top of every layer with a thickness; below the first top: first layer
    if xs.stack[-1].thickness is not None:
        layer_mats.append("air")
        materials["air"] = xs.material("air")
    # the bottom layer fills below y = 0 too: its bottom is no interface
    return levels, layer_mats


def _conductors(xs: CrossSection, src: str) -> tuple[list[Conductor], list, dict[str, str]]:
    """Every conductor (single ones, buses, TSV arrays), the TSV liners as shells, and each
    name's key in the file; a name used twice is refused."""
    conds: list[Conductor] = []
    for i, c in enumerate(xs.conductors):
        conds.append(_conductor_from(c, xs, f"conductors[{i}]", src))
    for i, b in enumerate(xs.buses):
        conds += _bus(b, i, xs, src)
    shells: list = []
    for i, t in enumerate(xs.tsv_arrays):
        cs, sh = _tsvs(t, i, xs, src)
        conds += cs
        shells += sh
    names: dict[str, str] = {}
    for c in conds:
        if c.name in names:
            raise _err(src, c.key + ".name", c.name, f"the name is already used by {names[c.name]}",
                       "give every conductor its own name")
        names[c.name] = c.key
    return conds, shells, names


def _regions(xs: CrossSection, src: str, conds: list[Conductor], names: dict[str, str],
             shells: list, materials: dict[str, Material]) -> list:
    """Block regions as (x0, x1, y0, y1, material); shell regions appended to *shells*
    (outside any shell already around the same circle)."""
    blocks = []
    for i, r in enumerate(xs.regions):
        key = f"regions[{i}]"
        m = _dielectric(xs, r.material, f"{key}.material", src)
        materials[r.material] = m
        if isinstance(r, Shell):
            if r.around not in names:
                raise _err(src, f"{key}.around", r.around, "no conductor has this name",
                           "name a circle conductor")
            c = next(c for c in conds if c.name == r.around)
            if c.kind != "circle":
                raise _err(src, f"{key}.around", r.around, "a shell can only surround a circle",
                           "use a block region for rectangular conductors")
            r_in = max([s_[3] for s_ in shells if s_[5] == c.name] + [c.r])
            shells.append((c.cx, c.cy, r_in, r_in + r.thickness, r.material, c.name))
        else:
            assert isinstance(r, Block)
            blocks.append((r.x - r.width / 2, r.x + r.width / 2, r.y, r.y + r.height, r.material))
    return blocks


def _check_overlaps(src: str, conds: list[Conductor], shells: list) -> None:
    """No two conductors overlap, and no shell overlaps a conductor it is not around."""
    for i in range(len(conds)):
        for j in range(i):
            if _overlap(conds[i], conds[j]):
                raise InputError(f"{src}: {conds[i].key}: conductor {conds[i].name!r} overlaps "
                                 f"{conds[j].name!r} ({conds[j].key}); move or shrink one of them")
    for cx, cy, _r0, r1, mat, around in shells:
        for c in conds:
            if c.name == around:
                continue
            probe = Conductor(name="shell", kind="circle", x0=cx - r1, x1=cx + r1, y0=cy - r1,
                              y1=cy + r1, cx=cx, cy=cy, r=r1, conductivity=0.0)
            if _overlap(probe, c):
                raise InputError(f"{src}: the {mat} shell around {around!r} overlaps conductor "
                                 f"{c.name!r}; make the shell thinner or move the conductor")


def _planes(xs: CrossSection, src: str, conds: list[Conductor], levels: list[float],
            materials: dict[str, Material]) -> tuple[float | None, float | None]:
    """Heights of the ground and top planes (m, or None), checked: a conducting layer needs
    the ground plane, the top plane needs it below, and no conductor reaches into either."""
    ground_y = xs.ground_plane.y if xs.ground_plane is not None else None
    if ground_y is None and levels:
        for i, layer in enumerate(xs.stack):
            m = materials[layer.material]
            if m.conductivity > 0 and not m.is_metal:
                raise _err(
                    src, f"stack[{i}].material", layer.material,
                    f"conducts ({m.conductivity:g} S/m) and extends sideways without limit, but "
                    "nothing grounds it; in 2D its charge would gather at the edges of the "
                    "model and C and G below its relaxation frequency would depend on them",
                    "add 'ground_plane: {y: 0 um}' (a grounded backside: the usual "
                    "metal-insulator-semiconductor model) or give the silicon a finite width "
                    "as a block region")
    top_y = xs.top_plane.y if xs.top_plane is not None else None
    if top_y is not None:
        if ground_y is None:
            raise _err(src, "top_plane.y", f"{top_y * 1e6:g} um",
                       "a top plane needs a ground plane below it",
                       "add 'ground_plane: {y: ...}' (two infinite planes make a stripline)")
        if top_y <= ground_y:
            raise _err(src, "top_plane.y", f"{top_y * 1e6:g} um",
                       f"is not above the ground plane at y = {ground_y * 1e6:g} um",
                       "put the top plane above the ground plane")
        for c in conds:
            if c.y1 > top_y + 1e-12 * max(c.size, 1e-9):
                raise _err(src, f"{c.key}", c.name,
                           f"reaches above the top plane at y = {top_y * 1e6:g} um, inside "
                           "the perfect conductor", "move it below the plane")
    if ground_y is not None:
        for c in conds:
            if c.y0 < ground_y - 1e-12 * max(c.size, 1e-9):
                raise _err(src, f"{c.key}", c.name,
                           f"lies below the ground plane at y = {ground_y * 1e6:g} um, inside "
                           "the perfect conductor", "move it above the plane")
    return ground_y, top_y


def _nets(xs: CrossSection, src: str, conds: list[Conductor], names: dict[str, str],
          ground_y: float | None) -> tuple[list[Conductor], list[str], list[str]]:
    """The conductors with the ``reference:`` list applied, the signal names and the
    reference names; at least one signal and a reference (a conductor or the plane)."""
    ref_names = set(xs.reference)
    for r in ref_names:
        if r not in names:
            raise _err(src, "reference", r, "no conductor has this name",
                       f"name one of {', '.join(sorted(names))}")
    refs = [c.name for c in conds if c.reference or c.name in ref_names]
    conds = [c if c.name not in ref_names else Conductor(**{**c.__dict__, "reference": True})
             for c in conds]
    signals = [c.name for c in conds if c.name not in refs]
    if not signals:
        raise InputError(f"{src}: every conductor is a reference; at least one signal is needed")
    if not refs and ground_y is None:
        raise InputError(f"{src}: no reference conductor: mark conductors with 'reference: true', "
                         "list them under 'reference:', use G in a bus pattern, or add "
                         "'ground_plane:'")
    return conds, signals, refs


def _check_touching(src: str, conds: list[Conductor], refs: list[str], ground_y: float | None,
                    top_y: float | None) -> None:
    """No signal touches another conductor or a plane (a short circuit)."""
    # touching conductors: references are one net (their shared boundary carries no
    # charge); a signal touching anything else is a short circuit
    for i in range(len(conds)):
        for j in range(i):
            a, b = conds[i], conds[j]
            if a.name in refs and b.name in refs:
                continue
            pt = touch_point(a, b)
            if pt is not None:
                raise InputError(
                    f"{src}: {a.key}: conductor {a.name!r} touches {b.name!r} ({b.key}) at "
                    f"x = {pt[0] * 1e6:.6g} um, y = {pt[1] * 1e6:.6g} um: two different nets "
                    "would be shorted; move one of them apart, or make both references")
    for c in conds:
        if c.name in refs:
            continue
        tol = 1e-9 * max(c.size, 1e-12)
        for plane, yp, at in (("ground plane", ground_y, _bottom(c)), ("top plane", top_y, _top(c))):
            if yp is not None and abs(at - yp) <= tol:
                xc = c.cx if c.round else 0.5 * (c.x0 + c.x1)
                raise InputError(
                    f"{src}: {c.key}: signal {c.name!r} touches the {plane} at "
                    f"x = {xc * 1e6:.6g} um, y = {yp * 1e6:.6g} um: the signal would be "
                    "shorted to the reference; lift it off the plane, or make it a reference")


def _check_zero_thickness(src: str, geo: Geometry) -> None:
    """A strip of zero height lies inside one dielectric, not on an interface."""
    for c in geo.conductors:
        if c.kind == "rect" and c.y1 == c.y0:
            xsamp = np.array([c.x0, 0.5 * (c.x0 + c.x1), c.x1])
            below = set(geo.material_at(xsamp, np.full(3, c.y0 - 1e-15)).tolist())
            above = set(geo.material_at(xsamp, np.full(3, c.y0 + 1e-15)).tolist())
            if below != above or len(below) != 1:
                raise _err(src, f"{c.key}.height", 0,
                           "a zero-thickness strip must lie inside one dielectric",
                           "give it a height, or move it off the interface")
