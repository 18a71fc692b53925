"""What a fetched URL is: a feed, a WordPress site, a sitemap or an article, and where its posts are.

A site's home page names its feed (`<link rel="alternate" type="application/rss+xml">`) and, on
WordPress, its REST API (`Link: <...>; rel="https://api.w.org/"`, also as a `<link>` element).
beautifulsoup4 reads the page; nothing here does HTTP (the caller hands in the Response).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from archiver.errors import ArchiverError
from archiver.model import SourceKind

WP_API_REL = "https://api.w.org/"
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
              "application/rdf+xml")
ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
                 "opinionnewsarticle", "techarticle", "scholarlyarticle", "liveblogposting"}
_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(rss|feed|RDF|urlset|sitemapindex)\b")
_LINK_HEADER = re.compile(r'<([^>]*)>\s*;([^,]*(?:,(?!\s*<)[^,]*)*)')
_COMMENT_FEED = re.compile(r"comment", re.IGNORECASE)


class DiscoveryError(ArchiverError):
    code = "nothing_to_fetch"
    stage = "discover"


@dataclass(frozen=True)
class Discovered:
    """What to fetch for a URL: `url` is the feed, API root, sitemap or article itself."""

    kind: SourceKind
    url: str
    site_url: str | None = None
    title: str | None = None


def classify(url: str, content_type: str | None, body: bytes, link_header: str | None = None) -> Discovered:
    """The source a fetched document stands for (the URL after redirects, its type and bytes)."""
    from archiver.fetch.sitemap import looks_like_sitemap

    if looks_like_sitemap(body):  # an XML sitemap or index, gzipped or not, or a plain list of URLs
        return Discovered("sitemap", url)
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = _document_kind(content_type or "", head)
    if kind == "sitemap":
        return Discovered("sitemap", url)
    if kind == "feed":
        return Discovered("feed", url)
    if kind == "json":
        return _classify_json(url, body)
    return _classify_page(url, body, link_header)


def wp_api_from_link_header(header: str | None, base: str) -> str | None:
    """The WordPress REST API root announced in an HTTP Link header."""
    return link_target(header, WP_API_REL, base)


def link_target(header: str | None, rel: str, base: str) -> str | None:
    """The target of the first link with relation `rel` in an HTTP Link header (RFC 8288), made absolute."""
    for target, params in _LINK_HEADER.findall(header or ""):
        values = re.findall(r'rel\s*=\s*"?([^";]+)"?', params)
        if any(rel in value.split() for value in values):
            return urljoin(base, target.strip())
    return None


def _document_kind(content_type: str, head: bytes) -> str:
    match = _XML_ROOT.search(head[:2048])
    if match and head.startswith(b"<"):
        return "sitemap" if match.group(1) in (b"urlset", b"sitemapindex") else "feed"
    if head[:1] in (b"{", b"["):
        return "json"
    if any(t in content_type for t in ("rss", "atom", "rdf")):
        return "feed"
    return "html"


def _classify_json(url: str, body: bytes) -> Discovered:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise DiscoveryError(f"{url}: JSON that cannot be read: {exc}") from exc
    if isinstance(data, dict) and str(data.get("version", "")).startswith(("https://jsonfeed.org", "http://jsonfeed.org")):
        return Discovered("feed", url, site_url=data.get("home_page_url"), title=data.get("title"))
    if isinstance(data, dict) and "wp/v2" in (data.get("namespaces") or []):
        return Discovered("wordpress", url, site_url=data.get("home") or data.get("url"), title=data.get("name"))
    if isinstance(data, list) and "wp/v2/posts" in url:  # .../wp-json/wp/v2/posts or ?rest_route=/wp/v2/posts
        return Discovered("wordpress", url[: url.index("wp/v2/posts")])
    raise DiscoveryError(f"{url}: JSON that is neither a JSON Feed nor a WordPress REST API")


def _classify_page(url: str, body: bytes, link_header: str | None) -> Discovered:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "lxml")
    base_tag = soup.find("base", href=True)
    base = urljoin(url, base_tag["href"]) if base_tag else url
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    api = wp_api_from_link_header(link_header, url)
    if api is None:
        element = soup.find("link", rel=lambda rel: rel and WP_API_REL in rel, href=True)
        api = urljoin(base, element["href"]) if element else None
    if _is_article(soup, url):
        return Discovered("article", url, title=title)
    if api:
        return Discovered("wordpress", api, site_url=url, title=title)
    feed = _feed_link(soup, base)
    if feed:
        return Discovered("feed", feed, site_url=url, title=title)
    return Discovered("article", url, title=title)


def _feed_link(soup: object, base: str) -> str | None:
    """The site's main feed: the first alternate feed link that is not a comments feed."""
    candidates = []
    for link in soup.find_all("link", href=True):  # type: ignore[attr-defined]
        rels = [r.lower() for r in link.get("rel") or []]
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rels and kind in FEED_TYPES:
            candidates.append(link)
    main = [c for c in candidates if not _COMMENT_FEED.search(f"{c.get('title', '')} {c['href']}")]
    chosen = (main or candidates or [None])[0]
    return urljoin(base, chosen["href"]) if chosen is not None else None


def _is_article(soup: object, url: str) -> bool:
    """A single story rather than a site's front page: og:type or JSON-LD say so, off the root path."""
    if urlsplit(url).path.strip("/") == "":
        return False
    og = soup.find("meta", property="og:type", content=True)  # type: ignore[attr-defined]
    if og is not None and og["content"].strip().lower() == "article":
        return True
    for script in soup.find_all("script", type="application/ld+json"):  # type: ignore[attr-defined]
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        if isinstance(data, dict):
            data = [data, *(data.get("@graph") or [])]
        for obj in data if isinstance(data, list) else []:
            kinds = obj.get("@type") if isinstance(obj, dict) else None
            for kind in kinds if isinstance(kinds, list) else [kinds]:
                if isinstance(kind, str) and kind.lower() in ARTICLE_TYPES:
                    return True
    return False
