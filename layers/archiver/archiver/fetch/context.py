"""What a fetch job works with: HTTP within robots.txt and per-host pacing, the stores, the clock, its time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from archiver.fetch.http import HttpClient, Response
    from archiver.fetch.robots import RobotsCache
    from archiver.store import ArchiveStore


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
        rules = self.robots.ensure_allowed(url)  # RobotsDisallowed when robots.txt forbids it
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
