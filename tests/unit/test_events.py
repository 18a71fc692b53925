"""events: which trigger an event comes from and which inbox objects it names (the sample events in events/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.events import (
    ObjectRef,
    event_kind,
    objects_in_eventbridge,
    objects_in_s3_notification,
    objects_in_sqs_body,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
INBOX = "post-archiver-inbox-000000000000"
S3_TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2024-03-05T14:30:00.000Z",
    "Bucket": INBOX,
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YXHaAJhGnPAgUxuy5G2sDqO2S8DmhxkA=",
}


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text("utf-8"))


def s3_record(key: str, event_name: str = "ObjectCreated:Put", **obj) -> dict:
    return {
        "eventSource": "aws:s3",
        "eventName": event_name,
        "s3": {"bucket": {"name": "inbox"}, "object": {"key": key, **obj}},
    }


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("s3-put.json", "s3"),
        ("s3-put-unicode-key.json", "s3"),
        ("sqs-s3.json", "sqs"),
        ("eventbridge-object-created.json", "eventbridge-s3"),
        ("schedule.json", "schedule"),
    ],
)
def test_sample_events_are_recognised(name, kind):
    assert event_kind(sample(name)) == kind


def test_every_sample_event_has_a_known_kind():
    names = sorted(p.name for p in EVENTS.glob("*.json"))
    assert names
    for name in names:
        assert event_kind(sample(name)) != "unknown", name


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": []},
        {"Records": [{"eventSource": "aws:dynamodb"}]},
        {"source": "aws.s3", "detail-type": "Object Deleted"},
        S3_TEST_EVENT,
        {"hello": "world"},
    ],
)
def test_other_events_are_unknown(event):
    assert event_kind(event) == "unknown"


def test_eventbridge_scheduler_event_is_a_schedule():
    assert event_kind({"source": "aws.scheduler", "detail": {}}) == "schedule"


def test_direct_s3_notification_names_its_object():
    assert objects_in_s3_notification(sample("s3-put.json")) == [
        ObjectRef(bucket=INBOX, key="newswire-harbour-strike.txt", etag="0123456789abcdef0123456789abcdef")
    ]


def test_s3_key_is_url_decoded_with_plus_as_space():
    (ref,) = objects_in_s3_notification(sample("s3-put-unicode-key.json"))
    assert sample("s3-put-unicode-key.json")["Records"][0]["s3"]["object"]["key"] == "Caf%C3%A9+reopens+on+the+quay.md"
    assert ref.key == "Café reopens on the quay.md"


def test_decoded_s3_key_names_the_sample_file_that_was_dropped():
    (ref,) = objects_in_s3_notification(sample("s3-put-unicode-key.json"))
    assert (EVENTS / "samples" / ref.key).is_file()


def test_encoded_plus_and_percent_in_keys_are_decoded_once():
    (ref,) = objects_in_s3_notification({"Records": [s3_record("a%2Bb+c%25d.md")]})
    assert ref.key == "a+b c%d.md"


def test_version_id_and_etag_are_carried():
    (ref,) = objects_in_s3_notification({"Records": [s3_record("k.md", versionId="v1", eTag="abc")]})
    assert (ref.bucket, ref.key, ref.version_id, ref.etag) == ("inbox", "k.md", "v1", "abc")


def test_sqs_messages_each_carry_one_s3_notification():
    event = sample("sqs-s3.json")
    keys = [[ref.key for ref in objects_in_sqs_body(record["body"])] for record in event["Records"]]
    assert keys == [["newswire-harbour-strike.txt"], ["newswire-library-reopens.txt"]]
    for record in event["Records"]:
        assert all(ref.bucket == INBOX for ref in objects_in_sqs_body(record["body"]))


def test_s3_test_event_in_sqs_body_names_no_objects():
    assert objects_in_sqs_body(json.dumps(S3_TEST_EVENT)) == []


def test_records_other_than_object_created_are_skipped():
    notification = {
        "Records": [s3_record("gone.md", "ObjectRemoved:Delete"), s3_record("new.md", "ObjectCreated:Copy")]
    }
    assert [ref.key for ref in objects_in_s3_notification(notification)] == ["new.md"]


def test_notification_without_records_names_no_objects():
    assert objects_in_s3_notification({}) == []
    assert objects_in_s3_notification({"Records": None}) == []


def test_eventbridge_key_is_taken_as_is():
    assert objects_in_eventbridge(sample("eventbridge-object-created.json")) == [
        ObjectRef(bucket=INBOX, key="2024-05-01-welcome-to-the-archive.md", etag="b1946ac92492d2347c6235b4d2611184")
    ]


def test_eventbridge_key_with_plus_and_percent_is_not_decoded():
    event = {"detail": {"bucket": {"name": "inbox"}, "object": {"key": "Café+50%25 off.md", "version-id": "v2"}}}
    (ref,) = objects_in_eventbridge(event)
    assert (ref.key, ref.version_id) == ("Café+50%25 off.md", "v2")


def test_object_refs_are_hashable_values():
    a = ObjectRef(bucket="b", key="k")
    assert a == ObjectRef(bucket="b", key="k")
    assert len({a, ObjectRef(bucket="b", key="k")}) == 1
