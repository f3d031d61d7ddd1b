import math

import pytest

from sigint.errors import InputError
from sigint.units import format_quantity, parse_quantity, parse_rate


@pytest.mark.parametrize("text,dim,value", [
    ("2 um", "length", 2e-6), ("2um", "length", 2e-6), ("0.5 mm", "length", 5e-4),
    ("3 mil", "length", 76.2e-6), ("16 GT/s", "rate", 16e9), ("25Gb/s", "rate", 25e9),
    ("10 Gbps", "rate", 10e9), ("0.25 pF", "capacitance", 0.25e-12),
    ("25 ohm", "resistance", 25.0), ("25 Ω", "resistance", 25.0), ("1e7 S/m", "conductivity", 1e7),
    ("10 ohm*cm", "resistivity", 0.1), ("400 mV", "voltage", 0.4), ("5ps", "time", 5e-12),
    ("10 GHz", "frequency", 1e10), ("10 ghz", "frequency", 1e10), ("-3 dB", "ratio_db", -3.0),
    ("0.75 UI", "ui", 0.75), ("1.5e-3 m", "length", 1.5e-3),
])
def test_parse(text, dim, value):
    assert math.isclose(parse_quantity(text, dim), value, rel_tol=1e-12)


@pytest.mark.parametrize("text,dim,fragment", [
    ("2", "length", "has no unit"),
    ("2 kg", "length", "not a unit of length"),
    ("two um", "length", "not a number"),
    ("2 mhz", "frequency", "ambiguous"),
    ("inf um", "length", "not a number"),
])
def test_parse_errors_name_field_and_fix(text, dim, fragment):
    with pytest.raises(InputError) as e:
        parse_quantity(text, dim, source="bus.yaml", field="width")
    msg = str(e.value)
    assert fragment in msg and msg.startswith("bus.yaml: width = ") and "; " in msg


def test_bare_number_rejected_unless_allowed():
    with pytest.raises(InputError):
        parse_quantity(3.0, "length")
    assert parse_quantity(3.0, "length", allow_bare=True) == 3.0


def test_rate_must_be_positive():
    with pytest.raises(InputError, match="positive"):
        parse_rate("-16 GT/s")
    with pytest.raises(InputError, match="positive"):
        parse_rate("0 GT/s")


def test_format():
    assert format_quantity(2.5e-13, "F") == "250 fF"
    assert format_quantity(16e9, "T/s") == "16 GT/s"
    assert format_quantity(0.0, "V") == "0 V"


def test_constants_are_codata_2018_and_consistent():
    """Pinned CODATA 2018 values: within 1e-9 of SciPy's table (2018 or 2022, whichever is
    installed; the sets differ by 7e-10 in mu0) and eps0 mu0 c^2 = 1 to their 1e-10
    uncertainty; c exact."""
    import scipy.constants

    from sigint.constants import C0, CODATA, EPS0, MU0

    assert CODATA == "2018" and C0 == 299792458.0
    assert MU0 == 1.25663706212e-6 and EPS0 == 8.8541878128e-12      # CODATA 2018 table
    assert math.isclose(MU0, scipy.constants.mu_0, rel_tol=1e-9)
    assert math.isclose(EPS0, scipy.constants.epsilon_0, rel_tol=1e-9)
    assert math.isclose(EPS0 * MU0 * C0 ** 2, 1.0, rel_tol=1e-10)


def test_version_is_said_once():
    """The package, its metadata file and the cache key read one version string."""
    import tomllib
    from pathlib import Path

    import sigint
    from sigint._version import __version__

    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert sigint.__version__ == __version__ == meta["project"]["version"]
