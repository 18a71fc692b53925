"""Downloading a post's images from the web, through the fetcher's guard: the SSRF rules on every hop,
robots.txt, a pause between two requests to one host, a size cap per image, and a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from archiver.fetch.http import HttpClient
    from archiver.fetch.robots import RobotsCache

IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif,image/svg+xml;q=0.8,*/*;q=0.5"


@dataclass
class Downloader:
    """GETs images within robots.txt, at least `host_delay` apart per host (robots Crawl-delay wins)."""

    client: HttpClient
    robots: RobotsCache
    host_delay: float = 1.0
    max_crawl_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    def get(self, url: str, max_bytes: int, within: float | None = None) -> bytes:
        """The image's bytes, within `within` seconds at most (the time its job has left); raises the fetcher's
        errors (UnsafeURL, RobotsDisallowed, HttpError, ResponseTooLarge, FetchTimeout...), each with its code."""
        rules = self.robots.ensure_allowed(url)
        host = (urlsplit(url).netloc or "").lower()
        delay = max(self.host_delay, min(rules.crawl_delay or 0, self.max_crawl_delay))
        last = self._last.get(host)
        if last is not None and (wait := last + delay - self.clock()) > 0:
            self.sleep(wait)
        try:
            return self.client.get(url, accept=IMAGE_ACCEPT, max_bytes=max_bytes, within=within).body
        finally:
            self._last[host] = self.clock()
