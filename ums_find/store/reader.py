"""The API's reads: one point query per lookup over a per-thread persistent connection."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import mysql.connector

from ums_find.settings import Settings
from ums_find.store.breaker import Breaker
from ums_find.store.connection import (
    DatabaseUnavailable,
    Tables,
    close_quietly,
    connect,
    translate_errors,
)

REFUSED = "the database refused the query (see the log)"


class UserRecord(NamedTuple):
    """A row of the view as the API answers it."""

    name: str
    phone: int
    since: datetime


class Counter(Protocol):
    """Something that counts up and down (a Prometheus gauge)."""

    def inc(self, amount: float = 1) -> None: ...

    def dec(self, amount: float = 1) -> None: ...


class UserReader:
    """Looks users up; each thread keeps its own connection and reconnects after a fault.

    Connections have the short `UMS_API_DB_TIMEOUT_S` read and write timeouts, and a breaker
    lets one request at a time try the database while it fails, so an outage answers 503 fast.
    """

    def __init__(self, settings: Settings, tables: Tables = Tables(), in_use: Counter | None = None) -> None:
        self._settings = settings
        self._fetch_sql = f"SELECT name, phone, since FROM `{tables.view}` WHERE name = %s"
        self._positions_sql = (
            f"SELECT part, next_offset FROM `{tables.checkpoints}` WHERE consumer = %s AND topic = %s"
        )
        self._scope = (settings.consumer.name, settings.kafka.topic)
        self._local = threading.local()
        self._in_use = in_use
        self._lock = threading.Lock()
        self._breaker = Breaker()
        self.open_connections = 0

    def fetch(self, name: str) -> UserRecord | None:
        """The row whose name equals `name` under the table's collation, or None."""
        rows = self._query(self._fetch_sql, (name,))
        return _record(rows[0]) if rows else None

    def positions(self) -> dict[int, int]:
        """The live consumer's next offset per partition of the topic."""
        return {int(p): int(o) for p, o in self._query(self._positions_sql, self._scope)}

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        self._query("SELECT 1", ())

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._in_use is not None:
            self._in_use.inc()
        try:
            return self._breaker.call(lambda: self._query_retrying(sql, params))
        finally:
            if self._in_use is not None:
                self._in_use.dec()

    def _query_retrying(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # A kept connection may have died since its last use (server restart, KILL):
        # one retry on a fresh connection tells a stale socket from an outage.
        # A timed-out attempt is no stale socket: it is not tried again (the breaker takes over).
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                return self._attempt(sql, params)
            except DatabaseUnavailable:
                self._drop()
                timed_out = time.monotonic() - started >= 0.9 * self._settings.http.db_timeout_s
                if attempt == 2 or timed_out:
                    raise
        raise AssertionError("unreachable")

    def _attempt(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            with translate_errors():
                cursor = self._cursor()
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        except mysql.connector.Error as exc:
            # Not transient (access denied, a privilege missing): still the database's fault, not
            # the request's; the client gets a 503, the operator the connector's words in the log.
            raise DatabaseUnavailable(f"{REFUSED}: {exc}", REFUSED) from exc

    def _cursor(self) -> Any:
        # One cursor per connection, kept: the connector's `cursor()` pings the server
        # first, a round trip that cost a third of each lookup. A dead connection still
        # shows, as an error of `execute`, which the retry above handles.
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            self._local.conn = connect(
                self._settings, autocommit=True, io_timeout_s=self._settings.http.db_timeout_s
            )
            with self._lock:
                self.open_connections += 1
            cursor = self._local.cursor = self._local.conn.cursor()
        return cursor

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            close_quietly(conn)
            with self._lock:
                self.open_connections -= 1
        self._local.conn = None
        self._local.cursor = None


def _record(row: tuple[Any, ...]) -> UserRecord:
    stored, phone, since = row[0], row[1], row[2]
    return UserRecord(stored, int(phone), since.replace(tzinfo=UTC))
