"""The consumer against the real Kafka and MariaDB."""

from __future__ import annotations

from typing import Any

import pytest

from tests.samples import expected_name, load_samples, raw
from tests.support.consumer import consumer_thread, next_offsets, wait_for_offsets
from tests.support.kafka import produce, read_all
from tests.support.mysql import view_rows
from ums_find.events import format_since
from ums_find.settings import Settings

SAMPLES = load_samples()


def final_view(samples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the view holds after all samples, by name (the samples' names differ in more than case)."""
    model: dict[str, dict[str, Any]] = {}
    for sample in samples:
        expect = sample["expect"]
        if "view" in expect:
            model.pop(expected_name(sample), None)
            if expect["view"] is not None:
                model[expected_name(sample)] = expect["view"]
    return model


@pytest.mark.keep_forever
@pytest.mark.parametrize("decode_workers", [0, 1], ids=["decoded-in-a-thread", "decoded-in-a-process"])
def test_all_samples_in_one_stream_give_the_final_view_and_dead_letters(
    stack: Settings, decode_workers: int
) -> None:
    stack = stack.override(decode_workers=decode_workers)
    delivered = produce(stack, [raw(s) for s in SAMPLES], headers=[("__TypeId__", b"com.glarimy.User")])
    with consumer_thread(stack):
        wait_for_offsets(stack, next_offsets(delivered))
    rows = view_rows(stack)
    got = {n: {"name": n, "phone": p, "since": format_since(s)} for n, (p, s) in rows.items()}
    assert got == final_view(SAMPLES)

    poison = [(s, m) for s, m in zip(SAMPLES, delivered, strict=True) if "dlq" in s["expect"]]
    letters = read_all(stack, stack.kafka.dlq_topic, len(poison))
    by_origin = {
        (dict(m.headers())["ums.original.partition"], dict(m.headers())["ums.original.offset"]): m
        for m in letters
    }
    assert len(letters) == len(poison)
    for sample, original in poison:
        letter = by_origin[(str(original.partition()).encode(), str(original.offset()).encode())]
        headers = dict(letter.headers())
        assert headers["ums.error"].decode() == sample["expect"]["dlq"]
        assert headers["ums.original.topic"].decode() == stack.kafka.topic
        assert headers["__TypeId__"] == b"com.glarimy.User"
        assert letter.key() == original.key() and letter.value() == original.value()
        assert letter.timestamp()[1] == original.timestamp()[1]


def test_a_restart_resumes_from_the_checkpoint_without_reapplying(stack: Settings) -> None:
    first = produce(stack, [(b"KrishnaMohan", b'{"name": "KrishnaMohan", "phone": 9876543210}', None)])
    with consumer_thread(stack):
        wait_for_offsets(stack, next_offsets(first))
    # Changed behind the consumer's back: a re-applied first record would restore 9876543210.
    from tests.support.mysql import query

    query(stack, "UPDATE ums_users SET phone = 9000000001")
    second = produce(stack, [(b"Someone0001", b'{"name": "Someone0001", "phone": 9000000002}', None)])
    with consumer_thread(stack):
        wait_for_offsets(stack, next_offsets(second))
    assert {n: p for n, (p, _) in view_rows(stack).items()} == {
        "KrishnaMohan": 9000000001,
        "Someone0001": 9000000002,
    }
