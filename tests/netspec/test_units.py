"""Quantities with units (netspec.units): exact parsing, exact round trips, helpful errors."""
from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspec import units as U
from netspec.units import Dim, UnitError, format_quantity, parse_quantity, parse_unit


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


@pytest.mark.parametrize("text, value, dim", [
    ("20 ms", 0.02, U.TIME),
    ("-50 mV", -0.05, U.VOLTAGE),
    ("1.5 nA", 1.5e-9, U.CURRENT),
    ("10 Hz", 10.0, U.FREQUENCY),
    ("10 kHz", 1e4, U.FREQUENCY),
    ("0.1 ms", 1e-4, U.TIME),
    ("5 us", 5e-6, U.TIME),
    ("5 µs", 5e-6, U.TIME),
    ("5 μs", 5e-6, U.TIME),
    ("1_000 ms", 1.0, U.TIME),
    (".5 ms", 5e-4, U.TIME),
    ("2.5e-3 s", 2.5e-3, U.TIME),
    ("3 min", 180.0, U.TIME),
    ("20ms", 0.02, U.TIME),
    ("4 nS", 4e-9, U.CONDUCTANCE),
    ("200 pF", 2e-10, U.CAPACITANCE),
    ("10 Mohm", 1e7, U.RESISTANCE),
    ("1 nA/mV", 1e-6, U.CONDUCTANCE),
    ("2 1/s", 2.0, U.FREQUENCY),
    ("3 m*s^-2", 3.0, Dim(m=1, s=-2)),
    ("3 m/s**2", 3.0, Dim(m=1, s=-2)),
    ("50 %", 0.5, U.DIMENSIONLESS),
    ("7", 7.0, U.DIMENSIONLESS),
    ("inf s", math.inf, U.TIME),
    ("-inf mV", -math.inf, U.VOLTAGE),
])
def test_parse_quantity_is_exact(text, value, dim):
    """A quantity string reads as exactly the double nearest its value, with its dimension."""
    got, got_dim, _ = parse_quantity(text)
    assert _bits(got) == _bits(value) and got_dim == dim


def test_quantities_are_exactly_their_literals():
    """'20 ms' is the double 0.02 bit for bit, and '9 ms' is 0.009 (the naive 9 * 0.001 is an ulp off)."""
    assert _bits(parse_quantity("20 ms")[0]) == _bits(0.02)
    assert _bits(parse_quantity("9 ms")[0]) == _bits(0.009) and 9 * 0.001 != 0.009
    assert _bits(parse_quantity("1.3 mV")[0]) == _bits(0.0013) and 1.3 * 0.001 != 0.0013


def test_parse_quantity_says_whether_a_unit_was_written():
    """The third result tells '20' (no unit) from '20 ms'."""
    assert parse_quantity("20")[2] is False and parse_quantity("20 ms")[2] is True


def test_negative_zero_round_trips():
    """'-0 ms' reads as -0.0, and -0.0 is written so that it reads back as -0.0."""
    assert _bits(parse_quantity("-0 ms")[0]) == _bits(-0.0)
    assert _bits(parse_quantity(str(format_quantity(-0.0, U.TIME)))[0]) == _bits(-0.0)


@pytest.mark.parametrize("text, message", [
    ("20 msec", "unknown unit 'msec' (did you mean 'ms'?)"),
    ("1 mvolt/ms", "unknown unit 'mvolt' in 'mvolt/ms' (did you mean 'mV'?)"),
    ("1 millisecond", "unknown unit 'millisecond' (did you mean 'ms'?)"),
    ("1 mv", "unknown unit 'mv' (did you mean 'mV'?)"),
    ("1 KHZ", "unknown unit 'KHZ' (did you mean 'kHz'?)"),
    ("1 sec", "unknown unit 'sec' (did you mean 's'?)"),
    ("1 zorg", "unknown unit 'zorg'"),
    ("ten ms", "cannot read it as a number with a unit (got 'ten ms')"),
    ("1 m**/s", "cannot read unit 'm**/s'"),
    ("1e999 s", "too large for a double (got '1e999 s')"),
    ("1e999999999999 s", "too large for a double (got '1e999999999999 s')"),
    ("1 ms^13", "unit power 13 out of range in 'ms^13' (at most 12 either way)"),
    ("1" * 1001 + " s", "the number has too many digits (got '" + "1" * 1001 + " s')"),
])
def test_parse_quantity_errors(text, message):
    """Unreadable quantities raise UnitError with a reason and, for unknown units, a did-you-mean."""
    with pytest.raises(UnitError) as info:
        parse_quantity(text)
    assert str(info.value) == message


def test_absurd_exponents_are_fast():
    """Huge exponents are decided without computing 10**exponent (no hang)."""
    assert parse_quantity("1e-999999999999 s")[0] == 0.0
    assert _bits(parse_quantity("-1e-99999 s")[0]) == _bits(-0.0)
    assert parse_quantity("0e99999999999 s")[0] == 0.0


@pytest.mark.parametrize("value, dim, text", [
    (0.02, U.TIME, "20 ms"),
    (1e-4, U.TIME, "0.1 ms"),
    (2.5e-5, U.TIME, "25 us"),
    (1.0, U.TIME, "1 s"),
    (-0.05, U.VOLTAGE, "-50 mV"),
    (1.62e-3, U.VOLTAGE, "1.62 mV"),
    (1.5e-9, U.CURRENT, "1.5 nA"),
    (10.0, U.FREQUENCY, "10 Hz"),
    (2e4, U.FREQUENCY, "20 kHz"),
    (math.inf, U.TIME, "inf s"),
    (-math.inf, U.VOLTAGE, "-inf V"),
    (0.25, U.DIMENSIONLESS, 0.25),
])
def test_format_quantity_prefers_short_units(value, dim, text):
    """Values are written with the prefix that gives the shortest exact text."""
    assert format_quantity(value, dim) == text


NAMED_DIMS = [U.TIME, U.VOLTAGE, U.CURRENT, U.FREQUENCY, U.CONDUCTANCE, U.CAPACITANCE, U.RESISTANCE,
              U.CHARGE, U.LENGTH, U.MASS, U.ENERGY, U.POWER]
dims = st.one_of(st.sampled_from(NAMED_DIMS),
                 st.builds(Dim, *[st.integers(-3, 3)] * 4).filter(lambda d: d != U.DIMENSIONLESS))


@settings(max_examples=400, deadline=None)
@given(value=st.floats(allow_nan=False), dim=dims)
def test_format_then_parse_is_exact(value, dim):
    """For any double (subnormal, huge, infinite, -0.0) and dimension, format then parse gives it back bit for bit."""
    text = format_quantity(value, dim)
    back, back_dim, has_unit = parse_quantity(text)
    assert _bits(back) == _bits(value), text
    assert back_dim == dim and has_unit


@settings(max_examples=200, deadline=None)
@given(mantissa=st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**6, max_value=10**6),
       unit=st.sampled_from(["ms", "s", "us", "mV", "V", "nA", "pA", "Hz", "kHz", "nS", "pF"]))
def test_parse_matches_exact_decimal_arithmetic(mantissa, unit):
    """'<decimal> <unit>' reads as the double nearest the exact decimal times the unit's scale."""
    from fractions import Fraction

    dim, scale = parse_unit(unit)
    assert parse_quantity(f"{mantissa} {unit}")[0] == float(Fraction(str(mantissa)) * scale)


def test_parse_unit_dimensions():
    """Unit expressions combine dimensions with * and / and integer powers."""
    assert parse_unit("mV")[0] == U.VOLTAGE
    assert parse_unit("nA/mV")[0] == U.CONDUCTANCE
    assert parse_unit("V/A")[0] == U.RESISTANCE
    assert parse_unit("A*s")[0] == U.CHARGE
    assert parse_unit("")[0] == U.DIMENSIONLESS
    assert U.parse_dim("1/s") == U.FREQUENCY
