from pathlib import Path

import pytest

from archiver.errors import ParseError
from archiver.formats import feed
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "feed"


def load(name: str) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes(), name, Origin("file", str(path)))


def posts(name: str):
    return list(feed.parse(load(name)))


def test_sniff_recognises_feed_roots_not_html():
    assert feed.sniff(load("rss2.xml").data, "x.xml")
    assert feed.sniff(load("atom.xml").data, "x")
    assert feed.sniff(load("rdf.rdf").data, "x")
    assert not feed.sniff(load("not_a_feed.xml").data, "x.xml")
    assert not feed.sniff(b"<!DOCTYPE html><html></html>", "page.html")


def test_sniff_reads_utf16_and_bom_and_odd_prolog():
    assert feed.sniff('<?xml version="1.0"?><rss/>'.encode("utf-16"), "x")
    assert feed.sniff('<?xml version="1.0"?><feed/>'.encode("utf-16-le"), "x")
    assert feed.sniff(b"\xef\xbb\xbf\n\n<?phpxml nonsense?>\n<rss version='2.0'>", "x")


def test_rss_item_uses_content_encoded_and_keeps_summary_as_excerpt():
    first = posts("rss2.xml")[0]
    assert first.format == "rss"
    assert "<b>full</b>" in first.body
    assert first.excerpt == "Short summary of the first post."
    assert first.title == "First post"
    assert first.url == "https://blog.example.com/2024/01/first-post/"
    assert first.original_id == "post-1"
    assert first.authors == ["Jane Doe"]
    assert first.categories == ["News", "Testing"]
    assert first.published == "2024-01-02T09:30:00Z"  # UTC from feedparser's parsed struct
    assert first.front_matter["published"] == "Tue, 02 Jan 2024 10:30:00 +0100"  # raw kept
    assert first.site_name == "Example Blog"
    assert first.site_url == "https://blog.example.com/"
    assert first.image == "https://blog.example.com/cover.jpg"
    assert first.warnings == []


def test_rss_item_without_content_uses_summary_as_body_and_skips_empty_items():
    result = posts("rss2.xml")
    assert len(result) == 2  # the bare enclosure item has neither title nor content
    assert "Only a description here." in result[1].body
    assert result[1].excerpt is None


def test_atom_prefers_content_and_lists_all_authors():
    (entry,) = posts("atom.xml")
    assert entry.format == "atom"
    assert "complete atom content" in entry.body
    assert entry.excerpt == "The summary."
    assert entry.authors == ["Alice", "Bob"]
    assert entry.published == "2024-02-28T14:15:00Z"
    assert entry.updated == "2024-03-01T12:00:00Z"
    assert entry.categories == ["python"]
    assert entry.original_id == "tag:atom.example.org,2024:1"
    assert entry.site_url == "https://atom.example.org/"


def test_rdf_feed_is_reported_as_rdf():
    (entry,) = posts("rdf.rdf")
    assert entry.format == "rdf"
    assert entry.authors == ["Carol"]
    assert entry.site_name == "RDF Site"


def test_broken_feed_yields_what_it_can_with_a_warning():
    result = posts("broken.rss")
    assert result and result[0].title == "Still readable"
    assert all(p.warnings and "not well-formed" in p.warnings[0] for p in result)


def test_document_that_is_no_feed_raises_parse_error():
    with pytest.raises(ParseError, match="not an RSS/Atom/RDF feed"):
        posts("not_a_feed.xml")


def test_feed_without_entries_yields_nothing():
    data = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
    assert list(feed.parse(Input(data, "empty.rss", Origin("file", "empty.rss")))) == []


def test_bytes_that_look_like_a_path_are_never_opened_as_a_file(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(b"<rss version='2.0'><channel><item><title>leak</title></item></channel></rss>")
    item = Input(str(secret).encode(), "x.rss", Origin("file", "x.rss"))
    with pytest.raises(ParseError):
        list(feed.parse(item))


def test_billion_laughs_in_a_feed_is_not_expanded():
    lols = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">' + lols + "]>"
        "<rss version='2.0'><channel><title>t</title><item><title>x</title>"
        "<description>&lol9;</description></item></channel></rss>"
    ).encode()
    try:
        result = list(feed.parse(Input(data, "lol.rss", Origin("file", "lol.rss"))))
    except ParseError:
        result = []
    assert all(len(p.body) < 10_000 for p in result)


def test_a_base64_title_of_escaped_markup_is_its_text():
    import base64

    encoded = base64.b64encode(b"&lt;p&gt;Entry &amp;amp; Title&lt;/p&gt;").decode()
    data = (f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x:1</id>'
            f'<title type="application/octet-stream">{encoded}</title><content>Body.</content></entry></feed>')
    [post] = normalize_input(Input(data.encode(), "feed.atom", Origin("file", "feed.atom")))
    assert post.title == "Entry & Title"
