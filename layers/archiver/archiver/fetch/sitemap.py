"""Sitemaps (sitemaps.org): a urlset of pages with `lastmod`, or an index of further sitemaps.

Google News sitemaps add `<news:publication_date>`, used when a URL has no `lastmod`. Parsed
with lxml without entities or network access; gzip-compressed sitemaps are inflated with a cap.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass

from archiver.errors import ParseError

MAX_INFLATED = 50 * 1024 * 1024  # the sitemaps.org limit for one (uncompressed) sitemap
_NEWS_DATE = "{http://www.google.com/schemas/sitemap-news/0.9}publication_date"


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None  # as written (W3C datetime); compared as normalized ISO strings


@dataclass(frozen=True)
class Sitemap:
    is_index: bool  # entries are further sitemaps, not pages
    entries: tuple[SitemapEntry, ...]


def parse_sitemap(data: bytes) -> Sitemap:
    from lxml import etree

    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            data = f.read(MAX_INFLATED + 1)
        if len(data) > MAX_INFLATED:
            raise ParseError(f"sitemap inflates to over {MAX_INFLATED} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"sitemap is not XML: {exc}") from exc
    if root is None:
        raise ParseError("sitemap is empty")
    name = etree.QName(root).localname
    if name not in ("urlset", "sitemapindex"):
        raise ParseError(f"not a sitemap: the root element is <{name}>")
    entries = []
    for element in root:
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        loc = lastmod = None
        for child in element.iter():
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "loc" and loc is None and child is not element:
                loc = (child.text or "").strip()
            elif local == "lastmod" or (child.tag == _NEWS_DATE and lastmod is None):
                lastmod = (child.text or "").strip() or None
        if loc:
            entries.append(SitemapEntry(loc, normalize_lastmod(lastmod)))
    return Sitemap(is_index=name == "sitemapindex", entries=tuple(entries))


def normalize_lastmod(value: str | None) -> str | None:
    """W3C datetime (`2024-05-01`, `2024-05-01T10:00:00+02:00`) -> ISO 8601 UTC `...Z`, else None."""
    from datetime import UTC, datetime

    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
