"""The accounts as k8s/dev deploys them, migrated on a real server: the API's is refused every write."""

from __future__ import annotations

from collections.abc import Iterator

import mysql.connector
import pytest
from mysql.connector import errorcode

from tests.deploy.accounts import Accounts, deployed_accounts
from tests.support.mysql import query
from ums_find.settings import Settings
from ums_find.store import connect, migrate


@pytest.fixture
def deployed(database: Settings) -> Iterator[tuple[Settings, Accounts]]:
    """This test's database migrated with the account names and passwords k8s/dev gives migrate."""
    accounts = deployed_accounts("dev")
    made = accounts.migrate
    # The server and the administrator are this machine's; everything else is the manifests'.
    admin = database.override(
        api_mysql_user=made["UMS_API_MYSQL_USER"],
        api_mysql_password=made["UMS_API_MYSQL_PASSWORD"],
        writer_mysql_user=made["UMS_WRITER_MYSQL_USER"],
        writer_mysql_password=made["UMS_WRITER_MYSQL_PASSWORD"],
    )
    try:
        migrate(admin)
        yield admin, accounts
    finally:
        for user in (admin.accounts.api_user, admin.accounts.writer_user):
            query(database, "DROP USER IF EXISTS %s@'%'", (user,))


def as_container(settings: Settings, accounts: Accounts, name: str) -> Settings:
    user, password = accounts.logins[name]
    return settings.override(mysql_user=user, mysql_password=password)


def execute(settings: Settings, sql: str) -> None:
    conn = connect(settings)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        if cursor.with_rows:
            cursor.fetchall()
    finally:
        conn.close()


def test_the_deployed_api_account_is_refused_every_write(
    deployed: tuple[Settings, Accounts],
) -> None:
    admin, accounts = deployed
    api = as_container(admin, accounts, "api")
    execute(api, "SELECT name FROM ums_users")
    for sql in (
        "INSERT INTO ums_users VALUES ('Mallory0001', 9876543211, '2022-03-01 10:00:00')",
        "UPDATE ums_checkpoints SET next_offset = 0",
        "DROP TABLE ums_users",
    ):
        with pytest.raises(mysql.connector.Error) as caught:
            execute(api, sql)
        assert caught.value.errno == errorcode.ER_TABLEACCESS_DENIED_ERROR, sql


def test_the_deployed_consumer_account_writes(deployed: tuple[Settings, Accounts]) -> None:
    admin, accounts = deployed
    consumer = as_container(admin, accounts, "consumer")
    execute(consumer, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    assert query(admin, "SELECT name FROM ums_users") == [("KrishnaMohan",)]
