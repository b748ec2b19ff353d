"""HTTP hygiene, read-your-writes headers and metrics, on a fake store."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.unit.fakes import FakeReader
from tests.unit.test_api import ROWS, fixed_partitions
from ums_find.http.app import create_app
from ums_find.http.partitioner import partition_for
from ums_find.settings import Settings

SETTINGS = Settings.from_env({}).override(after_wait_s=0.05, after_poll_s=0.001, cache_max_age_s=5)
PARTITION = partition_for(b"KrishnaMohan", 3)


@pytest.fixture
def reader() -> FakeReader:
    fake = FakeReader(ROWS)
    fake.checkpoints = {PARTITION: 12}
    return fake


@pytest.fixture
def client(reader: FakeReader) -> FlaskClient:
    return create_app(SETTINGS, reader, fixed_partitions(3)).test_client()  # type: ignore[arg-type]


def test_found_user_carries_position_etag_and_cache_control(client: FlaskClient) -> None:
    response = client.get("/user/krishnamohan")
    assert response.headers["X-View-Position"] == f"{PARTITION}:12"
    assert response.headers["Cache-Control"] == "max-age=5"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and "X-View-Stale" not in response.headers
    again = client.get("/user/KrishnaMohan", headers={"If-None-Match": f'W/"x", {etag}'})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/user/KrishnaMohan", headers={"If-None-Match": '"other"'}).status_code == 200


def test_request_id_is_echoed_or_generated_on_every_answer(client: FlaskClient) -> None:
    assert (
        client.get("/user/KrishnaMohan", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    for path in ("/user/x", "/nowhere", "/healthz", "/metrics"):
        assert len(client.get(path).headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "bad id"}).headers["X-Request-ID"] != "bad id"


def test_after_answers_at_once_when_the_view_holds_the_record(client: FlaskClient) -> None:
    response = client.get(f"/user/KrishnaMohan?after={PARTITION}:11")
    assert response.status_code == 200 and response.headers["X-View-Stale"] == "false"


def test_after_times_out_into_a_stale_answer(client: FlaskClient, reader: FakeReader) -> None:
    response = client.get(f"/user/KrishnaMohan?after={PARTITION}:12")
    assert response.status_code == 200 and response.headers["X-View-Stale"] == "true"
    missing = client.get(f"/user/Nobody000?after={PARTITION}:99")
    assert missing.status_code == 404 and missing.headers["X-View-Stale"] == "true"
    assert "ums_find_after_timeouts_total 2.0" in client.get("/metrics").get_data(as_text=True)


@pytest.mark.parametrize("token", ["", "x", "1:-2", "1:2:3", "99999999999:1"])
def test_an_invalid_after_token_is_400_before_any_lookup(
    client: FlaskClient, reader: FakeReader, token: str
) -> None:
    response = client.get(f"/user/KrishnaMohan?after={token}")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_position"
    assert reader.asked == []


@pytest.mark.parametrize("path", ["/user/%ZZabcdefgh", "/user/abcdefgh%", "/user/abcdefgh%4"])
def test_bad_percent_encoding_is_400(client: FlaskClient, reader: FakeReader, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_name"
    assert reader.asked == []


def test_a_10000_character_name_is_400_before_any_lookup(client: FlaskClient, reader: FakeReader) -> None:
    assert client.get("/user/" + "x" * 10_000).status_code == 400 and reader.asked == []


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
def test_every_other_method_is_json_405(client: FlaskClient, method: str) -> None:
    response = client.open("/user/KrishnaMohan", method=method)
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"


def test_unexpected_errors_are_json_500_without_a_trace(client: FlaskClient, reader: FakeReader) -> None:
    def broken(name: str) -> None:
        raise RuntimeError("boom: secret detail")

    reader.fetch = broken  # type: ignore[method-assign,assignment]
    response = client.get("/user/KrishnaMohan")
    assert response.status_code == 500 and response.get_json()["error"] == "internal_error"
    assert b"boom" not in response.data and b"Traceback" not in response.data


def test_metrics_count_requests_by_route_and_status(client: FlaskClient) -> None:
    client.get("/user/KrishnaMohan")
    client.get("/user/Nobody000")
    client.get("/user/Nobody000")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'ums_find_http_requests_total{method="GET",route="/user/{name}",status="200"} 1.0' in text
    assert 'ums_find_http_requests_total{method="GET",route="/user/{name}",status="404"} 2.0' in text
    assert 'ums_find_http_request_duration_seconds_count{route="/user/{name}"} 3.0' in text
    assert "ums_find_db_connections_in_use" in text and "ums_find_http_threads 8.0" in text


def test_the_openapi_document_is_served(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1") and "/user/{name}" in document["paths"]


def test_no_position_header_while_the_partition_count_is_unknown(reader: FakeReader) -> None:
    app = create_app(SETTINGS, reader, fixed_partitions(None))  # type: ignore[arg-type]
    response = app.test_client().get("/user/KrishnaMohan")
    assert response.status_code == 200 and "X-View-Position" not in response.headers


def test_the_openapi_document_lists_exactly_the_routes_and_methods_served(reader: FakeReader) -> None:
    import json
    from importlib import resources

    document = json.loads(resources.files("ums_find.http").joinpath("openapi.json").read_text())
    app = create_app(SETTINGS, reader, fixed_partitions(3))  # type: ignore[arg-type]
    served = {
        rule.rule.replace("<anytext:name>", "{name}"): {m.lower() for m in rule.methods or ()}
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    documented = {path: set(ops) for path, ops in document["paths"].items()}
    # Flask answers HEAD on every GET route; the document spells it out where the contract does.
    assert {p: m - {"head"} for p, m in served.items()} == {p: m - {"head"} for p, m in documented.items()}
    assert all(m <= served[p] for p, m in documented.items()) and "head" in documented["/user/{name}"]
