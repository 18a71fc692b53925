"""Building the fetch machinery from settings: one HTTP client (one requests.Session) per worker."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from archiver.config import Settings

if TYPE_CHECKING:
    from archiver.fetch.context import FetchContext, TimeLeft
    from archiver.fetch.http import HttpClient
    from archiver.media.job import MediaQueue
    from archiver.source_store import SourceStore
    from archiver.store import ArchiveStore


def http_client(settings: Settings) -> HttpClient:
    from archiver.fetch.guard import Guard
    from archiver.fetch.http import HttpClient, user_agent

    return HttpClient(guard=Guard.from_setting(settings.fetch_allow_networks),
                      user_agent=user_agent(settings.fetch_contact_url),
                      max_bytes=settings.fetch_max_bytes, connect_timeout=settings.fetch_connect_timeout,
                      read_timeout=settings.fetch_read_timeout, deadline=settings.fetch_deadline)


def fetch_context(settings: Settings, client: HttpClient, archive: ArchiveStore, sources: SourceStore, *,
                  default_tz: tzinfo = UTC, deadline: TimeLeft | None = None,
                  media: MediaQueue | None = None) -> FetchContext:
    """A job's context: robots.txt files are shared through the table, so a host's is fetched once a day;
    so are the pages and sitemaps a sitemap source has fetched. `deadline`: the invocation's time less the margin."""
    from archiver.crawl_store import CrawlStore
    from archiver.fetch.context import FetchContext
    from archiver.fetch.robots import RobotsCache

    return FetchContext(client=client, robots=RobotsCache(client, store=sources), archive=archive,
                        host_delay=settings.fetch_host_delay, default_tz=default_tz, deadline=deadline,
                        max_articles=settings.fetch_pages_per_run, crawl=CrawlStore(sources), media=media)
