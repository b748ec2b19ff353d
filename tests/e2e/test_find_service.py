"""The whole service as processes: publish records, look them up over HTTP through waitress."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from tests.samples import expected_name, load_samples, raw
from tests.support.consumer import next_offsets, wait_for_offsets
from tests.support.kafka import produce, read_all
from tests.support.processes import api_server, cli, get_json, process
from ums_find.settings import Settings

SAMPLES = load_samples()


def lookup(base: str, name: str) -> tuple[int, Any]:
    return get_json(f"{base}/user/{urllib.parse.quote(name, safe='')}")


@pytest.mark.keep_forever
def test_every_sample_behaves_as_its_expect_says(stack: Settings) -> None:
    with process(stack, "consume"), api_server(stack) as base:
        for sample in SAMPLES:
            delivered = produce(stack, [raw(sample)])
            wait_for_offsets(stack, next_offsets(delivered))
            expect = sample["expect"]
            if "dlq" in expect:
                continue
            status, body = lookup(base, expected_name(sample))
            if expect["view"] is None:
                assert status == 404 and body["error"] == "not_found", sample["note"]
            else:
                assert (status, body) == (200, expect["view"]), sample["note"]
    reasons = sorted(
        dict(m.headers())["ums.error"].decode() for m in read_all(stack, stack.kafka.dlq_topic, 11)
    )
    assert reasons == sorted(s["expect"]["dlq"] for s in SAMPLES if "dlq" in s["expect"])


def test_publish_then_curl_as_the_readme_shows(stack: Settings) -> None:
    with process(stack, "consume"), api_server(stack) as base:
        published = cli(
            stack,
            "publish",
            "--name",
            "KrishnaMohan",
            "--phone",
            "9876543210",
            "--since",
            "2022-03-01T10:00:00Z",
        )
        assert published.returncode == 0, published.stderr
        partition, offset = (int(x) for x in published.stdout.strip().splitlines()[-1].split(":"))
        wait_for_offsets(stack, {partition: offset + 1})
        assert lookup(base, "krishnamohan") == (
            200,
            {"name": "KrishnaMohan", "phone": 9876543210, "since": "2022-03-01T10:00:00Z"},
        )
        status, body = lookup(base, "  Abcdefg  ")
        assert status == 400 and body == {"error": "invalid_name", "message": "name too short"}


def test_the_api_says_503_while_the_database_is_unreachable(stack: Settings) -> None:
    with api_server(stack, UMS_MYSQL_PORT="1", UMS_DB_TIMEOUT_S="1") as base:
        from tests.support.processes import http

        status, headers, body = http(base + "/user/KrishnaMohan")
        assert status == 503 and headers.get("Retry-After") and b"Traceback" not in body
        assert http(base + "/readyz")[0] == 503
        assert http(base + "/healthz")[0] == 200


def test_cli_rejects_bad_settings_and_bad_input_by_name(stack: Settings) -> None:
    bad = cli(stack, "migrate", UMS_MYSQL_PORT="nope")
    assert bad.returncode != 0 and "UMS_MYSQL_PORT" in bad.stderr
    short = cli(stack, "publish", "--name", "Krishna", "--phone", "9876543210")
    assert short.returncode != 0 and "name too short" in short.stderr


def test_publish_and_consume_create_missing_topics_compacted(
    database: Settings, kafka_server: Settings
) -> None:

    from confluent_kafka.admin import ConfigResource

    from tests.conftest import random_suffix
    from tests.support.kafka import admin, delete_topics

    name = f"fresh-{random_suffix()}"
    fresh = database.override(topic=name, dlq_topic=f"{name}.dlq", group_id=name, consumer_name=name)
    try:
        published = cli(fresh, "publish", "--name", "KrishnaMohan", "--phone", "9876543210")
        assert published.returncode == 0, published.stderr
        client = admin(fresh)
        metadata = client.list_topics(timeout=10).topics
        assert len(metadata[name].partitions) == 3 and fresh.kafka.dlq_topic in metadata
        (future,) = client.describe_configs([ConfigResource("topic", name)]).values()
        assert future.result(timeout=10)["cleanup.policy"].value == "compact"
    finally:
        delete_topics(fresh)
