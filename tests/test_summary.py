"""Verdict rows as printed: value, limit and margin of one quantity add up in the digits shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sigint.report.summary import check_row_numbers
from sigint.specs.checks import Check

finite = st.floats(-200, 200, allow_nan=False, allow_infinity=False)


@given(value=finite, limit=finite, rel=st.sampled_from([">=", "<="]),
       unit=st.sampled_from(["dB", "V", "UI"]))
def test_printed_rows_add_up_and_keep_the_sign_of_the_verdict(value, limit, rel, unit):
    margin = value - limit if rel == ">=" else limit - value
    c = Check("x", margin >= 0, value, limit, margin, unit, relation=rel)
    texts = check_row_numbers(c)
    v, lim, m = (float(t.split()[0]) for t in texts)
    want = v - lim if rel == ">=" else lim - v
    assert abs(m - want) < 1e-9                                   # adds up as printed
    ulp = 10.0 ** -len(texts[2].split()[0].split(".")[1])
    exact = margin * (1e3 if unit == "V" else 1.0)
    assert abs(m - exact) <= 1.01 * ulp                          # two roundings of half a digit
    if abs(exact) > ulp:
        assert (m > 0) == (exact > 0)                             # the verdict's sign


def test_a_gain_shows_with_a_plus():
    v, lim, m = check_row_numbers(Check("vtf_loss_fn", True, 0.154, -3.0, 3.154, "dB"))
    assert (v, lim, m) == ("+0.15 dB", "-3.00 dB", "3.15 dB")
