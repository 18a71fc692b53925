"""Progress of long local commands: plain periodic lines off a terminal, a tqdm bar on one, nothing when quiet."""

from __future__ import annotations

import io
from pathlib import Path

from archiver.local.keys import collect_inputs
from archiver.local.progress import Progress
from archiver.local.template import load_template
from archiver.local.up import schedule_seconds

REPO_ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_come_every_interval_and_once_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    with Progress(10, "archiving", stream=stream, interval=5, clock=clock) as progress:
        for second in range(1, 11):
            clock.now = 100.0 + second
            progress.advance(1, archived=1)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "archiver: archiving progress: 5/10 inputs (50%), 5 archived, 1.0/s, 5s elapsed, about 5s left",
        "archiver: archiving progress: 10/10 inputs (100%), 10 archived, 1.0/s, 10s elapsed",
        "archiver: archiving done: 10/10 inputs (100%), 10 archived, 1.0/s, 10s elapsed",
    ]
    assert progress.summary() == "10 inputs in 10.0 s (1.0/s): 10 archived"


def test_a_short_run_still_ends_with_its_line_and_a_second_close_adds_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(3, "uploading", unit="files", stream=stream)
    progress.advance(3)
    progress.close()
    progress.close()
    assert stream.getvalue().count("\n") == 1
    assert stream.getvalue().startswith("archiver: uploading done: 3/3 files (100%)")


def test_the_total_grows_when_more_work_is_queued() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(2, "archiving", stream=stream, interval=0, clock=clock)
    clock.now += 1
    progress.advance(2)
    progress.grow(4)
    progress.grow(3)  # never shrinks
    clock.now += 1
    progress.advance(1, failed=1)
    assert "3/4 inputs (75%), 1 failed" in stream.getvalue().splitlines()[-1]


def test_quiet_prints_nothing() -> None:
    stream = Terminal()
    with Progress(5, "archiving", stream=stream, quiet=True) as progress:
        progress.advance(5, archived=5)
    assert stream.getvalue() == ""
    assert progress.done == 5  # still counted, for the summary


def test_a_terminal_gets_a_bar_with_counts_rate_and_time_left() -> None:
    stream = Terminal()
    with Progress(4, "archiving", stream=stream) as progress:
        progress.advance(2, archived=2)
    text = stream.getvalue()
    assert "archiving" in text and "2/4" in text and "archived=2" in text
    assert "/s" in text and "<" in text  # tqdm's rate and "elapsed<left"


def test_folders_are_taken_recursively_keyed_relative_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    for name in ("b.md", "a/one.md", "a/deeper/two.html", ".git/config", "a/.DS_Store"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    single = tmp_path / "single.md"
    single.write_text("x")

    files, keys = collect_inputs([single, folder])

    assert keys == ["single.md", "a/deeper/two.html", "a/one.md", "b.md"]
    assert files == [single, folder / "a/deeper/two.html", folder / "a/one.md", folder / "b.md"]


def test_the_schedule_runs_at_the_templates_rate() -> None:
    template = load_template(REPO_ROOT / "template.yaml")
    assert schedule_seconds(template) == 900.0  # rate(15 minutes)
    assert schedule_seconds(template, {"FetchSchedule": "rate(1 hour)"}) == 3600.0
    assert schedule_seconds(template, {"FetchSchedule": "cron(0 * * * ? *)"}) is None  # on `local tick` only
