from pathlib import Path

import pytest

from archiver.errors import ParseError
from archiver.formats import wxr
from archiver.model import Input, Origin

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wxr"
ROOT = Path(__file__).parent.parent.parent


def load(name: str) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes(), name, Origin("file", str(path)))


def posts(name: str):
    return list(wxr.parse(load(name)))


def test_sniff_needs_the_wordpress_export_namespace():
    assert wxr.sniff(load("export.xml").data[:4096], "export.xml")
    assert wxr.sniff(b'<rss xmlns:wp="https://wordpress.org/export/1.2/">', "x")
    assert not wxr.sniff(b"<rss version='2.0'><channel></channel></rss>", "feed.xml")


def test_posts_pages_and_drafts_are_archived_internal_types_are_not():
    result = posts("export.xml")
    assert [p.title for p in result] == ["Hello & welcome", "Work in progress", "About"]
    assert [p.status for p in result] == ["publish", "draft", "publish"]
    assert [p.extra["post_type"] for p in result] == ["post", "post", "page"]
    assert result[0].extra["export"]["items_not_posts"] == {"attachment": 1, "nav_menu_item": 1}


def test_post_fields_are_mapped():
    post = posts("export.xml")[0]
    assert post.format == "wxr"
    assert post.body.startswith("First paragraph.\n\nSecond paragraph")  # kept as stored
    assert post.extra["wpautop"] is True
    assert post.url == "https://fixture.example.com/2021/03/hello/"
    assert post.original_id == "10"
    assert post.authors == ["Jane Doe"]  # dc:creator login resolved to the display name
    assert post.published == "2021-03-01T09:00:00Z"  # post_date_gmt, as UTC
    assert post.categories == ["News"]
    assert post.tags == ["Intro"]
    assert post.front_matter["terms"] == {"series": ["Series One"]}
    assert post.excerpt == "A short excerpt"
    assert post.site_name == "Fixture Blog"
    assert post.site_url == "https://fixture.example.com"
    assert post.language == "en-GB"
    assert post.front_matter["postmeta"]["mood"] == ["happy", "curious"]
    assert post.front_matter["guid"] == "https://fixture.example.com/?p=10"


def test_attachments_are_collected_into_their_parent_and_give_the_featured_image():
    post = posts("export.xml")[0]
    assert post.image == "https://fixture.example.com/wp-content/uploads/cover.jpg"
    assert post.extra["attachments"] == [
        {
            "id": "11",
            "url": "https://fixture.example.com/wp-content/uploads/cover.jpg",
            "title": "Cover image",
            "caption": "A caption",
            "alt": "A cover",
        }
    ]


def test_comments_are_kept_without_emails_or_ips():
    comments = posts("export.xml")[0].extra["comments"]
    assert comments[0] == {
        "id": "5",
        "author": "Reader",
        "date": "2021-03-02T09:00:00Z",
        "content": "Nice post!",
        "approved": True,
        "type": "comment",
        "parent": "0",
    }
    assert comments[1]["approved"] is False
    assert comments[1]["date"] == "2021-03-03 10:00:00"
    assert "reader@example.com" not in repr(comments)


def test_draft_with_zero_gmt_date_falls_back_to_local_date():
    draft = posts("export.xml")[1]
    assert draft.published == "2021-04-01 08:30:00"
    assert draft.authors == ["ghost"]  # unknown login kept as is


def test_truncated_export_recovers_the_readable_item_with_a_warning():
    (post,) = posts("truncated.xml")
    assert post.title == "Hello & welcome"
    assert any("Premature end of data" in w for w in post.warnings)


def test_unrecoverable_export_raises_parse_error():
    with pytest.raises(ParseError, match="malformed WXR"):
        posts("garbage.xml")


def test_billion_laughs_is_refused_without_expanding():
    with pytest.raises(ParseError, match="declares entities"):
        posts("billion_laughs.xml")


def test_entities_are_never_expanded_even_past_the_prolog_check():
    # Push the DOCTYPE beyond the up-front check: the parser itself must still not expand.
    data = load("billion_laughs.xml").data
    decl, rest = data.split(b"\n", 1)
    padded = decl + b"\n<!--" + b" " * 70_000 + b"-->\n" + rest
    try:
        result = list(wxr.parse(Input(padded, "padded.xml", Origin("file", "padded.xml"))))
    except ParseError:
        result = []
    for post in result:
        assert "lollollol" not in post.body + (post.title or "")
        assert "root:" not in post.body


def test_large_export_streams_in_bounded_memory(tmp_path):
    import resource
    import subprocess
    import sys

    out = tmp_path / "big.xml"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_wxr.py"), "--size-mb", "20", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    item = Input(out.read_bytes(), "big.xml", Origin("file", str(out)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    count = drafts = images = 0
    for post in wxr.parse(item):
        count += 1
        drafts += post.status == "draft"
        images += bool(post.image)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert count > 4000
    assert drafts and images
    assert growth_mb < 40, f"parsing a 20 MB export grew memory by {growth_mb:.0f} MB"


# -- splitting large exports into chunks (archiver.chunks)


def synthetic(tmp_path, posts: int) -> Input:
    import make_wxr  # scripts/ (pytest's pythonpath)

    path = tmp_path / "export.xml"
    path.write_text(make_wxr.export_with_posts(posts), "utf-8")
    return Input.from_file(path, "export.xml", Origin("file", str(path)))


def test_count_is_the_number_of_posts_parse_yields():
    for name in ("export.xml", "truncated.xml"):
        assert wxr.count(load(name)) == len(posts(name))


def test_count_skips_attachments_menu_items_and_auto_drafts(tmp_path):
    item = synthetic(tmp_path, 60)
    assert wxr.count(item) == 60
    assert item.head(5) == b"<?xml"


def test_ranges_partition_the_posts_in_document_order(tmp_path):
    item = synthetic(tmp_path, 60)
    whole = list(wxr.parse(item))
    pieces = [list(wxr.parse(item, start, min(start + 25, 60))) for start in (0, 25, 50)]
    assert [len(p) for p in pieces] == [25, 25, 10]
    assert [p.original_id for piece in pieces for p in piece] == [p.original_id for p in whole]
    # Everything a post carries from pass one (site, featured images) is the same in a chunk.
    assert [p.__dict__ for piece in pieces for p in piece] == [p.__dict__ for p in whole]


def test_a_range_past_the_end_is_empty_and_one_post_ranges_match():
    item = load("export.xml")
    assert list(wxr.parse(item, 3, 6)) == []
    assert [next(wxr.parse(item, i, i + 1)).title for i in range(3)] == [p.title for p in posts("export.xml")]


def test_count_refuses_entity_declarations_like_parse():
    with pytest.raises(ParseError, match="declares entities"):
        wxr.count(load("billion_laughs.xml"))


def test_entity_declaration_check_scans_a_doctype_flood_once():
    head = b"<!DOCTYPE x " * 6000  # each DOCTYPE used to scan to the end of the 64 KB head
    assert wxr._ENTITY_DECL.search(head) is None
    assert wxr._ENTITY_DECL.search(b'<!DOCTYPE rss [<!ENTITY a "b">]>') is not None


# -- slices: a chunk reads only its own bytes --------------------------------------------------------


def sliced_posts(item: Input, chunk_posts: int) -> tuple[list[list], list]:
    context, slices = wxr.plan_slices(item, chunk_posts)
    data = item.read_bytes()
    pieces = []
    for piece in slices:
        only_its_bytes = Input(data[piece.begin:piece.end], item.name, item.origin)
        pieces.append(list(wxr.parse_slice(only_its_bytes, context)))
    return pieces, slices


def test_slices_give_exactly_the_posts_of_the_whole_export(tmp_path):
    item = synthetic(tmp_path, 60)  # file-backed: the byte scan reads it through mmap
    pieces, slices = sliced_posts(item, 25)
    assert [(s.start, s.stop) for s in slices] == [(0, 25), (25, 50), (50, 60)]
    assert [len(p) for p in pieces] == [25, 25, 10]
    # Everything a post carries from the first pass (site, authors, featured images) is the same in a slice.
    assert [p.__dict__ for piece in pieces for p in piece] == [p.__dict__ for p in wxr.parse(item)]


def test_item_markup_inside_cdata_comments_and_instructions_does_not_cut_a_slice():
    data = load("export.xml").data
    tricky = data.replace(b"<item>", b"<!-- <item> --><?pi <item>?><item>", 1).replace(
        b"<content:encoded><![CDATA[", b"<content:encoded><![CDATA[<item>not an item</item> <channel> ", 1)
    item = Input(tricky, "export.xml", Origin("file", "export.xml"))
    pieces, _ = sliced_posts(item, 1)
    assert [p.__dict__ for piece in pieces for p in piece] == [p.__dict__ for p in wxr.parse(item)]
    assert "not an item" in pieces[0][0].body


def test_exports_that_cannot_be_sliced_plainly_fall_back_to_counting():
    utf16 = load("export.xml").data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert wxr.plan_slices(Input(utf16.encode("utf-16"), "x.xml", Origin("file", "x.xml")), 1) is None
    unclosed_cdata = load("export.xml").data.replace(b"]]>", b"", 1)  # recovered by the parser: not plain
    assert wxr.plan_slices(Input(unclosed_cdata, "x.xml", Origin("file", "x.xml")), 1) is None
    assert wxr.plan_slices(load("truncated.xml"), 1) is None
    with pytest.raises(ParseError, match="declares entities"):
        wxr.plan_slices(load("billion_laughs.xml"), 1)
