"""A large WordPress export fanned out in chunks, end to end over the embedded local AWS.

The function runs with CHUNK_POSTS=25 (and SPOOL_BYTES=1024, so that the export is read through a
temporary file as a large one would be): a 60-post export becomes one `fanned_out` outcome and
three chunk messages on the inbox queue, which the same handler archives.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import make_wxr  # scripts/ (pytest's pythonpath)
import pytest

from archiver.local.runner import LambdaContext, LocalFunction, sqs_event
from archiver.local.stack import LocalAWS

KEY = "big export.xml"


@pytest.fixture
def function(clean_aws: LocalAWS, tmp_path: Path) -> LocalFunction:
    environment = {**clean_aws.resources.environment, "CHUNK_POSTS": "25", "SPOOL_BYTES": "1024",
                   "SPOOL_DIR": str(tmp_path)}
    return LocalFunction(clean_aws, dataclasses.replace(clean_aws.resources, environment=environment))


def receive_all(function: LocalFunction) -> list[dict]:
    sqs = function.aws.client("sqs")
    messages = []
    for _ in range(10):  # bounded: moto delivers synchronously
        got = sqs.receive_message(QueueUrl=function.resources.queue_url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        messages += got
    return messages


def invoke(function: LocalFunction, messages: list[dict], context: LambdaContext | None = None) -> dict:
    sqs = function.aws.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=function.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return function.invoke(sqs_event(messages, arn), context)


def test_large_export_is_archived_in_chunks_each_post_once(function: LocalFunction) -> None:
    s3 = function.aws.client("s3")
    inbox, archive = function.resources.inbox_bucket, function.resources.archive_bucket
    export = make_wxr.export_with_posts(60).encode("utf-8")
    s3.put_object(Bucket=inbox, Key=KEY, Body=export)

    # 1. The S3 notification: raw bytes saved, posts counted, one message per chunk queued.
    assert invoke(function, receive_all(function)) == {"batchItemFailures": []}
    parent = function.store.get_outcome(inbox, KEY)
    assert parent["status"] == "fanned_out" and parent["chunks"] == 3 and parent["post_ids"] == []
    chunk_messages = receive_all(function)
    bodies = [json.loads(m["Body"])["archiver_chunk"] for m in chunk_messages]
    assert sorted((b["start"], b["stop"]) for b in bodies) == [(0, 25), (25, 50), (50, 60)]
    assert {(b["raw_key"], b["total"], b["origin"]["key"]) for b in bodies} == {(parent["raw_key"], 60, KEY)}
    # Each chunk names its own byte range of the export and the context the chunks share (not an input).
    ranges = sorted((b["begin"], b["end"]) for b in bodies)
    assert all(end <= begin for (_, end), (begin, _) in itertools.pairwise(ranges))
    (context_key,) = {b["context_key"] for b in bodies}
    assert context_key.startswith("chunks/") and s3.head_object(Bucket=archive, Key=context_key)["ContentLength"]

    # 2. The chunk messages, through the same handler.
    assert invoke(function, chunk_messages) == {"batchItemFailures": []}
    chunk_outcomes = function.store.list_chunk_outcomes(parent)
    assert [(c["chunk"]["index"], c["status"], len(c["post_ids"])) for c in chunk_outcomes] == [
        (0, "archived", 25), (1, "archived", 25), (2, "archived", 10)]
    assert {c["sk"] for c in chunk_outcomes} == {f"{parent['sk']}#chunk-00000{i}" for i in range(3)}
    post_ids = [i for c in chunk_outcomes for i in c["post_ids"]]
    assert len(set(post_ids)) == 60
    assert function.store.get_outcome(inbox, KEY)["status"] == "fanned_out"  # chunks do not replace it

    # 3. A redelivered chunk archives nothing again; its first outcome stands, the attempt is counted.
    assert invoke(function, chunk_messages[:1]) == {"batchItemFailures": []}
    redelivered = bodies[0]["index"]
    again = next(c for c in function.store.list_chunk_outcomes(parent) if c["chunk"]["index"] == redelivered)
    assert (again["status"], again["attempts"]) == ("archived", 2)
    for post_id in post_ids:
        assert [v["version"] for v in function.store.list_versions(post_id)] == [1]
    pages = [o["Key"] for o in s3.list_objects_v2(Bucket=archive, Prefix="posts/")["Contents"]
             if o["Key"].endswith("/post.json")]
    assert len(pages) == 60
    json_versions = s3.list_object_versions(Bucket=archive, Prefix="posts/")["Versions"]
    assert len(json_versions) == 120  # post.json + index.html, once each

    # 4. The raw bytes, once.
    raw = s3.list_object_versions(Bucket=archive, Prefix="raw/")["Versions"]
    assert [v["Key"] for v in raw] == [parent["raw_key"]]
    assert s3.get_object(Bucket=archive, Key=parent["raw_key"])["Body"].read() == export
    assert receive_all(function) == []


def test_drain_queue_runs_the_chunks_like_the_deployed_trigger(function: LocalFunction) -> None:
    function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key=KEY,
                                         Body=make_wxr.export_with_posts(60).encode("utf-8"))

    responses = function.drain_queue()

    assert all(r == {"batchItemFailures": []} for r in responses)
    parent = function.store.get_outcome(function.resources.inbox_bucket, KEY)
    outcomes = function.store.list_chunk_outcomes(parent)
    assert [c["status"] for c in outcomes] == ["archived"] * 3
    assert sum(len(c["post_ids"]) for c in outcomes) == 60


class LateContext(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 20_000  # under CHUNK_MIN_SECONDS (90 s)


def test_a_chunk_with_too_little_time_left_is_queued_again_not_failed(function: LocalFunction) -> None:
    function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key=KEY,
                                         Body=make_wxr.export_with_posts(30).encode("utf-8"))
    invoke(function, receive_all(function))
    chunk_messages = receive_all(function)
    assert len(chunk_messages) == 2

    assert invoke(function, chunk_messages, LateContext()) == {"batchItemFailures": []}

    parent = function.store.get_outcome(function.resources.inbox_bucket, KEY)
    assert function.store.list_chunk_outcomes(parent) == []  # nothing was started
    requeued = receive_all(function)
    assert sorted(m["Body"] for m in requeued) == sorted(m["Body"] for m in chunk_messages)
    assert invoke(function, requeued) == {"batchItemFailures": []}
    assert [c["status"] for c in function.store.list_chunk_outcomes(parent)] == ["archived"] * 2
