"""Pure parts of the HTTP client: charset detection, Retry-After, validators, response properties, settings."""

from __future__ import annotations

import email.utils
import time

import pytest

from archiver.config import Settings
from archiver.fetch.errors import FetchError, HttpError
from archiver.fetch.http import (
    USER_AGENT_TEMPLATE,
    HttpClient,
    Response,
    Validators,
    detect_charset,
    parse_retry_after,
    requested_retry_after,
    user_agent,
)


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    ("text/html; charset=UTF-8", b"<p>x</p>", "utf-8"),
    ('text/html; charset="windows-1252"', b"<p>x</p>", "cp1252"),
    ("application/xml;charset=iso-8859-1", b"<?xml version='1.0' encoding='utf-8'?><a/>", "iso8859-1"),
    ("text/html; charset=utf-8", b"\xff\xfe<\x00p\x00>\x00", "utf-16-le"),  # BOM beats the header
    ("text/html; charset=latin1", b"\xfe\xff\x00<", "utf-16-be"),
    ("text/html; charset=no-such-codec", b'<meta charset="koi8-r">', "koi8-r"),  # unknown label skipped
    ("text/html", b'<html><head><meta charset="Shift_JIS">', "shift_jis"),
    (None, b'<meta http-equiv="Content-Type" content="text/html; charset=EUC-JP">', "euc_jp"),
    (None, b'  <?xml version="1.0" encoding="windows-1251"?><rss/>', "cp1251"),
    (None, b'<meta charset="utf-16">', "utf-8"),  # WHATWG: an ASCII-readable UTF-16 label means UTF-8
    (None, b"<p>no declaration</p>", None),
    ("text/html", b"", None),
])
def test_detect_charset_follows_bom_then_header_then_document(content_type, body, expected) -> None:
    assert detect_charset(content_type, body) == expected


def test_a_meta_charset_beyond_the_first_2_kb_is_not_read() -> None:
    assert detect_charset(None, b" " * 2100 + b'<meta charset="koi8-r">') is None


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert 3500 < parse_retry_after(in_an_hour) <= 3600
    assert parse_retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert parse_retry_after("-0000-not a date") is None
    assert parse_retry_after("") is None and parse_retry_after(None) is None


@pytest.mark.parametrize("header", ["999999999999", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_retry_after_is_capped_at_a_day_and_never_overflows(header) -> None:
    assert parse_retry_after(header) == 86400
    assert requested_retry_after(header) > 86400


def test_a_retry_after_date_that_cannot_be_a_date_is_unreadable() -> None:
    assert parse_retry_after("Fri, 31 Dec 99999 23:59:59 GMT") is None


def test_validators_round_trip_and_become_request_headers() -> None:
    both = Validators(etag='W/"abc"', last_modified="Tue, 03 Jun 2025 10:00:00 GMT")
    assert Validators.from_dict(both.to_dict()) == both
    assert both.request_headers() == {"If-None-Match": 'W/"abc"',
                                      "If-Modified-Since": "Tue, 03 Jun 2025 10:00:00 GMT"}
    assert Validators(etag='"x"').to_dict() == {"etag": '"x"'}
    assert Validators.from_dict(None) == Validators() and not Validators()
    assert Validators.from_dict({"etag": "", "last_modified": None}) == Validators()


def _response(**fields) -> Response:
    values = dict(url="http://a.test/", final_url="http://a.test/", status=200, headers={}, body=b"", charset=None)
    values.update(fields)
    return Response(**values)


def test_response_properties() -> None:
    moved = _response(redirects=((301, "http://b.test/"), (308, "https://b.test/")), final_url="https://b.test/",
                      headers={"content-type": "Application/RSS+XML; charset=utf-8", "etag": '"1"'})
    assert moved.permanent_url == "https://b.test/"
    assert moved.content_type == "application/rss+xml"
    assert moved.validators == Validators(etag='"1"')
    assert _response(redirects=((301, "http://b.test/"), (302, "http://c.test/"))).permanent_url is None
    assert _response().permanent_url is None and _response().content_type is None
    assert _response(status=304).not_modified and not _response().not_modified


def test_response_text_decodes_with_its_charset_and_drops_the_bom() -> None:
    assert _response(body="\ufeffcaf\u00e9".encode(), charset="utf-8").text() == "caf\u00e9"
    assert _response(body="caf\u00e9".encode("cp1252"), charset="cp1252").text() == "caf\u00e9"
    assert _response(body=b"caf\xe9", charset=None).text() == "caf\ufffd"


def test_user_agent_names_the_project_and_the_contact() -> None:
    assert USER_AGENT_TEMPLATE == "PostArchiver/{version} (+{contact})"
    assert user_agent("https://ops.example/contact").startswith("PostArchiver/")
    assert user_agent("https://ops.example/contact").endswith("(+https://ops.example/contact)")
    assert "github.com/post-archiver" in user_agent("")


def test_http_error_carries_status_and_retry_after() -> None:
    error = HttpError("HTTP 503", status=503, retry_after=30.0)
    assert (error.code, error.stage, error.status, error.retry_after, error.gone) == (
        "http_error", "fetch", 503, 30.0, False)
    assert FetchError("x").status is None and FetchError("x").code == "fetch_failed"


def test_fetch_settings_from_the_environment() -> None:
    defaults = Settings.from_env({})
    assert defaults.fetch_allow_networks == ""
    assert defaults.fetch_contact_url == "https://github.com/post-archiver/post-archiver"
    assert defaults.fetch_max_bytes == 20 * 1024 * 1024
    custom = Settings.from_env({"FETCH_UNSAFE_ALLOW_NETWORKS": "127.0.0.0/8", "FETCH_CONTACT_URL": "https://x.test/",
                                "FETCH_MAX_BYTES": "1000", "FETCH_CONNECT_TIMEOUT": "1.5",
                                "FETCH_READ_TIMEOUT": "3", "FETCH_DEADLINE": "9"})
    with HttpClient.from_settings(custom, retries=0) as client:
        assert [str(net) for net in client.guard.allow] == ["127.0.0.0/8"]
        assert client.user_agent.endswith("(+https://x.test/)")
        assert (client.max_bytes, client.connect_timeout, client.read_timeout, client.deadline) == (1000, 1.5, 3.0, 9.0)
        assert client.session.headers["User-Agent"] == client.user_agent
