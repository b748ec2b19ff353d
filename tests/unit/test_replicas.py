"""The replica choice: lag measured on checkpoints, only moves that keep positions monotonic."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeClock
from ums_find.settings import Settings, SettingsError
from ums_find.store.replica_choice import LagClock, choose, covers, highest


def test_covers_needs_every_partition_at_or_past() -> None:
    assert covers({0: 5, 1: 3}, {0: 5, 1: 2})
    assert not covers({0: 5}, {0: 5, 1: 1})
    assert covers({0: 5}, {1: 0})
    assert not covers({0: 4, 1: 9}, {0: 5})


def test_lag_is_the_age_of_the_newest_primary_positions_covered() -> None:
    time = FakeClock()
    clock = LagClock(window_s=5, now=time)
    clock.primary({0: 10})
    time.now += 3
    clock.primary({0: 20})
    time.now += 1
    assert clock.lag_s({0: 20}) == 0  # caught up with the latest
    assert clock.lag_s({0: 15}) == 4  # the primary was last seen at 10 four seconds ago
    assert clock.lag_s({0: 9}) == float("inf")


def test_a_quiet_topic_means_no_lag() -> None:
    time = FakeClock()
    clock = LagClock(window_s=1, now=time)
    for _ in range(10):
        clock.primary({0: 7})
        time.now += 1
    clock.primary({0: 7})
    assert clock.lag_s({0: 7}) == 0


def test_a_replica_stuck_while_the_primary_stays_still_ages() -> None:
    time = FakeClock()
    clock = LagClock(window_s=5, now=time)
    clock.primary({0: 10})
    time.now += 1
    clock.primary({0: 11})
    for _ in range(3):
        time.now += 1
        clock.primary({0: 11})  # the same positions again: one entry, seen later
    assert clock.lag_s({0: 10}) == 4
    time.now += 20
    clock.primary({0: 11})
    assert clock.lag_s({0: 10}) == 24
    assert clock.lag_s({0: 11}) == 0


def test_highest_is_what_covers_them_all() -> None:
    assert highest({0: 3, 1: 9}, {0: 5}, {}) == {0: 5, 1: 9}
    assert covers({0: 5, 1: 9}, highest({0: 3, 1: 9}, {0: 5}))


def test_choose_skips_failed_lagging_and_behind_replicas() -> None:
    seen = {1: {0: 9}, 2: {0: 12}}
    assert choose([0, 1, 2], seen, {1: 0.0, 2: 0.0}, {0: 10}, 5) == 2
    assert choose([0, 1, 2], seen, {1: 0.0, 2: 9.0}, {0: 10}, 5) is None
    assert choose([1, 2], seen, {1: 1.0, 2: 1.0}, {0: 8}, 5) == 1


@pytest.mark.parametrize("raw", ["db", "db:0", "db:x", ":3306", "a%b:1"])
def test_read_hosts_refuses_what_is_not_host_port(raw: str) -> None:
    with pytest.raises(SettingsError, match="UMS_MYSQL_READ_HOSTS"):
        Settings.from_env({"UMS_MYSQL_READ_HOSTS": raw})


def test_read_hosts_in_order_and_round_trips() -> None:
    settings = Settings.from_env({"UMS_MYSQL_READ_HOSTS": " r1:3307, r2.db:3308 "})
    assert settings.mysql.read_endpoints == [("r1", 3307), ("r2.db", 3308)]
    assert Settings.from_env(settings.as_env()).mysql.read_endpoints == settings.mysql.read_endpoints
