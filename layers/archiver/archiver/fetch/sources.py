"""Adding a source: what the user's URL is (discovered when the kind is not given) and its record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, get_args
from urllib.parse import urlsplit

from archiver import ids
from archiver.fetch.discover import DiscoveryError, classify
from archiver.fetch.recheck_schedule import parse_offsets
from archiver.fetch.schedule import iso, parse_interval
from archiver.fetch.sitemap_discovery import discover_sitemaps, home_of
from archiver.model import FullMode, Source, SourceKind

if TYPE_CHECKING:
    from archiver.fetch.http import Response

KINDS: tuple[str, ...] = get_args(SourceKind)
FULL_MODES: tuple[str, ...] = get_args(FullMode)


def source_id(url: str) -> str:
    """A source's id: from the URL it fetches, so adding the same feed twice updates one source."""
    return ids.short_hash("source:" + ids.normalize_url(url))


def new_source(url: str, *, get: Callable[[str], Response], now: datetime, kind: str | None = None,
               every: str | int = "1h", full: str = "auto",
               robots_text: Callable[[str], str | None] | None = None) -> Source:
    """A Source for `url`, due now. Without a kind the URL is fetched once to find out what it is:
    a site's home page gives its WordPress API or its feed, else its sitemaps; a WordPress kind on a
    page looks for the API; a sitemap kind on a page looks for the site's sitemaps (robots.txt's
    `Sitemap:` lines, read through `robots_text(url)`, and the well-known paths).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if full not in FULL_MODES:
        raise ValueError(f"unknown full-article mode {full!r}: use one of {', '.join(FULL_MODES)}")
    every_seconds = parse_interval(every)
    fetch_url, site_url, sitemaps = url, None, []
    if kind == "sitemap" and _is_home(url):  # a site: its sitemaps, as ultimate-sitemap-parser finds them
        sitemaps = discover_sitemaps(url, get=get, robots_text=robots_text(url) if robots_text else None)
        if not sitemaps:
            raise DiscoveryError(f"{url}: no sitemap: robots.txt names none and none is at the usual paths")
        fetch_url = home_of(url)
    elif kind in (None, "wordpress", "sitemap"):
        response = get(url)
        found = classify(response.final_url, response.content_type, response.body, response.headers.get("link"))
        if kind == "wordpress" and found.kind != "wordpress":
            raise DiscoveryError(f"{url}: no WordPress REST API announced (Link rel=\"https://api.w.org/\")")
        if found.kind != "sitemap" and (kind == "sitemap" or (found.kind == "article" and _is_home(url))):
            sitemaps = discover_sitemaps(url, get=get, robots_text=robots_text(url) if robots_text else None)
            if not sitemaps and kind == "sitemap":
                raise DiscoveryError(f"{url}: no sitemap: robots.txt names none and none is at the usual paths")
        if sitemaps:
            kind, fetch_url = "sitemap", home_of(url)
        else:
            kind, fetch_url = found.kind, found.url
            site_url = found.site_url or (url if found.url != url else None)
    return Source(id=source_id(fetch_url), url=fetch_url, kind=kind, site_url=site_url, sitemaps=sitemaps,
                  every_seconds=every_seconds, full=full, added_at=iso(now), next_due_at=iso(now))


def _is_home(url: str) -> bool:
    return urlsplit(url).path.strip("/") == ""


def set_options(source: Source, *, every: str | int | None = None, full: str | None = None,
                enabled: bool | None = None, recheck: str | None = None) -> Source:
    """Change the options given (None: unchanged); the fetch state (validators, cursor, seen, health) stays.
    `recheck` (`1d,7d,30d`, or `off`) applies to the posts archived from now on: each keeps the schedule it got."""
    if every is not None:
        source.every_seconds = parse_interval(every)
    if recheck is not None:
        source.recheck = parse_offsets(recheck)
    if full is not None:
        if full not in FULL_MODES:
            raise ValueError(f"unknown full-article mode {full!r}: use one of {', '.join(FULL_MODES)}")
        source.full = full
    if enabled is not None and enabled != source.enabled:
        source.enabled = enabled
        source.disabled_reason = None if enabled else "disabled by the user"
        if enabled:
            source.failures = 0  # a fresh start: the first fetch is not held back by the old backoff
    return source
