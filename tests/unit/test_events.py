from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.samples import load_samples, raw
from ums_find.domain import Name
from ums_find.events import Poison, UserAdded, UserErased, format_since, parse

SAMPLES = load_samples()


def view_of(event: UserAdded) -> dict[str, Any]:
    user = event.user
    return {"name": user.name.value, "phone": user.phone.value, "since": format_since(user.since)}


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["note"] + ":" + str(s["key"]) for s in SAMPLES])
def test_every_sample_parses_as_its_expect_says(sample: dict[str, Any]) -> None:
    event = parse(*raw(sample))
    expect = sample["expect"]
    if "dlq" in expect:
        assert event == Poison(expect["dlq"])
    elif expect["view"] is None:
        assert isinstance(event, UserErased)
        assert event.name.value == expect["name"]
    else:
        assert isinstance(event, UserAdded)
        assert view_of(event) == expect["view"]


def added(value: str, ts: int = 0) -> UserAdded | UserErased | Poison:
    return parse(b"k", value.encode(), ts)


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ('"2022-03-01T10:00:00.1234569Z"', "2022-03-01T10:00:00.123456Z"),
        ('"2022-03-01T10:00:00-02:00"', "2022-03-01T12:00:00Z"),
        ("1646128800.9999999", "2022-03-01T10:00:00.999999Z"),
        ("-1.0000001", "1969-12-31T23:59:58.999999Z"),
        ("[2022, 3, 1, 10, 0, 5, 999]", "2022-03-01T10:00:05Z"),
        ("null", "1970-01-01T00:00:01Z"),
    ],
)
def test_since_forms_round_down_to_the_microsecond(since: str, expected: str) -> None:
    event = added(f'{{"name": "Someone01", "phone": 9000000000, "since": {since}}}', ts=1000)
    assert isinstance(event, UserAdded)
    assert format_since(event.user.since) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"name": "Someone01", "phone": 9000000000, "since": "0999-12-31T23:59:59Z"}', "since out of range"),
        (
            '{"name": "Someone01", "phone": 9000000000, "since": "1000-01-01T00:30+01:00"}',
            "since out of range",
        ),
        (
            '{"name": "Someone01", "phone": 9000000000, "since": "9999-12-31T23:30-01:00"}',
            "since out of range",
        ),
        ('{"name": "Someone01", "phone": 9000000000, "since": 999999999999999999}', "since out of range"),
        ('{"name": "Someone01", "phone": 9000000000, "since": "2022-02-30T10:00Z"}', "since not a date-time"),
        (
            '{"name": "Someone01", "phone": 9000000000, "since": "2022-03-01 10:00:00"}',
            "since not a date-time",
        ),
        ('{"name": "Someone01", "phone": 9000000000, "since": true}', "since not a date-time"),
        ('{"name": "Someone01", "phone": 9000000000, "since": [2022, 3, 1]}', "since not a date-time"),
        (
            '{"name": "Someone01", "phone": 9000000000, "since": [2022, 3, 1, 10, 0, 0, 1e9]}',
            "since not a date-time",
        ),
        ('{"name": "Someone01", "phone": true}', "phone not an integer"),
        ('{"name": "Someone01", "phone": 9.87654321E9}', "phone not an integer"),
        ('{"name": "Someone01", "phone": "٩٨٧٦٥٤٣٢١٠"}', "phone not digits"),
        ('{"name": "Someone01", "phone": ""}', "phone not digits"),
        ('{"name": "Someone01"}', "phone missing"),
        ('{"name": null, "phone": 9000000000}', "name missing"),
        ('{"name": "\\ud800Someone01", "phone": 9000000000}', "name not valid UTF-8"),
        ('{"name": "Someone01", "phone": NaN}', "not JSON"),
        ("", "not JSON"),
        ("null", "not an object"),
    ],
)
def test_poison_reasons(value: str, reason: str) -> None:
    assert added(value) == Poison(reason)


def test_value_not_utf8_is_poison() -> None:
    assert parse(b"k", b'{"name": "\xff\xfeSomeone01"}', 0) == Poison("not JSON")


def test_tombstone_key_rules() -> None:
    assert parse(b"  Someone01 ", None, 0) == UserErased(Name("Someone01"))
    assert parse(b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", None, 0) == Poison("key not UTF-8")
    assert parse(b"short", None, 0) == Poison("name too short")
    assert parse(None, None, 0) == Poison("tombstone without key")


def test_name_in_value_wins_over_key() -> None:
    event = parse(b"OtherName01", b'{"name": "Someone01", "phone": 9000000000}', 0)
    assert isinstance(event, UserAdded)
    assert event.user.name.value == "Someone01"


def test_format_since_of_whole_seconds() -> None:
    moment = datetime(2022, 3, 1, 10, 0, tzinfo=UTC)
    assert format_since(moment) == "2022-03-01T10:00:00Z"
