"""`parse` is total: whatever the record, an event or a poison reason, never an exception."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ums_find.events import EPOCH, Poison, UserAdded, UserErased, parse
from ums_find.numbers import Number, floor_scaled

INT64 = st.integers(-(2**63), 2**63 - 1)
# No deadline: the machine is shared and noisy; speed is measured in bench/, not asserted.
TOTAL = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def assert_total(key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
    event = parse(key, value, timestamp_ms)
    assert isinstance(event, UserAdded | UserErased | Poison)
    if isinstance(event, Poison):
        assert event.reason and event.reason.isprintable()


@TOTAL
@given(key=st.none() | st.binary(), value=st.none() | st.binary(), timestamp_ms=INT64)
def test_any_bytes(key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
    assert_total(key, value, timestamp_ms)


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
JSON = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30
)


@TOTAL
@given(doc=JSON, timestamp_ms=INT64)
def test_any_json(doc: Any, timestamp_ms: int) -> None:
    assert_total(b"Someone01", json.dumps(doc).encode(), timestamp_ms)


def _literal(sign: str, whole: str, fraction: str, exponent: str) -> str:
    whole = whole.lstrip("0") or "0"  # JSON allows no leading zeros
    return sign + whole + (f".{fraction}" if fraction else "") + (f"e{exponent}" if exponent else "")


SHORT = st.text("0123456789", min_size=1, max_size=30)
# Thousands of digits, cheaply: a short random run repeated (generating each digit is slow).
LONG = st.builds(lambda run, n: (run * n)[: n * 3], SHORT, st.integers(400, 2500))
DIGITS = SHORT | LONG
EXPONENTS = st.just("") | st.integers(-(10**12), 10**12).map(str) | LONG | LONG.map("-".__add__)
# Every form a JSON number takes, extreme ones weighted in, plus the non-JSON tokens.
NUMBERS = (
    st.builds(_literal, st.sampled_from(["", "-"]), DIGITS, st.just("") | DIGITS, EXPONENTS)
    | st.sampled_from(["-0", "-0.0", "0e0", "-0E-0", "NaN", "Infinity", "-Infinity", "1E+400", "1e-400"])
    | INT64.map(str)
    | st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f"))
)
SINCE = (
    NUMBERS
    | NUMBERS.map(lambda n: f'"{n}"')
    | st.lists(NUMBERS, min_size=0, max_size=8).map(lambda ns: "[" + ", ".join(ns) + "]")
    | st.just("null")
)


def record(phone: str, since: str, extra: str) -> bytes:
    return f'{{"name": "Someone01", "phone": {phone}, "since": {since}, "version": {extra}}}'.encode()


@TOTAL
@given(phone=NUMBERS | NUMBERS.map(lambda n: f'"{n}"'), extra=NUMBERS, timestamp_ms=INT64)
def test_json_of_extreme_phones(phone: str, extra: str, timestamp_ms: int) -> None:
    assert_total(b"Someone01", record(phone, "null", extra), timestamp_ms)


@TOTAL
@given(since=SINCE, extra=NUMBERS, timestamp_ms=INT64)
def test_json_of_extreme_since(since: str, extra: str, timestamp_ms: int) -> None:
    # A valid phone, so that the since is read at all.
    assert_total(b"Someone01", record("9000000000", since, extra), timestamp_ms)


@TOTAL
@given(timestamp_ms=INT64)
def test_any_timestamp_without_since(timestamp_ms: int) -> None:
    event = parse(b"Someone01", b'{"name": "Someone01", "phone": 9000000000}', timestamp_ms)
    in_range = -30_610_224_000_000 <= timestamp_ms <= 253_402_300_799_999
    assert isinstance(event, UserAdded) == in_range
    if not in_range:
        assert event == Poison("since out of range")


@TOTAL
@given(
    sign=st.sampled_from(["", "-"]),
    whole=st.text("0123456789", min_size=1, max_size=25),
    fraction=st.text("0123456789", max_size=40),
    exponent=st.just("") | st.integers(-60, 60).map(str),
    scale=st.integers(0, 9),
)
def test_floor_scaled_is_exact(sign: str, whole: str, fraction: str, exponent: str, scale: int) -> None:
    text = _literal(sign, whole, fraction, exponent)
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 500, 10**6, -(10**6)
        exact = (Decimal(text) * Decimal(10) ** scale).to_integral_value(rounding=ROUND_FLOOR)
    got = floor_scaled(Number(text), scale)
    if abs(exact) < 10**20:
        assert got == int(exact)
    else:
        assert got == (10**20 if exact > 0 else -(10**20))


@TOTAL
@given(
    seconds=st.integers(-30_610_223_999, 253_402_300_798),
    nanos=st.text("0123456789", min_size=1, max_size=9),
)
def test_instant_seconds_round_down_to_the_microsecond(seconds: int, nanos: str) -> None:
    text = f'{{"name": "Someone01", "phone": 9000000000, "since": {seconds}.{nanos}}}'
    event = parse(b"Someone01", text.encode(), 0)
    assert isinstance(event, UserAdded)
    value = Decimal(f"{seconds}.{nanos}")
    micros = int((value * 1_000_000).to_integral_value(rounding=ROUND_FLOOR))
    assert (event.user.since - EPOCH) // timedelta(microseconds=1) == micros
