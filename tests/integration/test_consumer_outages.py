"""The consumer through database and broker outages, on a private server pair."""

from __future__ import annotations

import json

from tests.conftest import random_suffix
from tests.integration.test_consumer_crashes import FAST, assert_exact, assert_stops_cleanly, progressed
from tests.support.consumer import wait_until
from tests.support.faults import PrivateStack
from tests.support.mysql import checkpoints, kill_connections
from tests.support.processes import cli, free_port, get_json, http, output, process, stop
from tests.support.workload import StreamProducer, records, total
from ums_find.settings import Settings
from ums_find.store import migrate


def test_killed_connections_and_a_database_restart_lose_and_double_nothing(
    private: Settings, private_stack: PrivateStack
) -> None:
    items = records(20_000, seed=11)
    first = StreamProducer(private, items[:14_000], chunk=1000, pause_s=0.4)
    first.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(private, "consume", UMS_CONSUMER_HTTP_PORT=str(port), **FAST) as proc:
        for _ in range(2):
            progressed(private, proc, total(checkpoints(private)))
            kill_connections(private)
        progressed(private, proc, total(checkpoints(private)))
        private_stack.run("stop-mariadb")
        second = StreamProducer(private, items[14_000:], chunk=1000, pause_s=0.2)
        second.start()  # work for the consumer while the database is away
        wait_until(lambda: http(base + "/readyz")[0] == 503, 60, "readiness to drop")
        assert http(base + "/healthz")[0] == 200, "the loop still turns while it retries"
        private_stack.run("start-mariadb")
        delivered = first.finish() + second.finish()
        assert_exact(private, delivered)
        wait_until(lambda: http(base + "/readyz")[0] == 200, 60, "readiness to return")
        status, metrics = http(base + "/metrics")[0], http(base + "/metrics")[2].decode()
        assert status == 200 and "ums_consumer_records_applied_total" in metrics
        assert "ums_consumer_retries_total" in metrics and 'ums_consumer_lag{partition="0"} 0.0' in metrics
        assert_stops_cleanly(proc)
        # One line when the fault starts and one when it ends, not one per retry.
        assert output(proc).count("pausing:") <= 6, output(proc)[-3000:]


def test_a_database_outage_past_the_bound_exits_non_zero(
    private: Settings, private_stack: PrivateStack
) -> None:
    private_stack.run("stop-mariadb")
    try:
        done = cli(private, "consume", timeout_s=120, UMS_DB_RETRY_MAX_S="2", **FAST)
    finally:
        private_stack.run("start-mariadb")
    assert done.returncode == 3, done.stderr[-2000:]
    assert "stopping to restart from the checkpoint" in done.stderr


def test_a_broker_restart_loses_and_doubles_nothing(private: Settings, private_stack: PrivateStack) -> None:
    database = f"ums_test_{random_suffix()}"
    other = private.override(
        mysql_database=database, group_id=f"{private.kafka.group_id}-b", consumer_name="b"
    )
    migrate(other)
    stream = StreamProducer(private, records(20_000, seed=13), chunk=1000, pause_s=0.4)
    stream.start()
    env = {**FAST, "UMS_SHUTDOWN_S": "6"}
    with process(private, "consume", **env) as first, process(other, "consume", **env) as survivor:
        progressed(private, first, 0)
        progressed(other, survivor, 0)
        private_stack.run("stop-kafka")
        # A SIGTERM while the broker is away still ends the process, within its bound.
        assert stop(first, timeout_s=6 + 15) == 0, output(first)[-2000:]
        private_stack.run("start-kafka")
        delivered = stream.finish()
        assert_exact(other, delivered, survivor)
        assert_stops_cleanly(survivor)
    with process(private, "consume", **env) as restarted:
        assert_exact(private, delivered, restarted)
        assert_stops_cleanly(restarted)


def test_probes_answer_json(private: Settings) -> None:
    port = free_port()
    with process(private, "consume", UMS_CONSUMER_HTTP_PORT=str(port)) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: "assigned" in output(proc), 60, "the consumer to start")
        assert get_json(base + "/healthz")[0] == 200
        status, body = get_json(base + "/readyz")
        assert status == 200 and body["faulted"] is False, json.dumps(body)
        assert http(base + "/nope")[0] == 404


def test_checkpoints_unreadable_at_assignment_are_loaded_once_the_database_is_back(
    private: Settings, private_stack: PrivateStack
) -> None:
    items = records(4_000, seed=17)
    first = StreamProducer(private, items[:2_000], chunk=2_000, pause_s=0)
    first.run()
    with process(private, "consume", **FAST) as proc:
        assert_exact(private, first.delivered, proc)
    second = StreamProducer(private, items[2_000:], chunk=2_000, pause_s=0)
    second.run()
    private_stack.run("stop-mariadb")
    try:
        with process(private, "consume", **FAST) as proc:
            wait_until(
                lambda: "paused until loaded" in output(proc), 60, "the assignment without checkpoints"
            )
            private_stack.run("start-mariadb")
            assert_exact(private, first.delivered + second.delivered, proc)
            assert_stops_cleanly(proc)
    finally:
        private_stack.run("start-mariadb")
