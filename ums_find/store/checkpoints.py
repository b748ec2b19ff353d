"""The checkpoint repository: where each (consumer, topic) scope's next offsets are kept.

Shaped like a tracking recorder: positions are read for a scope, and fenced and advanced
inside the transaction of the batch that moves them, so a view and its checkpoints move together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ums_find.store.upsert import upsert

CHECKPOINT_COLUMNS = ("consumer", "topic", "part", "next_offset")


@dataclass(frozen=True)
class Scope:
    """Whose checkpoints: one consumer's, of one topic."""

    consumer: str
    topic: str


@dataclass(frozen=True)
class Position:
    """A partition's checkpoint: what we believe is stored, and what to store."""

    partition: int
    expected: int | None
    next_offset: int


class StalePosition(Exception):
    """The stored checkpoint is not the one this writer expected: another wrote it."""


class CheckpointRepository:
    """The SQL of one scope's checkpoints in one table; every method runs on a given cursor."""

    def __init__(self, scope: Scope, table: str = "ums_checkpoints") -> None:
        self.scope = scope
        self.table = table

    def select_sql(self, parts: int | None = None, for_update: bool = False) -> str:
        """The one SELECT of the scope's positions, for `parts` partitions (None: all)."""
        sql = f"SELECT part, next_offset FROM `{self.table}` WHERE consumer = %s AND topic = %s"
        if parts is not None:
            sql += f" AND part IN ({', '.join(['%s'] * parts)})"
        return sql + (" FOR UPDATE" if for_update else "")

    def read(self, cur: Any) -> dict[int, int]:
        """Every stored next offset of the scope, by partition."""
        return self._select(cur, None, for_update=False)

    def load(self, cur: Any, partitions: Iterable[int]) -> dict[int, int | None]:
        """The stored next offset of each partition (None where nothing is stored)."""
        wanted = list(partitions)
        result: dict[int, int | None] = dict.fromkeys(wanted)
        if wanted:
            result.update(self._select(cur, wanted, for_update=False))
        return result

    def fence(self, cur: Any, positions: Sequence[Position]) -> None:
        """Lock the positions' rows and raise StalePosition unless each holds what was expected."""
        if not positions:
            return
        found = self._select(cur, sorted(p.partition for p in positions), for_update=True)
        for pos in positions:
            stored = found.get(pos.partition)
            if stored != pos.expected:
                raise StalePosition(
                    f"{self.scope.topic}[{pos.partition}]: checkpoint is {stored}, expected {pos.expected}"
                )

    def advance(self, cur: Any, positions: Sequence[Position], alias: bool) -> None:
        """Store each position's next offset (call after `fence`, in the same transaction)."""
        self.store(cur, {p.partition: p.next_offset for p in positions}, alias)

    def store(self, cur: Any, offsets: Mapping[int, int], alias: bool) -> None:
        """Write these next offsets by partition, whatever was stored."""
        if not offsets:
            return
        marks = ", ".join(["(%s, %s, %s, %s)"] * len(offsets))
        scope = (self.scope.consumer, self.scope.topic)
        params = [v for part, offset in offsets.items() for v in (*scope, part, offset)]
        updates = ("next_offset", "updated_at = CURRENT_TIMESTAMP(6)")
        cur.execute(upsert(self.table, CHECKPOINT_COLUMNS, marks, updates, alias), params)

    def raise_to(self, cur: Any, targets: Mapping[int, int], alias: bool) -> None:
        """Store the targets that are ahead of what is stored; leave the others."""
        stored = self.read(cur)
        ahead = {p: o for p, o in sorted(targets.items()) if stored.get(p, -1) < o}
        self.store(cur, ahead, alias)

    def copy_others(self, cur: Any, source: str) -> None:
        """Copy into this table the checkpoints of `source` that belong to other scopes."""
        cur.execute(
            f"INSERT IGNORE INTO `{self.table}` SELECT * FROM `{source}` "
            "WHERE NOT (consumer = %s AND topic = %s)",
            (self.scope.consumer, self.scope.topic),
        )

    def _select(self, cur: Any, parts: list[int] | None, for_update: bool) -> dict[int, int]:
        count = None if parts is None else len(parts)
        cur.execute(
            self.select_sql(count, for_update), [self.scope.consumer, self.scope.topic, *(parts or [])]
        )
        return {int(part): int(offset) for part, offset in cur.fetchall()}
