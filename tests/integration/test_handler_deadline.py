"""A deadline for every input, and large feeds fanned out in chunks, through the handler (embedded local AWS).

The handler is handed a Lambda context whose remaining time is short and an input that takes far
longer (a feed of hundreds of entries): work on it stops before the function's timeout, a `timeout`
failure is recorded with the stage it reached, and the invocation returns.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import make_feed  # scripts/ (pytest's pythonpath)
import pytest

from archiver.local.runner import LambdaContext, LocalFunction, sqs_event
from archiver.local.stack import LocalAWS
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

KEY = "big feed.rss"


class ShortContext(LambdaContext):
    """1.5 s left in the invocation; with a 1 s margin, 0.5 s of work per input."""

    def get_remaining_time_in_millis(self) -> int:
        return 1_500


def with_environment(aws: LocalAWS, **variables: str) -> LocalFunction:
    environment = {**aws.resources.environment, **variables}
    return LocalFunction(aws, dataclasses.replace(aws.resources, environment=environment))


def receive_all(function: LocalFunction) -> list[dict]:
    sqs = function.aws.client("sqs")
    messages = []
    for _ in range(10):  # bounded: moto delivers synchronously
        got = sqs.receive_message(QueueUrl=function.resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        messages += [m for m in got if "s3:TestEvent" not in m["Body"]]
    return messages


def invoke(function: LocalFunction, messages: list[dict], context: LambdaContext | None = None) -> dict:
    sqs = function.aws.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=function.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return function.invoke(sqs_event(messages, arn), context)


@pytest.fixture
def unsplit(clean_aws: LocalAWS) -> LocalFunction:
    """No fan-out (CHUNK_POSTS=0): a big feed is archived whole, so only the deadline can stop it."""
    return with_environment(clean_aws, CHUNK_POSTS="0", DEADLINE_MARGIN_SECONDS="1", INPUT_MIN_SECONDS="0")


def test_input_longer_than_the_time_left_stops_records_a_timeout_and_returns(unsplit: LocalFunction) -> None:
    feed = make_feed.rss(500).encode()  # ~4 s of normalizing alone on this machine, 0.5 s allowed
    unsplit.aws.client("s3").put_object(Bucket=unsplit.resources.inbox_bucket, Key=KEY, Body=feed)
    messages = receive_all(unsplit)

    response = invoke(unsplit, messages, ShortContext())

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    outcome = unsplit.store.get_outcome(unsplit.resources.inbox_bucket, KEY)
    assert outcome["status"] == "failed"
    assert outcome["error"]["code"] == "timeout"
    assert outcome["error"]["stage"] in ("parse", "normalize", "store")
    assert "time is up" in outcome["error"]["message"]
    assert len(outcome["post_ids"]) < 500  # the posts stored before the deadline stay stored
    raw = unsplit.aws.client("s3").get_object(Bucket=unsplit.resources.archive_bucket, Key=outcome["raw_key"])
    assert raw["Body"].read() == feed  # nothing lost: `archiver retry` starts again from here
    assert [f["sk"] for f in unsplit.store.list_failures()] == [outcome["sk"]]


def test_an_input_with_too_little_time_to_start_is_queued_again(clean_aws: LocalAWS) -> None:
    function = with_environment(clean_aws, DEADLINE_MARGIN_SECONDS="1", INPUT_MIN_SECONDS="5")
    function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key="post.md",
                                         Body=b"---\ntitle: Waits its turn\n---\nBody.\n")
    messages = receive_all(function)

    assert invoke(function, messages, ShortContext()) == {"batchItemFailures": []}

    assert function.store.get_outcome(function.resources.inbox_bucket, "post.md") is None  # not started
    requeued = receive_all(function)
    assert [m["Body"] for m in requeued] == [m["Body"] for m in messages]
    assert invoke(function, requeued) == {"batchItemFailures": []}
    assert function.store.get_outcome(function.resources.inbox_bucket, "post.md")["status"] == "archived"


@pytest.mark.parametrize("kind, key", [("rss", "big feed.rss"), ("json_feed", "big feed.json")])
def test_large_feed_is_fanned_out_in_chunks_and_archived_once(clean_aws: LocalAWS, tmp_path: Path, kind: str,
                                                              key: str) -> None:
    function = with_environment(clean_aws, CHUNK_POSTS="25", SPOOL_DIR=str(tmp_path))
    data = getattr(make_feed, kind)(60, paragraphs=1).encode()
    function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key=key, Body=data)

    assert invoke(function, receive_all(function)) == {"batchItemFailures": []}
    parent = function.store.get_outcome(function.resources.inbox_bucket, key)
    assert (parent["status"], parent["chunks"]) == ("fanned_out", 3)
    chunk_messages = receive_all(function)
    bodies = [json.loads(m["Body"])["archiver_chunk"] for m in chunk_messages]
    assert sorted((b["start"], b["stop"], b["format"]) for b in bodies) == [
        (0, 25, bodies[0]["format"]), (25, 50, bodies[0]["format"]), (50, 60, bodies[0]["format"])]
    assert all({"begin", "end", "context_key"} <= set(b) for b in bodies)  # each chunk reads only its bytes

    assert invoke(function, chunk_messages) == {"batchItemFailures": []}

    outcomes = function.store.list_chunk_outcomes(parent)
    assert [c["status"] for c in outcomes] == ["archived"] * 3
    archived = sorted(i for c in outcomes for i in c["post_ids"])
    origin = Origin("s3", f"s3://{function.resources.inbox_bucket}/{key}", function.resources.inbox_bucket, key)
    whole = sorted(p.id for p in normalize_input(Input(data, key, origin)))
    assert archived == whole  # the ids archiving the whole feed would give, each once
    for post_id in archived[:5]:
        assert [v["version"] for v in function.store.list_versions(post_id)] == [1]
