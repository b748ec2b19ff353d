"""Direct SQL for tests: set-up, tear-down and reading the view back."""

from __future__ import annotations

from typing import Any

from ums_find.settings import Settings
from ums_find.store import connect


def drop_database(settings: Settings) -> None:
    """Remove a test's database."""
    conn = connect(settings, database=False)
    try:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.mysql.database}`")
    finally:
        conn.close()


def query(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit and return its rows."""
    conn = connect(settings)
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.with_rows else []
    finally:
        conn.close()


def view_rows(settings: Settings, table: str = "ums_users") -> dict[str, tuple[int, Any]]:
    """The whole view: name -> (phone, since)."""
    rows = query(settings, f"SELECT name, phone, since FROM `{table}`")
    return {name: (int(phone), since) for name, phone, since in rows}


def checkpoints(settings: Settings) -> dict[int, int]:
    """The test consumer's stored next offsets by partition."""
    rows = query(
        settings,
        "SELECT part, next_offset FROM ums_checkpoints WHERE consumer = %s AND topic = %s",
        (settings.consumer.name, settings.kafka.topic),
    )
    return {int(p): int(o) for p, o in rows}


def kill_connections(settings: Settings) -> int:
    """KILL every other connection to the test's database; return how many."""
    conn = connect(settings)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (settings.mysql.database,),
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
        for tid in ids:
            cursor.execute(f"KILL {tid}")
        return len(ids)
    finally:
        conn.close()
