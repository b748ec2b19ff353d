"""The checkpoint repository: where each (consumer, topic) scope's next offsets are kept.

Shaped like a tracking recorder: positions are read for a scope, and fenced and advanced
inside the transaction of the batch that moves them, so a view and its checkpoints move together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ums_find.store.upsert import text_literal, upsert

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
    """The SQL of one scope's checkpoints in one table: statements to send, or run on a given cursor."""

    def __init__(self, scope: Scope, table: str = "ums_checkpoints") -> None:
        self.scope = scope
        self.table = table

    def select_sql(self, parts: Sequence[int] | None = None, for_update: bool = False) -> str:
        """The one SELECT of the scope's positions, for these partitions (None: all), values inline."""
        scope = f"consumer = {text_literal(self.scope.consumer)} AND topic = {text_literal(self.scope.topic)}"
        sql = f"SELECT part, next_offset FROM `{self.table}` WHERE {scope}"
        if parts is not None:
            sql += f" AND part IN ({', '.join(str(int(part)) for part in parts)})"
        return sql + (" FOR UPDATE" if for_update else "")

    def read(self, cur: Any) -> dict[int, int]:
        """Every stored next offset of the scope, by partition."""
        return self._select(cur, None)

    def load(self, cur: Any, partitions: Iterable[int]) -> dict[int, int | None]:
        """The stored next offset of each partition (None where nothing is stored)."""
        wanted = list(partitions)
        result: dict[int, int | None] = dict.fromkeys(wanted)
        if wanted:
            result.update(self._select(cur, wanted))
        return result

    def fence_sql(self, positions: Sequence[Position]) -> str:
        """The locking read of the positions' rows, whose answer `check_fence` judges."""
        return self.select_sql(sorted(p.partition for p in positions), for_update=True)

    def check_fence(self, rows: Iterable[tuple[Any, ...]], positions: Sequence[Position]) -> None:
        """Raise StalePosition unless the rows `fence_sql` read hold what each position expected."""
        found = _offsets(rows)
        for pos in positions:
            stored = found.get(pos.partition)
            if stored != pos.expected:
                raise StalePosition(
                    f"{self.scope.topic}[{pos.partition}]: checkpoint is {stored}, expected {pos.expected}"
                )

    def advance_sql(self, positions: Sequence[Position], alias: bool) -> str:
        """The statement storing each position's next offset (after the fence, in its transaction)."""
        return self.store_sql({p.partition: p.next_offset for p in positions}, alias)

    def store_sql(self, offsets: Mapping[int, int], alias: bool) -> str:
        """The statement writing these next offsets by partition, whatever was stored (literal values)."""
        scope = f"{text_literal(self.scope.consumer)}, {text_literal(self.scope.topic)}"
        rows = ", ".join(f"({scope}, {int(part)}, {int(offset)})" for part, offset in offsets.items())
        updates = ("next_offset", "updated_at = CURRENT_TIMESTAMP(6)")
        return upsert(self.table, CHECKPOINT_COLUMNS, rows, updates, alias)

    def store(self, cur: Any, offsets: Mapping[int, int], alias: bool) -> None:
        """Write these next offsets by partition, whatever was stored."""
        if offsets:
            cur.execute(self.store_sql(offsets, alias))

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

    def _select(self, cur: Any, parts: list[int] | None) -> dict[int, int]:
        cur.execute(self.select_sql(parts))
        return _offsets(cur.fetchall())


def _offsets(rows: Iterable[tuple[Any, ...]]) -> dict[int, int]:
    return {int(part): int(offset) for part, offset in rows}
