"""The projection's writes: a batch of changes and its checkpoints in one transaction."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ums_find.domain import Name, User
from ums_find.settings import MySQLSettings, Settings
from ums_find.store.checkpoints import (
    CHECKPOINT_COLUMNS,
    CheckpointRepository,
    Position,
    Scope,
    StalePosition,
)
from ums_find.store.connection import DatabaseUnavailable, Tables
from ums_find.store.session import Session
from ums_find.store.upsert import upsert

__all__ = ["CHECKPOINT_COLUMNS", "Change", "Position", "ProjectionStore", "StalePosition", "writer_lock_name"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Change:
    """The last word on one name in a batch, as the writer needs it.

    `name` as published, `key` its collation fold (spellings the view's collation merges share
    it) and `row` the SQL literal of the user to hold, None to erase. Made where records are
    decoded (ahead of the transaction, perhaps in another process), with `Change.of`.
    """

    name: str
    key: str
    row: str | None

    @classmethod
    def of(cls, name: Name, user: User | None) -> Change:
        """The change that holds `user` under `name`, or erases `name` (`user` None)."""
        return cls(name.value, _fold(name), None if user is None else row_literal(user))


def writer_lock_name(settings_or_db: Settings | MySQLSettings | str, table: str) -> str:
    """The MySQL named lock a live writer of `table` holds around each batch transaction.

    Whoever must keep that writer from committing for a moment (a table swap) takes it too.
    """
    if isinstance(settings_or_db, str):
        database = settings_or_db
    elif isinstance(settings_or_db, MySQLSettings):
        database = settings_or_db.database
    else:
        database = settings_or_db.mysql.database
    name = f"ums-find:{database}:{table}"
    # MySQL refuses lock names longer than 64 characters.
    return name if len(name) <= 64 else "ums-find:" + hashlib.sha256(name.encode()).hexdigest()[:55]


def collapse(changes: Iterable[Change]) -> list[Change]:
    """Keep each name's last change, in the order of those last changes."""
    last: dict[str, Change] = {}
    for change in changes:
        last.pop(change.name, None)
        last[change.name] = change
    return list(last.values())


def split_by_collation(changes: Sequence[Change]) -> tuple[list[Change], list[Change]]:
    """Split into changes safe to write in bulk and those whose names the collation may merge.

    Different spellings of one name (case, accents) must apply in their order; the
    bulk statements do not keep order between upserts and deletes.
    """
    spellings: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        spellings[change.key].add(change.name)
    if len(spellings) == len(changes):  # the usual batch: no two names the collation merges
        return list(changes), []
    ordered = [c for c in changes if len(spellings[c.key]) > 1]
    bulk = [c for c in changes if len(spellings[c.key]) == 1]
    return bulk, ordered


def _fold(name: Name) -> str:
    # The hot path: an ASCII name has nothing to decompose, so lower-casing is its fold.
    return name.value.lower() if name.value.isascii() else name.fold


def row_literal(user: User) -> str:
    """`(name, phone, since)` as SQL; the name as a hex literal, safe in every SQL mode."""
    # The view holds years 1000 to 9999 in UTC: the first 26 characters are the local time,
    # without the offset (cheaper than a naive copy of the moment).
    since = user.since.isoformat(" ", "microseconds")[:26]
    return f"(_utf8mb4 X'{user.name.value.encode('utf-8').hex()}',{user.phone.value},'{since}')"


class ProjectionStore:
    """One writer's session: loads checkpoints and applies batches atomically."""

    def __init__(
        self, mysql_settings: MySQLSettings, consumer: str, topic: str, tables: Tables = Tables()
    ) -> None:
        self._lock_timeout_s = mysql_settings.lock_timeout_s
        self._topic = topic
        self.tables = tables
        self.checkpoints = CheckpointRepository(Scope(consumer, topic), tables.checkpoints)
        # One cursor for the connection's life: `cursor()` pings the server, a round trip a batch.
        self._session = Session(mysql_settings, keep_cursor=True)
        self._lock = writer_lock_name(mysql_settings, tables.view)

    def close(self) -> None:
        """Drop the connection."""
        self._session.close()

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """The stored next offset of each partition (None where nothing is stored)."""
        wanted = list(partitions)
        return self._session.run(lambda cur: self.checkpoints.load(cur, wanted))

    def count_rows(self) -> int:
        """How many users the view holds."""
        rows = self._session.run(lambda cur: _fetch(cur, f"SELECT COUNT(*) FROM `{self.tables.view}`", []))
        return int(rows[0][0])

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        """Write the changes and advance the checkpoints, all or nothing, under the writer lock."""
        self._session.run(lambda cur: self._locked(cur, changes, positions))

    def _locked(self, cur: Any, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        cur.execute("SELECT GET_LOCK(%s, %s)", (self._lock, self._lock_timeout_s))
        ((got,),) = cur.fetchall()
        if got != 1:
            raise DatabaseUnavailable(f"writer lock {self._lock} held elsewhere")
        try:
            self._transaction(cur, changes, positions)
        finally:
            self._release(cur)

    def _release(self, cur: Any) -> None:
        try:
            cur.execute("DO RELEASE_LOCK(%s)", (self._lock,))
        except Exception:  # the session's end drops the lock: end it
            log.debug("releasing the writer lock failed; dropping the connection", exc_info=True)
            self._session.spoil()

    def _transaction(self, cur: Any, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        self._session.conn.start_transaction()
        try:
            self.checkpoints.fence(cur, positions)
            bulk, ordered = split_by_collation(collapse(changes))
            self._write_bulk(cur, bulk)
            for change in ordered:
                self._write_bulk(cur, [change])
            self.checkpoints.advance(cur, positions, self._session.alias)
            self._session.commit()
        except BaseException:
            # On a killed connection rollback raises too: the original error is the one to report.
            self._session.rollback()
            raise

    def _write_bulk(self, cur: Any, changes: Sequence[Change]) -> None:
        erased = [c.name for c in changes if c.row is None]
        rows = [c.row for c in changes if c.row is not None]
        if erased:
            marks = ", ".join(["%s"] * len(erased))
            cur.execute(f"DELETE FROM `{self.tables.view}` WHERE name IN ({marks})", erased)
        if rows:
            # Literal rows: the connector's parameter substitution costs about as much as the
            # server's work for a multi-row upsert, and every value here is safe as a literal.
            # Straight to the connection: the cursor would first scan the whole statement (150 KB
            # for 2,000 rows) for DELIMITER lines; the connection maps errors the same way.
            columns = ("name", "phone", "since")
            sql = upsert(self.tables.view, columns, ",".join(rows), columns, self._session.alias)
            self._session.conn.cmd_query(sql.encode())


def _fetch(cur: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cur.execute(sql, list(params))
    return list(cur.fetchall())
