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


SCOPE_SQL = "consumer = _utf8mb4 X'756d732d66696e64' AND topic = _utf8mb4 X'757365722d6164646564'"


def test_one_select_for_every_read_with_its_values_inline() -> None:
    repo = CheckpointRepository(SCOPE, "cp")
    assert repo.select_sql() == f"SELECT part, next_offset FROM `cp` WHERE {SCOPE_SQL}"
    assert repo.select_sql([0, 2], for_update=True).endswith(f"{SCOPE_SQL} AND part IN (0, 2) FOR UPDATE")
    assert repo.fence_sql([Position(2, 1, 4), Position(0, None, 3)]) == repo.select_sql([0, 2], True)


def test_a_scope_is_quoted_whatever_it_holds() -> None:
    repo = CheckpointRepository(Scope("it's", "a\\b"), "cp")
    assert "consumer = _utf8mb4 X'69742773' AND topic = _utf8mb4 X'615c62'" in repo.select_sql()


def test_load_fills_the_partitions_nothing_is_stored_for() -> None:
    cur = Cursor([(1, 40)])
    assert CheckpointRepository(SCOPE).load(cur, [0, 1]) == {0: None, 1: 40}
    assert cur.statements[0][0].endswith("AND part IN (0, 1)")
    assert CheckpointRepository(SCOPE).load(Cursor([]), []) == {}


def test_the_fence_refuses_a_moved_checkpoint() -> None:
    repo = CheckpointRepository(SCOPE)
    repo.check_fence([(0, 5), (1, 2)], [Position(0, 5, 9), Position(1, 2, 3)])
    repo.check_fence([], [Position(0, None, 9)])
    with pytest.raises(StalePosition, match=r"user-added\[0\]: checkpoint is 7, expected 5"):
        repo.check_fence([(0, 7)], [Position(0, 5, 9)])
    with pytest.raises(StalePosition, match="checkpoint is None, expected 5"):
        repo.check_fence([], [Position(0, 5, 9)])
    with pytest.raises(StalePosition, match="checkpoint is 0, expected None"):
        repo.check_fence([(0, 0)], [Position(0, None, 9)])


def test_advance_writes_every_position_of_the_scope() -> None:
    sql = CheckpointRepository(SCOPE, "cp").advance_sql(
        [Position(0, None, 3), Position(2, 1, 4)], alias=False
    )
    scope = "_utf8mb4 X'756d732d66696e64', _utf8mb4 X'757365722d6164646564'"
    assert sql.startswith(
        f"INSERT INTO `cp` (consumer, topic, part, next_offset) VALUES ({scope}, 0, 3), ({scope}, 2, 4)"
    )
    assert sql.endswith("next_offset = VALUES(next_offset), updated_at = CURRENT_TIMESTAMP(6)")


def test_raise_to_leaves_checkpoints_already_ahead() -> None:
    cur = Cursor([(0, 10), (1, 2)])
    CheckpointRepository(SCOPE).raise_to(cur, {0: 8, 1: 6, 2: 1}, alias=True)
    assert ", 1, 6), (" in cur.statements[-1][0] and cur.statements[-1][0].count("), (") == 1
    assert ", 2, 1) AS incoming" in cur.statements[-1][0]
    quiet = Cursor([(0, 10)])
    CheckpointRepository(SCOPE).raise_to(quiet, {0: 8}, alias=True)
    assert len(quiet.statements) == 1  # the read only
