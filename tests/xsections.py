"""Cross-sections of the REFERENCES.md validation cases, as file data (mm units)."""

MM = "mm"


def geo_of(data):
    """The resolved geometry of cross-section data."""
    from sigint.xsection.geometry import resolve
    from sigint.xsection.schema import load_cross_section

    return resolve(load_cross_section(data))


def wires(points, radius_um=5.0, refs=(), sigma=None):
    """Round copper wires at (x, y) in um; names w0, w1, ...; *refs* indexes references."""
    out = []
    for k, (x, y) in enumerate(points):
        c = dict(name=f"w{k}", shape="circle", x=f"{x!r} um", y=f"{y!r} um",
                 radius=f"{radius_um} um", reference=k in refs)
        if sigma is not None:
            c["material"] = "m"
        out.append(c)
    data = dict(conductors=out)
    if sigma is not None:
        data["materials"] = {"m": {"conductivity": f"{sigma} S/m"}}
    return data


def coax(b_outer=2.0):
    """E1: coax a = 1, b = 2 (air); the outer conductor is a ring."""
    return dict(mesh=dict(sectors=16), conductors=[
        dict(name="in", shape="circle", x="0 mm", y="0 mm", radius="1 mm"),
        dict(name="out", shape="ring", x="0 mm", y="0 mm", inner_radius=f"{b_outer} mm",
             outer_radius=f"{b_outer + 0.5} mm", reference=True)])


def coax_two_shells():
    """E2: shells eps 2 (1 to 1.5) and eps 5 (1.5 to 2)."""
    d = coax()
    d["materials"] = {"e2": {"eps_r": 2}, "e5": {"eps_r": 5}}
    d["regions"] = [dict(shape="shell", around="in", thickness="0.5 mm", material="e2"),
                    dict(shape="shell", around="in", thickness="0.5 mm", material="e5")]
    return d


def two_wires():
    """E3: two round wires r = 1 at D = 5."""
    return dict(conductors=[
        dict(name="a", shape="circle", x="-2.5 mm", y="0 mm", radius="1 mm"),
        dict(name="b", shape="circle", x="2.5 mm", y="0 mm", radius="1 mm", reference=True)])


def wire_over_ground():
    """E4: r = 0.5 at h = 2 over a perfect ground, eps 4 everywhere."""
    return dict(materials={"d4": {"eps_r": 4}}, stack=[dict(material="d4")],
                ground_plane=dict(y="0 mm"),
                conductors=[dict(name="w", shape="circle", x="0 mm", y="2 mm", radius="0.5 mm")])


def stripline(coupled=False, half_width=8.0, b=1.0):
    """E5/E6: zero-thickness strips centred between plates b apart (w/b = 0.5, s/b = 0.1).

    The plates are finite (half-width 8 b); inside parallel plates the field decays as
    exp(-pi x / b), so at 8 b the truncation is below 1e-10.
    """
    w = 0.5 * b
    strips = ([dict(name="s1", shape="rectangle", x=f"{-(0.05 + 0.25) * b} mm", y="0 mm",
                    width=f"{w} mm", height="0 mm"),
               dict(name="s2", shape="rectangle", x=f"{(0.05 + 0.25) * b} mm", y="0 mm",
                    width=f"{w} mm", height="0 mm")] if coupled else
              [dict(name="s", shape="rectangle", x="0 mm", y="0 mm", width=f"{w} mm", height="0 mm")])
    plates = [dict(name=n, shape="rectangle", x="0 mm", y=f"{y} mm", width=f"{2 * half_width * b} mm",
                   height="0 mm", reference=True) for n, y in (("top", b / 2), ("bot", -b / 2))]
    return dict(conductors=strips + plates)


def stripline_planes(coupled=False, b=1.0):
    """E5/E6 between two infinite planes (ground at 0, top plane at b), strips at b/2."""
    w = 0.5 * b
    xs = [-(0.05 + 0.25) * b, (0.05 + 0.25) * b] if coupled else [0.0]
    names = ["s1", "s2"] if coupled else ["s"]
    return dict(ground_plane=dict(y="0 mm"), top_plane=dict(y=f"{b} mm"),
                conductors=[dict(name=n, shape="rectangle", x=f"{x} mm", y=f"{b / 2} mm",
                                 width=f"{w} mm", height="0 mm") for n, x in zip(names, xs)])


def microstrip():
    """H1: zero-thickness microstrip, w/h = 1, eps 1."""
    return dict(ground_plane=dict(y="0 mm"), conductors=[
        dict(name="s", shape="rectangle", x="0 mm", y="1 mm", width="1 mm", height="0 mm")])


def bernal_5_lines():
    """B1: five microstrip lines on an eps 2 slab (Bernal, Medina, Horno 1997)."""
    return dict(materials={"d2": {"eps_r": 2}},
                stack=[dict(material="d2", thickness="0.01 mm"), dict(material="air")],
                ground_plane=dict(y="0 mm"),
                buses=[dict(name="l", pattern="SSSSS", pitch="0.05 mm", width="0.03 mm",
                            height="0.01 mm", x="0 mm", y="0.01 mm")])


# E7/E8 (REFERENCES.md): R/Rdc and the internal inductance over mu0/(8 pi) of a round
# wire at r/delta = 1, 2, 3, 5, 10, 20 (the Bessel-function internal impedance; Ramo,
# Whinnery & Van Duzer, 1994, sec. 5.6)
E7_R_OVER_RDC = {1: 1.02049, 2: 1.26464, 3: 1.76813, 5: 2.76811, 10: 5.25930, 20: 10.25468}
E8_LINT_OVER_DC = {1: 0.98977, 2: 0.87048, 3: 0.65069, 5: 0.39628, 10: 0.19959, 20: 0.09995}


def isolated_wire(sectors=8):
    """E7/E8: a round copper wire r = 1 mm; a far reference only closes the 2D problem."""
    return dict(mesh=dict(sectors=sectors), conductors=[
        dict(name="w", shape="circle", x="0 mm", y="0 mm", radius="1 mm"),
        dict(name="far", shape="circle", x="500 mm", y="0 mm", radius="1 mm", reference=True)])
