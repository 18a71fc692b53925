"""Blogger API v3 responses (`blogger#postList` / `blogger#post`, pages alike): one RawPost per post.

What people save when they back a blog up through the API instead of the XML export: `items` of posts
with `title`, `content` (HTML), `published`, `updated`, `url`, `author.displayName`, `labels` and
`status` (LIVE, DRAFT, SCHEDULED). The classic XML export and Takeout's feed.atom are `blogger.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from archiver.errors import ParseError
from archiver.formats.json_feed import load_json
from archiver.model import Input, RawPost

NAME = "blogger_json"

_SNIFF = re.compile(rb'"kind"\s*:\s*"blogger#(?:post|page)(?:List)?"')
_STATUSES = {"LIVE": "publish", "DRAFT": "draft", "SCHEDULED": "future", "SOFT_TRASHED": "trash"}


def sniff(head: bytes, name: str) -> bool:
    """JSON whose objects are Blogger API `blogger#post` / `blogger#page` resources (or lists of them)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")) and bool(_SNIFF.search(head))


def _post(obj: dict[str, Any]) -> RawPost:
    author = obj.get("author") if isinstance(obj.get("author"), dict) else {}
    images = [i.get("url") for i in obj.get("images") or [] if isinstance(i, dict) and i.get("url")]
    kind = str(obj.get("kind") or "blogger#post").split("#", 1)[-1]
    labels = [str(label) for label in obj.get("labels") or [] if label]
    return RawPost(
        format=NAME,
        body=obj.get("content") if isinstance(obj.get("content"), str) else "",
        body_format="html",
        title=obj.get("title") or None,
        url=obj.get("url") or None,
        original_id=str(obj["id"]) if obj.get("id") is not None else None,
        authors=[author["displayName"]] if author.get("displayName") else [],
        published=obj.get("published") or None,
        updated=obj.get("updated") or None,
        tags=labels,
        status=_STATUSES.get(str(obj.get("status") or "LIVE").upper(), str(obj.get("status")).lower()),
        image=images[0] if images else None,
        front_matter={k: v for k, v in obj.items() if k != "content"},
        extra={"post_type": kind},
    )


def parse(item: Input) -> Iterator[RawPost]:
    doc = load_json(item, "Blogger API response")
    objects = doc.get("items", [doc]) if isinstance(doc, dict) else doc
    posts = [o for o in objects or [] if isinstance(o, dict) and str(o.get("kind", "")).startswith("blogger#")]
    if not posts:
        raise ParseError(f"{item.name or 'input'}: the Blogger API response holds no posts", code="no_posts")
    for obj in posts:
        yield _post(obj)
