"""Connections to MySQL through the connector's C extension, and fault classification."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mysql.connector
from mysql.connector import errorcode

from ums_find.settings import Settings

log = logging.getLogger(__name__)

_TABLE = re.compile(r"[A-Za-z0-9_]{1,64}")

# Errors that say the server is away, busy or restarting: retry, never treat as poison.
_TRANSIENT_ERRNOS = {
    errorcode.ER_LOCK_WAIT_TIMEOUT,
    errorcode.ER_LOCK_DEADLOCK,
    errorcode.ER_CON_COUNT_ERROR,
    errorcode.ER_SERVER_SHUTDOWN,
    errorcode.ER_QUERY_INTERRUPTED,
    errorcode.ER_NET_READ_ERROR,
    errorcode.ER_NET_WRITE_INTERRUPTED,
    errorcode.CR_SERVER_GONE_ERROR,
    errorcode.CR_SERVER_LOST,
    errorcode.CR_CONN_HOST_ERROR,
    errorcode.CR_CONNECTION_ERROR,
    errorcode.ER_NO_SUCH_TABLE,  # not migrated yet: not ready rather than broken
    errorcode.ER_BAD_DB_ERROR,
    1927,  # MariaDB ER_CONNECTION_KILLED
    4031,  # MySQL ER_CLIENT_INTERACTION_TIMEOUT
}


NOT_REACHABLE = "the database is not reachable"
NO_ANSWER = "the database did not answer (the connection timed out or was lost)"
MISSING = "the database does not exist: run `ums-find migrate`"
NO_TABLE = "a table of the view is missing: run `ums-find migrate`"
_REASONS = {errorcode.ER_BAD_DB_ERROR: MISSING, errorcode.ER_NO_SUCH_TABLE: NO_TABLE}


class DatabaseUnavailable(Exception):
    """The database cannot answer now; the same work may succeed later.

    `reason` says what is wrong in words fit for an operator and an HTTP client (no detail of the
    server's); the message adds the connector's own text.
    """

    def __init__(self, message: str, reason: str = NOT_REACHABLE) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Tables:
    """The view table and the checkpoint table one projection writes."""

    view: str = "ums_users"
    checkpoints: str = "ums_checkpoints"

    def __post_init__(self) -> None:
        for name in (self.view, self.checkpoints):
            if not _TABLE.fullmatch(name):
                raise ValueError(f"not a table name: {name!r}")


def connect(
    settings: Settings, *, database: bool = True, autocommit: bool = True, io_timeout_s: int | None = None
) -> Any:
    """A new connection (C extension); raises DatabaseUnavailable when the server is away.

    Every connection has connect, read and write timeouts, so a server that stops answering
    (a network partition, a frozen host) fails a statement instead of pinning its thread;
    `io_timeout_s` replaces the read and write timeouts of the settings, and bounds the connect
    timeout too (the API's are short).
    """
    connect_s = min(settings.mysql.timeout_s, io_timeout_s or settings.mysql.timeout_s)
    options: dict[str, Any] = {
        "host": settings.mysql.host,
        "port": settings.mysql.port,
        "user": settings.mysql.user,
        "password": settings.mysql.password.reveal(),
        "connection_timeout": max(1, round(connect_s)),
        "read_timeout": io_timeout_s or settings.mysql.read_timeout_s,
        "write_timeout": io_timeout_s or settings.mysql.write_timeout_s,
        "autocommit": autocommit,
        "charset": "utf8mb4",
        "use_pure": False,
    }
    if database:
        options["database"] = settings.mysql.database
    with translate_errors():
        return mysql.connector.connect(**options)


def is_transient(exc: BaseException) -> bool:
    """Whether a connector error is a fault of the moment rather than of our SQL."""
    if isinstance(exc, (mysql.connector.errors.OperationalError, mysql.connector.errors.InterfaceError)):
        return True
    return isinstance(exc, mysql.connector.Error) and exc.errno in _TRANSIENT_ERRNOS


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn transient connector errors into DatabaseUnavailable."""
    try:
        yield
    except mysql.connector.Error as exc:
        if is_transient(exc):
            reason = reason_of(exc)
            raise DatabaseUnavailable(f"{reason} ({exc})", reason) from exc
        raise


def reason_of(exc: BaseException) -> str:
    """What a transient connector error means, in words."""
    errno = getattr(exc, "errno", None)
    if errno in _REASONS:
        return _REASONS[errno]
    # 2013: a read that timed out, a handshake that never came, or a connection killed.
    if errno == errorcode.CR_SERVER_LOST:
        return NO_ANSWER
    return NOT_REACHABLE


def close_quietly(conn: Any) -> None:
    """Close a connection that may already be broken."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception:
        log.debug("closing a broken connection failed", exc_info=True)
