"""Pelican reStructuredText posts rendered with docutils (fixtures in tests/fixtures/pelican)."""

import subprocess
import sys
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import rst
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pelican"


def load(name: str, data: bytes | None = None) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes() if data is None else data, name, Origin("file", str(path)))


def one(name: str, data: bytes | None = None):
    (post,) = normalize_input(load(name, data), archived_at="2024-01-01T00:00:00+00:00")
    return post


def test_detected_by_name_or_by_a_pelican_field_list():
    assert formats.detect(load("2013-04-01-gardens.rst").data, "2013-04-01-gardens.rst") is rst
    data = load("field-title.rst").data
    assert formats.detect(data, "post") is rst  # no name: the `:title:` field list says it
    assert formats.detect(data.replace(b":title:", b":date:", 1), "").NAME == "rst"
    assert not rst.sniff(b"Just a line of text\n", "notes.txt")


def test_title_and_docinfo_fields_are_mapped():
    post = one("2013-04-01-gardens.rst")
    assert post.title == "Walking the gardens of Suzhou"
    assert post.published_at == "2013-04-01T08:15:00+00:00"
    assert post.updated_at == "2013-04-02T09:00:00+00:00"
    assert post.tags == ["china", "gardens"]
    assert post.categories == ["Travel"]
    assert post.authors == ["Bernd Paysan", "Ana Ruiz"]
    assert post.excerpt == "A day in the classical gardens."
    assert post.source["format"] == "rst"


def test_body_is_rendered_without_title_or_fields_and_code_stays_code():
    post = one("2013-04-01-gardens.rst")
    assert post.text.startswith("The train from Shanghai takes half an hour.")
    assert ":date:" not in post.text and "Walking the gardens" not in post.text
    assert "<h2>The gardens</h2>" in post.content_html
    assert "<pre><code># not a heading: a shell comment" in post.content_html
    assert 'href="/maps/suzhou.pdf"' in post.content_html


def test_an_unknown_directive_keeps_its_text_and_says_so():
    post = one("2013-04-01-gardens.rst")
    assert ".. youtube:: dQw4w9WgXcQ" in post.text
    assert any('Unknown directive type "youtube"' in w for w in post.warnings)


def test_a_title_field_names_the_post():
    post = one("field-title.rst")
    assert post.title == "Notes on docutils"
    assert post.text.startswith("First paragraph of a post whose title is a field.")


def test_file_insertion_is_disabled(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = (f"Post\n====\n\n:date: 2020-01-01\n\n.. include:: {secret}\n\n.. raw:: html\n   :file: {secret}\n\n"
            f".. csv-table::\n   :file: {secret}\n\nText.\n").encode()
    post = one("x.rst", data)
    assert "TOP SECRET" not in post.content_html
    assert any('"include" directive disabled' in w for w in post.warnings)


def test_messages_never_reach_stderr(capfd):
    one("x.rst", b"Post\n====\n\n:date: 2020-01-01\n\n`broken link <\n\n* a\n  b\n* c\n\n.. nosuch::\n")
    assert capfd.readouterr().err == ""


def test_sniffing_every_format_does_not_import_docutils():
    code = ("import sys; from archiver import formats; "
            f"formats.detect(open({str(FIXTURES / 'field-title.rst')!r}, 'rb').read(), 'field-title.rst'); "
            "print('docutils' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_an_empty_file_is_refused():
    with pytest.raises(ParseError, match="empty"):
        list(rst.parse(load("empty.rst", b"\n\n")))


def test_nikola_metadata_comments_name_a_rst_post():
    data = b".. title: Nikola reST\n.. date: 2017-07-01 00:00:00 UTC\n.. tags: meta,reST\n\nContent line 1.\n"
    assert formats.detect(data, "post") is rst
    post = one("post.rst", data)
    assert (post.title, post.published_at, post.tags) == ("Nikola reST", "2017-07-01T00:00:00+00:00", ["meta", "reST"])
    assert post.text == "Content line 1."
