"""`migrate` creates a read-only account for the API and a writer for the consumer and replay."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import mysql.connector
import pytest
from mysql.connector import errorcode

from tests.conftest import random_suffix
from tests.support.mysql import query
from ums_find.settings import Settings
from ums_find.store import UserReader, connect, migrate


@pytest.fixture
def accounts(database: Settings) -> Iterator[Settings]:
    suffix = random_suffix()
    settings = database.override(
        api_mysql_user=f"api_{suffix}",
        api_mysql_password=f"r'{suffix}",
        writer_mysql_user=f"wr_{suffix}",
        writer_mysql_password=f'w"{suffix}',
    )
    try:
        migrate(settings)
        migrate(settings)  # idempotent: a second run changes nothing and fails on nothing
        yield settings
    finally:
        for user in (settings.accounts.api_user, settings.accounts.writer_user):
            query(database, "DROP USER IF EXISTS %s@'%'", (user,))


def as_api(settings: Settings) -> Settings:
    return settings.override(
        mysql_user=settings.accounts.api_user, mysql_password=settings.accounts.api_password
    )


def as_writer(settings: Settings) -> Settings:
    return settings.override(
        mysql_user=settings.accounts.writer_user, mysql_password=settings.accounts.writer_password
    )


def refused(settings: Settings, sql: str) -> int:
    conn = connect(settings)
    try:
        with pytest.raises(mysql.connector.Error) as caught:
            conn.cursor().execute(sql)
        return int(caught.value.errno)
    finally:
        conn.close()


def test_the_api_account_reads_but_cannot_write(accounts: Settings) -> None:
    query(accounts, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    reader = UserReader(as_api(accounts).mysql)
    found = reader.fetch("krishnamohan")
    assert found is not None and found.phone == 9876543210 and reader.positions() == {}
    api = as_api(accounts)
    denied = {errorcode.ER_TABLEACCESS_DENIED_ERROR, errorcode.ER_DBACCESS_DENIED_ERROR}
    for sql in (
        "INSERT INTO ums_users VALUES ('Mallory0001', 9876543211, '2022-03-01 10:00:00')",
        "UPDATE ums_users SET phone = 9000000000",
        "DELETE FROM ums_users",
        "UPDATE ums_checkpoints SET next_offset = 0",
        "CREATE TABLE intruder (x INT)",
        "DROP TABLE ums_users",
        "RENAME TABLE ums_users TO gone",
    ):
        assert refused(api, sql) in denied, sql
    assert query(accounts, "SELECT name, phone FROM ums_users") == [("KrishnaMohan", 9876543210)]


def test_the_writer_account_writes_and_renames_but_only_in_its_database(accounts: Settings) -> None:
    writer = as_writer(accounts)
    query(writer, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    query(writer, "CREATE TABLE ums_users_side LIKE ums_users")
    query(writer, "RENAME TABLE ums_users TO ums_users_old, ums_users_side TO ums_users")
    query(writer, "DROP TABLE ums_users_old")
    assert query(writer, "SELECT COUNT(*) FROM ums_users") == [(0,)]
    assert refused(writer, "CREATE DATABASE intruder_db") == errorcode.ER_DBACCESS_DENIED_ERROR
    assert refused(writer, "SELECT * FROM mysql.user") == errorcode.ER_TABLEACCESS_DENIED_ERROR


def test_migrate_narrows_a_wider_grant_to_exactly_the_accounts_privileges(accounts: Settings) -> None:
    for user in (accounts.accounts.api_user, accounts.accounts.writer_user):
        database = accounts.mysql.database.replace("_", "\\_")
        query(accounts, f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@'%' WITH GRANT OPTION", (user,))
    migrate(accounts)
    api = as_api(accounts)
    assert refused(api, "DELETE FROM ums_users") == errorcode.ER_TABLEACCESS_DENIED_ERROR
    assert refused(api, "CREATE TABLE intruder (x INT)") == errorcode.ER_TABLEACCESS_DENIED_ERROR
    grants = " ".join(
        row[0] for row in query(accounts, "SHOW GRANTS FOR %s@'%'", (accounts.accounts.api_user,))
    )
    assert "GRANT OPTION" not in grants and "INSERT" not in grants
    writer = as_writer(accounts)
    assert refused(writer, "CREATE VIEW v AS SELECT 1") == errorcode.ER_TABLEACCESS_DENIED_ERROR
    query(writer, "DELETE FROM ums_users")


def test_lookups_during_repeated_migrates_are_never_refused(accounts: Settings) -> None:
    # Every rollout migrates while the API serves: its account's SELECT must never lapse.
    stop, refusals, lookups = threading.Event(), [], 0

    def look() -> None:
        # A new session each time: database privileges are read when a session picks its
        # database (a new pod, a reconnect), so that is where a revoke/grant gap would show.
        nonlocal lookups
        while not stop.is_set():
            try:
                conn = connect(as_api(accounts))
                try:
                    cursor = conn.cursor()
                    cursor.execute("SELECT name FROM ums_users WHERE name = 'krishnamohan'")
                    cursor.fetchall()
                finally:
                    conn.close()
                lookups += 1
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                refusals.append(repr(exc))

    threads = [threading.Thread(target=look) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(60):
            migrate(accounts)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert lookups > 0 and refusals == []
