"""A projection store for bulk loads: upserts sent as literal SQL, cheap on the client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ums_find.domain import User
from ums_find.store.projection import Change, ProjectionStore


def row_literal(user: User) -> str:
    """`(name, phone, since)` as SQL; the name as a hex literal, safe in every SQL mode."""
    since = user.since.replace(tzinfo=None).isoformat(" ", "microseconds")
    return f"(_utf8mb4 X'{user.name.value.encode('utf-8').hex()}',{user.phone.value},'{since}')"


class BulkProjectionStore(ProjectionStore):
    """Writes as ProjectionStore does, but builds each upsert as one literal statement.

    The connector's parameter substitution costs about as much as the server's work
    for a multi-row insert; a replay writes millions of rows.
    """

    def _write_bulk(self, cur: Any, changes: Sequence[Change]) -> None:
        super()._write_bulk(cur, [c for c in changes if c.user is None])
        rows = [row_literal(c.user) for c in changes if c.user is not None]
        if rows:
            cur.execute(
                f"INSERT INTO `{self.tables.view}` (name, phone, since) VALUES {','.join(rows)} "
                "ON DUPLICATE KEY UPDATE name = VALUES(name), phone = VALUES(phone), since = VALUES(since)"
            )
