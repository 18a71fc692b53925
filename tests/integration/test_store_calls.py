"""The store's call budget against moto over HTTP: what a new post, a duplicate and a redelivery cost,
and that the cheaper path still links stories, records versions and keeps every outcome.

Calls are counted with botocore's `before-parameter-build` event on the store's own clients.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config

from archiver.local.runner import LocalFunction, retarget, sqs_event
from archiver.local.stack import LocalAWS
from archiver.model import Post
from archiver.normalize import NORMALIZER_VERSION
from archiver.store import ArchiveStore


class Counted:
    """An ArchiveStore over clients whose calls are counted (`calls["dynamodb.Query"]`)."""

    def __init__(self, aws: LocalAWS) -> None:
        resources = aws.resources
        assert resources is not None
        self.calls: Counter[str] = Counter()
        clients = []
        for service in ("s3", "dynamodb"):
            client = boto3.client(service, endpoint_url=aws.endpoint_url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing",
                                  config=Config(retries={"max_attempts": 2}))
            client.meta.events.register(
                "before-parameter-build.*.*",
                lambda model, _s=service, **_: self.calls.update([f"{_s}.{model.name}"]))
            clients.append(client)
        self.store = ArchiveStore(*clients, archive_bucket=resources.archive_bucket,
                                  table_name=resources.table_name)

    def take(self) -> dict[str, int]:
        taken = dict(self.calls)
        self.calls.clear()
        return taken


@pytest.fixture
def counted(local_aws: LocalAWS) -> Counted:
    return Counted(local_aws)


def fingerprinted_post(*, fingerprint: str | None = None, body: str | None = None) -> Post:
    site = f"{uuid.uuid4().hex[:8]}.example.org"
    body = body or f"<p>{uuid.uuid4().hex}</p>"
    url = f"https://{site}/2024/05/counted.html"
    return Post(
        id=uuid.uuid4().hex[:16], url=url, canonical_url=url, story_id=uuid.uuid4().hex[:16],
        source={"kind": "file"}, title="Counted", authors=[], published_at="2024-05-03T10:00:00Z",
        updated_at=None, status="publish", categories=[], tags=[], excerpt="", language="en", image=None,
        content_html=body, text=body, word_count=1, reading_time_minutes=1, links=[], images=[],
        source_link=None, content_sha256=hashlib.sha256(body.encode()).hexdigest(),
        normalizer_version=NORMALIZER_VERSION, archived_at="2024-06-01T00:00:00Z", front_matter={},
        fingerprint=fingerprint or secrets.token_hex(8))


def test_new_post_is_claimed_indexed_and_marked_in_four_table_calls_and_two_puts(counted: Counted):
    post = fingerprinted_post()
    result = counted.store.save_post(post, "raw/ca/counted", "<p>page</p>", link_story=True)
    assert (result.status, result.version) == ("archived", 1)
    # Claim (UpdateItem), one Query per SimHash band, V# + 4 band items (BatchWriteItem), LATEST (PutItem).
    assert counted.take() == {"dynamodb.UpdateItem": 1, "dynamodb.Query": 4, "s3.PutObject": 2,
                              "dynamodb.BatchWriteItem": 1, "dynamodb.PutItem": 1}
    assert [v["version"] for v in counted.store.list_versions(post.id)] == [1]
    assert counted.store.get_post(post.id)["state"] == "stored"


def test_duplicate_costs_one_conditional_write_and_no_story_lookup(counted: Counted):
    post = fingerprinted_post()
    first = counted.store.save_post(post, "raw/ca/dup", "<p>page</p>", link_story=True)
    counted.take()
    again = counted.store.save_post(replace(post, archived_at="2025-01-01T00:00:00Z"), "raw/ca/dup", "<p>page</p>",
                                    link_story=True)
    assert (again.status, again.version, again.keys) == ("duplicate", 1, first.keys)
    assert counted.take() == {"dynamodb.UpdateItem": 1}
    assert counted.store.get_post(post.id)["archived_at"] == "2024-06-01T00:00:00Z"


def test_new_version_is_one_claim_call_and_counts_versions_atomically(counted: Counted):
    post = fingerprinted_post()
    counted.store.save_post(post, "raw/ca/v1", "<p>1</p>")
    counted.take()
    body = "<p>second</p>"
    second = replace(post, content_html=body, content_sha256=hashlib.sha256(body.encode()).hexdigest())
    assert counted.store.save_post(second, "raw/ca/v2", "<p>2</p>").version == 2
    calls = counted.take()
    assert calls["dynamodb.UpdateItem"] == 1 and "dynamodb.GetItem" not in calls and "s3.HeadObject" not in calls
    assert [v["version"] for v in counted.store.list_versions(post.id)] == [1, 2]


def test_a_copy_stored_later_is_linked_to_the_story_through_the_batched_band_items(counted: Counted):
    original = fingerprinted_post()
    counted.store.save_post(original, "raw/ca/orig", "<p>o</p>", link_story=True)
    # One bit away: a near-identical copy on another site, with a story id of its own.
    copy_fp = f"{int(original.fingerprint, 16) ^ 1:016x}"
    copy = fingerprinted_post(fingerprint=copy_fp)
    counted.store.save_post(copy, "raw/ca/copy", "<p>c</p>", link_story=True)
    assert copy.story_id == original.story_id
    assert counted.store.get_post(copy.id)["story_id"] == original.story_id
    assert {c["id"] for c in counted.store.list_story_copies(original.story_id)} == {original.id, copy.id}


def test_records_carry_the_normalizer_version(counted: Counted):
    post = replace(fingerprinted_post(), normalizer_version="9.9.9-test")
    counted.store.save_post(post, "raw/ca/nv", "<p>n</p>")
    assert counted.store.get_post(post.id)["normalizer_version"] == "9.9.9-test"
    assert counted.store.list_versions(post.id)[0]["normalizer_version"] == "9.9.9-test"


@pytest.mark.parametrize("event", ["with its versionId", "without (moto's)"])
def test_redelivery_is_answered_from_the_outcome_record_without_reading_the_inbox(clean_aws: LocalAWS,
                                                                                  event: str) -> None:
    function = LocalFunction(clean_aws, clean_aws.resources)
    resources = function.resources
    s3, sqs = function.aws.client("s3"), function.aws.client("sqs")
    key = "redelivered-once.md"
    put = s3.put_object(Bucket=resources.inbox_bucket, Key=key,
                        Body=b"---\ntitle: Once\ndate: 2024-05-03\n---\nDelivered twice, archived once.\n")
    messages = [m for m in sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10)["Messages"]
                if "ObjectCreated" in m["Body"]]
    arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    delivery = sqs_event(messages, arn)
    if event == "with its versionId":  # as AWS notifies for the versioned inbox
        delivery = retarget(delivery, {(resources.inbox_bucket, key): (put["ETag"].strip('"'), put["VersionId"])})
    assert function.invoke(delivery) == {"batchItemFailures": []}
    first = function.store.get_outcome(resources.inbox_bucket, key)

    calls: Counter[str] = Counter()
    for client in (function.module.s3, function.module.dynamodb):
        service = client.meta.service_model.service_name
        client.meta.events.register("before-parameter-build.*.*",
                                    lambda model, _s=service, **_: calls.update([f"{_s}.{model.name}"]))
    assert function.invoke(delivery) == {"batchItemFailures": []}

    # The record read (GetItem) and the attempt counted (UpdateItem); without a version id in the event,
    # the version it names is found first (ListObjectVersions, and a Query of the input's records).
    found_version = {"s3.ListObjectVersions": 1, "dynamodb.Query": 1} if event.startswith("without") else {}
    assert calls == {"dynamodb.GetItem": 1, "dynamodb.UpdateItem": 1, **found_version}
    outcome = function.store.get_outcome(resources.inbox_bucket, key)
    assert (outcome["status"], outcome["attempts"], outcome["post_ids"]) == ("archived", 2, first["post_ids"])
    assert outcome["updated_at"] == first["updated_at"]
