"""Differences between two view tables: counts, and the first names of each kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Run = Callable[[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Differences:
    """How a rebuilt view differs from the live one."""

    live_rows: int
    rebuilt_rows: int
    missing: int  # in the rebuilt view only: the live view lacks them
    extra: int  # in the live view only: the topic does not have them
    changed: int  # in both, with another spelling, phone or since
    first_missing: list[str] = field(default_factory=list)
    first_extra: list[str] = field(default_factory=list)
    first_changed: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether the two views hold the same rows."""
        return not (self.missing or self.extra or self.changed)

    def lines(self) -> list[str]:
        """A report for people."""
        head = f"live view: {self.live_rows} rows; rebuilt from the topic: {self.rebuilt_rows} rows"
        if self.identical:
            return [head, "identical"]
        kinds = [
            ("missing from the live view", self.missing, self.first_missing),
            ("only in the live view", self.extra, self.first_extra),
            ("different in the live view", self.changed, self.first_changed),
        ]
        return [head] + [f"{what}: {n}; first: {', '.join(names)}" for what, n, names in kinds if n]


def compare(run: Run, live: str, rebuilt: str, limit: int = 10) -> Differences:
    """Compare two view tables of the same shape with a few set queries."""
    only_rebuilt = f"`{rebuilt}` r LEFT JOIN `{live}` l ON l.name = r.name WHERE l.name IS NULL"
    only_live = f"`{live}` l LEFT JOIN `{rebuilt}` r ON r.name = l.name WHERE r.name IS NULL"
    # Names join as the collation compares them; a new spelling of one counts as a change.
    changed = (
        f"`{live}` l JOIN `{rebuilt}` r ON r.name = l.name WHERE CAST(l.name AS BINARY) <> "
        "CAST(r.name AS BINARY) OR NOT (l.phone <=> r.phone) OR NOT (l.since <=> r.since)"
    )

    def count(sql: str) -> int:
        return int(run(f"SELECT COUNT(*) FROM {sql}")[0][0])

    def first(sql: str, column: str) -> list[str]:
        rows = run(f"SELECT {column}.name FROM {sql} ORDER BY {column}.name LIMIT {int(limit)}")
        return [str(row[0]) for row in rows]

    return Differences(
        live_rows=count(f"`{live}`"),
        rebuilt_rows=count(f"`{rebuilt}`"),
        missing=count(only_rebuilt),
        extra=count(only_live),
        changed=count(changed),
        first_missing=first(only_rebuilt, "r"),
        first_extra=first(only_live, "l"),
        first_changed=first(changed, "l"),
    )
