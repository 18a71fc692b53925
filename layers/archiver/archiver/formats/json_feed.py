"""JSON Feed 1.0/1.1 (feedparser reads no JSON), plus RSS 2.0 written as JSON ("RSS in JSON").

One RawPost per item. Truncated or invalid JSON raises ParseError: unlike XML there is no
sensible partial reading of a cut-off JSON document.

A large JSON Feed fans out like a feed: `plan_slices` finds each item's bytes, so a chunk parses
only its own items, with the feed's other members as the shared context.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver import limits
from archiver.errors import ParseError
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from archiver.formats.slices import Slice

NAME = "json_feed"

_VERSION = re.compile(rb'"version"\s*:\s*"https?:(?:\\?/){2}(?:www\.)?jsonfeed\.org', re.I)
_RSS_IN_JSON = re.compile(rb'^\s*\{\s*"rss"\s*:\s*\{')
# What can hide a bracket in JSON (a string, escapes included), and the brackets themselves.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
# JSON Feed keys that WordPress REST objects never carry: a hint when "version" comes late.
_HALLMARKS = (b'"home_page_url"', b'"feed_url"', b'"content_html"', b'"content_text"')


def sniff(head: bytes, name: str) -> bool:
    """A JSON object declaring a jsonfeed.org version, or carrying JSON Feed's own keys, or RSS-in-JSON."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    if _VERSION.search(head) or _RSS_IN_JSON.match(head):
        return True
    return b'"items"' in head and any(key in head for key in _HALLMARKS)


def load_json(item: Input, what: str) -> Any:
    """Decode an input as JSON, turning every decoding failure into a ParseError that says where."""
    with item.open() as stream:
        raw = stream.read()
    try:
        return limits.load_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"{item.name or what}: {what} is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        # A cut-off document (an interrupted download) does not end with a closing bracket.
        why = "invalid" if raw.rstrip().endswith((b"}", b"]")) else "truncated"
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise ParseError(f"{item.name or what}: {why} JSON, not a readable {what} ({where})") from exc
    except limits.TooComplex as exc:
        raise ParseError(f"{item.name or what}: {what} {exc}") from exc


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def _names(obj: dict[str, Any]) -> list[str]:
    people = obj.get("authors") or ([obj["author"]] if obj.get("author") else [])
    names = []
    for person in people if isinstance(people, list) else [people]:
        name = (person.get("name") or person.get("url")) if isinstance(person, dict) else person
        if name:
            names.append(str(name))
    return names


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _json_feed_posts(doc: dict[str, Any]) -> Iterator[RawPost]:
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no 'items' list")
    feed_authors = _names(doc)
    usable = 0
    site = {"site_name": _str(doc.get("title")), "site_url": _str(doc.get("home_page_url"))}
    for entry in items:
        if not isinstance(entry, dict):
            continue
        has_content = bool(entry.get("content_html") or entry.get("content_text"))
        if entry.get("content_html"):
            body = str(entry["content_html"])
        elif entry.get("content_text"):
            body = _text_to_html(str(entry["content_text"]))
        else:
            body = html.escape(str(entry.get("summary") or ""))
        title = _str(entry.get("title"))
        if not (title or body.strip()):
            continue
        usable += 1
        extra: dict[str, Any] = {}
        if isinstance(entry.get("attachments"), list):
            extra["attachments"] = entry["attachments"]
        yield RawPost(
            format="jsonfeed",
            body=body,
            title=title,
            url=_str(entry.get("url")),
            canonical_url=_str(entry.get("external_url")),
            original_id=_str(entry.get("id")),
            authors=_names(entry) or feed_authors,
            published=entry.get("date_published") or entry.get("date_modified"),
            updated=entry.get("date_modified"),
            tags=[str(t) for t in entry.get("tags") or [] if t],
            excerpt=_str(entry.get("summary")) if has_content else None,
            language=_str(entry.get("language") or doc.get("language")),
            image=_str(entry.get("image") or entry.get("banner_image")),
            front_matter={k: v for k, v in entry.items() if k not in ("content_html", "content_text")},
            extra=extra,
            **site,
        )
    if items and not usable:
        raise ParseError(f"JSON Feed: {len(items)} items, none with a title or content")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rss_json_posts(doc: dict[str, Any]) -> Iterator[RawPost]:
    channel = doc["rss"].get("channel") if isinstance(doc["rss"], dict) else None
    if not isinstance(channel, dict):
        raise ParseError("RSS-in-JSON document has no 'channel' object")
    for entry in _as_list(channel.get("item")):
        if not isinstance(entry, dict):
            continue
        title = _str(entry.get("title"))
        body = str(entry.get("content:encoded") or entry.get("description") or "")
        if not (title or body.strip()):
            continue
        guid = entry.get("guid")
        categories = [c.get("#text") if isinstance(c, dict) else c for c in _as_list(entry.get("category"))]
        yield RawPost(
            format="rss-json",
            body=body,
            title=title,
            url=_str(entry.get("link")),
            original_id=_str(guid.get("#text") if isinstance(guid, dict) else guid),
            authors=[str(a) for a in _as_list(entry.get("author") or entry.get("dc:creator")) if a],
            published=entry.get("pubDate"),
            categories=[str(c) for c in categories if c],
            excerpt=_str(entry.get("description")) if entry.get("content:encoded") else None,
            language=_str(channel.get("language")),
            site_name=_str(channel.get("title")),
            site_url=_str(channel.get("link")),
            front_matter={k: v for k, v in entry.items() if k not in ("description", "content:encoded")},
        )


def count(item: Input) -> int:
    """How many items the feed holds; `parse(item, start, stop)` reads a range of them."""
    doc = _document(item)
    if isinstance(doc.get("rss"), dict):
        channel = doc["rss"].get("channel")
        return len(_as_list(channel.get("item"))) if isinstance(channel, dict) else 0
    return len(doc["items"]) if isinstance(doc.get("items"), list) else 0


def _document(item: Input) -> dict[str, Any]:
    doc = load_json(item, "JSON Feed")
    if not isinstance(doc, dict):
        raise ParseError(f"{item.name or 'input'}: a JSON Feed must be a JSON object")
    return doc


def _sliced(doc: dict[str, Any], start: int, stop: int | None) -> dict[str, Any]:
    """The document with only its items `[start, stop)`."""
    if isinstance(doc.get("rss"), dict):
        channel = doc["rss"].get("channel")
        if isinstance(channel, dict):
            items = _as_list(channel.get("item"))[start:stop]
            return {**doc, "rss": {**doc["rss"], "channel": {**channel, "item": items}}}
        return doc
    if isinstance(doc.get("items"), list):
        return {**doc, "items": doc["items"][start:stop]}
    return doc


def parse(item: Input, start: int = 0, stop: int | None = None) -> Iterator[RawPost]:
    """Parse a JSON Feed (or RSS-in-JSON) document into one RawPost per item.

    With `start`/`stop`, only the items numbered `[start, stop)` (see `count`).
    """
    doc = _document(item)
    if start or stop is not None:
        doc = _sliced(doc, start, stop)
    if isinstance(doc.get("rss"), dict):
        yield from _rss_json_posts(doc)
        return
    yield from _json_feed_posts(doc)


def plan_slices(item: Input, chunk_posts: int) -> tuple[dict[str, Any], list[Slice]] | None:
    """The byte ranges of chunks of at most `chunk_posts` items, and the context they share (the
    feed's members other than `items`), for `parse_slice`; None for RSS-in-JSON, or when the items
    found in the bytes are not exactly the document's (then chunks count items, as before)."""
    from archiver.formats import slices

    doc = _document(item)
    items = doc.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(entry, dict) for entry in items):
        return None
    with slices.raw_bytes(item) as data:
        ranges = _item_ranges(data)
    if ranges is None or len(ranges) != len(items):
        return None
    context = {"feed": {key: value for key, value in doc.items() if key != "items"}}
    return context, slices.plan([True] * len(items), ranges, chunk_posts)


def parse_slice(item: Input, context: dict[str, Any]) -> Iterator[RawPost]:
    """The posts of one slice: `item` holds only the slice's items, `context` is `plan_slices`'s."""
    wrapped = Input(data=b'{"items": [' + item.read_bytes() + b"]}", name=item.name, origin=item.origin)
    yield from _json_feed_posts({**context["feed"], "items": _document(wrapped)["items"]})


def _item_ranges(data: Any) -> list[tuple[int, int]] | None:
    """(begin, end) of each object in the top-level object's "items" array, from the raw bytes (UTF-8:
    no byte of a multi-byte character is a quote or a bracket); None if the layout is not that plain
    (an item that is not an object, or "items" twice: the parser keeps the last, this would the first)."""
    ranges: list[tuple[int, int]] | None = None
    depth, key, in_items, begin = 0, b"", False, 0
    for match in _JSON_TOKEN.finditer(data):
        token = match.group()
        if token[:1] == b'"':
            key = token if depth == 1 else b""  # a member's name (or a string value, which no "[" follows)
            continue
        if token in (b"{", b"["):
            depth += 1
            if depth == 2 and key == b'"items"':
                if ranges is not None or token != b"[":
                    return None
                ranges, in_items = [], True
            elif depth == 3 and in_items:
                if token != b"{":
                    return None
                begin = match.start()
        else:
            if depth == 3 and in_items:
                ranges.append((begin, match.end()))
            elif depth == 2:
                in_items = False
            depth -= 1
        key = b""
    return ranges
