"""The usual record decoded in C (msgspec), into what the exact decoder would give. Pure.

A shortcut only: a record it cannot read, or whose phone or since is not in a plain form,
comes back as None and goes through the exact path (`json` with the contract's number
hooks), which decides it as before. For the records it does read, its three fields hold the
same values the exact path's decoder gives them (number literals through the same hooks),
so everything after decoding is shared. msgspec accepts no document that `json` refuses
(the hostile forms are checked in the tests), except nesting a few levels deeper than
Python's recursion limit lets `json` go, a limit that depends on the caller's stack anyway.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ums_find.numbers import fraction_literal, integer_literal

_NULL = msgspec.Raw(b"null")
_NUMBER_START = frozenset(b"-0123456789")
_EXACT = object()  # a literal only the exact decoder reads as the contract means


class _Fields(msgspec.Struct):
    """The three fields the contract reads; unknown fields are skipped (still checked as JSON)."""

    name: str
    phone: msgspec.Raw
    since: msgspec.Raw = _NULL


_DECODER = msgspec.json.Decoder(_Fields)


def fields(value: bytes) -> dict[str, Any] | None:
    """`name`, `phone` and `since` as the exact decoder gives them, or None: decode it that way."""
    try:
        value.decode("utf-8")  # invalid UTF-8 anywhere makes the record "not JSON", as there
        found = _DECODER.decode(value)
    except (UnicodeDecodeError, msgspec.MsgspecError, RecursionError):
        return None
    phone, since = _plain(bytes(found.phone)), _plain(bytes(found.since))
    if phone is _EXACT or phone is None or since is _EXACT:
        return None
    return {"name": found.name, "phone": phone, "since": since}


def _plain(raw: bytes) -> Any:
    """The value of a simple JSON literal, or _EXACT when it needs the exact decoder."""
    first = raw[0]
    if first == 0x22:  # a string: plain only without escapes
        return _EXACT if b"\\" in raw else raw[1:-1].decode("utf-8")
    if first in _NUMBER_START:
        text = raw.decode("ascii")
        fraction = b"." in raw or b"e" in raw or b"E" in raw
        return fraction_literal(text) if fraction else integer_literal(text)
    if raw == b"null":
        return None
    return _EXACT  # true, false, arrays, objects
