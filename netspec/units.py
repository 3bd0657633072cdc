"""Physical quantities written as strings: ``'20 ms'``, ``'-50 mV'``, ``'1.5 nA'``, ``'10 Hz'``.

A quantity is a number and an optional unit expression (symbols with SI prefixes, joined by
``*`` and ``/``, with integer powers ``^n``). Conversion to SI is exact up to the final
rounding to float: ``'20 ms'`` gives the double nearest to 0.02, as the literal ``0.02`` does.
Plain numbers (YAML ints and floats) are SI values.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

# Dimensions are exponent tuples over (metre, kilogram, second, ampere).
_BASE = ("m", "kg", "s", "A")


class Dim(tuple):
    """A physical dimension as exponents of (m, kg, s, A)."""

    def __new__(cls, m=0, kg=0, s=0, a=0):
        return super().__new__(cls, (m, kg, s, a))

    def __mul__(self, other):
        return Dim(*(x + y for x, y in zip(self, other)))

    def __truediv__(self, other):
        return Dim(*(x - y for x, y in zip(self, other)))

    def __pow__(self, n):
        return Dim(*(x * n for x in self))

    @property
    def name(self) -> str:
        return _DIM_NAMES.get(self) or _si_string(self)


def _si_string(dim) -> str:
    up = [f"{b}^{e}" if e != 1 else b for b, e in zip(_BASE, dim) if e > 0]
    down = [f"{b}^{-e}" if e != -1 else b for b, e in zip(_BASE, dim) if e < 0]
    text = "*".join(up) or "1"
    return text + ("/" + "/".join(down) if down else "")


DIMENSIONLESS = Dim()
LENGTH = Dim(m=1)
MASS = Dim(kg=1)
TIME = Dim(s=1)
CURRENT = Dim(a=1)
FREQUENCY = Dim(s=-1)
CHARGE = CURRENT * TIME
VOLTAGE = Dim(m=2, kg=1, s=-3, a=-1)
RESISTANCE = VOLTAGE / CURRENT
CONDUCTANCE = CURRENT / VOLTAGE
CAPACITANCE = CHARGE / VOLTAGE
ENERGY = Dim(m=2, kg=1, s=-2)
POWER = ENERGY / TIME

_DIM_NAMES = {
    DIMENSIONLESS: "dimensionless", LENGTH: "length", MASS: "mass", TIME: "time",
    CURRENT: "current", FREQUENCY: "frequency", CHARGE: "charge", VOLTAGE: "voltage",
    RESISTANCE: "resistance", CONDUCTANCE: "conductance", CAPACITANCE: "capacitance",
    ENERGY: "energy", POWER: "power",
}

# Unit symbols: (dimension, scale to SI as an exact Fraction).
_UNITS = {
    "s": (TIME, Fraction(1)), "second": (TIME, Fraction(1)),
    "Hz": (FREQUENCY, Fraction(1)), "hertz": (FREQUENCY, Fraction(1)),
    "V": (VOLTAGE, Fraction(1)), "volt": (VOLTAGE, Fraction(1)),
    "A": (CURRENT, Fraction(1)), "amp": (CURRENT, Fraction(1)), "ampere": (CURRENT, Fraction(1)),
    "S": (CONDUCTANCE, Fraction(1)), "siemens": (CONDUCTANCE, Fraction(1)),
    "F": (CAPACITANCE, Fraction(1)), "farad": (CAPACITANCE, Fraction(1)),
    "ohm": (RESISTANCE, Fraction(1)), "Ohm": (RESISTANCE, Fraction(1)), "Ω": (RESISTANCE, Fraction(1)),
    "C": (CHARGE, Fraction(1)), "coulomb": (CHARGE, Fraction(1)),
    "J": (ENERGY, Fraction(1)), "W": (POWER, Fraction(1)),
    "m": (LENGTH, Fraction(1)), "metre": (LENGTH, Fraction(1)), "meter": (LENGTH, Fraction(1)),
    "g": (MASS, Fraction(1, 1000)), "gram": (MASS, Fraction(1, 1000)),
    "min": (TIME, Fraction(60)), "h": (TIME, Fraction(3600)),
    "1": (DIMENSIONLESS, Fraction(1)), "%": (DIMENSIONLESS, Fraction(1, 100)),
}
_PREFIXES = {
    "Y": 24, "Z": 21, "E": 18, "P": 15, "T": 12, "G": 9, "M": 6, "k": 3,
    "c": -2, "m": -3, "u": -6, "µ": -6, "μ": -6, "n": -9, "p": -12, "f": -15, "a": -18,
    "z": -21, "y": -24,
}
# Symbols that take SI prefixes; unit words and odd units do not.
_PREFIXABLE = {"s", "Hz", "V", "A", "S", "F", "ohm", "Ohm", "Ω", "C", "J", "W", "m", "g"}

_NUMBER = r"[+-]?(?:\d+(?:_\d+)*\.?\d*(?:_\d+)*|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER}|[+-]?inf)\s*\*?\s*(?P<unit>.*?)\s*$")
_FACTOR = re.compile(r"^(?P<sym>[A-Za-zµμΩ%]+|1)(?:\s*(?:\^|\*\*)\s*(?P<exp>[+-]?\d+))?$")


#: largest power a unit may be raised to ('s^2', 'm^-3'); larger ones are surely typos
MAX_POWER = 12


class UnitError(ValueError):
    """A quantity or unit string that cannot be read: ``reason`` says why, ``hint`` is a
    did-you-mean (or empty); ``str()`` gives both."""

    def __init__(self, reason: str, hint: str = "", text: str | None = None):
        super().__init__(reason + (f" (got {text!r})" if text is not None else "") + hint)
        self.reason = reason
        self.hint = hint


def parse_unit(text: str) -> tuple[Dim, Fraction]:
    """Reads a unit expression such as ``'mV'``, ``'nA/mV'``, ``'1/s'`` or ``'m*s^-2'``."""
    text = text.strip()
    if not text:
        return DIMENSIONLESS, Fraction(1)
    dim, scale = DIMENSIONLESS, Fraction(1)
    # split on * and / while keeping ** (power) intact
    tokens = re.split(r"(?<!\*)(\*|/)(?!\*)", text.replace(" ", ""))
    sign = 1
    for tok in tokens:
        if tok == "*":
            sign = 1
            continue
        if tok == "/":
            sign = -1
            continue
        m = _FACTOR.match(tok)
        if not m:
            raise UnitError(f"cannot read unit {text!r}")
        d, s = _symbol(m.group("sym"), text)
        e = int(m.group("exp") or 1) * sign
        if abs(e) > MAX_POWER:
            raise UnitError(f"unit power {e} out of range in {text!r} (at most {MAX_POWER} either way)")
        dim = dim * (d ** e)
        scale = scale * (s ** e)
        sign = 1
    return dim, scale


def _symbol(sym: str, whole: str) -> tuple[Dim, Fraction]:
    if sym in _UNITS:
        return _UNITS[sym]
    for plen in (2, 1):
        prefix, base = sym[:plen], sym[plen:]
        if prefix in _PREFIXES and base in _PREFIXABLE:
            d, s = _UNITS[base]
            return d, s * Fraction(10) ** _PREFIXES[prefix]
    where = f" in {whole!r}" if whole.replace(" ", "") != sym else ""
    raise UnitError(f"unknown unit {sym!r}{where}", _unit_hint(sym))


_WORDS = {"volt": "V", "volts": "V", "second": "s", "seconds": "s", "sec": "s", "secs": "s", "amp": "A",
          "amps": "A", "ampere": "A", "amperes": "A", "hertz": "Hz", "hz": "Hz", "siemens": "S", "farad": "F",
          "farads": "F", "ohm": "ohm", "ohms": "ohm", "coulomb": "C", "metre": "m", "meter": "m", "gram": "g"}
_PREFIX_WORDS = {"": "", "milli": "m", "micro": "u", "nano": "n", "pico": "p", "femto": "f", "kilo": "k",
                 "mega": "M", "giga": "G", "m": "m", "u": "u", "n": "n", "p": "p", "k": "k", "M": "M", "G": "G"}


def _unit_hint(sym: str) -> str:
    import difflib

    # a prefix and a unit word ('mvolt', 'millisecond', 'msec'): the symbol
    for word, symbol in _WORDS.items():
        for pword, prefix in _PREFIX_WORDS.items():
            if sym in (pword + word, pword + word.capitalize()) and (prefix or symbol != word):
                return f" (did you mean {prefix + symbol!r}?)"
    known = sorted(set(_UNITS) | {p + b for p in ("m", "u", "n", "p", "k", "M") for b in _PREFIXABLE})
    same = [k for k in known if k.lower() == sym.lower()]  # 'mv', 'KHZ'
    if len(same) > 1:  # 'mv': mV or MV; keep the case of the prefix
        same = [k for k in same if k[0] == sym[0]]
    if len(same) == 1:
        return f" (did you mean {same[0]!r}?)"
    match = difflib.get_close_matches(sym, known, n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def parse_quantity(text: str) -> tuple[float, Dim, bool]:
    """Reads ``'<number> [unit]'`` and returns (SI value, dimension, whether a unit was written)."""
    if not isinstance(text, str):
        raise UnitError(f"expected a quantity string, got {text!r}")
    m = _QUANTITY.match(text)
    if not m:
        raise UnitError("cannot read it as a number with a unit", text=text)
    num, unit = m.group("num"), m.group("unit")
    dim, scale = parse_unit(unit)
    if num.lstrip("+-") == "inf":
        value = math.copysign(math.inf, -1.0 if num.startswith("-") else 1.0)
        return value, dim, bool(unit)
    digits = num.replace("_", "")
    mantissa, _, exponent = digits.lower().partition("e")
    if len(mantissa) > 1000 or len(exponent.lstrip("+-")) > 12:
        raise UnitError("the number has too many digits", text=text)
    negative = mantissa.startswith("-")
    if exponent and abs(int(exponent)) > 1000 + len(mantissa):
        # so far out that no unit brings it back into the range of a double (and computing
        # 10**exponent exactly would take forever)
        if int(exponent) > 0 and Fraction(mantissa) != 0:
            raise UnitError("too large for a double", text=text)
        return (-0.0 if negative else 0.0), dim, bool(unit.strip())
    exact = Fraction(digits) * scale
    try:
        value = float(exact)
    except OverflowError:
        raise UnitError("too large for a double", text=text) from None
    if value == 0 and negative:
        value = -0.0  # '-0 ms' reads as -0.0, as the literal -0.0 does
    return value, dim, bool(unit.strip())



# The units a dumped netlist writes for each dimension, with the prefixes it may use.
_DISPLAY = {
    TIME: ("s", (-3, -6, 0)),
    VOLTAGE: ("V", (-3, 0, -6)),
    CURRENT: ("A", (-9, -12, -6, -3, 0)),
    FREQUENCY: ("Hz", (0, 3)),
    CONDUCTANCE: ("S", (-9, -12, -6, -3, 0)),
    CAPACITANCE: ("F", (-12, -9, -6, 0)),
    RESISTANCE: ("ohm", (6, 3, 9, 0)),
    CHARGE: ("C", (-12, -9, 0)),
}
_PREFIX_OF = {-24: "y", -21: "z", -18: "a", -15: "f", -12: "p", -9: "n", -6: "u", -3: "m", 0: "",
              3: "k", 6: "M", 9: "G", 12: "T"}


def format_quantity(value: float, dim: Dim) -> str | float | int:
    """Writes a value for a netlist so that reading it back gives exactly the same float.

    Prefers a unit whose mantissa is short ('20 ms' rather than '0.02 s'); plain numbers for
    dimensionless values.
    """
    if dim == DIMENSIONLESS:
        return value
    if not math.isfinite(value):  # nan only appears in messages: netlists refuse it
        unit = _DISPLAY.get(dim, (_si_string(dim), (0,)))[0]
        return f"{'nan' if math.isnan(value) else '-inf' if value < 0 else 'inf'} {unit}"
    unit, exps = _DISPLAY.get(dim, (_si_string(dim), (0,)))
    best = None
    for e in exps:
        text = _shortest(value, e, f"{_PREFIX_OF[e]}{unit}")
        if text is not None and (best is None or len(text) < len(best)):
            best = text
    return best if best is not None else f"{value!r} {unit}"


def _shortest(value: float, exp: int, unit: str) -> str | None:
    """The shortest '<mantissa> <unit>' that reads back as exactly ``value``."""
    try:
        scaled = float(Fraction(value) / Fraction(10) ** exp)
    except OverflowError:
        return None  # too large for this prefix
    for digits in range(1, 18):
        mantissa = f"{scaled:.{digits}g}"
        if "e" in mantissa:
            continue
        text = f"{mantissa} {unit}"
        back = parse_quantity(text)[0]
        if back == value and math.copysign(1.0, back) == math.copysign(1.0, value):
            return text
    return None


def parse_dim(unit: str) -> Dim:
    """The dimension of a unit expression (used by model descriptions: ``'volt'``, ``'1/s'``)."""
    return parse_unit(unit)[0]
