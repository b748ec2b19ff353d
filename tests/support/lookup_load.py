"""Threads asking a running API for users until stopped, each answer judged; the wrong ones kept."""

from __future__ import annotations

import random
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.processes import get_json


class LookupLoad:
    """Lookups of the names `pick` chooses; `good(name, status, body)` says whether an answer is right."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.count = 0
        self.answers: set[int] = set()
        self.wrong: list[tuple[str, int, Any]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def pick(self, rng: random.Random) -> str:
        """The next name to look up."""
        raise NotImplementedError

    def good(self, name: str, status: int, body: Any) -> bool:
        """Whether this answer is one the test allows."""
        raise NotImplementedError

    @contextmanager
    def running(self, threads: int) -> Iterator[LookupLoad]:
        """`threads` threads asking until the block ends."""
        workers = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self.stop.set()
            for worker in workers:
                worker.join(30)

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            name = self.pick(rng)
            try:
                status, body = get_json(f"{self.base}/user/{urllib.parse.quote(name)}")
            except OSError as exc:  # a connection the API dropped is a wrong answer, not a dead thread
                status, body = 0, str(exc)
            with self._lock:
                self.count += 1
                self.answers.add(status)
                if not self.good(name, status, body):
                    self.wrong.append((name, status, body))
