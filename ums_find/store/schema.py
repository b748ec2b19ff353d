"""The schema: the shared view table (as AddService made it) and our checkpoints."""

from __future__ import annotations

from ums_find.settings import Settings
from ums_find.store.accounts import create_accounts
from ums_find.store.connection import Tables, close_quietly, connect, translate_errors

VIEW_DDL = """CREATE TABLE IF NOT EXISTS `{table}` (
  name VARCHAR(32) NOT NULL,
  phone BIGINT NOT NULL,
  since DATETIME(6) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

CHECKPOINT_DDL = """CREATE TABLE IF NOT EXISTS `{table}` (
  consumer VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  topic VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  part INT NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (consumer, topic, part)
) ENGINE=InnoDB"""


def migrate(settings: Settings, tables: Tables = Tables()) -> None:
    """Create the database, tables and the accounts the settings name; an existing view stays as it is."""
    conn = connect(settings.mysql, database=False)
    try:
        with translate_errors():
            cursor = conn.cursor()
            # No COLLATE: the server's default utf8mb4 collation decides how names compare.
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{settings.mysql.database}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{settings.mysql.database}`")
            create_tables(cursor, tables)
            create_accounts(cursor, settings)
    finally:
        close_quietly(conn)


def create_tables(cursor: object, tables: Tables) -> None:
    """Create one projection's view and checkpoint tables if absent."""
    cursor.execute(VIEW_DDL.format(table=tables.view))  # type: ignore[attr-defined]
    cursor.execute(CHECKPOINT_DDL.format(table=tables.checkpoints))  # type: ignore[attr-defined]
