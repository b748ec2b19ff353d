from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ums_find.domain import (
    InvalidName,
    InvalidPhone,
    InvalidSince,
    Name,
    PhoneNumber,
    User,
)

SINCE = datetime(2022, 3, 1, 10, tzinfo=UTC)


def test_name_is_stripped_and_counted_in_code_points() -> None:
    assert Name("  KrishnaMohan \t").value == "KrishnaMohan"
    assert Name("Ünïcødé Ñame").value == "Ünïcødé Ñame"
    assert Name("A" * 32).value == "A" * 32


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("Krishna", "name too short"),
        ("  Abcdefg  ", "name too short"),
        ("B" * 33, "name too long"),
        (123, "name not a string"),
    ],
)
def test_name_rules(raw: object, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason):
        Name(raw)  # type: ignore[arg-type]


def test_name_fold_is_case_and_accent_blind() -> None:
    assert Name("KrishnaMohan").fold == Name("krishnamohan").fold
    assert Name("Ünïcødé Ñame").fold == Name("unicødé name").fold


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (8_999_999_999, "phone below 9000000000"),
        (10**15, "phone above 15 digits"),
        (True, "phone not an integer"),
        (9.5e9, "phone not an integer"),
    ],
)
def test_phone_rules(raw: object, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        PhoneNumber(raw)  # type: ignore[arg-type]


def test_phone_bounds_are_inclusive_and_masked_in_logs() -> None:
    assert PhoneNumber(9_000_000_000).value == 9_000_000_000
    assert PhoneNumber(999_999_999_999_999).masked() == "*" * 13 + "99"


def test_user_identity_is_its_name_and_phone_changes_only_validly() -> None:
    user = User(Name("KrishnaMohan"), PhoneNumber(9876543210), SINCE)
    same = User(Name("KrishnaMohan"), PhoneNumber(9123456789), SINCE + timedelta(days=1))
    assert user == same and hash(user) == hash(same)
    user.phone = PhoneNumber(9123456789)
    assert user.phone.value == 9123456789
    with pytest.raises(InvalidPhone):
        user.phone = 9123456789  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        user.name = Name("SomeoneElse")  # type: ignore[misc]
    assert "9876543210" not in repr(user) and "9123456789" not in repr(user)


def test_user_since_is_utc_and_in_range() -> None:
    local = datetime(2022, 3, 1, 15, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert User(Name("KrishnaMohan"), PhoneNumber(9876543210), local).since == SINCE
    with pytest.raises(InvalidSince):
        User(Name("KrishnaMohan"), PhoneNumber(9876543210), datetime(2022, 3, 1))
    with pytest.raises(InvalidSince, match="out of range"):
        User(Name("KrishnaMohan"), PhoneNumber(9876543210), datetime(999, 1, 1, tzinfo=UTC))
