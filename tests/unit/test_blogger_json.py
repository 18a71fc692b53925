"""Blogger API v3 responses: written for these tests after the shape of the API's blogger#postList."""

import json

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import blogger_json
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

POST = {"kind": "blogger#post", "id": "123", "blog": {"id": "9"}, "published": "2017-06-20T00:32:00-04:00",
        "updated": "2017-06-20T00:32:57-04:00", "url": "http://example.blogspot.com/2017/06/lorem.html",
        "title": "Lorem &amp; more", "content": "<p>Lorem content, long enough.</p>",
        "author": {"id": "1", "displayName": "Important Author &amp; Co."},
        "labels": ["books", "Good &amp; Bad"], "images": [{"url": "https://example.com/a.jpg"}]}


def inp(doc: object) -> Input:
    return Input(json.dumps(doc).encode(), "posts.json", Origin("file", "posts.json"))


def test_a_post_list_gives_one_post_per_item():
    doc = {"kind": "blogger#postList", "items": [POST, {**POST, "id": "124", "status": "DRAFT", "title": "Draft"}]}
    assert formats.detect(inp(doc).data, "posts.json") is blogger_json
    first, draft = normalize_input(inp(doc), archived_at="2024-01-01T00:00:00+00:00")
    assert first.title == "Lorem & more"
    assert first.authors == ["Important Author & Co."]
    assert first.tags == ["books", "Good & Bad"]
    assert first.published_at == "2017-06-20T00:32:00-04:00"
    assert first.url == "http://example.blogspot.com/2017/06/lorem.html"
    assert first.image == "https://example.com/a.jpg"
    assert first.text == "Lorem content, long enough."
    assert draft.status == "draft"


def test_a_bare_array_and_a_single_post_are_read_too():
    assert len(list(blogger_json.parse(inp([POST, POST])))) == 2
    assert len(list(blogger_json.parse(inp(POST)))) == 1


def test_an_empty_list_fails_with_no_posts():
    with pytest.raises(ParseError) as err:
        list(blogger_json.parse(inp({"kind": "blogger#postList", "items": []})))
    assert err.value.code == "no_posts"
