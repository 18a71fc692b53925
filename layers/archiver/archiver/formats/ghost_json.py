"""Ghost exports (Settings > Labs > Export: `{"db": [{"meta": ..., "data": {...}}]}`) and Ghost API responses.

An export is the site's database as JSON: `data.posts` (posts and pages), `data.tags` and `data.users`
joined to posts through `data.posts_tags` and `data.posts_authors` (Ghost 0.x: `author_id`), SEO fields
in `data.posts_meta`, the site title and language in `data.settings`. The body is the stored `html`;
without it, the Lexical (Ghost 5) or Mobiledoc (Ghost 1-4) document is rendered (`ghost_render`), then
the plain text. Ghost 4+ writes its own URL as `__GHOST_URL__`: such links become site-relative.
A Content/Admin API response (`{"posts": [...]}` with `uuid`s and embedded `tags`/`authors`) is read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from archiver.errors import ParseError
from archiver.formats.json_feed import load_json
from archiver.model import Input, RawPost

NAME = "ghost_json"

_EXPORT = re.compile(rb'^\{\s*(?:"db"\s*:\s*\[\s*\{\s*)?"meta"\s*:\s*\{[^{}]*"exported_on"'
                     rb'|^\{\s*"db"\s*:\s*\[\s*\{\s*"(?:meta|data)"\s*:\s*\{')  # the `db[].data` shape
_API = re.compile(rb'^\{\s*"posts"\s*:\s*\[\s*\{')
_API_HALLMARKS = (b'"uuid"', b'"lexical"', b'"mobiledoc"', b'"comment_id"')
_GHOST_URL = "__GHOST_URL__"
_STATUSES = {"published": "publish", "draft": "draft", "scheduled": "future", "sent": "sent"}
_BIG_KEYS = ("html", "lexical", "mobiledoc", "plaintext", "markdown")


def sniff(head: bytes, name: str) -> bool:
    """A Ghost export (`meta.exported_on` first, or the `{"db": [{"meta"|"data": ...}]}` shape) or a Ghost
    API `{"posts": [...]}` response."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _EXPORT.match(head):
        return True
    return bool(_API.match(head)) and sum(key in head for key in _API_HALLMARKS) >= 2


def _rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    rows = data.get(table)
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _date(value: Any) -> Any:
    """Ghost 0.x wrote epoch milliseconds; later versions ISO strings (kept as found)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC).isoformat()
    return value or None


def _site_relative(value: Any) -> Any:
    return value.replace(_GHOST_URL, "") if isinstance(value, str) else value


def _joined(links: list[dict[str, Any]], key: str, names: dict[str, str]) -> dict[str, list[str]]:
    """post id -> names, in the join table's sort_order."""
    ordered = sorted(links, key=lambda r: r.get("sort_order") if isinstance(r.get("sort_order"), int) else 0)
    result: dict[str, list[str]] = {}
    for link in ordered:
        name = names.get(str(link.get(key)))
        if name:
            result.setdefault(str(link.get("post_id")), []).append(name)
    return result


def _body(post: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(body, body format, warnings): stored HTML, else Lexical, else Mobiledoc, else Markdown or plain text."""
    from archiver.formats import ghost_render

    if isinstance(post.get("html"), str) and post["html"].strip():
        return post["html"], "html", []
    if post.get("lexical"):
        html, warnings = ghost_render.lexical_to_html(post["lexical"])
        if html.strip():
            return html, "html", warnings
    if post.get("mobiledoc"):
        html, warnings = ghost_render.mobiledoc_to_html(post["mobiledoc"])
        if html.strip():
            return html, "html", warnings
    if isinstance(post.get("markdown"), str) and post["markdown"].strip():
        return post["markdown"], "markdown", []
    plain = post.get("plaintext") if isinstance(post.get("plaintext"), str) else ""
    return plain, "markdown", ["no html, lexical or mobiledoc: body from plaintext"] if plain else []


def _names(items: Any) -> list[str]:
    return [str(i["name"]) for i in items if isinstance(i, dict) and i.get("name")] if isinstance(items, list) else []


def _post(post: dict[str, Any], tags: list[str], authors: list[str], site: dict[str, Any],
          meta: dict[str, Any] | None) -> RawPost:
    body, body_format, warnings = _body(post)
    kind = post.get("type") or ("page" if post.get("page") in (True, 1) else "post")
    front_matter = {k: v for k, v in post.items() if k not in _BIG_KEYS and v not in (None, "")}
    if meta:
        front_matter["posts_meta"] = {k: v for k, v in meta.items() if v not in (None, "") and k != "post_id"}
    extra: dict[str, Any] = {"post_type": kind}
    if post.get("slug"):
        extra["file_slug"] = str(post["slug"])
    if site.get("exported_on"):
        extra["export"] = {k: v for k, v in site.items() if k in ("exported_on", "version")}
    status = str(post.get("status") or "published")
    return RawPost(
        format=NAME,
        body=_site_relative(body),
        body_format=body_format,  # type: ignore[arg-type]
        title=post.get("title") or None,
        url=post.get("url") or None,  # only API responses carry the public URL
        canonical_url=post.get("canonical_url") or None,
        original_id=str(post["id"]) if post.get("id") is not None else post.get("uuid"),
        authors=authors,
        published=_date(post.get("published_at")),
        updated=_date(post.get("updated_at")),
        tags=tags,
        excerpt=post.get("custom_excerpt") or (meta or {}).get("meta_description") or post.get("meta_description"),
        status=_STATUSES.get(status, status),
        language=post.get("locale") or post.get("language") or site.get("lang") or None,
        image=_site_relative(post.get("feature_image") or post.get("image")) or None,
        site_name=site.get("title") or None,
        site_url=site.get("url") or None,
        front_matter=front_matter,
        extra=extra,
        warnings=warnings,
    )


def _export_posts(doc: dict[str, Any], name: str) -> Iterator[RawPost]:
    db = doc.get("db")
    entries = [e for e in db if isinstance(e, dict)] if isinstance(db, list) else [doc]
    found = False
    for entry in entries:
        data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        settings = {str(s.get("key")): s.get("value") for s in _rows(data, "settings")}
        site = {"exported_on": _date(meta.get("exported_on")), "version": meta.get("version"),
                "title": settings.get("title"), "lang": settings.get("locale") or settings.get("lang")}
        users = {str(u.get("id")): str(u.get("name") or u.get("slug") or "") for u in _rows(data, "users")}
        tag_names = {str(t.get("id")): str(t.get("name") or t.get("slug") or "") for t in _rows(data, "tags")}
        tags = _joined(_rows(data, "posts_tags"), "tag_id", tag_names)
        authors = _joined(_rows(data, "posts_authors"), "author_id", users)
        posts_meta = {str(m.get("post_id")): m for m in _rows(data, "posts_meta")}
        for post in _rows(data, "posts"):
            found = True
            post_id = str(post.get("id"))
            author_id = str(post.get("author_id"))  # Ghost 0.x: one author per post, no join table
            names = authors.get(post_id) or ([users[author_id]] if author_id in users else [])
            yield _post(post, tags.get(post_id, []), names, site, posts_meta.get(post_id))
    if not found:
        raise ParseError(f"{name}: the Ghost export holds no posts", code="no_posts")


def parse(item: Input) -> Iterator[RawPost]:
    """Every post and page of a Ghost export (drafts kept with their status), or of an API response."""
    name = item.name or "Ghost export"
    doc = load_json(item, "Ghost export")
    if not isinstance(doc, dict):
        raise ParseError(f"{name}: a Ghost export is a JSON object")
    if "db" in doc or "data" in doc:
        yield from _export_posts(doc, name)
        return
    posts = [p for p in doc.get("posts") or [] if isinstance(p, dict)]
    if not posts:
        raise ParseError(f"{name}: the Ghost response holds no posts", code="no_posts")
    for post in posts:
        tags = _names(post.get("tags"))
        authors = _names(post.get("authors")) or _names([post.get("primary_author")])
        yield _post(post, tags, authors, {}, None)
