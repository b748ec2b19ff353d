"""All settings, read once from the `UMS_*` environment into frozen objects, one per concern.

Each field is declared once, with its variable, default and check. `Settings` holds one
section per concern (MySQL, accounts, Kafka, HTTP, consumer); a class is handed the
section it uses.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ums_find.settings_fields import (
    ACCOUNT,
    HOST_PATTERN,
    IDENT,
    KAFKA_PROTOCOLS,
    NAME,
    PORT,
    PORT_OR_OFF,
    SASL_MECHANISMS,
    TOPIC_NAME,
    Secret,
    SettingsError,
    as_secret,
    choice,
    endpoint,
    env,
    host_list,
    integer,
    matching,
    number,
    optional,
    read_field,
    read_section,
    secret,
    text,
    text_of,
    unset_or,
)

__all__ = ["Secret", "Settings", "SettingsError"]


@dataclass(frozen=True)
class MySQLSettings:
    """Where the view lives and how long to wait for it."""

    host: str = env("UMS_MYSQL_HOST", "127.0.0.1", text)
    port: int = env("UMS_MYSQL_PORT", "3306", PORT)
    user: str = env("UMS_MYSQL_USER", "root", text)
    password: Secret = secret("UMS_MYSQL_PASSWORD")
    database: str = env("UMS_MYSQL_DATABASE", "glarimy", IDENT)
    timeout_s: float = env("UMS_DB_TIMEOUT_S", "5", number(0.1, 300.0))
    lock_timeout_s: int = env("UMS_DB_LOCK_TIMEOUT_S", "10", integer(0, 3_600))
    # Whole seconds: the connector takes integers. Writers wait on locks (UMS_DB_LOCK_TIMEOUT_S).
    read_timeout_s: int = env("UMS_DB_READ_TIMEOUT_S", "30", integer(1, 3_600))
    write_timeout_s: int = env("UMS_DB_WRITE_TIMEOUT_S", "30", integer(1, 3_600))
    # TLS: a CA file turns verification of the server's certificate (and, by default, its host
    # name) on. Without one the connector still uses TLS when the server offers it (unverified);
    # `UMS_MYSQL_SSL=disabled` forces plaintext.
    ssl: str = env("UMS_MYSQL_SSL", "preferred", choice("preferred", "disabled"))
    ssl_ca: str | None = env("UMS_MYSQL_SSL_CA", "", unset_or(text))
    ssl_cert: str | None = env("UMS_MYSQL_SSL_CERT", "", unset_or(text))
    ssl_key: str | None = env("UMS_MYSQL_SSL_KEY", "", unset_or(text))
    ssl_verify_identity: str = env("UMS_MYSQL_SSL_VERIFY_IDENTITY", "on", choice("on", "off"))
    # The API's read endpoints (replicas of this primary), "host:port,host:port"; empty: the primary.
    read_hosts: str = env("UMS_MYSQL_READ_HOSTS", "", host_list)
    # A replica whose checkpoints trail the primary's by more than this is skipped.
    read_max_lag_s: float = env("UMS_MYSQL_READ_MAX_LAG_S", "5", number(0.1, 3_600.0))

    @property
    def read_endpoints(self) -> list[tuple[str, int]]:
        """UMS_MYSQL_READ_HOSTS as (host, port) pairs, in their order."""
        return [endpoint(item) for item in self.read_hosts.split(",") if item]


@dataclass(frozen=True)
class AccountSettings:
    """The accounts `migrate` creates: a read-only one for the API, a writer for the consumer."""

    api_user: str = env("UMS_API_MYSQL_USER", "", optional(ACCOUNT, "account name"))
    api_password: Secret = secret("UMS_API_MYSQL_PASSWORD")
    writer_user: str = env("UMS_WRITER_MYSQL_USER", "", optional(ACCOUNT, "account name"))
    writer_password: Secret = secret("UMS_WRITER_MYSQL_PASSWORD")
    host: str = env("UMS_MYSQL_ACCOUNT_HOST", "%", matching(HOST_PATTERN, "account host"))


@dataclass(frozen=True)
class KafkaSettings:
    """The broker, the topics and the consumer group."""

    bootstrap: str = env("UMS_KAFKA_BOOTSTRAP", "127.0.0.1:9092", text)
    topic: str = env("UMS_TOPIC", "user-added", TOPIC_NAME)
    dlq_topic: str = env("UMS_DLQ_TOPIC", "user-added.dlq", TOPIC_NAME)
    group_id: str = env("UMS_GROUP_ID", "ums-find", text)
    session_timeout_s: float = env("UMS_KAFKA_SESSION_TIMEOUT_S", "45", number(1.0, 3_600.0))
    group_instance_id: str = env("UMS_GROUP_INSTANCE_ID", "", str.strip)
    security_protocol: str = env("UMS_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", choice(*KAFKA_PROTOCOLS))
    sasl_mechanism: str = env("UMS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", choice(*SASL_MECHANISMS))
    username: str = env("UMS_KAFKA_USERNAME", "", str.strip)
    password: Secret = secret("UMS_KAFKA_PASSWORD")
    ca_file: str = env("UMS_KAFKA_CA_FILE", "", str.strip)
    cert_file: str = env("UMS_KAFKA_CERT_FILE", "", str.strip)
    key_file: str = env("UMS_KAFKA_KEY_FILE", "", str.strip)

    def __post_init__(self) -> None:
        _check_kafka_security(self)


@dataclass(frozen=True)
class HttpSettings:
    """The lookup API: serving, read-your-writes and caching."""

    host: str = env("UMS_HTTP_HOST", "0.0.0.0", text)
    port: int = env("UMS_HTTP_PORT", "8080", PORT)
    threads: int = env("UMS_HTTP_THREADS", "8", integer(1, 256))
    workers: int = env("UMS_HTTP_WORKERS", "1", integer(1, 64))
    # What one API process lets clients hold: sockets, idle time, body bytes (it takes no bodies).
    connection_limit: int = env("UMS_HTTP_CONNECTION_LIMIT", "1000", integer(10, 100_000))
    idle_timeout_s: int = env("UMS_HTTP_IDLE_TIMEOUT_S", "10", integer(1, 3_600))
    max_body_bytes: int = env("UMS_HTTP_MAX_BODY_BYTES", "1024", integer(1, 1_048_576))
    # The API's connect, read and write timeout: a lookup answers 503 rather than hang.
    db_timeout_s: int = env("UMS_API_DB_TIMEOUT_S", "2", integer(1, 60))
    after_wait_s: float = env("UMS_AFTER_WAIT_S", "2", number(0.0, 10.0))
    # Unset: half the threads (see `after_cap`).
    after_max_waiting: int | None = env("UMS_AFTER_MAX_WAITING", "", unset_or(integer(0, 256)))
    after_poll_s: float = env("UMS_AFTER_POLL_S", "0.005", number(0.001, 1.0))
    positions_refresh_s: float = env("UMS_POSITIONS_REFRESH_S", "0.1", number(0.01, 60.0))
    cache_max_age_s: int = env("UMS_CACHE_MAX_AGE_S", "1", integer(0, 86_400))
    partitions_refresh_s: float = env("UMS_PARTITIONS_REFRESH_S", "60", number(1.0, 86_400.0))

    def __post_init__(self) -> None:
        # Waiting requests hold their thread: a plain lookup must always find one free.
        cap = self.after_max_waiting
        if cap is not None and not cap < self.threads:
            raise SettingsError(f"UMS_AFTER_MAX_WAITING={cap} is invalid: must be below UMS_HTTP_THREADS")

    @property
    def after_cap(self) -> int:
        """How many `?after=` requests may wait at once: UMS_AFTER_MAX_WAITING, else half the threads."""
        return self.threads // 2 if self.after_max_waiting is None else self.after_max_waiting


@dataclass(frozen=True)
class ConsumerSettings:
    """The projection consumer and replay: who writes the checkpoints, batches, bounds, probes."""

    name: str = env("UMS_CONSUMER_NAME", "ums-find", NAME)
    batch_size: int = env("UMS_BATCH_SIZE", "2000", integer(1, 100_000))
    batch_wait_s: float = env("UMS_BATCH_WAIT_S", "0.1", number(0.0, 60.0))
    decode_workers: int = env("UMS_DECODE_WORKERS", "0", integer(0, 64))
    retry_max_s: float = env("UMS_DB_RETRY_MAX_S", "300", number(0.0, 86_400.0))
    http_port: int = env("UMS_CONSUMER_HTTP_PORT", "8081", PORT_OR_OFF)
    stall_s: float = env("UMS_CONSUMER_STALL_S", "60", number(1.0, 3_600.0))
    replay_batch_size: int = env("UMS_REPLAY_BATCH_SIZE", "10000", integer(1, 100_000))
    replay_lock_s: float = env("UMS_REPLAY_LOCK_S", "5", number(0.1, 600.0))
    on_checkpoint_ahead: str = env("UMS_ON_CHECKPOINT_AHEAD", "reset", choice("reset", "fail"))


def _check_kafka_security(kafka: KafkaSettings) -> None:
    sasl, tls = kafka.security_protocol.startswith("SASL"), kafka.security_protocol.endswith("SSL")
    if sasl and not (kafka.username and kafka.password):
        raise SettingsError(
            f"UMS_KAFKA_SECURITY_PROTOCOL={kafka.security_protocol} needs UMS_KAFKA_USERNAME and "
            "UMS_KAFKA_PASSWORD (or UMS_KAFKA_PASSWORD_FILE)"
        )
    if bool(kafka.cert_file) != bool(kafka.key_file):
        raise SettingsError("UMS_KAFKA_CERT_FILE and UMS_KAFKA_KEY_FILE go together (mutual TLS)")
    if not tls and (kafka.ca_file or kafka.cert_file):
        raise SettingsError(
            "UMS_KAFKA_CA_FILE and UMS_KAFKA_CERT_FILE need UMS_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL, "
            f"not {kafka.security_protocol}"
        )


_SECTIONS: dict[str, type] = {
    "mysql": MySQLSettings,
    "accounts": AccountSettings,
    "kafka": KafkaSettings,
    "http": HttpSettings,
    "consumer": ConsumerSettings,
}


@dataclass(frozen=True)
class Settings:
    """Everything the processes need to know about their surroundings, by concern."""

    mysql: MySQLSettings = dataclasses.field(default_factory=MySQLSettings)
    accounts: AccountSettings = dataclasses.field(default_factory=AccountSettings)
    kafka: KafkaSettings = dataclasses.field(default_factory=KafkaSettings)
    http: HttpSettings = dataclasses.field(default_factory=HttpSettings)
    consumer: ConsumerSettings = dataclasses.field(default_factory=ConsumerSettings)
    # Both kinds of process drain within it on SIGTERM.
    shutdown_s: float = env("UMS_SHUTDOWN_S", "20", number(0.1, 3_600.0))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `environ` (the process environment by default).

        `overrides` name fields by their variable, less `UMS_` and lower-cased (`mysql_database`).
        """
        environ = os.environ if environ is None else environ
        sections = {name: read_section(kind, environ) for name, kind in _SECTIONS.items()}
        shutdown = read_field(_own_fields()["shutdown_s"], environ)
        return cls(**sections, shutdown_s=shutdown).override(**overrides)

    def override(self, **flat: Any) -> Settings:
        """A copy with some fields changed, each named as in `from_env`'s overrides."""
        index = _flat_index()
        unknown = sorted(set(flat) - set(index))
        if unknown:
            raise SettingsError(f"unknown settings: {unknown}")
        changes: dict[str, dict[str, Any]] = {}
        for key, value in flat.items():
            section, name = index[key]
            changes.setdefault(section, {})[name] = as_secret(value) if _is_secret(section, name) else value
        top = changes.pop("", {})
        parts = {s: dataclasses.replace(getattr(self, s), **c) for s, c in changes.items()}
        return dataclasses.replace(self, **parts, **top)

    def as_env(self) -> dict[str, str]:
        """The `UMS_*` variables that give these settings (for starting another process)."""
        result = {}
        for (section, name), field in _fields_by_place().items():
            value = getattr(getattr(self, section), name) if section else getattr(self, name)
            result[field.metadata["env"]] = text_of(value)
        return result


def _own_fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in fields(Settings) if "env" in f.metadata}


def _fields_by_place() -> dict[tuple[str, str], dataclasses.Field[Any]]:
    places = {("", name): f for name, f in _own_fields().items()}
    for section, kind in _SECTIONS.items():
        places.update({(section, f.name): f for f in fields(kind)})
    return places


def _flat_index() -> dict[str, tuple[str, str]]:
    return {f.metadata["env"].removeprefix("UMS_").lower(): place for place, f in _fields_by_place().items()}


def _is_secret(section: str, name: str) -> bool:
    return bool(_fields_by_place()[(section, name)].metadata.get("secret"))
