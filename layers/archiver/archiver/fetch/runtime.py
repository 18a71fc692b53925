"""Building the fetch machinery from settings: one HTTP client (one requests.Session) per worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from archiver.config import Settings

if TYPE_CHECKING:
    from archiver.fetch.http import HttpClient
    from archiver.fetch.robots import RobotsCache
    from archiver.fetch.worker import FetchContext
    from archiver.store import ArchiveStore

PROJECT_VERSION = "0.1.0"


def http_client(settings: Settings) -> HttpClient:
    from archiver.fetch.guard import Guard
    from archiver.fetch.http import USER_AGENT_TEMPLATE, HttpClient

    user_agent = USER_AGENT_TEMPLATE.format(version=PROJECT_VERSION, contact=settings.fetch_contact_url)
    return HttpClient(guard=Guard.from_setting(settings.fetch_allow_networks), user_agent=user_agent,
                      max_bytes=settings.fetch_max_bytes, connect_timeout=settings.fetch_connect_timeout,
                      read_timeout=settings.fetch_read_timeout, deadline=settings.fetch_deadline)


_robots: dict[int, tuple[float, object]] = {}
ROBOTS_TTL = 3600.0  # seconds a worker keeps a host's robots.txt (RFC 9309 allows up to a day)


def fetch_context(settings: Settings, client: HttpClient, archive: ArchiveStore, *, default_tz: tzinfo = UTC,
                  deadline: Callable[[], float] | None = None) -> FetchContext:
    from archiver.fetch.worker import FetchContext

    return FetchContext(client=client, robots=robots_cache(client), archive=archive,
                        host_delay=settings.fetch_host_delay, default_tz=default_tz, deadline=deadline,
                        margin=settings.fetch_margin_seconds)


def robots_cache(client: HttpClient) -> RobotsCache:
    """The worker's robots.txt cache, shared by its jobs (warm invocations) for ROBOTS_TTL."""
    import time

    from archiver.fetch.robots import RobotsCache

    created, cache = _robots.get(id(client), (0.0, None))
    if cache is None or time.monotonic() - created > ROBOTS_TTL:
        cache = RobotsCache(client)
        _robots[id(client)] = (time.monotonic(), cache)
    return cache
