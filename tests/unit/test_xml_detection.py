"""XML that is neither a feed, a WordPress export nor (X)HTML is `unsupported_format`, not an article."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import UnsupportedFormat
from archiver.formats import html_page
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

CATALOG = Path(__file__).parent.parent / "fixtures" / "xml" / "catalog.xml"


def test_a_book_catalog_is_refused_as_unsupported_format():
    item = Input(CATALOG.read_bytes(), CATALOG.name, Origin("file", str(CATALOG)))
    with pytest.raises(UnsupportedFormat) as error:
        normalize_input(item)
    assert (error.value.code, error.value.stage) == ("unsupported_format", "detect")


@pytest.mark.parametrize(("data", "name"), [
    (b'<?xml version="1.0"?>\n<opml version="2.0"><head><title>Subscriptions</title></head><body/></opml>',
     "subs.xml"),
    (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'
     b"https://example.org/</loc></url></urlset>", "sitemap.xml"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><title>Logo</title><circle r="4"/></svg>', "logo.svg"),
    (b"<catalog><book><title>Saved as .html</title></book></catalog>", "books.html"),
])
def test_other_xml_documents_are_not_html_pages(data, name):
    assert not html_page.sniff(data, name)
    with pytest.raises(UnsupportedFormat):
        formats.detect(data, name)


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
    b"<title>T</title></head><body><p>x</p></body></html>",
    b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p></body></html>',
    b"<div class='post'><h1>A saved fragment</h1><p>Text.</p></div>",
    b"<meta charset='utf-8'><title>No html element</title><p>Text.</p>",
])
def test_xhtml_and_html_fragments_are_still_pages(data):
    assert formats.detect(data, "page.html") is html_page
