"""`archiver normalize` over every file of tests/fixtures and ../shared/corpus: no traceback, ever, and every
input accounted for, by its posts on stdout or by one error line on stderr.

The files are dealt round-robin into SHARDS calls of the CLI (each file in exactly one), so that the test
workers run them side by side; each call is the command a user runs, over many files at once.
Without the corpus beside the checkout, the fixtures alone are run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOTS = (ROOT / "tests" / "fixtures", ROOT.parent / "shared" / "corpus")
SHARDS = 8
HANG_GUARD_SECONDS = 3 * 3600  # only stops a hung run; how long it takes is measured, never asserted
_ERROR = re.compile(r"^archiver: (?P<path>.+): (?P<code>[a-z_]+) \((?P<stage>[a-z_]+)\): (?P<message>.+)$")

pytestmark = pytest.mark.corpus


def _inputs() -> list[Path]:
    return sorted(p.resolve() for root in ROOTS if root.is_dir() for p in root.rglob("*") if p.is_file())


def shard(paths: list[Path], index: int, shards: int = SHARDS) -> list[Path]:
    """Every `shards`-th path from `index`: the shards are disjoint and together hold every path."""
    return paths[index::shards]


def test_the_shards_hold_every_input_once() -> None:
    paths = _inputs()
    dealt = [path for index in range(SHARDS) for path in shard(paths, index)]
    assert sorted(dealt) == paths and len(set(dealt)) == len(paths)


@pytest.mark.parametrize("index", range(SHARDS))
def test_normalize_over_every_fixture_and_corpus_file_accounts_for_each_input_without_a_traceback(index, capsys):
    paths = shard(_inputs(), index)
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "normalize", *map(str, paths)],
        capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1)

    with_posts: Counter[str] = Counter()
    for line in result.stdout.split("\n")[:-1]:  # JSON Lines: U+2028 inside a string is no line break
        with_posts[json.loads(line)["source"]["uri"]] += 1
    failed: dict[str, str] = {}
    for line in result.stderr.splitlines():
        match = _ERROR.match(line)
        assert match, f"stderr line is not one input's error: {line!r}"
        failed[match["path"]] = match["code"]

    known = {str(p) for p in paths}
    assert set(with_posts) <= known and set(failed) <= known
    assert not set(with_posts) & set(failed), "an input both gave posts and failed"
    unaccounted = known - set(with_posts) - set(failed)
    assert not unaccounted, f"inputs neither on stdout nor on stderr: {sorted(unaccounted)[:10]}"
    assert "internal_error" not in failed.values(), [p for p, c in failed.items() if c == "internal_error"]
    with capsys.disabled():
        print(f"\n[cli every file, shard {index + 1}/{SHARDS}] inputs={len(paths)} with_posts={len(with_posts)} "
              f"posts={sum(with_posts.values())} failed={len(failed)} codes={dict(Counter(failed.values()))}")
