"""Decoding the next batch in a thread of its own while the loop writes the current one."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from consumers.batch import Decoded, Parser, decode
from ums_find.kafka import Message

# A thread whose MySQL call returns waits for the interpreter lock as long as the switch
# interval (5 ms by default) while the other decodes, and a batch makes eight round trips:
# measured, that wait cost a fifth of the ingest rate. Half a millisecond hands it over sooner.
SWITCH_INTERVAL_S = 0.0005


def hand_over_briskly() -> None:
    """Make this process's threads take turns on the interpreter lock every half millisecond."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class ReadAhead:
    """Cuts what one poll brought into batches, decoding each next one while the last is written.

    Decoding is pure, so doing it early changes nothing the loop decides: every batch is still
    planned against the positions of the moment it is written. The decoding thread's Python
    runs while the loop thread waits for MySQL, which the connector does without the
    interpreter lock.
    """

    def __init__(self, parser: Parser, batch_size: int) -> None:
        self._parser, self._size = parser, batch_size
        self._pool: ThreadPoolExecutor | None = None

    def batches(self, messages: Sequence[Message]) -> Iterator[list[Decoded]]:
        """The batches of `messages` in order, decoded; one batch is decoded in the caller's thread."""
        size = self._size
        if len(messages) <= size:
            yield decode(messages, self._parser)
            return
        chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
        ahead = self._submit(chunks[0])
        for chunk in chunks[1:]:
            current = ahead.result()
            ahead = self._submit(chunk)
            yield current
        yield ahead.result()

    def close(self) -> None:
        """Stop the thread (a batch it is decoding is dropped with it)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _submit(self, chunk: Sequence[Message]) -> Future[list[Decoded]]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="decode")
        return self._pool.submit(decode, chunk, self._parser)
