"""Property tests of the Touchstone reader: every variant reads back, nothing crashes it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from touchstone_variants import Variant, write

from sigint.errors import SigintError
from sigint.io.touchstone import read_touchstone

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])


@st.composite
def variants(draw):
    """A random network and a random Touchstone variant that can hold it."""
    version = draw(st.sampled_from([1, 2]))
    n = draw(st.integers(1, 4))
    param = draw(st.sampled_from(["S", "Y", "Z"] + (["H", "G"] if n == 2 else [])))
    matrix = "Full"
    mixed = None
    if version == 2:
        if param in ("S", "Y", "Z"):
            matrix = draw(st.sampled_from(["Full", "Upper", "Lower"]))
        if param == "S" and n in (2, 4) and draw(st.booleans()):
            if n == 2:
                mixed = [("D", 1, 2), ("C", 1, 2)]
            else:
                pairs = draw(st.sampled_from([((1, 2), (3, 4)), ((1, 3), (2, 4)),
                                              ((1, 4), (2, 3))]))
                entries = [("D", *pairs[0]), ("D", *pairs[1]), ("C", *pairs[0]),
                           ("C", *pairs[1])]
                mixed = draw(st.permutations(entries))
    per_port = draw(st.booleans()) and mixed is None and (version == 2 or param == "S")
    v = Variant(
        version=version, fmt=draw(st.sampled_from(["RI", "MA", "DB"])),
        unit=draw(st.sampled_from(["Hz", "kHz", "MHz", "GHz"])), param=param, matrix=matrix,
        per_port_ref=per_port, mixed_mode=mixed,
        order_12_21=version == 2 and n == 2 and draw(st.booleans()),
        comments=draw(st.booleans()), crlf=draw(st.booleans()), bom=draw(st.booleans()),
        token_order=draw(st.permutations(["unit", "param", "fmt", "r"])),
        information=version == 2 and draw(st.booleans()),
        unknown_keyword=version == 2 and draw(st.booleans()),
    )
    seed = draw(st.integers(0, 2 ** 31))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 5))
    s = rng.normal(size=(nf, n, n)) + 1j * rng.normal(size=(nf, n, n))
    if matrix != "Full":
        s = (s + np.swapaxes(s, 1, 2)) / 2
    # scale every matrix to spectral norm 0.8: a passive network, Z and Y exist (I - S and
    # I + S are invertible with condition number <= 9)
    s *= 0.8 / np.linalg.norm(s, ord=2, axis=(1, 2))[:, None, None]
    r = rng.choice([25.0, 40.0, 50.0, 75.0, 100.0], size=n) if per_port else np.full(n, 50.0)
    f = np.cumsum(rng.uniform(0.1, 2.0, nf)) * {"Hz": 1e3, "kHz": 1e6, "MHz": 1e8,
                                                "GHz": 1e9}[v.unit]
    return f, s, r, v


@settings(max_examples=120, **_SETTINGS)
@given(case=variants())
def test_every_variant_reads_back_to_the_same_s(tmp_path, case):
    f, s, r, v = case
    n = s.shape[-1]
    name = "x.ts" if v.version == 2 and n != 3 else f"x.s{n}p"
    p = tmp_path / name
    p.write_bytes(write(f, s, r, v))
    notes: list[str] = []
    net = read_touchstone(p, notes=notes)
    np.testing.assert_allclose(net.f, f, rtol=1e-12)
    np.testing.assert_allclose(net.s, s, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.z0, np.broadcast_to(r, (f.size, n)), rtol=1e-12)
    if v.token_order != ("unit", "param", "fmt", "r") and list(v.token_order) != [
            "unit", "param", "fmt", "r"]:
        assert any("unusual order" in t for t in notes)
    if v.mixed_mode:
        assert any("[Mixed-Mode Order]" in t for t in notes)
    if v.unknown_keyword:
        assert any("[interpolation mode]" in t for t in notes)


# ------------------------------------------------------------------------------ fuzzing
def _valid_file(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    s = rng.normal(size=(4, n, n)) * 0.2 + 0j
    v = Variant(version=int(rng.integers(1, 3)), fmt=str(rng.choice(["RI", "MA", "DB"])),
                param=str(rng.choice(["S", "Y", "Z"])), comments=bool(rng.integers(2)))
    return write(np.array([0.0, 1e9, 2e9, 3e9]), s, np.full(n, 50.0), v)


def _read_or_refuse(path) -> None:
    """The only two outcomes allowed: a usable network, or a one-sentence exit-2 error."""
    try:
        net = read_touchstone(path)
    except SigintError as exc:
        assert exc.exit_code == 2
        assert str(exc) and "\n" not in str(exc)
        return
    assert np.all(np.isfinite(net.s)) and np.all(np.isfinite(net.f))
    assert net.s.shape == (net.f.size, net.nports, net.nports)
    assert np.all(np.diff(net.f) > 0)


@settings(max_examples=150, **_SETTINGS)
@given(seed=st.integers(0, 2 ** 31), cut=st.floats(0, 1),
       edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=4)),
                      max_size=4),
       kind=st.sampled_from(["truncate", "corrupt", "both"]))
def test_damaged_files_are_read_or_refused_in_one_sentence(tmp_path, seed, cut, edits, kind):
    data = bytearray(_valid_file(seed))
    if kind in ("truncate", "both"):
        data = data[: int(cut * len(data))]
    if kind in ("corrupt", "both"):
        for where, junk in edits:
            k = int(where * len(data))
            data[k:k + len(junk)] = junk
    name = "f.ts" if b"[Version]" in data[:200] else f"f.s{(seed % 3) + 1}p"
    p = tmp_path / name
    p.write_bytes(bytes(data))
    _read_or_refuse(p)


@settings(max_examples=60, **_SETTINGS)
@given(blob=st.binary(max_size=400), suffix=st.sampled_from([".s2p", ".ts", ".s4p.gz"]))
def test_random_bytes_are_refused_in_one_sentence(tmp_path, blob, suffix):
    p = tmp_path / ("r" + suffix)
    p.write_bytes(blob)
    _read_or_refuse(p)


@settings(max_examples=60, **_SETTINGS)
@given(text=st.text(alphabet="0123456789.eE+- \n!#[]SRIMAHzGDBCYZ,", max_size=300))
def test_touchstone_like_text_is_read_or_refused(tmp_path, text):
    assume(text.strip())
    p = tmp_path / "t.s2p"
    p.write_text(text)
    _read_or_refuse(p)


@pytest.mark.parametrize("body", [
    "[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 0\n[Network Data]\n",
    "[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Mixed-Mode Order] D1,2 D1,2\n"
    "[Network Data]\n1 0 0 0 0 0 0 0 0\n",
    "[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Begin Information]\n",
    "# GHz S RI R -50\n1 0 0 0 0 0 0 0 0\n",
    "# GHz H RI R 50\n1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
])
def test_nonsense_headers_are_refused(tmp_path, body):
    p = tmp_path / ("h.ts" if body.startswith("[") else "h.s2p" if " H " not in body else "h.s4p")
    p.write_text(body)
    with pytest.raises(SigintError) as e:
        read_touchstone(p)
    assert e.value.exit_code == 2


def test_a_stray_control_character_is_named(tmp_path):
    """Found by the fuzz test: a vertical tab is blank to Python but not to the tokenizer."""
    p = tmp_path / "vt.s1p"
    p.write_bytes(b"# GHz S RI R 50\n1 0.5\x0b 0\n2 0.5 0\n")
    with pytest.raises(SigintError, match="line 2"):
        read_touchstone(p)
