"""WordPress REST API responses (`/wp-json/wp/v2/posts`, pages, custom types): one object or a list.

Uses `_embedded` (requested with `?_embed`) for author names, terms and the featured image when
present; without it only ids are known and are kept in front_matter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from archiver.errors import ParseError, UnsupportedFormat
from archiver.formats.json_feed import load_json
from archiver.gutenberg import with_footnotes
from archiver.model import Input, RawPost

NAME = "wp_json"

_RENDERED = re.compile(rb'"(?:title|content|excerpt|guid)"\s*:\s*\{\s*"(?:rendered|raw|protected)"')
_USER = re.compile(rb'"avatar_urls"\s*:')
_TAG = re.compile(r"<[^<>]*>")  # stops at the next "<": one scan, however many "<" never close
_BIG_KEYS = ("content", "excerpt", "_links", "_embedded", "title", "guid")


def sniff(head: bytes, name: str) -> bool:
    """JSON (object or array) with WordPress's `{"rendered": ...}` fields, or WordPress user objects."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith((b"{", b"[")):
        return False
    # Users are claimed too, so that they fail with a clear message rather than "unknown format".
    return bool(_RENDERED.search(head) or _USER.search(head))


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("rendered", value.get("raw", ""))
    return value if isinstance(value, str) else ""


def _plain(value: Any) -> str | None:
    """A rendered title as plain text: tags dropped, entities (&#8217; ...) decoded."""
    text = html.unescape(_TAG.sub("", _rendered(value))).strip()
    return " ".join(text.split()) or None


def _utc(value: Any) -> str | None:
    """`*_gmt` fields are UTC written without a zone: say so explicitly."""
    if not isinstance(value, str) or not value:
        return None
    return value + "Z" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value) else value


def _is_user(obj: dict[str, Any]) -> bool:
    return "avatar_urls" in obj and "content" not in obj and "title" not in obj


def _post(obj: dict[str, Any]) -> RawPost:
    embedded = obj.get("_embedded") if isinstance(obj.get("_embedded"), dict) else {}
    terms: dict[str, list[str]] = {}
    for group in embedded.get("wp:term") or []:
        for term in group if isinstance(group, list) else []:
            if isinstance(term, dict) and term.get("name"):
                terms.setdefault(term.get("taxonomy") or "category", []).append(html.unescape(term["name"]))
    authors = terms.pop("author", None) or [  # Co-Authors Plus exposes authors as a taxonomy
        a["name"] for a in embedded.get("author") or [] if isinstance(a, dict) and a.get("name")
    ]
    image = None
    media = embedded.get("wp:featuredmedia") or []
    if media and isinstance(media[0], dict):
        image = media[0].get("source_url")
    image = image or obj.get("jetpack_featured_media_url") or None
    excerpt = _rendered(obj.get("excerpt")).strip() or None
    front_matter = {k: v for k, v in obj.items() if k not in _BIG_KEYS}
    if obj.get("title") is not None:
        front_matter["title_rendered"] = _rendered(obj.get("title"))
    categories = terms.pop("category", [])
    tags = terms.pop("post_tag", [])
    if terms:
        front_matter["terms"] = terms
    meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
    body, warnings = with_footnotes(_rendered(obj.get("content")), meta.get("footnotes"))
    return RawPost(
        format="wp-json",
        body=body,
        body_format="html",
        title=_plain(obj.get("title")),
        url=obj.get("link") or None,
        original_id=str(obj["id"]) if obj.get("id") is not None else None,
        authors=authors,
        published=_utc(obj.get("date_gmt")) or obj.get("date"),
        updated=_utc(obj.get("modified_gmt")) or obj.get("modified"),
        categories=categories,
        tags=tags,
        excerpt=excerpt,
        status=obj.get("status") or "publish",
        image=image,
        front_matter=front_matter,
        extra={"post_type": obj.get("type") or "post"},
        warnings=warnings,
    )


def parse(item: Input) -> Iterator[RawPost]:
    """Parse a REST response holding one post object or a list of them."""
    doc = load_json(item, "WordPress REST response")
    objects = doc if isinstance(doc, list) else [doc]
    objects = [o for o in objects if isinstance(o, dict)]
    if not objects:
        raise ParseError(f"{item.name or 'input'}: no WordPress objects in the JSON")
    if all(_is_user(o) for o in objects):
        raise UnsupportedFormat(f"{item.name or 'input'}: WordPress user objects, not posts")
    posts = [o for o in objects if not _is_user(o) and ("content" in o or "title" in o)]
    if not posts:
        raise ParseError(f"{item.name or 'input'}: JSON has no WordPress post objects (no title or content)")
    for obj in posts:
        yield _post(obj)
