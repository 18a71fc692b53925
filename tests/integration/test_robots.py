"""robots.txt per origin against a real server on 127.0.0.1: rules, delays, failures, caching (RFC 9309)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator

import pytest
from local_http import FIXTURES, LocalHTTPServer, Reply

from archiver.fetch.errors import RobotsDisallowed, UnsafeURL
from archiver.fetch.guard import Guard
from archiver.fetch.http import HttpClient, user_agent
from archiver.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache, origin_of

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def _test_names(host: str, port: int) -> list[str]:
    if host.endswith(".test"):
        return ["127.0.0.1"]
    raise socket.gaierror(socket.EAI_NONAME, host)


@pytest.fixture
def server() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as running:
        yield running


@pytest.fixture
def make_cache() -> Iterator[Callable[..., RobotsCache]]:
    clients: list[HttpClient] = []

    def make(guard: Guard | None = None, **options: float) -> RobotsCache:
        settings = dict(connect_timeout=1.0, read_timeout=2.0, retries=0, backoff=0.0)
        settings.update(options)
        client = HttpClient(guard=guard or Guard(allow=LOOPBACK, resolver=_test_names),
                            user_agent=user_agent("https://example.test/contact"), **settings)
        clients.append(client)
        return RobotsCache(client)

    yield make
    for client in clients:
        client.close()


def _serve_robots(server: LocalHTTPServer, name: str = "robots.txt") -> None:
    server.route("/robots.txt", Reply(body=(FIXTURES / "fetch" / name).read_bytes(),
                                      headers={"Content-Type": "text/plain"}))


def test_disallow_allow_and_crawl_delay_of_our_group(make_cache, server) -> None:
    _serve_robots(server)
    cache = make_cache()
    robots = cache.rules(server.url("/"))
    assert not robots.allowed(server.url("/private/diary.html"))
    assert robots.allowed(server.url("/private/public-note.html"))
    assert robots.allowed(server.url("/blog/feed.xml"))  # the `*` group's "Disallow: /" is not ours
    assert robots.crawl_delay == 2.0
    with pytest.raises(RobotsDisallowed) as caught:
        cache.ensure_allowed(server.url("/private/diary.html"))
    assert caught.value.code == "robots_disallowed" and caught.value.stage == "fetch"
    assert cache.ensure_allowed(server.url("/blog/")) is robots
    assert "PostArchiver" in server.log[0].headers["user-agent"]


def test_request_rate_becomes_a_delay(make_cache, server) -> None:
    _serve_robots(server, "robots_request_rate.txt")
    robots = make_cache().rules(server.url("/"))
    assert robots.crawl_delay == 5.0  # Request-rate: 1/5s
    assert not robots.allowed(server.url("/admin/x")) and robots.allowed(server.url("/x"))


def test_rules_are_fetched_once_per_origin(make_cache, server) -> None:
    _serve_robots(server)
    cache = make_cache()
    for path in ("/a", "/b/c", "/private/x", "/"):
        cache.rules(server.url(path))
        cache.rules(server.url(path).replace("127.0.0.1", "a.test"))
    cache.rules(server.url("/", host="b.test"))
    assert server.hits("/robots.txt") == 3  # 127.0.0.1, a.test and b.test: three origins
    assert [r.headers["host"].split(":")[0] for r in server.log] == ["127.0.0.1", "a.test", "b.test"]


def test_missing_robots_allows_everything(make_cache, server) -> None:
    robots = make_cache().rules(server.url("/"))  # the server answers 404 for unknown paths
    assert robots.allowed(server.url("/anything")) and robots.crawl_delay is None
    assert "404" in robots.reason


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_disallow_everything_for_this_run(make_cache, server, status: int) -> None:
    server.route("/robots.txt", Reply(status))
    cache = make_cache()
    robots = cache.rules(server.url("/"))
    assert not robots.allowed(server.url("/feed.xml"))
    assert robots.allowed(server.url("/robots.txt"))
    with pytest.raises(RobotsDisallowed, match=str(status)):
        cache.ensure_allowed(server.url("/feed.xml"))
    assert server.hits("/robots.txt") == 1  # remembered for the cache's life, not asked again


def test_unreachable_robots_disallows_everything(make_cache) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    robots = make_cache().rules(f"http://127.0.0.1:{port}/feed.xml")
    assert not robots.allowed(f"http://127.0.0.1:{port}/feed.xml")
    assert "connect_error" in robots.reason


def test_redirected_robots_is_followed(make_cache, server) -> None:
    server.route("/robots.txt", Reply(301, headers={"Location": "/robots-real.txt"}))
    server.route("/robots-real.txt", Reply(body=b"User-agent: *\nDisallow: /drafts/\n"))
    robots = make_cache().rules(server.url("/"))
    assert not robots.allowed(server.url("/drafts/1")) and robots.allowed(server.url("/posts/1"))


def test_a_robots_file_over_500_kib_is_cut_at_the_cap(make_cache, server) -> None:
    padding = b"# padding line\n" * (MAX_ROBOTS_BYTES // 15 + 10)
    server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /early/\n" + padding + b"Disallow: /late/\n"))
    robots = make_cache().rules(server.url("/"))
    assert not robots.allowed(server.url("/early/x"))
    assert robots.allowed(server.url("/late/x"))  # beyond the cap: never read


def test_an_unsafe_origin_raises_instead_of_becoming_a_rule(make_cache, server) -> None:
    _serve_robots(server)
    cache = make_cache(Guard())  # no allow-list: 127.0.0.1 is off limits
    with pytest.raises(UnsafeURL):
        cache.rules(server.url("/feed.xml"))
    assert server.log == []


def test_origin_keys() -> None:
    assert origin_of("HTTP://Example.ORG:80/a?b") == "http://example.org"
    assert origin_of("https://example.org:443/") == "https://example.org"
    assert origin_of("https://example.org:8443/x") == "https://example.org:8443"
    assert origin_of("http://[2001:db8::1]:8080/") == "http://[2001:db8::1]:8080"


def test_a_served_robots_txt_with_a_byte_order_mark_is_obeyed(make_cache, server) -> None:
    server.route("/robots.txt", Reply(body="\ufeffUser-Agent: *\nDisallow: /\n".encode(),
                                      headers={"Content-Type": "text/plain"}))
    robots = make_cache().rules(server.url("/"))
    assert not robots.allowed(server.url("/feed.xml"))
    assert robots.text.startswith("User-Agent")  # decoded as utf-8-sig: the mark is gone
