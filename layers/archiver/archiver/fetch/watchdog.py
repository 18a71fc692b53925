"""An overall deadline for one HTTP request that a server dripping bytes cannot extend.

Socket timeouts bound each read, not the request: a server sending one byte every few seconds
resets them forever, in the status line, the headers or the body. The watchdog bounds the whole:
armed when the request starts, told which connection carries it, it shuts that connection's
socket down when the deadline passes. The blocked read then returns at once (end of stream or an
error), and the client, seeing `expired`, reports a timeout. Shutting down rather than closing
leaves the file descriptor to its owner, so it cannot be reused under anyone's feet.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any


class Watchdog:
    """One request at a time (an HttpClient is not shared by threads): arm, attach, disarm."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._connection: Any = None
        self._at: float | None = None
        self.expired = False

    def arm(self, at: float) -> None:
        """Start watching a request that must be over at `at` (a time.monotonic() value)."""
        self.disarm()
        with self._lock:
            self.expired = False
            self._at = at
            self._timer = threading.Timer(max(at - time.monotonic(), 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def attach(self, connection: Any) -> None:
        """The connection now carrying the request (a new one per redirect hop or retry)."""
        with self._lock:
            if self._at is None:
                return  # not armed: a request made outside `HttpClient.get`
            self._connection = connection
            if self.expired:
                _shut_down(connection)

    def remaining(self) -> float | None:
        """Seconds left for the request in flight, None when none is."""
        at = self._at
        return None if at is None else at - time.monotonic()

    def disarm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._connection = None
            self._at = None

    def _fire(self) -> None:
        with self._lock:
            if self._at is None:
                return
            self.expired = True
            if self._connection is not None:
                _shut_down(self._connection)


def _shut_down(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # The plain socket's shutdown even for TLS: it wakes the reader without touching the TLS state.
    # OSError: already closed, nothing left to wake.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
