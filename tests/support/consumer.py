"""Run the real consumer in a thread of the test, and wait on its checkpoints."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from consumers.run import run_projection
from tests.support.harness import wait_until
from tests.support.mysql import checkpoints
from ums_find.settings import Settings


@contextmanager
def consumer_thread(settings: Settings) -> Iterator[threading.Thread]:
    """The live consumer, stopped (and joined) when the block ends."""
    settings = settings.override(consumer_http_port=0)
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(run_projection(settings, stop)), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "the consumer did not stop"
    assert codes == [0], f"the consumer exited with {codes}"


def wait_for_offsets(settings: Settings, wanted: dict[int, int], timeout_s: float = 60.0) -> None:
    """Wait until each partition's checkpoint reaches the wanted next offset."""

    def reached() -> bool:
        stored = checkpoints(settings)
        return all(stored.get(p, 0) >= o for p, o in wanted.items())

    wait_until(reached, timeout_s, f"checkpoints {wanted}")


def next_offsets(messages: list) -> dict[int, int]:  # type: ignore[type-arg]
    """The next offset after the last of these delivered records, per partition."""
    result: dict[int, int] = {}
    for msg in messages:
        result[msg.partition()] = max(result.get(msg.partition(), 0), msg.offset() + 1)
    return result
