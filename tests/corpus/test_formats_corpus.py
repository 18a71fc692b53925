"""Feeds, WXR exports and WordPress REST JSON from ../shared/corpus, through the format registry.

Every file must either give RawPosts that have a title or a body, or fail with an ArchiverError
subclass carrying a clear message; any other exception is a bug. Counts are printed per folder.
"""

from __future__ import annotations

import traceback
from collections import Counter
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ArchiverError
from archiver.model import Input, Origin

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FOLDERS = ("feeds", "wxr", "wp-json")
EXPECTED_MODULES = {"feeds": {"feed", "json_feed"}, "wxr": {"wxr"}, "wp-json": {"wp_json"}}
pytestmark = pytest.mark.corpus


def _files(folder: str) -> list[Path]:
    if not (CORPUS / folder).is_dir():
        pytest.skip(f"corpus folder not found at {CORPUS / folder}")
    return sorted(p for p in (CORPUS / folder).iterdir() if p.is_file())


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_corpus_file_gives_posts_or_a_clear_archiver_error(folder: str, capsys) -> None:
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    bugs = []
    for path in _files(folder):
        item = Input(path.read_bytes(), path.name, Origin("file", str(path)))
        try:
            posts = formats.parse(item)
        except ArchiverError as exc:
            counts["failed"] += 1
            errors[exc.code] += 1
            if len(exc.message) < 10:
                bugs.append(f"{path.name}: unclear {type(exc).__name__} message {exc.message!r}")
            continue
        except Exception:  # any other exception type is exactly what this test hunts for
            bugs.append(f"{path.name}: {traceback.format_exc(limit=3)}")
            continue
        counts["parsed"] += 1
        counts["posts"] += len(posts)
        counts["no posts"] += not posts
        counts["warned"] += any(p.warnings for p in posts)
        empty = [p for p in posts if not ((p.title or "").strip() or p.body.strip())]
        if empty:
            bugs.append(f"{path.name}: {len(empty)} posts without title or body")
    with capsys.disabled():
        print(f"\n[corpus {folder}] files={sum(1 for _ in _files(folder))} {dict(counts)} errors={dict(errors)}")
    assert not bugs, "\n".join(bugs)


@pytest.mark.parametrize(
    "folder",
    ["feeds", "wxr", "wp-json"],
)
def test_corpus_files_are_detected_as_their_own_format(folder: str) -> None:
    wrong = []
    for path in _files(folder):
        data = path.read_bytes()
        try:
            name = formats.detect(data, path.name).NAME
        except ArchiverError:
            continue  # not recognised at all: covered by the test above
        if name not in EXPECTED_MODULES[folder]:
            wrong.append(f"{path.name} -> {name}")
    assert not wrong, "\n".join(wrong)
