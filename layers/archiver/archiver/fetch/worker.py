"""A host's fetch job: its sources one after another, every document through the one archive path.

For each source: conditional GET (a 304 costs no parsing and no writes but the source's health),
then the document's raw bytes are saved, its posts parsed, normalized and stored exactly as a
dropped file's are. Entries already archived unchanged are skipped by their digest; feed entries
that carry only a summary get their page fetched (same job, same politeness) and its extracted
article as body. The source's state (validators, cursor, seen entries, health, next due time)
is written once at the end of its fetch. A job short of time hands back the sources not done.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from archiver import formats
from archiver.errors import ArchiverError
from archiver.fetch.errors import FetchError, HttpError
from archiver.fetch.schedule import after_failure, after_success, iso
from archiver.model import Failure, Input, Origin, Outcome, RawPost, Source
from archiver.normalize import normalize
from archiver.pipeline import failed_outcome, store_post

if TYPE_CHECKING:
    from archiver.fetch.http import HttpClient, Response
    from archiver.fetch.robots import RobotsCache
    from archiver.source_store import SourceStore
    from archiver.store import ArchiveStore

SEEN_LIMIT = 1000  # entry digests kept per source: more than any feed holds at once
SUMMARY_WORDS = 150  # auto mode: a feed entry shorter than this is taken for a summary
_TRUNCATED = re.compile(r"(\u2026|\.\.\.|read more|continue reading|weiterlesen|lire la suite)"
                        r"\W*$", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


class OutOfTime(Exception):
    """The job must stop before the function's timeout; the current source goes back to the queue."""


@dataclass
class FetchContext:
    """What a job needs: HTTP with robots.txt and per-host pacing, the stores, the clock."""

    client: HttpClient
    robots: RobotsCache
    archive: ArchiveStore
    host_delay: float = 1.0  # seconds between two requests to one host, at least (robots Crawl-delay wins)
    max_crawl_delay: float = 60.0
    default_tz: tzinfo = UTC
    max_pages: int = 50  # WordPress API pages per fetch; the cursor resumes the rest next time
    wp_per_page: int = 100  # the REST API's maximum
    max_articles: int = 200  # sitemap pages per fetch
    deadline: Callable[[], float] | None = None  # seconds left in this invocation; None = no limit
    margin: float = 30.0  # stop when fewer seconds than this are left
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last_request: dict[str, float] = field(default_factory=dict)

    def get(self, url: str, *, validators: dict[str, str] | None = None) -> Response:
        """GET within robots.txt, at least `host_delay` (or the host's Crawl-delay) after the last request."""
        from archiver.fetch.http import Validators

        self.check_time()
        rules = self.robots.rules(url)
        if not rules.allowed(url):
            from archiver.fetch.errors import RobotsDisallowed

            raise RobotsDisallowed(f"robots.txt disallows {url}")
        host = (urlsplit(url).netloc or "").lower()
        delay = max(self.host_delay, min(rules.crawl_delay or 0, self.max_crawl_delay))
        last = self._last_request.get(host)
        if last is not None:
            wait = last + delay - self.clock()
            if wait > 0:
                self.sleep(wait)
        try:
            return self.client.get(url, validators=Validators.from_dict(validators) if validators else None)
        finally:
            self._last_request[host] = self.clock()

    def check_time(self) -> None:
        if self.deadline is not None and self.deadline() < self.margin:
            raise OutOfTime


@dataclass
class FetchReport:
    """What one fetch of a source did (also kept on the source as its `last` health)."""

    source_id: str
    url: str
    status: str = "unchanged"  # archived | unchanged | not_modified | failed | deferred
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    post_ids: list[str] = field(default_factory=list)
    error: Failure | None = None
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {"at": self.at, "status": self.status, "http_status": self.http_status, "url": self.url,
                "new": self.new, "updated": self.updated, "unchanged": self.unchanged}
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data


@dataclass
class JobResult:
    reports: list[FetchReport] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # source ids not reached: to queue again


def run_job(source_ids: list[str], sources: SourceStore, ctx: FetchContext) -> JobResult:
    """Fetch a host's sources in order; stop early (returning the rest) when time runs short."""
    result = JobResult()
    for index, source_id in enumerate(source_ids):
        source = sources.get(source_id)
        if source is None or not source.enabled:
            continue  # removed or disabled since it was queued
        try:
            ctx.check_time()
            report = fetch_source(source, ctx)
        except OutOfTime:
            result.remaining = list(source_ids[index:])
            break
        sources.save_state(source)
        result.reports.append(report)
    return result


def fetch_source(source: Source, ctx: FetchContext) -> FetchReport:
    """Fetch one source now, archive what changed, and update its state and health in place.

    Never raises for the source's own problems (HTTP errors, unsafe URLs, unparseable documents):
    they are its health. OutOfTime propagates, after progress so far is kept on the source.
    """
    now = ctx.now()
    report = FetchReport(source_id=source.id, url=source.url, at=iso(now))
    fetchers = {"feed": _fetch_feed, "article": _fetch_feed, "wordpress": _fetch_wordpress, "sitemap": _fetch_sitemap}
    try:
        fetchers[source.kind](source, ctx, report)
    except OutOfTime:
        report.status = "deferred"
        source.last = report.to_dict()
        raise
    except Exception as exc:  # any error, even a bug, is recorded on the source: it never stalls silently
        report.status = "failed"
        report.error = failed_outcome(Origin("url", source.url), exc, stage="fetch").error
        report.http_status = getattr(exc, "status", None) or report.http_status
        source.failures += 1
        retry_after = exc.retry_after if isinstance(exc, HttpError) else None
        source.next_due_at = iso(after_failure(now, source.failures, retry_after=retry_after))
        if isinstance(exc, HttpError) and exc.gone:
            source.enabled = False
            source.disabled_reason = f"410 Gone at {report.at}"
    else:
        source.failures = 0
        source.next_due_at = iso(after_success(now, source.every_seconds))
        if report.status == "unchanged" and (report.new or report.updated):
            report.status = "archived"
    source.last = report.to_dict()
    return report


# ----------------------------------------------------------------------------- kinds


def _fetch_feed(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """A feed (or a single article): one conditional GET, then every new or changed entry archived."""
    response = ctx.get(source.url, validators=source.validators.get(source.url))
    report.http_status = response.status
    if response.permanent_url and response.permanent_url != source.url:
        source.validators.pop(source.url, None)
        source.url = report.url = response.permanent_url  # 301/308: the source has moved for good
    if response.not_modified:
        report.status = "not_modified"
        return
    _archive_document(source, ctx, response, report, full=source.full if source.kind == "feed" else "never")
    _keep_validators(source, source.url, response)


def _fetch_wordpress(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """The REST API's posts modified since the cursor, oldest change first, page after page.

    The query stays the same for the whole pass (page numbers refer to it); the cursor moves to
    the newest change seen when the pass ends. A pass cut short keeps its progress less a second,
    so that posts sharing the last timestamp across a page boundary are asked for again, not lost.
    """
    since, newest = source.cursor, None
    try:
        for page in range(1, ctx.max_pages + 1):
            response = ctx.get(wp_posts_url(source.url, page=page, modified_after=since, per_page=ctx.wp_per_page))
            report.http_status = response.status
            if page == 1 and response.permanent_url and "wp/v2/posts" in response.permanent_url:
                source.url = report.url = response.permanent_url[: response.permanent_url.index("wp/v2/posts")]
            if response.body.strip() in (b"", b"[]"):
                break
            posts = _archive_document(source, ctx, response, report, full="never")
            modified = [p.front_matter["modified"] for p in posts if isinstance(p.front_matter.get("modified"), str)]
            newest = max([newest or "", *modified]) or None
            if page >= int(response.headers.get("x-wp-totalpages") or 1):
                break
    except OutOfTime:
        if newest:
            source.cursor = max(source.cursor or "", _second_before(newest))
        raise
    if newest:
        source.cursor = max(source.cursor or "", newest)


def _second_before(stamp: str) -> str:
    from datetime import datetime, timedelta

    try:
        return (datetime.fromisoformat(stamp) - timedelta(seconds=1)).isoformat()
    except ValueError:
        return stamp


def _fetch_sitemap(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """Pages listed in the sitemap (or its child sitemaps) changed since the cursor, oldest first."""
    from archiver.fetch.sitemap import parse_sitemap

    response = ctx.get(source.url, validators=source.validators.get(source.url))
    report.http_status = response.status
    if response.not_modified:
        report.status = "not_modified"
        return
    sitemap = parse_sitemap(response.body)
    entries = list(sitemap.entries)
    if sitemap.is_index:
        entries = []
        for child in sitemap.entries:
            if source.cursor and child.lastmod and child.lastmod <= source.cursor:
                continue
            child_response = ctx.get(child.url, validators=source.validators.get(child.url))
            if child_response.not_modified:
                continue
            entries += parse_sitemap(child_response.body).entries
            _keep_validators(source, child.url, child_response)
    fresh = [e for e in entries if _is_new(e.lastmod, e.url, source)]
    fresh.sort(key=lambda e: e.lastmod or "")
    for entry in fresh[: ctx.max_articles]:
        try:
            page = ctx.get(entry.url)
        except FetchError as exc:
            report.error = Failure(exc.code, exc.stage, f"{entry.url}: {exc.message}")
            continue  # one missing page does not fail the sitemap
        _archive_document(source, ctx, page, report, full="never", seen_key=entry.url,
                          seen_digest=entry.lastmod or "-")
        if entry.lastmod:
            source.cursor = max(source.cursor or "", entry.lastmod)
    _keep_validators(source, source.url, response)


def _is_new(lastmod: str | None, url: str, source: Source) -> bool:
    if lastmod is None:
        return url not in source.seen
    return source.cursor is None or lastmod > source.cursor


def wp_posts_url(api_root: str, *, page: int, modified_after: str | None, per_page: int = 100) -> str:
    """The posts endpoint under a REST API root (`/wp-json/` or `?rest_route=/`), oldest change first."""
    params = {"per_page": per_page, "page": page, "_embed": 1, "orderby": "modified", "order": "asc"}
    if modified_after:
        params["modified_after"] = modified_after
    query = urlencode(params)
    if api_root.endswith("rest_route=/"):
        return f"{api_root}wp/v2/posts&{query}"
    return f"{api_root.rstrip('/')}/wp/v2/posts?{query}"


# ----------------------------------------------------------------------------- archiving


def _archive_document(source: Source, ctx: FetchContext, response: Response, report: FetchReport, *, full: str,
                      seen_key: str | None = None, seen_digest: str | None = None) -> list[RawPost]:
    """Save a fetched document's raw bytes, then archive each of its new or changed posts.

    Records the document's outcome as every dropped file's is; a document that cannot be parsed
    is the source's failure (its raw bytes stay archived). Returns the document's raw posts.
    """
    item = _input(response)
    archive = ctx.archive
    raw_key = archive.save_raw(item)
    saved: list[str] = []
    duplicates = 0
    stage = "parse"
    try:
        raw_posts = formats.parse(item)
        if not raw_posts:
            raise ArchiverError("the document holds no posts", code="no_posts", stage="parse")
        archived_at = iso(ctx.now())
        for raw in raw_posts:
            key = seen_key or raw.original_id or raw.url or raw.title or ""
            digest = seen_digest or _digest(raw)
            if source.seen.get(key) == digest:
                source.seen[key] = source.seen.pop(key)  # recently seen: kept longest by _trim
                report.unchanged += 1
                continue
            stage = "fetch_article"
            post_raw_key = _with_full_article(raw, ctx, full) or raw_key
            stage = "normalize"
            post = normalize(raw, item.origin, archived_at=archived_at, default_tz=ctx.default_tz)
            stage = "store"
            result = store_post(post, post_raw_key, archive)
            saved.append(post.id)
            if result.status == "duplicate":
                duplicates += 1
                report.unchanged += 1
            elif result.version == 1:
                report.new += 1
            else:
                report.updated += 1
            source.seen[key] = digest
            stage = "parse"
        status = "duplicate" if saved and duplicates == len(saved) else "archived"
        outcome = Outcome(status=status, origin=item.origin, raw_key=raw_key, post_ids=saved)
    except OutOfTime:
        raise
    except Exception as exc:
        archive.record_outcome(failed_outcome(item.origin, exc, stage=stage, raw_key=raw_key, post_ids=saved))
        raise
    finally:
        _trim(source.seen)
    if saved:  # a document whose entries were all archived before writes nothing but the source's health
        archive.record_outcome(outcome)
        report.post_ids += saved
    return raw_posts


def _with_full_article(raw: RawPost, ctx: FetchContext, full: str) -> str | None:
    """Replace a summary-only entry's body by its page's article; returns the page's raw key.

    The feed's summary becomes the excerpt. A page that cannot be fetched or gives less text
    than the feed leaves the entry as the feed has it, with a warning.
    """
    if full == "never" or not raw.url or not (full == "always" or is_summary(raw.body)):
        return None
    from archiver.formats import html_page

    try:
        response = ctx.get(raw.url)
        page_item = _input(response)
        page = next(html_page.parse(page_item))
    except OutOfTime:
        raise
    except ArchiverError as exc:
        raw.warnings.append(f"full article not fetched from {raw.url}: {exc.code}: {exc.message}"[:300])
        return None
    if _words(page.body) <= _words(raw.body):
        raw.warnings.append(f"the page {raw.url} has no more text than the feed: kept the feed's")
        return None
    raw_key = ctx.archive.save_raw(page_item)
    raw.excerpt = raw.excerpt or _TAG.sub(" ", raw.body).strip() or None
    raw.body, raw.body_format = page.body, "html"
    raw.canonical_url = raw.canonical_url or page.canonical_url
    raw.image = raw.image or page.image
    raw.authors = raw.authors or page.authors
    raw.published = raw.published or page.published
    raw.extra["full_article"] = {"url": response.final_url, "raw_key": raw_key,
                                 "extractor": page.extra.get("extractor")}
    return raw_key


def is_summary(body_html: str) -> bool:
    """Auto mode: a feed body this short, or ending in "…" / "Read more", is a summary of the page."""
    words = html.unescape(_TAG.sub(" ", body_html)).split()
    return len(words) < SUMMARY_WORDS or bool(_TRUNCATED.search(" ".join(words[-6:])))


def _words(body_html: str) -> int:
    return len(_TAG.sub(" ", body_html).split())


def _input(response: Response) -> Input:
    origin = Origin(kind="url", uri=response.final_url, etag=response.validators.etag)
    name = PurePosixPath(urlsplit(response.final_url).path).name or "index.html"
    return Input(data=response.body, name=name, origin=origin, charset=response.charset)


def _digest(raw: RawPost) -> str:
    """What a reader of the entry would see change: a new digest is worth a new version."""
    parts = [raw.title or "", raw.body, str(raw.updated or ""), raw.url or "", raw.excerpt or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:24]


def _keep_validators(source: Source, url: str, response: Response) -> None:
    validators = {k: v for k, v in response.validators.to_dict().items() if v}
    if validators:
        source.validators[url] = validators
    else:
        source.validators.pop(url, None)


def _trim(seen: dict[str, str]) -> None:
    """Keep the newest SEEN_LIMIT entries (dicts keep insertion order; re-seen keys move last)."""
    for key in list(seen)[: max(0, len(seen) - SEEN_LIMIT)]:
        del seen[key]
