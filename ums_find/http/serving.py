"""Serve the API with waitress, and stop gracefully: stop accepting, finish what came in, exit."""

from __future__ import annotations

import json
import logging
import resource
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

from ums_find.settings import Settings

log = logging.getLogger(__name__)
LOOP_S = 0.5  # how soon a signal is noticed: the loop's select wakes at least this often
IDLE_CLOSE_S = 0.2  # during the drain, a connection silent this long has nothing in flight


FD_RESERVE = 64  # descriptors beyond the connections: database, Kafka, logs, the listener


def limits(settings: Settings) -> dict[str, Any]:
    """Waitress's adjustments from the settings: waitress's defaults suit no public endpoint.

    Its defaults (100 connections, idle ones kept 120 s, bodies up to 1 GB spooled to disk) let a
    few hundred idle sockets stop the pod, probes included, and one large body fill `/tmp`. Idle
    connections hold no thread (the event loop holds them), so the connection limit can be far
    above the thread count; a body over the limit is refused (413) as soon as its length is known
    (`Content-Length`) or once that many bytes have come (chunked), never read whole.
    """
    return {
        "threads": settings.http.threads,
        "connection_limit": settings.http.connection_limit,
        "channel_timeout": settings.http.idle_timeout_s,
        # Idle channels are looked for every cleanup_interval (30 s by default): as often as they expire.
        "cleanup_interval": max(1, min(30, settings.http.idle_timeout_s // 2)),
        "max_request_body_size": settings.http.max_body_bytes,
    }


def serve(app: Any, sock: socket.socket, settings: Settings) -> bool:
    """Serve on `sock` until SIGTERM or SIGINT, then drain (at most UMS_SHUTDOWN_S); whether all finished."""
    adjustments = limits(settings)
    _allow_descriptors(adjustments["connection_limit"] + settings.http.threads + FD_RESERVE)
    server: BaseWSGIServer = create_server(
        app, sockets=[sock], ident="ums-find", asyncore_loop_timeout=LOOP_S, **adjustments
    )
    server.channel_class = JsonErrorChannel  # this server's connections only; waitress stays as it is
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info(
        "serving on http://%s:%s with %d threads, at most %d connections",
        server.effective_host,
        server.effective_port,
        settings.http.threads,
        settings.http.connection_limit,
    )
    while not stop.is_set():
        # poll(2), not select(2): select cannot watch a descriptor numbered 1024 or more.
        wasyncore.loop(timeout=LOOP_S, map=server._map, count=1, use_poll=True)
    log.info(
        "stopping: no new connections; finishing requests in flight (at most %.1f s)", settings.shutdown_s
    )
    return drain(server, settings.shutdown_s)


def _allow_descriptors(wanted: int) -> None:
    # The soft limit is often 1024: raise it towards the hard limit so that the connection
    # limit, not EMFILE on accept, is what turns clients away.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        log.warning(
            "open files are limited to %d: fewer than UMS_HTTP_CONNECTION_LIMIT needs (%d)", hard, wanted
        )


class JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's own answers to unparsable requests (400, 431, ...), as the contract's JSON body."""

    def execute(self) -> None:
        error = self.request.error
        code = error.reason.lower().replace(" ", "_")
        message = str(error.body)
        if error.code == 413:
            limit = self.channel.server.adj.max_request_body_size
            code, message = "payload_too_large", f"this API takes no request body (at most {limit} bytes)"
        body = json.dumps({"error": code, "message": message}).encode("utf-8")
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
        wasyncore.loop(timeout=0.05, map=server._map, count=1, use_poll=True)
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
