"""Footnotes are kept: Markdown `[^1]` footnotes are rendered, Gutenberg `wp:footnotes` get their text back."""

from __future__ import annotations

from pathlib import Path

from archiver.gutenberg import with_footnotes
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures"


def normalized(path: Path):
    return normalize_input(Input(path.read_bytes(), path.name, Origin("file", str(path))))[0]


def test_markdown_footnotes_are_rendered_as_references_and_a_list_of_notes():
    post = normalized(FIXTURES / "frontmatter" / "footnotes.md")
    assert "[^" not in post.content_html and "[^" not in post.text
    assert post.text.startswith("The harbour opened in 1875[1] and closed a century later[2].")
    assert "<li><p>Town records, volume <em>III</em>, page 12.</p>" in post.content_html
    assert "The last ship left in 1977." in post.text
    assert "\u21a9" not in post.text  # the back-link arrow is navigation, not text


def test_gutenberg_footnotes_from_post_meta_are_put_where_the_block_stands():
    post = normalized(FIXTURES / "wxr" / "gutenberg_footnotes.xml")
    assert "<li>Town records, volume <em>III</em>, page 12.</li>" in post.content_html
    assert post.text.endswith("Town records, volume III, page 12.\n\nThe last ship left in 1977.")
    assert post.warnings == []


def test_footnotes_are_appended_when_the_body_references_them_without_the_block():
    body, warnings = with_footnotes('<p>x<sup data-fn="a">1</sup></p>', '[{"id": "a", "content": "Note."}]')
    assert body == '<p>x<sup data-fn="a">1</sup></p>\n<ol class="wp-block-footnotes"><li>Note.</li></ol>'
    assert warnings == []


def test_unreadable_footnotes_meta_is_a_warning_and_the_body_is_unchanged():
    body, warnings = with_footnotes("<p>x</p><!-- wp:footnotes /-->", "{not json")
    assert body == "<p>x</p><!-- wp:footnotes /-->" and warnings


def test_a_body_without_footnotes_is_left_alone():
    assert with_footnotes("<p>x</p>", '[{"id": "a", "content": "Note."}]') == ("<p>x</p>", [])
