"""Process-wide logging: one JSON object a line, with the request id, phone numbers masked."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

# The request being answered on this thread (waitress runs one request per thread at a time).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# A safety net: any run of 10 to 15 digits may be a phone number; keep only its last two digits.
_DIGITS = re.compile(r"(?<![0-9])[0-9]{8,13}([0-9]{2})(?![0-9])")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def mask_phones(text: str) -> str:
    """Hide all but the last two digits of every run of 10 to 15 digits."""
    return _DIGITS.sub(lambda m: "*" * (len(m[0]) - 2) + m[1], text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ts, level, logger, event, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": mask_phones(record.getMessage()),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = mask_phones(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str | None = None) -> None:
    """Log JSON lines to stderr at `UMS_LOG_LEVEL` (INFO by default), replacing other handlers."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("UMS_LOG_LEVEL", "INFO")).upper())
    # Uncaught exceptions, in the main thread or any other, through the same formatter and masking.
    sys.excepthook = log_uncaught
    threading.excepthook = log_uncaught_in_thread


def log_uncaught(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    """sys.excepthook: the traceback as one JSON line (phones masked), not Python's raw print."""
    log = logging.getLogger("ums_find")
    log.critical("uncaught exception: %s", kind.__name__, exc_info=(kind, value, trace))


def log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: as log_uncaught, naming the thread."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    trace = None if args.exc_value is None else (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("ums_find").critical(
        "uncaught exception in thread %s: %s", name, args.exc_type.__name__, exc_info=trace
    )
