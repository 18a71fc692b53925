"""Pelican / MultiMarkdown metadata headers (fixtures in tests/fixtures/pelican, written for these tests)."""

from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import pelican
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pelican"


def load(name: str, data: bytes | None = None) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes() if data is None else data, name, Origin("file", str(path)))


def one(name: str):
    (post,) = normalize_input(load(name), archived_at="2024-01-01T00:00:00+00:00")
    return post


@pytest.mark.parametrize("name", ["2012-11-30-crane-count.md", "mmd-notes.txt"])
def test_a_metadata_header_is_detected_before_front_matter(name):
    assert formats.detect(load(name).data, name) is pelican


@pytest.mark.parametrize("head", [
    b"---\ntitle: x\n---\nbody",  # a fenced front matter is Jekyll's
    b"Note: a sentence with a colon\nthat goes on.\n\nMore.",  # prose before the blank line
    b"Date: Mon, 1 Jan 2024\nFrom: a@b\n\nan e-mail names no Title",
    b"<p>Title: html</p>",
])
def test_other_texts_are_not_headers(head):
    assert not pelican.sniff(head, "post.md")


def test_prose_that_opens_with_a_colon_stays_a_plain_markdown_post():
    assert formats.detect(load("not-a-header.md").data, "not-a-header.md").NAME == "frontmatter"


def test_header_fields_are_mapped_and_lists_stay_whole():
    post = one("2012-11-30-crane-count.md")
    assert post.title == "Counting cranes: the winter tally"  # a colon inside a value is kept
    assert post.published_at == "2012-11-30T10:20:00+00:00"
    assert post.updated_at == "2012-12-05T19:30:00+00:00"
    assert post.categories == ["Field notes"]  # Pelican's category is one value, never split
    assert post.tags == ["cranes", "winter count", "Lake Hornborga"]
    assert post.authors == ["Ana Ruiz", "Ben Ode"]  # semicolons separate when present
    assert post.excerpt == "Four hundred cranes before breakfast, and two herons."  # indented continuation
    assert post.front_matter["Slug"] == "crane-count"  # kept as written
    assert post.extra["file_slug"] == "crane-count"


def test_header_lines_are_not_in_the_text_and_the_body_is_rendered():
    post = one("2012-11-30-crane-count.md")
    assert post.text.startswith("Before sunrise the first flock came over the reeds.")
    assert "Title:" not in post.text and "Tags:" not in post.text
    assert "<h2>Totals</h2>" in post.content_html


def test_pelican_link_placeholders_become_site_relative_paths():
    post = one("2012-11-30-crane-count.md")
    assert '<img src="/images/cranes.jpg"' in post.content_html
    assert 'href="/2012-04-01-spring.md"' in post.content_html
    assert "{static}" not in post.content_html and "{filename}" not in post.content_html


def test_multimarkdown_keys_with_spaces_and_continued_values():
    post = one("mmd-notes.txt")
    assert post.title == "A MultiMarkdown note"
    assert post.authors == ["Fletcher T. Penney"]
    assert post.tags == ["MultiMarkdown", "metadata", "headers"]
    assert post.front_matter["Base Header Level"] == "2"
    assert post.published_at == "2011-02-03T00:00:00+00:00"


def test_date_and_slug_come_from_the_file_name_when_the_header_has_none():
    raw = next(pelican.parse(load("2019-03-04-a-walk.md", b"Title: A walk\n\nText.\n")))
    assert raw.published == "2019-03-04"
    assert raw.extra["file_slug"] == "a-walk"


def test_status_draft_and_hidden_are_kept():
    raw = next(pelican.parse(load("d.md", b"Title: Later\nStatus: draft\n\nText.\n")))
    assert raw.status == "draft"
    raw = next(pelican.parse(load("h.md", b"Title: Secret\nStatus: hidden\n\nText.\n")))
    assert raw.status == "hidden"


def test_parse_refuses_text_without_a_header():
    with pytest.raises(ParseError, match="metadata header"):
        list(pelican.parse(load("not-a-header.md")))


def test_liquid_tags_become_images_and_links_and_file_includes_are_named():
    data = (b"Title: Tags\nDate: 2013-05-07 17:00\n\n{% img /images/galaxy.jpg 300 200 A Galaxy %}\n\n"
            b"{% youtube dQw4w9WgXcQ %}\n\n{% notebook downloads/notebooks/Test.ipynb %}\n\n"
            b"```\n{% img /not/an/image.png %}\n```\n\nText after.\n")
    (post,) = normalize_input(load("tags.md", data), archived_at="2024-01-01T00:00:00+00:00")
    assert '<img src="/images/galaxy.jpg" alt="A Galaxy">' in post.content_html
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in post.content_html
    assert "{% notebook" not in post.text and "{% img /not/an/image.png %}" in post.text  # code stays code
    assert post.warnings == ["Pelican tag {% notebook %} left out: what it includes is not part of the post"]


def test_a_header_without_title_names_the_post_after_its_first_heading():
    data = b"category: yeah\nauthor: Alexis\n\nMarkdown with filename metadata\n===============================\n"
    assert pelican.sniff(data, "2012-11-30_md_w_filename_meta#foo-bar.md")
    (post,) = normalize_input(load("2012-11-30_md_w_filename_meta#foo-bar.md", data),
                              archived_at="2024-01-01T00:00:00+00:00")
    assert post.title == "Markdown with filename metadata"
    assert post.published_at == "2012-11-30T00:00:00+00:00"
    assert post.categories == ["yeah"] and post.authors == ["Alexis"]
    assert not pelican.sniff(b"Date: Mon, 1 Jan 2024\nSubject: hi\n\nan e-mail", "mail.txt")


def test_nikola_metadata_comment_opens_a_markdown_post():
    data = (b"<!--\n.. title: Nikola post\n.. slug: nikola-post\n.. date: 2017-07-01 00:00:00 UTC\n"
            b".. tags: meta,Markdown\n.. category: \n-->\n\nContent line 1.\nContent line 2.\n")
    assert formats.detect(data, "post.md") is pelican
    (post,) = normalize_input(load("post.md", data), archived_at="2024-01-01T00:00:00+00:00")
    assert (post.title, post.published_at, post.tags) == ("Nikola post", "2017-07-01T00:00:00+00:00",
                                                           ["meta", "Markdown"])
    assert post.text == "Content line 1. Content line 2."
    assert not pelican.sniff(b"<!-- a comment -->\n<p>html</p>", "x.md")
