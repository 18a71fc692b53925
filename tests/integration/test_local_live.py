"""The pieces of `archiver local up`, in-process on the session's local AWS: the trigger loop
(catching up, the schedule on its rate, ticks) and the saved state (pending notifications, refusals)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from archiver.local import state as saved
from archiver.local.runner import LocalFunction
from archiver.local.stack import LocalAWS
from archiver.local.up import CATCH_UP_MIN, CONTROL_QUEUE, LiveStack, wire_inbox


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post(number: int) -> bytes:
    return f"---\ntitle: Post {number}\n---\nThe body of post {number}.\n".encode()


def run_until_idle(live: LiveStack) -> None:
    for _ in range(1000):  # bounded
        if not live.step():
            live._end_catch_up()
            return
    pytest.fail("the loop never went idle")


def lines_of(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_backlog_is_caught_up_with_progress_and_one_line_per_object(
        clean_aws: LocalAWS, capsys: pytest.CaptureFixture[str]) -> None:
    resources = clean_aws.resources
    s3 = clean_aws.client("s3")
    clean_aws.client("sqs").purge_queue(QueueUrl=resources.queue_url)  # moto's s3:TestEvent: counted otherwise
    keys = [f"backlog/{number:02d}.md" for number in range(CATCH_UP_MIN + 2)]
    for number, key in enumerate(keys):
        s3.put_object(Bucket=resources.inbox_bucket, Key=key, Body=post(number))
    out = io.StringIO()
    live = LiveStack(clean_aws, resources, LocalFunction(clean_aws, resources), out=out)

    run_until_idle(live)

    lines = lines_of(out)
    assert sorted(line["key"] for line in lines) == keys
    assert all(line["status"] == "archived" and len(line["post_ids"]) == 1 for line in lines)
    stderr = capsys.readouterr().err
    assert "archiver: catching up done: " in stderr
    assert f"archiver: caught up: {len(keys)} messages in " in stderr and f": {len(keys)} archived" in stderr


def test_the_schedule_fires_on_its_rate_and_on_a_tick(clean_aws: LocalAWS) -> None:
    resources, clock, out = clean_aws.resources, Clock(), io.StringIO()
    live = LiveStack(clean_aws, resources, LocalFunction(clean_aws, resources), out=out, quiet=True,
                     schedule_every=900, clock=clock)
    run_until_idle(live)
    assert lines_of(out) == []  # not yet: the first run comes one period after the start

    clock.now += 900
    run_until_idle(live)
    assert [line["schedule"] for line in lines_of(out)] == ["rate"]

    sqs = clean_aws.client("sqs")
    control = sqs.get_queue_url(QueueName=CONTROL_QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=control, MessageBody="{}")
    sqs.send_message(QueueUrl=control, MessageBody="{}")
    run_until_idle(live)
    assert [line["schedule"] for line in lines_of(out)] == ["rate", "tick"]  # two ticks meanwhile: one run
    assert lines_of(out)[-1]["status"] == "done"


def test_notifications_not_yet_handled_are_saved_and_delivered_after_a_restart(
        clean_aws: LocalAWS, tmp_path: Path) -> None:
    resources = clean_aws.resources
    s3 = clean_aws.client("s3")
    s3.put_object(Bucket=resources.inbox_bucket, Key="pending.md", Body=post(1))
    snapshot = saved.take_snapshot(clean_aws, resources)
    saved.save_queued(clean_aws, snapshot, [resources.queue_url])
    saved.write_snapshot(snapshot, tmp_path)

    resources = clean_aws.reset()  # a new start: empty resources, then the state restored
    saved.restore_snapshot(clean_aws, resources, saved.read_snapshot(tmp_path))
    out = io.StringIO()
    live = LiveStack(clean_aws, resources, LocalFunction(clean_aws, resources), out=out, quiet=True)
    run_until_idle(live)

    assert [(line["key"], line["status"]) for line in lines_of(out)] == [("pending.md", "archived")]


def test_a_state_of_another_moto_version_is_refused_in_one_line(tmp_path: Path) -> None:
    saved.write_snapshot(saved.Snapshot(moto_version="0.0.1"), tmp_path)
    with pytest.raises(saved.StateError, match=r"saved by moto 0\.0\.1") as raised:
        saved.read_snapshot(tmp_path)
    assert raised.value.code == "bad_state"
    assert saved.read_snapshot(tmp_path / "empty") is None  # a first start: nothing to restore


def test_a_garbled_state_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / saved.STATE_FILE).write_bytes(b"not a pickle")
    with pytest.raises(saved.StateError, match="cannot be read"):
        saved.read_snapshot(tmp_path)


def test_wire_inbox_adds_the_notification_a_deployed_stack_lost(clean_aws: LocalAWS) -> None:
    resources = clean_aws.resources
    s3 = clean_aws.client("s3")
    s3.put_bucket_notification_configuration(Bucket=resources.inbox_bucket, NotificationConfiguration={})

    wire_inbox(clean_aws, resources.inbox_bucket, resources.queue_url)
    s3.put_object(Bucket=resources.inbox_bucket, Key="wired.md", Body=post(2))

    out = io.StringIO()
    run_until_idle(LiveStack(clean_aws, resources, LocalFunction(clean_aws, resources), out=out, quiet=True))
    assert [(line["key"], line["status"]) for line in lines_of(out)] == [("wired.md", "archived")]
