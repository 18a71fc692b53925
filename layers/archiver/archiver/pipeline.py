"""The one path every input takes: save raw bytes, detect, parse, normalize, store, record.

Triggers (the Lambda handler, the CLI, later the fetcher) only build `Input`s and call
`archive_input`; `normalize_input` is the same path without storage, for `archiver normalize`.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from archiver import formats
from archiver.errors import ArchiverError, InputTooLarge, ParseError
from archiver.model import Failure, Input, Origin, Outcome, Post
from archiver.normalize import normalize
from archiver.render import render_post_html

if TYPE_CHECKING:
    from archiver.store import ArchiveStore, SaveResult


def normalize_input(item: Input, *, default_tz: tzinfo = UTC, max_bytes: int | None = None,
                    archived_at: str | None = None) -> list[Post]:
    """Every post in one input, normalized; raises an ArchiverError naming the stage that failed."""
    if max_bytes is not None and len(item.data) > max_bytes:
        raise InputTooLarge(f"{len(item.data)} bytes is over the {max_bytes}-byte limit")
    raw_posts = formats.parse(item)
    if not raw_posts:
        raise ParseError("the input holds no posts", code="no_posts")
    archived_at = archived_at or datetime.now(UTC).isoformat(timespec="seconds")
    return [normalize(raw, item.origin, archived_at=archived_at, default_tz=default_tz) for raw in raw_posts]


def archive_input(item: Input, store: ArchiveStore, *, default_tz: tzinfo = UTC,
                  max_bytes: int | None = None) -> Outcome:
    """Archive one input and record its outcome; never loses the raw bytes.

    The raw bytes are saved before anything is parsed, so a failed input can be retried
    later from the archive. Posts already saved stay saved when a later one fails.
    """
    raw_key = store.save_raw(item)
    saved: list[str] = []
    duplicates = 0
    stage = "parse"
    try:
        posts = normalize_input(item, default_tz=default_tz, max_bytes=max_bytes)
        stage = "store"
        for post in posts:
            result = store_post(post, raw_key, store)
            saved.append(post.id)
            duplicates += result.status == "duplicate"
        status = "duplicate" if duplicates == len(saved) else "archived"
        outcome = Outcome(status=status, origin=item.origin, raw_key=raw_key, post_ids=saved)
    except Exception as exc:  # any error, even a bug, must leave a failure record behind
        outcome = failed_outcome(item.origin, exc, stage=stage, raw_key=raw_key, post_ids=saved)
    store.record_outcome(outcome)
    return outcome


def store_post(post: Post, raw_key: str, store: ArchiveStore) -> SaveResult:
    """Link the post to the story it is a copy of, then save it with its page."""
    if post.canonical_url in (None, post.url):  # a post naming another original keeps that story
        post.story_id = store.find_story(post) or post.story_id
    result = store.save_post(post, raw_key, render_post_html(post))
    store.index_story(post)  # idempotent; also after a duplicate, in case an earlier run stopped here
    return result


def failed_outcome(origin: Origin, exc: Exception, *, stage: str = "read", raw_key: str | None = None,
                   post_ids: list[str] | None = None) -> Outcome:
    """A failed outcome: our own errors carry code and stage; anything else is an internal error."""
    if isinstance(exc, ArchiverError):
        failure = Failure(exc.code, exc.stage, exc.message)
    else:
        failure = Failure("internal_error", stage, " ".join(f"{type(exc).__name__}: {exc}".split())[:500])
    return Outcome(status="failed", origin=origin, raw_key=raw_key, post_ids=post_ids or [], error=failure)
