"""Decoding the next batches while the loop writes the current one: in a thread, or in processes."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from consumers.batch import Decoded, Parser, decode, decode_raw, raw, rejoin
from ums_find.kafka import Message

log = logging.getLogger(__name__)

# A thread whose MySQL call returns waits for the interpreter lock as long as the switch
# interval (5 ms by default) while the other decodes, once per round trip: measured (eight
# round trips a batch then), that wait cost a fifth of the ingest rate. Half a millisecond
# hands it over sooner.
SWITCH_INTERVAL_S = 0.0005


def hand_over_briskly() -> None:
    """Make this process's threads take turns on the interpreter lock every half millisecond."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class ReadAhead:
    """Cuts what one poll brought into batches, decoding the next ones while the last is written.

    Decoding is pure, so doing it early changes nothing the loop decides: every batch is still
    planned against the positions of the moment it is written. With `workers` 0 one thread
    decodes the next batch (its Python runs while the loop waits for MySQL, which the connector
    does without the interpreter lock); with more, that many processes decode a batch each,
    the results taken in order. A decoding process that dies costs nothing: its batch is
    decoded here and the pool started again.
    """

    def __init__(self, parser: Parser, batch_size: int, workers: int = 0) -> None:
        self._parser, self._size, self._workers = parser, batch_size, workers
        self._pool: Executor | None = None

    def batches(self, messages: Sequence[Message]) -> Iterator[list[Decoded]]:
        """The batches of `messages` in order, decoded."""
        size = self._size
        if len(messages) <= size and not self._workers:
            yield decode(messages, self._parser)
            return
        chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
        ahead: deque[tuple[Sequence[Message], Future[list[Any]]]] = deque()
        for chunk in chunks:
            ahead.append((chunk, self._submit(chunk)))
            if len(ahead) > max(1, self._workers):
                yield self._result(*ahead.popleft())
        while ahead:
            yield self._result(*ahead.popleft())

    def close(self) -> None:
        """Stop the decoders (batches they are decoding are dropped with them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _submit(self, chunk: Sequence[Message]) -> Future[list[Any]]:
        if not self._workers:
            return self._executor().submit(decode, chunk, self._parser)
        try:
            return self._executor().submit(decode_raw, raw(chunk), self._parser)
        except BrokenProcessPool:  # it broke since the last batch: a new one
            self.close()
            return self._executor().submit(decode_raw, raw(chunk), self._parser)

    def _result(self, chunk: Sequence[Message], future: Future[list[Any]]) -> list[Decoded]:
        try:
            outcome = future.result()
        except BrokenProcessPool:
            log.warning("a decoding process died; decoding its batch here and starting the pool again")
            self.close()
            return decode(chunk, self._parser)
        return rejoin(chunk, outcome) if self._workers else outcome

    def _executor(self) -> Executor:
        if self._pool is None:
            if self._workers:
                # Spawned, not forked: a fork would copy librdkafka's and the connector's state
                # without their threads.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
            else:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="decode")
        return self._pool
