"""The HTTP API: a Flask app factory, its routes and JSON error handling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from json.encoder import encode_basestring

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from ums_find.domain import Name
from ums_find.events import format_since
from ums_find.http.errors import register_error_handlers
from ums_find.http.fastpath import JSON, FastLookups
from ums_find.http.metrics import ApiMetrics
from ums_find.http.openapi import OpenApiDocument
from ums_find.http.partitions import PartitionMap, kafka_partition_count
from ums_find.http.positions import InvalidToken, PositionWatch, Token
from ums_find.http.web import (
    AnyTextConverter,
    RequestObserver,
    error_body,
    error_response,
    etag_matches,
    etag_of,
    json_response,
    requested_name,
)
from ums_find.settings import Settings
from ums_find.store import Scope, UserReader
from ums_find.store.replicas import ReplicaReader, api_reader

log = logging.getLogger(__name__)
bp = Blueprint("users", __name__)


@dataclass(frozen=True)
class Lookups:
    """What the lookup route needs, built once per app."""

    settings: Settings
    reader: UserReader | ReplicaReader
    watch: PositionWatch
    partitions: PartitionMap
    metrics: ApiMetrics
    openapi: OpenApiDocument


def lookups() -> Lookups:
    """The app's lookup machinery."""
    return current_app.extensions["ums_lookups"]  # type: ignore[no-any-return]


@bp.get("/user/<anytext:name>", provide_automatic_options=False)
def get_user(**_route: str) -> Response:
    """Look one user up by name; with `?after=<partition>:<offset>`, first wait for that record.

    The name comes from the raw URI, not from Flask's decoded route variable, so `%2F` stays in it.
    """
    wanted = Name(requested_name())
    after = request.args.get("after")
    token = Token.parse(after) if after is not None else None
    ctx = lookups()
    if token is not None:
        check_partition(ctx, token)
    found = lookup(ctx, wanted, token, request.headers.get("If-None-Match"))
    return Response(found.body, status=found.status, headers=found.headers)


def check_partition(ctx: Lookups, token: Token) -> None:
    """Refuse at once a token whose partition the topic lacks (a wait for it could only time out).

    While the partition count is unknown (the broker has not answered yet) every token is taken.
    """
    if ctx.partitions.has(token.partition) is False and token.partition not in (ctx.watch.current() or {}):
        raise InvalidToken(
            f"partition {token.partition} does not exist: the topic has {ctx.partitions.count} partitions"
        )


@dataclass(frozen=True)
class Answer:
    """A lookup's answer, ready for any WSGI layer to send."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def lookup(ctx: Lookups, wanted: Name, token: Token | None, if_none_match: str | None) -> Answer:
    """Read the user (after the token's record, when given) and answer as the contract says."""
    # The snapshot is taken before the row is read: a position it shows is in the answer.
    positions = ctx.watch.current()
    if token is not None and not token.applied(positions or {}):
        # Waiting holds this waitress thread but no database connection: one poller reads for all.
        ctx.watch.wait_for(token, ctx.settings.http.after_wait_s, ctx.settings.http.after_cap)
        positions = ctx.watch.current()
    user = ctx.reader.fetch(wanted.value)
    headers = view_headers(ctx, user.name if user else wanted.value, positions, token)
    if user is None:
        missing = error_body("not_found", f"no user named {wanted.value!r}")
        return Answer(404, [*headers, JSON, ("Cache-Control", "no-store")], missing)
    data = found_body(user.name, user.phone, format_since(user.since))
    etag = etag_of(data)
    age = ctx.settings.http.cache_max_age_s
    headers += [("ETag", etag), ("Cache-Control", f"max-age={age}" if age else "no-cache")]
    if etag_matches(if_none_match, etag):
        return Answer(304, headers, b"")
    return Answer(200, [*headers, JSON], data)


def found_body(name: str, phone: int, since: str) -> bytes:
    """The found answer's body, spaced as `json.dumps` writes it, built without its encoder's overhead."""
    # encode_basestring is what json.dumps(..., ensure_ascii=False) quotes strings with.
    return f'{{"name": {encode_basestring(name)}, "phone": {int(phone)}, "since": "{since}"}}'.encode()


def view_headers(
    ctx: Lookups, name: str, positions: dict[int, int] | None, token: Token | None
) -> list[tuple[str, str]]:
    """How far the view has read the name's partition, and whether the token's record is in it."""
    headers: list[tuple[str, str]] = []
    partition = ctx.partitions.partition_of(name)
    if partition is not None and positions is not None:
        headers.append(("X-View-Position", f"{partition}:{positions.get(partition, 0)}"))
    if token is not None:
        stale = not token.applied(positions or {})
        headers.append(("X-View-Stale", "true" if stale else "false"))
        if stale:
            ctx.metrics.stale.inc()
    return headers


@bp.get("/healthz", provide_automatic_options=False)
def healthz() -> Response:
    """Alive while the process runs."""
    return json_response({"status": "ok"})


@bp.get("/readyz", provide_automatic_options=False)
def readyz() -> Response:
    """Ready when the database answers, and Kafka has not refused the API's password or certificate."""
    ctx = lookups()
    ctx.reader.ping()
    if ctx.partitions.refused is not None:
        # The reason stays in the log: this answer may reach the public.
        return error_response(503, "kafka_refused", "Kafka refused the API's credentials (see the log)")
    return json_response({"status": "ready"})


@bp.get("/metrics", provide_automatic_options=False)
def metrics() -> Response:
    """Prometheus text format."""
    return Response(lookups().metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@bp.get("/openapi.json", provide_automatic_options=False)
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    ctx = lookups()
    return Response(ctx.openapi.render(ctx.partitions.count), mimetype="application/json")


def create_app(
    settings: Settings | None = None,
    user_reader: UserReader | ReplicaReader | None = None,
    partitions: PartitionMap | None = None,
) -> Flask:
    """Build the API; tests may bring their own reader and partition map."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.url_map.converters["anytext"] = AnyTextConverter
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    metrics = ApiMetrics()
    reader = user_reader or api_reader(
        settings.mysql,
        Scope(settings.consumer.name, settings.kafka.topic),
        settings.http.db_timeout_s,
        in_use=metrics.db_in_use,
        on_read=metrics.read_by,
    )
    watch = PositionWatch(reader.positions, settings.http.positions_refresh_s, settings.http.after_poll_s)
    if isinstance(reader, ReplicaReader):
        reader.wanted = watch.wanted  # `?after=` waits move the process to a server that has them
    if partitions is None:
        partitions = PartitionMap(
            kafka_partition_count(settings.kafka), settings.http.partitions_refresh_s
        ).start()
    document = OpenApiDocument(resources.files("ums_find.http").joinpath("openapi.json").read_bytes())
    app.extensions["ums_lookups"] = Lookups(settings, reader, watch, partitions, metrics, document)
    metrics.watch(_live_gauges(settings, reader, watch))
    app.register_blueprint(bp)
    register_error_handlers(app)
    fast = FastLookups(app.wsgi_app, app.extensions["ums_lookups"], lookup)
    app.wsgi_app = RequestObserver(fast, metrics)  # type: ignore[method-assign]
    return app


def _live_gauges(
    settings: Settings, reader: UserReader | ReplicaReader, watch: PositionWatch
) -> dict[str, tuple[str, Callable[[], float]]]:
    return {
        "ums_find_db_connections_open": (
            "Database connections the API keeps open (one per serving thread that has used one).",
            lambda: float(getattr(reader, "open_connections", 0)),
        ),
        "ums_find_http_threads": ("Waitress threads serving requests.", lambda: float(settings.http.threads)),
        "ums_find_after_waiting": ("Requests waiting for ?after= now.", lambda: float(watch.waiting)),
        "ums_find_positions_age_seconds": (
            "Seconds since the checkpoints snapshot (X-View-Position) was read; NaN before the first read.",
            lambda: watch.age_s,
        ),
    }
