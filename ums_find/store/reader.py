"""The API's reads: one point query per lookup over a per-thread persistent connection."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

import mysql.connector

from ums_find.settings import MySQLSettings
from ums_find.store.breaker import Breaker
from ums_find.store.checkpoints import CheckpointRepository, Scope
from ums_find.store.connection import DatabaseRefused, DatabaseUnavailable, Tables
from ums_find.store.session import Session

T = TypeVar("T")
log = logging.getLogger(__name__)

# The default consumer and topic of the settings: whose positions `?after=` waits on.
DEFAULT_SCOPE = Scope("ums-find", "user-added")

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

    def __init__(
        self,
        mysql_settings: MySQLSettings,
        scope: Scope = DEFAULT_SCOPE,
        timeout_s: int = 2,
        tables: Tables = Tables(),
        in_use: Counter | None = None,
    ) -> None:
        self._settings = mysql_settings
        self._timeout_s = timeout_s
        self._fetch_sql = f"SELECT name, phone, since FROM `{tables.view}` WHERE name = %s"
        self._checkpoints = CheckpointRepository(scope, tables.checkpoints)
        self._local = threading.local()
        self._in_use = in_use
        self._lock = threading.Lock()
        self._breaker = Breaker()
        self.open_connections = 0
        self._refusal = ""

    def fetch(self, name: str) -> UserRecord | None:
        """The row whose name equals `name` under the table's collation, or None."""
        rows = self._query(lambda cur: _rows(cur, self._fetch_sql, (name,)))
        return _record(rows[0]) if rows else None

    def positions(self) -> dict[int, int]:
        """The live consumer's next offset per partition of the topic."""
        return self._query(self._checkpoints.read)

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        self._query(lambda cur: _rows(cur, "SELECT 1", ()))

    def _query(self, work: Callable[[Any], T]) -> T:
        if self._in_use is not None:
            self._in_use.inc()
        try:
            return self._breaker.call(lambda: self._query_retrying(work))
        finally:
            if self._in_use is not None:
                self._in_use.dec()

    def _query_retrying(self, work: Callable[[Any], T]) -> T:
        # A kept connection may have died since its last use (server restart, KILL):
        # one retry on a fresh connection tells a stale socket from an outage.
        # A timed-out attempt is no stale socket: it is not tried again (the breaker takes over).
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                return self._attempt(work)
            except DatabaseUnavailable:
                timed_out = time.monotonic() - started >= 0.9 * self._timeout_s
                if attempt == 2 or timed_out:
                    raise
        raise AssertionError("unreachable")

    def _attempt(self, work: Callable[[Any], T]) -> T:
        try:
            return self._session().run(work)
        except DatabaseRefused as exc:
            # A password or certificate refused: /readyz answers 503, the log says which, once
            # (every probe and lookup meets it until the settings change).
            log.log(logging.DEBUG if str(exc) == self._refusal else logging.ERROR, "%s", exc)
            self._refusal = str(exc)
            raise DatabaseUnavailable(f"{REFUSED}: {exc}", REFUSED) from exc
        except mysql.connector.Error as exc:
            # Not transient (access denied, a privilege missing): still the database's fault, not
            # the request's; the client gets a 503, the operator the connector's words in the log.
            raise DatabaseUnavailable(f"{REFUSED}: {exc}", REFUSED) from exc

    def _session(self) -> Session:
        # Each thread keeps its session and its one cursor (see Session's `keep_cursor`);
        # a dead connection still shows, as an error of `execute`, which the retry handles.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = Session(
                self._settings,
                io_timeout_s=self._timeout_s,
                keep_cursor=True,
                on_open=lambda: self._count(1),
                on_close=lambda: self._count(-1),
            )
        return session

    def _count(self, step: int) -> None:
        with self._lock:
            self.open_connections += step


def _rows(cur: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cur.execute(sql, params)
    return list(cur.fetchall())


def _record(row: tuple[Any, ...]) -> UserRecord:
    stored, phone, since = row[0], row[1], row[2]
    return UserRecord(stored, int(phone), since.replace(tzinfo=UTC))
