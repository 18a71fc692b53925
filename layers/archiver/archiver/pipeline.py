"""The one path every input takes: save raw bytes, detect, parse, normalize, store, record.

Triggers (the Lambda handler, the CLI, later the fetcher) only build `Input`s and call
`archive_input`; `normalize_input` is the same path without storage, for `archiver normalize`.
A large input whose format can split (WXR) is fanned out instead: `archive_input` queues
chunks of its posts and each chunk comes back to `archive_chunk` (see archiver.chunks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from archiver import formats
from archiver.deadline import Deadline, DeadlineAlarm, check, enforced, timeout_error
from archiver.errors import ArchiverError, InputTooLarge, InternalError, ParseError
from archiver.limits import MAX_POST_BYTES
from archiver.model import Chunk, Failure, Input, Origin, Outcome, OutcomeStatus, Post, Recheck, is_finished
from archiver.normalize import normalize
from archiver.render import render_post_html
from archiver.spool import spool_to_file

if TYPE_CHECKING:
    from archiver.chunks import ChunkQueue
    from archiver.media.job import MediaJob, MediaQueue
    from archiver.spool import RawCache
    from archiver.store import ArchiveStore, SaveResult


def normalize_input(item: Input, *, default_tz: tzinfo = UTC, max_bytes: int | None = None,
                    archived_at: str | None = None, max_post_bytes: int = MAX_POST_BYTES) -> list[Post]:
    """Every post in one input, normalized; raises an ArchiverError naming the stage that failed."""
    return list(each_normalized(item, default_tz=default_tz, max_bytes=max_bytes, archived_at=archived_at,
                                max_post_bytes=max_post_bytes))


def each_normalized(item: Input, *, default_tz: tzinfo = UTC, max_bytes: int | None = None,
                    archived_at: str | None = None, max_post_bytes: int = MAX_POST_BYTES) -> Iterator[Post]:
    """The input's posts normalized one at a time, as its format parses them: memory stays flat in
    the number of posts. Raises an ArchiverError naming the stage that failed (`no_posts` at the end
    of an input that held none)."""
    if max_bytes is not None and item.size > max_bytes:
        raise InputTooLarge(f"{item.size} bytes is over the {max_bytes}-byte limit")
    stage = "parse"
    try:
        module = formats.detect(item.head(formats.SNIFF_BYTES), item.name)
        archived_at = archived_at or datetime.now(UTC).isoformat(timespec="seconds")
        found = 0
        for raw in formats.each_post(module, item, max_post_bytes=max_post_bytes):
            stage = "normalize"
            yield normalize(raw, item.origin, archived_at=archived_at, default_tz=default_tz,
                            max_post_bytes=max_post_bytes)
            found += 1
            stage = "parse"
        if not found:
            raise ParseError("the input holds no posts", code="no_posts")
    except ArchiverError:
        raise
    except Exception as exc:  # a bug met on one input is that input's failure, named with its stage
        raise InternalError(f"{type(exc).__name__}: {exc}", stage=stage) from exc


@dataclass
class _Progress:
    """How far one attempt got: what a failure (or the deadline) records."""

    stage: str
    raw_key: str | None = None
    begun: bool = False
    saved: list[str] = field(default_factory=list)
    duplicates: int = 0

    media_jobs: list[MediaJob] = field(default_factory=list)

    def store(self, post: Post, store: ArchiveStore) -> None:
        result = store_post(post, self.raw_key, store)
        self.saved.append(post.id)
        self.duplicates += result.status == "duplicate"
        if result.status == "archived":
            from archiver.media.job import job_for

            if (job := job_for(post, result.version)) is not None:
                self.media_jobs.append(job)

    def queue_media(self, queue: MediaQueue | None, store: ArchiveStore) -> None:
        """Queue the media jobs of the versions stored (even when a later post failed): a post is never
        failed for its images, so a job that cannot be queued is recorded as the version's media failure."""
        if queue is None or not self.media_jobs:
            return
        try:
            queue.send(self.media_jobs)
        except Exception as exc:
            failure = [{"code": "not_queued", "message": f"{type(exc).__name__}: {exc}"[:300]}]
            for job in self.media_jobs:
                store.media.record_outcome(job.post_id, job.version, self.raw_key, failure, 0)

    @property
    def status(self) -> OutcomeStatus:
        return "duplicate" if self.duplicates == len(self.saved) else "archived"


def archive_input(item: Input, store: ArchiveStore, *, default_tz: tzinfo = UTC,
                  max_bytes: int | None = None, queue: ChunkQueue | None = None,
                  chunk_posts: int = 0, deadline: Deadline | None = None,
                  max_post_bytes: int = MAX_POST_BYTES, media: MediaQueue | None = None) -> Outcome:
    """Archive one input and record its outcome; never loses the raw bytes.

    The raw bytes are saved before anything is parsed, so a failed input can be retried
    later from the archive. Posts are parsed, normalized and stored one by one; those already
    saved stay saved when a later one fails. With a `queue`, an input whose format can split and
    that holds more than `chunk_posts` posts is fanned out: one chunk message per `chunk_posts`
    posts, outcome `fanned_out`. With a `deadline`, the work stops there and the input is
    recorded as failed with code `timeout` and the stage it reached (see archiver.deadline).
    A redelivered input that already has a finished outcome is not archived again.
    """
    progress = _Progress(stage="save_raw")
    try:
        with enforced(deadline):
            progress.raw_key = store.save_raw(item)
            progress.stage = "begin"
            before = store.begin_input(item.origin, raw_key=progress.raw_key)
            progress.begun = True
            if is_finished(before):  # a redelivery of an input already archived: its first outcome stands
                return recorded_outcome(before, item.origin)
            fanned = None
            if queue is not None and chunk_posts > 0:
                progress.stage = "fan_out"
                fanned = fan_out(item, progress.raw_key, queue, chunk_posts=chunk_posts, max_bytes=max_bytes,
                                 store=store)
            outcome = fanned or _archive_posts(item, store, progress, default_tz=default_tz, max_bytes=max_bytes,
                                               deadline=deadline, max_post_bytes=max_post_bytes)
    except (Exception, DeadlineAlarm) as exc:  # any error, even a bug, must leave a failure record behind
        outcome = failed_outcome(item.origin, exc, stage=progress.stage, raw_key=progress.raw_key,
                                 post_ids=progress.saved)
    store.record_outcome(outcome, begun=progress.begun)
    progress.queue_media(media, store)
    return outcome


def _archive_posts(item: Input, store: ArchiveStore, progress: _Progress, *, default_tz: tzinfo,
                   max_bytes: int | None, deadline: Deadline | None, max_post_bytes: int) -> Outcome:
    """Parse, normalize and store the input's posts, one at a time."""
    progress.stage = "detect"
    if max_bytes is not None and item.size > max_bytes:
        raise InputTooLarge(f"{item.size} bytes is over the {max_bytes}-byte limit")
    module = formats.detect(item.head(formats.SNIFF_BYTES), item.name)
    archived_at = datetime.now(UTC).isoformat(timespec="seconds")
    progress.stage = "parse"
    for raw in formats.each_post(module, item, max_post_bytes=max_post_bytes):
        _next_stage(progress, "normalize", deadline)
        post = normalize(raw, item.origin, archived_at=archived_at, default_tz=default_tz,
                         max_post_bytes=max_post_bytes)
        _next_stage(progress, "store", deadline)
        progress.store(post, store)
        _next_stage(progress, "parse", deadline)
    if not progress.saved:
        raise ParseError("the input holds no posts", code="no_posts")
    return Outcome(status=progress.status, origin=item.origin, raw_key=progress.raw_key, post_ids=progress.saved)


def _next_stage(progress: _Progress, stage: str, deadline: Deadline | None) -> None:
    check(deadline, stage)
    progress.stage = stage


def store_post(post: Post, raw_key: str, store: ArchiveStore, *, recheck: Recheck | None = None) -> SaveResult:
    """Save the post with its page, linked to the story it is a copy of (looked up only when it is stored:
    a duplicate costs one conditional write and nothing else). `recheck`: a fetched post's re-check schedule,
    kept with its first version."""
    return store.save_post(post, raw_key, render_post_html(post), link_story=True, recheck=recheck)


def split(item: Input, raw_key: str, chunk_posts: int, *, max_bytes: int | None = None,
          store: ArchiveStore | None = None) -> list[Chunk]:
    """The chunks to archive a large input in, or [] when it is archived whole.

    [] when its format cannot split, it holds `chunk_posts` posts or fewer, or it cannot be read
    (the ordinary path then records why, exactly as for any other input). With a `store`, a format
    that can slice its bytes (`plan_slices`) gives chunks that each read only their own bytes; the
    context they share is saved first.
    """
    from archiver import chunks

    if max_bytes is not None and item.size > max_bytes:
        return []
    try:
        module = formats.detect(item.head(formats.SNIFF_BYTES), item.name)
        if not formats.can_split(module):
            return []
        sliced = None
        if store is not None and hasattr(module, "plan_slices"):
            sliced = module.plan_slices(item, chunk_posts)
        total = module.count(item) if sliced is None else sum(s.stop - s.start for s in sliced[1])
    except ArchiverError:
        return []
    if total <= chunk_posts:
        return []
    if sliced is not None:
        context, slices = sliced
        return chunks.plan_slices(slices, raw_key=raw_key, name=item.name, origin=item.origin, format=module.NAME,
                                  context_key=store.save_chunk_context(raw_key, context))
    return chunks.plan(total, chunk_posts, raw_key=raw_key, name=item.name, origin=item.origin,
                       format=module.NAME)


def fan_out(item: Input, raw_key: str, queue: ChunkQueue, *, chunk_posts: int,
            max_bytes: int | None = None, store: ArchiveStore | None = None) -> Outcome | None:
    """Queue the chunks of a large input: its `fanned_out` outcome, or None when it is not split.

    A failure to queue raises (the caller records it at stage `fan_out`, so that the input is
    retried); a retry queues every chunk again, which only archives duplicates (saving a post is
    idempotent).
    """
    planned = split(item, raw_key, chunk_posts, max_bytes=max_bytes, store=store)
    if not planned:
        return None
    queue.send(planned)
    return Outcome(status="fanned_out", origin=item.origin, raw_key=raw_key, chunks=len(planned))


def archive_chunk(chunk: Chunk, store: ArchiveStore, *, default_tz: tzinfo = UTC,
                  cache: RawCache | None = None, deadline: Deadline | None = None,
                  max_post_bytes: int = MAX_POST_BYTES, media: MediaQueue | None = None) -> Outcome:
    """Archive the posts `[chunk.start, chunk.stop)` of a fanned-out input; record the chunk's outcome.

    A slice (`chunk.begin`) reads only its own bytes and the context its input's fan-out saved.
    Otherwise the raw bytes are read back from the archive into a local file (`cache`, or a
    temporary file), never whole into memory, and only this chunk's posts are built. Posts get the input's origin,
    so their ids are those the whole input would give. A redelivered chunk whose outcome is finished
    is not archived again. With a `deadline`, as for `archive_input`.
    """
    progress = _Progress(stage="begin", raw_key=chunk.raw_key)
    try:
        with enforced(deadline):
            before = store.begin_input(chunk.origin, raw_key=chunk.raw_key, chunk=chunk)
            progress.begun = True
            if is_finished(before):  # a redelivered chunk: its first outcome stands
                outcome = recorded_outcome(before, chunk.origin)
                outcome.chunk = chunk
                return outcome
            progress.stage = "read"
            with _raw_input(chunk, store, cache) as item:
                progress.stage = "parse"
                module = formats.by_name(chunk.format)
                archived_at = datetime.now(UTC).isoformat(timespec="seconds")
                if chunk.is_slice:
                    posts = module.parse_slice(item, store.read_chunk_context(chunk.context_key))
                else:
                    posts = module.parse(item, chunk.start, chunk.stop)
                for raw in posts:
                    _next_stage(progress, "normalize", deadline)
                    post = normalize(raw, chunk.origin, archived_at=archived_at, default_tz=default_tz,
                                     max_post_bytes=max_post_bytes)
                    _next_stage(progress, "store", deadline)
                    progress.store(post, store)
                    _next_stage(progress, "parse", deadline)
            if not progress.saved:
                raise ParseError(f"chunk {chunk.index} (posts {chunk.start}-{chunk.stop} of {chunk.total}) holds "
                                 "no posts", code="no_posts")
            outcome = Outcome(status=progress.status, origin=chunk.origin, raw_key=chunk.raw_key,
                              post_ids=progress.saved, chunk=chunk)
    except (Exception, DeadlineAlarm) as exc:  # any error, even a bug, must leave a failure record behind
        outcome = failed_outcome(chunk.origin, exc, stage=progress.stage, raw_key=chunk.raw_key,
                                 post_ids=progress.saved)
        outcome.chunk = chunk
    store.record_outcome(outcome, begun=progress.begun)
    progress.queue_media(media, store)
    return outcome


def _raw_input(chunk: Chunk, store: ArchiveStore, cache: RawCache | None) -> Input:
    """The chunk's own bytes when it is a slice, else a file-backed Input over the whole raw bytes."""
    if chunk.is_slice:
        return Input(data=store.read_raw_range(chunk.raw_key, chunk.begin, chunk.end), name=chunk.name,
                     origin=chunk.origin)
    if cache is not None:
        path = cache.path(chunk.raw_key, lambda f: store.download_raw(chunk.raw_key, f))
        return Input.from_file(path, chunk.name, chunk.origin)
    path = spool_to_file(lambda f: store.download_raw(chunk.raw_key, f))
    return Input.from_file(path, chunk.name, chunk.origin, temporary=True)


def recorded_outcome(record: dict[str, Any], origin: Origin) -> Outcome:
    """The outcome an earlier attempt recorded for this input, as an Outcome (marked redelivered)."""
    error = record.get("error")
    return Outcome(status=record["status"], origin=origin, raw_key=record.get("raw_key"),
                   post_ids=list(record.get("post_ids", [])), chunks=record.get("chunks", 0),
                   error=Failure(**error) if error else None, redelivered=True)


def failed_outcome(origin: Origin, exc: BaseException, *, stage: str = "read", raw_key: str | None = None,
                   post_ids: list[str] | None = None) -> Outcome:
    """A failed outcome: our own errors carry code and stage; the deadline's alarm is a `timeout` at
    `stage`; anything else is an internal error."""
    if isinstance(exc, DeadlineAlarm):
        exc = timeout_error(stage)
    if isinstance(exc, ArchiverError):
        failure = Failure(exc.code, exc.stage, exc.message)
    else:
        failure = Failure("internal_error", stage, " ".join(f"{type(exc).__name__}: {exc}".split())[:500])
    return Outcome(status="failed", origin=origin, raw_key=raw_key, post_ids=post_ids or [], error=failure)
