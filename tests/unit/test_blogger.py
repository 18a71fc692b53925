"""Blogger exports (classic backup and Takeout feed.atom): fixtures in tests/fixtures/blogger, written for
these tests after the shape of real exports (entry order, links, thr:in-reply-to, app:draft, blogger:*)."""

from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import blogger
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures"
CLASSIC = FIXTURES / "blogger" / "classic.xml"
TAKEOUT = FIXTURES / "blogger" / "takeout-feed.atom"


def load(path: Path, data: bytes | None = None) -> Input:
    return Input(path.read_bytes() if data is None else data, path.name, Origin("file", str(path)))


def test_both_export_shapes_are_detected_before_plain_atom():
    assert formats.detect(CLASSIC.read_bytes(), CLASSIC.name) is blogger
    assert formats.detect(TAKEOUT.read_bytes(), TAKEOUT.name) is blogger
    atom = (FIXTURES / "feed" / "atom.xml").read_bytes()
    assert not blogger.sniff(atom[:4096], "atom.xml")
    assert formats.detect(atom, "atom.xml").NAME == "feed"


def test_classic_export_gives_posts_and_pages_not_settings_template_or_comments():
    posts = list(blogger.parse(load(CLASSIC)))
    assert [(p.title, p.extra["post_type"], p.status) for p in posts] == [
        ("Counting cranes at dawn", "post", "publish"),
        (None, "post", "publish"),  # untitled on Blogger: normalize derives a title from the text
        ("Half-written ideas", "post", "draft"),
        ("About", "page", "publish"),
    ]
    assert posts[0].extra["export"] == {"entries_not_posts": {"settings": 3, "template": 1},
                                        "comments_without_post": 1}


def test_classic_post_fields_are_mapped():
    post = next(iter(blogger.parse(load(CLASSIC))))
    assert post.url == "http://fieldnotes.example.blogspot.com/2011/05/counting-cranes.html"
    assert post.original_id == "tag:blogger.com,1999:blog-7001.post-1001"
    assert post.published == "2011-05-11T19:46:00.000+02:00"
    assert post.updated == "2011-05-12T08:00:01.500+02:00"
    assert post.tags == ["Birds", "Winter count"]  # labels stay whole
    assert post.authors == ["Ana Ruiz"]
    assert post.image == "https://blogger.googleusercontent.com/img/cranes-s72-c.jpg"
    assert post.site_name == "Field Notes"
    assert post.site_url == "http://fieldnotes.example.blogspot.com/"
    assert "We counted <b>412</b> cranes &amp; two herons." in post.body


def test_classic_comments_are_kept_with_their_post_without_email():
    post = next(iter(blogger.parse(load(CLASSIC))))
    comments = post.extra["comments"]
    assert [c["author"] for c in comments] == ["Ben", "Anonymous"]
    assert comments[0] == {
        "id": "tag:blogger.com,1999:blog-7001.post-3001",
        "author": "Ben",
        "author_url": "https://ben.example.org/",
        "date": "2011-05-12T10:00:00.000+02:00",
        "content": "Wonderful count, thank you!",
        "type": "comment",
        "approved": True,
    }
    assert all("noreply" not in str(c) for c in comments)


def test_takeout_feed_maps_types_statuses_parents_and_paths():
    posts = list(blogger.parse(load(TAKEOUT)))
    assert [(p.title, p.extra["post_type"], p.status) for p in posts] == [
        ("Nach Suzhou", "post", "publish"), ("Entwurf", "post", "draft"), ("Impressum", "page", "publish")]
    first = posts[0]
    assert first.extra["path"] == "/2011/10/nach-suzhou.html"
    assert first.tags == ["China", "Reisen"]
    assert first.site_name == "Reisenotizen"
    assert [(c["author"], c["approved"]) for c in first.extra["comments"]] == [("Leserin", True), ("Spammer", False)]
    assert "export" not in first.extra  # nothing but posts, pages and comments in this file


def test_whole_path_archives_four_posts_with_text_and_dates():
    posts = normalize_input(load(CLASSIC), archived_at="2024-01-01T00:00:00+00:00")
    assert len(posts) == 4
    assert posts[1].title == "A short untitled note about the rain."
    assert posts[0].published_at == "2011-05-11T19:46:00+02:00"
    assert "412 cranes & two herons" in posts[0].text
    assert len(posts[0].extra["comments"]) == 2


def test_an_export_without_posts_fails_with_no_posts():
    data = CLASSIC.read_text()
    head = data.split("<entry><id>tag:blogger.com,1999:blog-7001.post-1001", 1)[0]
    only_settings = head + "</feed>\n"
    with pytest.raises(ParseError) as err:
        list(blogger.parse(load(CLASSIC, only_settings.encode())))
    assert err.value.code == "no_posts"
    assert "3 settings" in err.value.message and "1 template" in err.value.message


def test_entity_declarations_are_refused():
    evil = CLASSIC.read_bytes().replace(
        b"<feed ", b'<!DOCTYPE feed [<!ENTITY x "boom">]><feed ', 1)
    with pytest.raises(ParseError, match="declares entities"):
        list(blogger.parse(load(CLASSIC, evil)))


def test_a_cut_off_export_keeps_the_posts_before_the_cut():
    data = CLASSIC.read_bytes()
    cut = data[: data.index(b"<entry><id>tag:blogger.com,1999:blog-7001.post-1003")]
    posts = list(blogger.parse(load(CLASSIC, cut)))
    assert [p.title for p in posts] == ["Counting cranes at dawn", None]
