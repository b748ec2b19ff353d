"""The API in one process or in several pre-forked workers sharing one listening socket.

One CPython process runs Python on one core at a time (the GIL); on a machine with
several cores, UMS_HTTP_WORKERS > 1 forks that many waitress processes after binding,
all accepting on the inherited listening socket (as gunicorn's workers do).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from ums_find.http.serving import serve as serve_gracefully
from ums_find.settings import Settings

log = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (waitress listens on it), reusable across quick restarts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(make_app: Callable[[], Any], settings: Settings) -> int:
    """Serve until stopped; with several workers, until SIGTERM/SIGINT or a worker's death."""
    sock = listening_socket(settings.http.host, settings.http.port)
    if settings.http.workers == 1:
        return _serve_one(make_app, sock, settings)
    workers = [_fork(make_app, sock, settings) for _ in range(settings.http.workers)]
    sock.close()
    log.info("serving on %s:%d with %d workers", settings.http.host, settings.http.port, len(workers))
    return _supervise(workers, settings.shutdown_s)


def _fork(make_app: Callable[[], Any], sock: socket.socket, settings: Settings) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The worker: its own app, threads and connections; SIGTERM drains it as a single process.
    code = 1
    try:
        code = _serve_one(make_app, sock, settings)
    finally:
        os._exit(code)


def _serve_one(make_app: Callable[[], Any], sock: socket.socket, settings: Settings) -> int:
    finished = serve_gracefully(make_app(), sock, settings)
    return 0 if finished else 1


def _supervise(workers: list[int], shutdown_s: float) -> int:
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    code = 0
    while not stopping:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            # A worker died: stop the others and exit, for the supervisor to restart us whole.
            log.error("worker %d exited (status %d); stopping", pid, status)
            workers.remove(pid)
            code = 1
            break
        time.sleep(0.2)
    _stop(workers, shutdown_s)
    return code


def _stop(workers: list[int], shutdown_s: float) -> None:
    for pid in workers:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + shutdown_s + 2  # the workers drain within shutdown_s themselves
    while workers and time.monotonic() < deadline:
        workers[:] = [pid for pid in workers if os.waitpid(pid, os.WNOHANG)[0] == 0]
        time.sleep(0.05)
    for pid in workers:
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
