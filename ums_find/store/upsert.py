"""`INSERT ... ON DUPLICATE KEY UPDATE` in the server's dialect, chosen from its version at connect.

MySQL deprecates `VALUES(col)` in the update clause since 8.0.20 in favour of a row alias
(`VALUES (...) AS new ON DUPLICATE KEY UPDATE col = new.col`, from 8.0.19); MariaDB has no
row alias and keeps `VALUES(col)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ALIAS = "incoming"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def row_alias_supported(server_version: str) -> bool:
    """Whether a server of this version string (`SELECT VERSION()`) takes the row-alias form."""
    if "mariadb" in server_version.lower():
        return False
    found = _VERSION.search(server_version)
    if found is None:
        return False  # unknown: the older form, which every server takes
    return tuple(int(part) for part in found.groups()) >= (8, 0, 19)


def text_literal(text: str) -> str:
    """`text` as a SQL string literal: hex digits, so no quote, backslash or SQL mode can bend it."""
    return f"_utf8mb4 X'{text.encode('utf-8').hex()}'"


def upsert(table: str, columns: Sequence[str], rows: str, updates: Sequence[str], alias: bool) -> str:
    """The statement inserting `rows` (a VALUES list) and, on a duplicate key, copying `updates`.

    `updates` name the columns to take from the incoming row; an entry containing `=` is an
    assignment used as it is (such as `updated_at = CURRENT_TIMESTAMP(6)`).
    """
    assignments = []
    for column in updates:
        if "=" in column:
            assignments.append(column)
        else:
            taken = f"{ALIAS}.{column}" if alias else f"VALUES({column})"
            assignments.append(f"{column} = {taken}")
    row_alias = f" AS {ALIAS}" if alias else ""
    return (
        f"INSERT INTO `{table}` ({', '.join(columns)}) VALUES {rows}{row_alias} "
        f"ON DUPLICATE KEY UPDATE {', '.join(assignments)}"
    )
