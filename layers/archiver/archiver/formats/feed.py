"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read with feedparser: one RawPost per entry.

feedparser is lenient by design (its "bozo" mode), so broken feeds give what they can and
the problem is recorded on every post as a warning instead of failing the whole input.
"""

from __future__ import annotations

import codecs
import html as html_lib
import io
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver.decoding import bom_encoding
from archiver.errors import ParseError
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from archiver.formats.slices import Slice

NAME = "feed"

_FEED_SUFFIXES = (".rss", ".atom", ".rdf")
_ROOTS = {"rss", "feed", "rdf"}
# Skip the XML declaration / processing instructions, comments and a DOCTYPE, then read the root.
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>|\s+)*", re.S | re.I)
# Namespaces of the secondary texts feedparser files as a body (declared near the top): Media RSS's
# media:description (a caption) and the iTunes podcast summary.
_SECONDARY_NAMESPACES = ("search.yahoo.com/mrss", "itunes.com/dtds/podcast")
_SECONDARY = ("{http://search.yahoo.com/mrss/}description", "{http://www.itunes.com/dtds/podcast-1.0.dtd}summary")
_BARE_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


# XML 1.0 appendix F: the encoding family shows in the first bytes, with or without a byte order mark.
_WIDE_PATTERNS = (  # a `<` (of `<?xml` or of the root) in a wide encoding
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_UCS_NAMES = {"utf-16": ("ucs-2", "iso-10646-ucs-2"), "utf-32": ("ucs-4", "iso-10646-ucs-4")}
_DECLARED_ENCODING = re.compile(r"""\A(<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])([^"']*)\2""")


def wide_encoding(head: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) of a UTF-16 or UTF-32 document, told by its first bytes; None for any other."""
    marked = bom_encoding(head)
    if marked:
        return marked if marked[0] != "utf-8" else None
    return next(((codec, 0) for prefix, codec in _WIDE_PATTERNS if head.startswith(prefix)), None)


def _declaration_fits(declared: str, codec: str) -> bool:
    """Whether a declared encoding names the wide encoding the bytes show (`utf-16` fits both byte orders)."""
    family = codec[:6]  # utf-16 / utf-32
    try:
        name = codecs.lookup(declared.strip()).name
    except LookupError:
        return declared.strip().lower() in _UCS_NAMES[family]
    return name in (family, codec)


def decode_head(head: bytes) -> str:
    """Decode a sniffing head well enough to find markup, whatever the encoding (UTF-16/32 too)."""
    wide = wide_encoding(head)
    if wide:
        return head[wide[1] :].decode(wide[0], errors="ignore")
    return head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")


def as_utf8(data: bytes) -> tuple[bytes, list[str]]:
    """A UTF-16/32 XML document re-encoded as UTF-8 with its declaration saying so; other bytes unchanged.

    The byte pattern decides (appendix F): a document that is UTF-16 by its bytes but declares
    `ISO-8859-1` or the other byte order cannot be read as declared, so it is read as its bytes say.
    """
    wide = wide_encoding(data[:4])
    if wide is None:
        return data, []
    codec, bom = wide
    text = data[bom:].decode(codec, errors="replace")
    warnings = []
    declared = _DECLARED_ENCODING.match(text)
    if declared:
        if not _declaration_fits(declared.group(3), codec):
            warnings.append(f"declared encoding {declared.group(3)!r} does not fit the document's bytes; "
                            f"read as {codec.upper()}")
        text = f"{declared.group(1)}{declared.group(2)}utf-8{declared.group(2)}{text[declared.end():]}"
    if "\ufffd" in text:
        warnings.append(f"bytes invalid in {codec.upper()} replaced")
    return text.encode("utf-8"), warnings


def xml_root(head: bytes) -> str | None:
    """Local name of the document's root element (lower case), or None when there is none yet."""
    text = decode_head(head)
    match = _ROOT.match(text, _PROLOG.match(text).end())
    return match.group(2).lower() if match else None


def sniff(head: bytes, name: str) -> bool:
    """An XML document whose root is rss, feed or rdf:RDF; a .rss/.atom/.rdf name is a hint."""
    root = xml_root(head)
    if root is not None:
        return root in _ROOTS
    return name.lower().endswith(_FEED_SUFFIXES)


def _kind(version: str, head: bytes) -> str:
    if version.startswith("atom"):
        return "atom"
    if version in ("rss10", "rss090"):
        return "rdf"
    if version.startswith("rss"):
        return "rss"
    root = xml_root(head) or ""
    return {"feed": "atom", "rdf": "rdf"}.get(root, "rss")


def _iso_utc(struct: time.struct_time | None) -> str | None:
    if not struct:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", struct)
    except (TypeError, ValueError):
        return None


def _entry_date(entry: Any, key: str) -> str | None:
    """feedparser's reading of a date, except for a bare number: feedparser turns a Unix timestamp into
    a made-up date (1537828960 -> 2016-01-13), so the raw value goes on and the normalizer, which never
    guesses, keeps it as a warning."""
    # dict.get: FeedParserDict.get("updated") silently falls back to "published" (deprecated).
    raw = dict.get(entry, key)
    if isinstance(raw, str) and _BARE_NUMBER.match(raw):
        return raw.strip()
    return _iso_utc(dict.get(entry, f"{key}_parsed")) or raw


def _body(entry: Any, captions: frozenset[str] = frozenset()) -> tuple[str, str | None]:
    """The richest body: full content (content:encoded, atom:content; the longest HTML part), else the
    description / summary, and a media:description caption or itunes:summary only when there is nothing else.

    feedparser files those secondary texts under `summary`, or under `content` when a description came
    first, so the secondary texts of the document (`captions`) are told apart by their text.
    """
    parts = [c for c in entry.get("content") or [] if c.get("value")]
    summary = entry.get("summary") or None
    full = [c for c in parts if _plain_text(c["value"]) not in captions]
    if full:
        html = [c for c in full if "html" in (c.get("type") or "")]
        best = max(html or full, key=lambda c: len(c["value"]))
        excerpt = summary if summary and summary != best["value"] and _plain_text(summary) not in captions else None
        return best["value"], excerpt
    return summary or (parts[0]["value"] if parts else ""), None


def _inline_markup(entry: Any) -> bool:
    """An RSS description holding elements, not text: feedparser reads it as XHTML."""
    return (entry.get("summary_detail") or {}).get("type") == "application/xhtml+xml"


def _has_cdata(item: Input, block: int = 1 << 20) -> bool:
    """Whether the document holds a CDATA section (read in blocks: a feed can be large).

    A description that holds raw elements and then a CDATA section (`<img/><![CDATA[<p>...]]>`) was
    written by a publisher who did not escape its HTML: the CDATA text is HTML too, not text that
    shows tags, which is how feedparser, reading the description as XHTML, escapes it.
    """
    marker = b"<![CDATA["
    tail = b""
    with item.open() as stream:
        while chunk := stream.read(block):
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker):]
    return False


def _title(entry: Any) -> str | None:
    """The entry's title as markup or text for the normalizer. A title of a binary media type
    (`type="application/octet-stream"`, base64 under Atom's rules) reaches us as the decoded bytes,
    which feed test suites write as escaped markup ("&lt;p&gt;Title&lt;/p&gt;"): it stands for the
    markup, as an html title would be, not for text that shows tags."""
    title = entry.get("title") or None
    if title and (entry.get("title_detail") or {}).get("type") == "application/octet-stream":
        return html_lib.unescape(title)
    return title


def _plain_text(value: str) -> str:
    return " ".join(html_lib.unescape(value).split())


def _secondary_texts(item: Input) -> frozenset[str]:
    """Texts of the document's media:description (Media RSS captions) and itunes:summary elements, to tell
    them from bodies."""
    head = decode_head(item.head(1 << 16))
    if not any(namespace in head for namespace in _SECONDARY_NAMESPACES):
        return frozenset()
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=True)
    with item.open() as stream:
        try:
            root = etree.parse(stream, parser).getroot()
        except etree.XMLSyntaxError:
            return frozenset()
    if root is None:
        return frozenset()
    return frozenset(
        text for elem in root.iter(*_SECONDARY)
        if (text := _plain_text("".join(elem.itertext())))
    )


def _entry_post(entry: Any, feed: Any, kind: str, warnings: list[str],
                captions: frozenset[str] = frozenset()) -> RawPost:
    body, excerpt = _body(entry, captions)
    authors = [a.get("name") or a.get("email") for a in entry.get("authors") or []]
    authors = [a for a in authors if a] or ([entry["author"]] if entry.get("author") else [])
    published = _entry_date(entry, "published")
    updated = _entry_date(entry, "updated")
    if not published and updated:
        published = updated
    front_matter: dict[str, Any] = {}
    for key in ("published", "updated", "created", "id", "comments", "license"):
        if dict.get(entry, key):
            front_matter[key] = dict.get(entry, key)
    extra: dict[str, Any] = {}
    feed_url = next((link.get("href") for link in feed.get("links") or [] if link.get("rel") == "self"), None)
    if feed_url:
        extra["feed_url"] = feed_url  # the base for a relative site link (normalize resolves it)
    enclosures = [
        {k: link.get(k) for k in ("href", "type", "length") if link.get(k)}
        for link in entry.get("links") or []
        if link.get("rel") == "enclosure"
    ]
    if enclosures:
        extra["enclosures"] = enclosures
    image = None
    for media in entry.get("media_content") or []:
        if (media.get("medium") == "image" or (media.get("type") or "").startswith("image/")) and media.get("url"):
            image = media["url"]
            break
    if image is None:
        for thumb in entry.get("media_thumbnail") or []:
            if thumb.get("url"):
                image = thumb["url"]
                break
    if image is None:
        image = next((e["href"] for e in enclosures if e.get("type", "").startswith("image/")), None)
    return RawPost(
        format=kind,
        body=body,
        body_format="html",
        title=_title(entry),
        url=entry.get("link") or None,
        original_id=entry.get("id") or None,
        authors=authors,
        published=published,
        updated=updated,
        categories=[t["term"] for t in entry.get("tags") or [] if t.get("term")],
        excerpt=excerpt,
        language=(entry.get("content") or [{}])[0].get("language") or feed.get("language") or None,
        image=image,
        site_name=feed.get("title") or None,
        site_url=feed.get("link") or None,
        front_matter=front_matter,
        extra=extra,
        warnings=list(warnings),
    )


def count(item: Input) -> int:
    """How many entries the feed holds (a streamed pass); `parse(item, start, stop)` reads a range of them."""
    from archiver.formats.feed_items import count_entries

    return count_entries(item)


def parse(item: Input, start: int = 0, stop: int | None = None) -> Iterator[RawPost]:
    """Parse a feed with feedparser; a broken feed still yields its entries, with a warning.

    With `start`/`stop`, only the entries numbered `[start, stop)` (document order, see `count`) are
    read: feedparser is handed the feed with only those entries (archiver.formats.feed_items).
    """
    ranged = bool(start or stop is not None)
    if ranged:
        from archiver.formats.feed_items import slice_entries

        item = Input(data=slice_entries(item, start, stop), name=item.name, origin=item.origin)
    yield from _parse(item, ranged)


def plan_slices(item: Input, chunk_posts: int) -> tuple[dict[str, Any], list[Slice]] | None:
    """The byte ranges of chunks of at most `chunk_posts` entries, and the context they share (the
    feed's bytes before its first entry and after its last), for `parse_slice`; None when the feed's
    bytes cannot be sliced plainly (see archiver.formats.slices). Not well-formed feeds raise, as `count`.
    """
    from archiver.formats import slices
    from archiver.formats.feed_items import count_entries

    if wide_encoding(item.head(4)) is not None:
        return None
    entries = count_entries(item)
    with slices.raw_bytes(item) as data:
        scanned = slices.scan(data, "item|entry")
        if scanned is None or len(scanned[1]) != entries or not entries:
            return None
        ranges = scanned[1]
        context = {"head": bytes(data[:ranges[0][0]]).decode("latin-1"),
                   "tail": bytes(data[ranges[-1][1]:]).decode("latin-1")}
    return context, slices.plan([True] * entries, ranges, chunk_posts)


def parse_slice(item: Input, context: dict[str, Any]) -> Iterator[RawPost]:
    """The posts of one slice: `item` holds only the slice's entries, `context` is `plan_slices`'s."""
    data = context["head"].encode("latin-1") + item.read_bytes() + context["tail"].encode("latin-1")
    yield from _parse(Input(data=data, name=item.name, origin=item.origin), ranged=True)


def _parse(item: Input, ranged: bool) -> Iterator[RawPost]:
    import feedparser

    warnings: list[str] = []
    # A stream, never bytes or str: feedparser treats a str as a URL and bytes as a file path.
    if wide_encoding(item.head(4)):  # UTF-16/32: feedparser would trust a declaration the bytes contradict
        data, warnings = as_utf8(item.read_bytes())
        d = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=True)
    else:
        with item.open() as stream:
            d = feedparser.parse(stream, sanitize_html=False, resolve_relative_uris=True)
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        warnings.append(f"feed is not well-formed: {type(exc).__name__}: {exc}"[:300])
    entries = d.get("entries") or []
    version = d.get("version") or ""
    if not entries and not version and xml_root(item.head(4096)) not in _ROOTS:
        reason = warnings[0] if warnings else "no feed elements found"
        raise ParseError(f"{item.name or 'input'} is not an RSS/Atom/RDF feed ({reason})")
    kind = _kind(version, item.head(4096))
    feed = d.get("feed") or {}
    captions = _secondary_texts(item) if entries else frozenset()
    unescaped = kind == "rss" and any(_inline_markup(entry) for entry in entries) and _has_cdata(item)
    skipped = 0
    for entry in entries:
        post = _entry_post(entry, feed, kind, warnings, captions)
        if unescaped and _inline_markup(entry) and post.body == entry.get("summary"):
            post.body = html_lib.unescape(post.body)
            post.warnings.append("description holds HTML elements unescaped, then escaped HTML: both read as HTML")
        if not (post.title or post.body.strip()):
            skipped += 1  # nothing to archive: no title, no content (e.g. a bare enclosure)
            continue
        yield post
    if entries and skipped == len(entries) and not ranged:  # a range may hold only those
        raise ParseError(f"{item.name or 'feed'}: {skipped} entries, none with a title or content")
