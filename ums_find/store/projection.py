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
from ums_find.store.connection import DatabaseUnavailable, Tables, run_script
from ums_find.store.session import Session
from ums_find.store.upsert import text_literal, upsert

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
    return f"({text_literal(user.name.value)},{user.phone.value},'{since}')"


class ProjectionStore:
    """One writer's session: loads checkpoints and applies batches atomically."""

    def __init__(
        self, mysql_settings: MySQLSettings, consumer: str, topic: str, tables: Tables = Tables()
    ) -> None:
        self._lock_timeout_s = mysql_settings.lock_timeout_s
        self._topic = topic
        self.tables = tables
        self.checkpoints = CheckpointRepository(Scope(consumer, topic), tables.checkpoints)
        # One cursor for the connection's life: `cursor()` pings the server, and every batch
        # runs through the session.
        self._session = Session(mysql_settings, keep_cursor=True)
        self._lock = writer_lock_name(mysql_settings, tables.view)
        self._lock_sql = text_literal(self._lock)

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
        self._session.run(lambda _cur: self._locked(changes, positions))

    def _locked(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        # Two round trips: the lock, the transaction and the fence's read; then, once the fence
        # holds, the writes, the checkpoints, the commit and the release. Any error drops the
        # session, and the session's end rolls back and releases.
        self._begin(positions)
        self._finish(changes, positions)

    def _begin(self, positions: Sequence[Position]) -> None:
        take = f"SELECT GET_LOCK({self._lock_sql}, {self._lock_timeout_s})"
        fence = [self.checkpoints.fence_sql(positions)] if positions else []
        answers = run_script(self._session.conn, [take, "START TRANSACTION", *fence])
        if answers.error is not None:
            raise answers.error
        if answers.rows[0] != [(1,)]:
            raise DatabaseUnavailable(f"writer lock {self._lock} held elsewhere")
        if positions:
            self.checkpoints.check_fence(answers.rows[2], positions)

    def _finish(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        advance = [self.checkpoints.advance_sql(positions, self._session.alias)] if positions else []
        writes = [*self._writes(changes), *advance, "COMMIT"]
        answers = run_script(self._session.conn, [*writes, f"DO RELEASE_LOCK({self._lock_sql})"])
        if answers.error is None:
            return
        if len(answers.rows) < len(writes):
            raise answers.error
        # Only the release failed, after the commit: the session's end drops the lock.
        log.debug("releasing the writer lock failed; dropping the connection: %s", answers.error)
        self._session.spoil()

    def _writes(self, changes: Sequence[Change]) -> list[str]:
        bulk, ordered = split_by_collation(collapse(changes))
        return [sql for group in (bulk, *([c] for c in ordered)) for sql in self._write_sql(group)]

    def _write_sql(self, changes: Sequence[Change]) -> list[str]:
        # Literal rows: the connector's parameter substitution costs about as much as the
        # server's work for a multi-row upsert, and every value here is safe as a literal.
        statements = []
        erased = [text_literal(c.name) for c in changes if c.row is None]
        rows = [c.row for c in changes if c.row is not None]
        if erased:
            statements.append(f"DELETE FROM `{self.tables.view}` WHERE name IN ({', '.join(erased)})")
        if rows:
            columns = ("name", "phone", "since")
            statements.append(upsert(self.tables.view, columns, ",".join(rows), columns, self._session.alias))
        return statements


def _fetch(cur: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cur.execute(sql, list(params))
    return list(cur.fetchall())
