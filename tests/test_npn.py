"""The National Producer Number: 1 to 10 ASCII digits, not all zeros (S8, S9)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import regflow
from regflow import NPN

ASCII_DIGITS = "0123456789"


def is_npn(raw: str) -> bool:
    """The rule, stated independently: trimmed, 1-10 ASCII digits, not all zeros."""
    text = raw.strip()
    return (
        1 <= len(text) <= 10
        and all(c in ASCII_DIGITS for c in text)
        and set(text) != {"0"}
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", "1"),
        ("123456", "123456"),
        ("19876543", "19876543"),
        ("1234567890", "1234567890"),
        ("0012", "0012"),
        (" 19876543 ", "19876543"),
        ("\t42\n", "42"),
        ("\u00a07654321\u2003", "7654321"),
    ],
)
def test_valid_npn_is_trimmed(raw, value):
    """1 to 10 ASCII digits are accepted once surrounding whitespace is trimmed."""
    npn = NPN.parse(raw)
    assert npn == NPN(value)
    assert str(npn) == value
    assert repr(npn) == f"NPN({value!r})"
    assert NPN.problem(raw) is None


@pytest.mark.parametrize(
    ("raw", "problem", "says"),
    [
        ("12a45", "not_digit", "contains 'a'"),
        ("ABCDEFG", "not_digit", "contains 'A'"),
        ("123-456", "not_digit", "contains '-'"),
        ("12 34", "inner_space", "no spaces inside"),
        ("12\t34", "inner_space", "no spaces inside"),
        ("١٢٣", "non_ascii_digit", "non-ASCII digits"),
        ("\uff11\uff12\uff13", "non_ascii_digit", "non-ASCII digits"),
        ("12345678901", "too_long", "11 digits"),
        ("1234567890123", "too_long", "13 digits"),
        ("", "empty", "empty"),
        ("   ", "empty", "empty"),
        ("\n\t", "empty", "empty"),
        ("0", "all_zeros", "not all zeros"),
        ("0000000", "all_zeros", "not all zeros"),
    ],
)
def test_invalid_npn_says_what_is_wrong(raw, problem, says):
    """A bad NPN is refused with a message naming the problem and the value."""
    with pytest.raises(regflow.InvalidNPN) as caught:
        NPN.parse(raw)
    error = caught.value
    assert error.problem == problem
    assert error.value == raw
    assert says in str(error)
    assert repr(raw) in str(error)
    assert str(error).startswith("'npn' must be 1 to 10 ASCII digits")
    assert NPN.problem(raw) == problem


@pytest.mark.parametrize("raw", [12345678, 1.5, None, b"123", ["1"]])
def test_non_text_npn_is_refused(raw):
    """An NPN given as anything but text is refused, naming the type."""
    with pytest.raises(regflow.InvalidNPN) as caught:
        NPN.parse(raw)
    assert caught.value.problem == "not_text"
    assert type(raw).__name__ in str(caught.value)


def test_invalid_npn_is_a_value_error():
    """InvalidNPN is caught by ``except ValueError`` and roots in RegflowError."""
    with pytest.raises(ValueError):
        NPN.parse("x")
    assert issubclass(regflow.InvalidNPN, regflow.InvalidValue)
    assert issubclass(regflow.InvalidNPN, regflow.RegflowError)


@pytest.mark.parametrize("raw", [" 123", "123 ", "12a", ""])
def test_constructor_refuses_what_parse_would_fix_or_refuse(raw):
    """``NPN(...)`` takes only the trimmed form; untrimmed text is refused."""
    with pytest.raises(regflow.InvalidNPN):
        NPN(raw)


@given(st.text(max_size=14))
@example("١٢٣")
@example(" 0000000001 ")
@example("00000000000")
@example("12 3")
def test_npn_valid_iff_the_rule_holds(raw):
    """Any text parses exactly when its trimmed form is 1-10 ASCII digits, not all 0."""
    if is_npn(raw):
        assert NPN.parse(raw).value == raw.strip()
        assert NPN.problem(raw) is None
    else:
        with pytest.raises(regflow.InvalidNPN) as caught:
            NPN.parse(raw)
        assert NPN.problem(raw) == caught.value.problem


@given(
    st.text(st.sampled_from(" \t\n"), max_size=3),
    st.text(st.sampled_from(ASCII_DIGITS), min_size=1, max_size=10),
    st.text(st.sampled_from(" \t\n"), max_size=3),
)
def test_digit_strings_with_surrounding_whitespace(before, digits, after):
    """Digits padded with whitespace parse unless they are all zeros."""
    raw = before + digits + after
    if set(digits) == {"0"}:
        assert NPN.problem(raw) == "all_zeros"
    else:
        assert NPN.parse(raw).value == digits


def test_profile_npn_fields_parse_text():
    """Profile NPN fields accept text, trimmed into NPN values."""
    profile = regflow.Profile(
        npn=" 19876543 ", business_npn="555111", web_broker_npn=NPN("7")
    )
    assert profile.npn == NPN("19876543")
    assert profile.business_npn == NPN("555111")
    assert profile.web_broker_npn == NPN("7")
    assert regflow.Profile().npn is None


@pytest.mark.parametrize("field", ["npn", "business_npn", "web_broker_npn"])
@pytest.mark.parametrize("raw", ["12 34a", "١٢٣", 19876543])
def test_profile_refuses_a_malformed_npn(field, raw):
    """A malformed NPN in any profile field raises InvalidNPN when the profile is built."""
    with pytest.raises(regflow.InvalidNPN):
        regflow.Profile(**{field: raw})
