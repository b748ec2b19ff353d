"""HTTP plumbing shared by the routes: JSON answers, ETags, and the per-request id and metrics."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Response, request
from werkzeug.routing import BaseConverter

from ums_find.domain import InvalidName
from ums_find.http.metrics import ApiMetrics
from ums_find.logs import REQUEST_ID

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"[!-~]{1,200}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
USER_PREFIX = "/user/"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AnyTextConverter(BaseConverter):
    """Matches the rest of the path, empty, slashes and all: names may contain `/`."""

    regex = ".*"
    part_isolating = False


def requested_name() -> str:
    """The name as the client encoded it, from the raw URI so that `%2F` stays in the name."""
    name = name_from_uri(request.environ)
    if name is None:
        return str(request.view_args.get("name", "")) if request.view_args else ""
    return name


def name_from_uri(environ: dict[str, Any]) -> str | None:
    """The percent-decoded name of a `/user/<name>` request URI (None without a raw URI)."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw is None:
        return None
    path = urlsplit(raw).path if "://" in raw.split("?", 1)[0] else raw.split("?", 1)[0]
    encoded = path[path.find(USER_PREFIX) + len(USER_PREFIX) :]
    if _BAD_PERCENT.search(encoded):
        raise InvalidName("name not valid percent-encoding")
    try:
        return unquote_to_bytes(encoded.encode("latin-1")).decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise InvalidName("name not valid UTF-8") from None


def error_body(code: str, message: str) -> bytes:
    """The contract's error body: `{"error": code, "message": text}`."""
    return json.dumps({"error": code, "message": message}, ensure_ascii=False).encode("utf-8")


RETRY_AFTER_S = 1


def unavailable_answer(reason: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The 503 of a database fault: what is wrong, when to retry, never cached."""
    body = error_body("database_unavailable", f"{reason}; retry shortly")
    headers = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Retry-After", str(RETRY_AFTER_S)),
    ]
    return 503, headers, body


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, UTF-8, spaced as the contract writes it."""
    text = json.dumps(body, ensure_ascii=False)
    return Response(text, status=status, mimetype="application/json", headers=headers)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The contract's error body: `{"error": code, "message": text}`, never cached."""
    response = json_response({"error": code, "message": message}, status, headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def etag_of(body: bytes) -> str:
    """A strong entity tag: a short hash of the answer's bytes."""
    return '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of `If-None-Match` against our tag (`*` matches anything)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


class RequestObserver:
    """WSGI wrapper: gives each request an id (echoed or new) and counts its answer."""

    def __init__(self, app: WsgiApp, metrics: ApiMetrics) -> None:
        self._app = app
        self._metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sent = environ.get("HTTP_X_REQUEST_ID")
        request_id = sent if sent and _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        reset = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = ["500"]

        def observed_start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code[:3]
            headers.append(("X-Request-ID", request_id))
            return start_response(code, headers, exc_info)

        try:
            return self._app(environ, observed_start)
        finally:
            elapsed = time.perf_counter() - started
            path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
            self._metrics.observe(path, method, status[0], elapsed)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s %s %.1f ms", method, path[:100], status[0], elapsed * 1000)
            REQUEST_ID.reset(reset)
