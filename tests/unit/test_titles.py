"""Titles: a post without one takes its body's first heading before the file name; a tag written out in a
title (`&lt;html&gt;` in a WordPress export) is text, only formatting markup is stripped."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.model import Input, Origin, RawPost
from archiver.normalize import normalize
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures"
ORIGIN = Origin("file", "post.md")


def normalized(path: Path):
    return normalize_input(Input(path.read_bytes(), path.name, Origin("file", str(path))))


def test_front_matter_without_title_takes_the_first_heading_before_the_file_name():
    post = normalized(FIXTURES / "frontmatter" / "2020-05-06-file-name-slug.md")[0]
    assert post.title == "Setting up a reverse proxy"
    assert "no title: taken from the first heading of the body" in post.warnings
    assert post.text.startswith("Intro line before the heading.")  # the heading stays in the body


def test_a_body_opening_with_a_section_heading_gives_that_heading():
    raw = RawPost(format="frontmatter", body="<h2>Release notes</h2><p>Fixed.</p>", extra={"file_slug": "x-y"})
    assert normalize(raw, ORIGIN).title == "Release notes"


def test_a_later_section_heading_is_not_the_title_and_the_file_name_is():
    raw = RawPost(format="frontmatter", body="<p>Intro.</p><h2>Details</h2><p>More.</p>",
                  extra={"file_slug": "moving-house"})
    assert normalize(raw, ORIGIN).title == "Moving House"


def test_template_tags_in_a_heading_do_not_reach_the_title():
    raw = RawPost(format="frontmatter", body="# Hello {{ site.name }}\n\nText.", body_format="markdown")
    assert normalize(raw, ORIGIN).title == "Hello"


def test_wxr_titles_written_as_escaped_markup_are_text():
    titles = [post.title for post in normalized(FIXTURES / "wxr" / "titles_as_text.xml")]
    assert titles == ["<html>", "Using <script> tags safely", "Hello world \u2013 again"]


@pytest.mark.parametrize(("title", "expected"), [
    ("A <b>bold</b> move", "A bold move"),
    ("Atom &lt;feed&gt; basics", "Atom <feed> basics"),
    ("<p>Wrapped title</p>", "Wrapped title"),
    ("x < y and y > z", "x < y and y > z"),
])
def test_only_formatting_markup_is_stripped_from_titles(title, expected):
    raw = RawPost(format="rss", body="<p>x</p>", title=title)
    assert normalize(raw, ORIGIN).title == expected


def test_a_title_from_a_jekyll_file_name_is_titleized_as_jekyll_does():
    raw = RawPost(format="frontmatter", body="<p>No heading.</p>", extra={"file_slug": "march-the-second"})
    post = normalize(raw, ORIGIN)
    assert post.title == "March The Second"
    assert "no title: derived from the file name" in post.warnings
