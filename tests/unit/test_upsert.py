"""The upsert's dialect: MySQL's row alias from 8.0.19, VALUES() on MariaDB and older servers."""

from __future__ import annotations

import pytest

from ums_find.store.projection import CHECKPOINT_COLUMNS
from ums_find.store.upsert import row_alias_supported, upsert


@pytest.mark.parametrize(
    ("version", "alias"),
    [
        ("8.4.3", True),
        ("8.0.36-0ubuntu0.22.04.1", True),
        ("8.0.19", True),
        ("9.1.0", True),
        ("8.0.18", False),
        ("5.7.44-log", False),
        # MariaDB prefixes a fake 5.5.5 for old clients; either way it has no row alias.
        ("5.5.5-10.11.19-MariaDB-0+deb12u1", False),
        ("10.11.6-MariaDB", False),
        ("11.4.2-MariaDB-log", False),
        ("", False),
    ],
)
def test_the_form_follows_the_server_version(version: str, alias: bool) -> None:
    assert row_alias_supported(version) is alias


def test_the_view_upsert_in_both_dialects() -> None:
    columns = ("name", "phone", "since")
    rows = "('a',1,'2022-03-01 10:00:00'),('b',2,'2022-03-01 10:00:00')"
    assert upsert("ums_users", columns, rows, columns, alias=True) == (
        f"INSERT INTO `ums_users` (name, phone, since) VALUES {rows} AS incoming "
        "ON DUPLICATE KEY UPDATE name = incoming.name, phone = incoming.phone, since = incoming.since"
    )
    assert upsert("ums_users", columns, rows, columns, alias=False) == (
        f"INSERT INTO `ums_users` (name, phone, since) VALUES {rows} "
        "ON DUPLICATE KEY UPDATE name = VALUES(name), phone = VALUES(phone), since = VALUES(since)"
    )


def test_the_checkpoint_upsert_keeps_plain_assignments() -> None:
    updates = ("next_offset", "updated_at = CURRENT_TIMESTAMP(6)")
    marks = "(%s, %s, %s, %s)"
    assert upsert("ums_checkpoints", CHECKPOINT_COLUMNS, marks, updates, alias=True) == (
        "INSERT INTO `ums_checkpoints` (consumer, topic, part, next_offset) VALUES (%s, %s, %s, %s) "
        "AS incoming ON DUPLICATE KEY UPDATE next_offset = incoming.next_offset, "
        "updated_at = CURRENT_TIMESTAMP(6)"
    )
    assert upsert("ums_checkpoints", CHECKPOINT_COLUMNS, marks, updates, alias=False) == (
        "INSERT INTO `ums_checkpoints` (consumer, topic, part, next_offset) VALUES (%s, %s, %s, %s) "
        "ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), updated_at = CURRENT_TIMESTAMP(6)"
    )
