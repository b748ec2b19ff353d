"""Rebuilding a view beside the live one: side tables, locks, and the atomic swap."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ums_find.settings import MySQLSettings
from ums_find.store.checkpoints import CheckpointRepository, Scope
from ums_find.store.connection import DatabaseUnavailable, Tables
from ums_find.store.projection import writer_lock_name
from ums_find.store.session import Session

log = logging.getLogger(__name__)

T = TypeVar("T")


def side_tables(live: Tables) -> Tables:
    """Where a rebuild writes: the view and checkpoint tables with `_rebuild` appended."""
    return Tables(f"{live.view}_rebuild", f"{live.checkpoints}_rebuild")


def old_tables(live: Tables) -> Tables:
    """Where the swap moves the live tables: `_old` appended; kept until the next rebuild."""
    return Tables(f"{live.view}_old", f"{live.checkpoints}_old")


def replay_lock_name(database: str) -> str:
    """The named lock that keeps two replays of one database apart."""
    return f"ums-find:replay:{database}"[:64]


@dataclass(frozen=True)
class Projection:
    """One projection's identity: whose checkpoints, of which topic, in which tables."""

    consumer: str
    topic: str
    live: Tables = Tables()


class RebuildStore:
    """The rebuild's own connection: side tables, named locks, positions and the swap."""

    def __init__(self, mysql_settings: MySQLSettings, projection: Projection) -> None:
        self.projection = projection
        self.live = projection.live
        self.side = side_tables(projection.live)
        self.old = old_tables(projection.live)
        self.writer_lock = writer_lock_name(mysql_settings.database, projection.live.view)
        # A statement's own error (not a fault) leaves the connection, and its locks, in place.
        self._session = Session(mysql_settings, drop_on=(DatabaseUnavailable,))
        self._held: set[str] = set()

    def close(self) -> None:
        """Drop the connection, and with it any named lock it holds."""
        self._session.close()
        self._held.clear()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in autocommit; its rows, if any."""
        return self._work(lambda cur: _rows(cur, sql, params))

    def _work(self, work: Callable[[Any], T]) -> T:
        if not self._session.connected and self._held:
            # Its locks went with the lost connection: going on would be unguarded.
            raise DatabaseUnavailable(f"lost the connection that held {sorted(self._held)}")
        return self._session.run(work)

    def _checkpoints(self, tables: Tables) -> CheckpointRepository:
        return CheckpointRepository(
            Scope(self.projection.consumer, self.projection.topic), tables.checkpoints
        )

    def lock(self, name: str, timeout_s: float = 0) -> bool:
        """Take a named lock, waiting up to `timeout_s`; held until unlock or disconnection."""
        got = self.run("SELECT GET_LOCK(%s, %s)", (name, timeout_s))[0][0] == 1
        if got:
            self._held.add(name)
        return got

    def unlock(self, name: str) -> None:
        """Release a named lock this connection holds."""
        if name in self._held and self._session.connected:
            self.run("SELECT RELEASE_LOCK(%s)", (name,))
        self._held.discard(name)

    def prepare_side(self) -> None:
        """Drop any leftover side tables and create them empty, shaped like the live ones."""
        self.drop(self.side)
        self.run(f"CREATE TABLE `{self.side.view}` LIKE `{self.live.view}`")
        self.run(f"CREATE TABLE `{self.side.checkpoints}` LIKE `{self.live.checkpoints}`")

    def drop(self, tables: Tables) -> None:
        """Drop both tables if they exist."""
        self.run(f"DROP TABLE IF EXISTS `{tables.view}`, `{tables.checkpoints}`")

    def positions(self, tables: Tables) -> dict[int, int]:
        """The projection's stored next offset by partition, in these tables."""
        return self._work(self._checkpoints(tables).read)

    def count(self, table: str) -> int:
        """How many rows the table holds."""
        return int(self.run(f"SELECT COUNT(*) FROM `{table}`")[0][0])

    def begin_snapshot(self) -> None:
        """Read every table as of now until COMMIT, whatever writers do meanwhile."""
        self.run("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        self.run("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def swap(self, targets: Mapping[int, int], rename_wait_s: float) -> None:
        """Move the side tables in and the live ones to `_old`, in one atomic RENAME.

        Call with the writer lock held. `targets` are checkpoints the side has covered
        (every record before them applied) but not stored, for lack of a record to store.
        """
        self._store_targets(targets)
        # Checkpoints of other projections sharing the table move along with ours.
        self._work(lambda cur: self._checkpoints(self.side).copy_others(cur, self.live.checkpoints))
        # A reader stuck in a long transaction must not make every lookup queue behind us.
        self.run("SET SESSION lock_wait_timeout = %s", (max(1, round(rename_wait_s)),))
        live, side, old = self.live, self.side, self.old
        self.run(
            f"RENAME TABLE `{live.view}` TO `{old.view}`, `{side.view}` TO `{live.view}`, "
            f"`{live.checkpoints}` TO `{old.checkpoints}`, `{side.checkpoints}` TO `{live.checkpoints}`"
        )

    def _store_targets(self, targets: Mapping[int, int]) -> None:
        side = self._checkpoints(self.side)
        self._work(lambda cur: side.raise_to(cur, targets, self._session.alias))


def _rows(cur: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cur.execute(sql, params)
    return list(cur.fetchall()) if cur.with_rows else []
