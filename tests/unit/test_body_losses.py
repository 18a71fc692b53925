"""Nothing of a body lost: one regression test per class of loss found on real exports, each on a file of
our own making (tests/fixtures/body-losses/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.clean_html import clean
from archiver.errors import ArchiverError
from archiver.model import Input, Origin, Post
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "body-losses"


def posts(name: str) -> list[Post]:
    path = FIXTURES / name
    return normalize_input(Input(data=path.read_bytes(), name=name, origin=Origin("file", str(path))))


def test_a_markdown_body_with_raw_html_blocks_is_still_rendered_as_markdown() -> None:
    [post] = posts("markdown-with-an-html-block.md")
    assert '<a href="http://x.example/"' in post.content_html and "<strong>bold</strong>" in post.content_html
    assert "<p>raw html para</p>" in post.content_html
    assert '<a href="https://y.example/page"' in post.content_html
    assert "[link]" not in post.text and "**" not in post.text


def test_restructuredtext_math_keeps_its_tex_source() -> None:
    [post] = posts("math.rst")
    assert "Setting E=mc^2 yields:" in post.text
    assert "a^2 + b^2 = c^2" in post.text
    assert "<code>E=mc^2</code>" in post.content_html


def test_zola_terms_under_taxonomies_are_the_posts_tags_and_categories() -> None:
    [post] = posts("zola-taxonomies.md")
    assert (post.tags, post.categories) == (["zola", "nice"], ["web"])


def test_comments_on_a_blogger_page_stay_with_the_page() -> None:
    by_title = {post.title: post for post in posts("blogger-comments-on-a-page.xml")}
    assert [c["content"] for c in by_title["About this blog"].extra["comments"]] == [
        "Nice about page!", "Thanks for writing."]
    assert len(by_title["First post"].extra["comments"]) == 1
    assert "comments_without_post" not in by_title["First post"].extra.get("export", {})


def test_a_ghost_export_is_known_by_its_shape_and_unknown_json_is_refused_not_an_empty_post() -> None:
    [post] = posts("ghost-export-without-meta.json")
    assert (post.title, post.tags, post.source["format"]) == ("Ghost without meta", ["ghosts"], "ghost_json")
    with pytest.raises(ArchiverError) as refused:
        posts("unknown-export.json")
    assert refused.value.code == "unsupported_format"


def test_adjacent_embed_cards_and_boxes_keep_their_words_apart() -> None:
    [post] = posts("medium-two-embed-cards.html")
    assert "en.wikipedia.orgThe Long" not in post.text
    assert "en.wikipedia.org\n\nThe Long, Strange History of Birds" in post.text
    assert clean("<div>Alpha one</div><div>Beta two</div>") == "<p>Alpha one</p>\n<p>Beta two</p>"
    assert clean("<ul><li><div>one</div><div>two</div></li></ul>") == "<ul><li>one<br>two</li></ul>"


def test_deep_nesting_is_flattened_with_a_warning_never_dropped() -> None:
    [page] = posts("nested-300-divs.html")
    assert "The deep paragraph must survive the nesting." in page.text
    assert any("nested over 256 levels" in warning for warning in page.warnings)
    [quotes] = posts("quotes-40-deep.md")
    assert "twenty levels down" in quotes.text and "forty levels down" in quotes.text
    assert any("quotes nested over" in warning for warning in quotes.warnings)


def test_a_lone_surrogate_escape_becomes_a_replacement_character_with_a_warning() -> None:
    [post] = posts("lone-surrogate.json")
    assert post.title == "Broken \ufffd escape"
    assert "A lone \ufffd half and a whole \U0001f600 pair." in post.text
    assert any("lone UTF-16 surrogate" in warning for warning in post.warnings)
    json.dumps(post.to_dict(), ensure_ascii=False).encode("utf-8")  # post.json can be written


SOURCE_SUFFIXES = (".md", ".markdown", ".rst")


def test_no_markdown_or_rest_of_the_fixtures_is_left_unrendered_or_loses_its_math() -> None:
    from invariants import markup_hole  # tests/corpus/invariants.py: the corpus check, here on our fixtures

    from archiver import formats
    from archiver.normalize import normalize

    roots = (FIXTURES.parent, FIXTURES.parents[1] / "realworld" / "files")
    checked, holes = 0, []
    for path in sorted(p for root in roots for p in root.rglob("*") if p.suffix.lower() in SOURCE_SUFFIXES):
        item = Input(data=path.read_bytes(), name=path.name, origin=Origin("file", str(path)))
        try:
            raws = formats.parse(item)
        except ArchiverError:
            continue
        for raw in raws:
            checked += 1
            if problem := markup_hole(raw, normalize(raw, item.origin)):
                holes.append(f"{path.name}: {problem}")
    assert checked > 50 and not holes, holes
