"""Faults: throttling and 5xx from S3 and DynamoDB are retried and lose nothing; a crash after the raw
bytes are saved leaves a record that `archiver retry` completes; `archiver failures` lists what to retry.

Faults are injected with botocore's `before-send` event on the function's own clients: the request
is answered with an error response instead of being sent, exactly where a real one would come back,
so botocore's retry logic (standard mode, see archiver.clients) sees it as it would in AWS.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from archiver.cli import main
from archiver.errors import StoreError
from archiver.local.runner import LocalFunction, sqs_event
from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD = "newswire-harbour-strike.txt"
BODY = (REPO_ROOT / "events" / "samples" / GOOD).read_bytes()

# The first sends of these operations are answered with errors, as AWS answers them: throttling
# and 5xx. Each call still succeeds within the client's retry attempts.
S3_FAULTS = {"GetObject": [(503, "SlowDown")], "PutObject": [(500, "InternalError"), (503, "SlowDown")]}
DYNAMODB_FAULTS = {
    "UpdateItem": [(400, "ThrottlingException")],
    "PutItem": [(400, "ProvisionedThroughputExceededException"), (500, "InternalServerError")],
}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def error_response(service: str, url: str, status: int, code: str) -> AWSResponse:
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        return AWSResponse(url, status, {"Content-Type": "application/xml"}, _Body(body))
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
    return AWSResponse(url, status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code},
                       _Body(body))


class FaultInjector:
    """Answers the first sends of each listed operation with its errors; counts every send."""

    def __init__(self, client: Any, faults: dict[str, list[tuple[int, str]]]) -> None:
        self.service = client.meta.service_model.service_name
        self.faults = faults
        self.sends: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        client.meta.events.register(f"before-send.{self.service}", self._before_send)

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[1]
        self.sends[operation] += 1
        planned = self.faults.get(operation, [])
        if self.injected[operation] < len(planned):
            self.injected[operation] += 1
            return error_response(self.service, request.url, *planned[self.injected[operation] - 1])
        return None


@pytest.fixture
def function(clean_aws: LocalAWS) -> LocalFunction:
    return LocalFunction(clean_aws, clean_aws.resources)


def deliver(function: LocalFunction, key: str, body: bytes) -> dict:
    function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key=key, Body=body)
    sqs = function.aws.client("sqs")
    url = function.resources.queue_url
    messages = [m for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if "ObjectCreated" in m["Body"]]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return function.invoke(sqs_event(messages, arn))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    capsys.readouterr()
    status = main(list(args))
    return status, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_throttling_and_5xx_are_retried_and_nothing_is_lost(function: LocalFunction) -> None:
    for client in (function.module.s3, function.module.dynamodb):
        assert client.meta.config.retries["mode"] == "standard"
    s3 = FaultInjector(function.module.s3, S3_FAULTS)
    dynamodb = FaultInjector(function.module.dynamodb, DYNAMODB_FAULTS)

    assert deliver(function, GOOD, BODY) == {"batchItemFailures": []}

    # Every fault was injected and its call sent again.
    for injector in (s3, dynamodb):
        assert injector.injected == {op: len(faults) for op, faults in injector.faults.items()}
        for operation in injector.faults:
            assert injector.sends[operation] > injector.injected[operation]
    outcome = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert (outcome["status"], outcome["attempts"]) == ("archived", 1)
    [post_id] = outcome["post_ids"]
    assert [v["version"] for v in function.store.list_versions(post_id)] == [1]
    post = function.store.get_post(post_id)
    archive = function.aws.client("s3")
    bucket = function.resources.archive_bucket
    assert archive.get_object(Bucket=bucket, Key=outcome["raw_key"])["Body"].read() == BODY
    assert json.loads(archive.get_object(Bucket=bucket, Key=post["json_key"])["Body"].read())["id"] == post_id
    assert archive.head_object(Bucket=bucket, Key=post["html_key"])["ContentLength"] > 0
    assert function.store.list_failures() == []


class Killed(BaseException):
    """The process dying (out of memory, the function timeout): nothing catches it."""


def test_crash_after_the_raw_bytes_are_saved_leaves_a_record_that_retry_completes(
        function: LocalFunction, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: Any, **__: Any) -> None:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(function.module.store, "save_post", crash)
        with pytest.raises(Killed):
            deliver(function, GOOD, BODY)

    inbox, table = function.resources.inbox_bucket, function.resources.table_name
    pending = function.store.get_outcome(inbox, GOOD)
    assert pending["status"] == "pending" and pending["raw_key"].startswith("raw/")

    status, listed = cli(capsys, "failures", "--table", table)
    assert status == 0
    assert [(line["input"], line["status"], line["raw_key"]) for line in listed] == [
        (f"{inbox}/{GOOD}", "pending", pending["raw_key"])]

    status, retried = cli(capsys, "retry", f"{inbox}/{GOOD}", "--table", table,
                          "--archive-bucket", function.resources.archive_bucket)
    assert status == 0 and retried[0]["status"] == "archived"
    outcome = function.store.get_outcome(inbox, GOOD)
    assert (outcome["status"], outcome["attempts"], outcome["sk"]) == ("archived", 2, pending["sk"])
    assert function.store.get_post(outcome["post_ids"][0])["state"] == "stored"
    assert cli(capsys, "failures", "--table", table) == (0, [])


def test_retry_all_archives_failed_inputs_and_leaves_finished_ones(
        function: LocalFunction, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    other = "newswire-library-reopens.txt"
    deliver(function, other, (REPO_ROOT / "events" / "samples" / other).read_bytes())
    with monkeypatch.context() as patched:
        patched.setattr(function.module.store, "save_post",
                        lambda *a, **k: (_ for _ in ()).throw(StoreError("throttled for too long")))
        response = deliver(function, GOOD, BODY)
    assert len(response["batchItemFailures"]) == 1  # retried by SQS

    inbox, table = function.resources.inbox_bucket, function.resources.table_name
    status, listed = cli(capsys, "failures", "--table", table)
    assert [(line["input"], line["status"], line["error"]["code"]) for line in listed] == [
        (f"{inbox}/{GOOD}", "failed", "store_error")]

    status, retried = cli(capsys, "retry", "--all", "--table", table,
                          "--archive-bucket", function.resources.archive_bucket)

    assert status == 0 and [(line["input"], line["status"]) for line in retried] == [(f"{inbox}/{GOOD}", "archived")]
    assert function.store.get_outcome(inbox, GOOD)["status"] == "archived"
    assert function.store.get_outcome(inbox, other)["attempts"] == 1  # finished inputs are not run again
    assert cli(capsys, "failures", "--table", table) == (0, [])
    assert cli(capsys, "retry", f"{inbox}/{GOOD}", "--table", table,
               "--archive-bucket", function.resources.archive_bucket)[0] == 1  # nothing left to retry
