"""archiver.formats.html_page: sniffing, decoding, metadata and main-content extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.formats import detect, html_page
from archiver.model import Input, Origin, RawPost
from archiver.text import html_to_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"


def parse_fixture(name: str) -> RawPost:
    data = (FIXTURES / name).read_bytes()
    posts = list(html_page.parse(Input(data=data, name=name, origin=Origin(kind="file", uri=name))))
    assert len(posts) == 1
    return posts[0]


@pytest.fixture(scope="module")
def jsonld_post() -> RawPost:
    return parse_fixture("article_jsonld.html")


@pytest.fixture(scope="module")
def og_post() -> RawPost:
    return parse_fixture("article_og_cp1252.html")


# --- sniff ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html><head><title>x</title></head></html>",
        b"\xef\xbb\xbf  <!doctype HTML>\n<html>",
        b"<!-- saved page -->\n<HTML lang=en>",
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">',
        b"<head><meta charset=utf-8><title>fragment</title></head>",
        b"  <body><p>just a body</p></body>",
        b'<div class="wrapper"><meta name="viewport" content="width=device-width">',
    ],
)
def test_sniff_claims_html_markup(head: bytes) -> None:
    assert html_page.sniff(head, "page.bin")


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>t</title></channel></rss>',
        b'<?xml version="1.0" encoding="utf-8"?><!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom">',
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">',
        b"<rss version='2.0'><channel><description>&lt;html&gt;</description>",
        b"---\ntitle: Hello\nlayout: post\n---\n<html><body>Jekyll body</body></html>",
        b"+++\ntitle = 'Hello'\n+++\n<p>body</p>",
        b'{"title": "<html>not a page</html>"}',
        b"Plain text that mentions <html> later on.",
        b"",
    ],
)
def test_sniff_leaves_feeds_front_matter_and_text_alone(head: bytes) -> None:
    assert not html_page.sniff(head, "page.html")


def test_file_name_is_only_a_hint_for_markup_without_page_tags() -> None:
    fragment = b"<div><p>An article fragment without html, head or body tags.</p></div>"
    assert html_page.sniff(fragment, "saved.htm")
    assert not html_page.sniff(fragment, "saved.txt")


def test_registry_detects_an_html_page() -> None:
    data = (FIXTURES / "article_jsonld.html").read_bytes()
    assert detect(data, "story").NAME == "html"


# --- decoding ------------------------------------------------------------------------------------


def test_decode_uses_declared_charset_bom_and_fallbacks() -> None:
    assert html_page.decode(b'<meta charset="windows-1252"><p>caf\xe9</p>')[0].endswith("café</p>")
    assert html_page.decode("\ufeff<p>café</p>".encode("utf-16-le"))[0] == "<p>café</p>"
    text, encoding, warnings = html_page.decode(b"<p>caf\xe9</p>")
    assert (text, encoding) == ("<p>café</p>", "cp1252") and warnings
    text, encoding, warnings = html_page.decode('<meta charset="iso-8859-1"><p>café</p>'.encode())
    assert text.endswith("café</p>") and encoding == "utf-8" and warnings


# --- metadata ------------------------------------------------------------------------------------


def test_json_ld_article_wins_for_title_authors_and_dates(jsonld_post: RawPost) -> None:
    assert jsonld_post.format == "html" and jsonld_post.body_format == "html"
    assert jsonld_post.title == "Harbour bridge reopens after repairs"
    assert jsonld_post.authors == ["Ana Pereira", "Tom Hale"]
    assert jsonld_post.published == "2024-03-04T07:30:00+00:00"
    assert jsonld_post.updated == "2024-03-04T09:15:00+00:00"


def test_canonical_link_wins_over_og_url(jsonld_post: RawPost) -> None:
    assert jsonld_post.canonical_url == "https://courier.example/news/2024/03/harbour-bridge-reopens"
    assert jsonld_post.url == jsonld_post.canonical_url


def test_og_url_is_the_url_when_there_is_no_canonical_link(og_post: RawPost) -> None:
    assert og_post.url == "https://blog.example/2023/11/premier-cafe"
    assert og_post.canonical_url == og_post.url


def test_description_image_language_site_and_terms(jsonld_post: RawPost) -> None:
    assert jsonld_post.excerpt == "The old swing bridge carries traffic again from Monday morning."
    assert jsonld_post.image == "https://courier.example/img/bridge-lead.jpg"  # og:image first
    assert jsonld_post.language == "en-GB"
    assert jsonld_post.site_name == "The Coastal Courier"
    assert jsonld_post.categories == ["News", "Local"]
    assert jsonld_post.tags == ["Infrastructure", "Transport", "bridges", "harbour"]


def test_opengraph_and_meta_tags_without_json_ld(og_post: RawPost) -> None:
    assert og_post.title == "Le premier café du quartier"  # og:title over <title>, cp1252 decoded
    assert og_post.authors == ["Claire Dubois"]
    assert og_post.published == "2023-11-20T08:00:00+01:00"
    assert og_post.updated == "2023-11-21T10:00:00+01:00"
    assert og_post.excerpt == "Une visite au nouveau café de la rue des Lilas."
    assert og_post.language == "fr-FR"  # from og:locale, no lang attribute
    assert og_post.image == "/images/cafe.jpg"  # left relative: the normalizer absolutizes
    assert og_post.tags == ["cafés"]


def test_front_matter_keeps_the_page_metadata_as_json(jsonld_post: RawPost) -> None:
    meta = jsonld_post.front_matter
    assert json.loads(json.dumps(meta)) == meta
    assert meta["links"]["canonical"].endswith("harbour-bridge-reopens")
    assert meta["opengraph"]["article:tag"] == ["Infrastructure", "Transport"]
    assert meta["meta"]["author"] == "Courier Staff"
    assert meta["json_ld"][0]["@graph"][1]["@type"] == "NewsArticle"


def test_invalid_json_ld_is_a_warning_not_a_failure() -> None:
    page = (FIXTURES / "article_jsonld.html").read_text(encoding="utf-8")
    broken = page.replace('"@context": "https://schema.org",', '"@context": "https://schema.org",,')
    post = next(html_page.parse(Input(broken.encode(), "b.html", Origin(kind="file", uri="b.html"))))
    assert any("JSON-LD" in warning for warning in post.warnings)
    assert post.published == "2024-03-04T07:30:00+00:00" or post.published is None
    assert post.title == "Harbour bridge reopens after two years of repairs"  # og:title next


# --- content -------------------------------------------------------------------------------------


def test_body_is_html_with_article_text_headings_lists_and_links(jsonld_post: RawPost) -> None:
    body = jsonld_post.body
    assert "<p>" in body and "<h2>" in body and "<li>" in body and "<a href=" in body
    text = html_to_text(body)
    assert "carried its first cars in two years" in text
    assert "A longer job than planned" in text
    assert "Heavy goods vehicles must wait" in text
    assert "closed for ten minutes each time" in text


def test_navigation_footer_and_comments_are_left_out(jsonld_post: RawPost, og_post: RawPost) -> None:
    text = html_to_text(jsonld_post.body)
    for boilerplate in ("Subscribe to the Courier", "Sport", "Shocking waste", "commute", "Cookie settings"):
        assert boilerplate not in text
    other = html_to_text(og_post.body)
    assert "torréfie elle-même" in other
    assert "octobre 2023" not in other and "Tous droits" not in other


def test_page_without_content_yields_a_post_with_a_warning() -> None:
    page = b"<html><head><title>Empty</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    post = next(html_page.parse(Input(page, "e.html", Origin(kind="file", uri="e.html"))))
    assert post.title == "Empty"
    assert any("little or no main content" in w for w in post.warnings)


# --- html_to_text ----------------------------------------------------------------------------------


def test_html_to_text_separates_blocks_and_keeps_inline_text_together() -> None:
    html = "<h2>Head</h2><p>One <b>bold</b> word<br>next line</p><ul><li>a</li><li>b</li></ul><script>x=1</script>"
    assert html_to_text(html) == "Head\n\nOne bold word\nnext line\n\na\n\nb"


def test_sniff_looks_past_stylesheet_instructions_and_stray_doctypes_to_a_feed_root() -> None:
    styled = b"<?xml version='1.0'?><?xml-stylesheet href='atom.css' type='text/css'?><feed xmlns='x'>"
    doctype = b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x">\n<!-- c -->\n<rss>'
    bogus = b'<?phpxml version="1.0" encoding="UTF-8"?> \n\n<rss version="2.0">'
    for head in (styled, doctype, bogus):
        assert not html_page.sniff(head, "feed.html")


def test_a_hundred_thousand_keywords_are_deduplicated_in_one_pass():
    from archiver.extract.metadata import _dedupe

    keywords = [f"k{i}" for i in range(100_000)]
    assert _dedupe([*keywords, "K5", ""]) == keywords


def test_meta_title_and_tags_name_a_fragment_post():
    # Nikola's HTML posts: metadata in <meta name=...> tags above the body, no <title>, no heading.
    data = (b'<meta name="title" content="T: HTML, 1">\n<meta name="date" content="2017-07-01 00:00:00 UTC">\n'
            b'<meta name="tags" content="meta,HTML">\n\nContent line 1.\nContent line 2.\n')
    [post] = html_page.parse(Input(data=data, name="post.html", origin=Origin(kind="file", uri="post.html")))
    assert (post.title, post.published, post.tags) == ("T: HTML, 1", "2017-07-01 00:00:00 UTC", ["meta", "HTML"])
