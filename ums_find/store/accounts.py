"""Least privilege: the API's read-only account and the consumer's writer, granted on the database."""

from __future__ import annotations

import logging
import re
from typing import Any

import mysql.connector
from mysql.connector import errorcode

from ums_find.settings import Secret, Settings

log = logging.getLogger(__name__)

# On the database, not on tables: a rebuild swaps tables by renaming them.
READ_ONLY = "SELECT"
WRITER = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER"
# What ALL PRIVILEGES means on a database, on MySQL 8 and MariaDB (each lacks a few: skipped).
_DATABASE_PRIVILEGES = (
    "ALTER", "ALTER ROUTINE", "CREATE", "CREATE ROUTINE", "CREATE TEMPORARY TABLES", "CREATE VIEW",
    "DELETE", "DELETE HISTORY", "DROP", "EVENT", "EXECUTE", "INDEX", "INSERT", "LOCK TABLES",
    "REFERENCES", "SELECT", "SHOW CREATE ROUTINE", "SHOW VIEW", "TRIGGER", "UPDATE",
)  # fmt: skip
_GRANT = re.compile(r"GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO .*?(?P<option> WITH GRANT OPTION)?$")


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
    """One account with exactly these privileges on the settings' database (MySQL 8 and MariaDB).

    Granting first and then revoking only what is extra means the wanted privileges never
    lapse: a lookup while `migrate` runs (every rollout) is never refused.
    """
    account = (user, settings.accounts.host)
    cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (*account, password.reveal()))
    cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", (*account, password.reveal()))
    # In GRANT, `_` in a database name is a wildcard: escape it to mean this database only.
    database = settings.mysql.database.replace("_", "\\_")
    cursor.execute(f"GRANT {privileges} ON `{database}`.* TO %s@%s", account)
    extra = held(cursor, account, f"`{database}`.*") - set(privileges.split(", "))
    for privilege in sorted(extra):
        _revoke(cursor, account, database, privilege)
    log.info("account %s@%s may %s on %s", user, settings.accounts.host, privileges, database)


def held(cursor: Any, account: tuple[str, str], target: str) -> set[str]:
    """The privileges the account holds on one target (`db`.*), ALL spelt out."""
    cursor.execute("SHOW GRANTS FOR %s@%s", account)
    found: set[str] = set()
    for (line,) in cursor.fetchall():
        match = _GRANT.match(line if isinstance(line, str) else line.decode())
        if not match or match["target"] != target:
            continue
        names = {p.strip() for p in match["privileges"].split(",")}
        if "ALL PRIVILEGES" in names or "ALL" in names:
            names = set(_DATABASE_PRIVILEGES)
        found |= names | ({"GRANT OPTION"} if match["option"] else set())
    return found


def _revoke(cursor: Any, account: tuple[str, str], database: str, privilege: str) -> None:
    try:
        cursor.execute(f"REVOKE {privilege} ON `{database}`.* FROM %s@%s", account)
    except mysql.connector.Error as exc:
        # A privilege this server does not know (spelt out from ALL) is not held either.
        if exc.errno not in (errorcode.ER_PARSE_ERROR, errorcode.ER_NONEXISTING_GRANT):
            raise
