"""The API when the database stops answering, is missing, or refuses the account."""

from __future__ import annotations

import json
import threading

from tests.conftest import random_suffix
from tests.support.consumer import wait_for_offsets, wait_until
from tests.support.kafka import produce
from tests.support.mysql import drop_database, query, view_rows
from tests.support.processes import api_process, cli, http, output, process
from tests.support.relay import relay_to
from ums_find.settings import Settings
from ums_find.store import connect

CLIENT_TIMEOUT_S = 15.0  # well above the API's 1 s database timeouts: a bound, not a speed test


def lookup(base: str, name: str = "KrishnaMohan") -> tuple[int, dict[str, str], dict[str, str]]:
    status, headers, body = http(f"{base}/user/{name}", timeout_s=CLIENT_TIMEOUT_S)
    return status, headers, json.loads(body)


def test_a_database_that_stops_answering_gives_503_fast_then_recovers(database: Settings) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    with relay_to(database.mysql.host, database.mysql.port) as relay:
        relayed = {"UMS_MYSQL_PORT": str(relay.port), "UMS_API_DB_TIMEOUT_S": "1", "UMS_DB_TIMEOUT_S": "1"}
        with api_process(database, UMS_HTTP_THREADS="4", **relayed) as (proc, base):
            assert lookup(base)[0] == 200
            relay.freeze()
            answers: list[tuple[int, dict[str, str], dict[str, str]]] = []
            clients = [threading.Thread(target=lambda: answers.append(lookup(base))) for _ in range(12)]
            for client in clients:
                client.start()
            for _ in range(5):  # meanwhile the process is alive and says so
                assert http(base + "/healthz", timeout_s=CLIENT_TIMEOUT_S)[0] == 200
            for client in clients:
                client.join(60)
            assert len(answers) == 12
            for status, headers, body in answers:
                assert status == 503 and 1 <= int(headers["Retry-After"]) <= 10, output(proc)
                assert body["error"] == "database_unavailable"
            assert http(base + "/readyz", timeout_s=CLIENT_TIMEOUT_S)[0] == 503
            relay.thaw()
            wait_until(lambda: lookup(base)[0] == 200, 30, "lookups to recover")
            assert http(base + "/readyz", timeout_s=CLIENT_TIMEOUT_S)[0] == 200


def test_the_consumer_rides_out_a_database_that_stops_answering(stack: Settings) -> None:
    with relay_to(stack.mysql.host, stack.mysql.port) as relay:
        relayed = {"UMS_MYSQL_PORT": str(relay.port), "UMS_DB_READ_TIMEOUT_S": "2", "UMS_DB_TIMEOUT_S": "2"}
        with process(stack, "consume", **relayed) as consumer:
            first = produce(stack, [(b"FirstUser01", b'{"name": "FirstUser01", "phone": 9876543210}', None)])
            wait_for_offsets(stack, {first[0].partition(): first[0].offset() + 1})
            relay.freeze()
            produce(stack, [(b"SecondUser1", b'{"name": "SecondUser1", "phone": 9876543211}', None)])
            wait_until(
                lambda: "database" in output(consumer).split("FirstUser01")[-1], 60, "the fault to be logged"
            )
            relay.thaw()
            wait_until(lambda: "SecondUser1" in view_rows(stack), 90, "the record held back to be applied")
            assert consumer.poll() is None, output(consumer)


def test_a_missing_database_or_table_says_run_migrate(mysql_server: Settings) -> None:
    missing = mysql_server.override(mysql_database=f"ums_none_{random_suffix()}")
    with api_process(missing, UMS_PARTITIONS_REFRESH_S="3600") as (proc, base):
        status, headers, body = lookup(base)
        assert status == 503 and "Retry-After" in headers
        assert "the database does not exist: run `ums-find migrate`" in body["message"]
        status, _, ready = http(base + "/readyz", timeout_s=CLIENT_TIMEOUT_S)
        assert status == 503 and "does not exist" in json.loads(ready)["message"]
        wait_until(lambda: "does not exist: run `ums-find migrate`" in output(proc), 10, "the log line")
        conn = connect(missing, database=False)
        try:
            conn.cursor().execute(f"CREATE DATABASE `{missing.mysql.database}`")  # but no tables
        finally:
            conn.close()
        try:
            wait_until(
                lambda: "table of the view is missing" in lookup(base)[2]["message"], 30, "the new reason"
            )
            assert "run `ums-find migrate`" in lookup(base)[2]["message"]
            wait_until(lambda: "table of the view is missing" in output(proc), 10, "the log line")
        finally:
            drop_database(missing)


def test_no_password_reaches_a_log_line_or_an_answer(database: Settings) -> None:
    secret = "pw-" + random_suffix()
    wrong = {"UMS_MYSQL_PASSWORD": secret, "UMS_API_MYSQL_PASSWORD": secret + "a", "UMS_LOG_LEVEL": "DEBUG"}
    with api_process(database, UMS_PARTITIONS_REFRESH_S="3600", **wrong) as (proc, base):
        status, _, body = lookup(base)  # the account refuses this password: a 503, never a 500
        assert status == 503 and body["error"] == "database_unavailable"
        assert http(base + "/readyz", timeout_s=CLIENT_TIMEOUT_S)[0] == 503
        wait_until(lambda: "Access denied" in output(proc), 10, "the fault in the log")
        assert secret not in output(proc) and secret not in json.dumps(body)
    migrate = cli(database, "migrate", **wrong)
    assert migrate.returncode != 0 and secret not in migrate.stdout + migrate.stderr
