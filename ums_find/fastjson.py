"""The usual record decoded in C (msgspec), into what the exact decoder would give. Pure.

A shortcut only: a record it cannot read comes back as None and goes through the exact
path (`json` with the contract's number hooks), which decides it as before. For the records
it does read, its three fields hold the values the exact decoder gives them: fractions and
exponents kept as their text by the same hook, integers as their value, clamped the same
way. msgspec accepts no document that `json` refuses (the hostile forms are checked in the
tests), except nesting a few levels deeper than Python's recursion limit lets `json` go, a
limit that depends on the caller's stack anyway.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ums_find.numbers import CLAMP_DIGITS, fraction_literal

_CLAMP = 10**CLAMP_DIGITS
_CONTAINERS = (list, dict)


class _Fields(msgspec.Struct):
    """The three fields the contract reads; unknown fields are skipped (still checked as JSON)."""

    name: str
    phone: Any = None
    since: Any = None


# Integers longer than Python converts (4,300 digits) are an error here: the exact path takes them.
_DECODER = msgspec.json.Decoder(_Fields, float_hook=fraction_literal)


def fields(value: bytes) -> dict[str, Any] | None:
    """`name`, `phone` and `since` as the exact decoder gives them, or None: decode it that way."""
    try:
        value.decode("utf-8")  # invalid UTF-8 anywhere makes the record "not JSON", as there
        found = _DECODER.decode(value)
    except (UnicodeDecodeError, msgspec.MsgspecError, RecursionError):
        return None
    phone, since = found.phone, found.since
    if type(phone) in _CONTAINERS or type(since) in _CONTAINERS:
        return None  # the exact decoder clamps the integers inside: let it
    return {"name": found.name, "phone": _clamped(phone), "since": _clamped(since)}


def _clamped(value: Any) -> Any:
    # As the exact decoder's integer hook: a literal of more than 18 digits is ±10**18.
    if type(value) is int and not -_CLAMP < value < _CLAMP:
        return _CLAMP if value > 0 else -_CLAMP
    return value
