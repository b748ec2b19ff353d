"""The store against the real MariaDB: schema, batches with checkpoints, reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.mysql import kill_connections, query, view_rows
from ums_find.domain import Name, PhoneNumber, User
from ums_find.settings import Settings
from ums_find.store import Change, Position, ProjectionStore, StalePosition, UserReader, migrate

SINCE = datetime(2022, 3, 1, 10, tzinfo=UTC)


def put(name: str, phone: int = 9876543210) -> Change:
    return Change.of(Name(name), User(Name(name), PhoneNumber(phone), SINCE))


def erase(name: str) -> Change:
    return Change.of(Name(name), None)


@pytest.fixture
def store(database: Settings) -> ProjectionStore:
    return ProjectionStore(database.mysql, "tests", "topic-a")


def test_the_c_extension_is_in_use(database: Settings) -> None:
    import flask  # noqa: F401 - imports ssl first, as the service does
    import mysql.connector

    from ums_find.store import connect

    assert mysql.connector.HAVE_CEXT
    conn = connect(database)
    assert type(conn).__name__ == "CMySQLConnection"
    conn.close()


def test_migrate_is_idempotent_and_keeps_an_existing_view(database: Settings) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    migrate(database)
    migrate(database)
    assert list(view_rows(database)) == ["KrishnaMohan"]
    columns = query(
        database,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'ums_users' ORDER BY ordinal_position",
        (database.mysql.database,),
    )
    assert [(c.lower(), t.lower()) for c, t in columns] == [
        ("name", "varchar"),
        ("phone", "bigint"),
        ("since", "datetime"),
    ]


def test_a_batch_writes_rows_and_checkpoints_together(store: ProjectionStore, database: Settings) -> None:
    store.apply(
        [put("KrishnaMohan"), put("Someone0001"), erase("Someone0001")],
        [Position(0, None, 3), Position(2, None, 7)],
    )
    assert list(view_rows(database)) == ["KrishnaMohan"]
    assert store.load_positions([0, 1, 2]) == {0: 3, 1: None, 2: 7}
    store.apply([put("KrishnaMohan", 9123456789)], [Position(0, 3, 4)])
    assert view_rows(database)["KrishnaMohan"][0] == 9123456789


def test_a_duplicate_position_raises_and_changes_nothing(store: ProjectionStore, database: Settings) -> None:
    store.apply([put("KrishnaMohan")], [Position(0, None, 5)])
    with pytest.raises(StalePosition):
        store.apply([put("KrishnaMohan", 9123456789), put("Someone0001")], [Position(0, None, 6)])
    with pytest.raises(StalePosition):
        store.apply([put("Someone0001")], [Position(0, 4, 6)])
    assert view_rows(database) == {"KrishnaMohan": (9876543210, SINCE.replace(tzinfo=None))}
    assert store.load_positions([0]) == {0: 5}


def test_names_equal_under_the_collation_are_one_user(store: ProjectionStore, database: Settings) -> None:
    store.apply([put("KrishnaMohan"), put("krishnamohan", 9123456789)], [Position(0, None, 2)])
    assert view_rows(database) == {"krishnamohan": (9123456789, SINCE.replace(tzinfo=None))}
    store.apply([put("KRISHNAMOHAN"), erase("KrishnaMohan")], [Position(0, 2, 4)])
    assert view_rows(database) == {}
    store.apply([erase("KrishnaMohan"), put("KRISHNAMOHAN")], [Position(0, 4, 6)])
    assert list(view_rows(database)) == ["KRISHNAMOHAN"]


def test_reader_finds_names_case_blind_and_reconnects(store: ProjectionStore, database: Settings) -> None:
    store.apply([put("Ünïcødé Ñame"), put("Krishna/Mohan")], [Position(0, None, 2)])
    reader = UserReader(database.mysql)
    found = reader.fetch("ünïcødé ñame")
    assert found is not None and found.name == "Ünïcødé Ñame" and found.since == SINCE
    assert reader.fetch("Krishna/Mohan") is not None
    assert reader.fetch("Nobody000") is None
    kill_connections(database)
    assert reader.fetch("Krishna/Mohan") is not None


def test_a_held_writer_lock_holds_the_batch_back_as_a_transient_fault(database: Settings) -> None:

    from ums_find.store import DatabaseUnavailable, connect
    from ums_find.store.projection import writer_lock_name

    store = ProjectionStore(database.override(db_lock_timeout_s=0).mysql, "tests", "topic-a")
    holder = connect(database)
    cursor = holder.cursor()
    cursor.execute("SELECT GET_LOCK(%s, 1)", (writer_lock_name(database, "ums_users"),))
    assert cursor.fetchall() == [(1,)]
    with pytest.raises(DatabaseUnavailable, match="writer lock"):
        store.apply([put("KrishnaMohan")], [Position(0, None, 1)])
    assert store.load_positions([0]) == {0: None}
    holder.close()  # a session's end frees its locks
    store.apply([put("KrishnaMohan")], [Position(0, None, 1)])
    assert store.load_positions([0]) == {0: 1}
    store.close()


def test_a_script_answers_each_statement_and_stops_at_the_first_failure(database: Settings) -> None:
    import mysql.connector

    from ums_find.store import connect
    from ums_find.store.connection import run_script

    conn = connect(database)
    try:
        ran = run_script(conn, ["SELECT 1", "DO 1", "SELECT 2, 'two' UNION ALL SELECT 3, 'three'"])
        assert ran == ([[(1,)], [], [(2, "two"), (3, "three")]], None)
        stopped = run_script(conn, ["SELECT 1", "SELECT no_such_column FROM ums_users", "SELECT 3"])
        assert stopped.rows == [[(1,)]]
        assert isinstance(stopped.error, mysql.connector.errors.ProgrammingError)
        assert stopped.error.errno == 1054
        assert run_script(conn, ["SELECT 4"]) == ([[(4,)]], None)  # the connection is in step
    finally:
        conn.close()


def test_a_batch_whose_write_fails_changes_nothing_and_frees_the_lock(
    store: ProjectionStore, database: Settings
) -> None:
    import mysql.connector

    from ums_find.store import Change
    from ums_find.store.projection import writer_lock_name

    store.apply([put("KrishnaMohan")], [Position(0, None, 1)])
    too_long = Change("x" * 40, "x" * 40, f"('{'x' * 40}', 1, '2022-03-01 10:00:00')")  # the view holds 32
    with pytest.raises(mysql.connector.Error, match="too long"):
        store.apply([put("Someone0001"), too_long], [Position(0, 1, 3)])
    assert list(view_rows(database)) == ["KrishnaMohan"]
    assert store.load_positions([0]) == {0: 1}
    lock = writer_lock_name(database, "ums_users")
    assert query(database, "SELECT GET_LOCK(%s, 0)", (lock,)) == [(1,)]
    store.apply([put("Someone0001")], [Position(0, 1, 3)])
    assert sorted(view_rows(database)) == ["KrishnaMohan", "Someone0001"]
    assert store.load_positions([0]) == {0: 3}


FORKED_FIRST_CONNECTIONS = """
import os, sys, threading
from ums_find.settings import Settings
from ums_find.store import connect

settings = Settings.from_env()


def child() -> None:
    start = threading.Barrier(8)

    def opens() -> None:
        start.wait()
        connect(settings).close()

    threads = [threading.Thread(target=opens) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


crashed = 0
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        child()
        os._exit(0)
    crashed += os.waitpid(pid, 0)[1] != 0
print(crashed)
"""


def test_threads_opening_a_forked_process_first_connections_at_once_do_not_crash_it(
    database: Settings,
) -> None:
    # As the API's workers start: forked from a parent that never connected, then eight
    # threads open their connections at once. Unguarded, about one child in eight crashed.
    import subprocess
    import sys

    from tests.support.processes import settings_env

    run = subprocess.run(
        [sys.executable, "-c", FORKED_FIRST_CONNECTIONS],
        env=settings_env(database),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert run.stdout.split()[-1] == "0", run.stdout + run.stderr[-2000:]
