"""Run unfinished inputs again from their outcome records: what `archiver failures` / `archiver retry` use.

An unfinished record is `failed`, or `pending`: an attempt started (the raw bytes were saved) and
never recorded an outcome, because it is still running or because it crashed. A retry reads the
input back from the archive (`raw_key`), so it works even after the inbox object is gone; an input
whose bytes were never saved (too large, unreadable) is read again from the inbox. The outcome is
recorded on the same record, as for any attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from archiver.errors import ArchiverError
from archiver.events import ObjectRef
from archiver.model import UNFINISHED, Chunk, Input, Origin, Outcome

if TYPE_CHECKING:
    from archiver.chunks import ChunkQueue
    from archiver.config import Settings
    from archiver.media.job import MediaQueue
    from archiver.store import ArchiveStore

# A pending record younger than this may belong to an invocation still running (the function's
# timeout is 5 minutes; SQS hides a message for 30): `retry --all` leaves it alone.
PENDING_GRACE = timedelta(minutes=30)


def input_key(record: dict[str, Any]) -> str:
    """How a record's input is named on the command line: `<bucket>/<key>`, or its origin URI."""
    return record["pk"].removeprefix("INPUT#")


def unfinished(store: ArchiveStore, key: str | None = None) -> list[dict[str, Any]]:
    """The unfinished records of one input (`key` as `input_key` gives it), or of all inputs."""
    if key is None:
        return store.list_failures()
    return [r for r in store.list_input_records(key) if r.get("status") in UNFINISHED]


def is_recent(record: dict[str, Any], *, now: datetime | None = None) -> bool:
    """A pending record whose attempt started within PENDING_GRACE: it may still be running."""
    if record.get("status") != "pending":
        return False
    started = datetime.fromisoformat(record.get("last_attempt_at", "1970-01-01T00:00:00Z").replace("Z", "+00:00"))
    return (now or datetime.now(UTC)) - started < PENDING_GRACE


def retry(record: dict[str, Any], store: ArchiveStore, *, s3: Any, settings: Settings, default_tz: tzinfo,
          queue: ChunkQueue | None = None, media: MediaQueue | None = None) -> Outcome:
    """Archive the input (or chunk) of an unfinished record again; its outcome is recorded on that record.

    A post version's media record (images that could not be archived) runs its media job again, here."""
    from archiver import inbox, pipeline
    from archiver.spool import spool_to_file

    if record.get("origin_kind") == "media":
        return retry_media(record, store, settings=settings)
    origin = Origin(kind=record.get("origin_kind", "s3"), uri=record.get("origin_uri", input_key(record)),
                    bucket=record.get("bucket"), key=record.get("key"), version_id=record.get("version_id"),
                    etag=record.get("etag"), site_url=record.get("site_url"))
    name = PurePosixPath(origin.key or origin.uri).name
    raw_key = record.get("raw_key")
    if record.get("chunk"):
        part = record["chunk"]
        chunk = Chunk(raw_key=raw_key, name=part.get("name") or name, origin=origin, format=part["format"],
                      index=part["index"], start=part["start"], stop=part["stop"], total=part["total"],
                      chunks=part["chunks"])
        return pipeline.archive_chunk(chunk, store, default_tz=default_tz)
    if raw_key:
        path = spool_to_file(lambda f: store.download_raw(raw_key, f), directory=settings.spool_dir or None)
        with Input.from_file(path, name, origin, temporary=True) as item:
            return pipeline.archive_input(item, store, default_tz=default_tz, max_bytes=settings.max_input_bytes,
                                          queue=queue, chunk_posts=settings.chunk_posts if queue else 0, media=media)
    if origin.kind == "s3" and origin.bucket and origin.key:
        ref = ObjectRef(origin.bucket, origin.key, origin.version_id, origin.etag)
        return inbox.archive_object(s3, ref, store, settings=settings, default_tz=default_tz, queue=queue,
                                    media=media)
    raise ArchiverError(f"{origin.uri}: no raw bytes were saved and it is not an inbox object",
                        code="not_retryable", stage="retry")


def retry_media(record: dict[str, Any], store: ArchiveStore, *, settings: Settings) -> Outcome:
    """Run the media job of a post version again (the images still missing); outcome `failed` while some
    image is still not archived, as its record says."""
    from archiver.media.job import MediaJob, media_context, run_media_job
    from archiver.model import Failure

    job = MediaJob(str(record["post_id"]), int(record["post_version"]), "")
    report = run_media_job(job, media_context(store, settings))
    origin = Origin("media", record.get("origin_uri") or f"media of post {job.post_id}")
    if report.failed or report.remaining is not None:
        first = report.failures[0] if report.failures else {"code": "timeout", "message": "out of time"}
        where = first.get("url") or first.get("src")
        message = f"{report.failed} image(s) still missing; first: {where}: {first.get('code')}: {first.get('message')}"
        failure = Failure("media_failed", "media", message[:500])
        return Outcome(status="failed", origin=origin, post_ids=[job.post_id], error=failure)
    return Outcome(status="archived", origin=origin, post_ids=[job.post_id])
