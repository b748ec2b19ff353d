"""The HTTP API: a Flask app factory, its routes and JSON error handling."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from ums_find.domain import InvalidName, Name
from ums_find.events import format_since
from ums_find.settings import Settings
from ums_find.store import DatabaseUnavailable, UserReader

log = logging.getLogger(__name__)
bp = Blueprint("users", __name__)
USER_PREFIX = "/user/"


class AnyTextConverter(BaseConverter):
    """Matches the rest of the path, empty, slashes and all: names may contain `/`."""

    regex = ".*"
    part_isolating = False


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer, UTF-8, spaced as the contract writes it."""
    text = json.dumps(body, ensure_ascii=False)
    return Response(text, status=status, mimetype="application/json")


def error_response(status: int, code: str, message: str) -> Response:
    """The contract's error body: `{"error": code, "message": text}`."""
    return json_response({"error": code, "message": message}, status)


def requested_name() -> str:
    """The name as the client encoded it, from the raw URI so that `%2F` stays in the name."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if raw is None:
        return str(request.view_args.get("name", "")) if request.view_args else ""
    path = urlsplit(raw).path if "://" in raw.split("?", 1)[0] else raw.split("?", 1)[0]
    encoded = path[path.find(USER_PREFIX) + len(USER_PREFIX) :]
    try:
        return unquote_to_bytes(encoded.encode("latin-1")).decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise InvalidName("name not valid UTF-8") from None


def reader() -> UserReader:
    """The app's reader of the view."""
    return current_app.extensions["ums_reader"]  # type: ignore[no-any-return]


@bp.get("/user/<anytext:name>")
def get_user(name: str) -> Response:
    """Look one user up by name."""
    wanted = Name(requested_name())
    found = reader().fetch(wanted.value)
    if found is None:
        return error_response(404, "not_found", f"no user named {wanted.value!r}")
    return json_response({"name": found.name, "phone": found.phone, "since": format_since(found.since)})


@bp.get("/healthz")
def healthz() -> Response:
    """Alive while the process runs."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the database answers."""
    reader().ping()
    return json_response({"status": "ready"})


def handle_invalid_name(exc: InvalidName) -> Response:
    return error_response(400, "invalid_name", str(exc))


def handle_unavailable(exc: DatabaseUnavailable) -> Response:
    log.warning("database unavailable: %s", exc)
    response = error_response(503, "database_unavailable", "the database is not reachable; retry shortly")
    response.headers["Retry-After"] = "1"
    return response


def handle_http(exc: HTTPException) -> Response:
    response = Response(status=exc.code or 500, headers=exc.get_headers())
    code = (exc.name or "error").lower().replace(" ", "_")
    body = json.dumps({"error": code, "message": exc.description or exc.name}, ensure_ascii=False)
    response.set_data(body)
    response.mimetype = "application/json"
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response(500, "internal_error", "an unexpected error occurred")


def create_app(settings: Settings | None = None, user_reader: UserReader | None = None) -> Flask:
    """Build the API; `user_reader` lets tests bring their own store."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.url_map.converters["anytext"] = AnyTextConverter
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.extensions["ums_reader"] = user_reader or UserReader(settings)
    app.register_blueprint(bp)
    app.register_error_handler(InvalidName, handle_invalid_name)
    app.register_error_handler(DatabaseUnavailable, handle_unavailable)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
    return app
