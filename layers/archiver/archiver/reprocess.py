"""Re-normalize archived posts from their archived originals, when the normalizer has changed.

Each archived original (`raw/<sha256[:2]>/<sha256>`) is read back as the Input it was (name, origin
and charset are kept in the object's metadata), parsed and normalized again. Each post it gives is
compared with the stored version by an output digest (archiver.ids.output_sha256: the post document
minus `archived_at`, `version`, `normalizer_version`), kept on the post's records: a difference writes
a new version, none writes nothing.

Only the input that produced a post's *current* version may revise it (the LATEST item's
`raw_key`): an older snapshot of a feed must not bring back the text of an older version. A post
built from two inputs (a feed entry completed by its page: the stored source format is not this
input's) cannot be rebuilt from one, and is skipped. Counts: inputs, renormalized, unchanged,
skipped, failed. See docs/reprocess.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from archiver import formats
from archiver.deadline import Deadline, DeadlineExceeded, check
from archiver.errors import ArchiverError, ParseError
from archiver.ids import output_sha256
from archiver.limits import MAX_POST_BYTES
from archiver.model import Input, Origin, Post, RawPost
from archiver.normalize import normalize
from archiver.render import render_post_html
from archiver.spool import spool_to_file

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from archiver.media.job import MediaQueue
    from archiver.store import ArchiveStore

LATEST_BATCH = 100  # posts compared per BatchGetItem of their LATEST items
# What `revise` reads of a LATEST item (the response carries only these: smaller, and quicker to decode).
LATEST_ATTRIBUTES = ("raw_key", "state", "content_sha256", "source", "story_id", "output_sha256", "json_key",
                     "json_version_id", "version", "media")
MAX_REPORTED_FAILURES = 50  # a report stays small (it is a Lambda response); the counts are exact
PostResult = Literal["renormalized", "unchanged", "skipped", "failed"]


@dataclass
class ReprocessReport:
    """What a run did: counts of inputs and posts, and the first failures (code, stage, message)."""

    inputs: int = 0
    renormalized: int = 0  # a new version was written (or, with dry_run, would be)
    unchanged: int = 0
    skipped: int = 0  # not this input's to revise: see the module docstring
    failed: int = 0  # posts (or whole inputs) that could not be re-normalized
    failures: list[dict[str, Any]] = field(default_factory=list)
    renormalized_ids: list[str] = field(default_factory=list)  # the first MAX_REPORTED_FAILURES
    dry_run: bool = False

    def count(self, result: PostResult, post_id: str | None = None) -> None:
        setattr(self, result, getattr(self, result) + 1)
        if result == "renormalized" and post_id and len(self.renormalized_ids) < MAX_REPORTED_FAILURES:
            self.renormalized_ids.append(post_id)

    def fail(self, raw_key: str, error: ArchiverError, *, post_id: str | None = None) -> None:
        self.failed += 1
        if len(self.failures) < MAX_REPORTED_FAILURES:
            self.failures.append({"raw_key": raw_key, "post_id": post_id, "code": error.code, "stage": error.stage,
                                  "message": error.message})

    def merge(self, other: ReprocessReport) -> None:
        for name in ("inputs", "renormalized", "unchanged", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures[: MAX_REPORTED_FAILURES - len(self.failures)]
        self.renormalized_ids += other.renormalized_ids[: MAX_REPORTED_FAILURES - len(self.renormalized_ids)]

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "renormalized": self.renormalized, "unchanged": self.unchanged,
                "skipped": self.skipped, "failed": self.failed, "dry_run": self.dry_run,
                "renormalized_ids": self.renormalized_ids, "failures": self.failures}


@dataclass(frozen=True)
class Options:
    """What to re-process: inputs archived since a time, posts of one site; dry_run writes nothing."""

    since: datetime | None = None
    site: str | None = None
    dry_run: bool = False
    default_tz: tzinfo = UTC
    max_post_bytes: int = MAX_POST_BYTES

    @classmethod
    def from_event(cls, options: dict[str, Any], *, default_tz: tzinfo = UTC,
                   max_post_bytes: int = MAX_POST_BYTES) -> Options:
        """From a state machine execution's input ({"since": "2026-01-01", "site": ..., "dry_run": ...})."""
        return cls(since=parse_since(options.get("since")), site=options.get("site") or None,
                   dry_run=bool(options.get("dry_run")), default_tz=default_tz, max_post_bytes=max_post_bytes)


def parse_since(value: str | None) -> datetime | None:
    """An ISO date or date-time (UTC when no offset is given); None for none."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ArchiverError(f"--since {value!r} is not an ISO date (2026-01-31 or 2026-01-31T12:00:00Z)",
                            code="invalid_since", stage="reprocess") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ----------------------------------------------------------------------------- what to re-process


def raw_keys(store: ArchiveStore, options: Options) -> Iterator[str]:
    """The archived originals to re-process: every `raw/` object (first archived since `since`), or,
    with a site, the inputs of that site's current versions (archived since `since`)."""
    if options.site is None:
        yield from store.list_raw_keys(since=options.since)
        return
    seen: set[str] = set()
    for item in store.list_site_posts(options.site, newest_first=False):
        key = item.get("raw_key")
        if not key or key in seen:
            continue
        archived_at = parse_since(item.get("archived_at"))
        if options.since is not None and archived_at is not None and archived_at < options.since:
            continue
        seen.add(key)
        yield key


def origin_from_metadata(raw_key: str, metadata: dict[str, str]) -> tuple[Origin, str]:
    """The Origin and file name an original was archived with, from its object metadata."""
    uri = unquote(metadata.get("origin-uri", "")) or raw_key
    name = unquote(metadata.get("original-name", "")) or PurePosixPath(raw_key).name
    site_url = unquote(metadata.get("site-url", "")) or None
    scheme = urlsplit(uri).scheme
    if scheme == "s3":
        parts = urlsplit(uri)
        return Origin("s3", uri, parts.netloc, unquote(parts.path.lstrip("/")), site_url=site_url), name
    if scheme in ("http", "https"):
        return Origin("url", uri, site_url=site_url), name
    return Origin("file", uri, site_url=site_url), name


# ----------------------------------------------------------------------------- re-processing


def reprocess(store: ArchiveStore, options: Options, keys: Iterable[str] | None = None,
              deadline: Deadline | None = None, media: MediaQueue | None = None) -> ReprocessReport:
    """Re-process the given raw keys (default: those `raw_keys` selects); one report for them all.

    With a `media` queue, the images of every post whose current version has none archived yet (posts
    archived before media were, or whose jobs were lost) are queued, without a new version when the text
    did not change; a new version queues its own."""
    report = ReprocessReport(dry_run=options.dry_run)
    for key in raw_keys(store, options) if keys is None else keys:
        report.merge(reprocess_input(key, store, options, deadline=deadline, media=media))
    return report


def reprocess_input(raw_key: str, store: ArchiveStore, options: Options, *,
                    deadline: Deadline | None = None, media: MediaQueue | None = None) -> ReprocessReport:
    """Re-normalize every post of one archived original; never raises for a bad input (it is counted)."""
    report = ReprocessReport(inputs=1, dry_run=options.dry_run)
    stage = "read"
    try:
        check(deadline, stage)
        metadata: dict[str, str] = {}
        path = spool_to_file(lambda f: metadata.update(store.read_raw(raw_key, f)))
        origin, name = origin_from_metadata(raw_key, metadata)
        charset = unquote(metadata["charset"]) if metadata.get("charset") else None
        with Input(data=b"", name=name, origin=origin, path=path, temporary=True, charset=charset) as item:
            stage = "detect"
            module = formats.detect(item.head(formats.SNIFF_BYTES), item.name)
            stage = "parse"
            archived_at = datetime.now(UTC).isoformat(timespec="seconds")
            found = 0
            batch: list[tuple[RawPost, Post | ArchiverError]] = []
            for raw in formats.each_post(module, item, max_post_bytes=options.max_post_bytes):
                found += 1
                check(deadline, "normalize")
                batch.append((raw, _normalized_or_error(raw, origin, options, archived_at)))
                if len(batch) == LATEST_BATCH:
                    _revise_batch(batch, raw_key, store, options, archived_at, report, media)
                    batch = []
            _revise_batch(batch, raw_key, store, options, archived_at, report, media)
            if not found:
                raise ParseError("the input holds no posts", code="no_posts")
    except DeadlineExceeded:
        raise  # the invocation is out of time: the caller retries the batch (re-processing is idempotent)
    except ArchiverError as exc:
        report.fail(raw_key, exc)
    except Exception as exc:  # a bug met on one input is that input's failure, named with its stage
        report.fail(raw_key, ArchiverError(f"{type(exc).__name__}: {exc}", code="internal_error", stage=stage))
    return report


def _normalized_or_error(raw: RawPost, origin: Origin, options: Options, archived_at: str) -> Post | ArchiverError:
    try:
        return _normalized(raw, origin, options, archived_at)
    except ArchiverError as exc:
        return exc
    except Exception as exc:  # one post's bug is that post's failure; the input's other posts go on
        return ArchiverError(f"{type(exc).__name__}: {exc}", code="internal_error", stage="normalize")


def _revise_batch(batch: list[tuple[RawPost, Post | ArchiverError]], raw_key: str, store: ArchiveStore,
                  options: Options, archived_at: str, report: ReprocessReport,
                  media: MediaQueue | None = None) -> None:
    """Compare a batch of re-normalized posts with their LATEST items (one BatchGetItem), revise those changed,
    and queue the images of those still without any (one message batch)."""
    from archiver.media.job import job_for

    posts = [post for _, post in batch if isinstance(post, Post)]
    latest = store.get_posts([post.id for post in posts], LATEST_ATTRIBUTES) if posts else {}
    jobs = []
    for raw, post in batch:
        if isinstance(post, ArchiverError):
            report.fail(raw_key, post)
            continue
        if options.site is not None and post.site != options.site:
            report.count("skipped")
            continue
        try:
            result = revise(post, raw, raw_key, latest.get(post.id), store, options, archived_at)
        except ArchiverError as exc:
            report.fail(raw_key, exc, post_id=post.id)
            continue
        except Exception as exc:  # one post's bug is that post's failure; the input's other posts go on
            report.fail(raw_key, ArchiverError(f"{type(exc).__name__}: {exc}", code="internal_error",
                                               stage="reprocess"), post_id=post.id)
            continue
        report.count(result, post.id)
        current = store.get_post(post.id) if result == "renormalized" else latest.get(post.id)
        if media is not None and not options.dry_run and result != "skipped" and current and "media" not in current:
            jobs += [job] if (job := job_for(post, int(current["version"]))) is not None else []
    if jobs:
        media.send(jobs)


def revise(post: Post, raw: RawPost, raw_key: str, latest: dict[str, Any] | None, store: ArchiveStore,
           options: Options, archived_at: str) -> PostResult:
    """Compare one re-normalized post with its LATEST item; write a new version when its output differs."""
    if latest is None or latest.get("raw_key") != raw_key:
        # Not archived (its input failed, or the new normalizer gives it another id), or its current
        # version came from another input: nothing of this input's to revise.
        return "skipped"
    if latest.get("state") != "stored":
        if latest.get("content_sha256") != post.content_sha256:
            raise ArchiverError(f"post {post.id} has a version being written (state {latest.get('state')})",
                                code="post_pending", stage="reprocess")
        if not options.dry_run:  # a crashed write of this very content: the ordinary save resumes it
            _save(post, raw_key, store, revise=None)
        return "renormalized"
    source = latest.get("source") or {}
    if source.get("format") != post.source["format"]:
        return "skipped"  # e.g. a feed entry completed by its page: built from two inputs, not this one alone
    if (source.get("kind"), source.get("uri")) != (post.source["kind"], post.source["uri"]):
        # The metadata's origin was clipped, or is another upload's: normalize as the stored version was.
        post = _normalized(raw, Origin(source.get("kind") or "file", source.get("uri") or ""), options, archived_at)
    post.story_id = latest.get("story_id") or post.story_id  # the archive's story link stays
    if not output_changed(post, latest, store):
        return "unchanged"
    if not options.dry_run:
        _save(post, raw_key, store, revise=int(latest["version"]))
    return "renormalized"


def output_changed(post: Post, latest: dict[str, Any], store: ArchiveStore) -> bool:
    """Whether the post's output differs from the stored version's: by digest, or (for versions stored
    before digests were kept) by reading the stored post.json."""
    document = post.to_dict()
    stored_digest = latest.get("output_sha256")
    if stored_digest:
        return output_sha256(document) != stored_digest
    return output_sha256(document) != output_sha256(store.get_post_document(latest))


def _save(post: Post, raw_key: str, store: ArchiveStore, *, revise: int | None) -> None:
    store.save_post(post, raw_key, render_post_html(post), revise=revise)
    store.index_story(post)  # its fingerprint may be new: later copies must find it


def _normalized(raw: RawPost, origin: Origin, options: Options, archived_at: str) -> Post:
    return normalize(raw, origin, archived_at=archived_at, default_tz=options.default_tz,
                     max_post_bytes=options.max_post_bytes)
