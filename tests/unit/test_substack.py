"""Substack's export: posts.csv joined with posts/<id>.<slug>.html (fixtures in tests/fixtures/substack,
written for these tests after the shape of real exports); zips are built in memory."""

import io
import zipfile
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import substack
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "substack"


def export_zip(root: str = "", drop: tuple[str, ...] = (), extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(FIXTURES.rglob("*")):
            name = path.relative_to(FIXTURES).as_posix()
            if path.is_file() and name not in drop:
                zf.writestr(root + name, path.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(root + name, data)
    return buf.getvalue()


def normalized(data: bytes, name: str = "substack-export.zip"):
    return normalize_input(Input(data, name, Origin("file", name)), archived_at="2024-01-01T00:00:00+00:00")


@pytest.mark.parametrize("root", ["", "fieldnotes-export/"])
def test_one_post_per_csv_row_with_its_body(root):
    posts = normalized(export_zip(root))
    assert [(p.title, p.status, p.extra["post_type"]) for p in posts] == [
        ("Counting cranes", "publish", "newsletter"),
        ("The heron hour, episode 1", "publish", "podcast"),
        ("Unfinished", "draft", "newsletter"),
    ]
    first = posts[0]
    assert first.published_at == "2019-07-26T20:48:19.814000+00:00"
    assert first.excerpt == "\u201cFour hundred before breakfast\u201d"  # entities in the CSV decoded
    assert first.source["original_id"] == "1001"
    assert first.extra["file_slug"] == "counting-cranes"
    assert first.extra["bundle_entry"] == f"{root}posts/1001.counting-cranes.html"
    assert "We counted 412 cranes & two herons." in first.text
    assert posts[1].extra["enclosures"] == [{"href": "https://example.com/audio/herons.mp3"}]
    assert posts[1].front_matter["audience"] == "only_paid"


def test_subscribe_and_share_buttons_are_dropped_other_buttons_kept():
    first, heron, _ = normalized(export_zip())
    assert "Subscribe now" not in first.text and "Share" not in first.text
    assert "Read the full report" in first.text
    assert heron.text == "In this first episode we listen to herons at dusk.\n\nTranscript follows next week."


def test_statistics_files_are_not_read_and_nothing_else_is_a_post():
    posts = normalized(export_zip(extra={"email_list.fieldnotes.csv": b"email,active_subscription\na@b.c,true\n"}))
    assert len(posts) == 3
    assert not any("opens.csv" in str(p.warnings) or "email" in p.text for p in posts)


def test_a_row_without_body_and_a_body_without_row_are_kept_with_a_warning():
    data = export_zip(drop=("posts/1003.unfinished.html",), extra={"posts/1004.stray.html": b"<p>Stray body.</p>"})
    posts = normalized(data)
    unfinished = next(p for p in posts if p.title == "Unfinished")
    assert unfinished.text == ""
    assert any("no posts/1003.unfinished.html" in w for w in unfinished.warnings)
    stray = next(p for p in posts if p.text == "Stray body.")
    assert stray.status == "publish" and stray.source["original_id"] == "1004"
    assert any("not listed in posts.csv" in w for p in posts for w in p.warnings)


def test_a_lone_posts_csv_fails_saying_what_is_missing():
    data = (FIXTURES / "posts.csv").read_bytes()
    assert formats.detect(data, "posts.csv") is substack
    with pytest.raises(ParseError, match="whole export zip"):
        normalized(data, "posts.csv")


def test_layout_needs_posts_csv_beside_a_posts_folder():
    assert substack.layout_root(["posts.csv", "posts/1.a.html"]) == ""
    assert substack.layout_root(["x/posts.csv", "x/posts/1.a.html"]) == "x/"
    assert substack.layout_root(["posts.csv", "other/1.a.html"]) is None
    assert substack.wants("posts/1.a.html", "") and substack.wants("posts.csv", "")
    assert not substack.wants("posts/1.a.opens.csv", "") and not substack.wants("email_list.csv", "")
