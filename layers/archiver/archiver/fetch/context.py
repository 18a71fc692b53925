"""What a fetch job works with: HTTP within robots.txt and per-host pacing, the stores, the clock, its budget.

Every fetch job works against a budget and stops cleanly when it is spent, its progress kept:
- time: `deadline` is the invocation's remaining time less a margin (kept to save the state and
  queue the rest). No request starts without time left, each request's own deadline is cut to
  what is left, and a pause for politeness never sleeps past it. Spent: `OutOfTime`, the job
  hands the source back to the queue.
- work per run: at most `max_articles` pages fetched per source (a sitemap's pages, a feed's
  full articles) and `max_pages` WordPress API pages. Spent: `RunCapReached`, the source stays
  due and the next scheduled run goes on from its cursor.
- memory: bounded by counts, never by what a site holds: a document is read within the
  client's byte cap and its entries are handled one after another; what is kept between entries
  (sitemap batches, seen digests) has a fixed size.
`save(source)` keeps a source's progress (cursor, entries seen, position) as it goes, so that
even a job killed outright resumes from its last save, not from the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from archiver.fetch.crawl import CrawlMemory, MemoryCrawl
from archiver.fetch.errors import FetchTimeout

if TYPE_CHECKING:
    from archiver.fetch.http import HttpClient, Response
    from archiver.fetch.robots import RobotsCache
    from archiver.media.job import MediaQueue
    from archiver.model import Post, Source
    from archiver.store import ArchiveStore


class OutOfTime(Exception):
    """The job must stop before the function's timeout; the current source goes back to the queue."""


class RunCapReached(Exception):
    """A source has had its share of this run; it stays due and the next run resumes from its cursor."""


class TimeLeft(Protocol):
    """archiver.deadline.Deadline, or anything else that says how many seconds are left."""

    def remaining(self) -> float: ...


@dataclass
class FetchContext:
    """What a job needs: HTTP with robots.txt and per-host pacing, the stores, the clock, the budget."""

    client: HttpClient
    robots: RobotsCache
    archive: ArchiveStore
    host_delay: float = 1.0  # seconds between two requests to one host, at least (robots Crawl-delay wins)
    max_crawl_delay: float = 60.0
    default_tz: tzinfo = UTC
    max_pages: int = 50  # WordPress API pages per run; the cursor resumes the rest next run
    wp_per_page: int = 100  # the REST API's maximum
    max_articles: int = 200  # pages fetched per source per run: sitemap pages, a feed's full articles
    max_sitemaps: int = 100  # sitemap documents read per source per run
    save_every: int = 25  # entries handled between two saves of a source's progress
    deadline: TimeLeft | None = None  # the invocation's time less the margin; None: no limit
    save: Callable[[Source], object] | None = None  # keeps a source's progress (a job: the source table)
    crawl: CrawlMemory = field(default_factory=MemoryCrawl)  # a sitemap source's pages fetched (a job: the table)
    media: MediaQueue | None = None  # where the images of the versions stored go to be archived
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last_request: dict[str, float] = field(default_factory=dict)

    def queue_media(self, post: Post, version: int) -> None:
        """Queue the media job of a version just stored; one that cannot be queued is the version's recorded
        media failure (`archiver failures`, `archiver retry`), never the fetch's."""
        if self.media is None:
            return
        from archiver.media.job import job_for

        job = job_for(post, version)
        if job is None:
            return
        try:
            self.media.send([job])
        except Exception as exc:  # the post is archived whatever happens to its images
            failure = {"code": "not_queued", "message": f"{type(exc).__name__}: {exc}"[:300]}
            self.archive.media.record_outcome(post.id, version, None, [failure], 0)

    def get(self, url: str, *, validators: dict[str, str] | None = None, max_bytes: int | None = None) -> Response:
        """GET within robots.txt, at least `host_delay` (or the host's Crawl-delay) after the last request,
        and within the time left: OutOfTime when there is none, or when the request ran out of it."""
        from archiver.fetch.http import Validators

        self.check_time()
        try:
            host = (urlsplit(url).netloc or "").lower()
            made = self.client.requests_made
            rules = self.robots.ensure_allowed(url, within=self.time_left())  # RobotsDisallowed if forbidden
            if self.client.requests_made != made:  # robots.txt was fetched just now: the next request waits too
                self._last_request[host] = self.clock()
            delay = max(self.host_delay, min(rules.crawl_delay or 0, self.max_crawl_delay))
            last = self._last_request.get(host)
            if last is not None:
                wait = last + delay - self.clock()
                if wait > 0:
                    left = self.time_left()
                    if left is not None and wait >= left:
                        raise OutOfTime  # the pause alone would outlast the invocation
                    self.sleep(wait)
            self.check_time()
            try:
                return self.client.get(url, validators=Validators.from_dict(validators) if validators else None,
                                       max_bytes=max_bytes, within=self.time_left())
            finally:
                self._last_request[host] = self.clock()
        except FetchTimeout as exc:
            if exc.caller_deadline:  # cut by the invocation's time, not the server's fault
                raise OutOfTime from exc
            raise

    def time_left(self) -> float | None:
        """Seconds left in the job's budget, None without a deadline."""
        return None if self.deadline is None else self.deadline.remaining()

    def check_time(self) -> None:
        if self.deadline is not None and self.deadline.remaining() <= 0:
            raise OutOfTime

    def checkpoint(self, source: Source) -> None:
        """Keep the source's progress now (cursor, entries seen, position), not only at the end."""
        if self.save is not None:
            self.save(source)
