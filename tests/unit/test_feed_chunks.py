"""Large feeds split like WXR exports: `count` and `parse(input, start, stop)` for RSS, Atom and JSON Feed."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import make_feed  # scripts/ (pytest's pythonpath)
import pytest

from archiver import formats, pipeline
from archiver.errors import ArchiverError, ParseError
from archiver.formats import feed, json_feed
from archiver.model import Input, Origin

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = Origin("file", "/feeds/big")


@pytest.mark.parametrize("kind, name", [("rss", "big.rss"), ("atom", "big.atom"), ("json", "big.json")])
def test_ranges_of_a_feed_are_exactly_its_entries_in_order(kind: str, name: str):
    item = Input(getattr(make_feed, {"json": "json_feed"}.get(kind, kind))(23, paragraphs=1).encode(), name, ORIGIN)
    module = formats.detect(item.head(formats.SNIFF_BYTES), name)
    assert formats.can_split(module)
    assert module.count(item) == 23

    whole = [asdict(post) for post in module.parse(item)]
    ranges = [asdict(post) for start in range(0, 23, 10) for post in module.parse(item, start, start + 10)]

    assert len(whole) == 23 and ranges == whole
    assert [post.title for post in module.parse(item, 20, None)] == ["Entry 20", "Entry 21", "Entry 22"]


@pytest.mark.parametrize("fixture", ["feed/rss2.xml", "feed/atom.xml", "feed/rdf.rdf"])
def test_ranges_of_real_feeds_match_the_whole_feed(fixture: str):
    path = ROOT / "tests" / "fixtures" / fixture
    item = Input(path.read_bytes(), path.name, ORIGIN)
    total = feed.count(item)
    whole = [asdict(post) for post in feed.parse(item)]
    assert [asdict(post) for start in range(total) for post in feed.parse(item, start, start + 1)] == whole


def test_json_feed_ranges_include_rss_in_json():
    path = ROOT / "tests" / "fixtures" / "json_feed" / "rss_in_json.json"
    item = Input(path.read_bytes(), path.name, ORIGIN)
    assert json_feed.count(item) == 1
    assert [p.title for p in json_feed.parse(item, 0, 1)] == [p.title for p in json_feed.parse(item)]
    assert list(json_feed.parse(item, 1, 2)) == []


def test_a_feed_declaring_entities_is_never_split_nor_expanded():
    data = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + b"x" * 100 + b'">]>'
            b"<rss version='2.0'><channel><item><title>&big;</title></item></channel></rss>")
    with pytest.raises(ParseError, match="entities"):
        feed.count(Input(data, "e.rss", ORIGIN))


def test_a_feed_lxml_cannot_read_strictly_is_archived_whole_not_split():
    path = ROOT / "tests" / "fixtures" / "feed" / "broken.rss"
    item = Input(path.read_bytes(), path.name, ORIGIN)
    with pytest.raises(ParseError, match="not well-formed"):
        feed.count(item)
    assert pipeline.split(item, "raw/k", 1) == []  # the whole path reads it as far as feedparser can


def test_a_feed_with_more_entries_than_a_chunk_is_split():
    item = Input(make_feed.rss(60, paragraphs=1).encode(), "big.rss", ORIGIN)
    planned = pipeline.split(item, "raw/ab/abcd", 25)
    assert [(c.start, c.stop, c.format, c.total) for c in planned] == [
        (0, 25, "feed", 60), (25, 50, "feed", 60), (50, 60, "feed", 60)]
    assert pipeline.split(item, "raw/ab/abcd", 60) == []


# -- slices: a chunk reads only its own bytes --------------------------------------------------------


def sliced(module, item: Input, chunk_posts: int) -> list[dict]:
    context, slices = module.plan_slices(item, chunk_posts)
    data = item.read_bytes()
    return [asdict(post) for piece in slices
            for post in module.parse_slice(Input(data[piece.begin:piece.end], item.name, ORIGIN), context)]


@pytest.mark.parametrize("kind, name", [("rss", "big.rss"), ("atom", "big.atom")])
def test_slices_of_a_feed_are_exactly_its_entries_in_order(kind: str, name: str):
    item = Input(getattr(make_feed, kind)(23, paragraphs=1).encode(), name, ORIGIN)
    _, slices = feed.plan_slices(item, 10)
    assert [(s.start, s.stop) for s in slices] == [(0, 10), (10, 20), (20, 23)]
    assert sliced(feed, item, 10) == [asdict(post) for post in feed.parse(item)]


@pytest.mark.parametrize("fixture", ["feed/rss2.xml", "feed/atom.xml", "feed/rdf.rdf"])
def test_slices_of_real_feeds_match_the_whole_feed(fixture: str):
    path = ROOT / "tests" / "fixtures" / fixture
    item = Input(path.read_bytes(), path.name, ORIGIN)
    assert sliced(feed, item, 1) == [asdict(post) for post in feed.parse(item)]


def test_every_corpus_feed_that_slices_gives_the_posts_of_the_whole_feed():
    corpus = ROOT.parent / "shared" / "corpus" / "feeds"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} not found (the real-world corpus sits beside the project in CI)")
    assert slices_match_whole(feed, sorted(corpus.iterdir())) >= 40  # 44 of the corpus feeds have posts and slice


def slices_match_whole(module, paths: list[Path]) -> int:
    """Check that every file of `module`'s format that slices gives, slice by slice, the posts of the
    whole file; returns how many were compared."""
    compared = 0
    for path in paths:
        item = Input(path.read_bytes(), path.name, ORIGIN)
        try:
            if formats.detect(item.head(formats.SNIFF_BYTES), path.name) is not module:
                continue
            whole = [asdict(post) for post in module.parse(item)]
            planned = module.plan_slices(item, 1)
        except ArchiverError:  # not this format, no posts, or not well-formed (archived whole, never split)
            continue
        if planned is not None:
            assert sliced(module, item, 1) == whole, path.name
            compared += 1
    return compared


class ContextStore:
    """The one store method `pipeline.split` calls: it keeps the context a format's slices share."""

    def save_chunk_context(self, raw_key: str, context: dict) -> str:
        self.context = context
        return "chunks/ab/abcd/context.json"


def test_a_feed_split_by_the_pipeline_gives_slices_with_a_shared_context():
    item = Input(make_feed.rss(60, paragraphs=1).encode(), "big.rss", ORIGIN)
    store = ContextStore()
    planned = pipeline.split(item, "raw/ab/abcd", 25, store=store)
    assert [(c.start, c.stop, c.context_key) for c in planned] == [
        (0, 25, "chunks/ab/abcd/context.json"), (25, 50, "chunks/ab/abcd/context.json"),
        (50, 60, "chunks/ab/abcd/context.json")]
    assert store.context["head"].startswith("<?xml") and store.context["tail"].strip().endswith("</rss>")


# -- JSON Feed slices -------------------------------------------------------------------------------

TRICKY_JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1", "title": "T [x] {y}", "_meta": {"items": [{"not": "an item"}]},
    "items": [
        {"id": "1", "title": 'brackets \\" ] } [ { in a string', "content_html": "<p>x</p>", "tags": ["[", "]"],
         "_x": {"items": [1, [2]]}},
        {"id": "2", "title": "é ü 漢字 ]", "content_text": "b\n\nc"},
    ],
    "after": [{"k": "v"}],
}


def test_slices_of_a_json_feed_are_exactly_its_items_in_order():
    item = Input(make_feed.json_feed(23, paragraphs=1).encode(), "big.json", ORIGIN)
    context, slices = json_feed.plan_slices(item, 10)
    assert [(s.start, s.stop) for s in slices] == [(0, 10), (10, 20), (20, 23)]
    assert "items" not in context["feed"] and context["feed"]["version"].startswith("https://jsonfeed.org")
    assert sliced(json_feed, item, 10) == [asdict(post) for post in json_feed.parse(item)]


def test_json_feed_slices_skip_brackets_in_strings_and_items_elsewhere():
    import json

    item = Input(json.dumps(TRICKY_JSON_FEED, ensure_ascii=False, indent=1).encode(), "t.json", ORIGIN)
    assert sliced(json_feed, item, 1) == [asdict(post) for post in json_feed.parse(item)]
    assert [post["title"] for post in sliced(json_feed, item, 1)][1] == "é ü 漢字 ]"


@pytest.mark.parametrize("data", [
    # The parser keeps the last "items"; slices of the first would be other posts.
    b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "a", "title": "A"}], "items": [{"id": "b"}]}',
    b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "a", "title": "A"}, "not an object"]}',
    b'{"version": "https://jsonfeed.org/version/1", "items": []}',
], ids=["items-twice", "an-item-not-an-object", "no-items"])
def test_json_feeds_that_do_not_slice_plainly_are_counted_instead(data: bytes):
    assert json_feed.plan_slices(Input(data, "f.json", ORIGIN), 1) is None


def test_rss_in_json_is_counted_not_sliced():
    path = ROOT / "tests" / "fixtures" / "json_feed" / "rss_in_json.json"
    assert json_feed.plan_slices(Input(path.read_bytes(), path.name, ORIGIN), 1) is None


def test_every_json_feed_that_slices_gives_the_posts_of_the_whole_feed():
    paths = [ROOT / "tests" / "fixtures" / "json_feed" / "feed11.json"]
    corpus = ROOT.parent / "shared" / "corpus" / "feeds"
    paths += sorted(corpus.glob("*.json")) if corpus.is_dir() else []
    # The fixture, and 8 corpus JSON Feeds with posts (ScriptingNews is RSS-in-JSON: counted, not sliced).
    assert slices_match_whole(json_feed, paths) >= (9 if corpus.is_dir() else 1)


def test_a_json_feed_split_by_the_pipeline_gives_slices_with_a_shared_context():
    item = Input(make_feed.json_feed(60, paragraphs=1).encode(), "big.json", ORIGIN)
    store = ContextStore()
    planned = pipeline.split(item, "raw/ab/abcd", 25, store=store)
    assert [(c.start, c.stop, c.format, c.context_key is not None) for c in planned] == [
        (0, 25, "json_feed", True), (25, 50, "json_feed", True), (50, 60, "json_feed", True)]
    assert set(store.context) == {"feed"} and "items" not in store.context["feed"]
    assert planned[0].begin is not None and planned[-1].end <= len(item.read_bytes())
