"""`archiver local ingest` and `archiver local invoke`, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "events" / "samples"


def archiver(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_ingest_archives_the_samples_and_exports_the_archive(tmp_path: Path) -> None:
    bad = tmp_path / "broken.md"
    bad.write_text("---\ntitle: never closed\n")
    samples = sorted(SAMPLES.iterdir())

    result = archiver("local", "ingest", *map(str, samples), str(bad), "--export", str(tmp_path / "out"))

    assert result.returncode == 1, result.stderr  # one input failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["key"] for line in lines] == [p.name for p in samples] + ["broken.md"]
    assert [line["status"] for line in lines] == ["archived"] * len(samples) + ["failed"]
    assert lines[-1]["error"]["code"] == "bad_front_matter"
    assert "archived" in result.stderr and "1 failed" in result.stderr
    pages = list((tmp_path / "out" / "posts").rglob("index.html"))
    assert len(pages) == len(samples)
    assert len(list((tmp_path / "out" / "raw").rglob("*"))) >= len(samples) + 1  # the bad input's bytes too


def test_ingest_exits_zero_when_nothing_failed() -> None:
    result = archiver("local", "ingest", str(SAMPLES / "newswire-harbour-strike.txt"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "archived"


@pytest.mark.parametrize("event", ["s3-put.json", "s3-put-unicode-key.json", "sqs-s3.json",
                                   "eventbridge-object-created.json", "schedule.json", "sqs-fetch-job.json"])
def test_invoke_runs_each_sample_event(event: str) -> None:
    result = archiver("local", "invoke", f"events/{event}")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for outcome in lines[1:]:
        assert outcome["status"] == "archived", outcome


def test_invoke_with_a_file_of_the_users_choice(tmp_path: Path) -> None:
    post = tmp_path / "mine.md"
    post.write_text("---\ntitle: Mine\n---\nHello.\n")
    result = archiver("local", "invoke", "events/s3-put.json", "--file", str(post))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[1])["status"] == "archived"
