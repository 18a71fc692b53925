"""Sitemap documents of every kind, read as a stream: XML (with or without namespace), gzip, text, RSS, Atom."""

from __future__ import annotations

import gzip

import pytest

from archiver.errors import ParseError
from archiver.fetch.discover import classify
from archiver.fetch.sitemap import looks_like_sitemap, normalize_lastmod, parse_sitemap, read_sitemap
from archiver.fetch.sitemap_discovery import robots_sitemaps

URLSET = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
          b'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
          b"<url><image:image><image:loc>https://x.example/i.jpg</image:loc></image:image>"
          b"<loc>https://x.example/a</loc><lastmod>1997</lastmod></url>"
          b"<url><loc>https://x.example/b</loc><lastmod>1997-07</lastmod></url></urlset>")


@pytest.mark.parametrize(("written", "expected"), [
    ("1997", "1997-01-01T00:00:00Z"), ("1997-07", "1997-07-01T00:00:00Z"), ("1997-07-16", "1997-07-16T00:00:00Z"),
    ("1997-07-16T19:20+01:00", "1997-07-16T18:20:00Z"), ("1997-07-16T19:20:30.45+01:00", "1997-07-16T18:20:30Z"),
    ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"), ("Tue, 10 Aug 2010 20:43:53 -0000", "2010-08-10T20:43:53Z"),
    ("not a date", None), ("", None), ("99999", None),
])
def test_w3c_dates_of_every_precision(written, expected) -> None:
    assert normalize_lastmod(written) == expected


def test_a_pages_own_loc_not_its_images() -> None:
    assert [(e.url, e.lastmod) for e in parse_sitemap(URLSET).entries] == [
        ("https://x.example/a", "1997-01-01T00:00:00Z"), ("https://x.example/b", "1997-07-01T00:00:00Z")]


def test_gzip_is_told_by_its_bytes_and_a_gz_name_on_plain_xml_is_fine() -> None:
    assert parse_sitemap(gzip.compress(URLSET)) == parse_sitemap(URLSET)
    assert looks_like_sitemap(gzip.compress(URLSET)) and looks_like_sitemap(URLSET)


def test_a_gzip_bomb_is_refused() -> None:
    with pytest.raises(ParseError, match="inflates"):
        read_sitemap(gzip.compress(b" " * 2_000_000), max_inflated=1_000_000)


def test_plain_text_sitemaps_keep_only_http_urls() -> None:
    text = "\ufeffhttps://x.example/1\n  https://x.example/2  \nnot a url\nftp://x.example/3\nhttps://x.example/1\n"
    document = read_sitemap(text.encode())
    assert document.kind == "text"
    assert [e.url for e in document.entries] == ["https://x.example/1", "https://x.example/2"]


def test_rss_and_atom_used_as_sitemaps() -> None:
    rss = (b"<rss><channel><item><title>A</title><link>https://x.example/a</link>"
           b"<pubDate>Tue, 10 Aug 2010 20:43:53 -0000</pubDate></item></channel></rss>")
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="edit" href="https://x.example/edit"/>'
            b'<link rel="alternate" href="https://x.example/b"/><updated>2024-05-01</updated></entry></feed>')
    assert [(e.url, e.lastmod) for e in parse_sitemap(rss).entries] == [
        ("https://x.example/a", "2010-08-10T20:43:53Z")]
    assert [(e.url, e.lastmod) for e in parse_sitemap(atom).entries] == [
        ("https://x.example/b", "2024-05-01T00:00:00Z")]


def test_a_sitemap_without_namespace_and_a_cut_off_one() -> None:
    plain = b"<urlset><url><loc>https://x.example/a</loc></url><url><loc>https://x.example/b</loc></url></urlset>"
    assert [e.url for e in parse_sitemap(plain).entries] == ["https://x.example/a", "https://x.example/b"]
    cut = b"<urlset><url><loc>https://x.example/a</loc></url><url><loc>https://x.example/artic"
    assert [e.url for e in parse_sitemap(cut).entries] == ["https://x.example/a"]  # a cut URL is no URL


def test_html_is_no_sitemap() -> None:
    with pytest.raises(ParseError, match="root element is <html>"):
        read_sitemap(b"<html><body>Not found</body></html>")
    with pytest.raises(ParseError, match="not XML"):
        read_sitemap(b"<!doctype html><html><body>Not found</body></html>")
    assert not looks_like_sitemap(b"<!doctype html><html><body>https://x.example/</body></html>")


def test_discovery_takes_gzip_and_plain_text_sitemaps_for_sitemaps() -> None:
    assert classify("https://x.example/sitemap.xml.gz", "application/octet-stream", gzip.compress(URLSET)).kind == \
        "sitemap"
    assert classify("https://x.example/urls.txt", "text/plain", b"https://x.example/a\nhttps://x.example/b\n").kind == \
        "sitemap"


def test_robots_txt_sitemap_lines() -> None:
    robots = "User-agent: *\nDisallow: /x\nSitemap: https://x.example/a.xml\nsite-map:https://x.example/b.xml\n" \
             "SITEMAP: https://x.example/a.xml\n"
    assert robots_sitemaps(robots) == ["https://x.example/a.xml", "https://x.example/b.xml"]
