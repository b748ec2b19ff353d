"""Kafka's log lines without the storm: an outage or a refusal repeats the same error many times a second."""

from __future__ import annotations

import logging
import re
import time

from ums_find.kafka.refusal import REFUSAL_NOISE

__all__ = ["librdkafka_logger", "log_deduplicated"]

_LAST_LOGGED: dict[str, float] = {}
_REPEAT_S = 60.0


def log_deduplicated(logger: logging.Logger, message: str, level: int = logging.WARNING) -> None:
    """Log a message once a minute at most: an outage repeats the same error many times a second."""
    now = time.monotonic()
    if now - _LAST_LOGGED.get(message, -_REPEAT_S) >= _REPEAT_S:
        if len(_LAST_LOGGED) > 1000:
            _LAST_LOGGED.clear()
        _LAST_LOGGED[message] = now
        logger.log(level, message)
    else:
        logger.debug(message)


class _Repeats(logging.Filter):
    """Drops a librdkafka line that repeats one logged within the minute (numbers aside).

    Lines about a refused password or certificate are dropped too: the client raises the
    refusal, and whoever catches it says so once, in words naming the settings concerned.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(marker in message for marker in REFUSAL_NOISE):
            return False
        key = re.sub(r"[0-9]+", "#", message)
        now = time.monotonic()
        if now - _LAST_LOGGED.get(key, -_REPEAT_S) < _REPEAT_S:
            return False
        _LAST_LOGGED[key] = now
        return True


def librdkafka_logger() -> logging.Logger:
    """The logger librdkafka's own lines go to (instead of raw stderr), repeats dropped."""
    logger = logging.getLogger("librdkafka")
    if not any(isinstance(f, _Repeats) for f in logger.filters):
        logger.addFilter(_Repeats())
    return logger
