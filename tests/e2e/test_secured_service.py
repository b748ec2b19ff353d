"""The whole service over Kafka SASL_SSL (SCRAM) and MySQL over verified TLS, passwords from files.

migrate, consume (a poison record reaching the dead-letter topic), serve (a lookup and
`?after=`), status and replay, as processes against the secure pair; and the API's answer to
a server that refuses its password: `/readyz` 503, the reason logged once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.consumer import wait_for_offsets
from tests.support.processes import api_process, cli, get_json, http, output, process, wait_until
from tests.support.secure import SecureStack, secure_world
from ums_find import kafka
from ums_find.settings import Settings

NAME, PHONE = "SecureKrishna", 9876543210


@pytest.fixture
def world(secure_stack: SecureStack) -> Iterator[Settings]:
    with secure_world(secure_stack) as settings:
        yield settings


def produce_poison(settings: Settings) -> tuple[int, int]:
    """A record that is not JSON, over SASL_SSL; its partition and offset."""
    delivered: list[Any] = []
    producer = kafka.producer(settings.kafka)
    producer.produce(
        settings.kafka.topic,
        key=b"poison",
        value=b"{not json",
        on_delivery=lambda e, m: delivered.append((e, m)),
    )
    assert producer.flush(30) == 0
    ((err, msg),) = delivered
    assert err is None, err
    return msg.partition(), msg.offset()


def test_the_service_over_sasl_ssl_and_mysql_tls(secure_stack: SecureStack, world: Settings) -> None:
    files = secure_stack.secret_files()
    migrated = cli(world, "migrate", **files)
    assert migrated.returncode == 0, migrated.stderr
    published = cli(world, "publish", "--name", NAME, "--phone", str(PHONE), **files)
    assert published.returncode == 0, published.stderr
    token = published.stdout.strip().splitlines()[-1]
    poison = produce_poison(world)
    with process(world, "consume", **files) as consumer, api_process(world, **files) as (_api, base):
        part, offset = (int(x) for x in token.split(":"))
        wanted = {part: offset + 1}
        wanted[poison[0]] = max(wanted.get(poison[0], 0), poison[1] + 1)
        wait_for_offsets(world, wanted)
        status, headers, body = http(f"{base}/user/{NAME}?after={token}")
        assert status == 200, (body, output(consumer))
        assert json.loads(body)["phone"] == PHONE and headers["X-View-Stale"] == "false"
        assert get_json(f"{base}/readyz")[0] == 200
        letters = cli(world, "dlq", "show", "--json", **files)
        assert letters.returncode == 0, letters.stderr
        (letter,) = [json.loads(line) for line in letters.stdout.splitlines()]
        assert letter["original"] == f"{poison[0]}:{poison[1]}" and letter["key"] == "poison"
    shown = cli(world, "status", "--json", **files)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert (found["lag"], found["dlq_depth"], found["rows"]) == (0, 1, 1)
    replayed = cli(world, "replay", **files, timeout_s=180)
    assert replayed.returncode == 0, replayed.stderr
    for secret in secure_stack.secrets():
        assert secret not in shown.stdout + shown.stderr + replayed.stdout + replayed.stderr


def _errors(log: str, words: str) -> list[str]:
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [r["event"] for r in records if r["level"] == "ERROR" and words in r["event"]]


@pytest.mark.parametrize(
    ("server", "words", "error"),
    [
        ("UMS_KAFKA_PASSWORD_FILE", "Kafka cannot authenticate", "kafka_refused"),
        ("UMS_MYSQL_PASSWORD_FILE", "MySQL cannot authenticate", "database_unavailable"),
    ],
    ids=["kafka", "mysql"],
)
def test_a_refused_password_makes_the_api_unready_and_is_logged_once(
    secure_stack: SecureStack, world: Settings, tmp_path: Path, server: str, words: str, error: str
) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-secret-0815\n")
    env = {**secure_stack.secret_files(), server: str(wrong), "UMS_PARTITIONS_REFRESH_S": "1"}
    with api_process(world, **env) as (proc, base):
        wait_until(lambda: get_json(f"{base}/readyz")[0] == 503, 30, "/readyz to answer 503")
        # Probes keep coming and the partition count is re-read every second or two:
        # the reason is still logged once.
        for _ in range(5):
            status, body = get_json(f"{base}/readyz")
            assert status == 503 and body["error"] == error
            time.sleep(1)
        log = output(proc)
    assert len(_errors(log, words)) == 1, log
    assert "not-the-secret-0815" not in log and all(s not in log for s in secure_stack.secrets())
