"""Reading dropped objects from the inbox bucket (read-only, by design) and archiving them.

The version an event names is the one read: by its `versionId` (the inbox is versioned), else by
its `eTag` (`If-Match`; when the key was overwritten since, the version with that ETag is looked
up among the key's versions). An object deleted before it is read is recorded as `gone`.

Redelivery is decided by version, never by content alone: the same key uploaded with v1, v2, then v1
again is three uploads with three outcomes (v1's ETag twice). An event without a `versionId` (moto's
notifications) is given one first: the oldest version with its ETag that has no finished outcome yet
(`version_of_event`), as uploads are notified in order.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.deadline import DeadlineAlarm, enforced
from archiver.errors import InputTooLarge, ObjectGone, StoreError
from archiver.events import ObjectRef
from archiver.model import Input, Origin, Outcome, is_finished
from archiver.spool import PIECE_BYTES, spool

if TYPE_CHECKING:
    from archiver.chunks import ChunkQueue
    from archiver.config import Settings
    from archiver.deadline import Deadline
    from archiver.media.job import MediaQueue
    from archiver.store import ArchiveStore

_MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})
_CHANGED = frozenset({"PreconditionFailed", "412"})
SITE_URL_METADATA = "site-url"  # `aws s3 cp --metadata site-url=https://blog.example/`: the site of the posts
MAX_VERSIONS_SEARCHED = 1000  # versions of one key looked through for an ETag (one listing page)


def read_input(s3: Any, ref: ObjectRef, *, max_bytes: int, spool_bytes: int | None = None,
               spool_dir: str | None = None) -> Input:
    """Get the version of the object the event names, as an Input; the origin records that version.

    Objects larger than `spool_bytes` are copied to a temporary file in `spool_dir` in 1 MiB
    pieces and the Input is backed by it (use it as a context manager: it deletes the file), so a
    100 MB export never sits in memory; smaller ones are read into bytes.
    Raises ObjectGone when that version no longer exists, InputTooLarge over `max_bytes`.
    """
    response = _get_exact_version(s3, ref)
    uri = f"s3://{ref.bucket}/{ref.key}"
    if response["ContentLength"] > max_bytes:  # checked before the body is read into memory
        response["Body"].close()
        raise InputTooLarge(f"{uri} is {response['ContentLength']} bytes, over {max_bytes}")
    origin = Origin(
        kind="s3",
        uri=uri,
        bucket=ref.bucket,
        key=ref.key,
        version_id=response.get("VersionId") if response.get("VersionId") not in (None, "null") else None,
        etag=response.get("ETag", "").strip('"') or None,
        site_url=(response.get("Metadata") or {}).get(SITE_URL_METADATA) or None,
    )
    name = PurePosixPath(ref.key).name
    body = response["Body"]
    if spool_bytes is not None and response["ContentLength"] > spool_bytes:
        try:
            path = spool(body.iter_chunks(PIECE_BYTES), directory=spool_dir, max_bytes=max_bytes, what=uri)
        finally:
            body.close()
        return Input.from_file(path, name, origin, temporary=True)
    return Input(data=body.read(), name=name, origin=origin)


def _get_exact_version(s3: Any, ref: ObjectRef) -> dict[str, Any]:
    what = f"s3://{ref.bucket}/{ref.key}"
    params: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    etag = (ref.etag or "").strip('"')
    if ref.version_id and ref.version_id != "null":
        params["VersionId"] = ref.version_id
    elif etag:
        params["IfMatch"] = etag
    try:
        return s3.get_object(**params)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            version = f" (version {ref.version_id})" if "VersionId" in params else ""
            raise ObjectGone(f"{what}{version} was deleted before it could be read") from exc
        if code not in _CHANGED:
            raise
    # Overwritten since the event: the version with the event's ETag, if versions are kept.
    version_id = _version_with_etag(s3, ref, etag)
    if version_id is None:
        raise ObjectGone(f"{what} was overwritten before it could be read (no version has ETag {etag})",
                         code="object_overwritten")
    return s3.get_object(Bucket=ref.bucket, Key=ref.key, VersionId=version_id)


def _version_with_etag(s3: Any, ref: ObjectRef, etag: str) -> str | None:
    versions = _versions_with_etag(s3, ref, etag)
    return versions[-1] if versions else None


def _versions_with_etag(s3: Any, ref: ObjectRef, etag: str) -> list[str]:
    """The ids of the key's versions with this ETag, oldest first ("null" for an unversioned object)."""
    response = s3.list_object_versions(Bucket=ref.bucket, Prefix=ref.key, MaxKeys=MAX_VERSIONS_SEARCHED)
    newest_first = [version["VersionId"] for version in response.get("Versions", [])
                    if version["Key"] == ref.key and version.get("ETag", "").strip('"') == etag]
    return newest_first[::-1]


def version_of_event(s3: Any, ref: ObjectRef, store: ArchiveStore) -> ObjectRef:
    """The event with the version it names: its own `versionId`, else the oldest version with its ETag
    that has no finished outcome (the newest when all have: a redelivery). Unchanged when the bucket keeps
    no versions, or the object is gone (reading it then says so).

    Not by content alone: after v1, v2, v1 the third event's ETag is the first one's, and only the
    version tells the third upload from a redelivery of the first. One listing and one Query, only for
    events without a version id (moto's; AWS names the version of a versioned bucket's object).
    """
    etag = (ref.etag or "").strip('"')
    if (ref.version_id and ref.version_id != "null") or not etag:
        return ref
    versions = [v for v in _versions_with_etag(s3, ref, etag) if v != "null"]
    if not versions:
        return ref
    finished = {record.get("version_id") for record in store.list_input_records(f"{ref.bucket}/{ref.key}")
                if "chunk" not in record and is_finished(record)}
    version_id = next((v for v in versions if v not in finished), versions[-1])
    return dataclasses.replace(ref, version_id=version_id)


def archive_object(s3: Any, ref: ObjectRef, store: ArchiveStore, *, settings: Settings, default_tz: tzinfo,
                   queue: ChunkQueue | None = None, deadline: Deadline | None = None,
                   media: MediaQueue | None = None) -> Outcome:
    """Read one inbox object (the version its event names) and archive it; every path records an outcome.

    With a `deadline`, reading and archiving stop there (a `timeout` failure, see archiver.deadline).
    """
    from archiver.pipeline import archive_input, failed_outcome, recorded_outcome

    # When that fails, the object is read by its ETag, and what fails then is recorded on the ordinary path.
    with contextlib.suppress(BotoCoreError, ClientError, StoreError):
        ref = version_of_event(s3, ref, store)
    origin = Origin("s3", f"s3://{ref.bucket}/{ref.key}", ref.bucket, ref.key,
                    version_id=ref.version_id if ref.version_id != "null" else None,
                    etag=(ref.etag or "").strip('"') or None)
    try:  # a redelivery of a finished input: its first outcome stands, and the object is not read again
        before = store.repeated_input(origin)
    except StoreError:
        before = None  # the ordinary path meets the store again and records what fails
    if before is not None:
        return recorded_outcome(before, origin)
    try:
        with enforced(deadline):
            item = read_input(s3, ref, max_bytes=settings.max_input_bytes, spool_bytes=settings.spool_bytes,
                              spool_dir=settings.spool_dir or None)
    except ObjectGone as exc:  # nothing to archive and nothing to retry
        outcome = Outcome(status="gone", origin=origin, error=failed_outcome(origin, exc).error)
        store.record_outcome(outcome)
        return outcome
    except (Exception, DeadlineAlarm) as exc:  # too big, unreadable, out of time, even a bug: recorded
        outcome = failed_outcome(origin, exc, stage="read")
        store.record_outcome(outcome)
        return outcome
    with item:  # a spooled copy in /tmp is deleted when done
        return archive_input(item, store, default_tz=default_tz, max_bytes=settings.max_input_bytes,
                             queue=queue, chunk_posts=settings.chunk_posts, deadline=deadline,
                             max_post_bytes=settings.max_post_bytes, media=media)
