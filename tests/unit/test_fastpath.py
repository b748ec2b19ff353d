"""The fast path for plain lookups answers exactly as the Flask route, without Flask's dispatch."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.unit.fakes import FakeReader
from tests.unit.test_api import ROWS, fixed_partitions
from ums_find.http.app import create_app
from ums_find.settings import Settings


@pytest.fixture
def app() -> Flask:
    app = create_app(Settings.from_env({}), FakeReader(ROWS), fixed_partitions(3))  # type: ignore[arg-type]
    app.config["dispatched"] = 0

    @app.before_request
    def count() -> None:
        app.config["dispatched"] += 1

    return app


def comparable(response) -> tuple[int, bytes, dict[str, str]]:  # type: ignore[no-untyped-def]
    headers = {k: v for k, v in response.headers.items() if k != "X-Request-ID"}
    return response.status_code, response.data, headers


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/user/KrishnaMohan", {}),
        ("/user/%20krishnamohan", {}),
        ("/user/Nobody0000", {}),
        ("/user/Krishna%2FMohan", {"If-None-Match": "*"}),
    ],
)
def test_plain_lookups_skip_flask_and_answer_as_the_route_does(app: Flask, path: str, headers: dict) -> None:  # type: ignore[type-arg]
    client = app.test_client()
    fast = client.get(path, headers=headers)
    assert app.config["dispatched"] == 0
    routed = client.get(path + "?unused=1", headers=headers)
    assert app.config["dispatched"] == 1
    assert comparable(fast) == comparable(routed)
    assert fast.headers["X-Request-ID"]


def test_head_has_the_get_headers_and_no_body(app: Flask) -> None:
    client = app.test_client()
    head, get = client.head("/user/KrishnaMohan"), client.get("/user/KrishnaMohan")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == str(len(get.data))
    assert app.config["dispatched"] == 0


@pytest.mark.parametrize("path", ["/user/Short", "/user/%ZZabcdefgh", "/healthz"])
def test_everything_else_goes_through_flask(app: Flask, path: str) -> None:
    app.test_client().get(path)
    assert app.config["dispatched"] == 1


def test_an_outage_is_answered_by_the_fast_path_after_one_attempt() -> None:
    reader = FakeReader(ROWS, down=True)
    calls: list[str] = []
    fetch = reader.fetch
    reader.fetch = lambda name: calls.append(name) or fetch(name)  # type: ignore[method-assign]
    app = create_app(Settings.from_env({}), reader, fixed_partitions(3))  # type: ignore[arg-type]
    dispatched: list[int] = []
    app.before_request(lambda: dispatched.append(1) and None)
    response = app.test_client().get("/user/KrishnaMohan")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == "database_unavailable"
    assert calls == ["KrishnaMohan"] and dispatched == []
