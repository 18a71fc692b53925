"""Inbox keys of local files (`archiver local ingest`): relative, never absolute, and within S3's rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver.local.keys import MAX_KEY_BYTES, BadKey, inbox_keys, s3_key


def test_files_sharing_no_folder_are_keyed_by_name_never_by_absolute_path() -> None:
    """As `aws s3 cp FILE s3://inbox/` keys them; the root they share says nothing about them."""
    files = [Path("/tmp/proj/events/samples/strike.txt"), Path("/work/seed/000.txt")]
    assert inbox_keys(files) == ["strike.txt", "000.txt"]


def test_files_sharing_no_folder_and_a_name_keep_what_tells_them_apart() -> None:
    files = [Path("/tmp/a/blog/post.md"), Path("/work/b/blog/post.md"), Path("/srv/post.md"), Path("/srv/x.md")]
    assert inbox_keys(files) == ["a/blog/post.md", "b/blog/post.md", "srv/post.md", "x.md"]


@pytest.mark.parametrize("name", ["plain.md", "Café reopens on the quay.md", "a+b=c & d's (1).md", "100%.md"])
def test_a_key_s3_can_carry_is_kept_as_it_is(name: str) -> None:
    assert s3_key(name) == name


def test_characters_xml_cannot_carry_are_percent_encoded() -> None:
    """S3 lists keys in XML, which has no CR, LF or other control character that survives parsing."""
    assert s3_key("a\r\nb.md") == "a%0D%0Ab.md"
    assert s3_key("tab\there\x00\x7f\x85.md") == "tab%09here%00%7F%C2%85.md"
    assert s3_key("x\ufffe.md") == "x%EF%BF%BE.md"


def test_name_bytes_that_are_not_utf_8_are_percent_encoded() -> None:
    assert s3_key(os.fsdecode(b"caf\xe9/post.md")) == "caf%E9/post.md"


def test_a_key_over_s3_s_1024_bytes_is_refused() -> None:
    assert s3_key("é" * (MAX_KEY_BYTES // 2)) == "é" * 512  # 1,024 bytes of UTF-8: S3's limit
    with pytest.raises(BadKey) as refused:
        s3_key("é" * 512 + "a")
    assert (refused.value.code, refused.value.stage) == ("key_too_long", "upload")
    assert "1025 bytes" in refused.value.message and "1024" in refused.value.message


def test_an_encoded_key_is_measured_as_encoded() -> None:
    with pytest.raises(BadKey):
        s3_key("\n" * 342)  # 342 bytes as a name, 1,026 as the key S3 gets
