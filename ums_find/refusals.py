"""A server refusing our settings (a password, a certificate): one log line and an exit code per server.

Not a fault of the moment: retrying cannot help until the settings change, so every command
stops at once, with a line that names what was refused and the settings concerned.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_DATABASE_REFUSED = 6
EXIT_KAFKA_REFUSED = 7

log = logging.getLogger("ums_find")


@contextmanager
def exit_on_refusal() -> Iterator[None]:
    """Turn a refusal of MySQL or Kafka into one error line and the process's exit code (6 or 7)."""
    from ums_find.kafka import KafkaRefused
    from ums_find.store import DatabaseRefused

    try:
        yield
    except DatabaseRefused as exc:
        log.error("%s", exc)
        sys.exit(EXIT_DATABASE_REFUSED)
    except KafkaRefused as exc:
        log.error("%s", exc)
        sys.exit(EXIT_KAFKA_REFUSED)
