"""Blogger exports: the classic backup (Atom with GData `kind` categories) and the Takeout `feed.atom`.

One file holds the whole blog: posts and pages are archived; comments are kept with their post in
`extra["comments"]` (as for WXR); the template and the dozens of settings entries are not posts and
are only counted. The classic backup marks each entry with
`<category scheme="http://schemas.google.com/g/2005#kind" term="...kind#post">`, Google Takeout with
`<blogger:type>POST</blogger:type>` and `<blogger:status>`. Read with lxml `iterparse`, one entry at a
time, without entity expansion or network access, like WXR.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver.errors import ParseError
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from lxml import etree

NAME = "blogger"

_ATOM = "{http://www.w3.org/2005/Atom}"
_KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
_BLOGGER_2018 = "{http://schemas.google.com/blogger/2018}"
_THREAD = "{http://purl.org/syndication/thread/1.0}"
_APP = ("{http://purl.org/atom/app#}", "{http://www.w3.org/2007/app}")
_MEDIA = "{http://search.yahoo.com/mrss/}"

# Kinds that are posts; comments are attached to their post; anything else is blog configuration.
_POST_KINDS = frozenset({"post", "page"})
_POST_OR_PAGE = re.compile(r"\.(?:post|page)-(\d+)$")
# Takeout statuses, as post statuses of the archive.
_STATUSES = {"LIVE": "publish", "DRAFT": "draft", "SCHEDULED": "future", "SOFT_TRASHED": "trash",
             "DELETED": "trash", "IMPORTED": "publish"}

_SNIFF = re.compile(rb"schemas\.google\.com/blogger/(?:2008/kind#|2018)")
_ENTITY_DECL = re.compile(rb"<!DOCTYPE[^>]*\[[^\]]*<!ENTITY", re.I | re.S)


def sniff(head: bytes, name: str) -> bool:
    """Atom whose head carries a Blogger kind term (classic backup) or the Blogger 2018 namespace (Takeout)."""
    from archiver.formats.feed import xml_root

    return xml_root(head) == "feed" and bool(_SNIFF.search(head))


def _text(elem: etree._Element | None) -> str:
    return "".join(elem.itertext()).strip() if elem is not None else ""


def _content(elem: etree._Element | None) -> str:
    """The entry's HTML: escaped text for type html/text, the inner markup for type xhtml."""
    if elem is None:
        return ""
    if elem.get("type") == "xhtml":
        from lxml import etree

        return "".join(etree.tostring(child, encoding="unicode") for child in elem)
    return "".join(elem.itertext())


def _kind(entry: etree._Element) -> str:
    """post | page | comment | settings | template | ... ; "" when the entry does not say."""
    typed = entry.find(f"{_BLOGGER_2018}type")
    if typed is not None and _text(typed):
        return _text(typed).lower()
    for category in entry.iter(f"{_ATOM}category"):
        if category.get("scheme") == _KIND_SCHEME:
            return (category.get("term") or "").rsplit("#", 1)[-1].lower()
    return ""


def _link(entry: etree._Element, rel: str) -> str | None:
    for link in entry.iter(f"{_ATOM}link"):
        html = rel != "alternate" or (link.get("type") or "text/html") == "text/html"
        if link.get("rel") == rel and link.get("href") and html:
            return link.get("href")
    return None


def _authors(entry: etree._Element) -> list[str]:
    names = []
    for author in entry.findall(f"{_ATOM}author"):
        name = _text(author.find(f"{_ATOM}name"))
        if name and name != "Unknown" and name not in names:
            names.append(name)
    return names


def _is_draft(entry: etree._Element) -> bool:
    return any(_text(entry.find(f"{app}control/{app}draft")).lower() == "yes" for app in _APP)


def _status(entry: etree._Element) -> str:
    status = _text(entry.find(f"{_BLOGGER_2018}status")).upper()
    if status:
        return _STATUSES.get(status, status.lower())
    return "draft" if _is_draft(entry) else "publish"


def _reply_to(entry: etree._Element) -> str | None:
    """The id of the post a comment belongs to (classic: thr:in-reply-to; Takeout: blogger:parent)."""
    parent = _text(entry.find(f"{_BLOGGER_2018}parent"))
    if parent:
        return parent
    reply = entry.find(f"{_THREAD}in-reply-to")
    return reply.get("ref") if reply is not None else None


def _entry_key(entry_id: str) -> str:
    """A post's or page's id as comments name it: a comment on page `blog-1.page-7` says `blog-1.post-7`."""
    return _POST_OR_PAGE.sub(r".entry-\1", entry_id)


def _comment(entry: etree._Element) -> dict[str, Any]:
    """A comment as kept in the post JSON (as for WXR): e-mail addresses are left out on purpose."""
    author = entry.find(f"{_ATOM}author")
    comment = {
        "id": _text(entry.find(f"{_ATOM}id")),
        "author": _text(author.find(f"{_ATOM}name")) if author is not None else "",
        "author_url": _text(author.find(f"{_ATOM}uri")) if author is not None else "",
        "date": _text(entry.find(f"{_ATOM}published")),
        "content": _content(entry.find(f"{_ATOM}content")),
        "type": "comment",
    }
    status = _text(entry.find(f"{_BLOGGER_2018}status")).upper()
    return {k: v for k, v in comment.items() if v} | {"approved": status in ("", "LIVE")}


def _post(entry: etree._Element, kind: str, feed: dict[str, str | None]) -> RawPost:
    filename = _text(entry.find(f"{_BLOGGER_2018}filename"))  # Takeout: the path on the blog
    url = _link(entry, "alternate")
    if url is None and filename and feed["link"]:
        url = feed["link"].rstrip("/") + "/" + filename.lstrip("/")
    labels = [c.get("term") for c in entry.iter(f"{_ATOM}category")
              if c.get("scheme") != _KIND_SCHEME and c.get("term")]
    thumbnail = entry.find(f"{_MEDIA}thumbnail")
    front_matter: dict[str, Any] = {"kind": kind}
    for tag, key in ((f"{_ATOM}id", "id"), (f"{_ATOM}published", "published"), (f"{_ATOM}updated", "updated"),
                     (f"{_BLOGGER_2018}created", "created"), (f"{_BLOGGER_2018}status", "status"),
                     (f"{_BLOGGER_2018}filename", "filename")):
        value = _text(entry.find(tag))
        if value:
            front_matter[key] = value
    extra: dict[str, Any] = {"post_type": kind}
    if filename:
        extra["path"] = filename
    return RawPost(
        format=NAME,
        body=_content(entry.find(f"{_ATOM}content")),
        body_format="html",
        title=_text(entry.find(f"{_ATOM}title")) or None,
        url=url,
        original_id=front_matter.get("id"),
        authors=_authors(entry),
        published=front_matter.get("published") or front_matter.get("created"),
        updated=front_matter.get("updated"),
        tags=list(dict.fromkeys(labels)),  # Blogger "labels": free keywords, as Ghost and Jekyll import them
        status=_status(entry),
        image=thumbnail.get("url") if thumbnail is not None else None,
        site_name=feed["title"],
        site_url=feed["link"],
        front_matter=front_matter,
        extra=extra,
    )


def _feed_info(root: etree._Element | None) -> dict[str, str | None]:
    info: dict[str, str | None] = {"title": None, "link": None}
    if root is None:
        return info
    info["title"] = _text(root.find(f"{_ATOM}title")) or None
    info["link"] = _link(root, "alternate")
    return info


def parse(item: Input) -> Iterator[RawPost]:
    """Posts and pages of the export, in document order, each with its comments."""
    from lxml import etree

    if _ENTITY_DECL.search(item.head(65536)):
        raise ParseError(f"{item.name or 'Blogger export'}: refused, the DOCTYPE declares entities "
                         "(Blogger exports have no DTD)")
    posts: list[RawPost] = []
    comments: dict[str, list[dict[str, Any]]] = {}
    others: Counter[str] = Counter()
    untyped = 0
    feed: dict[str, str | None] | None = None
    with item.open() as stream:
        parser = etree.iterparse(stream, events=("end",), tag=f"{_ATOM}entry", resolve_entities=False,
                                 no_network=True, load_dtd=False, huge_tree=True, recover=True)
        try:
            for _, entry in parser:
                if feed is None:  # the feed's own title and link come before its first entry
                    feed = _feed_info(entry.getparent())
                kind = _kind(entry)
                if not kind:
                    untyped += 1
                    kind = "post"
                if kind in _POST_KINDS:
                    posts.append(_post(entry, kind, feed))
                elif kind == "comment":
                    comments.setdefault(_reply_to(entry) or "", []).append(_comment(entry))
                else:
                    others[kind] += 1
                entry.clear(keep_tail=False)
                while entry.getprevious() is not None:
                    del entry.getparent()[0]
        except etree.XMLSyntaxError as exc:
            if not posts:
                raise ParseError(f"{item.name or 'Blogger export'}: malformed XML, no entry readable ({exc})") from exc
            posts[-1].warnings.append(f"parsing stopped early: {exc}"[:300])
    if not posts:
        counted = ", ".join(f"{n} {k}" for k, n in sorted(others.items())) or "no entries"
        held = f"{counted}; {sum(map(len, comments.values()))} comments" if comments else counted
        raise ParseError(f"{item.name or 'Blogger export'}: no posts or pages in the export ({held})", code="no_posts")
    export: dict[str, Any] = {"entries_not_posts": dict(sorted(others.items()))} if others else {}
    by_id = {_entry_key(post.original_id): post for post in posts if post.original_id}
    orphans = sum(len(c) for parent, c in comments.items() if _entry_key(parent) not in by_id)
    if orphans:
        export["comments_without_post"] = orphans
    for parent, found in comments.items():
        if _entry_key(parent) in by_id:
            by_id[_entry_key(parent)].extra.setdefault("comments", []).extend(found)
    for post in posts:
        if export:
            post.extra["export"] = export
        if untyped:
            post.warnings.append(f"{untyped} entries name no Blogger kind; archived as posts")
        yield post
