"""Discovery: what a URL is (feed, WordPress site, sitemap, article) from the fetched document."""

from __future__ import annotations

import json

import pytest

from archiver.fetch.discover import DiscoveryError, classify, wp_api_from_link_header
from archiver.fetch.documents import is_summary
from archiver.fetch.sitemap import parse_sitemap
from archiver.fetch.wordpress import wp_posts_url

HOME = b"""<!doctype html><html><head><title>Harbour News</title>
<link rel="alternate" type="application/rss+xml" title="Harbour News &raquo; Comments Feed" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" title="Harbour News &raquo; Feed" href="/feed/">
</head><body><h1>Harbour News</h1></body></html>"""


def test_a_home_page_gives_its_main_feed_not_the_comments_feed() -> None:
    found = classify("https://news.example/", "text/html", HOME)
    assert (found.kind, found.url, found.site_url) == ("feed", "https://news.example/feed/", "https://news.example/")


def test_a_wordpress_link_header_gives_the_rest_api() -> None:
    found = classify("https://blog.example/", "text/html", HOME,
                     '<https://blog.example/wp-json/>; rel="https://api.w.org/"')
    assert (found.kind, found.url) == ("wordpress", "https://blog.example/wp-json/")


def test_a_wordpress_link_element_gives_the_rest_api() -> None:
    page = HOME.replace(b"</head>", b'<link rel="https://api.w.org/" href="https://blog.example/?rest_route=/"></head>')
    assert classify("https://blog.example/", "text/html", page).url == "https://blog.example/?rest_route=/"


def test_an_article_page_is_an_article_even_on_a_wordpress_site() -> None:
    page = HOME.replace(b"</head>", b'<meta property="og:type" content="article"></head>')
    found = classify("https://blog.example/2024/05/strike/", "text/html", page,
                     '<https://blog.example/wp-json/>; rel="https://api.w.org/"')
    assert (found.kind, found.url) == ("article", "https://blog.example/2024/05/strike/")


def test_json_ld_news_article_is_an_article() -> None:
    ld = json.dumps({"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle", "headline": "x"}]})
    page = HOME.replace(b"</head>", f'<script type="application/ld+json">{ld}</script></head>'.encode())
    assert classify("https://news.example/story", "text/html", page).kind == "article"


@pytest.mark.parametrize(("body", "kind"), [
    (b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>', "feed"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>', "feed"),
    (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>', "sitemap"),
    (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></sitemapindex>', "sitemap"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}', "feed"),
    (b'{"name": "Blog", "namespaces": ["oembed/1.0", "wp/v2"]}', "wordpress"),
])
def test_documents_are_recognised_by_content(body: bytes, kind: str) -> None:
    assert classify("https://x.example/doc", "application/octet-stream", body).kind == kind


def test_a_posts_endpoint_gives_its_api_root() -> None:
    assert classify("https://x.example/wp-json/wp/v2/posts", "application/json", b"[]").url == \
        "https://x.example/wp-json/"


def test_json_that_is_neither_feed_nor_wordpress_is_refused() -> None:
    with pytest.raises(DiscoveryError):
        classify("https://x.example/data.json", "application/json", b'{"rows": []}')


def test_link_header_with_several_links() -> None:
    header = '<https://x.example/wp-json/wp/v2/pages/2>; rel="alternate"; type="application/json", ' \
             '<https://x.example/wp-json/>; rel="https://api.w.org/"'
    assert wp_api_from_link_header(header, "https://x.example/") == "https://x.example/wp-json/"


def test_wordpress_posts_urls_for_both_api_root_forms() -> None:
    assert wp_posts_url("https://x.example/wp-json/", page=2, modified_after="2024-05-01T10:00:00") == (
        "https://x.example/wp-json/wp/v2/posts?per_page=100&page=2&_embed=1&orderby=modified&order=asc"
        "&modified_after=2024-05-01T10%3A00%3A00")
    assert wp_posts_url("https://x.example/?rest_route=/", page=1, modified_after=None).startswith(
        "https://x.example/?rest_route=/wp/v2/posts&per_page=100")


def test_sitemaps_urlset_index_and_news_dates() -> None:
    urlset = parse_sitemap(b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://x.example/a</loc><lastmod>2024-05-01T10:00:00+02:00</lastmod></url>
  <url><loc>https://x.example/b</loc><news:news><news:publication_date>2024-05-02</news:publication_date></news:news></url>
  <url><loc> https://x.example/c </loc></url>
</urlset>""")
    assert not urlset.is_index
    assert [(e.url, e.lastmod) for e in urlset.entries] == [
        ("https://x.example/a", "2024-05-01T08:00:00Z"), ("https://x.example/b", "2024-05-02T00:00:00Z"),
        ("https://x.example/c", None)]
    index = parse_sitemap(b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
                          b'<loc>https://x.example/s1.xml</loc></sitemap></sitemapindex>')
    assert index.is_index and index.entries[0].url == "https://x.example/s1.xml"


def test_sitemap_entities_are_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.example/&b;</loc></url></urlset>"""
    entries = parse_sitemap(bomb).entries
    assert all("aaaaaaaaaa" not in e.url for e in entries)


@pytest.mark.parametrize(("body", "summary"), [
    ("<p>A short teaser.</p>", True),
    ("<p>" + "word " * 400 + "</p>", False),
    ("<p>" + "word " * 400 + "Continue reading &rarr;</p>", True),
    ("<p>" + "word " * 400 + "[…]</p>", True),
])
def test_summaries_are_told_from_full_content(body: str, summary: bool) -> None:
    assert is_summary(body) is summary
