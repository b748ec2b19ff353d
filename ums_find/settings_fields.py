"""How one setting is declared and read: its variable, default and check; secrets that never print."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,64}")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
ACCOUNT = re.compile(r"[A-Za-z0-9_.-]{1,32}")
HOST_PATTERN = re.compile(r"[A-Za-z0-9_.%:-]{1,255}")
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


class Secret:
    """A password: compared and hashed by value, but never shown by `repr` or `str`."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one call that needs it (a connection's options)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__


def integer(low: int, high: int) -> Callable[[str], int]:
    """A check: a whole number from `low` to `high`."""
    return _bounded(int, low, high)


def number(low: float, high: float) -> Callable[[str], float]:
    """A check: a number from `low` to `high`."""
    return _bounded(float, low, high)


def _bounded(parse: Callable[[str], Any], low: float, high: float) -> Callable[[str], Any]:
    def convert(raw: str) -> Any:
        value = parse(raw)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return convert


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A check: the whole text matches `pattern`."""

    def convert(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ValueError(f"not a valid {what}")
        return raw

    return convert


def optional(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A check: empty, or the whole text matches `pattern`."""
    check = matching(pattern, what)
    return lambda raw: check(raw) if raw else raw


def unset_or(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A check: empty (None), or what `check` accepts."""
    return lambda raw: check(raw) if raw.strip() else None


def text(raw: str) -> str:
    """A check: not empty or blank."""
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw


def choice(*choices: str) -> Callable[[str], str]:
    """A check: one of these words."""
    return matching(re.compile("|".join(map(re.escape, choices))), f"choice ({' or '.join(choices)})")


PORT = integer(1, 65535)
PORT_OR_OFF = integer(0, 65535)  # 0: the server is not started
IDENT = matching(_IDENTIFIER, "identifier (letters, digits, _)")
TOPIC_NAME = matching(_TOPIC, "topic name")
NAME = matching(re.compile(r"[A-Za-z0-9._-]{1,64}"), "name")


def env(var: str, default: str, convert: Callable[[str], Any]) -> Any:
    """Declare a field read from `var`, `default` when unset, checked by `convert`."""
    return dataclasses.field(
        default=convert(default), metadata={"env": var, "convert": convert, "raw": default}
    )


def secret(var: str) -> Any:
    """Declare a password read from `var`, or from the file that `<var>_FILE` names."""
    return dataclasses.field(default=Secret(), metadata={"env": var, "secret": True})


def read_field(field: dataclasses.Field[Any], environ: Mapping[str, str]) -> Any:
    """The field's value from the environment, checked; SettingsError names a bad variable."""
    var = field.metadata["env"]
    if field.metadata.get("secret"):
        return _password(environ, var)
    raw = environ.get(var, field.metadata["raw"])
    try:
        return field.metadata["convert"](raw)
    except ValueError as exc:
        raise SettingsError(f"{var}={raw!r} is invalid: {exc}") from None


def _password(environ: Mapping[str, str], var: str) -> Secret:
    path = environ.get(f"{var}_FILE")
    if not path:
        return Secret(environ.get(var, ""))
    try:
        return Secret(Path(path).read_text(encoding="utf-8").rstrip("\r\n"))
    except OSError as exc:
        raise SettingsError(f"{var}_FILE={path!r} cannot be read: {exc.strerror}") from None


def read_section(kind: type, environ: Mapping[str, str]) -> Any:
    """A settings section (a dataclass of declared fields) read from the environment."""
    return kind(**{f.name: read_field(f, environ) for f in dataclasses.fields(kind)})


def text_of(value: Any) -> str:
    """A field's value as its variable would hold it."""
    if isinstance(value, Secret):
        return value.reveal()
    return "" if value is None else str(value)


def as_secret(value: Any) -> Secret:
    """A value given for a password field, as a Secret."""
    return value if isinstance(value, Secret) else Secret(str(value))


def host_list(raw: str) -> str:
    """A check: empty, or comma-separated host:port items (normalised: no blanks)."""
    items = [item.strip() for item in raw.split(",") if item.strip()]
    for item in items:
        endpoint(item)
    return ",".join(items)


def endpoint(item: str) -> tuple[str, int]:
    """One host:port item as (host, port); ValueError if it is not one."""
    host, sep, port = item.rpartition(":")
    if not sep or not HOST_PATTERN.fullmatch(host) or "%" in host:
        raise ValueError(f"{item!r} is not host:port")
    return host, PORT(port)
