"""The Lambda handler end to end over HTTP against the embedded local AWS (moto server).

Objects are dropped into the inbox; moto delivers the S3 notifications to the inbox queue,
exactly as in AWS, and the tests hand the handler the SQS batches Lambda would build.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from archiver.local.runner import LocalFunction, retarget, sqs_event
from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "events" / "samples"
GOOD = "newswire-harbour-strike.txt"
OTHER = "newswire-library-reopens.txt"
UNICODE_KEY = "Café reopens on the quay.md"
UNTERMINATED = b"---\ntitle: A post whose front matter never ends\ndate: 2024-01-01\n\n<p>Body</p>\n"


@pytest.fixture
def function(clean_aws: LocalAWS) -> LocalFunction:
    return LocalFunction(clean_aws, clean_aws.resources)


def drop(function: LocalFunction, key: str, body: bytes) -> tuple[str, str | None]:
    """Put an object into the inbox; its (etag, version id)."""
    response = function.aws.client("s3").put_object(Bucket=function.resources.inbox_bucket, Key=key, Body=body)
    return response["ETag"].strip('"'), response.get("VersionId")


def sample_event(function: LocalFunction, name: str, key: str, version: tuple[str, str | None]) -> dict:
    """A sample event from events/, naming the version of `key` that was dropped (as S3 would)."""
    event = json.loads((REPO_ROOT / "events" / name).read_text("utf-8"))
    return retarget(event, {(function.resources.inbox_bucket, key): version})


def queued_batch(function: LocalFunction) -> tuple[dict, dict[str, str]]:
    """Every message on the inbox queue as one Lambda SQS event, and message id -> object key."""
    sqs = function.aws.client("sqs")
    url = function.resources.queue_url
    messages = []
    for _ in range(10):  # bounded: moto delivers synchronously, a few polls are plenty
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        messages += got
    keys = {}
    for message in messages:
        records = json.loads(message["Body"]).get("Records", [])
        keys[message["MessageId"]] = records[0]["s3"]["object"]["key"] if records else "s3:TestEvent"
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs_event(messages, arn), keys


def deliver(function: LocalFunction, *drops: tuple[str, bytes]) -> dict:
    for key, body in drops:
        drop(function, key, body)
    event, _ = queued_batch(function)
    return function.invoke(event)


def test_sqs_batch_with_one_bad_record_fails_only_that_record(function: LocalFunction) -> None:
    drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    drop(function, "broken post.md", UNTERMINATED)
    drop(function, OTHER, (SAMPLES / OTHER).read_bytes())
    event, keys = queued_batch(function)

    response = function.invoke(event)

    failed = [keys[f["itemIdentifier"]] for f in response["batchItemFailures"]]
    assert failed == ["broken+post.md"]  # S3 notifications URL-encode keys, spaces as `+`
    inbox = function.resources.inbox_bucket
    for key in (GOOD, OTHER):
        outcome = function.store.get_outcome(inbox, key)
        assert outcome["status"] == "archived" and len(outcome["post_ids"]) == 1
        assert function.store.get_post(outcome["post_ids"][0])["version"] == 1
    failure = function.store.get_outcome(inbox, "broken post.md")
    assert failure["status"] == "failed"
    assert failure["error"]["code"] == "bad_front_matter"
    assert failure["error"]["stage"] == "parse"
    assert "never closed" in failure["error"]["message"] and "\n" not in failure["error"]["message"]
    raw = function.aws.client("s3").get_object(Bucket=function.resources.archive_bucket, Key=failure["raw_key"])
    assert raw["Body"].read() == UNTERMINATED
    assert [f["pk"] for f in function.store.list_failures()] == [f"INPUT#{inbox}/broken post.md"]


def test_handler_never_writes_into_the_inbox(function: LocalFunction) -> None:
    s3 = function.aws.client("s3")
    inbox = function.resources.inbox_bucket
    drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    drop(function, "bad.md", UNTERMINATED)
    before = {o["Key"]: (o["ETag"], o["LastModified"]) for o in s3.list_objects_v2(Bucket=inbox)["Contents"]}

    event, _ = queued_batch(function)
    function.invoke(event)

    after = {o["Key"]: (o["ETag"], o["LastModified"]) for o in s3.list_objects_v2(Bucket=inbox)["Contents"]}
    assert after == before


def test_redelivered_event_archives_one_version(function: LocalFunction) -> None:
    drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    event, _ = queued_batch(function)

    assert function.invoke(event) == {"batchItemFailures": []}
    first = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert function.invoke(event) == {"batchItemFailures": []}  # SQS delivers at least once

    # History, not last write wins: the first outcome stands, the redelivery is counted.
    outcome = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert outcome["status"] == "archived" and outcome["attempts"] == 2
    assert outcome["post_ids"] == first["post_ids"] and outcome["updated_at"] == first["updated_at"]
    assert outcome["last_attempt_at"] >= first["last_attempt_at"]
    post_id = outcome["post_ids"][0]
    assert [v["version"] for v in function.store.list_versions(post_id)] == [1]
    post = function.store.get_post(post_id)
    versions = function.aws.client("s3").list_object_versions(
        Bucket=function.resources.archive_bucket, Prefix=post["json_key"])["Versions"]
    assert len(versions) == 1


def test_same_post_under_two_keys_is_one_post(function: LocalFunction) -> None:
    body = (SAMPLES / GOOD).read_bytes()
    deliver(function, (GOOD, body), ("copy of the same post.txt", body))
    inbox = function.resources.inbox_bucket
    first = function.store.get_outcome(inbox, GOOD)["post_ids"]
    second = function.store.get_outcome(inbox, "copy of the same post.txt")["post_ids"]
    assert first == second


def test_changed_content_becomes_version_two_and_keeps_version_one(function: LocalFunction) -> None:
    original = (SAMPLES / GOOD).read_bytes()
    changed = original.replace(b"no date has been set", b"talks resume on Friday")
    deliver(function, (GOOD, original))
    deliver(function, (GOOD, changed))

    post_id = function.store.get_outcome(function.resources.inbox_bucket, GOOD)["post_ids"][0]
    versions = function.store.list_versions(post_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content_sha256"] != versions[1]["content_sha256"]
    latest = function.store.get_post(post_id)
    assert latest["version"] == 2
    s3 = function.aws.client("s3")
    bucket = function.resources.archive_bucket
    stored = s3.list_object_versions(Bucket=bucket, Prefix=latest["json_key"])["Versions"]
    bodies = [json.loads(s3.get_object(Bucket=bucket, Key=latest["json_key"], VersionId=v["VersionId"])["Body"].read())
              for v in stored]
    assert sorted(doc["version"] for doc in bodies) == [1, 2]
    assert any("talks resume on Friday" in doc["text"] for doc in bodies)
    assert any("no date has been set" in doc["text"] for doc in bodies)


def test_unicode_key_with_spaces_is_decoded_via_the_queue(function: LocalFunction) -> None:
    response = deliver(function, (UNICODE_KEY, (SAMPLES / UNICODE_KEY).read_bytes()))
    assert response == {"batchItemFailures": []}
    outcome = function.store.get_outcome(function.resources.inbox_bucket, UNICODE_KEY)
    assert outcome["status"] == "archived"
    assert function.store.get_post(outcome["post_ids"][0])["title"] == "Café reopens on the quay"


@pytest.mark.parametrize("event_file, key", [
    ("s3-put.json", GOOD),
    ("s3-put-unicode-key.json", UNICODE_KEY),
    ("eventbridge-object-created.json", "2024-05-01-welcome-to-the-archive.md"),
])
def test_direct_s3_and_eventbridge_events_are_archived(function: LocalFunction, event_file: str, key: str) -> None:
    event = sample_event(function, event_file, key, drop(function, key, (SAMPLES / key).read_bytes()))

    function.invoke(event)

    assert function.store.get_outcome(function.resources.inbox_bucket, key)["status"] == "archived"


def test_direct_s3_event_with_a_bad_object_raises_after_recording_it(function: LocalFunction) -> None:
    event = sample_event(function, "s3-put.json", GOOD, drop(function, GOOD, UNTERMINATED))

    with pytest.raises(Exception, match="bad_front_matter"):  # Lambda retries failed async invocations
        function.invoke(event)

    assert function.store.get_outcome(function.resources.inbox_bucket, GOOD)["status"] == "failed"


def test_scheduled_event_takes_the_fetch_route(function: LocalFunction) -> None:
    event = json.loads((REPO_ROOT / "events" / "schedule.json").read_text("utf-8"))
    assert function.invoke(event) == {"due": 0, "queued": 0, "jobs": 0, "hosts": 0,
                                     "rechecks": {"due": 0, "queued": 0, "jobs": 0, "hosts": 0}}


def test_seed_post_is_archived_with_json_html_and_metadata(function: LocalFunction, seed_dir: Path) -> None:
    seed = next(seed_dir.iterdir())
    deliver(function, (seed.name, seed.read_bytes()))

    outcome = function.store.get_outcome(function.resources.inbox_bucket, seed.name)
    assert outcome["status"] == "archived"
    post = function.store.get_post(outcome["post_ids"][0])
    assert post["title"] == "Gloom at Syria talks as Russia backs government advance"
    assert post["published_at"] == "2016-02-11T20:40:20+00:00"
    assert post["json_key"].startswith("posts/whenitson.com/2016/02/11/gloom-at-syria-talks")
    s3 = function.aws.client("s3")
    bucket = function.resources.archive_bucket
    document = json.loads(s3.get_object(Bucket=bucket, Key=post["json_key"])["Body"].read())
    assert document["canonical_url"] == "http://feeds.reuters.com/~r/reuters/topNews/~3/jGIiH8RkCwk/story01.htm"
    page = s3.get_object(Bucket=bucket, Key=post["html_key"])["Body"].read().decode("utf-8")
    assert page.startswith("<!doctype html>") and "<script" not in page and "MUNICH" in page
    assert s3.get_object(Bucket=bucket, Key=outcome["raw_key"])["Body"].read() == seed.read_bytes()
    site_posts = function.store.list_site_posts("whenitson.com")
    assert [p["id"] for p in site_posts] == [post["id"]]


def test_republished_copy_without_canonical_joins_the_original_story(function: LocalFunction) -> None:
    original = (SAMPLES / GOOD).read_bytes()
    front, body = original.split(b"\n---\n", 1)
    copy = front.split(b"original_link:")[0].replace(b"news.example.org", b"other.example.net") + b"\n---\n" + body
    deliver(function, (GOOD, original))
    deliver(function, ("copy.txt", copy))

    inbox = function.resources.inbox_bucket
    [first] = function.store.get_outcome(inbox, GOOD)["post_ids"]
    [second] = function.store.get_outcome(inbox, "copy.txt")["post_ids"]
    assert first != second  # each copy is archived as its own post
    story = function.store.get_post(first)["story_id"]
    assert function.store.get_post(second)["story_id"] == story
    assert {p["id"] for p in function.store.list_story_copies(story)} == {first, second}


def test_key_overwritten_before_its_first_event_is_handled_archives_both_versions(function: LocalFunction) -> None:
    original = (SAMPLES / GOOD).read_bytes()
    changed = original.replace(b"no date has been set", b"talks resume on Friday")
    drop(function, GOOD, original)
    drop(function, GOOD, changed)  # before the first notification is handled

    event, _ = queued_batch(function)
    assert function.invoke(event) == {"batchItemFailures": []}

    records = function.store.outcomes._table.query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"INPUT#{function.resources.inbox_bucket}/{GOOD}"}})
    assert sorted(r["status"] for r in records) == ["archived", "archived"]  # one record per version
    post_id = records[0]["post_ids"][0]
    versions = function.store.list_versions(post_id)
    assert [v["version"] for v in versions] == [1, 2]  # neither edit was lost
    s3, bucket = function.aws.client("s3"), function.resources.archive_bucket
    raws = {s3.get_object(Bucket=bucket, Key=v["raw_key"])["Body"].read() for v in versions}
    assert raws == {original, changed}


def test_event_naming_a_version_id_reads_exactly_that_version(function: LocalFunction) -> None:
    original = (SAMPLES / GOOD).read_bytes()
    etag, version_id = drop(function, GOOD, original)
    drop(function, GOOD, UNTERMINATED)  # the key now holds something else
    assert version_id
    event = sample_event(function, "s3-put.json", GOOD, (etag, version_id))

    function.invoke(event)

    outcome = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert (outcome["status"], outcome["sk"], outcome["version_id"]) == ("archived", version_id, version_id)
    raw = function.aws.client("s3").get_object(Bucket=function.resources.archive_bucket, Key=outcome["raw_key"])
    assert raw["Body"].read() == original


def test_object_deleted_before_it_is_read_is_recorded_gone_not_retried(function: LocalFunction) -> None:
    etag, version_id = drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    function.aws.client("s3").delete_object(Bucket=function.resources.inbox_bucket, Key=GOOD, VersionId=version_id)
    event, _ = queued_batch(function)

    assert function.invoke(event) == {"batchItemFailures": []}  # nothing to retry

    outcome = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert outcome["status"] == "gone" and outcome["etag"] == etag
    assert outcome["error"]["code"] in ("object_gone", "object_overwritten")
    assert outcome["error"]["stage"] == "read" and "before it could be read" in outcome["error"]["message"]
    assert function.store.list_failures() == []


def test_event_naming_a_deleted_version_records_it_gone(function: LocalFunction) -> None:
    etag, version_id = drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    function.aws.client("s3").delete_object(Bucket=function.resources.inbox_bucket, Key=GOOD, VersionId=version_id)

    function.invoke(sample_event(function, "s3-put.json", GOOD, (etag, version_id)))

    outcome = function.store.get_outcome(function.resources.inbox_bucket, GOOD)
    assert outcome["status"] == "gone" and outcome["error"]["code"] == "object_gone"
    assert version_id in outcome["error"]["message"]


@pytest.mark.parametrize("event", ["s3:TestEvent", "sqs-fetch-job.json"])
def test_an_invocation_with_nothing_to_count_prints_no_metrics_warning(function: LocalFunction, event: str) -> None:
    """S3's s3:TestEvent (on every local stack start) and a fetch job whose sources are gone count nothing:
    normal, and not worth Powertools' "No application metrics to publish" UserWarning on each invocation."""
    if event == "s3:TestEvent":
        invocation, keys = queued_batch(function)  # the clean stack's queue holds only S3's test event
        assert list(keys.values()) == ["s3:TestEvent"]
    else:
        invocation = json.loads((REPO_ROOT / "events" / event).read_text("utf-8"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert function.invoke(invocation) == {"batchItemFailures": []}

    assert [str(w.message) for w in caught if "metrics" in str(w.message)] == []


def test_an_invocation_that_counts_publishes_its_metrics(function: LocalFunction, capsys) -> None:
    drop(function, GOOD, (SAMPLES / GOOD).read_bytes())
    event, _ = queued_batch(function)
    capsys.readouterr()

    function.invoke(event)

    blobs = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith('{"_aws"')]
    assert [blob["InputsArchived"] for blob in blobs] == [[1.0]]


def assert_reverted(function: LocalFunction, key: str, v1: bytes, v2: bytes) -> None:
    """The key was uploaded with v1, v2, then v1 again: three outcomes, and v1's content is LATEST again
    as the post's third version (a revert is an edit like any other)."""
    inbox, archive = function.resources.inbox_bucket, function.resources.archive_bucket
    records = [r for r in function.store.list_input_records(f"{inbox}/{key}") if "chunk" not in r]
    assert sorted(r["status"] for r in records) == ["archived"] * 3
    inbox_versions = function.aws.client("s3").list_object_versions(Bucket=inbox, Prefix=key)["Versions"]
    assert {r["version_id"] for r in records} == {v["VersionId"] for v in inbox_versions}  # one outcome per upload
    [post_id] = {post_id for r in records for post_id in r["post_ids"]}
    versions = function.store.list_versions(post_id)
    assert [v["version"] for v in versions] == [1, 2, 3]
    s3 = function.aws.client("s3")
    raws = [s3.get_object(Bucket=archive, Key=v["raw_key"])["Body"].read() for v in versions]
    assert raws == [v1, v2, v1]
    latest = function.store.get_post(post_id)
    assert (latest["version"], latest["content_sha256"]) == (3, versions[0]["content_sha256"])
    document = json.loads(s3.get_object(Bucket=archive, Key=latest["json_key"])["Body"].read())
    assert document["version"] == 3 and "no date has been set" in document["text"]


def test_a_revert_named_by_version_ids_is_archived_as_a_new_version(function: LocalFunction) -> None:
    """Direct S3 events, as AWS sends them for the versioned inbox: each names its object's versionId."""
    v1 = (SAMPLES / GOOD).read_bytes()
    v2 = v1.replace(b"no date has been set", b"talks resume on Friday")
    for body in (v1, v2, v1):
        version = drop(function, GOOD, body)
        assert function.invoke(sample_event(function, "s3-put.json", GOOD, version)) == {"archived": 1}

    assert_reverted(function, GOOD, v1, v2)


@pytest.mark.parametrize("handled", ["after each upload", "after the three uploads"])
def test_a_revert_through_the_local_stack_is_archived_as_a_new_version(function: LocalFunction, handled: str) -> None:
    """The local stack's wiring: inbox -> queue -> handler. moto's notifications carry no versionId, and the
    third upload has the first one's ETag: still a new upload, not a redelivery."""
    v1 = (SAMPLES / GOOD).read_bytes()
    v2 = v1.replace(b"no date has been set", b"talks resume on Friday")
    for body in (v1, v2, v1):
        drop(function, GOOD, body)
        if handled == "after each upload":
            function.drain_queue()
    function.drain_queue()

    assert_reverted(function, GOOD, v1, v2)
