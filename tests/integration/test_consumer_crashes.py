"""The consumer killed, signalled and rebalanced mid-stream: every record's effect exactly once."""

from __future__ import annotations

import random
import re
import subprocess
import time

from tests.support.consumer import next_offsets, wait_for_offsets, wait_until
from tests.support.faults import dead_letter_origins
from tests.support.kafka import produce
from tests.support.mysql import checkpoints, connect, query, view_rows
from tests.support.processes import output, process, stop
from tests.support.workload import StreamProducer, model, poison_positions, records, total
from ums_find.settings import Settings
from ums_find.store.projection import writer_lock_name

FAST = {"UMS_BATCH_SIZE": "500", "UMS_KAFKA_SESSION_TIMEOUT_S": "6", "UMS_DB_TIMEOUT_S": "2"}


def assert_exact(
    settings: Settings,
    delivered: list,  # type: ignore[type-arg]
    proc: subprocess.Popen[str] | None = None,
    timeout_s: float = 120.0,
) -> None:
    """Checkpoints reach the end; the view equals the model row for row; every poison is a dead letter."""
    try:
        wait_for_offsets(settings, next_offsets(delivered), timeout_s)
    except (AssertionError, TimeoutError) as exc:
        raise AssertionError(f"{exc}\n{output(proc)[-4000:] if proc else ''}") from None
    got = {name: phone for name, (phone, _since) in view_rows(settings).items()}
    expected = model(delivered)
    assert len(got) == len(expected)
    assert {n: (got.get(n), p) for n, p in expected.items() if got.get(n) != p} == {}
    poison = poison_positions(delivered)
    assert poison, "the workload carries poison"
    assert dead_letter_origins(settings, poison) == poison


def assert_stops_cleanly(proc: subprocess.Popen[str]) -> None:
    """SIGTERM (once the consumer has taken partitions) ends it with code 0."""
    wait_until(lambda: "assigned" in output(proc) or proc.poll() is not None, 60, "the consumer to start")
    assert proc.poll() is None, output(proc)[-2000:]
    assert stop(proc) == 0, output(proc)[-2000:]


def progressed(settings: Settings, proc: subprocess.Popen[str], beyond: int, soft_s: float = 5.0) -> None:
    """Wait (at most `soft_s`) until the checkpoints pass `beyond`; the consumer must be alive."""
    deadline = time.monotonic() + soft_s

    def moved() -> bool:
        assert proc.poll() is None, f"the consumer exited: {output(proc)[-3000:]}"
        return total(checkpoints(settings)) > beyond or time.monotonic() > deadline

    wait_until(moved, soft_s + 30, "progress")


def test_kill_9_at_random_moments_neither_loses_nor_repeats(stack: Settings) -> None:
    rng = random.Random()
    stream = StreamProducer(stack, records(25_000, seed=3), chunk=1250, pause_s=0.6)
    stream.start()
    env = {**FAST, "UMS_GROUP_INSTANCE_ID": "the-only-one"}  # a restart takes its partitions back at once
    kills = 0
    while kills < 6:
        before = total(checkpoints(stack))
        with process(stack, "consume", **env) as proc:
            progressed(stack, proc, before)
            time.sleep(rng.uniform(0.0, 0.7))
            proc.kill()
            proc.wait(10)
            kills += 1
    delivered = stream.finish()
    with process(stack, "consume", **env) as proc:
        assert_exact(stack, delivered)
        assert_stops_cleanly(proc)
    assert kills >= 5


def test_two_consumers_share_the_partitions_and_one_takes_over(stack: Settings) -> None:
    stream = StreamProducer(stack, records(20_000, seed=5), chunk=1000, pause_s=0.5)
    stream.start()
    owns = re.compile(r"assigned \{\d")
    with process(stack, "consume", **FAST) as first, process(stack, "consume", **FAST) as second:
        wait_until(lambda: bool(owns.search(output(first)) and owns.search(output(second))), 60, "a split")
        progressed(stack, first, total(checkpoints(stack)))
        first.kill()
        delivered = stream.finish()
        assert_exact(stack, delivered)
        assert_stops_cleanly(second)


def test_sigterm_during_a_large_batch_commits_it_and_exits_within_the_bound(stack: Settings) -> None:
    delivered = produce(stack, [(k, v, None) for k, v in records(20_000, seed=9)])
    lock = connect(stack)
    cursor = lock.cursor()
    cursor.execute("SELECT GET_LOCK(%s, 5)", (writer_lock_name(stack, "ums_users"),))
    assert cursor.fetchall() == [(1,)]
    env = {"UMS_BATCH_SIZE": "20000", "UMS_BATCH_WAIT_S": "5", "UMS_SHUTDOWN_S": "8"}
    with process(stack, "consume", **env) as proc:
        # The batch is in hand once the consumer waits for the writer lock (taken here).
        waiting = (
            "SELECT id FROM information_schema.processlist WHERE db = %s AND info LIKE 'SELECT GET_LOCK%%'"
        )
        wait_until(lambda: bool(query(stack, waiting, (stack.mysql.database,))), 60, "the batch")
        proc.terminate()
        time.sleep(0.5)
        lock.close()  # lets the batch commit
        proc.wait(8 + 10)
        assert proc.returncode == 0, output(proc)[-2000:]
    stored = checkpoints(stack)
    assert total(stored) > 0, "the batch in hand was committed"
    got = {name: phone for name, (phone, _since) in view_rows(stack).items()}
    assert got == model(delivered, below=stored)
    with process(stack, "consume") as proc:
        assert_exact(stack, delivered)
        assert_stops_cleanly(proc)
