"""UTF-16 and UTF-32 feeds are read as their bytes say (XML 1.0 appendix F), BOM or not, whatever they declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver import formats
from archiver.formats import feed, wxr
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures"
ATOM = ('<?xml version="1.0" encoding="{declared}"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        "<entry><title>Élan</title><id>https://x.example/1</id><content>Ça</content></entry></feed>")


def posts(data: bytes, name: str = "feed.xml"):
    return normalize_input(Input(data, name, Origin("file", name)))


def test_utf16_le_feed_without_bom_declaring_latin1_is_read_as_utf16():
    path = FIXTURES / "feed" / "utf16le_no_bom.rss"
    assert not path.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    [post] = posts(path.read_bytes(), path.name)
    assert (post.title, post.text) == ("Élan vital", "Ça marche — 日本語も.")
    assert post.published_at == "2018-09-24T19:42:40+00:00"
    assert any("does not fit the document's bytes; read as UTF-16-LE" in w for w in post.warnings)


def test_utf16_be_atom_without_bom_is_read():
    path = FIXTURES / "feed" / "utf16be_no_bom.atom"
    [post] = posts(path.read_bytes(), path.name)
    assert (post.title, post.text) == ("Große Straße", "Grüße aus Köln.")
    assert post.warnings == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-16", "utf-32"])
@pytest.mark.parametrize("declared", ["UTF-16", "UTF-32", "UTF-8", "ISO-8859-1", "windows-1252", "utf-16be"])
def test_every_wide_encoding_is_read_whatever_the_declaration(codec, declared):
    [post] = posts(ATOM.format(declared=declared).encode(codec))
    assert (post.title, post.text) == ("Élan", "Ça")


def test_utf8_documents_pass_unchanged():
    data = ATOM.format(declared="UTF-8").encode()
    assert feed.as_utf8(data) == (data, [])


def test_wordpress_exports_in_utf16_are_recognised_as_wxr():
    data = (FIXTURES / "wxr" / "export.xml").read_text(encoding="utf-8").replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le")
    assert formats.detect(data[:4096], "export.xml") is wxr
    assert [p.title for p in posts(data, "export.xml")] == ["Hello & welcome", "Work in progress", "About"]
