"""`archiver local up` as a user runs it: a subprocess on a fixed port, files dropped with boto3,
stopped with Ctrl-C (SIGINT) and started again on the same `--state`."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from archiver.store import ArchiveStore

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 180  # bounds every wait below; never asserted on

PLAIN = ("posts/plain.md", b"---\ntitle: A plain post\ndate: 2024-03-01\n---\nHello from the inbox.\n")
UNICODE = ("posts/café ☕.md", "---\ntitle: Café ☕\n---\nUn café, s'il vous plaît.\n".encode())
BAD = ("posts/broken.md", b"---\ntitle: never closed\n")  # front matter without its closing ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalUp:
    """`archiver local up` in a subprocess; its stdout lines are read by a thread into a queue."""

    def __init__(self, port: int, state: Path, stderr: Path, *extra: str):
        self.stderr_path = stderr
        self._stderr = stderr.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "archiver", "local", "up", "--port", str(port), "--state", str(state), *extra],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8",
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.announcement = self.next_line(lambda line: True)

    def _read(self) -> None:
        for text in self.process.stdout:
            self.lines.put(json.loads(text))
        self.lines.put(None)  # stdout closed: the process ended

    def next_line(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"archiver local up ended early:\n{self.stderr_path.read_text()}")
            if wanted(line):
                return line
        pytest.fail(f"no such line within {WAIT_SECONDS} s:\n{self.stderr_path.read_text()[-3000:]}")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, str]:
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=WAIT_SECONDS)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._stderr.close()
        return code, self.stderr_path.read_text()

    def clients(self) -> tuple[Any, Any]:
        options = {"endpoint_url": self.announcement["endpoint"], "region_name": self.announcement["region"],
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client("s3", **options), boto3.client("dynamodb", **options)


def archive_view(stack: LocalUp, keys: list[str]) -> dict[str, Any]:
    """What the README says to look at: each input's outcome, its posts, and the archive's objects."""
    s3, dynamodb = stack.clients()
    announced = stack.announcement
    store = ArchiveStore(s3, dynamodb, archive_bucket=announced["archive_bucket"], table_name=announced["table"])
    outcomes = {}
    for key in keys:
        record = store.get_outcome(announced["inbox_bucket"], key)
        posts = {post_id: store.get_post(post_id) for post_id in record.get("post_ids", [])}
        outcomes[key] = {"status": record["status"], "error": record.get("error"), "sk": record["sk"],
                         "posts": posts}
    objects = {}
    for bucket in (announced["inbox_bucket"], announced["archive_bucket"]):
        versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
        objects[bucket] = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in versions)
    return {"outcomes": outcomes, "objects": objects}


def test_local_up_archives_dropped_files_and_keeps_them_across_a_restart(tmp_path: Path) -> None:
    port, state = free_port(), tmp_path / "state"
    stack = LocalUp(port, state, tmp_path / "stderr-1.txt", "--schedule-every", "0")
    announced = stack.announcement
    assert set(announced) >= {"endpoint", "region", "inbox_bucket", "archive_bucket", "table"}
    assert announced["endpoint"] == f"http://127.0.0.1:{port}"

    s3, _ = stack.clients()
    for key, body in (PLAIN, UNICODE, BAD):
        s3.put_object(Bucket=announced["inbox_bucket"], Key=key, Body=body)
    lines = {}
    while len(lines) < 3:
        line = stack.next_line(lambda line: line.get("key") in {PLAIN[0], UNICODE[0], BAD[0]})
        lines[line["key"]] = line
    assert lines[PLAIN[0]]["status"] == "archived" and len(lines[PLAIN[0]]["post_ids"]) == 1
    assert lines[UNICODE[0]]["status"] == "archived" and len(lines[UNICODE[0]]["post_ids"]) == 1
    assert lines[BAD[0]]["status"] == "failed" and lines[BAD[0]]["error"]["code"] == "bad_front_matter"
    before = archive_view(stack, [PLAIN[0], UNICODE[0], BAD[0]])
    assert before["outcomes"][UNICODE[0]]["posts"][lines[UNICODE[0]]["post_ids"][0]]["title"] == "Café ☕"

    code, stderr = stack.stop()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert (state / "moto-state.pickle").is_file()

    again = LocalUp(port, state, tmp_path / "stderr-2.txt", "--schedule-every", "0")
    after = archive_view(again, [PLAIN[0], UNICODE[0], BAD[0]])
    assert after == before  # same outcomes, posts and object versions (ids included)
    # The restored stack is live: a new drop is archived, and the schedule runs on `archiver local tick`.
    s3, _ = again.clients()
    s3.put_object(Bucket=again.announcement["inbox_bucket"], Key="after-restart.md", Body=PLAIN[1] + b"More.\n")
    assert again.next_line(lambda line: line.get("key") == "after-restart.md")["status"] == "archived"
    tick = subprocess.run([sys.executable, "-m", "archiver", "local", "tick", "--port", str(port)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=WAIT_SECONDS)
    assert tick.returncode == 0, tick.stderr
    assert again.next_line(lambda line: "schedule" in line) == {
        "schedule": "tick", "status": "done", "due": 0, "queued": 0, "jobs": 0, "hosts": 0,
        "rechecks": {"due": 0, "queued": 0, "jobs": 0, "hosts": 0}}

    code, stderr = again.stop(signal.SIGTERM)  # as `docker stop` or systemd would
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_local_up_refuses_a_taken_port_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "archiver", "local", "up", "--port", str(port)],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=WAIT_SECONDS)
    assert result.returncode == 2
    assert result.stderr.startswith("archiver: port_in_use: ") and "--port" in result.stderr
    assert result.stdout == ""


def test_local_up_refuses_a_state_folder_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "archiver", "local", "up", "--port", str(free_port()),
                             "--state", str(blocker / "state")], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=WAIT_SECONDS)
    assert result.returncode == 2
    assert result.stderr.startswith("archiver: bad_state: state folder ") and result.stdout == ""


def test_local_tick_without_a_running_stack_says_so() -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "local", "tick", "--port", str(free_port())],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=WAIT_SECONDS)
    assert result.returncode == 2
    assert result.stderr.startswith("archiver: no_local_stack: nothing listens at http://127.0.0.1:")
