"""A real HTTP server on 127.0.0.1 serving fixture sites, for fetch tests, demos and benchmarks.

Many hosts on one port: requests are routed by their Host header, so `http://news.test:PORT/feed`
and `http://blog.test:PORT/feed` are two sites (a resolver mapping *.test to 127.0.0.1 goes with
it, see `loopback_resolver`). Documents get an ETag and Last-Modified and answer conditional
requests with 304, as a well-behaved server does. Every request is logged for assertions.

    with FixtureWeb() as web:
        web.add("news.test", "/feed.xml", rss_bytes, "application/rss+xml")
        url = web.url("news.test", "/feed.xml")
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


def document(body: bytes, content_type: str, *, validators: bool = True, modified: float = 1_700_000_000.0,
             headers: dict[str, str] | None = None) -> Handler:
    """A static document that answers If-None-Match / If-Modified-Since with 304."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    last_modified = formatdate(modified, usegmt=True)

    def handle(request: Request) -> Reply:
        extra = {"Content-Type": content_type, **(headers or {})}
        if validators:
            extra.update({"ETag": etag, "Last-Modified": last_modified})
            if_none_match = request.headers.get("if-none-match")
            since = request.headers.get("if-modified-since")
            if if_none_match == etag or (if_none_match is None and since == last_modified):
                return Reply(304, b"", {"ETag": etag, "Last-Modified": last_modified})
        return Reply(200, body, extra)

    return handle


def wordpress_posts(posts: list[dict[str, Any]]) -> Handler:
    """A WordPress REST `/wp/v2/posts` endpoint over `posts` (REST objects with `modified`).

    Honours `per_page`, `page`, `orderby=modified`, `order` and `modified_after` (exclusive), and
    sends `X-WP-Total` / `X-WP-TotalPages`, as WordPress does. The list may change between requests.
    """
    import json

    def handle(request: Request) -> Reply:
        per_page = int(request.query.get("per_page", 10))
        page = int(request.query.get("page", 1))
        chosen = [p for p in posts if not request.query.get("modified_after")
                  or p["modified"] > request.query["modified_after"]]
        if request.query.get("orderby") == "modified":
            chosen.sort(key=lambda p: p["modified"], reverse=request.query.get("order") != "asc")
        pages = max(1, -(-len(chosen) // per_page))
        if page > pages:
            body = {"code": "rest_post_invalid_page_number", "message": "The page number requested is larger "
                    "than the number of pages available.", "data": {"status": 400}}
            return Reply(400, json.dumps(body).encode(), {"Content-Type": "application/json"})
        body = json.dumps(chosen[(page - 1) * per_page: page * per_page]).encode()
        return Reply(200, body, {"Content-Type": "application/json; charset=UTF-8", "X-WP-Total": str(len(chosen)),
                                 "X-WP-TotalPages": str(pages)})

    return handle


class FixtureWeb:
    """Context manager: a threaded HTTP server on a free 127.0.0.1 port with routes by (host, path)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FixtureWeb is not started")
        return self._server.server_address[1]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, host: str, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
            **options: Any) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[(host, path)] = document(data, content_type, **options)

    def route(self, host: str, path: str, handler: Handler) -> None:
        self.routes[(host, path)] = handler

    def requests(self, host: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if host is None or r.host == host]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def __enter__(self) -> FixtureWeb:
        web = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                request = Request("GET", host, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                                  {k.lower(): v for k, v in self.headers.items()})
                with web._lock:
                    web.log.append(request)
                handler = web.routes.get((host, parts.path))
                reply = handler(request) if handler else Reply(404, b"not found", {"Content-Type": "text/plain"})
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the log list is the record
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._server = None


def loopback_resolver(host: str, port: int) -> list[str]:
    """Resolves every name to 127.0.0.1: fixture hosts (news.test, ...) all live on FixtureWeb."""
    return ["127.0.0.1"]
