"""Pure parts of the consumer: backoff, probes, lock names."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from consumers.backoff import Backoff, RetryBudgetExceeded
from consumers.health import health, readiness
from ums_find.settings import Settings
from ums_find.store.projection import writer_lock_name


@dataclass
class Loop:
    last_turn: float = field(default_factory=time.monotonic)
    faulted: bool = False
    pending: set[int] = field(default_factory=set)


def test_backoff_grows_with_jitter_and_gives_up_past_its_bound() -> None:
    backoff = Backoff(limit_s=0.0, base_s=0.1, cap_s=5.0)
    assert 0 <= backoff.next_delay("down") <= 0.2
    assert backoff.active
    time.sleep(0.01)
    with pytest.raises(RetryBudgetExceeded):
        backoff.next_delay("down")
    backoff.reset()
    assert not backoff.active


def test_backoff_delays_stay_under_the_cap() -> None:
    backoff = Backoff(limit_s=3600, base_s=0.1, cap_s=0.5)
    assert all(0 <= backoff.next_delay("down") <= 0.5 for _ in range(100))


def test_a_loop_that_stopped_turning_is_not_live() -> None:
    assert health(Loop(), stall_s=5)[0] == 200
    status, body = health(Loop(last_turn=time.monotonic() - 10), stall_s=5)
    assert status == 503 and body["last_poll_age_s"] >= 10


def test_readiness_needs_no_fault_and_every_checkpoint_loaded() -> None:
    assert readiness(Loop(), 5)[0] == 200
    assert readiness(Loop(faulted=True), 5)[0] == 503
    status, body = readiness(Loop(pending={2}), 5)
    assert status == 503 and body["partitions_waiting_for_checkpoints"] == [2]


def test_writer_lock_names_fit_mysqls_limit_and_differ_per_table() -> None:
    settings = Settings.from_env({})
    assert writer_lock_name(settings, "ums_users") == "ums-find:glarimy:ums_users"
    assert writer_lock_name("glarimy", "ums_users") == writer_lock_name(settings, "ums_users")
    long = settings.override(mysql_database="d" * 64)
    names = {writer_lock_name(long, "a" * 64), writer_lock_name(long, "b" * 64)}
    assert len(names) == 2 and all(len(n) <= 64 for n in names)
