"""Sitemap documents of every kind ultimate-sitemap-parser reads, streamed one entry at a time.

- XML (sitemaps.org): a `urlset` of pages, or a `sitemapindex` of further sitemaps, with or
  without the namespace; Google News `publication_date` when a page has no `lastmod`;
- RSS 2.0 and Atom 0.3/1.0 feeds used as sitemaps: each item's link, its date as lastmod;
- plain text: one http(s) URL a line;
- any of these gzip-compressed, told by the bytes (not the name or the Content-Type), inflated
  with a cap.
Entries are yielded as they are parsed (lxml iterparse, parsed elements dropped), so a 50,000-URL
sitemap is never held as a tree. No entities are expanded and nothing is fetched by the parser.
"""

from __future__ import annotations

import email.utils
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from archiver.errors import ParseError

MAX_INFLATED = 50 * 1024 * 1024  # the sitemaps.org limit for one (uncompressed) sitemap
MAX_ENTRIES = 50_000  # the sitemaps.org limit of URLs (or sitemaps) in one document: the rest is not read
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
_HTTP_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)  # ultimate-sitemap-parser's test
_W3C_YEAR = re.compile(r"^\d{4}$")
_W3C_MONTH = re.compile(r"^\d{4}-\d{2}$")
SITEMAP_ROOTS = {"urlset": "urlset", "sitemapindex": "index", "rss": "feed", "feed": "feed", "RDF": "feed"}


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None  # ISO 8601 UTC (`...Z`), whatever W3C or RFC 2822 form the document used


@dataclass(frozen=True)
class Sitemap:
    is_index: bool  # entries are further sitemaps, not pages
    entries: tuple[SitemapEntry, ...]


class SitemapDocument:
    """A fetched sitemap: its `kind` (urlset | index | feed | text) and its entries, read once, in order."""

    def __init__(self, kind: str, entries: Iterator[SitemapEntry]):
        self.kind = kind
        self.entries = entries

    @property
    def is_index(self) -> bool:
        return self.kind == "index"


def read_sitemap(data: bytes, *, max_inflated: int = MAX_INFLATED) -> SitemapDocument:
    """The document in `data`; ParseError when it is no sitemap (an HTML page, an empty body, another XML)."""
    data = inflate(data, max_inflated)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ParseError("sitemap is empty")
    if head.startswith(b"<"):
        return _read_xml(data)
    return SitemapDocument("text", _text_entries(data))


def parse_sitemap(data: bytes) -> Sitemap:
    """The whole document at once (for small ones and tests): `read_sitemap` collected."""
    document = read_sitemap(data)
    return Sitemap(is_index=document.is_index, entries=tuple(document.entries))


def inflate(data: bytes, max_inflated: int = MAX_INFLATED) -> bytes:
    """gzip bytes inflated (up to `max_inflated`, else ParseError); anything else as it is.

    Told by the gzip magic bytes: a `.gz` file served as `application/octet-stream`, or a `.gz` name
    on plain XML, are both read right.
    """
    if data[:2] != b"\x1f\x8b":
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_inflated + 1)
    except zlib.error as exc:
        raise ParseError(f"sitemap is not valid gzip: {exc}") from exc
    if len(out) > max_inflated:
        raise ParseError(f"sitemap inflates to over {max_inflated} bytes")
    return out


def looks_like_sitemap(data: bytes) -> bool:
    """True for a sitemap of any kind (an XML urlset or index, or a plain list of URLs), from its first bytes."""
    try:
        head = inflate(data[:65536] if data[:2] != b"\x1f\x8b" else data, 8 * 1024 * 1024)[:4096]
    except ParseError:
        return False
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return bool(re.search(rb"<(?:[A-Za-z_][\w.\-]*:)?(urlset|sitemapindex)\b", head))
    lines = [line.strip() for line in head.decode("utf-8", "replace").splitlines()[:20] if line.strip()]
    return bool(lines) and all(_HTTP_URL.match(line) for line in lines[:-1] or lines)


def normalize_lastmod(value: str | None) -> str | None:
    """W3C datetime (`1997`, `1997-07`, `1997-07-16`, `1997-07-16T19:20:30+01:00`) or an RFC 2822 date
    -> ISO 8601 UTC `...Z`, else None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _W3C_YEAR.match(text):
        text += "-01-01"
    elif _W3C_MONTH.match(text):
        text += "-01"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):
        return None


# -- XML ---------------------------------------------------------------------------------------------------------------


def _read_xml(data: bytes) -> SitemapDocument:
    from lxml import etree

    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False, no_network=True,
                             huge_tree=False, load_dtd=False)
    try:
        for event, element in events:
            if event == "start":
                name = etree.QName(element).localname
                kind = SITEMAP_ROOTS.get(name)
                if kind is None:
                    raise ParseError(f"not a sitemap: the root element is <{name}>")
                return SitemapDocument(kind, _xml_entries(events, kind))
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"sitemap is not XML: {exc}") from exc
    raise ParseError("sitemap is empty")


def _xml_entries(events: Iterator, kind: str) -> Iterator[SitemapEntry]:
    """Entries at the end of each <url>, <sitemap>, <item> or <entry>; parsed elements are dropped as we go.

    A document cut off in the middle (a server timing out on a huge file), or broken XML further on,
    gives the entries before the fault, as ultimate-sitemap-parser does (no recovery: a cut URL is no URL).
    """
    from lxml import etree

    wanted = {"urlset": ("url",), "index": ("sitemap",), "feed": ("item", "entry")}[kind]
    seen: set[str] = set()
    try:
        for event, element in events:
            if event != "end" or not isinstance(element.tag, str):
                continue
            parent = element.getparent()
            if parent is None or etree.QName(element).localname not in wanted:
                continue
            if parent.getparent() is not None and etree.QName(parent).localname != "channel":
                continue  # nested deeper than an entry of this document can be
            entry = _feed_entry(element) if kind == "feed" else _sitemap_entry(element)
            element.clear()
            while element.getprevious() is not None:
                del parent[0]  # the siblings already read: the tree never grows past one entry
            if entry is not None and entry.url not in seen:
                seen.add(entry.url)
                yield entry
                if len(seen) >= MAX_ENTRIES:
                    return
    except etree.XMLSyntaxError:
        return


def _sitemap_entry(element) -> SitemapEntry | None:
    from lxml import etree

    loc = lastmod = news_date = None
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "loc" and loc is None:
            loc = _text(child)
        elif name == "lastmod" and lastmod is None:
            lastmod = _text(child)
        elif child.tag == f"{_NEWS}news":
            found = child.find(f"{_NEWS}publication_date")
            news_date = _text(found) if found is not None else None
    if not loc:
        return None
    return SitemapEntry(loc, normalize_lastmod(lastmod) or normalize_lastmod(news_date))


def _feed_entry(element) -> SitemapEntry | None:
    """An RSS <item> (its <link>) or an Atom <entry> (its alternate link, else its first), with its date."""
    from lxml import etree

    link = date = None
    links: list[tuple[str, str]] = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "link":
            href = (child.get("href") or "").strip()
            if href:
                links.append(((child.get("rel") or "alternate").lower(), href))
            elif _text(child):
                link = link or _text(child)
        elif name in ("pubDate", "published", "issued", "date", "updated") and date is None:
            date = _text(child)
    if link is None and links:
        link = next((href for rel, href in links if rel in ("alternate", "self")), links[0][1])
    if not link:
        return None
    return SitemapEntry(link, normalize_lastmod(date))


def _text(element) -> str | None:
    import html

    text = html.unescape("".join(element.itertext())).strip()
    return text or None


# -- plain text -------------------------------------------------------------------------------------------------------


def _text_entries(data: bytes) -> Iterator[SitemapEntry]:
    seen: set[str] = set()
    for line in data.decode("utf-8-sig", "replace").splitlines():
        url = line.strip()
        if url and _HTTP_URL.match(url) and url not in seen:
            seen.add(url)
            yield SitemapEntry(url, None)
            if len(seen) >= MAX_ENTRIES:
                return
