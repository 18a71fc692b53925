"""WordPress eXtended RSS (WXR) exports: streamed with lxml, safely, in constant memory.

Exports can be hundreds of MB, so items are read one at a time with `iterparse` and cleared
as soon as they are turned into a RawPost. Two passes over the stream: the first collects the
small channel-level data a post needs (site, authors' display names, attachments by parent),
the second yields posts. Entities are never expanded and nothing is fetched (no DTD, no network),
so a "billion laughs" file or an external entity costs nothing. Broken files are read with
libxml2's recovery and the parser's complaints are recorded as warnings on the posts.

A large export is archived in chunks by separate invocations (see archiver.chunks). `plan_slices`
makes one pass and returns what every chunk needs: the channel-level data as a small context, and
each chunk's byte range. A chunk then reads only its own bytes (`parse_slice`), so archiving an
export costs one pass over it, however many chunks it has.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver.errors import ParseError
from archiver.formats import slices
from archiver.formats.feed import decode_head, wide_encoding
from archiver.formats.slices import Slice
from archiver.gutenberg import with_footnotes
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from lxml import etree

NAME = "wxr"

_WP_NS = ("http://wordpress.org/export/", "https://wordpress.org/export/")  # WordPress.com writes https
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"

# Post types that are content; anything else that WordPress uses internally is skipped on purpose.
# Unknown (custom) post types are archived too, marked with extra["post_type"].
_INTERNAL_TYPES = frozenset(
    {
        "attachment",  # collected into the parent's extra["attachments"] instead
        "nav_menu_item",
        "revision",
        "custom_css",
        "customize_changeset",
        "oembed_cache",
        "user_request",
        "wp_block",
        "wp_template",
        "wp_template_part",
        "wp_global_styles",
        "wp_navigation",
        "wp_font_family",
        "wp_font_face",
        "acf-field",
        "acf-field-group",
        "shop_order",
        "scheduled-action",
    }
)
_SKIPPED_STATUSES = frozenset({"auto-draft"})  # WordPress's empty placeholders, never written
_NO_DATE = "0000-00-00 00:00:00"

# Attachments kept in memory between the two passes; beyond this they are only counted.
MAX_INDEXED_ATTACHMENTS = 50_000
MAX_WARNINGS_PER_POST = 10

_ENTITY_DECL = re.compile(rb"<!DOCTYPE[^<>\[]*\[[^\]]*<!ENTITY", re.I | re.S)  # [^<>[]: one scan per DOCTYPE
_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:\-]*)")  # the root's start tag (after the prolog)
_SNIFF = re.compile(r"xmlns:[\w.\-]+\s*=\s*[\"']https?://wordpress\.org/export/|<wp:wxr_version>")


def sniff(head: bytes, name: str) -> bool:
    """XML whose head declares the WordPress export namespace or a <wp:wxr_version> (UTF-16/32 too)."""
    text = decode_head(head)
    return text.lstrip(" \t\r\n").startswith("<") and bool(_SNIFF.search(text))


def _iterparse(item: Input, stream: Any) -> etree.iterparse:
    from lxml import etree

    return etree.iterparse(
        stream,
        events=("end",),
        tag="item",
        resolve_entities=False,  # never expand entities: no billion laughs, no XXE
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # long bodies are legitimate; entity expansion stays off regardless
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


def _forget(elem: etree._Element) -> None:
    """Drop an element and everything before it, so memory stays flat however long the export."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


@functools.lru_cache(maxsize=512)  # an export has a few dozen distinct tags, read hundreds of thousands of times
def _kind(tag: Any) -> tuple[str, str]:
    """(namespace kind, local name) of a child tag: 'wp', 'excerpt', 'content', 'dc' or ''."""
    if not isinstance(tag, str):
        return ("#", "")  # comments, PIs, entity references
    if tag[0] != "{":
        return ("", tag)
    ns, local = tag[1:].split("}", 1)
    if ns.startswith(_WP_NS):
        return ("excerpt" if ns.rstrip("/").endswith("excerpt") else "wp", local)
    if ns == _CONTENT_NS:
        return ("content", local)
    if ns == _DC_NS:
        return ("dc", local)
    return ("other", local)


def _text(elem: etree._Element | None) -> str:
    # itertext keeps unexpanded entity references as literal "&name;" (xpath string() would expand them).
    return "".join(elem.itertext()) if elem is not None else ""


def _fields(elem: etree._Element) -> dict[tuple[str, str], etree._Element]:
    """First child per (namespace kind, local name): one pass instead of many find() calls."""
    found: dict[tuple[str, str], etree._Element] = {}
    for child in elem:
        found.setdefault(_kind(child.tag), child)
    return found


def _get(fields: dict[tuple[str, str], etree._Element], kind: str, local: str) -> str:
    return _text(fields.get((kind, local))).strip()


def _pairs(elem: etree._Element, key: str, value: str) -> Iterator[tuple[str, str]]:
    """(key, value) of nested wp:postmeta / wp:commentmeta style children."""
    sub = _fields(elem)
    yield _get(sub, "wp", key), _text(sub.get(("wp", value)))


class _Channel:
    """What pass one learns about the export: site, authors, attachments, counts."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.link: str | None = None
        self.language: str | None = None
        self.base_site_url: str | None = None
        self.wxr_version: str | None = None
        self.authors: dict[str, str] = {}
        self.attachments: dict[str, dict[str, str]] = {}  # by attachment id
        self.by_parent: dict[str, list[str]] = {}
        self.types: Counter[str] = Counter()
        self.posts = 0  # items that pass two turns into posts (see _is_post)
        self.attachments_not_indexed = 0
        self.well_formed = True  # false once the parser had to recover from an error

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "types": dict(self.types)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Channel:
        channel = cls()
        vars(channel).update(data)
        channel.types = Counter(data.get("types", {}))
        return channel

    def harvest(self, elem: etree._Element) -> None:
        """Read one channel-level element (not an item) before it is dropped."""
        kind, local = _kind(elem.tag)
        if kind == "" and local in ("title", "link", "language"):
            if getattr(self, local) is None:
                setattr(self, local, _text(elem).strip() or None)
        elif kind == "wp" and local in ("base_site_url", "wxr_version"):
            setattr(self, local, _text(elem).strip() or None)
        elif kind == "wp" and local == "author":
            sub = _fields(elem)
            login = _get(sub, "wp", "author_login")
            display = _get(sub, "wp", "author_display_name")
            if login:
                self.authors[login] = display or login

    def index_attachment(self, fields: dict[tuple[str, str], etree._Element], item: etree._Element) -> None:
        if len(self.attachments) >= MAX_INDEXED_ATTACHMENTS:
            self.attachments_not_indexed += 1
            return
        att_id = _get(fields, "wp", "post_id")
        info = {
            "id": att_id,
            "url": _get(fields, "wp", "attachment_url") or _get(fields, "", "guid"),
            "title": _get(fields, "", "title"),
        }
        caption = _get(fields, "excerpt", "encoded")
        if caption:
            info["caption"] = caption
        for child in item:
            if _kind(child.tag) == ("wp", "postmeta"):
                for key, value in _pairs(child, "meta_key", "meta_value"):
                    if key == "_wp_attachment_image_alt" and value:
                        info["alt"] = value
        info = {k: v for k, v in info.items() if v}
        self.attachments[att_id] = info
        parent = _get(fields, "wp", "post_parent")
        if parent and parent != "0":
            self.by_parent.setdefault(parent, []).append(att_id)


def _first_pass(item: Input, post_flags: list[bool] | None = None) -> _Channel:
    """The channel-level data; with `post_flags`, also whether each item (in order) is a post."""
    from lxml import etree

    channel = _Channel()
    with item.open() as stream:
        parser = _iterparse(item, stream)
        try:
            for _, elem in parser:
                parent = elem.getparent()
                if parent is not None:
                    for sibling in parent:
                        if sibling is elem:
                            break
                        if sibling.tag != "item":
                            channel.harvest(sibling)
                fields = _fields(elem)
                post_type = _get(fields, "wp", "post_type") or "post"
                channel.types[post_type] += 1
                is_post = _is_post(fields)
                channel.posts += is_post
                if post_flags is not None:
                    post_flags.append(is_post)
                if post_type == "attachment":
                    channel.index_attachment(fields, elem)
                _forget(elem)
            root = parser.root
            channel.well_formed = len(parser.error_log) == 0
        except etree.XMLSyntaxError:  # pass one is best effort; pass two reports the problem
            root = None
            channel.well_formed = False
    if root is not None:
        for top in root.iter("channel"):
            for child in top:
                if child.tag != "item":
                    channel.harvest(child)
    return channel


def _utc(value: str) -> str | None:
    """wp:*_date_gmt is UTC without a zone: make that explicit; WordPress writes zeros for 'none'."""
    value = value.strip()
    if not value or value == _NO_DATE:
        return None
    if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
        return value.replace(" ", "T") + "Z"
    return value


def _local(value: str) -> str | None:
    value = value.strip()
    return None if not value or value == _NO_DATE else value


def _unique(values: list[str]) -> list[str]:
    # WXR 1.0 repeats each category: once plain, once with domain/nicename.
    return list(dict.fromkeys(values))


def _comments(item: etree._Element) -> list[dict[str, Any]]:
    """Comments as kept in the post JSON; e-mail addresses and IPs are left out on purpose."""
    comments = []
    for child in item:
        if _kind(child.tag) != ("wp", "comment"):
            continue
        sub = _fields(child)
        comment: dict[str, Any] = {
            "id": _get(sub, "wp", "comment_id"),
            "author": _get(sub, "wp", "comment_author"),
            "author_url": _get(sub, "wp", "comment_author_url"),
            "date": _utc(_get(sub, "wp", "comment_date_gmt")) or _local(_get(sub, "wp", "comment_date")),
            "content": _text(sub.get(("wp", "comment_content"))),
            "approved": _get(sub, "wp", "comment_approved") == "1",
            "type": _get(sub, "wp", "comment_type") or "comment",
            "parent": _get(sub, "wp", "comment_parent") or "0",
        }
        comments.append({k: v for k, v in comment.items() if v not in ("", None)} | {"approved": comment["approved"]})
    return comments


def _is_post(fields: dict[tuple[str, str], etree._Element]) -> bool:
    """Whether an item becomes a post: the same rule as _post, without building anything."""
    post_type = _get(fields, "wp", "post_type") or "post"
    status = _get(fields, "wp", "status") or "publish"
    return post_type not in _INTERNAL_TYPES and status not in _SKIPPED_STATUSES


def _post(item: etree._Element, channel: _Channel) -> tuple[RawPost | None, str]:
    """One item to a RawPost, or (None, reason) when the item is deliberately not a post."""
    fields = _fields(item)
    post_type = _get(fields, "wp", "post_type")
    warnings = []
    if not post_type:
        warnings.append("item has no wp:post_type; treated as a post")
        post_type = "post"
    if post_type in _INTERNAL_TYPES:
        return None, post_type
    status = _get(fields, "wp", "status") or "publish"
    if status in _SKIPPED_STATUSES:
        return None, status

    categories: list[str] = []
    tags: list[str] = []
    coauthors: list[str] = []
    terms: dict[str, list[str]] = {}
    postmeta: dict[str, Any] = {}
    for child in item:
        kind, local = _kind(child.tag)
        if (kind, local) == ("", "category"):
            name = _text(child).strip()
            domain = child.get("domain") or "category"
            if not name:
                continue
            if domain == "category":
                categories.append(name)
            elif domain == "post_tag":
                tags.append(name)
            elif domain == "author":
                coauthors.append(name)
            else:
                terms.setdefault(domain, []).append(name)
        elif (kind, local) == ("wp", "postmeta"):
            for key, value in _pairs(child, "meta_key", "meta_value"):
                if not key:
                    continue
                if key in postmeta:
                    old = postmeta[key]
                    postmeta[key] = [*old, value] if isinstance(old, list) else [old, value]
                else:
                    postmeta[key] = value

    categories, tags = _unique(categories), _unique(tags)
    creator = _get(fields, "dc", "creator")
    authors = coauthors or ([channel.authors.get(creator, creator)] if creator else [])
    post_id = _get(fields, "wp", "post_id")

    front_matter: dict[str, Any] = {}
    for local in (
        "post_id",
        "post_name",
        "post_type",
        "status",
        "post_date",
        "post_date_gmt",
        "post_modified",
        "post_modified_gmt",
        "post_parent",
        "menu_order",
        "comment_status",
        "ping_status",
        "is_sticky",
    ):
        value = _get(fields, "wp", local)
        if value:
            front_matter[local] = value
    for local in ("pubDate", "guid"):
        value = _get(fields, "", local)
        if value:
            front_matter[local] = value
    if creator:
        front_matter["creator"] = creator
    if terms:
        front_matter["terms"] = terms
    if postmeta:
        front_matter["postmeta"] = postmeta

    extra: dict[str, Any] = {"wpautop": True, "post_type": post_type}
    comments = _comments(item)
    if comments:
        extra["comments"] = comments
    attachment_ids = channel.by_parent.get(post_id, [])
    if attachment_ids:
        extra["attachments"] = [channel.attachments[a] for a in attachment_ids]
    image = None
    thumb = postmeta.get("_thumbnail_id")
    if isinstance(thumb, str) and thumb in channel.attachments:
        image = channel.attachments[thumb].get("url")

    published = (
        _utc(_get(fields, "wp", "post_date_gmt"))
        or _local(_get(fields, "wp", "post_date"))
        or _get(fields, "", "pubDate")
        or None
    )
    updated = _utc(_get(fields, "wp", "post_modified_gmt")) or _local(_get(fields, "wp", "post_modified"))
    excerpt = _text(fields.get(("excerpt", "encoded"))).strip() or None
    body, footnote_warnings = with_footnotes(_text(fields.get(("content", "encoded"))), postmeta.get("footnotes"))
    warnings += footnote_warnings
    post = RawPost(
        format="wxr",
        body=body,
        body_format="html",
        title=_get(fields, "", "title") or None,
        url=_get(fields, "", "link") or None,
        original_id=post_id or _get(fields, "", "guid") or None,
        authors=authors,
        published=published,
        updated=updated,
        categories=categories,
        tags=tags,
        excerpt=excerpt,
        status=status,
        language=channel.language,
        image=image,
        site_name=channel.title,
        site_url=channel.link or channel.base_site_url,
        front_matter=front_matter,
        extra=extra,
        warnings=warnings,
    )
    return post, post_type


def _errors(parser: Any, seen: int) -> tuple[list[str], int]:
    """Parser complaints logged since the last call, as warnings."""
    log = parser.error_log
    if len(log) <= seen:
        return [], seen
    new = [f"XML error line {e.line}: {e.message.strip()}" for e in list(log)[seen:]]
    return new, len(log)


def _refuse_entities(item: Input) -> None:
    if _ENTITY_DECL.search(item.head(65536)):
        # WordPress never writes a DTD; entity declarations in an export are an attack or a mistake.
        raise ParseError(
            f"{item.name or 'WXR'}: refused, the DOCTYPE declares entities (possible entity-expansion "
            "or external-entity attack; WordPress exports have no DTD)"
        )


def count(item: Input) -> int:
    """How many posts `parse` yields, from one streamed pass that builds no posts.

    Posts are numbered in document order (0-based); `parse(item, start, stop)` yields a range of
    them, so a large export can be split into chunks archived by separate invocations.
    """
    _refuse_entities(item)
    return _first_pass(item).posts


def parse(item: Input, start: int = 0, stop: int | None = None) -> Iterator[RawPost]:
    """Stream a WXR export into RawPosts: posts, pages and custom types; drafts kept with their status.

    With `start`/`stop`, only the posts numbered `[start, stop)` are built (see `count`); items
    before `start` are skipped cheaply and reading stops at `stop`.
    """
    _refuse_entities(item)
    yield from _posts(item, _first_pass(item), start, stop)


def _posts(item: Input, channel: _Channel, start: int = 0, stop: int | None = None) -> Iterator[RawPost]:
    """The posts `[start, stop)` of the export, read with the channel data of its first pass."""
    from lxml import etree

    skipped = {t: n for t, n in channel.types.items() if t in _INTERNAL_TYPES}
    export: dict[str, Any] = {"wxr_version": channel.wxr_version, "base_site_url": channel.base_site_url}
    if skipped:
        export["items_not_posts"] = skipped
    if channel.attachments_not_indexed:
        export["attachments_not_indexed"] = channel.attachments_not_indexed
    common: list[str] = []
    if channel.wxr_version is None:
        common.append("no wp:wxr_version in the export")

    pending: RawPost | None = None
    yielded = 0
    items = 0
    index = -1  # number of the current post, in document order
    cut = False
    seen_errors = 0
    with item.open() as stream:
        parser = _iterparse(item, stream)
        try:
            for _, elem in parser:
                items += 1
                if start or stop is not None:
                    if _is_post(_fields(elem)):
                        index += 1
                    if stop is not None and index >= stop:
                        cut = True  # the first post past the range: its errors are its own
                        break
                    if index < start:
                        _, seen_errors = _errors(parser, seen_errors)
                        _forget(elem)
                        continue
                post, _kind_or_status = _post(elem, channel)
                new_errors, seen_errors = _errors(parser, seen_errors)
                _forget(elem)
                if post is None:
                    if pending is not None:
                        pending.warnings.extend(new_errors)
                    continue
                post.warnings[:0] = common
                post.warnings.extend(new_errors)
                post.extra["export"] = export
                if pending is not None:
                    pending.warnings = pending.warnings[:MAX_WARNINGS_PER_POST]
                    yield pending
                    yielded += 1
                pending = post
        except etree.XMLSyntaxError as exc:
            if pending is None and items == 0:
                raise ParseError(f"{item.name or 'WXR'}: malformed WXR, nothing readable ({exc})") from exc
            if pending is not None:
                pending.warnings.append(f"parsing stopped early: {exc}")
        trailing, seen_errors = ([], seen_errors) if cut else _errors(parser, seen_errors)
    if pending is not None:
        pending.warnings.extend(trailing)
        pending.warnings = pending.warnings[:MAX_WARNINGS_PER_POST]
        yield pending
        yielded += 1
    elif items == 0 and seen_errors:
        first = next(iter(parser.error_log)).message.strip()
        raise ParseError(f"{item.name or 'WXR'}: malformed WXR, no item could be read ({first})")


# -- slices: byte ranges of chunks (see archiver.formats.slices) ----------------------------------


def plan_slices(item: Input, chunk_posts: int) -> tuple[dict[str, Any], list[Slice]] | None:
    """One pass over the export: the context every chunk needs (`parse_slice`) and the byte ranges
    of chunks of at most `chunk_posts` posts. None when the bytes cannot be sliced plainly (a UTF-16
    export, one the parser had to recover, or one whose items the byte scan and the parser count
    differently): its chunks then count posts from the start.
    """
    _refuse_entities(item)
    if wide_encoding(item.head(4)) is not None:
        return None
    post_flags: list[bool] = []
    channel = _first_pass(item, post_flags)
    if not channel.well_formed:
        return None
    with slices.raw_bytes(item) as data:
        scanned = slices.scan(data, "item", container="channel")
        if scanned is None or scanned[0] is None or len(scanned[1]) != len(post_flags):
            return None
        head_end, items = scanned
        head = bytes(data[:head_end])
    root = _ELEMENT.search(head)
    if root is None:
        return None
    context = {"head": head.decode("latin-1"), "root": root.group(1).decode("latin-1"), "channel": channel.to_dict()}
    return context, slices.plan(post_flags, items, chunk_posts)


def parse_slice(item: Input, context: dict[str, Any]) -> Iterator[RawPost]:
    """The posts of one slice: `item` holds only the slice's bytes, `context` is `plan_slices`'s."""
    head = context["head"].encode("latin-1")
    data = head + item.read_bytes() + f"</channel></{context['root']}>".encode("latin-1")
    whole = Input(data=data, name=item.name, origin=item.origin)
    _refuse_entities(whole)
    yield from _posts(whole, _Channel.from_dict(context["channel"]))
