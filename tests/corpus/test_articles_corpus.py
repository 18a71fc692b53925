"""The HTML page format over real article pages (../shared/corpus/articles), when present."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from archiver.formats import detect, html_page
from archiver.model import Input, Origin
from archiver.text import html_to_text

ARTICLES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "articles"
SAMPLE = 20

pytestmark = pytest.mark.corpus


def _sample() -> list[Path]:
    pages = sorted((ARTICLES / "html").glob("*.html.gz"))
    step = max(1, len(pages) // SAMPLE)
    return pages[::step][:SAMPLE]


def test_every_sampled_article_page_is_detected_and_yields_text() -> None:
    if not (ARTICLES / "html").is_dir():
        pytest.skip(f"article corpus not found at {ARTICLES}")
    empty = []
    for path in _sample():
        data = gzip.decompress(path.read_bytes())
        name = path.name.removesuffix(".gz")
        assert detect(data, name) is html_page, name
        post = next(html_page.parse(Input(data=data, name=name, origin=Origin(kind="file", uri=str(path)))))
        if len(html_to_text(post.body).split()) < 20 or not post.title:
            empty.append(name)
    assert not empty, f"pages without a title or body text: {empty}"
