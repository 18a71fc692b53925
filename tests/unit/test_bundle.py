"""Bundles are built in memory from the other formats' fixtures, so no binary fixtures are needed."""

import gzip
import io
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import InputTooLarge, ParseError
from archiver.formats import bundle
from archiver.model import Input, Origin

FIXTURES = Path(__file__).parent.parent / "fixtures"
RSS = (FIXTURES / "feed" / "rss2.xml").read_bytes()
ATOM = (FIXTURES / "feed" / "atom.xml").read_bytes()
WXR = (FIXTURES / "wxr" / "export.xml").read_bytes()


def make_zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # set after construction: ZipInfo would clean "/abs" paths
            info.compress_type = method
            zf.writestr(info, data)
    return buf.getvalue()


def make_tar(files: dict[str, bytes], gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def inp(data: bytes, name: str = "bundle.zip") -> Input:
    return Input(data, name, Origin("file", name))


def test_sniff_uses_magic_bytes():
    assert bundle.sniff(make_zip({"a.xml": RSS})[:4096], "x")
    assert bundle.sniff(make_tar({"a.xml": RSS})[:4096], "x")
    assert bundle.sniff(make_tar({"a.xml": RSS}, gz=False)[:4096], "x")
    assert not bundle.sniff(RSS, "feed.zip")


def test_zip_entries_are_parsed_by_their_own_format_and_tagged():
    data = make_zip({"_posts/feed.xml": RSS, "_posts/export.xml": WXR, "_posts/": b""})
    posts = formats.parse(inp(data))
    by_entry = {}
    for post in posts:
        by_entry.setdefault(post.extra["bundle_entry"], []).append(post.format)
    assert by_entry == {"_posts/feed.xml": ["rss", "rss"], "_posts/export.xml": ["wxr", "wxr", "wxr"]}


def test_tar_gz_plain_tar_and_single_gz_are_read():
    assert {p.format for p in bundle.parse(inp(make_tar({"a/atom.xml": ATOM}), "b.tar.gz"))} == {"atom"}
    assert {p.format for p in bundle.parse(inp(make_tar({"atom.xml": ATOM}, gz=False), "b.tar"))} == {"atom"}
    (post,) = bundle.parse(inp(gzip.compress(ATOM), "atom.xml.gz"))
    assert post.extra["bundle_entry"] == "atom.xml"


def test_hidden_macos_and_unknown_entries_are_skipped_with_warnings():
    data = make_zip(
        {
            "__MACOSX/._feed.xml": b"\x00\x05\x16\x07junk",
            ".DS_Store": b"\x00\x00\x00\x01Bud1",
            "notes.bin": b"\x00\x01\x02 binary nonsense",
            "feed.xml": RSS,
        }
    )
    posts = list(bundle.parse(inp(data)))
    assert len(posts) == 2
    warnings = [w for p in posts for w in p.warnings]
    assert any("notes.bin skipped" in w for w in warnings)
    assert not any("DS_Store" in w or "MACOSX" in w for w in warnings)


def test_parent_relative_and_absolute_paths_are_rejected():
    data = make_zip({"../evil.xml": RSS, "/abs.xml": ATOM, "ok.xml": ATOM})
    posts = list(bundle.parse(inp(data)))
    assert [p.extra["bundle_entry"] for p in posts] == ["ok.xml"]
    assert sum("path rejected" in w for w in posts[0].warnings) == 2


def test_bundle_without_posts_is_a_parse_error():
    with pytest.raises(ParseError, match="no posts in the bundle"):
        list(bundle.parse(inp(make_zip({"x.bin": b"\x00\x01"}))))


def test_zip_bomb_is_stopped_while_decompressing():
    bomb = make_zip({"zeros.xml": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(InputTooLarge, match="decompression bomb"):
            list(bundle.parse(inp(bomb, "bomb.zip")))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # stopped long before the 64 MB entry is inflated


def test_gzip_bomb_is_stopped_while_decompressing():
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    with pytest.raises(InputTooLarge, match="decompression bomb"):
        list(bundle.parse(inp(bomb, "bomb.xml.gz")))


def test_total_uncompressed_size_is_limited_over_all_entries(monkeypatch):
    monkeypatch.setattr(bundle, "MAX_TOTAL_BYTES", 3000)
    data = make_zip({"a.xml": RSS, "b.xml": RSS, "c.xml": RSS}, method=zipfile.ZIP_STORED)
    with pytest.raises(InputTooLarge, match="expands to more than"):
        list(bundle.parse(inp(data)))


def test_entry_count_limit(monkeypatch):
    monkeypatch.setattr(bundle, "MAX_ENTRIES", 3)
    data = make_zip({f"{i}.xml": ATOM for i in range(5)})
    with pytest.raises(InputTooLarge, match="entries"):
        list(bundle.parse(inp(data)))


def test_one_level_of_nesting_is_allowed_two_are_not():
    inner = make_zip({"feed.xml": RSS})
    posts = list(bundle.parse(inp(make_zip({"inner.zip": inner}))))
    assert posts[0].extra["bundle_entry"] == "inner.zip/feed.xml"
    twice = make_zip({"middle.zip": make_zip({"inner.zip": inner})})
    with pytest.raises(InputTooLarge, match="nested"):
        list(bundle.parse(inp(twice)))


def test_corrupt_archive_is_a_parse_error():
    data = make_zip({"feed.xml": RSS})
    with pytest.raises(ParseError):
        list(bundle.parse(inp(data[:40] + b"garbage" * 10)))
