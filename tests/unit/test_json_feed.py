from pathlib import Path

import pytest

from archiver.errors import ParseError
from archiver.formats import json_feed
from archiver.model import Input, Origin

FIXTURES = Path(__file__).parent.parent / "fixtures" / "json_feed"


def load(name: str) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes(), name, Origin("file", str(path)))


def test_sniff_accepts_json_feed_and_rss_in_json_but_not_wordpress_json():
    assert json_feed.sniff(load("feed11.json").data[:4096], "feed.json")
    assert json_feed.sniff(load("rss_in_json.json").data, "x.json")
    assert json_feed.sniff(b'{"version": "https:\\/\\/jsonfeed.org\\/version\\/1", "items": []}', "x")
    assert not json_feed.sniff(b'{"id": 1, "title": {"rendered": "x"}, "content": {"rendered": ""}}', "x")
    assert not json_feed.sniff(b"[1, 2]", "x.json")


def test_items_become_posts_with_feed_metadata():
    first, second = json_feed.parse(load("feed11.json"))
    assert first.format == "jsonfeed"
    assert first.body == "<p>Hello <em>world</em></p>"
    assert first.excerpt == "Hello"
    assert first.title == "HTML item"
    assert first.url == "https://json.example.com/one"
    assert first.canonical_url == "https://original.example.org/story"
    assert first.original_id == "1"
    assert first.published == "2024-04-01T10:00"
    assert first.updated == "2024-04-02T11:00:00Z"
    assert first.authors == ["Item Author"]
    assert first.tags == ["a", "b"]
    assert first.image == "https://json.example.com/one.png"
    assert first.site_name == "JSON Example"
    assert first.site_url == "https://json.example.com/"
    assert first.language == "en"
    assert second.authors == ["Legacy Author"]
    assert second.body == "<p>Plain &lt;text&gt; line one.</p><p>Second paragraph.</p>"


def test_truncated_json_feed_raises_parse_error_saying_truncated():
    with pytest.raises(ParseError, match="truncated JSON"):
        list(json_feed.parse(load("truncated.json")))


def test_rss_expressed_as_json_is_read_like_rss():
    (post,) = json_feed.parse(load("rss_in_json.json"))
    assert post.format == "rss-json"
    assert post.body == "A note without a title."
    assert post.url == "http://scripted.example.com/1"
    assert post.published == "Mon, 26 Jun 2017 12:20:05 GMT"
    assert post.site_name == "Scripted"
