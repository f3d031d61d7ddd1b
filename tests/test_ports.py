import numpy as np
import pytest
import skrf

from sigint.errors import PortMapError
from sigint.io.touchstone import read_touchstone
from sigint.link.ports import build_port_map, check_mapping, link_network, parse_thru


def test_default_is_skrf_convention():
    pm = build_port_map(8)
    assert [(ln.tx, ln.rx) for ln in pm.lanes] == [((i,), (4 + i,)) for i in range(4)]
    assert not pm.explicit


def test_sequential_and_explicit_and_reverse():
    pm = build_port_map(4, preset="sequential")
    assert [(ln.tx, ln.rx) for ln in pm.lanes] == [((0,), (1,)), ((2,), (3,))]
    pm = build_port_map(4, thru=["2:1", "3:4"], reverse=[2])
    assert [(ln.tx, ln.rx) for ln in pm.lanes] == [((1,), (0,)), ((3,), (2,))]
    pm = build_port_map(4, thru=["1:2", "3:4"], differential=True)
    assert pm.lanes[0].tx == (0, 2) and pm.lanes[0].rx == (1, 3)
    assert "differential; 1,3->2,4" in pm.describe()


@pytest.mark.parametrize("spec,fragment", [
    ("1:9", "port 9 does not exist; the network has ports 1-4"),
    ("0:1", "start at 1"), ("2:2", "two different ports"), ("a:b", "write a through path"),
])
def test_bad_thru(spec, fragment):
    with pytest.raises(PortMapError, match=fragment):
        parse_thru(spec, 4)


def test_mapping_errors():
    with pytest.raises(PortMapError, match="has 3 ports.*--thru P:Q"):
        build_port_map(3, name="x.s3p")
    with pytest.raises(PortMapError, match="appears in two through paths"):
        build_port_map(4, thru=["1:2", "2:3"])
    with pytest.raises(PortMapError, match="cannot pair into differential lanes"):
        build_port_map(4, thru=["1:2", "3:4", "1:4"][:1], differential=True)
    with pytest.raises(PortMapError, match="no such lane"):
        build_port_map(4, reverse=[3])
    with pytest.raises(PortMapError, match="unknown preset"):
        build_port_map(4, preset="odd")


def test_wrong_default_convention_is_refused_with_the_fix(example2):
    net = read_touchstone(example2["THRU"])
    pm = build_port_map(4)   # skrf default 1->3, 2->4 does not fit this file
    with pytest.raises(PortMapError) as e:
        check_mapping(net.s, net.f, pm, "THRU")
    assert "--thru 1:2 --thru 3:4" in str(e.value)
    # given explicitly, a path 25 dB below the through path is still a coupling path
    explicit = build_port_map(4, preset="skrf")
    with pytest.raises(PortMapError, match="--thru 1:2 --thru 3:4"):
        check_mapping(net.s, net.f, explicit, "THRU")
    # a path within 10 dB of a through path, given explicitly, is kept with a warning
    weak = net.s.copy()
    weak[:, 2, 0] = weak[:, 0, 2] = 0.45 * weak[:, 1, 0]
    weak[:, 3, 1] = weak[:, 1, 3] = 0.45 * weak[:, 0, 1]
    notes = check_mapping(weak, net.f, explicit, "THRU")
    assert notes and "kept" in notes[0] and "--thru 1:2 --thru 3:4" in notes[0]


def _mixed_mode_dd(s, p_pos, p_neg, q_pos, q_neg):
    """Sdd21 and Sdd11 from the definition (Bockelman & Eisenstadt 1995), equal z0."""
    def sdd(a, b, c, d):  # to pair (a,b) from pair (c,d)
        return 0.5 * (s[:, a, c] - s[:, a, d] - s[:, b, c] + s[:, b, d])
    return sdd(q_pos, q_neg, p_pos, p_neg), sdd(p_pos, p_neg, p_pos, p_neg)


def test_differential_reduction_matches_mixed_mode_definition(example2):
    net = read_touchstone(example2["THRU"])
    pm = build_port_map(4, thru=["1:2", "3:4"], differential=True)
    ln = link_network(net, pm)
    d21, d11 = _mixed_mode_dd(net.s, 0, 2, 1, 3)
    np.testing.assert_allclose(ln.s[:, 1, 0], d21, atol=1e-12)
    np.testing.assert_allclose(ln.s[:, 0, 0], d11, atol=1e-12)
    assert ln.z0.tolist() == [100.0, 100.0] and ln.admittance_scale == 0.5


def test_differential_reduction_random_network_and_port_order():
    rng = np.random.default_rng(1)
    s = (rng.normal(size=(3, 8, 8)) + 1j * rng.normal(size=(3, 8, 8))) * 0.2
    net = skrf.Network(frequency=skrf.Frequency(1, 3, 3, "GHz"), s=s, z0=50)
    pm = build_port_map(8, thru=["8:2", "5:3", "1:4", "7:6"], differential=True)
    ln = link_network(net, pm)
    for k, lane in enumerate(pm.lanes):
        d21, d11 = _mixed_mode_dd(s, lane.tx[0], lane.tx[1], lane.rx[0], lane.rx[1])
        np.testing.assert_allclose(ln.s[:, 2 * k + 1, 2 * k], d21, atol=1e-12)
        np.testing.assert_allclose(ln.s[:, 2 * k, 2 * k], d11, atol=1e-12)
