"""`archiver local ingest` and `archiver local invoke`, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from archiver.local.keys import inbox_keys

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
    assert [line["key"] for line in lines] == inbox_keys([*samples, bad])
    assert all(line["key"].endswith(p.name) for line, p in zip(lines, [*samples, bad], strict=True))
    assert [line["status"] for line in lines] == ["archived"] * len(samples) + ["failed"]
    assert lines[-1]["error"]["code"] == "bad_front_matter"
    assert "archived" in result.stderr and "1 failed" in result.stderr
    pages = list((tmp_path / "out" / "posts").rglob("index.html"))
    assert len(pages) == len(samples)
    assert len(list((tmp_path / "out" / "raw").rglob("*"))) >= len(samples) + 1  # the bad input's bytes too


def test_inbox_keys_are_relative_to_the_common_folder(tmp_path: Path) -> None:
    assert inbox_keys([tmp_path / "a" / "post.md", tmp_path / "b" / "post.md"]) == ["a/post.md", "b/post.md"]
    assert inbox_keys([tmp_path / "one.md", tmp_path / "two.md"]) == ["one.md", "two.md"]
    assert inbox_keys([tmp_path / "x" / "y" / "deep.md", tmp_path / "x" / "top.md"]) == ["y/deep.md", "top.md"]


def test_ingest_of_two_files_with_one_name_archives_both(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "post.md").write_text(f"---\ntitle: Post from {folder}\n---\nThe {folder} body.\n")

    result = archiver("local", "ingest", "a/post.md", "b/post.md", "--template", str(REPO_ROOT / "template.yaml"),
                      cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["key"], line["status"]) for line in lines] == [("a/post.md", "archived"), ("b/post.md", "archived")]
    assert lines[0]["post_ids"] != lines[1]["post_ids"]


def test_ingest_exits_zero_when_nothing_failed() -> None:
    result = archiver("local", "ingest", str(SAMPLES / "newswire-harbour-strike.txt"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "archived"


SAMPLE_EVENTS = ["s3-put.json", "s3-put-unicode-key.json", "sqs-s3.json", "eventbridge-object-created.json",
                 "schedule.json", "sqs-fetch-job.json", "sfn-reprocess-batch.json"]


def responses_by_event(stdout: str) -> dict[str, list[dict]]:
    """The lines `archiver local invoke` printed for each of several events: its response, then outcomes."""
    found: dict[str, list[dict]] = {}
    for line in map(json.loads, stdout.splitlines()):
        if set(line) == {"event"}:
            current = found.setdefault(Path(line["event"]).name, [])
        else:
            current.append(line)
    return found


def test_invoke_runs_each_sample_event() -> None:
    result = archiver("local", "invoke", *(f"events/{event}" for event in SAMPLE_EVENTS))
    assert result.returncode == 0, result.stderr
    found = responses_by_event(result.stdout)
    assert list(found) == SAMPLE_EVENTS
    for event, (response, *outcomes) in found.items():
        assert "errorType" not in response and not (response or {}).get("batchItemFailures"), (event, response)
        for outcome in outcomes:  # one stack: a sample named by two events is the second time a duplicate
            assert outcome["status"] in ("archived", "duplicate"), (event, outcome)
    assert any(outcome["status"] == "archived" for _, *outcomes in found.values() for outcome in outcomes)


def test_invoke_with_a_file_of_the_users_choice(tmp_path: Path) -> None:
    post = tmp_path / "mine.md"
    post.write_text("---\ntitle: Mine\n---\nHello.\n")
    result = archiver("local", "invoke", "events/s3-put.json", "--file", str(post))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[1])["status"] == "archived"


def test_ingest_of_a_folder_takes_its_files_recursively_and_shows_plain_progress(tmp_path: Path) -> None:
    export = tmp_path / "export"
    posts = {"top.md": "Top", "2024/03/deep.md": "Deep", "2024/other.md": "Other"}
    for name, title in posts.items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_text(f"---\ntitle: {title}\n---\n{title} body.\n")
    (export / ".hidden").mkdir()
    (export / ".hidden" / "skipped.md").write_text("---\ntitle: never sent\n---\n")

    result = archiver("local", "ingest", str(export))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["key"], line["status"]) for line in lines] == [
        ("2024/03/deep.md", "archived"), ("2024/other.md", "archived"), ("top.md", "archived")]
    # stderr is a pipe here: plain lines (no bar), each phase ending with its counts.
    assert "archiver: uploading done: 3/3 files (100%)" in result.stderr
    assert "archiver: archiving done: " in result.stderr and "0 failed" in result.stderr
    assert "\r" not in result.stderr


def test_ingest_quiet_shows_no_progress(tmp_path: Path) -> None:
    (tmp_path / "post.md").write_text("---\ntitle: Quiet\n---\nShh.\n")
    result = archiver("local", "ingest", "--quiet", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["key"] == "post.md"
    assert "uploading" not in result.stderr and "archiving done" not in result.stderr
    assert "1 inputs: 1 archived" in result.stderr  # the summary stays


def test_ingest_of_files_sharing_no_folder_keys_them_by_name_not_by_absolute_path(tmp_path: Path) -> None:
    post = tmp_path / "mine.md"  # under /tmp, the sample under the checkout: they share only the root
    post.write_text("---\ntitle: Mine\n---\nHello.\n")
    result = archiver("local", "ingest", str(post), str(SAMPLES / "newswire-harbour-strike.txt"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["key"], line["status"]) for line in lines] == [
        ("mine.md", "archived"), ("newswire-harbour-strike.txt", "archived")]


def test_ingest_gives_a_bad_name_its_own_outcome_and_archives_the_other_files(tmp_path: Path) -> None:
    """A name S3 or its XML cannot carry is encoded; a key over S3's 1,024 bytes fails that file alone,
    its bytes still archived (for `archiver retry`), never the run."""
    drop = tmp_path / "drop"
    long_folder = drop.joinpath(*["d" * 200] * 6)
    long_key = f"{long_folder.relative_to(drop).as_posix()}/too-long.md"  # 1,217 bytes
    long_folder.mkdir(parents=True)
    names = {"a\r\nb.md": "CRLF", os.fsdecode(b"caf\xe9.md"): "Latin-1", "plain.md": "Plain"}
    for name, title in names.items():
        (drop / name).write_text(f"---\ntitle: {title}\n---\nThe {title} body.\n")
    (long_folder / "too-long.md").write_text("---\ntitle: Too long\n---\nA key S3 refuses.\n")

    result = archiver("local", "ingest", str(drop), "--export", str(tmp_path / "out"))

    assert result.returncode == 1, result.stderr  # one input failed
    assert "Traceback" not in result.stderr
    lines = {line["key"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert {key: line["status"] for key, line in lines.items()} == {
        "a%0D%0Ab.md": "archived", "caf%E9.md": "archived", "plain.md": "archived",
        long_key: "failed"}
    [failed] = [line for line in lines.values() if line["status"] == "failed"]
    assert (failed["error"]["code"], failed["error"]["stage"]) == ("key_too_long", "upload")
    assert f"{len(long_key)} bytes" in failed["error"]["message"] and "1024" in failed["error"]["message"]
    raw = tmp_path / "out" / "raw"
    archived = {path.read_bytes() for path in raw.rglob("*") if path.is_file()}
    assert (long_folder / "too-long.md").read_bytes() in archived
