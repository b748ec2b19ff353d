"""While the database fails, one call at a time tries it; the others fail at once."""

from __future__ import annotations

import threading

import pytest

from ums_find.store.breaker import Breaker
from ums_find.store.connection import MISSING, DatabaseUnavailable


def fail(reason: str = MISSING) -> int:
    raise DatabaseUnavailable(f"{reason} (detail)", reason)


def test_a_failure_opens_it_and_the_first_success_closes_it() -> None:
    breaker = Breaker(cooldown_s=0)
    assert breaker.call(lambda: 1) == 1 and not breaker.open
    with pytest.raises(DatabaseUnavailable):
        breaker.call(fail)
    assert breaker.open
    assert breaker.call(lambda: 2) == 2 and not breaker.open


def test_while_a_trial_runs_the_others_fail_at_once_with_its_reason() -> None:
    breaker = Breaker(cooldown_s=0)
    with pytest.raises(DatabaseUnavailable):
        breaker.call(fail)
    inside, release = threading.Event(), threading.Event()
    attempts: list[str] = []

    def trial() -> int:
        attempts.append("trial")
        inside.set()
        release.wait(60)
        return fail()

    def run_trial() -> None:
        with pytest.raises(DatabaseUnavailable):
            breaker.call(trial)

    thread = threading.Thread(target=run_trial)
    thread.start()
    inside.wait(60)
    for _ in range(5):
        with pytest.raises(DatabaseUnavailable) as caught:
            breaker.call(lambda: attempts.append("other") or 0)  # never runs
        assert caught.value.reason == MISSING
    release.set()
    thread.join(60)
    assert attempts == ["trial"]


def test_after_a_failed_trial_the_next_waits_for_the_cooldown() -> None:
    breaker = Breaker(cooldown_s=3600)
    with pytest.raises(DatabaseUnavailable):
        breaker.call(fail)
    with pytest.raises(DatabaseUnavailable):
        breaker.call(lambda: 1)  # the database may well answer: no trial is due yet
    assert breaker.open
