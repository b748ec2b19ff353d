"""The `user-added` contract: a raw record in, an event or a poison reason out. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ums_find.domain import (
    DomainError,
    InvalidPhone,
    InvalidSince,
    Name,
    PhoneNumber,
    User,
    check_since,
)
from ums_find.fastjson import fields
from ums_find.numbers import Number, clamped_int, floor_scaled, fraction_literal, integer_literal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The moments the view can hold, as microseconds from the epoch: checked before any datetime
# arithmetic, which raises OverflowError past year 9999.
_MICROS_MIN = (datetime(1000, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
_MICROS_MAX = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


@dataclass(frozen=True)
class UserAdded:
    """A valid record: the user as the view must hold it."""

    user: User


@dataclass(frozen=True)
class UserErased:
    """A tombstone: the name leaves the view."""

    name: Name


@dataclass(frozen=True)
class Poison:
    """A record that breaks the contract, and why."""

    reason: str


Event = UserAdded | UserErased


def parse(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
    """Read one record of the topic by the contract."""
    try:
        if value is None:
            return _tombstone(key)
        return UserAdded(_user(fields(value) or _object(value), timestamp_ms))
    except DomainError as exc:
        return Poison(str(exc))


def _tombstone(key: bytes | None) -> UserErased:
    if key is None:
        raise DomainError("tombstone without key")
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError("key not UTF-8") from None
    return UserErased(Name(text))


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


# One decoder for all records (json.loads with hooks builds a new one per call). Long integer
# literals are clamped and others kept as text: int() or Decimal of them raises or takes seconds.
_DECODER = json.JSONDecoder(
    parse_int=integer_literal, parse_float=fraction_literal, parse_constant=_reject_constant
)


def _object(value: bytes) -> dict[str, Any]:
    try:
        doc = _DECODER.decode(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DomainError("not JSON") from None
    if not isinstance(doc, dict):
        raise DomainError("not an object")
    return doc


def _user(doc: dict[str, Any], timestamp_ms: int) -> User:
    if doc.get("name") is None:
        raise DomainError("name missing")
    name = Name(doc["name"])
    phone = parse_phone(doc.get("phone"))
    raw_since = doc.get("since")
    since = epoch_millis(timestamp_ms) if raw_since is None else parse_since(raw_since)
    return User(name, phone, since)


def parse_phone(raw: object) -> PhoneNumber:
    """A phone from a JSON integer or a string of ASCII digits."""
    if raw is None:
        raise InvalidPhone("phone missing")
    if isinstance(raw, str):
        if not _DIGITS.fullmatch(raw):
            raise InvalidPhone("phone not digits")
        return PhoneNumber(clamped_int(raw))
    return PhoneNumber(raw)  # type: ignore[arg-type]  # PhoneNumber rejects non-integers


def parse_since(raw: object) -> datetime:
    """A join moment in any of the four forms Jackson writes, in UTC, to the microsecond."""
    try:
        if type(raw) is str:  # the usual form first
            return check_since(_iso(raw))
        if isinstance(raw, bool):
            raise InvalidSince("since not a date-time")
        if isinstance(raw, Number):
            return check_since(_from_micros(floor_scaled(raw, 6)))
        if isinstance(raw, int):
            return check_since(epoch_millis(raw))
        if isinstance(raw, str):
            return check_since(_iso(raw))
        if isinstance(raw, list):
            return check_since(_local_array(raw))
    except OverflowError:
        raise InvalidSince("since out of range") from None
    raise InvalidSince("since not a date-time")


def epoch_millis(ms: int) -> datetime:
    """The UTC moment `ms` milliseconds after the epoch."""
    return _from_micros(ms * 1000)


def _from_micros(micros: int) -> datetime:
    if not _MICROS_MIN <= micros <= _MICROS_MAX:
        raise InvalidSince("since out of range")
    return EPOCH + timedelta(microseconds=micros)


def _iso(text: str) -> datetime:
    match = _ISO.fullmatch(text)
    if not match:
        raise InvalidSince("since not a date-time")
    zulu = text[-1] == "Z"
    if len(text) - zulu <= 26 and text[11:13] != "24" and (zulu or match[8] is None):
        # The usual forms (UTC or no offset, at most 6 fraction digits, the shape checked
        # above): fromisoformat reads them as the fields below do, at a tenth of the cost.
        # Other offsets and longer fractions take the field by field path (fromisoformat
        # takes minutes past 59 in an offset; how it rounds long fractions varies by version).
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidSince("since not a date-time") from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros)
    except ValueError:
        raise InvalidSince("since not a date-time") from None
    return local.replace(tzinfo=_zone(offset)) if offset else local.replace(tzinfo=UTC)


def _zone(offset: str) -> timezone:
    if offset == "Z":
        return UTC
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise InvalidSince("since not a date-time")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def _local_array(parts: list[Any]) -> datetime:
    if not 5 <= len(parts) <= 7 or any(isinstance(p, bool) or not isinstance(p, int) for p in parts):
        raise InvalidSince("since not a date-time")
    # Integer literals too long to matter come clamped: datetime() rejects them as too large.
    year, month, day, hour, minute, second, nanos = ([*parts, 0, 0])[:7]
    if not 0 <= nanos <= 999_999_999:
        raise InvalidSince("since not a date-time")
    try:
        return datetime(year, month, day, hour, minute, second, nanos // 1000, UTC)
    except ValueError:
        raise InvalidSince("since not a date-time") from None


def format_since(moment: datetime) -> str:
    """ISO-8601 in UTC with `Z`, the fraction shown only as far as it is not zero."""
    utc = moment.astimezone(UTC) if moment.tzinfo not in (None, UTC) else moment
    text = utc.isoformat(timespec="seconds")[:19]  # a tenth of strftime's cost; year padded to 4
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def encode(user: User) -> bytes:
    """The record value AddService would write for this user."""
    doc = {"name": user.name.value, "phone": user.phone.value, "since": format_since(user.since)}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
