"""Cross-section files: errors name the key and the value; the model resolves correctly."""

import pytest

from sigint.errors import InputError
from sigint.xsection.geometry import resolve
from sigint.xsection.schema import load_cross_section


def base(**over):
    d = dict(stack=[dict(material="sio2", thickness="5 um"), dict(material="air")],
             ground_plane=dict(y="0 um"),
             conductors=[dict(name="s1", shape="rectangle", x="0 um", y="1 um", width="2 um",
                              height="1 um")])
    d.update(over)
    return d


def err(data) -> str:
    with pytest.raises(InputError) as e:
        resolve(load_cross_section(data, name="x.yaml"), "x.yaml")
    return str(e.value)


def test_missing_unit_names_the_key():
    d = base()
    d["conductors"][0]["width"] = 2
    msg = err(d)
    assert "x.yaml: conductors[0].rectangle.width = 2" in msg and "no unit" in msg and "um" in msg


def test_negative_size():
    d = base()
    d["conductors"][0]["height"] = "-1 um"
    msg = err(d)
    assert "conductors[0].rectangle.height" in msg and "greater than or equal to 0" in msg


def test_zero_radius():
    d = base(conductors=[dict(name="t", shape="circle", x="0 um", y="10 um", radius="0 um")])
    assert "radius = '0 um'" in err(d) and "greater than 0" in err(d)


def test_unknown_material():
    d = base()
    d["conductors"][0]["material"] = "cooper"
    msg = err(d)
    assert "conductors[0].material = 'cooper': unknown material" in msg and "cu" in msg


def test_metal_as_dielectric_and_dielectric_as_conductor():
    assert "a metal cannot fill" in err(base(stack=[dict(material="cu")]))
    d = base()
    d["conductors"][0]["material"] = "sio2"
    assert "is not a conductor" in err(d)


def test_unknown_key():
    d = base()
    d["conductors"][0]["widht"] = "2 um"
    assert "widht: unknown key" in err(d)


def test_overlapping_conductors():
    d = base()
    d["conductors"].append(dict(name="s2", shape="rectangle", x="1 um", y="1.5 um", width="2 um",
                                height="1 um"))
    msg = err(d)
    assert "'s2' overlaps 's1'" in msg


def test_conductor_inside_the_ground_plane():
    d = base()
    d["conductors"][0]["y"] = "-0.5 um"
    msg = err(d)
    assert "below the ground plane" in msg and "conductors[0]" in msg


def test_no_reference():
    d = base()
    del d["ground_plane"]
    assert "no reference conductor" in err(d)


def test_bus_and_tsv_helpers():
    d = dict(stack=[dict(material="sio2")],
             buses=[dict(name="b", pattern="GSSG", pitch="4 um", width="2 um", height="1 um",
                         y="0 um")],
             tsv_arrays=[dict(name="t", rows=2, cols=2, pitch="50 um", radius="5 um",
                              liner=dict(thickness="0.5 um"), pattern=["GS", "SG"],
                              x="0 um", y="100 um")])
    g = resolve(load_cross_section(d))
    assert g.signals == ["b1", "b2", "t_r1c2", "t_r2c1"]
    assert set(g.references) == {"b_g1", "b_g2", "t_r1c1", "t_r2c2"}
    assert len(g.shells) == 4 and g.material_at([25e-6 + 5.2e-6], [125e-6])[0] == "sio2"
    assert g.conductor("b1").x0 == pytest.approx(-3e-6)


def test_bus_lines_must_fit_the_pitch():
    d = base(buses=[dict(name="b", pattern="SS", pitch="2 um", width="2 um", height="1 um",
                         y="3 um")])
    assert "does not fit the pitch" in err(d)


def test_zero_thickness_strip_on_an_interface_is_refused():
    d = base(conductors=[dict(name="s", shape="rectangle", x="0 um", y="5 um", width="2 um",
                              height="0 um")])
    assert "zero-thickness strip" in err(d)


def test_yaml_errors(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("stack: [\n  - material: sio2\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_cross_section(p)
    with pytest.raises(InputError, match="no such file"):
        load_cross_section(tmp_path / "none.yaml")


def test_djordjevic_sarkar_is_causal_and_fitted():
    """Fitted at f_ref, and causal: eps' follows from eps'' by Kramers-Kronig,
    eps'(w0) - eps_inf = (2/pi) P int_0^inf w eps''(w) / (w^2 - w0^2) dw (Jackson, Classical
    Electrodynamics, 3rd ed., eq. 7.120), integrated numerically (subtracting the value at w0
    removes the pole, as P int_0^inf dw / (w^2 - w0^2) = 0). Reached 5e-12 relative."""
    import numpy as np
    from scipy.integrate import quad

    from sigint.xsection.materials import Material

    m = Material(eps_r=3.3, tan_d=0.0044, model="djordjevic-sarkar", f_ref=5.8e9)
    e = m.permittivity(np.array([5.8e9]))[0]
    assert e.real == pytest.approx(3.3) and -e.imag / e.real == pytest.approx(0.0044)
    f = np.geomspace(1e6, 1e12, 50)
    eps = m.permittivity(f)
    assert np.all(np.diff(eps.real) < 0) and np.all(eps.imag < 0)   # eps' falls, lossy

    def loss(w):
        return -m.permittivity(w / (2 * np.pi)).imag

    eps_inf = m.permittivity(1e22).real
    for f0 in (1e6, 5.8e9, 1e11):
        w0 = 2 * np.pi * f0
        g0 = w0 * loss(w0)

        def integrand(u, w0=w0, g0=g0):   # in u = ln w
            w = np.exp(u)
            return 0.0 if w == w0 else (w * loss(w) - g0) / (w * w - w0 * w0) * w

        knots = np.sort(np.r_[np.log(2 * np.pi * np.logspace(-3, 21, 25)), np.log(w0)])
        p = sum(quad(integrand, a, b, limit=200, epsabs=0, epsrel=1e-12)[0]
                for a, b in zip(knots[:-1], knots[1:]))
        assert eps_inf + 2 / np.pi * p == pytest.approx(m.permittivity(f0).real, rel=1.5e-11)


def _circle(name, x, **kw):
    return dict(name=name, shape="circle", x=x, y="10 um", radius="2 um", **kw)


@pytest.mark.parametrize("over,fragment", [
    (dict(conductors=[_circle("a", "0 um"), _circle("a", "10 um")]),
     "the name is already used by conductors[0]"),
    (dict(regions=[dict(shape="shell", around="nobody", thickness="1 um", material="sio2")]),
     "regions[0].around = 'nobody': no conductor has this name"),
    (dict(regions=[dict(shape="shell", around="s1", thickness="1 um", material="sio2")]),
     "a shell can only surround a circle"),
    (dict(conductors=[_circle("a", "0 um"), _circle("b", "6 um")],
          regions=[dict(shape="shell", around="a", thickness="3 um", material="sio2")]),
     "the sio2 shell around 'a' overlaps conductor 'b'"),
    (dict(stack=[dict(material="si", thickness="5 um"), dict(material="air")],
          ground_plane=None, conductors=[_circle("a", "0 um"), _circle("g", "10 um",
                                                                         reference=True)]),
     "stack[0].material = 'si': conducts"),
    (dict(conductors=[_circle("a", "0 um", reference=True)]),
     "every conductor is a reference"),
    (dict(reference=["ghost"]), "reference = 'ghost': no conductor has this name"),
    (dict(conductors=[]), "no conductors"),
])
def test_geometry_refusals(over, fragment):
    """Each step of resolving refuses its own kind of mistake, naming the key."""
    d = base(**over)
    if d.get("ground_plane", 0) is None:
        del d["ground_plane"]
    msg = err(d)
    assert fragment in msg and msg.startswith("x.yaml"), msg


def test_shells_stack_outwards():
    """A second shell around the same circle starts where the first ends."""
    d = base(conductors=[_circle("a", "0 um")],
             regions=[dict(shape="shell", around="a", thickness="1 um", material="sio2"),
                      dict(shape="shell", around="a", thickness="2 um", material="polyimide")])
    g = resolve(load_cross_section(d, name="x.yaml"))
    assert [(s[2], s[3], s[4]) for s in g.shells] == [
        pytest.approx((2e-6, 3e-6, "sio2")), pytest.approx((3e-6, 5e-6, "polyimide"))]
