"""The domain model: names, phone numbers, users and their rules. No I/O."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

NAME_MIN, NAME_MAX = 8, 32
PHONE_MIN, PHONE_MAX = 9_000_000_000, 999_999_999_999_999


class DomainError(ValueError):
    """A value breaks a rule of the domain; the message is the reason."""


class InvalidName(DomainError):
    """A name is missing, not text, or out of length."""


class InvalidPhone(DomainError):
    """A phone number is not an integer in the allowed range."""


class InvalidSince(DomainError):
    """A join moment is not a date-time the view can store."""


@dataclass(frozen=True, slots=True)
class Name:
    """A user's name: stripped, then 8 to 32 characters (code points)."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidName("name not a string")
        stripped = self.value.strip()
        if not stripped.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in stripped):
            raise InvalidName("name not valid UTF-8")
        if len(stripped) < NAME_MIN:
            raise InvalidName("name too short")
        if len(stripped) > NAME_MAX:
            raise InvalidName("name too long")
        object.__setattr__(self, "value", stripped)

    @property
    def fold(self) -> str:
        """A key at least as coarse as the database's case- and accent-blind collation."""
        if self.value.isascii():  # the common case, and a hot path of replays
            return self.value.casefold()
        decomposed = unicodedata.normalize("NFKD", self.value)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        return bare.casefold()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """An E.164 phone number from 9000000000 up to 15 digits."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidPhone("phone not an integer")
        if self.value < PHONE_MIN:
            raise InvalidPhone(f"phone below {PHONE_MIN}")
        if self.value > PHONE_MAX:
            raise InvalidPhone("phone above 15 digits")

    def masked(self) -> str:
        """The number as logs may show it: all but the last two digits hidden."""
        digits = str(self.value)
        return "*" * (len(digits) - 2) + digits[-2:]


MIN_SINCE = datetime(1000, 1, 1, tzinfo=UTC)


def check_since(moment: datetime) -> datetime:
    """Return the moment in UTC, or raise if the view cannot hold it."""
    if moment.tzinfo is None:
        raise InvalidSince("since not a date-time")
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if utc < MIN_SINCE:
        raise InvalidSince("since out of range")
    return utc


class User:
    """A user, identified by name; the phone may change, name and since may not."""

    __slots__ = ("_name", "_phone", "_since")

    def __init__(self, name: Name, phone: PhoneNumber, since: datetime) -> None:
        self._name = name
        self._phone = phone
        self._since = check_since(since)

    @property
    def name(self) -> Name:
        return self._name

    @property
    def since(self) -> datetime:
        return self._since

    @property
    def phone(self) -> PhoneNumber:
        return self._phone

    @phone.setter
    def phone(self, value: PhoneNumber) -> None:
        if not isinstance(value, PhoneNumber):
            raise InvalidPhone("phone not an integer")
        self._phone = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"User({self.name.value!r}, phone={self.phone.masked()}, since={self.since.isoformat()})"
