"""The projection's writes: a batch of changes and its checkpoints in one transaction."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import mysql.connector

from ums_find.domain import Name, User
from ums_find.settings import Settings
from ums_find.store.connection import (
    DatabaseUnavailable,
    Tables,
    close_quietly,
    connect,
    translate_errors,
)
from ums_find.store.upsert import row_alias_supported, upsert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """The last word on one name in a batch: the user to hold, or None to erase."""

    name: Name
    user: User | None


@dataclass(frozen=True)
class Position:
    """A partition's checkpoint: what we believe is stored, and what to store."""

    partition: int
    expected: int | None
    next_offset: int


CHECKPOINT_COLUMNS = ("consumer", "topic", "part", "next_offset")


class StalePosition(Exception):
    """The stored checkpoint is not the one this writer expected: another wrote it."""


def writer_lock_name(settings_or_db: Settings | str, table: str) -> str:
    """The MySQL named lock a live writer of `table` holds around each batch transaction.

    Whoever must keep that writer from committing for a moment (a table swap) takes it too.
    """
    database = settings_or_db if isinstance(settings_or_db, str) else settings_or_db.mysql.database
    name = f"ums-find:{database}:{table}"
    # MySQL refuses lock names longer than 64 characters.
    return name if len(name) <= 64 else "ums-find:" + hashlib.sha256(name.encode()).hexdigest()[:55]


def collapse(changes: Iterable[Change]) -> list[Change]:
    """Keep each name's last change, in the order of those last changes."""
    last: dict[str, Change] = {}
    for change in changes:
        last.pop(change.name.value, None)
        last[change.name.value] = change
    return list(last.values())


def split_by_collation(changes: Sequence[Change]) -> tuple[list[Change], list[Change]]:
    """Split into changes safe to write in bulk and those whose names the collation may merge.

    Different spellings of one name (case, accents) must apply in their order; the
    bulk statements do not keep order between upserts and deletes.
    """
    folds = [_fold(change.name) for change in changes]
    spellings: dict[str, set[str]] = defaultdict(set)
    for change, fold in zip(changes, folds, strict=True):
        spellings[fold].add(change.name.value)
    ordered = [c for c, f in zip(changes, folds, strict=True) if len(spellings[f]) > 1]
    bulk = [c for c, f in zip(changes, folds, strict=True) if len(spellings[f]) == 1]
    return bulk, ordered


def _fold(name: Name) -> str:
    # The hot path: an ASCII name has nothing to decompose, so lower-casing is its fold.
    return name.value.lower() if name.value.isascii() else name.fold


def row_literal(user: User) -> str:
    """`(name, phone, since)` as SQL; the name as a hex literal, safe in every SQL mode."""
    since = user.since.replace(tzinfo=None).isoformat(" ", "microseconds")
    return f"(_utf8mb4 X'{user.name.value.encode('utf-8').hex()}',{user.phone.value},'{since}')"


class ProjectionStore:
    """One writer's connection: loads checkpoints and applies batches atomically."""

    def __init__(self, settings: Settings, consumer: str, topic: str, tables: Tables = Tables()) -> None:
        self._settings = settings
        self._consumer = consumer
        self._topic = topic
        self.tables = tables
        self._conn: Any = None
        self._lock = writer_lock_name(settings, tables.view)
        self._drop = False
        self._alias = False  # the upsert's dialect, read from the server at connect

    def close(self) -> None:
        """Drop the connection."""
        close_quietly(self._conn)
        self._conn = None

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """The stored next offset of each partition (None where nothing is stored)."""
        wanted = list(partitions)
        result: dict[int, int | None] = dict.fromkeys(wanted)
        if not wanted:
            return result
        sql = (
            f"SELECT part, next_offset FROM `{self.tables.checkpoints}` "
            f"WHERE consumer = %s AND topic = %s AND part IN ({', '.join(['%s'] * len(wanted))})"
        )
        for part, offset in self._run(lambda cur: _fetch(cur, sql, [self._consumer, self._topic, *wanted])):
            result[int(part)] = int(offset)
        return result

    def count_rows(self) -> int:
        """How many users the view holds."""
        rows = self._run(lambda cur: _fetch(cur, f"SELECT COUNT(*) FROM `{self.tables.view}`", []))
        return int(rows[0][0])

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        """Write the changes and advance the checkpoints, all or nothing, under the writer lock."""
        self._run(lambda cur: self._locked(cur, changes, positions))

    def _locked(self, cur: Any, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        cur.execute("SELECT GET_LOCK(%s, %s)", (self._lock, self._settings.mysql.lock_timeout_s))
        (got,) = cur.fetchone()
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
            self._drop = True

    def _run(self, work: Any) -> Any:
        try:
            with translate_errors():
                if self._conn is None:
                    self._conn = connect(self._settings, autocommit=True)
                    self._alias = row_alias_supported(self._conn.server_info)
                cursor = self._conn.cursor()
                try:
                    return work(cursor)
                finally:
                    close_quietly(cursor)
        except BaseException:
            self.close()
            raise
        finally:
            if self._drop:
                self._drop = False
                self.close()

    def _transaction(self, cur: Any, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        self._conn.start_transaction()
        try:
            self._check_positions(cur, positions)
            bulk, ordered = split_by_collation(collapse(changes))
            self._write_bulk(cur, bulk)
            for change in ordered:
                self._write_bulk(cur, [change])
            self._store_positions(cur, positions)
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def _commit(self) -> None:
        try:
            self._conn.commit()
        except mysql.connector.Error:
            raise
        except Exception as exc:
            # The C extension raises its own error type from commit. Whether a commit whose
            # answer was lost took effect shows on the next batch: a moved checkpoint.
            raise DatabaseUnavailable(f"database unavailable: {exc}") from exc

    def _rollback(self) -> None:
        # On a killed connection rollback raises too (the C extension's own error type):
        # the original error is the one to report, and the dead session is dropped.
        try:
            self._conn.rollback()
        except Exception:  # the session's end rolls back
            log.debug("rollback failed; dropping the connection", exc_info=True)
            self._drop = True

    def _check_positions(self, cur: Any, positions: Sequence[Position]) -> None:
        if not positions:
            return
        parts = sorted(p.partition for p in positions)
        sql = (
            f"SELECT part, next_offset FROM `{self.tables.checkpoints}` WHERE consumer = %s "
            f"AND topic = %s AND part IN ({', '.join(['%s'] * len(parts))}) FOR UPDATE"
        )
        found = {int(p): int(o) for p, o in _fetch(cur, sql, [self._consumer, self._topic, *parts])}
        for pos in positions:
            stored = found.get(pos.partition)
            if stored != pos.expected:
                raise StalePosition(
                    f"{self._topic}[{pos.partition}]: checkpoint is {stored}, expected {pos.expected}"
                )

    def _write_bulk(self, cur: Any, changes: Sequence[Change]) -> None:
        erased = [c.name.value for c in changes if c.user is None]
        rows = [row_literal(c.user) for c in changes if c.user is not None]
        if erased:
            marks = ", ".join(["%s"] * len(erased))
            cur.execute(f"DELETE FROM `{self.tables.view}` WHERE name IN ({marks})", erased)
        if rows:
            # Literal rows: the connector's parameter substitution costs about as much as the
            # server's work for a multi-row upsert, and every value here is safe as a literal.
            columns = ("name", "phone", "since")
            cur.execute(upsert(self.tables.view, columns, ",".join(rows), columns, self._alias))

    def _store_positions(self, cur: Any, positions: Sequence[Position]) -> None:
        if not positions:
            return
        marks = ", ".join(["(%s, %s, %s, %s)"] * len(positions))
        params = [v for p in positions for v in (self._consumer, self._topic, p.partition, p.next_offset)]
        updates = ("next_offset", "updated_at = CURRENT_TIMESTAMP(6)")
        cur.execute(upsert(self.tables.checkpoints, CHECKPOINT_COLUMNS, marks, updates, self._alias), params)


def _fetch(cur: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cur.execute(sql, list(params))
    return list(cur.fetchall())
