"""Ghost exports and API responses (fixtures in tests/fixtures/ghost, written for these tests after the
shape of Ghost 0.4 and 5.x exports), and the Lexical / Mobiledoc renderers."""

import json
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import ghost_json, ghost_render
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ghost"
GHOST5 = FIXTURES / "ghost-5-export.json"
GHOST04 = FIXTURES / "ghost-0.4-export.json"


def load(path: Path, data: bytes | None = None) -> Input:
    return Input(path.read_bytes() if data is None else data, path.name, Origin("file", str(path)))


def normalized(path: Path, data: bytes | None = None):
    return normalize_input(load(path, data), archived_at="2024-01-01T00:00:00+00:00")


def test_exports_are_detected_before_front_matter_and_other_json():
    assert formats.detect(GHOST5.read_bytes(), GHOST5.name) is ghost_json  # pretty-printed: opens with `{\n  "`
    assert formats.detect(GHOST04.read_bytes(), GHOST04.name) is ghost_json
    assert not ghost_json.sniff(b'{"posts": [{"title": "x"}]}', "x.json")
    assert not ghost_json.sniff((FIXTURES.parent / "wp_json" / "post.json").read_bytes()[:4096], "post.json")


def test_posts_pages_and_drafts_with_tags_and_authors_in_join_order():
    posts = normalized(GHOST5)
    assert [(p.title, p.extra["post_type"], p.status) for p in posts] == [
        ("Lexical all the way down", "post", "publish"),
        ("Kites (Mobiledoc)", "post", "publish"),
        ("About this site", "page", "publish"),
        ("Unfinished", "post", "draft"),
    ]
    assert posts[0].tags == ["Getting Started", "Ghost internals"]  # posts_tags.sort_order, not file order
    assert posts[0].authors == ["Ana Ruiz", "Ben Ode"]
    assert posts[1].tags == ["Kites", "#import"]
    assert posts[0].published_at == "2024-01-11T07:45:00+00:00"
    assert posts[0].source["site_name"] == "Pier and Kite"
    assert posts[0].language == "en"
    assert posts[1].excerpt == "All about kites."  # posts_meta.meta_description when no custom excerpt
    assert posts[1].canonical_url == "https://kites.example.com/original"
    assert posts[3].published_at is None


def test_stored_html_wins_and_ghost_url_placeholders_become_site_relative():
    about = normalized(GHOST5)[2]
    assert about.text == "This site is about kites and piers."
    assert 'href="/tag/kites/"' in about.content_html
    assert "__GHOST_URL__" not in json.dumps([p.content_html for p in normalized(GHOST5)])


def test_lexical_is_rendered_when_there_is_no_html():
    post = normalized(GHOST5)[0]
    assert post.text.startswith("Lexical bodies are trees of nodes, with links.")
    for piece in ("A heading", "The pier at dusk", "second item", "print('<hello>')", "Markdown card with bold text.",
                  "Ghost docs", "Text inside a node type nobody knows."):
        assert piece in post.text
    assert "<strong>nodes</strong>" in post.content_html
    assert post.warnings == ["Ghost lexical: unknown node fancy-box, its text kept"]


def test_mobiledoc_is_rendered_when_there_is_no_html():
    post = normalized(GHOST5)[1]
    assert post.text.startswith("Mobiledoc stores sections and markers, see the wind.")
    assert "line one\nline two" in post.text  # soft-return atom
    assert "<ol><li>alpha</li><li>beta</li></ol>" in post.content_html
    assert 'href="https://example.org/wind"' in post.content_html
    assert "Raw HTML card." in post.text and "A markdown card." in post.text


def test_ghost_04_export_epoch_dates_author_id_and_page_flag():
    posts = normalized(GHOST04)
    assert [(p.title, p.extra["post_type"]) for p in posts] == [("Welcome to Ghost", "post"), ("Colophon", "page")]
    assert posts[0].published_at == "2013-12-29T11:58:30.783000+00:00"
    assert posts[0].authors == ["Joe Bloggs"]
    assert posts[0].tags == ["Getting Started"]
    assert posts[1].text == "Made with Ghost."  # empty html: the Markdown source is rendered


def test_api_response_with_embedded_tags_and_authors():
    data = json.dumps({"posts": [{
        "id": "5c7e", "uuid": "3a03", "title": "Welcome", "slug": "welcome", "html": "<p>Hi there.</p>",
        "comment_id": "5c7e", "url": "https://demo.ghost.io/welcome/", "published_at": "2019-03-05T19:30:15.000+00:00",
        "tags": [{"name": "Getting Started"}], "authors": [{"name": "Ghost"}], "status": "published"}]}).encode()
    assert ghost_json.sniff(data, "posts.json")
    (post,) = normalized(GHOST5, data)
    assert (post.url, post.tags, post.authors, post.text) == (
        "https://demo.ghost.io/welcome/", ["Getting Started"], ["Ghost"], "Hi there.")


def test_an_export_without_posts_fails_with_no_posts():
    data = json.dumps({"db": [{"meta": {"exported_on": 1, "version": "5.0.0"}, "data": {"posts": [], "tags": []}}]})
    with pytest.raises(ParseError) as err:
        list(ghost_json.parse(load(GHOST5, data.encode())))
    assert err.value.code == "no_posts"


def test_a_truncated_export_is_a_parse_error():
    with pytest.raises(ParseError, match="truncated"):
        list(ghost_json.parse(load(GHOST5, GHOST5.read_bytes()[:3000])))


def test_renderers_survive_hostile_documents():
    assert ghost_render.lexical_to_html("not json") == ("", [])
    assert ghost_render.lexical_to_html('{"root":' + "[" * 100_000 + "]" * 100_000 + "}") == ("", [])
    assert ghost_render.mobiledoc_to_html({"sections": [[10, 99], [1, "p", [[0, [42], 5, "x"]]], "junk"]}) == (
        "<p>x</p>", [])
    deep: dict = {"type": "paragraph", "children": []}
    node = deep
    for _ in range(5000):
        child = {"type": "paragraph", "children": []}
        node["children"].append(child)
        node = child
    html, _ = ghost_render.lexical_to_html({"root": {"type": "root", "children": [deep]}})
    assert html.startswith("<p><p>")


def test_text_marks_and_unknown_cards_keep_their_text():
    html, warnings = ghost_render.lexical_to_html({"root": {"type": "root", "children": [
        {"type": "paragraph", "children": [{"type": "text", "text": "a<b", "format": 1 | 2 | 16}]},
        {"type": "mystery-card", "html": "<p>kept</p>"}]}})
    assert html == "<p><code><strong><em>a&lt;b</em></strong></code></p><p><p>kept</p></p>"
    assert warnings == ["Ghost lexical: unknown card mystery-card, its text kept"]
