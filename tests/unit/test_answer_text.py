"""The found body and `since` text, built by hand, are exactly what `json.dumps` and `strftime` give."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ums_find.events import format_since
from ums_find.http.app import found_body
from ums_find.http.partitioner import murmur2

NAMES = ["KrishnaMohan", 'quote"d\\slash', "tab\tnew\nline\x00", "Ünïcødé 名前 😀", "a/b%2Fc", "\u2028\u2029"]


@pytest.mark.parametrize("name", NAMES)
def test_found_body_is_json_dumps(name: str) -> None:
    doc = {"name": name, "phone": 9876543210, "since": "2022-03-01T10:00:00Z"}
    expected = json.dumps(doc, ensure_ascii=False).encode()
    assert found_body(name, 9876543210, "2022-03-01T10:00:00Z") == expected


@given(name=st.text(min_size=1, max_size=40), phone=st.integers(9 * 10**9, 10**15))
def test_found_body_any_name(name: str, phone: int) -> None:
    doc = {"name": name, "phone": phone, "since": "x"}
    assert found_body(name, phone, "x") == json.dumps(doc, ensure_ascii=False).encode()


def reference_since(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("." + f"{utc.microsecond:06d}".rstrip("0") if utc.microsecond else "") + "Z"


@given(
    moment=st.datetimes(datetime(1000, 1, 2), datetime(9999, 12, 30)),
    offset_min=st.integers(-23 * 60, 23 * 60),
)
def test_format_since_as_strftime(moment: datetime, offset_min: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    assert format_since(aware) == reference_since(aware)
    assert format_since(moment.replace(tzinfo=UTC)) == reference_since(moment.replace(tzinfo=UTC))


def reference_murmur2(data: bytes) -> int:
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = (int.from_bytes(data[i : i + 4], "little") * m) & mask
        k ^= k >> 24
        h = ((h * m) & mask) ^ ((k * m) & mask)
    if data[whole:]:
        h = ((h ^ int.from_bytes(data[whole:], "little")) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


@given(data=st.binary(max_size=64))
def test_murmur2_word_by_word(data: bytes) -> None:
    assert murmur2(data) == reference_murmur2(data)
