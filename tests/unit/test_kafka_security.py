"""The Kafka security settings: read, checked together, and turned into librdkafka's options."""

from __future__ import annotations

import pytest

from ums_find.kafka.security import security_config
from ums_find.settings import Settings, SettingsError

SASL = {
    "UMS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "UMS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
    "UMS_KAFKA_USERNAME": "ums",
    "UMS_KAFKA_PASSWORD": "s3cret-value",
    "UMS_KAFKA_CA_FILE": "/etc/ums/ca.pem",
}


def test_plaintext_by_default_adds_no_security_option() -> None:
    assert security_config(Settings.from_env({}).kafka) == {"security.protocol": "PLAINTEXT"}


def test_sasl_ssl_verifies_the_server_and_its_name() -> None:
    config = security_config(Settings.from_env(SASL).kafka)
    assert config == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "ums",
        "sasl.password": "s3cret-value",
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.ca.location": "/etc/ums/ca.pem",
    }


def test_the_password_comes_from_a_file_and_never_shows(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "kafka.password"  # type: ignore[operator]
    path.write_text("from-a-file\n")
    environ = {k: v for k, v in SASL.items() if k != "UMS_KAFKA_PASSWORD"}
    kafka = Settings.from_env({**environ, "UMS_KAFKA_PASSWORD_FILE": str(path)}).kafka
    assert security_config(kafka)["sasl.password"] == "from-a-file"
    assert "from-a-file" not in repr(kafka)


def test_mutual_tls_gives_the_client_certificate() -> None:
    environ = {
        "UMS_KAFKA_SECURITY_PROTOCOL": "SSL",
        "UMS_KAFKA_CERT_FILE": "c.pem",
        "UMS_KAFKA_KEY_FILE": "c.key",
    }
    config = security_config(Settings.from_env(environ).kafka)
    assert config["ssl.certificate.location"] == "c.pem"
    assert config["ssl.key.location"] == "c.key"
    assert "sasl.username" not in config


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"UMS_KAFKA_SECURITY_PROTOCOL": "TLS"}, "UMS_KAFKA_SECURITY_PROTOCOL"),
        ({"UMS_KAFKA_SASL_MECHANISM": "GSSAPI"}, "UMS_KAFKA_SASL_MECHANISM"),
        ({"UMS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "UMS_KAFKA_USERNAME": "ums"}, "UMS_KAFKA_PASSWORD"),
        ({"UMS_KAFKA_SECURITY_PROTOCOL": "SSL", "UMS_KAFKA_CERT_FILE": "c.pem"}, "UMS_KAFKA_KEY_FILE"),
        ({"UMS_KAFKA_CA_FILE": "ca.pem"}, "UMS_KAFKA_CA_FILE"),
    ],
)
def test_settings_that_do_not_fit_are_refused_by_name(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)


def test_an_override_is_checked_too() -> None:
    with pytest.raises(SettingsError, match="UMS_KAFKA_USERNAME"):
        Settings.from_env({}).override(kafka_security_protocol="SASL_PLAINTEXT")
