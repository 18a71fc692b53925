"""A media job: archive the images of one stored post version, then point its page at the archived copies.

Queued when a version is stored (archiver.pipeline), on the fetch queue with the images' host as message
group, so a host's page fetches and image downloads take turns, one at a time, like fetch jobs. A job works
against the invocation's remaining time: what it has not reached is queued again as a new job (`remaining`);
what it archived is attached at once. An image that cannot be had is recorded, never the post failed for it.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from archiver.errors import ArchiverError, InputTooLarge, StoreError
from archiver.media.probe import probe
from archiver.media.refs import ImageRef, image_refs

if TYPE_CHECKING:
    from archiver.config import Settings
    from archiver.fetch.http import HttpClient
    from archiver.media.bundle_files import BundleFiles
    from archiver.media.download import Downloader
    from archiver.model import Post
    from archiver.store import ArchiveStore
    from archiver.store.media import StoredVersion

MESSAGE_KEY = "media"
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # one image: a camera original is rarely larger
MAX_POST_MEDIA_BYTES = 100 * 1024 * 1024  # all of one post's images together
RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost", ".example.com", ".example.net", ".example.org")
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
ARCHIVED_FIELDS = ("url", "bundle_path", "archived", "content_type", "bytes", "width", "height", "status", "error")


@dataclass(frozen=True)
class MediaJob:
    """The images of post `post_id`, version `version`; `host` groups the job with that host's fetches."""

    post_id: str
    version: int
    host: str
    attempt: int = 1

    def to_message(self) -> str:
        return json.dumps({MESSAGE_KEY: {"post_id": self.post_id, "version": self.version, "host": self.host,
                                         "attempt": self.attempt}})

    @classmethod
    def from_message(cls, body: str) -> MediaJob | None:
        """The job a queue message holds, or None when the message is something else."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        job = data.get(MESSAGE_KEY) if isinstance(data, dict) else None
        if not isinstance(job, dict) or not job.get("post_id"):
            return None
        return cls(str(job["post_id"]), int(job.get("version", 1)), str(job.get("host") or ""),
                   int(job.get("attempt", 1)))


class MediaQueue(Protocol):
    def send(self, jobs: list[MediaJob]) -> None: ...


class SqsMediaQueue:
    """Media jobs on the FIFO fetch queue, the images' host as message group."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url

    def send(self, jobs: list[MediaJob]) -> None:
        for start in range(0, len(jobs), 10):
            entries = [{"Id": str(i), "MessageBody": job.to_message(), "MessageGroupId": job.host or "-",
                        "MessageDeduplicationId": hashlib.sha256(job.to_message().encode()).hexdigest()}
                       for i, job in enumerate(jobs[start:start + 10])]
            response = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if response.get("Failed"):
                raise StoreError(f"queue media jobs: {response['Failed'][0].get('Message', 'refused')}",
                                 stage="media")


def job_for(post: Post, version: int) -> MediaJob | None:
    """The media job of a stored version, or None when the post shows no image to archive."""
    refs = image_refs(post.to_dict())
    if not any(ref.url or ref.bundle_paths for ref in refs):
        return None
    host = next((ref.host for ref in refs if ref.host), "") or post.site
    return MediaJob(post.id, version, host)


@dataclass
class MediaReport:
    """What a job did: images archived (now or by an earlier post), failed, and whether time ran out."""

    post_id: str
    version: int
    archived: int = 0
    reused: int = 0
    failed: int = 0
    skipped: bool = False  # the version is no longer current: nothing to attach to
    remaining: MediaJob | None = None  # queue it: the rest of this job, for another invocation
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"post_id": self.post_id, "version": self.version, "archived": self.archived,
                "reused": self.reused, "failed": self.failed, "skipped": self.skipped,
                "deferred": self.remaining is not None}


@dataclass
class MediaContext:
    """What a job needs: the store, a downloader (None: REMOTE_MEDIA off, only bundle files), the clock."""

    store: ArchiveStore
    downloader: Downloader | None
    render: Callable[[Post, dict[str, str]], str]
    deadline: Callable[[], float] | None = None  # seconds left in the invocation
    margin: float = 30.0
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_post_bytes: int = MAX_POST_MEDIA_BYTES

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.deadline() < self.margin

    def time_left(self) -> float | None:
        """Seconds one download may take: the invocation's time less the margin (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline() - self.margin)


def media_context(store: ArchiveStore, settings: Settings, *, deadline: Callable[[], float] | None = None,
                  client: HttpClient | None = None, robots_store: Any = None) -> MediaContext:
    """A media job's context from the settings: the guarded HTTP client (unless REMOTE_MEDIA is off),
    robots.txt (shared through the table when `robots_store` is given), the post renderer."""
    from archiver.render import render_post_html

    downloader = None
    if settings.remote_media:
        from archiver.fetch.robots import RobotsCache
        from archiver.fetch.runtime import http_client
        from archiver.media.download import Downloader

        client = client or http_client(settings)
        downloader = Downloader(client, RobotsCache(client, store=robots_store), host_delay=settings.fetch_host_delay)
    return MediaContext(store, downloader, render_post_html, deadline=deadline, margin=settings.fetch_margin_seconds,
                        max_image_bytes=settings.media_max_bytes)


def run_media_job(job: MediaJob, context: MediaContext) -> MediaReport:
    """Archive what the version's images still need, attach them to its page, record the outcome."""
    report = MediaReport(job.post_id, job.version)
    store = context.store
    stored = store.media.stored_version(job.post_id, job.version)
    if stored is None:
        report.skipped = True
        return report
    refs = image_refs(stored.document)
    done = _archived_images(stored.document)
    known = store.media.known([ref.url for ref in refs if ref.url and ref.src not in done])
    results: dict[str, dict[str, Any]] = {}
    learned: list[dict[str, Any]] = []
    spent = 0
    with _Bundle(store, stored) as bundle:
        for ref in refs:
            if ref.src in done:
                results[ref.src] = done[ref.src]
                continue
            if context.out_of_time():
                report.remaining = MediaJob(job.post_id, job.version, job.host, job.attempt + 1)
                break
            try:
                result = _archive_one(ref, bundle, known, context, context.max_post_bytes - spent)
            except ArchiverError as exc:
                result = {"url": ref.url, "status": "failed", "error": {"code": exc.code, "message": exc.message}}
            if result.get("status") == "archived":
                spent += result.get("bytes", 0)
                if result.pop("_new", False) and ref.url:
                    learned.append({k: v for k, v in result.items() if k in ("url", "archived", "content_type",
                                                                            "bytes", "width", "height")})
            results[ref.src] = result
    if learned:
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        store.media.remember([{**r, "key": r.pop("archived"), "fetched_at": fetched_at} for r in learned])
    report.archived = sum(1 for r in results.values() if r.get("status") == "archived")
    report.reused = sum(1 for r in results.values() if r.get("reused"))
    report.failures = [{"src": src, **r.get("error", {}), "url": r.get("url")} for src, r in results.items()
                       if r.get("status") == "failed"]
    report.failed = len(report.failures)
    _attach(stored, results, context)
    if report.remaining is None:
        store.media.record_outcome(stored.post_id, stored.version, stored.raw_key, report.failures,
                                   report.archived)
    return report


def _archive_one(ref: ImageRef, bundle: _Bundle, known: dict[str, dict[str, Any]], context: MediaContext,
                 budget: int) -> dict[str, Any]:
    """Archive one image: from the bundle first, else what an earlier post archived, else the web."""
    limit = min(context.max_image_bytes, budget)
    name = bundle.find(ref.bundle_paths) if ref.bundle_paths else None
    if name is None and ref.url and ref.url in known:
        record = known[ref.url]
        return {"url": ref.url, "archived": record["key"], "content_type": record.get("content_type"),
                "bytes": int(record.get("bytes") or 0), "width": record.get("width"),
                "height": record.get("height"), "status": "archived", "reused": True}
    if limit <= 0:
        raise InputTooLarge(f"the post's images are over the {context.max_post_bytes}-byte limit", stage="media",
                            code="too_large")
    if name is not None:
        data = bundle.read(name, limit)
        source = {"bundle_path": name}
    elif ref.url and context.downloader is None:  # REMOTE_MEDIA off: left as it is, not a failure
        return {"url": ref.url, "status": "skipped"}
    elif ref.url:
        _check_host(ref.url)
        data = context.downloader.get(ref.url, limit, context.time_left())
        source = {}
    else:
        raise ArchiverError(f"{ref.src[:200]}: a relative URL, and neither a site URL nor a bundle file to resolve "
                            "it with", code="unresolvable_url", stage="media")
    probed = probe(data)
    digest = hashlib.sha256(data).hexdigest()
    key = context.store.media.save(data, digest, probed.extension, probed.content_type)
    return {"url": ref.url, **source, "archived": key, "content_type": probed.content_type, "bytes": len(data),
            "width": probed.width, "height": probed.height, "status": "archived", "_new": True}


def _check_host(url: str) -> None:
    """Names reserved for examples and tests (RFC 2606, RFC 6761) are nobody's: not looked up at all."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host.endswith(RESERVED_SUFFIXES) or host in RESERVED_DOMAINS:
        raise ArchiverError(f"{host} is a name reserved for examples, not a real host", code="reserved_host",
                            stage="media")


def _archived_images(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The images an earlier run of this job archived already, by `src`."""
    done = {image["src"]: {k: image[k] for k in ARCHIVED_FIELDS if k in image}
            for image in document.get("images") or [] if isinstance(image, dict) and image.get("archived")}
    lead = (document.get("media") or {}).get("lead")
    if isinstance(lead, dict) and lead.get("archived") and document.get("image"):
        done[document["image"]] = {k: lead[k] for k in ARCHIVED_FIELDS if k in lead}
    return done


def _attach(stored: StoredVersion, results: dict[str, dict[str, Any]], context: MediaContext) -> None:
    """Write the results into the version's post.json and its page; read again and retry on a lost race."""
    from archiver.model import Post

    for _ in range(3):
        document = json.loads(json.dumps(stored.document))
        for image in document.get("images") or []:
            if isinstance(image, dict) and image.get("src") in results:
                image.update({k: v for k, v in results[image["src"]].items() if k in ARCHIVED_FIELDS})
        lead = document.get("image")
        media: dict[str, Any] = {"archived": sum(r.get("status") == "archived" for r in results.values()),
                                 "failed": sum(r.get("status") == "failed" for r in results.values())}
        if lead in results and not any(i.get("src") == lead for i in document.get("images") or []):
            media["lead"] = {"src": lead, **{k: v for k, v in results[lead].items() if k in ARCHIVED_FIELDS}}
        document["media"] = media
        folder = posixpath.dirname(stored.html_key)
        relative = {src: posixpath.relpath(r["archived"], folder) for src, r in results.items() if r.get("archived")}
        page = context.render(Post.from_dict(document), relative)
        if context.store.media.attach(stored, document, page, media):
            return
        fresh = context.store.media.stored_version(stored.post_id, stored.version)
        if fresh is None:
            return  # a newer version took the keys: its own job attaches its images
        stored = fresh


class _Bundle:
    """The bundle a version's post came from, opened on first use (None of it when the post needs none)."""

    def __init__(self, store: ArchiveStore, stored: StoredVersion) -> None:
        self._store = store
        self._stored = stored
        self._files: BundleFiles | None = None
        self._path: str | None = None
        self._tried = False

    def find(self, paths: tuple[str, ...]) -> str | None:
        files = self._open()
        return files.find(paths) if files is not None else None

    def read(self, name: str, max_bytes: int) -> bytes:
        files = self._open()
        assert files is not None
        return files.read(name, max_bytes)

    def _open(self) -> BundleFiles | None:
        if not self._tried:
            self._tried = True
            raw_key = self._stored.raw_key
            if raw_key and (self._stored.document.get("extra") or {}).get("bundle_entry"):
                from archiver.media.bundle_files import BundleFiles
                from archiver.spool import spool_to_file

                self._path = spool_to_file(lambda f: self._store.download_raw(raw_key, f))
                try:
                    self._files = BundleFiles(self._path)
                except ArchiverError:
                    self._files = None
        return self._files

    def __enter__(self) -> _Bundle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        import contextlib
        import os

        if self._files is not None:
            self._files.close()
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
