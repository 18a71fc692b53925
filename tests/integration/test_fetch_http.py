"""HttpClient against a real HTTP server on 127.0.0.1: encoding, conditional GET, redirects, retries, caps, charsets."""

from __future__ import annotations

import gzip
import ipaddress
import socket
from collections.abc import Callable, Iterator

import pytest
from hostile_http import HostileServer, drip_body, drip_head
from local_http import FIXTURES, LocalHTTPServer, Reply, Request

from archiver.fetch.errors import (
    ConnectFailed,
    FetchTimeout,
    HttpError,
    ResponseTooLarge,
    TooManyRedirects,
)
from archiver.fetch.guard import Guard
from archiver.fetch.http import HttpClient, Validators, user_agent

CONTACT = "https://example.test/archiver-contact"
FEED = (FIXTURES / "feed" / "rss2.xml").read_bytes()


@pytest.fixture
def server() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as running:
        yield running


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(**options: float) -> HttpClient:
        # Short timeouts and no backoff keep the suite fast; the allow-list opens the fixture server only.
        settings = dict(connect_timeout=1.0, read_timeout=2.0, retries=2, backoff=0.0, max_retry_wait=2.0)
        settings.update(options)
        client = HttpClient(guard=Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),)),
                            user_agent=user_agent(CONTACT), **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> HttpClient:
    return make_client()


# -- content ---------------------------------------------------------------------------------------------------------


def test_gzip_body_is_decoded_and_the_request_names_the_project(client, server) -> None:
    server.route("/feed.xml", Reply(body=FEED, gzip=True, headers={"Content-Type": "application/rss+xml"}))
    response = client.get(server.url("/feed.xml"), accept="application/rss+xml, */*;q=0.5")
    assert response.status == 200
    assert response.body == FEED
    assert response.headers["content-encoding"] == "gzip"
    assert response.content_type == "application/rss+xml"
    assert response.final_url == response.url == server.url("/feed.xml")
    assert response.redirects == () and response.permanent_url is None
    sent = server.log[0].headers
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["accept"] == "application/rss+xml, */*;q=0.5"
    assert "PostArchiver/" in sent["user-agent"] and CONTACT in sent["user-agent"]
    assert client.requests_made == 1 and client.conditional_requests == 0


def test_one_session_serves_many_requests_over_one_connection(client, server) -> None:
    server.route("/a", Reply(body=b"a"))
    server.route("/b", Reply(body=b"b", gzip=True))
    for path in ("/a", "/b", "/a"):
        client.get(server.url(path))
    assert len({request.client_port for request in server.log}) == 1
    assert client.requests_made == 3


def test_redirects_304s_and_error_pages_keep_the_connection(client, server) -> None:
    server.route("/old", Reply(301, b"<p>moved</p>", headers={"Location": "/feed.xml"}))
    server.route("/feed.xml", _conditional(etag='"v1"'))
    server.route("/gone", Reply(410, b"<p>gone</p>" * 100))
    client.get(server.url("/old"))
    client.get(server.url("/feed.xml"), validators=Validators(etag='"v1"'))
    with pytest.raises(HttpError):
        client.get(server.url("/gone"))
    client.get(server.url("/feed.xml"))
    assert [request.path for request in server.log] == ["/old", "/feed.xml", "/feed.xml", "/gone", "/feed.xml"]
    assert len({request.client_port for request in server.log}) == 1


def test_a_large_unread_error_page_is_not_read_the_connection_is_closed(make_client, server) -> None:
    server.route("/huge-error", Reply(500, b"x" * 5_000_000))
    server.route("/ok", Reply(body=b"ok"))
    client = make_client(retries=0)
    with pytest.raises(HttpError):
        client.get(server.url("/huge-error"))
    assert client.get(server.url("/ok")).body == b"ok"
    assert len({request.client_port for request in server.log}) == 2


# -- conditional GET -------------------------------------------------------------------------------------------------


def _conditional(etag: str | None = None, last_modified: str | None = None) -> Callable[[Request], Reply]:
    headers = {k: v for k, v in (("ETag", etag), ("Last-Modified", last_modified)) if v}

    def handle(request: Request) -> Reply:
        if (etag and request.headers.get("if-none-match") == etag) or \
                (last_modified and request.headers.get("if-modified-since") == last_modified):
            return Reply(304, headers=headers)
        return Reply(body=FEED, headers={"Content-Type": "application/rss+xml", **headers})

    return handle


def test_conditional_get_with_etag_returns_304_without_a_body(client, server) -> None:
    server.route("/feed.xml", _conditional(etag='"v1"'))
    first = client.get(server.url("/feed.xml"))
    assert first.validators == Validators(etag='"v1"')
    again = client.get(server.url("/feed.xml"), validators=Validators.from_dict(first.validators.to_dict()))
    assert again.not_modified and again.status == 304
    assert again.body == b"" and again.charset is None
    assert server.log[1].headers["if-none-match"] == '"v1"'
    assert "if-modified-since" not in server.log[1].headers
    assert "if-none-match" not in server.log[0].headers
    assert client.requests_made == 2 and client.conditional_requests == 1


def test_conditional_get_with_last_modified_returns_304(client, server) -> None:
    stamp = "Tue, 03 Jun 2025 10:00:00 GMT"
    server.route("/feed.xml", _conditional(last_modified=stamp))
    first = client.get(server.url("/feed.xml"))
    assert first.validators == Validators(last_modified=stamp)
    again = client.get(server.url("/feed.xml"), validators=first.validators)
    assert again.not_modified
    assert server.log[1].headers["if-modified-since"] == stamp
    assert client.conditional_requests == 1


def test_changed_resource_answers_200_to_a_conditional_get(client, server) -> None:
    server.route("/feed.xml", _conditional(etag='"v2"'))
    response = client.get(server.url("/feed.xml"), validators=Validators(etag='"v1"', last_modified="x"))
    assert response.status == 200 and response.body == FEED
    assert response.validators.etag == '"v2"'
    assert server.log[0].headers["if-none-match"] == '"v1"'
    assert client.conditional_requests == 1


def test_empty_validators_send_a_plain_get(client, server) -> None:
    server.route("/feed.xml", Reply(body=FEED))
    client.get(server.url("/feed.xml"), validators=Validators())
    assert client.conditional_requests == 0
    assert "if-none-match" not in server.log[0].headers


# -- redirects -------------------------------------------------------------------------------------------------------


def test_temporary_redirect_is_followed_and_recorded_without_a_permanent_url(client, server) -> None:
    server.route("/old", Reply(302, headers={"Location": "/new"}))
    server.route("/new", Reply(body=b"here"))
    response = client.get(server.url("/old"))
    assert response.body == b"here"
    assert response.url == server.url("/old") and response.final_url == server.url("/new")
    assert response.redirects == ((302, server.url("/new")),)
    assert response.permanent_url is None


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_sets_permanent_url(client, server, status: int) -> None:
    server.route("/old", Reply(status, headers={"Location": server.url("/moved")}))
    server.route("/moved", Reply(status, headers={"Location": "final"}))
    server.route("/final", Reply(body=b"here"))
    response = client.get(server.url("/old"))
    assert response.redirects == ((status, server.url("/moved")), (status, server.url("/final")))
    assert response.permanent_url == server.url("/final")


def test_a_temporary_hop_in_a_chain_means_no_permanent_url(client, server) -> None:
    server.route("/a", Reply(301, headers={"Location": "/b"}))
    server.route("/b", Reply(307, headers={"Location": "/c"}))
    server.route("/c", Reply(body=b"ok"))
    assert client.get(server.url("/a")).permanent_url is None


def test_conditional_headers_follow_the_redirect(client, server) -> None:
    server.route("/old", Reply(302, headers={"Location": "/feed.xml"}))
    server.route("/feed.xml", _conditional(etag='"v1"'))
    response = client.get(server.url("/old"), validators=Validators(etag='"v1"'))
    assert response.not_modified
    assert [r.headers.get("if-none-match") for r in server.log] == ['"v1"', '"v1"']


def test_redirect_loop_is_stopped(client, server) -> None:
    server.route("/a", Reply(302, headers={"Location": "/b"}))
    server.route("/b", Reply(302, headers={"Location": "/a"}))
    with pytest.raises(TooManyRedirects, match="loop") as caught:
        client.get(server.url("/a"))
    assert caught.value.code == "too_many_redirects"
    assert [r.path for r in server.log] == ["/a", "/b"]


def test_a_chain_of_six_redirects_is_too_long_and_five_is_fine(client, server) -> None:
    for n in range(1, 7):
        server.route(f"/r{n}", Reply(302, headers={"Location": f"/r{n + 1}"}))
    server.route("/r7", Reply(body=b"end"))
    with pytest.raises(TooManyRedirects, match="more than 5"):
        client.get(server.url("/r1"))
    assert server.hits("/r7") == 0 and len(server.log) == 6
    response = client.get(server.url("/r2"))
    assert response.body == b"end" and len(response.redirects) == 5


# -- error statuses and retries --------------------------------------------------------------------------------------


def test_410_is_gone(client, server) -> None:
    server.route("/feed.xml", Reply(410, b"gone"))
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/feed.xml"))
    assert caught.value.gone and caught.value.status == 410
    assert caught.value.code == "http_error" and caught.value.stage == "fetch"
    assert server.hits("/feed.xml") == 1


def test_404_is_not_retried(client, server) -> None:
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/missing"))
    assert caught.value.status == 404 and not caught.value.gone and caught.value.retry_after is None
    assert server.hits("/missing") == 1


def test_429_with_a_short_retry_after_is_waited_out(client, server) -> None:
    server.route("/feed.xml", [Reply(429, headers={"Retry-After": "1"}), Reply(body=b"ok")])
    response = client.get(server.url("/feed.xml"))
    assert response.body == b"ok"
    assert server.hits("/feed.xml") == 2
    assert client.requests_made == 2


@pytest.mark.parametrize("status", [429, 503])
def test_a_long_retry_after_is_raised_at_once_for_the_caller_to_schedule(client, server, status: int) -> None:
    server.route("/feed.xml", [Reply(status, headers={"Retry-After": "3600"}), Reply(body=b"ok")])
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/feed.xml"))
    assert caught.value.status == status and caught.value.retry_after == 3600
    assert server.hits("/feed.xml") == 1


def test_429_without_retry_after_is_not_retried(client, server) -> None:
    server.route("/feed.xml", [Reply(429), Reply(body=b"ok")])
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/feed.xml"))
    assert caught.value.status == 429 and caught.value.retry_after is None
    assert server.hits("/feed.xml") == 1


def test_503_twice_then_200_is_retried(client, server) -> None:
    server.route("/feed.xml", [Reply(503), Reply(503), Reply(body=b"ok")])
    assert client.get(server.url("/feed.xml")).body == b"ok"
    assert server.hits("/feed.xml") == 3 and client.requests_made == 3


def test_500_forever_gives_up_after_the_retries(make_client, server) -> None:
    server.route("/feed.xml", Reply(500, b"boom"))
    client = make_client(retries=2)
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/feed.xml"))
    assert caught.value.status == 500
    assert server.hits("/feed.xml") == 3


def test_connection_refused_is_connect_failed(make_client) -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(retries=1)
    with pytest.raises(ConnectFailed) as caught:
        client.get(f"http://127.0.0.1:{port}/")
    assert caught.value.code == "connect_error"
    assert client.requests_made == 0


# -- time and size ---------------------------------------------------------------------------------------------------


def test_a_server_slower_than_the_read_timeout_is_a_timeout(make_client, server) -> None:
    server.route("/slow", Reply(body=b"late", delay=2.0))
    client = make_client(read_timeout=0.3, retries=2)
    with pytest.raises(FetchTimeout) as caught:
        client.get(server.url("/slow"))
    assert caught.value.code == "timeout"
    assert server.hits("/slow") == 1  # read timeouts are not retried


def test_a_dripping_server_is_cut_off_by_the_deadline(make_client, server) -> None:
    # Each byte arrives well within the read timeout; only the whole-request deadline can stop it.
    server.route("/drip", Reply(body=b"x" * 100, drip=0.05))
    client = make_client(read_timeout=2.0, deadline=0.5)
    with pytest.raises(FetchTimeout, match="deadline"):
        client.get(server.url("/drip"))


def test_a_status_line_dripped_byte_by_byte_is_cut_at_the_deadline(make_client) -> None:
    # Hostile case 1: every byte of the head comes within the read timeout, so only the deadline stops it.
    with HostileServer(drip_head(interval=0.02), lifetime=20) as hostile:
        client = make_client(read_timeout=2.0, deadline=0.5, retries=2)
        with pytest.raises(FetchTimeout, match="deadline"):
            client.get(hostile.url("/feed.xml"))
        assert client.requests_made == 1  # not retried: the deadline covers the request as a whole
        assert hostile.wait_for_hang_ups(1) == 1  # the client closed the connection; the server still dripped


def test_a_small_dripping_body_is_closed_not_drained(make_client) -> None:
    # Hostile case 2: a declared length under the drain size; draining it would take 60,000 drips.
    with HostileServer(drip_body(interval=0.02, length=60_000), lifetime=20) as hostile:
        client = make_client(read_timeout=2.0, deadline=0.5)
        with pytest.raises(FetchTimeout, match="deadline"):
            client.get(hostile.url("/feed.xml"))
        assert hostile.wait_for_hang_ups(1) == 1  # closed, not drained: the server still had 59,000 bytes


def test_the_request_deadline_is_shortened_by_the_time_left(make_client) -> None:
    with HostileServer(drip_head(interval=0.02), lifetime=20) as hostile:
        client = make_client(read_timeout=2.0, deadline=60.0)
        with pytest.raises(FetchTimeout, match=r"within 0\.3 s"):
            client.get(hostile.url("/"), within=0.3)
        with pytest.raises(FetchTimeout, match="no time left"):
            client.get(hostile.url("/"), within=0)
    assert hostile.connections == 1


@pytest.mark.parametrize("header", ["999999999999", "999999999", "Fri, 31 Dec 9999 23:59:59 GMT",
                                    "9" * 400])
def test_an_absurd_retry_after_is_capped_at_a_day(client, server, header) -> None:
    # Hostile cases 3 and 4: an overflowing number, a wait of decades, a date in 9999.
    server.route("/feed.xml", Reply(429, b"slow down", headers={"Retry-After": header}))
    with pytest.raises(HttpError) as caught:
        client.get(server.url("/feed.xml"))
    assert caught.value.retry_after == 86400 and caught.value.retry_after_capped
    assert "capped at a day" in caught.value.message


def test_a_declared_length_over_the_cap_is_refused_before_reading(make_client, server) -> None:
    server.route("/big", Reply(body=b"x" * 10, content_length=5_000_000))
    client = make_client(max_bytes=1_000_000)
    with pytest.raises(ResponseTooLarge, match="5000000 bytes") as caught:
        client.get(server.url("/big"))
    assert caught.value.code == "too_large"


def test_a_chunked_body_over_the_cap_is_stopped(make_client, server) -> None:
    server.route("/big", Reply(body=b"x" * 300_000, chunked=True))
    client = make_client(max_bytes=100_000)
    with pytest.raises(ResponseTooLarge):
        client.get(server.url("/big"))
    # Exactly at the cap is fine.
    assert len(make_client(max_bytes=300_000).get(server.url("/big")).body) == 300_000


def test_the_cap_counts_decoded_bytes_so_a_gzip_bomb_is_stopped(make_client, server) -> None:
    bomb = b"\0" * 5_000_000
    server.route("/bomb", Reply(body=bomb, gzip=True))
    assert len(gzip.compress(bomb)) < 100_000  # small on the wire: only the decoded size can trip the cap
    client = make_client(max_bytes=1_000_000)
    with pytest.raises(ResponseTooLarge):
        client.get(server.url("/bomb"))


def test_truncate_keeps_the_first_bytes_instead_of_raising(client, server) -> None:
    server.route("/big", Reply(body=b"0123456789" * 100, chunked=True))
    response = client.get(server.url("/big"), max_bytes=25, truncate=True)
    assert response.body == b"0123456789012345678901234"


# -- charsets --------------------------------------------------------------------------------------------------------


def _serve(server: LocalHTTPServer, name: str, content_type: str, body: bytes | None = None) -> str:
    data = body if body is not None else (FIXTURES / "fetch" / name).read_bytes()
    server.route(f"/{name}", Reply(body=data, headers={"Content-Type": content_type}))
    return server.url(f"/{name}")


def test_charset_from_the_header(client, server) -> None:
    body = "<p>Caf\u00e9</p>".encode("latin-1")
    response = client.get(_serve(server, "latin1.html", "text/html; charset=ISO-8859-1", body))
    assert response.charset == "iso8859-1"
    assert response.text() == "<p>Caf\u00e9</p>"


def test_charset_from_a_byte_order_mark(client, server) -> None:
    response = client.get(_serve(server, "bom_utf8.html", "text/html"))
    assert response.charset == "utf-8"
    assert response.text().startswith("<html>") and "na\u00efve \u2014 \u00fcber" in response.text()


def test_a_byte_order_mark_wins_over_a_wrong_header(client, server) -> None:
    response = client.get(_serve(server, "bom_utf8.html", "text/html; charset=iso-8859-1"))
    assert response.charset == "utf-8"
    assert "Caf\u00e9" in response.text()


@pytest.mark.parametrize(("name", "charset", "expected"), [
    ("meta_windows1252.html", "cp1252", "Cr\u00e8me br\u00fbl\u00e9e \u2013 \u20ac5"),
    ("meta_charset_shift_jis.html", "shift_jis", "\u3053\u3093\u306b\u3061\u306f"),
    ("xml_declaration_latin1.xml", "iso8859-1", "Caf\u00e9 du coin"),
])
def test_charset_from_the_document_when_the_header_says_nothing(client, server, name, charset, expected) -> None:
    response = client.get(_serve(server, name, "text/html" if name.endswith(".html") else "application/xml"))
    assert response.charset == charset
    assert expected in response.text()


def test_no_charset_anywhere_is_none_and_text_falls_back_to_utf8(client, server) -> None:
    response = client.get(_serve(server, "no_declaration.html", "text/html"))
    assert response.charset is None
    assert "Only ASCII here." in response.text()
    broken = client.get(_serve(server, "broken.html", "text/html", b"<p>caf\xe9</p>"))
    assert broken.charset is None and broken.text() == "<p>caf\ufffd</p>"  # replaced, not raised
