"""A hostile HTTP server for fetch tests: drips its status line, headers or body one byte at a time.

It answers /robots.txt with a plain 404 (no rules), so that the fetcher goes on to the hostile part.
Bounded so that no test can hang on it: it listens on 127.0.0.1 only, accepts at most
`max_connections`, and stops itself (listener and every connection closed) after `lifetime`
seconds or when its block ends, whichever comes first.

    with HostileServer(drip_head(interval=0.05)) as server:
        client.get(server.url("/feed.xml"))      # FetchTimeout at the client's deadline
        server.connections                      # how many connections it accepted
        server.hung_up                          # how many of them the client closed before the server stopped
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Behaviour = Callable[[socket.socket, threading.Event], None]


def _read_request(conn: socket.socket, stopping: threading.Event) -> str | None:
    """Read up to the end of the request head; its path, or None when the client went away or the server stops."""
    conn.settimeout(0.1)
    data = b""
    while b"\r\n\r\n" not in data and not stopping.is_set() and len(data) < 65536:
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    if b"\r\n\r\n" not in data:
        return None
    parts = data.split(b"\r\n", 1)[0].split()
    return parts[1].decode("latin-1") if len(parts) > 1 else "/"


def _drip(conn: socket.socket, data: bytes, interval: float, stopping: threading.Event) -> None:
    for index in range(len(data)):
        if stopping.wait(interval):
            return
        try:
            conn.sendall(data[index:index + 1])
        except OSError:
            return  # the client gave up: what the test expects


def drip_head(interval: float, length: int = 100_000) -> Behaviour:
    """A status line and headers that never end, one byte every `interval` seconds (hostile case 1)."""
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * length + b"\r\n\r\n"

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        _drip(conn, head, interval, stopping)

    return behave


def drip_body(interval: float, length: int = 60_000, content_type: str = "application/rss+xml") -> Behaviour:
    """Headers at once with a Content-Length under 64 KiB, then the body one byte every `interval` (case 2)."""
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n").encode()

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(head)
        _drip(conn, b"<" + b"x" * (length - 1), interval, stopping)

    return behave


class HostileServer:
    def __init__(self, behaviour: Behaviour, *, max_connections: int = 20, lifetime: float = 30.0):
        self.behaviour = behaviour
        self.max_connections = max_connections
        self.lifetime = lifetime
        self.connections = 0
        self.hung_up = 0  # connections the client closed while the server still had bytes to drip
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._hung_up_changed = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._serve, name="hostile-http", daemon=True)
        self._stopper = threading.Timer(lifetime, self.stop)
        self._stopper.daemon = True

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._stopper.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._thread.join(timeout=5)

    def wait_for_hang_ups(self, count: int, timeout: float = 5.0) -> int:
        """Wait (bounded) until the client has closed `count` connections; returns how many it closed."""
        with self._hung_up_changed:
            self._hung_up_changed.wait_for(lambda: self.hung_up >= count, timeout)
            return self.hung_up

    def stop(self) -> None:
        self._stopping.set()
        self._stopper.cancel()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.close()
            self._open.clear()

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                with self._lock:
                    if self.connections >= self.max_connections or self._stopping.is_set():
                        conn.close()
                        continue
                    self.connections += 1
                    self._open.append(conn)
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            self._listener.close()

    def _handle(self, conn: socket.socket) -> None:
        try:
            path = _read_request(conn, self._stopping)
            if path is None:
                return
            if path == "/robots.txt":
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            self.behaviour(conn, self._stopping)
            if not self._stopping.is_set():
                with self._lock:
                    self.hung_up += 1
                    self._hung_up_changed.notify_all()
        finally:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            with contextlib.suppress(OSError):
                conn.close()
