"""Kafka's security settings in librdkafka's words (TLS, SASL, mutual TLS)."""

from __future__ import annotations

from typing import Any

from ums_find.settings import KafkaSettings


def security_config(kafka: KafkaSettings) -> dict[str, Any]:
    """The librdkafka options for the configured protocol; the server's certificate and name verified."""
    config: dict[str, Any] = {"security.protocol": kafka.security_protocol}
    if kafka.security_protocol.startswith("SASL"):
        config["sasl.mechanism"] = kafka.sasl_mechanism
        config["sasl.username"] = kafka.username
        config["sasl.password"] = kafka.password.reveal()
    if kafka.security_protocol.endswith("SSL"):
        config["ssl.endpoint.identification.algorithm"] = "https"
        if kafka.ca_file:
            config["ssl.ca.location"] = kafka.ca_file
        if kafka.cert_file:
            config["ssl.certificate.location"] = kafka.cert_file
            config["ssl.key.location"] = kafka.key_file
    return config
