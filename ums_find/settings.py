"""All settings, read once from the `UMS_*` environment into one frozen object."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,64}")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_HOST_PATTERN = re.compile(r"[A-Za-z0-9_.%:-]{1,255}")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


def _integer(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return convert


def _number(low: float, high: float) -> Callable[[str], float]:
    def convert(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return convert


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError(f"not a valid {what}")
        return text

    return convert


def _optional(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text and not pattern.fullmatch(text):
            raise ValueError(f"not a valid {what}")
        return text

    return convert


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


_PORT = _integer(1, 65535)
_IDENT = _matching(_IDENTIFIER, "identifier (letters, digits, _)")
_TOPIC_NAME = _matching(_TOPIC, "topic name")

# field name -> (environment variable, default, converter)
_SPEC: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "mysql_host": ("UMS_MYSQL_HOST", "127.0.0.1", _text),
    "mysql_port": ("UMS_MYSQL_PORT", "3306", _PORT),
    "mysql_user": ("UMS_MYSQL_USER", "root", _text),
    "mysql_database": ("UMS_MYSQL_DATABASE", "glarimy", _IDENT),
    "kafka_bootstrap": ("UMS_KAFKA_BOOTSTRAP", "127.0.0.1:9092", _text),
    "topic": ("UMS_TOPIC", "user-added", _TOPIC_NAME),
    "dlq_topic": ("UMS_DLQ_TOPIC", "user-added.dlq", _TOPIC_NAME),
    "group_id": ("UMS_GROUP_ID", "ums-find", _text),
    "consumer_name": (
        "UMS_CONSUMER_NAME",
        "ums-find",
        _matching(re.compile(r"[A-Za-z0-9._-]{1,64}"), "name"),
    ),
    "http_host": ("UMS_HTTP_HOST", "0.0.0.0", _text),
    "http_port": ("UMS_HTTP_PORT", "8080", _PORT),
    "http_threads": ("UMS_HTTP_THREADS", "8", _integer(1, 256)),
    "http_workers": ("UMS_HTTP_WORKERS", "1", _integer(1, 64)),
    # What one API process lets clients hold: sockets, idle time, body bytes (it takes no bodies).
    "http_connection_limit": ("UMS_HTTP_CONNECTION_LIMIT", "1000", _integer(10, 100_000)),
    "http_idle_timeout_s": ("UMS_HTTP_IDLE_TIMEOUT_S", "10", _integer(1, 3_600)),
    "http_max_body_bytes": ("UMS_HTTP_MAX_BODY_BYTES", "1024", _integer(1, 1_048_576)),
    "batch_size": ("UMS_BATCH_SIZE", "2000", _integer(1, 100_000)),
    "batch_wait_s": ("UMS_BATCH_WAIT_S", "0.1", _number(0.0, 60.0)),
    "db_timeout_s": ("UMS_DB_TIMEOUT_S", "5", _number(0.1, 300.0)),
    # Whole seconds: the connector takes integers. Writers wait on locks (UMS_DB_LOCK_TIMEOUT_S).
    "db_read_timeout_s": ("UMS_DB_READ_TIMEOUT_S", "30", _integer(1, 3_600)),
    "db_write_timeout_s": ("UMS_DB_WRITE_TIMEOUT_S", "30", _integer(1, 3_600)),
    "api_db_timeout_s": ("UMS_API_DB_TIMEOUT_S", "2", _integer(1, 60)),
    "db_retry_max_s": ("UMS_DB_RETRY_MAX_S", "300", _number(0.0, 86_400.0)),
    "shutdown_s": ("UMS_SHUTDOWN_S", "20", _number(0.1, 3_600.0)),
    # The lookup API: read-your-writes, caching, and the accounts `migrate` creates.
    "after_wait_s": ("UMS_AFTER_WAIT_S", "2", _number(0.0, 10.0)),
    "after_max_waiting": ("UMS_AFTER_MAX_WAITING", "", lambda t: int(t) if t.strip() else None),
    "after_poll_s": ("UMS_AFTER_POLL_S", "0.005", _number(0.001, 1.0)),
    "positions_refresh_s": ("UMS_POSITIONS_REFRESH_S", "0.1", _number(0.01, 60.0)),
    "cache_max_age_s": ("UMS_CACHE_MAX_AGE_S", "1", _integer(0, 86_400)),
    "partitions_refresh_s": ("UMS_PARTITIONS_REFRESH_S", "60", _number(1.0, 86_400.0)),
    "api_mysql_user": ("UMS_API_MYSQL_USER", "", _optional(_ACCOUNT, "account name")),
    "writer_mysql_user": ("UMS_WRITER_MYSQL_USER", "", _optional(_ACCOUNT, "account name")),
    "mysql_account_host": ("UMS_MYSQL_ACCOUNT_HOST", "%", _matching(_HOST_PATTERN, "account host")),
    "replay_batch_size": ("UMS_REPLAY_BATCH_SIZE", "10000", _integer(1, 100_000)),
    "replay_lock_s": ("UMS_REPLAY_LOCK_S", "5", _number(0.1, 600.0)),
    "consumer_http_port": ("UMS_CONSUMER_HTTP_PORT", "8081", _integer(0, 65535)),
    "consumer_stall_s": ("UMS_CONSUMER_STALL_S", "60", _number(1.0, 3_600.0)),
    "db_lock_timeout_s": ("UMS_DB_LOCK_TIMEOUT_S", "10", _integer(0, 3_600)),
    "kafka_session_timeout_s": ("UMS_KAFKA_SESSION_TIMEOUT_S", "45", _number(1.0, 3_600.0)),
    "group_instance_id": ("UMS_GROUP_INSTANCE_ID", "", str.strip),
}


@dataclass(frozen=True)
class Settings:
    """Everything the processes need to know about their surroundings."""

    mysql_host: str
    mysql_port: int
    mysql_user: str
    mysql_password: str = field(repr=False)
    mysql_database: str
    kafka_bootstrap: str
    topic: str
    dlq_topic: str
    group_id: str
    consumer_name: str
    http_host: str
    http_port: int
    http_threads: int
    http_workers: int
    http_connection_limit: int
    http_idle_timeout_s: int
    http_max_body_bytes: int
    batch_size: int
    batch_wait_s: float
    db_timeout_s: float
    db_read_timeout_s: int
    db_write_timeout_s: int
    api_db_timeout_s: int
    db_retry_max_s: float
    shutdown_s: float
    after_wait_s: float
    after_max_waiting: int | None  # None: half the threads (see `after_cap`)
    after_poll_s: float
    positions_refresh_s: float
    cache_max_age_s: int
    partitions_refresh_s: float
    api_mysql_user: str
    api_mysql_password: str = field(repr=False)
    writer_mysql_user: str
    writer_mysql_password: str = field(repr=False)
    mysql_account_host: str
    replay_batch_size: int
    replay_lock_s: float
    consumer_http_port: int
    consumer_stall_s: float
    db_lock_timeout_s: int
    kafka_session_timeout_s: float
    group_instance_id: str

    def as_env(self) -> dict[str, str]:
        """The `UMS_*` variables that give these settings (for starting another process)."""
        env = {var: _text_of(getattr(self, name)) for name, (var, _, _) in _SPEC.items()}
        env["UMS_MYSQL_PASSWORD"] = self.mysql_password
        env["UMS_API_MYSQL_PASSWORD"] = self.api_mysql_password
        env["UMS_WRITER_MYSQL_PASSWORD"] = self.writer_mysql_password
        return env

    @property
    def after_cap(self) -> int:
        """How many `?after=` requests may wait at once: UMS_AFTER_MAX_WAITING, else half the threads."""
        return self.http_threads // 2 if self.after_max_waiting is None else self.after_max_waiting

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `env` (the process environment by default)."""
        env = os.environ if env is None else env
        values = {name: _read(env, *spec) for name, spec in _SPEC.items()}
        values["mysql_password"] = _password(env)
        values["api_mysql_password"] = _password(env, "UMS_API_MYSQL_PASSWORD")
        values["writer_mysql_password"] = _password(env, "UMS_WRITER_MYSQL_PASSWORD")
        values.update(overrides)
        _check_after_cap(values.get("after_max_waiting"), values.get("http_threads", 1))
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"unknown settings: {sorted(unknown)}")
        return cls(**values)


def _read(env: Mapping[str, str], var: str, default: str, convert: Callable[[str], Any]) -> Any:
    text = env.get(var, default)
    try:
        return convert(text)
    except ValueError as exc:
        raise SettingsError(f"{var}={text!r} is invalid: {exc}") from None


def _password(env: Mapping[str, str], var: str = "UMS_MYSQL_PASSWORD") -> str:
    path = env.get(f"{var}_FILE")
    if not path:
        return env.get(var, "")
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SettingsError(f"{var}_FILE={path!r} cannot be read: {exc.strerror}") from None


def _text_of(value: Any) -> str:
    return "" if value is None else str(value)


def _check_after_cap(cap: int | None, threads: int) -> None:
    # Waiting requests hold their thread: a plain lookup must always find one free.
    if cap is not None and not 0 <= cap < threads:
        raise SettingsError(f"UMS_AFTER_MAX_WAITING={cap} is invalid: must be from 0 to UMS_HTTP_THREADS - 1")
