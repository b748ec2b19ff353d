from __future__ import annotations

from datetime import UTC, datetime

from ums_find.domain import Name, PhoneNumber, User
from ums_find.store import Change
from ums_find.store.projection import collapse, split_by_collation

SINCE = datetime(2022, 3, 1, tzinfo=UTC)


def put(name: str, phone: int = 9876543210) -> Change:
    return Change.of(Name(name), User(Name(name), PhoneNumber(phone), SINCE))


def test_collapse_keeps_each_names_last_change_in_order_of_those() -> None:
    changes = [put("KrishnaMohan"), put("Someone0001"), Change.of(Name("KrishnaMohan"), None)]
    assert collapse(changes) == [changes[1], changes[2]]


def test_spellings_the_collation_may_merge_are_kept_in_order() -> None:
    changes = [
        put("KrishnaMohan"),
        put("Someone0001"),
        Change.of(Name("krishnamohan"), None),
        put("Ünïcødé Ñame"),
    ]
    bulk, ordered = split_by_collation(changes)
    assert ordered == [changes[0], changes[2]]
    assert bulk == [changes[1], changes[3]]
