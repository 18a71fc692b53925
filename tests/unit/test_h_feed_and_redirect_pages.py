"""HTML pages that are not one article: an h-feed lists posts (one each), a redirect page is none."""

from __future__ import annotations

import pytest

from archiver.errors import ParseError
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

H_FEED = """<!doctype html><html><head><title>Notes of A. Writer</title></head><body>
<div class="h-feed"><h1 class="p-name">Notes</h1>
  <a class="p-author h-card" href="/">A. Writer</a>
  <article class="h-entry">
    <h2><a class="p-name u-url" href="https://notes.example/1">First note</a></h2>
    <time class="dt-published" datetime="2021-03-04T05:06:07+01:00">4 March</time>
    <div class="e-content"><p>The first note's text, with a <a href="https://x.example/">link</a>.</p></div>
    <a class="p-category" href="/t/a">alpha</a>
    <div class="p-comment h-entry"><p class="p-name">A reply</p></div>
  </article>
  <article class="h-entry">
    <h2><a class="p-name u-url" href="https://notes.example/2">Second note</a></h2>
    <span class="dt-published">2021-03-05</span>
    <div class="e-content"><p>Second text.</p></div>
  </article>
</div></body></html>"""


def posts(html: str, name: str = "page.html"):
    return normalize_input(Input(html.encode(), name, Origin("file", name)), archived_at="2024-01-01T00:00:00+00:00")


def test_an_h_feed_page_gives_one_post_per_h_entry():
    first, second = posts(H_FEED)
    assert (first.title, first.url, first.published_at) == (
        "First note", "https://notes.example/1", "2021-03-04T05:06:07+01:00")
    assert first.text == "The first note's text, with a link." and first.categories == ["alpha"]
    assert (second.title, second.published_at, second.text) == ("Second note", "2021-03-05T00:00:00+00:00",
                                                                 "Second text.")
    assert {p.source["format"] for p in (first, second)} == {"h-feed"}


def test_two_top_level_h_entries_without_an_h_feed_are_an_implied_feed():
    assert len(posts(H_FEED.replace('class="h-feed"', 'class="notes"'))) == 2


def test_a_page_with_one_h_entry_is_an_article():
    one = H_FEED[: H_FEED.index('  <article class="h-entry">\n    <h2><a class="p-name u-url" href="https://notes.example/2"')]
    [post] = posts(one + "</div></body></html>")
    assert post.source["format"] == "html"


@pytest.mark.parametrize("page", [
    # jekyll-redirect-from's page
    '<!DOCTYPE html><html lang="en-US"><meta charset="utf-8"><title>Redirecting&hellip;</title>'
    '<link rel="canonical" href="https://new.example/post/"><script>location="https://new.example/post/"</script>'
    '<meta http-equiv="refresh" content="0; url=https://new.example/post/"><meta name="robots" content="noindex">'
    '<h1>Redirecting&hellip;</h1><a href="https://new.example/post/">Click here if you are not redirected.</a></html>',
    # a web server's redirect body
    '<head><title>Document Moved</title></head><body><h1>Object Moved</h1>This document may be found '
    '<a HREF="https://new.example/feed/">here</a></body>',
    "<html><head><title>301 Moved Permanently</title></head><body><center><h1>301 Moved Permanently</h1>"
    "</center><hr><center>nginx</center></body></html>",
])
def test_a_redirect_page_is_not_a_post(page: str):
    with pytest.raises(ParseError, match="redirect page") as caught:
        posts(page)
    assert caught.value.code == "not_a_post"


def test_an_article_with_a_slow_refresh_and_its_own_text_is_a_post():
    words = " ".join(f"word{n}" for n in range(60))
    page = (f'<html><head><title>Live blog</title><meta http-equiv="refresh" content="300; url=/live">'
            f"</head><body><article><h1>Live blog</h1><p>{words}.</p></article></body></html>")
    [post] = posts(page)
    assert post.title == "Live blog"
