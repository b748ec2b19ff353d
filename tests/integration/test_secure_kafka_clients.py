"""The product's own Kafka clients over SASL_SSL, built from the settings alone (no hand-made config)."""

from __future__ import annotations

import uuid

import pytest

from consumers.publish import publish_user
from consumers.topics import ensure_topics
from tests.support.secure import KAFKA_USER, SecureStack
from ums_find import kafka
from ums_find.domain import Name, PhoneNumber, User
from ums_find.settings import Settings


def _secure(stack: SecureStack, **changes: object) -> Settings:
    topic = f"secure-{uuid.uuid4().hex[:8]}"
    fields = {
        "kafka_bootstrap": f"127.0.0.1:{stack.kafka_port}",
        "topic": topic,
        "dlq_topic": f"{topic}.dlq",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_username": KAFKA_USER,
        "kafka_password": stack.password(f"kafka-{KAFKA_USER}"),
        "kafka_ca_file": stack.ca_file,
        **changes,
    }
    return Settings.from_env({}).override(**fields)


def test_topics_publish_and_watermarks_over_sasl_ssl(secure_stack: SecureStack) -> None:
    from datetime import UTC, datetime

    settings = _secure(secure_stack)
    assert sorted(ensure_topics(settings.kafka)) == sorted([settings.kafka.topic, settings.kafka.dlq_topic])
    user = User(Name("secure-user-1"), PhoneNumber(9000000001), datetime.now(UTC))
    token = publish_user(kafka.producer(settings.kafka), settings.kafka.topic, user)
    part = int(token.split(":")[0])
    consumer = kafka.consumer(settings.kafka, "secure-test")
    try:
        marks = kafka.watermarks(consumer, settings.kafka.topic, 30.0)
    finally:
        consumer.close()
    assert marks[part][1] == int(token.split(":")[1]) + 1


def test_a_wrong_password_is_refused_and_not_shown(secure_stack: SecureStack) -> None:
    settings = _secure(secure_stack, kafka_password="not-the-password-123")
    client = kafka.admin(settings.kafka)
    with pytest.raises(kafka.KafkaRefused, match="cannot authenticate") as refused:
        kafka.partitions(client, settings.kafka.topic, 30.0)
    assert "not-the-password-123" not in str(refused.value)


def test_a_refused_consumer_and_producer_raise_instead_of_retrying(secure_stack: SecureStack) -> None:
    settings = _secure(secure_stack, kafka_ca_file=secure_stack.tls_file("other-ca.pem"))
    consumer = kafka.consumer(settings.kafka, "secure-refused")
    consumer.subscribe([settings.kafka.topic])
    try:
        with pytest.raises(kafka.KafkaRefused, match="TLS refused"):
            for _ in range(60):  # the loop's polls: the refusal ends them, however long they would go on
                consumer.consume(1, 0.5)
    finally:
        consumer.close()
    producer = kafka.producer(settings.kafka)
    producer.produce(settings.kafka.topic, key=b"k", value=b"v")
    with pytest.raises(kafka.KafkaRefused, match="TLS refused"):
        producer.flush(60)


def test_mutual_tls_takes_the_client_certificate_and_refuses_its_absence(secure_stack: SecureStack) -> None:
    plain = {
        "kafka_bootstrap": f"127.0.0.1:{secure_stack.kafka_mtls_port}",
        "kafka_security_protocol": "SSL",
        "kafka_ca_file": secure_stack.ca_file,
    }
    certified = {
        **plain,
        "kafka_cert_file": secure_stack.tls_file("client.pem"),
        "kafka_key_file": secure_stack.tls_file("client.key"),
    }
    settings = Settings.from_env({}).override(**certified)
    assert kafka.admin(settings.kafka).list_topics(timeout=30.0).brokers
    without = Settings.from_env({}).override(**plain)
    with pytest.raises(kafka.KafkaRefused, match="did not accept the client certificate"):
        kafka.admin(without.kafka).list_topics(timeout=30.0)
