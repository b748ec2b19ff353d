"""The rebuild store against the real MariaDB: the swap, its checkpoints, and readers meanwhile."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from tests.support.mysql import query
from ums_find.domain import Name, PhoneNumber, User
from ums_find.settings import Settings
from ums_find.store import Change, Position, ProjectionStore, UserReader
from ums_find.store.rebuild import Projection, RebuildStore

SINCE = datetime(2022, 3, 1, 10, tzinfo=UTC)


def put(name: str, phone: int) -> Change:
    return Change.of(Name(name), User(Name(name), PhoneNumber(phone), SINCE))


def test_the_swap_hands_over_the_checkpoints_the_live_writer_expects(database: Settings) -> None:
    live = ProjectionStore(database.mysql, "live", "topic-a")
    live.apply([put("KrishnaMohan", 9000000001)], [Position(0, None, 5), Position(1, None, 3)])
    query(
        database,
        "INSERT INTO ums_checkpoints (consumer, topic, part, next_offset) VALUES ('other', 't', 0, 7)",
    )
    rebuild = RebuildStore(database.mysql, Projection("live", "topic-a"))
    rebuild.prepare_side()
    side = ProjectionStore(database.mysql, "live", "topic-a", rebuild.side)
    side.apply([put("KrishnaMohan", 9876543210)], [Position(0, None, 4)])
    # Partition 0's record 4 is gone (compacted): the side covered it without storing it.
    rebuild.swap({0: 5, 1: 3}, 5)
    assert live.load_positions([0, 1, 2]) == {0: 5, 1: 3, 2: None}
    live.apply([put("Someone0001", 9000000002)], [Position(0, 5, 6)])  # the fence holds: no StalePosition
    assert query(database, "SELECT name, phone FROM ums_users ORDER BY name") == [
        ("KrishnaMohan", 9876543210),
        ("Someone0001", 9000000002),
    ]
    assert query(database, "SELECT next_offset FROM ums_checkpoints WHERE consumer = 'other'") == [(7,)]
    assert query(database, "SELECT phone FROM ums_users_old") == [(9000000001,)]
    live.close()
    side.close()
    rebuild.close()


def test_readers_on_kept_connections_never_miss_the_table_across_swaps(database: Settings) -> None:
    rebuild = RebuildStore(database.mysql, Projection("live", "topic-a"))
    fill = "INSERT INTO `{}` VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')"
    query(database, fill.format("ums_users"))
    reader, stop = UserReader(database.mysql), threading.Event()
    results: list[object] = []

    def look() -> None:
        while not stop.is_set():
            try:
                found = reader.fetch("KrishnaMohan")
                results.append(found.phone if found else None)
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                results.append(exc)

    threads = [threading.Thread(target=look, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(30):
            rebuild.prepare_side()
            query(database, fill.format(rebuild.side.view))
            rebuild.drop(rebuild.old)
            rebuild.swap({}, 5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        rebuild.close()
    assert len(results) > 30
    assert set(results) == {9876543210}, [r for r in results if r != 9876543210][:5]
