"""Connections to MySQL through the connector's C extension, and fault classification."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import mysql.connector
from _mysql_connector import MySQLInterfaceError
from mysql.connector import errorcode
from mysql.connector.errors import get_mysql_exception

from ums_find.settings import MySQLSettings, Settings

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


class DatabaseRefused(Exception):
    """The server refused us for good: a wrong password or account, or a TLS certificate not trusted.

    Not a fault of the moment: retrying cannot help until the settings change.
    """


# 1045 access denied (also MariaDB's answer to plaintext under require_secure_transport),
# 1044 no access to the database, 2026 TLS handshake failed (C extension).
_REFUSED_ERRNOS = {errorcode.ER_ACCESS_DENIED_ERROR, errorcode.ER_DBACCESS_DENIED_ERROR, 2026}


def refusal_of(exc: BaseException, tls: bool) -> str | None:
    """What a refusal means, in one line naming the cause (never a secret); None if not one."""
    errno = getattr(exc, "errno", None)
    text = str(exc)
    if errno == 2026 or "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return f"MySQL TLS refused: the server's certificate is not trusted or names another host ({text})"
    if errno in _REFUSED_ERRNOS:
        hint = "" if tls else "; the server may require TLS (set UMS_MYSQL_SSL_CA)"
        return f"MySQL cannot authenticate: wrong user or password ({text}){hint}"
    return None


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
    settings: MySQLSettings | Settings,
    *,
    database: bool = True,
    autocommit: bool = True,
    io_timeout_s: int | None = None,
) -> Any:
    """A new connection (C extension); raises DatabaseUnavailable when the server is away.

    Every connection has connect, read and write timeouts, so a server that stops answering
    (a network partition, a frozen host) fails a statement instead of pinning its thread;
    `io_timeout_s` replaces the read and write timeouts of the settings, and bounds the connect
    timeout too (the API's are short). Takes the MySQL section (a whole Settings is accepted
    for the callers that hold one).
    """
    mysql_settings = settings if isinstance(settings, MySQLSettings) else settings.mysql
    connect_s = min(mysql_settings.timeout_s, io_timeout_s or mysql_settings.timeout_s)
    options: dict[str, Any] = {
        "host": mysql_settings.host,
        "port": mysql_settings.port,
        "user": mysql_settings.user,
        "password": mysql_settings.password.reveal(),
        "connection_timeout": max(1, round(connect_s)),
        "read_timeout": io_timeout_s or mysql_settings.read_timeout_s,
        "write_timeout": io_timeout_s or mysql_settings.write_timeout_s,
        "autocommit": autocommit,
        "charset": "utf8mb4",
        "use_pure": False,
    }
    options.update(tls_options(mysql_settings))
    if database:
        options["database"] = mysql_settings.database
    try:
        with translate_errors():
            return _open(options)
    except (mysql.connector.Error, DatabaseUnavailable) as exc:
        cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) else exc
        refusal = refusal_of(cause or exc, tls="ssl_ca" in options)
        if refusal is not None:
            raise DatabaseRefused(refusal) from None
        raise


# The client library sets itself up on a process's first connection, and that is not
# thread-safe: two threads opening a forked API worker's first connections at once crashed it
# (SIGSEGV) about once in eight. The first connection of a process is opened alone.
_FIRST_OPENED = threading.Event()
_FIRST_OPENING = threading.Lock()


def _open(options: dict[str, Any]) -> Any:
    if _FIRST_OPENED.is_set():
        return mysql.connector.connect(**options)
    with _FIRST_OPENING:
        try:
            return mysql.connector.connect(**options)
        finally:
            _FIRST_OPENED.set()  # tried, even if refused: the library is set up either way


def tls_options(mysql_settings: MySQLSettings) -> dict[str, Any]:
    """The connector's TLS arguments: verified against the CA when one is given."""
    if mysql_settings.ssl == "disabled":
        return {"ssl_disabled": True}
    options: dict[str, Any] = {}
    if mysql_settings.ssl_ca:
        options["ssl_ca"] = mysql_settings.ssl_ca
        options["ssl_verify_cert"] = True
        options["ssl_verify_identity"] = mysql_settings.ssl_verify_identity == "on"
    if mysql_settings.ssl_cert and mysql_settings.ssl_key:
        options["ssl_cert"] = mysql_settings.ssl_cert
        options["ssl_key"] = mysql_settings.ssl_key
    return options


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


class Script(NamedTuple):
    """What a script's statements answered: the rows of each that ran, and the error that stopped it."""

    rows: list[list[tuple[Any, ...]]]
    error: mysql.connector.Error | None


def run_script(conn: Any, statements: Sequence[str]) -> Script:
    """Send `statements` in one round trip (the C extension's connection); every answer is read.

    The server runs them in order and stops at the first that fails: `rows` has an entry for
    each statement before it (empty for one without a result set), `error` says why.
    """
    rows: list[list[tuple[Any, ...]]] = []
    try:
        conn.cmd_query(";\n".join(statements).encode())
        while True:
            if conn.unread_result:
                conn.fetch_eof_columns()  # the columns of this result, not of the first
                rows.append(conn.get_rows()[0])
            else:
                rows.append([])
            if not _next_result(conn):
                return Script(rows, None)
    except mysql.connector.Error as exc:
        return Script(rows, exc)


def _next_result(conn: Any) -> bool:
    # The connection leaves the C extension's own error type to its caller here.
    try:
        return bool(conn.next_result())
    except MySQLInterfaceError as err:
        raise get_mysql_exception(err.errno, msg=err.msg, sqlstate=err.sqlstate) from err


def close_quietly(conn: Any) -> None:
    """Close a connection that may already be broken."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception:
        log.debug("closing a broken connection failed", exc_info=True)
