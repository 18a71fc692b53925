"""Substack's export: a zip of `posts.csv` (one row per post: date, published, type, title, subtitle) and
`posts/<id>.<slug>.html` (the body as an HTML fragment, named by the row's `post_id`).

Neither half is a post alone: the CSV has no bodies, the fragments no titles or dates. As a bundle
layout (see `bundle.py`) this module joins them; a lone `posts.csv` is recognised so that it fails
with a message saying what is missing. The per-post statistics files (`<id>.opens.csv`,
`<id>.delivers.csv`) are not read. Subscribe and share buttons are calls to action, not text: dropped.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Callable, Iterator
from typing import Any

from archiver.errors import ParseError
from archiver.model import Input, RawPost

NAME = "substack"

_HEADER = re.compile(rb"^(?:\xef\xbb\xbf)?post_id,post_date,is_published\b")
_POST_ID = re.compile(r"^(\d+)\.?(.*)$")
# Buttons and widgets that only ask the reader to subscribe or share.
_CALLS_TO_ACTION = re.compile(r"/subscribe|action=share|/share\b|utm_source=share", re.I)
_TRUE = {"true", "1", "yes"}


def sniff(head: bytes, name: str) -> bool:
    """The header row of Substack's posts.csv."""
    return bool(_HEADER.match(head))


def parse(item: Input) -> Iterator[RawPost]:
    raise ParseError(
        f"{item.name or 'posts.csv'}: a Substack posts.csv holds titles and dates but no bodies; "
        "archive the whole export zip (posts.csv with its posts/ folder)"
    )


def _rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig", errors="replace")
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("post_id")]


def _clean(html: str) -> str:
    """The body without subscribe/share buttons and widgets."""
    from lxml import etree
    from lxml import html as lxml_html

    if not html.strip():
        return html
    try:
        fragments = lxml_html.fragments_fromstring(html)
    except (etree.ParserError, ValueError):
        return html
    parts = []
    for fragment in fragments:
        if isinstance(fragment, str):
            parts.append(fragment)
            continue
        for node in fragment.xpath("descendant-or-self::*[contains(@class, 'button-wrapper') or "
                                   "contains(@class, 'subscription-widget') or contains(@class, 'subscribe-widget')]"):
            links = " ".join([node.get("data-attrs") or "", *node.xpath(".//a/@href")])
            if "subscription-widget" in (node.get("class") or "") or _CALLS_TO_ACTION.search(links):
                if node is fragment:
                    fragment = None
                    break
                node.drop_tree()
        if fragment is not None:
            parts.append(etree.tostring(fragment, encoding="unicode", method="html"))
    return "".join(parts)


def _post(row: dict[str, str], body: str, path: str | None) -> RawPost:
    match = _POST_ID.match(row.get("post_id", ""))
    original_id, slug = (match.group(1), match.group(2)) if match else (row.get("post_id"), "")
    kind = row.get("type") or "newsletter"
    published = row.get("is_published")  # absent for a body that posts.csv does not list
    extra: dict[str, Any] = {"post_type": kind}
    if slug:
        extra["file_slug"] = slug
    if path:
        extra["bundle_entry"] = path
    if row.get("podcast_url"):
        extra["enclosures"] = [{"href": row["podcast_url"]}]
    return RawPost(
        format=NAME,
        body=_clean(body),
        body_format="html",
        title=row.get("title") or None,
        original_id=original_id or None,
        published=row.get("post_date") or None,
        excerpt=row.get("subtitle") or None,
        status="draft" if published is not None and published.strip().lower() not in _TRUE else "publish",
        front_matter={k: v for k, v in row.items() if k and v},
        extra=extra,
    )


# ---- the export zip, as a bundle layout ----------------------------------------------------------

def layout_root(names: list[str]) -> str | None:
    """The folder holding `posts.csv` and `posts/*.html` ("" at the top), or None for other zips."""
    for name in names:
        if posixpath.basename(name) == "posts.csv":
            root = name[: -len("posts.csv")]
            if any(n.startswith(root + "posts/") and n.lower().endswith(".html") for n in names):
                return root
    return None


def wants(path: str, root: str) -> bool:
    rest = path[len(root):] if path.startswith(root) else ""
    return rest == "posts.csv" or (rest.startswith("posts/") and rest.count("/") == 1
                                   and rest.lower().endswith(".html"))


def parse_export(entries: Iterator[Input], root: str, warn: Callable[[str], None]) -> Iterator[RawPost]:
    """One post per row of posts.csv, with the body of `posts/<post_id>.html`."""
    rows: list[dict[str, str]] = []
    bodies: dict[str, tuple[str, str]] = {}
    for entry in entries:
        if entry.name == f"{root}posts.csv":
            rows = _rows(entry.read_bytes())
        else:
            post_id = posixpath.basename(entry.name)[: -len(".html")]
            bodies[post_id] = (entry.name, entry.read_bytes().decode("utf-8", errors="replace"))
    for row in rows:
        path, body = bodies.pop(row["post_id"], (None, ""))
        post = _post(row, body, path)
        if path is None:
            post.warnings.append(f"no posts/{row['post_id']}.html in the export: title and date only")
        yield post
    for post_id, (path, body) in bodies.items():
        warn(f"{path}: not listed in posts.csv, archived without its title and date")
        yield _post({"post_id": post_id}, body, path)
