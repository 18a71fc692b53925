"""Which objects a trigger's event names: S3 notifications (direct or in SQS) and EventBridge.

Pure functions over event dicts, so every trigger shape is tested without AWS. S3 keys in
notifications are URL-encoded (`+` for spaces): they are decoded here, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote_plus

EventKind = Literal["sqs", "s3", "eventbridge-s3", "schedule", "reprocess", "unknown"]
# What the reprocess state machine puts in its ItemBatcher's BatchInput (see template.yaml).
REPROCESS_ACTION = "reprocess"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


def event_kind(event: dict[str, Any]) -> EventKind:
    if isinstance(event.get("Items"), list) and (event.get("BatchInput") or {}).get("action") == REPROCESS_ACTION:
        return "reprocess"  # a Distributed Map batch of archived originals
    records = event.get("Records")
    if isinstance(records, list) and records:
        source = records[0].get("eventSource") or records[0].get("EventSource")
        if source == "aws:sqs":
            return "sqs"
        if source == "aws:s3":
            return "s3"
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        return "eventbridge-s3"
    if event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.scheduler":
        return "schedule"
    return "unknown"


def objects_in_s3_notification(notification: dict[str, Any]) -> list[ObjectRef]:
    """Objects created, from an S3 notification (the body of an SQS message, or a direct event).

    The `s3:TestEvent` that S3 sends when a notification is configured names no object.
    """
    refs = []
    for record in notification.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        refs.append(ObjectRef(
            bucket=s3["bucket"]["name"],
            key=unquote_plus(obj["key"]),
            version_id=obj.get("versionId"),
            etag=obj.get("eTag"),
        ))
    return refs


def objects_in_sqs_body(body: str) -> list[ObjectRef]:
    return objects_in_s3_notification(json.loads(body))


def objects_in_eventbridge(event: dict[str, Any]) -> list[ObjectRef]:
    """EventBridge "Object Created" events carry the key already decoded."""
    detail = event["detail"]
    obj = detail["object"]
    return [ObjectRef(bucket=detail["bucket"]["name"], key=obj["key"],
                      version_id=obj.get("version-id"), etag=obj.get("etag"))]


def raw_keys_in_batch(event: dict[str, Any], since: datetime | None = None) -> list[str]:
    """The archived originals a Distributed Map batch names: its S3 ListObjectsV2 items' keys under `raw/`,
    only those last modified at or after `since` when given."""
    keys = []
    for item in event["Items"]:
        key = str(item.get("Key", ""))
        if not key.startswith("raw/"):
            continue
        modified = _timestamp(item.get("LastModified"))
        if since is not None and modified is not None and modified < since:
            continue
        keys.append(key)
    return keys


def _timestamp(value: Any) -> datetime | None:
    """ListObjectsV2 items carry LastModified as epoch seconds (Step Functions) or ISO 8601 text."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def reprocess_options(event: dict[str, Any]) -> dict[str, Any]:
    """The execution's input, as the batch carries it: since, site, dry_run (all optional)."""
    options = (event.get("BatchInput") or {}).get("options")
    return options if isinstance(options, dict) else {}
