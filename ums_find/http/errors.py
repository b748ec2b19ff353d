"""Every error answer is JSON: domain errors, HTTP errors and the unexpected, mapped at the edge."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from ums_find.domain import InvalidName
from ums_find.http.positions import InvalidToken
from ums_find.http.web import error_response, unavailable_answer
from ums_find.store import DatabaseUnavailable

log = logging.getLogger(__name__)


def handle_invalid_name(exc: InvalidName) -> Response:
    return error_response(400, "invalid_name", str(exc))


def handle_invalid_token(exc: InvalidToken) -> Response:
    return error_response(400, "invalid_position", str(exc))


def handle_unavailable(exc: DatabaseUnavailable) -> Response:
    # The reader logs the start and the end of an outage; a line per request would flood the log.
    log.debug("database unavailable: %s", exc)
    status, headers, body = unavailable_answer(exc.reason)
    return Response(body, status=status, headers=headers)


def handle_http(exc: HTTPException) -> Response:
    response = Response(status=exc.code or 500, headers=exc.get_headers())
    code = (exc.name or "error").lower().replace(" ", "_")
    body = json.dumps({"error": code, "message": exc.description or exc.name}, ensure_ascii=False)
    response.set_data(body)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response(500, "internal_error", "an unexpected error occurred")


def register_error_handlers(app: Flask) -> None:
    """Map our exceptions and every HTTP error to JSON answers."""
    app.register_error_handler(InvalidName, handle_invalid_name)
    app.register_error_handler(InvalidToken, handle_invalid_token)
    app.register_error_handler(DatabaseUnavailable, handle_unavailable)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
