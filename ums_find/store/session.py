"""One way to hold a MySQL session: opened on first use, closed after a fault, reopened next time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ums_find.settings import MySQLSettings
from ums_find.store.connection import close_quietly, connect, translate_errors
from ums_find.store.upsert import row_alias_supported

log = logging.getLogger(__name__)

T = TypeVar("T")
Hook = Callable[[], None]


def _nothing() -> None:
    return None


class Session:
    """A lazily opened connection (autocommit) and the statements run on it.

    `keep_cursor` keeps one cursor for the connection's life: the connector's `cursor()` pings
    the server first, a round trip the API's lookups cannot afford. `drop_on` names the errors
    after which the connection is not trusted again (by default any error).
    """

    def __init__(
        self,
        mysql_settings: MySQLSettings,
        *,
        io_timeout_s: int | None = None,
        keep_cursor: bool = False,
        drop_on: tuple[type[BaseException], ...] = (BaseException,),
        on_open: Hook = _nothing,
        on_close: Hook = _nothing,
    ) -> None:
        self._settings = mysql_settings
        self._io_timeout_s = io_timeout_s
        self._keep_cursor = keep_cursor
        self._drop_on = drop_on
        self._on_open, self._on_close = on_open, on_close
        self.conn: Any = None
        self._cursor: Any = None
        self._spoiled = False
        self.alias = False  # the upsert's dialect, read from the server at connect

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self.conn is not None

    def run(self, work: Callable[[Any], T]) -> T:
        """`work(cursor)` on the session, connector errors translated; drops a faulty connection."""
        try:
            with translate_errors():
                cursor = self._cursor_for_use()
                try:
                    return work(cursor)
                finally:
                    if not self._keep_cursor:
                        close_quietly(cursor)
        except self._drop_on:
            self.close()
            raise
        finally:
            if self._spoiled:
                self.close()

    def spoil(self) -> None:
        """Close the connection once the statement running now ends (its state is unknown)."""
        self._spoiled = True

    def close(self) -> None:
        """Drop the connection (and with it its locks and open transaction)."""
        self._spoiled = False
        if self.conn is None:
            return
        close_quietly(self.conn)
        self.conn = self._cursor = None
        self._on_close()

    def _cursor_for_use(self) -> Any:
        if self.conn is None:
            self.conn = connect(self._settings, autocommit=True, io_timeout_s=self._io_timeout_s)
            self._on_open()
            self.alias = row_alias_supported(self.conn.server_info)
        if not self._keep_cursor:
            return self.conn.cursor()
        if self._cursor is None:
            self._cursor = self.conn.cursor()
        return self._cursor
