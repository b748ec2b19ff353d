"""Serve the API with waitress, and stop gracefully: stop accepting, finish what came in, exit."""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
import uuid
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

log = logging.getLogger(__name__)
LOOP_S = 0.5  # how soon a signal is noticed: the loop's select wakes at least this often
IDLE_CLOSE_S = 0.2  # during the drain, a connection silent this long has nothing in flight


def serve(app: Any, sock: socket.socket, threads: int, drain_s: float) -> bool:
    """Serve on `sock` until SIGTERM or SIGINT, then drain for at most `drain_s`; whether all finished."""
    server: BaseWSGIServer = create_server(
        app, sockets=[sock], threads=threads, ident="ums-find", asyncore_loop_timeout=LOOP_S
    )
    server.channel_class = JsonErrorChannel  # this server's connections only; waitress stays as it is
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("serving on http://%s:%s with %d threads", server.effective_host, server.effective_port, threads)
    while not stop.is_set():
        wasyncore.loop(timeout=LOOP_S, map=server._map, count=1)
    log.info("stopping: no new connections; finishing requests in flight (at most %.1f s)", drain_s)
    return drain(server, drain_s)


class JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's own answers to unparsable requests (400, 431, ...), as the contract's JSON body."""

    def execute(self) -> None:
        error = self.request.error
        code = error.reason.lower().replace(" ", "_")
        body = json.dumps({"error": code, "message": str(error.body)}).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.response_headers.append(("X-Request-ID", uuid.uuid4().hex))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose protocol errors are JSON."""

    error_task_class = JsonErrorTask


def drain(server: BaseWSGIServer, bound_s: float) -> bool:
    """Answer what was accepted (the listen backlog too), close the rest, stop the threads."""
    deadline = time.monotonic() + bound_s
    _accept_backlog(server)
    wasyncore.dispatcher.close(server)  # the listening socket only: the trigger still wakes the loop
    while time.monotonic() < deadline:
        channels = [c for c in list(server._map.values()) if isinstance(c, HTTPChannel)]
        if not channels:
            break
        _close_idle(channels)
        wasyncore.loop(timeout=0.05, map=server._map, count=1)
    finished = not any(isinstance(c, HTTPChannel) for c in list(server._map.values()))
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(0.1, deadline - time.monotonic()))
    server.close()
    if finished:
        log.info("stopped: every request in flight was answered")
    else:
        log.warning("stopped after %.1f s with requests still in flight", bound_s)
    return finished


def _accept_backlog(server: BaseWSGIServer) -> None:
    # Connections the kernel completed but we had not accepted yet are in flight for their clients.
    for _ in range(10_000):
        before = len(server._map)
        server.handle_accept()
        if len(server._map) == before:
            return


def _close_idle(channels: list[HTTPChannel]) -> None:
    cutoff = time.time() - IDLE_CLOSE_S
    for channel in channels:
        busy = channel.requests or channel.total_outbufs_len or getattr(channel, "request", None)
        if not busy and channel.last_activity < cutoff:
            channel.will_close = True
