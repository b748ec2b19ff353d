"""JSON numbers kept as written and converted only once their digits show they are small. Pure.

Python's own conversions are not safe on hostile input: `int()` refuses more than 4300
digits and is quadratic below that, `Decimal` arithmetic overflows on huge exponents and
rounds long fractions at its precision. Everything here works on the literal's text, in
time linear in its length, and is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The JSON number grammar (what the decoder hands its hooks), split into its parts.
_LITERAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?)([0-9]+))?", re.ASCII)
_SIGN_AND_ZEROS = re.compile(r"[-+]?0*")  # a regex skips a long run of zeros faster than str.lstrip

CLAMP_DIGITS = 18  # more digits than any field's valid range has: the value only needs to be "too big"


@dataclass(slots=True)
class Number:
    """A JSON number written with a fraction or an exponent, as its text."""

    text: str


def integer_literal(text: str) -> int:
    """The decoder's hook for integer literals: their value, clamped to ±10**18 when longer."""
    return int(text) if len(text) <= CLAMP_DIGITS else clamped_int(text)


def fraction_literal(text: str) -> Number:
    """The decoder's hook for literals with a fraction or an exponent: kept as text."""
    return Number(text)


def clamped_int(digits: str) -> int:
    """A decimal string (sign and leading zeros allowed) as an int, or ±10**18 when it is longer."""
    negative = digits.startswith("-")
    significant = _significant(digits)
    if len(significant) > CLAMP_DIGITS:
        return -(10**CLAMP_DIGITS) if negative else 10**CLAMP_DIGITS
    value = int(significant or "0")
    return -value if negative else value


def _significant(digits: str) -> str:
    """The digits without sign and leading zeros."""
    return digits[_SIGN_AND_ZEROS.match(digits).end() :]  # type: ignore[union-attr]  # always matches


def floor_scaled(number: Number, scale: int, limit_digits: int = 20) -> int:
    """floor(value * 10**scale), exactly; ±10**limit_digits when the result has more digits."""
    text = number.text
    if len(text) <= limit_digits and "e" not in text and "E" not in text:
        # The common short form (an Instant's seconds and nanoseconds): digits moved by hand.
        whole, _, fraction = text.partition(".")
        if len(whole.lstrip("-")) + scale <= limit_digits:
            value = int(whole + fraction[:scale].ljust(scale, "0"))
            return value - 1 if whole.startswith("-") and fraction[scale:].strip("0") else value
    match = _LITERAL.fullmatch(text)
    if match is None:
        raise ValueError("not a JSON number")
    sign, whole, fraction, exp_sign, exp_digits = match.groups()
    fraction = fraction or ""
    digits = _significant(whole + fraction)
    if not digits:
        return 0  # zero, negative zero included
    # value = int(digits) * 10**(exponent - len(fraction)); an exponent larger than the
    # literal is long pushes every digit past any limit (or below 10**-scale) just the same.
    cap = len(number.text) + limit_digits + abs(scale)
    exp_digits = _significant(exp_digits or "0") or "0"
    exponent = min(int(exp_digits), cap) if len(exp_digits) <= len(str(cap)) else cap
    shift = (-exponent if exp_sign == "-" else exponent) - len(fraction) + scale
    whole_digits = len(digits) + shift  # digits of floor(|value| * 10**scale)
    if whole_digits > limit_digits:
        return -(10**limit_digits) if sign else 10**limit_digits
    if shift >= 0:
        magnitude, remainder = int(digits) * 10**shift, False
    else:
        kept = max(whole_digits, 0)
        magnitude = int(digits[:kept] or "0")
        remainder = bool(digits[kept:].strip("0"))
    # Towards the past: a negative value with a dropped remainder goes one unit down.
    return -(magnitude + remainder) if sign else magnitude
