from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from tests.unit.fakes import FakeReader
from ums_find.http.app import create_app
from ums_find.http.partitions import PartitionMap
from ums_find.settings import Settings


def fixed_partitions(count: int | None) -> PartitionMap:
    partitions = PartitionMap(lambda: count, 60)
    partitions.refresh()
    return partitions


SINCE = datetime(2022, 3, 1, 10, tzinfo=UTC)
ROWS = {
    "KrishnaMohan": (9876543210, SINCE),
    "Krishna/Mohan": (9876543211, SINCE.replace(microsecond=123000)),
    "Ünïcødé Ñame": (9876543221, SINCE),
}


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader(ROWS)


@pytest.fixture
def client(reader: FakeReader) -> FlaskClient:
    return create_app(Settings.from_env({}), reader, fixed_partitions(3)).test_client()  # type: ignore[arg-type]


def test_found_user_is_exactly_the_contract_body(client: FlaskClient) -> None:
    response = client.get("/user/KrishnaMohan")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data(as_text=True) == (
        '{"name": "KrishnaMohan", "phone": 9876543210, "since": "2022-03-01T10:00:00Z"}'
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/user/%20%20KrishnaMohan", "KrishnaMohan"),
        ("/user/krishnamohan", "KrishnaMohan"),
        ("/user/Krishna%2FMohan", "Krishna/Mohan"),
        ("/user/%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20%C3%91ame", "Ünïcødé Ñame"),
    ],
)
def test_names_are_decoded_then_stripped(client: FlaskClient, path: str, name: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.get_json()["name"] == name


def test_fraction_of_a_second_is_shown_only_as_far_as_needed(client: FlaskClient) -> None:
    assert client.get("/user/Krishna%2FMohan").get_json()["since"] == "2022-03-01T10:00:00.123Z"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/user/%20%20Abcdefg%20%20", "name too short"),
        ("/user/", "name too short"),
        ("/user/" + "B" * 33, "name too long"),
        ("/user/%FF%FEabcdefgh", "name not valid UTF-8"),
    ],
)
def test_invalid_names_are_400_before_any_lookup(
    client: FlaskClient, reader: FakeReader, path: str, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_name", "message": message}
    assert reader.asked == []


def test_unknown_user_and_unknown_path_are_json_404(client: FlaskClient) -> None:
    for path in ("/user/Nobody000", "/nothing/here"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/json"
        assert response.get_json()["error"] == "not_found"


def test_other_methods_are_json_405_and_head_has_no_body(client: FlaskClient) -> None:
    response = client.delete("/user/KrishnaMohan")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert json.loads(response.data)["error"] == "method_not_allowed"
    head = client.head("/user/KrishnaMohan")
    assert head.status_code == 200 and head.data == b""


def test_database_down_is_503_with_retry_after(client: FlaskClient, reader: FakeReader) -> None:
    reader.down = True
    response = client.get("/user/KrishnaMohan")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"] == "database_unavailable"
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_a_token_for_a_partition_the_topic_lacks_is_400_at_once(client: FlaskClient) -> None:
    response = client.get("/user/KrishnaMohan?after=3:0")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_position"
    assert "partition 3 does not exist" in response.get_json()["message"]
    assert client.get("/user/KrishnaMohan?after=01:0").status_code == 400


def test_while_the_partition_count_is_unknown_any_token_is_taken(reader: FakeReader) -> None:
    settings = Settings.from_env({"UMS_AFTER_WAIT_S": "0"})
    client = create_app(settings, reader, fixed_partitions(None)).test_client()  # type: ignore[arg-type]
    response = client.get("/user/KrishnaMohan?after=7:0")
    assert response.status_code == 200 and response.headers["X-View-Stale"] == "true"


def test_the_served_document_lists_the_partitions_once_known(client: FlaskClient) -> None:
    import re

    document = client.get("/openapi.json").get_json()
    (after,) = [p for p in document["paths"]["/user/{name}"]["get"]["parameters"] if p["name"] == "after"]
    pattern = re.compile(after["schema"]["pattern"])
    assert [t for t in ("0:5", "1:0", "2:99", "3:0", "01:0", "10:1") if pattern.search(t)] == [
        "0:5",
        "1:0",
        "2:99",
    ]


@pytest.mark.parametrize(
    "name",
    ["KrishnaMohan", "  KrishnaMohan\t", "Abcdefg", " Abcdefg ", "a" * 32, "a" * 33, "\u3000" * 9,
     "ab \n\u2003cdefgh", "\x85abcdefgh\x85", "x" + "\u2000" * 6 + "y", "%41bcdefgh"],
)  # fmt: skip
def test_the_name_pattern_says_what_the_server_accepts(client: FlaskClient, name: str) -> None:
    import re
    import urllib.parse

    document = client.get("/openapi.json").get_json()
    (param,) = [p for p in document["paths"]["/user/{name}"]["get"]["parameters"] if p["name"] == "name"]
    valid = (
        re.search(param["schema"]["pattern"], name) is not None and len(name) >= param["schema"]["minLength"]
    )
    status = client.get("/user/" + urllib.parse.quote(name, safe="")).status_code
    assert valid == (status != 400), status
