"""A site's sitemaps, found from its home page as ultimate-sitemap-parser finds them.

The `Sitemap:` lines of its robots.txt, then every well-known path that answers with a sitemap
(usp's list, plus WordPress's `/wp-sitemap.xml` and `/news-sitemap.xml`). Each request goes
through the caller's `get`: the job's guard, robots.txt, pacing and time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from archiver.fetch.errors import FetchError
from archiver.fetch.sitemap import looks_like_sitemap

if TYPE_CHECKING:
    from archiver.fetch.http import Response

# ultimate-sitemap-parser's _UNPUBLISHED_SITEMAP_PATHS, then the two WordPress adds.
KNOWN_PATHS = (
    "sitemap.xml", "sitemap.xml.gz", "sitemap_index.xml", "sitemap-index.xml", "sitemap_index.xml.gz",
    "sitemap-index.xml.gz", ".sitemap.xml", "sitemap", "admin/config/search/xmlsitemap", "sitemap/sitemap-index.xml",
    "sitemap_news.xml", "sitemap-news.xml", "sitemap_news.xml.gz", "sitemap-news.xml.gz",
    "wp-sitemap.xml", "news-sitemap.xml",
)
_ROBOTS_SITEMAP = re.compile(r"^\s*site-?map\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def robots_sitemaps(robots_text: str | None) -> list[str]:
    """The `Sitemap:` lines of a robots.txt, in order, without duplicates."""
    return list(dict.fromkeys(_ROBOTS_SITEMAP.findall(robots_text or "")))


def home_of(url: str) -> str:
    """scheme://host/ of a URL: where robots.txt and the well-known sitemap paths are."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def discover_sitemaps(url: str, *, get: Callable[[str], Response], robots_text: str | None) -> list[str]:
    """The sitemaps of `url`'s site: robots.txt's, then those at well-known paths that are sitemaps."""
    found = [u for u in robots_sitemaps(robots_text) if u.lower().startswith(("http://", "https://"))]
    home = home_of(url)
    for path in KNOWN_PATHS:
        candidate = home + path
        if candidate in found:
            continue
        try:
            response = get(candidate)
        except FetchError:
            continue  # absent (404), refused or broken: not a sitemap of this site
        if looks_like_sitemap(response.body) and response.final_url not in found:
            found.append(response.final_url)
    return found
