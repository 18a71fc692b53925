"""A fetched article's authors from every place pages put them, and its title said once."""

from __future__ import annotations

import pytest

from archiver.extract.leading_title import drop_repeated_title
from archiver.formats import html_page
from archiver.model import Input, Origin

TEXT = "".join(f"<p>The harbour authority said the strike would go on until the dispute was settled ({n}).</p>"
               for n in range(8))


def page(head: str = "", byline: str = "") -> bytes:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour strike | News</title>{head}'
            f'<meta property="og:type" content="article"></head><body><nav><a href="/">Home</a></nav><article>'
            f"<h1>Harbour strike</h1>{byline}{TEXT}</article><footer>Copyright</footer></body></html>").encode()


def authors_of(data: bytes) -> list[str]:
    [post] = html_page.parse(Input(data=data, name="story.html", origin=Origin("url", "https://x.example/story")))
    return post.authors


@pytest.mark.parametrize(("head", "byline"), [
    ('<script type="application/ld+json">{"@type": "NewsArticle", "author": {"@type": "Person", "name": "Ana Ruiz"}}'
     "</script>", ""),
    ('<script type="application/ld+json">//<![CDATA[\n{"@type": "NewsArticle", "author": [{"name": "Ana Ruiz"}]}\n'
     "//]]></script>", ""),
    ('<script type="application/ld+json">/*<![CDATA[*/{"@type": "BlogPosting", "author": "Ana Ruiz"}/*]]>*/</script>',
     ""),
    ('<script type="application/ld+json">{"@graph": [{"@type": "Article", "author": {"@id": "#ana"}}, '
     '{"@type": "Person", "@id": "#ana", "name": "Ana Ruiz"}]}</script>', ""),  # Yoast's references
    ('<meta name="author" content="Ana Ruiz">', ""),
    ("", '<p class="meta">By <a rel="author" href="/author/ana">Ana Ruiz</a></p>'),
    ("", '<div class="byline">By Ana Ruiz</div>'),
    ("", '<span itemprop="author" itemscope><span itemprop="name">Ana Ruiz</span></span>'),
])
def test_authors_from_json_ld_meta_rel_author_and_bylines(head: str, byline: str) -> None:
    assert authors_of(page(head, byline)) == ["Ana Ruiz"]


def test_json_ld_wins_over_the_markup() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"name": "Ana Ruiz"}}</script>'
    assert authors_of(page(head, '<div class="byline">By Someone Else</div>')) == ["Ana Ruiz"]


def test_a_page_without_authors_has_none() -> None:
    assert authors_of(page()) == []


@pytest.mark.parametrize(("body", "title", "expected"), [
    ("<h1>Harbour strike</h1><p>Text.</p>", "Harbour strike", "<p>Text.</p>"),
    ("\n  <h2 class='t'>Harbour  <em>strike</em></h2>\n<p>Text.</p>", "Harbour strike", "<p>Text.</p>"),
    ("<p>HARBOUR STRIKE.</p><p>Text.</p>", "Harbour strike", "<p>Text.</p>"),
    ("<h1>Harbour strike ends</h1><p>Text.</p>", "Harbour strike", "<h1>Harbour strike ends</h1><p>Text.</p>"),
    ("<p>Text.</p><h1>Harbour strike</h1>", "Harbour strike", "<p>Text.</p><h1>Harbour strike</h1>"),
    ("<h1>Harbour strike</h1>", None, "<h1>Harbour strike</h1>"),
])
def test_a_body_opening_with_its_title_drops_that_heading(body: str, title: str | None, expected: str) -> None:
    assert drop_repeated_title(body, title) == expected
