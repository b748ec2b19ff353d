"""The API's reads: one point query per lookup over a per-thread persistent connection."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ums_find.settings import Settings
from ums_find.store.connection import (
    DatabaseUnavailable,
    Tables,
    close_quietly,
    connect,
    translate_errors,
)


class UserRecord(NamedTuple):
    """A row of the view as the API answers it."""

    name: str
    phone: int
    since: datetime


class UserReader:
    """Looks users up; each thread keeps its own connection and reconnects after a fault."""

    def __init__(self, settings: Settings, tables: Tables = Tables()) -> None:
        self._settings = settings
        self._sql = f"SELECT name, phone, since FROM `{tables.view}` WHERE name = %s"
        self._local = threading.local()

    def fetch(self, name: str) -> UserRecord | None:
        """The row whose name equals `name` under the table's collation, or None."""
        rows = self._query(self._sql, (name,))
        if not rows:
            return None
        stored, phone, since = rows[0]
        return UserRecord(stored, int(phone), since.replace(tzinfo=UTC))

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        self._query("SELECT 1", ())

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # A kept connection may have died since its last use (server restart, KILL):
        # one retry on a fresh connection tells a stale socket from an outage.
        for attempt in (1, 2):
            try:
                with translate_errors():
                    cursor = self._cursor()
                    cursor.execute(sql, params)
                    return list(cursor.fetchall())
            except DatabaseUnavailable:
                self._drop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _cursor(self) -> Any:
        # One cursor per connection, kept: the connector's `cursor()` pings the server
        # first, a round trip that cost a third of each lookup. A dead connection still
        # shows, as an error of `execute`, which the retry above handles.
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            self._local.conn = connect(self._settings, autocommit=True)
            cursor = self._local.cursor = self._local.conn.cursor()
        return cursor

    def _drop(self) -> None:
        close_quietly(getattr(self._local, "conn", None))
        self._local.conn = None
        self._local.cursor = None
