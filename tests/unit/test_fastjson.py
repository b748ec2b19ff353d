"""The C decoder's shortcut gives what the exact decoder gives, or steps aside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.samples import load_samples, raw
from ums_find import events
from ums_find.events import UserAdded, _object, parse
from ums_find.fastjson import fields
from ums_find.numbers import Number

BASE = b'{"name":"abcdefgh","phone":9123456789'
# Forms the exact decoder refuses (or reads its own way): the shortcut must not read them.
REFUSED = [
    b",}",
    b',"x":01}',
    b',"x":1.}',
    b',"x":.5}',
    b',"x":+1}',
    b',"x":1e}',
    b',"x":-}',
    b',"x":NaN}',
    b',"x":Infinity}',
    b',"x":-Infinity}',
    b',"x":"\\x"}',
    b',"x":tru}',
    b',"x":[1,]}',
    b"}\x00",
    b"}\x0c",
    b',"x":"\x01"}',
    b',"x":"\xff"}',
    b',"x":"\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
    b"} x",
]
SINCE_FORMS = [
    b"1646128800.123456789",
    b"-1.5e3",
    b"1646128800123",
    b'"2022-03-01T10:00:00Z"',
    b'"2022-03-01T10:00:00.1234567+05:30"',
    b"null",
    b"[2022, 3, 1, 10, 0]",
    b'"\\u0032022-03-01T10:00Z"',
    b"true",
    b"{}",
    b"1" * 5000,
    b"0." + b"0" * 5000 + b"1",
]
PHONE_FORMS = [b"9123456789", b'"09123456789"', b"9123456789.0", b"9.1e9", b"-0", b"null", b"true"]
PHONE_FORMS += [b'"91234\\u00356789"', b"[9123456789]", b"9" * 5000]


def comparable(value: Any) -> Any:
    return ("number", value.text) if isinstance(value, Number) else value


def exact_fields(value: bytes) -> dict[str, Any] | None:
    try:
        doc = _object(value)
    except ValueError:
        return None
    return {k: comparable(doc.get(k)) for k in ("name", "phone", "since")}


def assert_same(value: bytes) -> None:
    """When the shortcut reads a record, its fields are the exact decoder's, and so is parse's answer."""
    fast = fields(value)
    if fast is not None:
        assert {k: comparable(v) for k, v in fast.items()} == exact_fields(value)


@pytest.mark.parametrize("tail", REFUSED)
def test_refused_forms_are_left_to_the_exact_decoder(tail: bytes) -> None:
    assert fields(BASE + tail) is None


@pytest.mark.parametrize("since", SINCE_FORMS)
@pytest.mark.parametrize("phone", PHONE_FORMS)
def test_every_form_of_phone_and_since(phone: bytes, since: bytes) -> None:
    assert_same(b'{"name":"abcdefgh","phone":' + phone + b',"since":' + since + b"}")


def test_plain_record_is_read() -> None:
    value = b'{"name":"abcdefgh","phone":9123456789,"since":1646128800.123,"x":[{"y":1e999}]}'
    found = fields(value)
    assert found is not None and found["phone"] == 9123456789
    assert isinstance(found["since"], Number) and found["since"].text == "1646128800.123"
    assert_same(value)


def test_later_duplicates_win_as_in_json() -> None:
    value = b'{"name":"firstname1","phone":9123456789,"na\\u006de":"secondname"}'
    found = fields(value)
    assert found is not None and found["name"] == "secondname"


def test_deep_nesting_is_no_error() -> None:
    assert fields(BASE + b',"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}") is None


def test_samples_parse_as_before() -> None:
    for sample in load_samples():
        if sample["value"] is not None:
            assert_same(sample["value"].encode("utf-8"))


def outcome(event: Any) -> Any:
    if isinstance(event, UserAdded):
        return event.user.name.value, event.user.phone.value, event.user.since
    return event


def test_parse_answers_as_the_exact_path_on_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [raw(sample) for sample in load_samples()]
    fast = [outcome(parse(*record)) for record in records]
    monkeypatch.setattr(events, "fields", lambda _value: None)
    assert fast == [outcome(parse(*record)) for record in records]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=JSON_VALUES | st.text(min_size=8, max_size=40),
    phone=JSON_VALUES | st.integers(9 * 10**9, 10**15),
    since=JSON_VALUES,
    extra=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3),
)
def test_any_document(name: Any, phone: Any, since: Any, extra: dict[str, Any]) -> None:
    doc = {**extra, "name": name, "phone": phone, "since": since}
    assert_same(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
