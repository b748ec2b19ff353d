"""The secure pair refuses what it must: plaintext, wrong passwords, untrusted or mismatched certificates."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import mysql.connector
import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.secure import MYSQL_X509, SecureStack

QUIET = logging.getLogger("secure-test-librdkafka")  # librdkafka's own log lines, kept out of stderr
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


def first_error(config: dict[str, Any], bound_s: float = 30.0) -> KafkaError:
    """The first error librdkafka reports to error_cb for a producer with this config."""
    errors: list[KafkaError] = []
    producer = Producer({**config, "error_cb": errors.append, "logger": QUIET})
    deadline = time.monotonic() + bound_s
    while not errors and time.monotonic() < deadline:
        producer.poll(0.2)
    assert errors, "no error reported"
    return errors[0]


def test_records_go_through_sasl_ssl_with_both_scram_mechanisms(secure_stack: SecureStack) -> None:
    topic = f"secure-{uuid.uuid4().hex[:10]}"
    admin = AdminClient(secure_stack.kafka_config(**{"logger": QUIET}))
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    try:
        producer = Producer(secure_stack.kafka_config())
        producer.produce(topic, key=b"alice", value=b"over tls")
        assert producer.flush(30) == 0
        consumer = Consumer(
            secure_stack.kafka_config(
                **{
                    "sasl.mechanism": "SCRAM-SHA-256",
                    "group.id": f"g-{topic}",
                    "auto.offset.reset": "earliest",
                }
            )
        )
        consumer.subscribe([topic])
        got: list[Message] = []
        deadline = time.monotonic() + 60
        try:
            while not got and time.monotonic() < deadline:
                got = [m for m in consumer.consume(1, 1.0) if m.error() is None]
        finally:
            consumer.close()
        assert [(m.key(), m.value()) for m in got] == [(b"alice", b"over tls")]
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


def test_a_wrong_scram_password_is_refused(secure_stack: SecureStack) -> None:
    error = first_error(secure_stack.kafka_config(**{"sasl.password": "not-the-password"}))
    assert error.code() == KafkaError._AUTHENTICATION
    assert "invalid credentials" in error.str()
    assert "not-the-password" not in error.str()


def test_a_broker_certificate_from_an_untrusted_ca_is_refused(secure_stack: SecureStack) -> None:
    error = first_error(
        secure_stack.kafka_config(**{"ssl.ca.location": secure_stack.tls_file("other-ca.pem")})
    )
    assert error.code() in (KafkaError._SSL, KafkaError._TRANSPORT)
    assert "certificate verify failed" in error.str()


def test_a_broker_certificate_for_another_host_name_is_refused(secure_stack: SecureStack) -> None:
    wrong = f"127.0.0.1:{secure_stack.kafka_wrong_host_port}"
    error = first_error(secure_stack.kafka_config(**{"bootstrap.servers": wrong}))
    assert error.code() in (KafkaError._SSL, KafkaError._TRANSPORT)
    assert "certificate verify failed" in error.str()
    # The same CA signed it: without the host name check the listener answers.
    unchecked = Producer(
        secure_stack.kafka_config(
            **{"bootstrap.servers": wrong, "ssl.endpoint.identification.algorithm": "none", "logger": QUIET}
        )
    )
    assert unchecked.list_topics(timeout=30).brokers


def test_the_mutual_tls_listener_needs_the_client_certificate(secure_stack: SecureStack) -> None:
    with_cert = Producer({**secure_stack.kafka_mtls_config(), "logger": QUIET})
    assert with_cert.list_topics(timeout=30).brokers
    config = secure_stack.kafka_mtls_config()
    del config["ssl.certificate.location"], config["ssl.key.location"]
    error = first_error(config)
    assert error.code() in (KafkaError._SSL, KafkaError._TRANSPORT)


def server_tls_version(args: dict[str, Any]) -> str:
    """Connect with these arguments and return the session's TLS version."""
    with mysql.connector.connect(**args) as connection:
        cursor = connection.cursor()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        row = cursor.fetchone()
        cursor.close()
    return str(row[1])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_mysql_tls_with_host_name_verification_works(secure_stack: SecureStack, host: str) -> None:
    assert server_tls_version(secure_stack.mysql_args(host=host)).startswith("TLSv1.")


def test_mysql_refuses_plaintext_even_with_the_right_password(secure_stack: SecureStack) -> None:
    # MariaDB answers an insecure login under require_secure_transport with "access denied".
    with pytest.raises(mysql.connector.errors.ProgrammingError) as refused:
        mysql.connector.connect(**secure_stack.mysql_args(ssl_disabled=True))
    assert refused.value.errno == 1045


def test_mysql_refuses_a_wrong_password(secure_stack: SecureStack) -> None:
    with pytest.raises(mysql.connector.errors.ProgrammingError) as refused:
        mysql.connector.connect(**secure_stack.mysql_args(password="not-the-password"))
    assert refused.value.errno == 1045
    assert "not-the-password" not in str(refused.value)


def test_mysql_certificate_from_an_untrusted_ca_is_refused(secure_stack: SecureStack) -> None:
    with pytest.raises(mysql.connector.errors.InterfaceError) as refused:
        mysql.connector.connect(**secure_stack.mysql_args(ssl_ca=secure_stack.tls_file("other-ca.pem")))
    assert "certificate verify failed" in str(refused.value)


def test_mysql_certificate_for_another_host_name_is_refused(secure_stack: SecureStack) -> None:
    with pytest.raises(mysql.connector.errors.InterfaceError) as refused:
        mysql.connector.connect(**secure_stack.mysql_args(port=secure_stack.mysql_wrong_host_port))
    assert "certificate verify failed" in str(refused.value)
    # Signed by the same CA: without the host name check the handshake succeeds.
    unchecked = secure_stack.mysql_args(port=secure_stack.mysql_wrong_host_port, ssl_verify_identity=False)
    assert server_tls_version(unchecked).startswith("TLSv1.")


def test_mysql_x509_account_needs_the_client_certificate(secure_stack: SecureStack) -> None:
    account = secure_stack.mysql_args(user=MYSQL_X509, password=secure_stack.password("mysql-x509"))
    with pytest.raises(mysql.connector.errors.ProgrammingError):
        mysql.connector.connect(**account)
    with_cert = {
        **account,
        "ssl_cert": secure_stack.tls_file("client.pem"),
        "ssl_key": secure_stack.tls_file("client.key"),
    }
    assert server_tls_version(with_cert).startswith("TLSv1.")
