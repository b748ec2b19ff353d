"""The consumer's own small HTTP port: /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


class LoopState(Protocol):
    """What the probes read of the consume loop."""

    @property
    def last_turn(self) -> float: ...

    @property
    def faulted(self) -> bool: ...

    @property
    def pending(self) -> set[int]: ...


def health(loop: LoopState, stall_s: float) -> tuple[int, dict[str, object]]:
    """Live while the poll loop turned within `stall_s`: a stuck loop must be restarted."""
    age = time.monotonic() - loop.last_turn
    return (200 if age <= stall_s else 503), {"last_poll_age_s": round(age, 3), "bound_s": stall_s}


def readiness(loop: LoopState, stall_s: float) -> tuple[int, dict[str, object]]:
    """Ready when live, not retrying a fault, and every assigned partition's checkpoint is loaded."""
    status, body = health(loop, stall_s)
    body.update(faulted=loop.faulted, partitions_waiting_for_checkpoints=sorted(loop.pending))
    ready = status == 200 and not loop.faulted and not loop.pending
    return (200 if ready else 503), body


def serve(
    host: str, port: int, loop: LoopState, stall_s: float, registry: CollectorRegistry
) -> ThreadingHTTPServer:
    """Start the probe and metrics server in a daemon thread; raises OSError if the port is taken."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path in ("/healthz", "/readyz"):
                probe = health if self.path == "/healthz" else readiness
                status, body = probe(loop, stall_s)
                self._send(status, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b'{"error": "not_found", "message": "no such path"}', "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="consumer-http", daemon=True).start()
    log.info("probes and metrics on http://%s:%d", host, server.server_address[1])
    return server
