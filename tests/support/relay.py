"""A TCP relay in front of a server that can be frozen: it then holds every connection silent."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_CHUNK = 65536


class Relay:
    """Forwards 127.0.0.1:<port> to a target; `freeze()` stops all forwarding, `thaw()` resumes it.

    While frozen it still accepts connections (the kernel completes them) but relays no byte in
    either direction: to a client, the server looks connected and silent, as in a network
    partition or a frozen server. Bytes sent meanwhile are delivered after the thaw.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def freeze(self) -> None:
        """Stop relaying: connections stay open, nothing passes."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Relay again, what was held included."""
        self._flowing.set()

    def close(self) -> None:
        """Close the listener and every relayed connection."""
        self._closed.set()
        self._flowing.set()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), name="relay-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._flowing.wait()  # a frozen relay does not even reach the server
        try:
            upstream = socket.create_connection(self._target, timeout=10)
        except OSError:
            client.close()
            return
        self._track(upstream)
        self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._closed.is_set():
                self._flowing.wait()
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    if not self._flowing.is_set():
                        break  # frozen between select and read: hold the bytes
                    data = sock.recv(_CHUNK)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # ValueError: select on a socket `close()` just closed
            return
        finally:
            client.close()
            upstream.close()


@contextmanager
def relay_to(host: str, port: int) -> Iterator[Relay]:
    """A relay to host:port for the length of the block."""
    relay = Relay(host, port)
    try:
        yield relay
    finally:
        relay.close()
