"""The fast reader agrees with scikit-rf exactly, and refuses broken files clearly."""

import lzma

import numpy as np
import pytest
import skrf
from hypothesis import given, settings
from hypothesis import strategies as st

from sigint.errors import TouchstoneError
from sigint.io.touchstone import ports_from_name, read_touchstone, write_touchstone


def _same(a, b):
    assert np.array_equal(a.f, b.f)
    assert np.array_equal(a.s, b.s)
    assert np.array_equal(a.z0, b.z0)


def test_shipped_example_agrees_with_skrf_bit_for_bit(example2, tmp_path):
    for name, path in example2.items():
        plain = tmp_path / f"example2_{name}.s4p"
        plain.write_bytes(lzma.decompress(path.read_bytes()))
        _same(read_touchstone(plain), skrf.Network(str(plain)))
        _same(read_touchstone(path), skrf.Network(str(plain)))   # compressed input


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), fmt=st.sampled_from(["ri", "ma", "db"]),
       nf=st.integers(1, 9), unit=st.sampled_from(["Hz", "kHz", "MHz", "GHz"]),
       seed=st.integers(0, 2 ** 31))
def test_random_networks_agree_with_skrf(tmp_path_factory, n, fmt, nf, unit, seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(nf, n, n)) + 1j * rng.normal(size=(nf, n, n))
    freq = skrf.Frequency(1, 1 + nf, nf, unit)
    net = skrf.Network(frequency=freq, s=s, z0=rng.choice([25.0, 50.0, 75.0]))
    d = tmp_path_factory.mktemp("ts")
    net.write_touchstone(filename="x", dir=str(d), form=fmt)
    path = d / f"x.s{n}p"
    _same(read_touchstone(path), skrf.Network(str(path)))


def test_touchstone2_full_matrix_and_comments(tmp_path):
    text = """! a Touchstone 2 file
[Version] 2.0
# GHz S RI R 50
[Number of Ports] 3
[Number of Frequencies] 2
[Reference] 50 50
 75
[Network Data]
1.0  0.1 0.0  0.2 0.1  0.3 0.0 ! row 1
     0.2 0.1  0.4 0.0  0.5 0.5
     0.3 0.0  0.5 0.5  0.6 0.0
2.0  0.1 0.0  0.2 0.1  0.3 0.0
     0.2 0.1  0.4 0.0  0.5 0.5
     0.3 0.0  0.5 0.5  0.6 0.0
[End]
"""
    p = tmp_path / "v2.ts"
    p.write_text(text)
    a = read_touchstone(p)
    b = skrf.Network(str(p))
    _same(a, b)
    assert a.z0[0].real.tolist() == [50, 50, 75]


def test_two_port_order_and_ragged_lines(tmp_path):
    p = tmp_path / "two.s2p"
    p.write_text("# MHz S MA R 50\n10 0.1 10 0.9 -20\n\t 0.8 -21 0.2 30\n20 0.1 11 0.9 -40 0.8 -41 0.2 31\n")
    a = read_touchstone(p)
    _same(a, skrf.Network(str(p)))
    assert abs(a.s[0, 1, 0]) == pytest.approx(0.9)   # v1 2-port order: S11 S21 S12 S22


def test_v1_two_port_noise_data_goes_through_skrf(tmp_path):
    p = tmp_path / "noisy.s2p"
    p.write_text("# GHz S MA R 50\n1 0.1 0 0.9 0 0.9 0 0.1 0\n2 0.1 0 0.8 0 0.8 0 0.1 0\n"
                 "1 1.2 0.5 10 0.3\n2 1.4 0.5 20 0.3\n")
    a = read_touchstone(p)
    assert a.f.size == 2 and abs(a.s[1, 1, 0]) == pytest.approx(0.8)


def test_write_then_read_round_trip(tmp_path):
    net = skrf.Network(frequency=skrf.Frequency(0, 10, 11, "GHz"),
                       s=np.full((11, 4, 4), 0.1 + 0.2j), z0=50)
    p = write_touchstone(net, tmp_path / "rt", comment="made by a test")
    assert p.name == "rt.s4p" and "made by a test" in p.read_text()
    np.testing.assert_array_equal(read_touchstone(p).s, net.s)


def test_ports_from_name():
    assert ports_from_name("a/b/ch.s32p") == 32
    assert ports_from_name("ch.S4P.xz") == 4
    assert ports_from_name("ch.ts") is None


# ------------------------------------------------------------------ refusing broken input
def _err(path) -> str:
    with pytest.raises(TouchstoneError) as e:
        read_touchstone(path)
    return str(e.value)


def test_missing_file(tmp_path):
    msg = _err(tmp_path / "nope.s4p")
    assert "no such file" in msg and "nope.s4p" in msg


def test_text_that_is_not_touchstone(tmp_path):
    p = tmp_path / "notes.s4p"
    p.write_text("Meeting notes\nnothing to see here\n")
    msg = _err(p)
    assert "not a Touchstone file" in msg and "line 1" in msg


def test_numbers_without_option_line(tmp_path):
    p = tmp_path / "raw.s1p"
    p.write_text("1 0.5 0\n2 0.5 0\n")
    assert "option line" in _err(p)


def test_truncated_file(tmp_path, example2):
    full = lzma.decompress(example2["THRU"].read_bytes())
    p = tmp_path / "cut.s4p"
    p.write_bytes(full[: len(full) // 3])
    msg = _err(p)
    assert "truncated" in msg and "33 numbers each" in msg


def test_nan_entry(tmp_path):
    p = tmp_path / "nan.s2p"
    p.write_text("# GHz S RI R 50\n1 0.1 0 0.9 0 0.9 0 0.1 0\n2 0.1 0 NaN 0 0.9 0 0.1 0\n")
    msg = _err(p)
    assert "non-finite" in msg and "line 3" in msg and "NaN" in msg


def test_stray_text_in_data(tmp_path):
    p = tmp_path / "junk.s1p"
    p.write_text("# GHz S RI R 50\n1 0.1 0\n2 0.1 zero\n")
    msg = _err(p)
    assert "'zero' is not a number" in msg and "line 3" in msg


def test_non_increasing_frequencies(tmp_path):
    p = tmp_path / "order.s1p"
    p.write_text("# GHz S RI R 50\n1 0.1 0\n3 0.1 0\n2 0.1 0\n")
    msg = _err(p)
    assert "must increase" in msg and "(2 GHz) follows 3 GHz" in msg


def test_bad_option_line(tmp_path):
    p = tmp_path / "opt.s1p"
    p.write_text("# GHz S XY R 50\n1 0.1 0\n")
    assert "format 'xy'" in _err(p)


def test_binary_and_directory(tmp_path):
    p = tmp_path / "bin.s2p"
    p.write_bytes(b"\x00\x01\x02" * 100)
    assert "binary" in _err(p)
    assert "directory" in _err(tmp_path)


def test_unknown_extension_without_v2_keywords(tmp_path):
    p = tmp_path / "data.txt"
    p.write_text("# GHz S RI R 50\n1 0.1 0\n")
    assert "number of ports" in _err(p)


def test_corrupt_compressed_file(tmp_path):
    p = tmp_path / "bad.s4p.xz"
    p.write_bytes(b"not xz at all")
    assert "decompressed" in _err(p)


def test_header_with_blank_and_comment_lines_before_clean_data(tmp_path):
    """The zero-copy path skips header rows by count: blank lines must count too."""
    row = " ".join(f"0.{k:02d}" for k in range(1, 33))
    p = tmp_path / "h.s4p"
    p.write_text(f"! c\n\n   \n! d\n# GHz S RI R 50\n\n! e\n\n1 {row}\n\n2 {row}\n")
    _same(read_touchstone(p), skrf.Network(str(p)))


@pytest.mark.parametrize("header,fragment", [
    # a list keyword continued over a comment and a blank line: the error names the line
    # where the list ended (line 7), counted through the continuation
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 3\n[Reference] 50\n! more\n\n 50 x\n",
     "line 7"),
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Reference] 50 -50\n",
     "reference impedances must be positive"),
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] two\n", "is not a positive integer"),
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 1\n[Number of Frequencies] 1.5\n",
     "[Number of Frequencies] '1.5' is not an integer"),
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 1\n[Matrix Format] Diagonal\n",
     "is not Full, Upper or Lower"),
    ("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 1\n1 0.1 0\n",
     "data found before the [Network Data] keyword"),
    ("[Version] 2.0\n# GHz Y RI R 50\n[Number of Ports] 2\n[Mixed-Mode Order] D1,2 C1,2\n"
     "[Network Data]\n", "mixed-mode Y-parameters are not supported"),
])
def test_header_keyword_errors(tmp_path, header, fragment):
    """Each keyword's refusal, one sentence naming the file and line."""
    p = tmp_path / "k.ts"
    p.write_text(header + "[Network Data]\n1 0.1 0\n")
    msg = _err(p)
    assert fragment in msg and str(p) in msg, msg


def test_list_keyword_continues_to_the_port_count(tmp_path):
    """[Reference] values on the lines after the keyword, across a comment and a blank line,
    until one per port; the next keyword ends the list (Touchstone 2.0 §[Reference])."""
    p = tmp_path / "r.ts"
    p.write_text("[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 3\n[Reference] 25\n"
                 "! the others\n\n 50\n 75\n[Network Data]\n1 " + " ".join(["0.1 0"] * 9) + "\n")
    assert read_touchstone(p).z0[0].real.tolist() == [25, 50, 75]
