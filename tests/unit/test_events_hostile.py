"""Records that used to raise out of `parse` (or take seconds in it): each is now poison, or exact."""

from __future__ import annotations

import pytest

from ums_find.events import Poison, UserAdded, format_since, parse

NAME = '"name": "Someone01"'
PHONE = '"phone": 9000000000'


def value(**fields: str) -> bytes:
    body = ", ".join([NAME, *(f'"{k}": {v}' for k, v in fields.items())])
    return ("{" + body + "}").encode()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        # decimal.Overflow when the seconds were scaled to microseconds
        (value(phone="9000000000", since="1e999999999"), "since out of range"),
        (value(phone="9000000000", since="-1E+999999"), "since out of range"),
        # an exponent of thousands of digits: int() of it refuses past 4300 digits
        (value(phone="9000000000", since="1e" + "9" * 5000), "since out of range"),
        # seconds of CPU: a 400,000-digit integral value converted to int
        (value(phone="9000000000", since="1e400000"), "since out of range"),
        (value(phone="9000000000", since="1" * 100_000 + ".5"), "since out of range"),
        # ValueError: int() of a string of more than 4300 digits
        (value(phone='"' + "9" * 5000 + '"'), "phone above 15 digits"),
        (value(phone="9" * 5000), "phone above 15 digits"),
        (value(phone="-" + "9" * 5000), "phone below 9000000000"),
        (value(phone="9000000000", since="9" * 5000), "since out of range"),
        (value(phone="9000000000", since="-" + "9" * 5000), "since out of range"),
        (value(phone="9000000000", since="[" + "9" * 5000 + ", 1, 1, 0, 0]"), "since out of range"),
        (
            value(phone="9000000000", since="[2022, 1, 1, 0, 0, 0, 1" + "0" * 5000 + "]"),
            "since not a date-time",
        ),
        # deep nesting: RecursionError in the decoder
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "not JSON"),
        (value(phone="9000000000", since="[" * 50_000 + "]" * 50_000), "not JSON"),
        # invalid UTF-8, encoded surrogates, escaped lone surrogates, NaN-like tokens
        (b'{"name": "Someone01", "phone": 9000000000, "x": "\xed\xa0\x80"}', "not JSON"),
        (b'{"name": "Some\\udc00one01", "phone": 9000000000}', "name not valid UTF-8"),
        (value(phone="9000000000", since="Infinity"), "not JSON"),
        (value(phone="-Infinity"), "not JSON"),
        (value(phone="9000000000", since="NaN"), "not JSON"),
        (value(phone="9000000000.0"), "phone not an integer"),
        (value(phone="-0"), "phone below 9000000000"),
    ],
    ids=lambda x: x[:40] if isinstance(x, bytes) else x,
)
def test_hostile_values_are_poison(record: bytes, reason: str) -> None:
    assert parse(b"Someone01", record, 0) == Poison(reason)


@pytest.mark.parametrize("timestamp_ms", [-(2**63), -30_610_224_000_001, 253_402_300_800_000, 2**63 - 1])
def test_a_record_timestamp_beyond_the_years_1000_to_9999_is_poison_when_since_is_missing(
    timestamp_ms: int,
) -> None:
    # OverflowError in datetime arithmetic before
    assert parse(b"Someone01", value(phone="9000000000"), timestamp_ms) == Poison("since out of range")


@pytest.mark.parametrize(
    ("timestamp_ms", "since"),
    [(-30_610_224_000_000, "1000-01-01T00:00:00Z"), (253_402_300_799_999, "9999-12-31T23:59:59.999Z")],
)
def test_the_edges_of_the_timestamp_range_are_valid(timestamp_ms: int, since: str) -> None:
    event = parse(b"Someone01", value(phone="9000000000"), timestamp_ms)
    assert isinstance(event, UserAdded)
    assert format_since(event.user.since) == since


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        # exact, whatever the length: a 28-digit Decimal context rounded these up a second
        ("1646128800." + "9" * 40, "2022-03-01T10:00:00.999999Z"),
        ("1646128800." + "9" * 100_000, "2022-03-01T10:00:00.999999Z"),
        ("-0." + "0" * 100_000 + "1", "1969-12-31T23:59:59.999999Z"),
        ("1e-999999999", "1970-01-01T00:00:00Z"),
        ("-1e-999999999", "1969-12-31T23:59:59.999999Z"),
        ("-0.0", "1970-01-01T00:00:00Z"),
        ("-0", "1970-01-01T00:00:00Z"),
        ("16461288001234567e-7", "2022-03-01T10:00:00.123456Z"),
        ("0.0000000000001646128800123456E+22", "2022-03-01T10:00:00.123456Z"),
        ('"' + "0" * 5000 + '9000000000"', None),
    ],
)
def test_long_and_odd_numbers_stay_exact(since: str, expected: str | None) -> None:
    record = value(phone=since) if expected is None else value(phone="9000000000", since=since)
    event = parse(b"Someone01", record, 0)
    assert isinstance(event, UserAdded)
    if expected is None:
        assert event.user.phone.value == 9000000000
    else:
        assert format_since(event.user.since) == expected
