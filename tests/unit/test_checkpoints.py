"""The checkpoint repository's SQL and fencing, on a recording cursor."""

from __future__ import annotations

from typing import Any

import pytest

from ums_find.store.checkpoints import CheckpointRepository, Position, Scope, StalePosition

SCOPE = Scope("ums-find", "user-added")


class Cursor:
    """Records statements and answers each SELECT with the given rows."""

    def __init__(self, rows: list[tuple[int, int]]) -> None:
        self.rows = rows
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: Any = ()) -> None:
        self.statements.append((sql, list(params)))

    def fetchall(self) -> list[tuple[int, int]]:
        return self.rows


def test_one_select_for_every_read() -> None:
    repo = CheckpointRepository(SCOPE, "cp")
    assert repo.select_sql() == "SELECT part, next_offset FROM `cp` WHERE consumer = %s AND topic = %s"
    assert repo.select_sql(2, for_update=True).endswith("AND part IN (%s, %s) FOR UPDATE")


def test_load_fills_the_partitions_nothing_is_stored_for() -> None:
    cur = Cursor([(1, 40)])
    assert CheckpointRepository(SCOPE).load(cur, [0, 1]) == {0: None, 1: 40}
    assert cur.statements[0][1] == ["ums-find", "user-added", 0, 1]
    assert CheckpointRepository(SCOPE).load(Cursor([]), []) == {}


def test_fence_refuses_a_moved_checkpoint() -> None:
    repo = CheckpointRepository(SCOPE)
    repo.fence(Cursor([(0, 5)]), [Position(0, 5, 9)])
    with pytest.raises(StalePosition, match=r"user-added\[0\]: checkpoint is 7, expected 5"):
        repo.fence(Cursor([(0, 7)]), [Position(0, 5, 9)])
    with pytest.raises(StalePosition):
        repo.fence(Cursor([]), [Position(0, 5, 9)])


def test_advance_writes_every_position_of_the_scope() -> None:
    cur = Cursor([])
    CheckpointRepository(SCOPE, "cp").advance(cur, [Position(0, None, 3), Position(2, 1, 4)], alias=False)
    sql, params = cur.statements[0]
    assert sql.startswith("INSERT INTO `cp`")
    assert params == ["ums-find", "user-added", 0, 3, "ums-find", "user-added", 2, 4]


def test_raise_to_leaves_checkpoints_already_ahead() -> None:
    cur = Cursor([(0, 10), (1, 2)])
    CheckpointRepository(SCOPE).raise_to(cur, {0: 8, 1: 6, 2: 1}, alias=True)
    assert cur.statements[-1][1] == ["ums-find", "user-added", 1, 6, "ums-find", "user-added", 2, 1]
    quiet = Cursor([(0, 10)])
    CheckpointRepository(SCOPE).raise_to(quiet, {0: 8}, alias=True)
    assert len(quiet.statements) == 1  # the read only
