"""A broker's refusal (password, certificate) told apart from an outage, named once, never the secret."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from flask.testing import FlaskClient

from tests.unit.fakes import FakeReader
from ums_find.http.app import create_app
from ums_find.http.partitions import PartitionMap
from ums_find.kafka import KafkaError, KafkaException, KafkaRefused, RefusalGuard, client, librdkafka_logger
from ums_find.kafka.refusal import Refusals, refusal_reason
from ums_find.settings import KafkaSettings, Settings

SECRET = "s3cret-value-91"
SASL = {
    "UMS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "UMS_KAFKA_USERNAME": "ums",
    "UMS_KAFKA_PASSWORD": SECRET,
    "UMS_KAFKA_CA_FILE": "/etc/ums/kafka/ca.pem",
    "UMS_KAFKA_BOOTSTRAP": "kafka-0.kafka:9093",
}
AUTH = (
    "sasl_ssl://kafka-0.kafka:9093/bootstrap: SASL authentication error: Authentication failed during"
    " authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
    " (after 319ms in state AUTH_REQ)"
)
CERT = (
    "sasl_ssl://kafka-0.kafka:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate"
    " verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly"
    " configured or root CA certificates are installed (install ca-certificates package) (after 17ms in state"
    " SSL_HANDSHAKE)"
)


@pytest.fixture
def kafka() -> KafkaSettings:
    return Settings.from_env(SASL).kafka


def test_a_wrong_password_names_the_user_and_the_settings_not_the_secret(kafka: KafkaSettings) -> None:
    reason = refusal_reason(kafka, "_AUTHENTICATION", AUTH)
    assert reason is not None and reason.startswith("Kafka cannot authenticate as 'ums' (SCRAM-SHA-512)")
    assert "UMS_KAFKA_PASSWORD" in reason and "invalid credentials" in reason
    assert SECRET not in reason and "after 319ms" not in reason


@pytest.mark.parametrize("code", ["_SSL", "_TRANSPORT"])
def test_a_certificate_not_verified_names_the_ca_and_the_host(kafka: KafkaSettings, code: str) -> None:
    reason = refusal_reason(kafka, code, CERT)
    assert reason is not None and reason.startswith("Kafka TLS refused")
    assert "/etc/ums/kafka/ca.pem" in reason and "kafka-0.kafka:9093" in reason
    assert "certificate verify failed" in reason and "install ca-certificates" not in reason


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("_TRANSPORT", "kafka-0:9093/bootstrap: Connect to ipv4#10.0.0.1:9093 failed: Connection refused"),
        ("_ALL_BROKERS_DOWN", "1/1 brokers are down"),
        ("_SSL", "kafka-0:9093/bootstrap: SSL handshake failed: Disconnected"),
    ],
)
def test_an_outage_is_no_refusal(kafka: KafkaSettings, code: str, text: str) -> None:
    assert refusal_reason(kafka, code, text) is None
    refusals = Refusals(kafka)
    assert refusals.note(code, text) is False
    refusals.check()


def test_a_refusal_is_raised_until_the_broker_answers_and_swallows_what_follows(kafka: KafkaSettings) -> None:
    refusals = Refusals(kafka)
    assert refusals.note("_AUTHENTICATION", AUTH) is True
    # What follows from it (all brokers down) is no news: not logged as an outage.
    assert refusals.note("_ALL_BROKERS_DOWN", "1/1 brokers are down") is True
    with pytest.raises(KafkaRefused, match="cannot authenticate"):
        refusals.check()
    refusals.clear()
    refusals.check()


def test_a_secret_the_library_would_print_is_masked(kafka: KafkaSettings) -> None:
    refusals = Refusals(kafka)
    refusals.note("_AUTHENTICATION", f"{AUTH} password={SECRET}")
    with pytest.raises(KafkaRefused) as refused:
        refusals.check()
    assert SECRET not in str(refused.value) and "password=***" in str(refused.value)


def test_librdkafka_lines_about_a_refusal_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    logger = librdkafka_logger()
    outage = f"FAIL kafka-{uuid.uuid4().hex}:9093/bootstrap: Connect failed"  # repeats are dropped
    with caplog.at_level(logging.INFO, logger="librdkafka"):
        logger.error("FAIL [rdkafka#producer-1] %s", AUTH)
        logger.error("FAIL [rdkafka#producer-1] %s", CERT)
        logger.error("%s", outage)
    assert [r.getMessage() for r in caplog.records] == [outage]


def refused_partitions(reason: str) -> PartitionMap:
    def read() -> int | None:
        raise KafkaRefused(reason)

    return PartitionMap(read, 60)


def test_the_api_is_not_ready_while_kafka_refuses_it_and_says_why_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    partitions = refused_partitions("Kafka cannot authenticate as 'ums-api' (SCRAM-SHA-512)")
    app = create_app(Settings.from_env({}), FakeReader({}), partitions)  # type: ignore[arg-type]
    client: FlaskClient = app.test_client()
    with caplog.at_level(logging.DEBUG, logger="ums_find.http.partitions"):
        for _ in range(3):
            partitions.refresh()
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "cannot authenticate as 'ums-api'" in errors[0].getMessage()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["error"] == "kafka_refused"
    assert "ums-api" not in response.get_data(as_text=True)  # the reason stays in the log
    assert client.get("/healthz").status_code == 200


def test_the_api_is_ready_again_once_kafka_answers() -> None:
    answers: list[int | None] = []

    def read() -> int | None:
        if not answers:
            raise KafkaRefused("Kafka TLS refused")
        return answers[0]

    partitions = PartitionMap(read, 60)
    partitions.refresh()
    assert partitions.refused == "Kafka TLS refused"
    answers.append(3)
    partitions.refresh()
    assert partitions.refused is None and partitions.count == 3


class Guarded(RefusalGuard):
    """A client's guard alone: calls are the test's, nothing to serve."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._refusals = Refusals(kafka)
        self.asked: list[float] = []

    def ask(self, outcomes: list[str], timeout: float) -> str:
        def call(step: float) -> str:
            self.asked.append(step)
            outcome = outcomes.pop(0)
            if outcome == "timeout":
                time.sleep(step)  # the slice ran out
            if outcome in ("timeout", "fail"):
                raise KafkaException(KafkaError(KafkaError._TRANSPORT))
            return outcome

        return self._sliced(call, timeout)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "FIRST_SLICE_S", 0.01)


def test_a_slice_that_ran_out_is_asked_again_longer(kafka: KafkaSettings, fast: None) -> None:
    guard = Guarded(kafka)
    assert guard.ask(["timeout", "timeout", "answer"], 30.0) == "answer"
    assert guard.asked == [0.01, 0.02, 0.04]


def test_a_failure_of_the_library_itself_is_the_answer(kafka: KafkaSettings, fast: None) -> None:
    guard = Guarded(kafka)
    with pytest.raises(KafkaException):
        guard.ask(["fail", "answer"], 30.0)
    assert guard.asked == [0.01]


def test_a_refusal_ends_the_wait_at_the_first_slice(kafka: KafkaSettings, fast: None) -> None:
    guard = Guarded(kafka)
    guard._refusals.note("_AUTHENTICATION", AUTH)
    with pytest.raises(KafkaRefused, match="cannot authenticate"):
        guard.ask(["timeout", "answer"], 30.0)
    assert guard.asked == [0.01]


def test_an_answer_ends_an_old_refusal(kafka: KafkaSettings, fast: None) -> None:
    guard = Guarded(kafka)
    guard._refusals.note("_AUTHENTICATION", AUTH)
    assert guard.ask(["answer"], 30.0) == "answer"
    guard.check_refusal()
