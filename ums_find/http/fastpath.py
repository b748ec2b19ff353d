"""The hot request, `GET /user/<name>`, answered without Flask's routing and request objects.

Flask's dispatch costs about as much CPU as the lookup's database round trip, and
lookups are nearly all this service does. Everything else (other routes, `?after=`,
invalid names, faults) falls through to the Flask app, which answers the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ums_find.domain import DomainError, Name
from ums_find.http.web import error_body, name_from_uri, unavailable_answer
from ums_find.store import DatabaseUnavailable

log = logging.getLogger(__name__)
JSON = ("Content-Type", "application/json")
_REASONS = {200: "200 OK", 304: "304 Not Modified", 404: "404 Not Found", 500: "500 Internal Server Error"}
_REASONS[503] = "503 Service Unavailable"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastLookups:
    """WSGI layer: plain lookups here, the rest to the full app."""

    def __init__(self, app: WsgiApp, ctx: Any, lookup: Callable[..., Any]) -> None:
        self._app = app
        self._ctx = ctx
        self._lookup = lookup

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self._app(environ, start_response)
        if not environ.get("PATH_INFO", "").startswith("/user/"):
            return self._app(environ, start_response)
        raw = _name(environ)
        if raw is None:
            return self._app(environ, start_response)
        try:
            wanted = Name(raw)
        except DomainError:
            return self._app(environ, start_response)  # its error handler says why (no database work)
        # Past this point the database was asked: a fault is answered here, never tried again.
        try:
            answer = self._lookup(self._ctx, wanted, None, environ.get("HTTP_IF_NONE_MATCH"))
        except DatabaseUnavailable as exc:
            return _send(start_response, method, *unavailable_answer(exc.reason))
        except Exception:  # a bug: the contract's 500, no trace to the client
            log.exception("unexpected error")
            body = error_body("internal_error", "an unexpected error occurred")
            return _send(start_response, method, 500, [JSON, ("Cache-Control", "no-store")], body)
        return _send(start_response, method, answer.status, answer.headers, answer.body)


def _send(
    start_response: Callable[..., Any], method: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> Iterable[bytes]:
    if status != 304:  # a 304's length would be the full answer's, so none
        headers = [*headers, ("Content-Length", str(len(body)))]
    start_response(_REASONS[status], headers)
    return [] if method == "HEAD" else [body]


def _name(environ: dict[str, Any]) -> str | None:
    try:
        return name_from_uri(environ)
    except DomainError:
        return None
