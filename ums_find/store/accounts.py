"""Least privilege: the API's read-only account and the consumer's writer, granted on the database."""

from __future__ import annotations

import logging
from typing import Any

import mysql.connector
from mysql.connector import errorcode

from ums_find.settings import Secret, Settings

log = logging.getLogger(__name__)

# On the database, not on tables: a rebuild swaps tables by renaming them.
READ_ONLY = "SELECT"
WRITER = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER"


def create_accounts(cursor: Any, settings: Settings) -> list[str]:
    """Create (or update the password of) each account the settings name; return their names."""
    wanted = [
        (settings.accounts.api_user, settings.accounts.api_password, READ_ONLY),
        (settings.accounts.writer_user, settings.accounts.writer_password, WRITER),
    ]
    made = []
    for user, password, privileges in wanted:
        if user:
            grant(cursor, settings, user, password, privileges)
            made.append(user)
    return made


def grant(cursor: Any, settings: Settings, user: str, password: Secret, privileges: str) -> None:
    """One account with exactly these privileges on the settings' database (MySQL 8 and MariaDB)."""
    account = (user, settings.accounts.host)
    cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (*account, password.reveal()))
    cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", (*account, password.reveal()))
    # In GRANT, `_` in a database name is a wildcard: escape it to mean this database only.
    database = settings.mysql.database.replace("_", "\\_")
    try:  # an earlier, wider grant on this database is narrowed to exactly these privileges
        cursor.execute(f"REVOKE ALL PRIVILEGES ON `{database}`.* FROM %s@%s", account)
    except mysql.connector.Error as exc:
        if exc.errno != errorcode.ER_NONEXISTING_GRANT:
            raise
    cursor.execute(f"GRANT {privileges} ON `{database}`.* TO %s@%s", account)
    log.info("account %s@%s may %s on %s", user, settings.accounts.host, privileges, database)
