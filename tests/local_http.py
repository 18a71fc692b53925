"""A small HTTP/1.1 server on 127.0.0.1 for fetch tests: routes, scripted replies, a request log.

    with LocalHTTPServer() as server:
        server.route("/feed.xml", Reply(body=b"...", headers={"ETag": '"v1"'}))
        server.route("/flaky", [Reply(503), Reply(503), Reply(200, b"ok")])   # one after another, last repeats
        server.route("/echo", lambda request: Reply(body=request.headers["user-agent"].encode()))
        client.get(server.url("/feed.xml"))
        server.log  # every request received: method, path, lower-case headers

Replies can be gzipped, sent chunked without a length, delayed or dripped slowly. The server
thread stops when the block ends; sleeping handlers wake up and finish on their own then.
"""

from __future__ import annotations

import gzip
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # Content-Encoding: gzip
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length
    content_length: int | None = None  # a declared length that need not be the truth
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between bytes of the body


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    client_port: int = 0  # the client's side of the connection: equal ports, one kept-alive connection


Handler = Reply | list[Reply] | Callable[[Request], Reply]


class LocalHTTPServer:
    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None):
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Handler] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        if tls:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-http", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = list(handler) if isinstance(handler, list) else handler

    def hits(self, path: str) -> int:
        return sum(1 for request in self.log if request.path == path)

    def __enter__(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.log.append(request)
            handler = self.routes.get(request.path.split("?", 1)[0])
            if handler is None:
                return Reply(404, b"not found")
            if isinstance(handler, list):
                return handler.pop(0) if len(handler) > 1 else handler[0]
        return handler(request) if callable(handler) else handler

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.client_address[1])
                reply = server._reply_for(request)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout, size cap): expected

            def _send(self, reply: Reply) -> None:
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                body = gzip.compress(reply.body) if reply.gzip else reply.body
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    length = len(body) if reply.content_length is None else reply.content_length
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                if reply.chunked:
                    for start in range(0, len(body), 16 * 1024):
                        piece = body[start:start + 16 * 1024]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                elif reply.drip:
                    for index in range(len(body)):
                        if server._stopping.wait(reply.drip):
                            return
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                else:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request log is `server.log`

        return _Handler
