"""A small keep-alive HTTP client for the harness's own lookups (replay and freshness)."""

from __future__ import annotations

import http.client
import random
import threading
from collections.abc import Sequence


class Client:
    """One persistent connection; reconnects after an error."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._conn: http.client.HTTPConnection | None = None

    def status(self, path: str) -> int:
        """The status of GET `path`, or 0 when the request failed."""
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=5)
            self._conn.request("GET", path)
            response = self._conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.close()
            return 0

    def close(self) -> None:
        """Drop the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class LookupLoad:
    """Threads looking up existing names until stopped, counting every answer that is not 200."""

    def __init__(self, port: int, names: Sequence[str], threads: int = 4) -> None:
        self._port = port
        self._names = list(names)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> LookupLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        client = Client(self._port)
        while not self._stop.is_set():
            ok = client.status(f"/user/{rng.choice(self._names)}") == 200
            with self._lock:
                self.done += 1
                self.failed += not ok
        client.close()
