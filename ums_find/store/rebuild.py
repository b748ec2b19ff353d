"""Rebuilding a view beside the live one: side tables, locks, and the atomic swap."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ums_find.settings import Settings
from ums_find.store.connection import DatabaseUnavailable, Tables, close_quietly, connect, translate_errors
from ums_find.store.projection import CHECKPOINT_COLUMNS, writer_lock_name
from ums_find.store.upsert import row_alias_supported, upsert

log = logging.getLogger(__name__)


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

    def __init__(self, settings: Settings, projection: Projection) -> None:
        self._settings = settings
        self.projection = projection
        self.live = projection.live
        self.side = side_tables(projection.live)
        self.old = old_tables(projection.live)
        self.writer_lock = writer_lock_name(settings.mysql.database, projection.live.view)
        self._conn: Any = None
        self._held: set[str] = set()
        self._alias = False  # the upsert's dialect, read from the server at connect

    def close(self) -> None:
        """Drop the connection, and with it any named lock it holds."""
        close_quietly(self._conn)
        self._conn = None
        self._held.clear()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in autocommit; its rows, if any."""
        if self._conn is None and self._held:
            # Its locks went with the lost connection: going on would be unguarded.
            raise DatabaseUnavailable(f"lost the connection that held {sorted(self._held)}")
        try:
            with translate_errors():
                if self._conn is None:
                    self._conn = connect(self._settings, autocommit=True)
                    self._alias = row_alias_supported(self._conn.server_info)
                cur = self._conn.cursor()
                try:
                    cur.execute(sql, params)
                    return list(cur.fetchall()) if cur.with_rows else []
                finally:
                    cur.close()
        except DatabaseUnavailable:
            close_quietly(self._conn)
            self._conn = None
            raise

    def lock(self, name: str, timeout_s: float = 0) -> bool:
        """Take a named lock, waiting up to `timeout_s`; held until unlock or disconnection."""
        got = self.run("SELECT GET_LOCK(%s, %s)", (name, timeout_s))[0][0] == 1
        if got:
            self._held.add(name)
        return got

    def unlock(self, name: str) -> None:
        """Release a named lock this connection holds."""
        if name in self._held and self._conn is not None:
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
        sql = f"SELECT part, next_offset FROM `{tables.checkpoints}` WHERE consumer = %s AND topic = %s"
        rows = self.run(sql, (self.projection.consumer, self.projection.topic))
        return {int(part): int(offset) for part, offset in rows}

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
        self.run(
            f"INSERT IGNORE INTO `{self.side.checkpoints}` SELECT * FROM `{self.live.checkpoints}` "
            "WHERE NOT (consumer = %s AND topic = %s)",
            (self.projection.consumer, self.projection.topic),
        )
        # A reader stuck in a long transaction must not make every lookup queue behind us.
        self.run("SET SESSION lock_wait_timeout = %s", (max(1, round(rename_wait_s)),))
        live, side, old = self.live, self.side, self.old
        self.run(
            f"RENAME TABLE `{live.view}` TO `{old.view}`, `{side.view}` TO `{live.view}`, "
            f"`{live.checkpoints}` TO `{old.checkpoints}`, `{side.checkpoints}` TO `{live.checkpoints}`"
        )

    def _store_targets(self, targets: Mapping[int, int]) -> None:
        stored = self.positions(self.side)  # connected now: the server's dialect is known
        alias = self._alias
        for part, offset in sorted(targets.items()):
            if stored.get(part, -1) < offset:
                sql = upsert(
                    self.side.checkpoints, CHECKPOINT_COLUMNS, "(%s, %s, %s, %s)", ["next_offset"], alias
                )
                self.run(sql, (self.projection.consumer, self.projection.topic, part, offset))
