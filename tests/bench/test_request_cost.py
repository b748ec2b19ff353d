"""The in-process cost of a lookup: measured on real answers from the test database."""

from __future__ import annotations

import pytest

from bench.data import load_users, make_users
from bench.request_cost import measure
from ums_find.settings import Settings


def test_each_step_is_measured_on_found_users(database: Settings) -> None:
    rows = make_users(50)
    load_users(database, rows)
    figures = measure(database, [row[0] for row in rows], calls=200, rounds=1)
    assert len(figures) == 3 and all(us > 0 for us in figures.values()), figures


def test_a_lookup_that_finds_no_one_stops_the_measurement(database: Settings) -> None:
    with pytest.raises(RuntimeError, match="ums-find answered 404"):
        measure(database, ["Nobody0000"], calls=1, rounds=1)
