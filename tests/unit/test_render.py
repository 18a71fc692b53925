"""render_post_html: a standalone, script-free, well-formed HTML5 page with escaped metadata."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from lxml import html as lxml_html

from archiver.model import Post
from archiver.render import CSP, render_post_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def make_post(**overrides) -> Post:
    fields = dict(
        id="p1abc",
        url="https://example.com/2024/05/hello-world/",
        canonical_url="https://origin.example.org/hello-world",
        story_id="s1abc",
        source={"kind": "file", "site_name": "Example Blog", "site_url": "https://example.com/"},
        title="Hello, world",
        authors=["Ada Lovelace", "Grace Hopper"],
        published_at="2024-05-03T10:00:00Z",
        updated_at="2024-05-04T08:00:00Z",
        status="publish",
        categories=["News"],
        tags=["python", "aws"],
        excerpt="A first post.",
        language="en",
        image=None,
        content_html='<p>Body <em>text</em> &amp; more.</p><img src="https://example.com/a.png" alt="">',
        text="Body text & more.",
        word_count=4,
        reading_time_minutes=1,
        links=[],
        images=[{"src": "https://example.com/a.png", "alt": ""}],
        source_link="https://example.com/",
        content_sha256="0" * 64,
        normalizer_version="1",
        archived_at="2024-06-01T00:00:00Z",
        front_matter={},
    )
    fields.update(overrides)
    return Post(**fields)


class TagBalance(HTMLParser):
    """Checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()


def test_page_is_html5_and_well_formed():
    page = render_post_html(make_post())
    assert page.startswith("<!doctype html>\n")
    checker = TagBalance()
    checker.feed(page)
    checker.close()
    assert checker.doctype == "doctype html"
    assert checker.errors == []
    assert checker.stack == []
    doc = lxml_html.document_fromstring(page)
    assert doc.get("lang") == "en"
    assert doc.find("head/meta").get("charset") == "utf-8"
    assert doc.xpath("//meta[@name='viewport']")
    assert doc.xpath("string(//title)") == "Hello, world"
    assert doc.xpath("string(//article/header/h1)") == "Hello, world"


def test_page_has_strict_csp_and_no_scripts_or_external_resources():
    page = render_post_html(make_post(content_html="<p>clean</p>"))
    doc = lxml_html.document_fromstring(page)
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp == [CSP]
    assert "img-src 'self' data:" in CSP and "*" not in CSP  # no remote image (tracker) is loaded
    assert "<script" not in page.lower()
    assert not doc.xpath("//link[@rel='stylesheet']")
    assert len(doc.xpath("//style")) == 1


def test_malicious_title_and_metadata_are_escaped():
    evil = '</title><script>alert("x")</script><h1 onmouseover="x">'
    post = make_post(
        title=evil,
        authors=['<img src=x onerror="alert(1)">'],
        tags=["<b>tag</b>"],
        categories=['"quoted"'],
        excerpt='"><script>alert(2)</script>',
        language='en"><script>',
        url='https://example.com/a"onmouseover="x',
        canonical_url="javascript:alert(3)",
    )
    page = render_post_html(post)
    assert "<script" not in page.lower()
    doc = lxml_html.document_fromstring(page)
    assert doc.xpath("string(//title)") == evil
    assert doc.xpath("string(//h1)") == evil
    assert not doc.xpath("//*[@onmouseover or @onerror]")
    assert doc.xpath("//img/@src") == ["https://example.com/a.png"]  # only the body's image
    # A javascript: URL is never turned into a link.
    assert not doc.xpath("//a[starts-with(@href, 'javascript')]")
    assert not doc.xpath("//link[@rel='canonical']")


def test_canonical_and_own_url_are_linked():
    post = make_post()
    doc = lxml_html.document_fromstring(render_post_html(post))
    assert doc.xpath("//head/link[@rel='canonical']/@href") == [post.canonical_url]
    hrefs = doc.xpath("//article//a/@href")
    assert post.url in hrefs
    assert post.canonical_url in hrefs
    assert post.source_link in hrefs


def test_byline_date_terms_and_body():
    post = make_post()
    doc = lxml_html.document_fromstring(render_post_html(post))
    assert "Ada Lovelace, Grace Hopper" in doc.xpath("string(//header)")
    assert doc.xpath("//header//time/@datetime")[0] == "2024-05-03T10:00:00Z"
    terms = doc.xpath("string(//*[@class='terms'])")
    assert "News" in terms and "#python" in terms and "#aws" in terms
    content = doc.xpath("//div[@class='content']")[0]
    assert content.xpath("string(.)").strip() == "Body text & more."
    assert content.xpath(".//img/@src") == ["https://example.com/a.png"]


@pytest.mark.parametrize(
    "overrides",
    [
        dict(authors=[], published_at=None, updated_at=None, categories=[], tags=[], excerpt=None),
        dict(url=None, canonical_url=None, source_link=None, source={}, language=None, title=""),
    ],
)
def test_minimal_posts_render(overrides):
    page = render_post_html(make_post(**overrides))
    checker = TagBalance()
    checker.feed(page)
    assert checker.errors == [] and checker.stack == []
    assert "<title>" in page
