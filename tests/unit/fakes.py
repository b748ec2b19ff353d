"""In-memory stand-ins for the store, for tests of pure logic."""

from __future__ import annotations

from datetime import datetime

from ums_find.store import DatabaseUnavailable, UserRecord


class FakeReader:
    """A view held in a dict, compared case-blind as the database's collation does."""

    def __init__(self, rows: dict[str, tuple[int, datetime]] | None = None, down: bool = False) -> None:
        self.rows = dict(rows or {})
        self.down = down
        self.asked: list[str] = []
        self.checkpoints: dict[int, int] = {}

    def fetch(self, name: str) -> UserRecord | None:
        self.ping()
        self.asked.append(name)
        for stored, (phone, since) in self.rows.items():
            if stored.casefold() == name.casefold():
                return UserRecord(stored, phone, since)
        return None

    def ping(self) -> None:
        if self.down:
            raise DatabaseUnavailable("database unavailable: fake outage")

    def positions(self) -> dict[int, int]:
        self.ping()
        return dict(self.checkpoints)
