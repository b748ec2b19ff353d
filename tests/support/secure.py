"""The server pair that requires TLS and passwords (`dev/stack.sh up-secure`), for the tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.stackrun import RUN_DIR, run_stack, session_ports, stack_env
from ums_find.settings import Settings

PORTS = [
    "STACK_SECURE_DB_PORT",
    "STACK_SECURE_DB_WRONG_PORT",
    "STACK_SECURE_KAFKA_PORT",
    "STACK_SECURE_KAFKA_WRONG_PORT",
    "STACK_SECURE_KAFKA_MTLS_PORT",
    "STACK_SECURE_CONTROLLER_PORT",
]
KAFKA_USER = "ums"  # SCRAM users: ums (an application), admin (the super user)
MYSQL_ADMIN = "ums_admin"  # all privileges; ums_x509 also needs the client certificate
MYSQL_X509 = "ums_x509"


@dataclass(frozen=True)
class SecureStack:
    """Where the secure servers listen and where their CA, keys and passwords are."""

    ports: dict[str, int]
    directory: Path = RUN_DIR / "secure"

    @property
    def kafka_port(self) -> int:
        """The SASL_SSL listener (certificate for localhost and 127.0.0.1)."""
        return self.ports["STACK_SECURE_KAFKA_PORT"]

    @property
    def kafka_wrong_host_port(self) -> int:
        """A listener of the same broker presenting a certificate for wrong.example."""
        return self.ports["STACK_SECURE_KAFKA_WRONG_PORT"]

    @property
    def kafka_mtls_port(self) -> int:
        """An SSL listener (no SASL) that requires a client certificate."""
        return self.ports["STACK_SECURE_KAFKA_MTLS_PORT"]

    @property
    def mysql_port(self) -> int:
        """The MariaDB with require_secure_transport=ON."""
        return self.ports["STACK_SECURE_DB_PORT"]

    @property
    def mysql_wrong_host_port(self) -> int:
        """A MariaDB without accounts presenting a certificate for wrong.example."""
        return self.ports["STACK_SECURE_DB_WRONG_PORT"]

    def tls_file(self, name: str) -> str:
        """A PEM file: ca.pem, other-ca.pem (trusted by nobody), client.pem, client.key."""
        return str(self.directory / "tls" / name)

    @property
    def ca_file(self) -> str:
        """The CA that signed every server certificate."""
        return self.tls_file("ca.pem")

    def password(self, name: str) -> str:
        """A generated password: kafka-ums, kafka-admin, mysql-admin, mysql-x509."""
        return (self.directory / "secrets" / f"{name}.password").read_text().strip()

    def password_file(self, name: str) -> str:
        """The file holding that password (for *_PASSWORD_FILE settings)."""
        return str(self.directory / "secrets" / f"{name}.password")

    def kafka_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka properties for the SASL_SSL listener as the ums user, with overrides."""
        config: dict[str, Any] = {
            "bootstrap.servers": f"127.0.0.1:{self.kafka_port}",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": KAFKA_USER,
            "sasl.password": self.password(f"kafka-{KAFKA_USER}"),
            "ssl.ca.location": self.ca_file,
        }
        config.update(overrides)
        return config

    def kafka_mtls_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka properties for the mutual-TLS listener, with the client certificate."""
        config: dict[str, Any] = {
            "bootstrap.servers": f"127.0.0.1:{self.kafka_mtls_port}",
            "security.protocol": "SSL",
            "ssl.ca.location": self.ca_file,
            "ssl.certificate.location": self.tls_file("client.pem"),
            "ssl.key.location": self.tls_file("client.key"),
        }
        config.update(overrides)
        return config

    def mysql_args(self, **overrides: Any) -> dict[str, Any]:
        """mysql.connector.connect arguments: TLS verified against the CA, host name included."""
        args: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.mysql_port,
            "user": MYSQL_ADMIN,
            "password": self.password("mysql-admin"),
            "ssl_ca": self.ca_file,
            "ssl_verify_cert": True,
            "ssl_verify_identity": True,
            "connection_timeout": 10,
        }
        args.update(overrides)
        return args

    def settings(self, database: str, topic: str) -> Settings:
        """Settings for this pair: SASL_SSL as the ums user, MySQL over verified TLS as the admin."""
        return Settings.from_env({}).override(
            kafka_bootstrap=f"127.0.0.1:{self.kafka_port}",
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_username=KAFKA_USER,
            kafka_password=self.password(f"kafka-{KAFKA_USER}"),
            kafka_ca_file=self.ca_file,
            mysql_host="127.0.0.1",
            mysql_port=self.mysql_port,
            mysql_user=MYSQL_ADMIN,
            mysql_password=self.password("mysql-admin"),
            mysql_ssl_ca=self.ca_file,
            mysql_database=database,
            topic=topic,
            dlq_topic=f"{topic}.dlq",
            group_id=f"g-{topic}",
            consumer_name=f"c-{topic}",
        )

    def secret_files(self) -> dict[str, str]:
        """The environment that gives a process both passwords from their files, none inline."""
        return {
            "UMS_KAFKA_PASSWORD": "",
            "UMS_KAFKA_PASSWORD_FILE": self.password_file(f"kafka-{KAFKA_USER}"),
            "UMS_MYSQL_PASSWORD": "",
            "UMS_MYSQL_PASSWORD_FILE": self.password_file("mysql-admin"),
        }

    def secrets(self) -> list[str]:
        """Every password of the pair, which no output may hold."""
        names = [f"kafka-{KAFKA_USER}", "kafka-admin", "mysql-admin", "mysql-x509"]
        return [self.password(name) for name in names]

    def run(self, command: str) -> str:
        """A `dev/stack.sh` command with this pair's ports."""
        return run_stack(command, stack_env(self.ports))


@contextmanager
def secure_world(stack: SecureStack) -> Iterator[Settings]:
    """A database (migrated over TLS) and topics (created over SASL_SSL) of their own on the pair."""
    from consumers.topics import ensure_topics
    from tests.support.mysql import drop_database
    from ums_find import kafka
    from ums_find.store import migrate

    suffix = uuid.uuid4().hex[:10]
    settings = stack.settings(f"ums_tls_{suffix}", f"secure-{suffix}")
    migrate(settings)
    ensure_topics(settings.kafka)
    try:
        yield settings
    finally:
        drop_database(settings)
        client = kafka.admin(settings.kafka)
        for future in client.delete_topics([settings.kafka.topic, settings.kafka.dlq_topic]).values():
            try:
                future.result(timeout=30)
            except Exception:  # noqa: BLE001 - a topic left behind harms no other test
                pass


def start_secure_stack() -> SecureStack:
    """Start (or reuse) the secure pair on this session's ports."""
    stack = SecureStack(session_ports("secure", PORTS, "status-secure"))
    stack.run("up-secure")
    return stack
