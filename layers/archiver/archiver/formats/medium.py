"""Medium's export: one HTML file per post (`posts/*.html`) marked up as an `h-entry` microformat.

Each file holds exactly one post, with its fields in microformat classes: `p-name` (title),
`p-summary` (subtitle), `e-content` (body), `p-author`, `dt-published`, `p-tag`, `p-canonical`; drafts
are the files named `draft_*.html` and carry no date. Reading these classes is exact where a generic
page extractor would guess. The body's first heading repeats the title (Medium's `graf--title`): it is
dropped when it does.

The export zip also holds the account's bookmarks, claps, highlights, sessions and more as HTML pages;
as a bundle layout (see `bundle.py`), this module reads only `posts/*.html` of such a zip.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from archiver.errors import ArchiverError, ParseError
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from lxml import html as lxml_html

NAME = "medium"

_SNIFF = (re.compile(rb"section\[data-field=subtitle\]"),  # Medium's own export stylesheet
          re.compile(rb"<article[^>]+class=\"h-entry\"[^>]*>\s*<header>\s*<h\d[^>]+class=\"p-name\""))
# Folders beside `posts/` that only Medium's account export has.
_EXPORT_FOLDERS = ("profile/", "claps/", "bookmarks/", "highlights/", "interests/", "sessions/", "blocks/",
                   "lists/", "ips/", "pubs-following/", "topics-following/", "users-following/", "partner-program/")
_POST_PATH = re.compile(r"^(.*/)?posts/[^/]+\.html?$", re.I)


def sniff(head: bytes, name: str) -> bool:
    """HTML with Medium's export stylesheet or an `h-entry` article opening with its `p-name` title."""
    return any(pattern.search(head) for pattern in _SNIFF)


def _classed(root: lxml_html.HtmlElement, name: str) -> list[lxml_html.HtmlElement]:
    return root.xpath(f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]")


def _text(elements: list[lxml_html.HtmlElement]) -> str | None:
    if not elements:
        return None
    return " ".join(elements[0].text_content().split()) or None


def parse(item: Input) -> Iterator[RawPost]:
    """The one post of a Medium export file."""
    from lxml import etree
    from lxml import html as lxml_html

    from archiver.formats.html_page import decode

    text, _, warnings = decode(item.read_bytes())
    try:
        tree = lxml_html.document_fromstring(re.sub(r"\A\s*<\?xml[^>]*\?>", "", text))
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{item.name or 'input'}: unparseable HTML: {exc}") from exc
    entries = _classed(tree, "h-entry")
    if not entries:
        raise ParseError(f"{item.name or 'input'}: no h-entry article (not a Medium export post)")
    entry = entries[0]
    title = _text(_classed(entry, "p-name"))
    content = _classed(entry, "e-content")
    body_root = content[0] if content else entry
    for heading in _classed(body_root, "graf--title")[:1]:
        if title and " ".join(heading.text_content().split()) == title:
            heading.drop_tree()
    for divider in _classed(body_root, "section-divider"):  # a rule Medium draws above every section
        divider.drop_tree()
    body = "".join(etree.tostring(child, encoding="unicode", method="html") for child in body_root)
    if body_root.text and body_root.text.strip():
        body = body_root.text + body
    author = _classed(entry, "p-author")
    published = _classed(entry, "dt-published")
    canonical = _classed(entry, "p-canonical")
    featured = body_root.xpath(".//img[@data-is-featured='true']")
    basename = posixpath.basename(item.name)
    draft = basename.lower().startswith("draft")
    # `2018-08-11_Post-Title-abcd1234ef56.html`, `draft_Post-Title-abcd1234ef56.html`
    slug = re.sub(r"^(?:draft_|\d{4}-\d{2}-\d{2}_)", "", posixpath.splitext(basename)[0])
    extra = {"file_slug": re.sub(r"-[0-9a-f]{10,12}$", "", slug)}
    yield RawPost(
        format=NAME,
        body=body,
        body_format="html",
        title=title,
        url=canonical[0].get("href") if canonical else None,
        authors=[name] if (name := _text(author)) else [],
        published=published[0].get("datetime") if published else None,
        tags=[t for t in (" ".join(e.text_content().split()) for e in _classed(entry, "p-tag")) if t],
        excerpt=_text(_classed(entry, "p-summary")),
        status="draft" if draft else "publish",
        image=featured[0].get("src") if featured else None,
        front_matter={"author_url": author[0].get("href")} if author and author[0].get("href") else {},
        extra=extra,
        warnings=warnings,
    )


# ---- the export zip, as a bundle layout ----------------------------------------------------------

def layout_root(names: list[str]) -> str | None:
    """The folder of a Medium account export inside a zip ("" at the top), or None for other zips."""
    roots = {m.group(1) or "" for m in map(_POST_PATH.match, names) if m}
    for root in sorted(roots, key=len):
        if any(name.startswith(root + folder) for name in names for folder in _EXPORT_FOLDERS):
            return root
    return None


def wants(path: str, root: str) -> bool:
    """The post files, and the profile (for the author of drafts); claps, bookmarks ... are not posts."""
    rest = path[len(root):] if path.startswith(root) else None
    if rest == "profile/profile.html":
        return True
    return rest is not None and bool(_POST_PATH.match(rest)) and rest.count("/") == 1


def _profile_name(entry: Input) -> str | None:
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(entry.read_bytes())
    except (etree.ParserError, ValueError):
        return None
    cards = _classed(tree, "h-card")
    return _text(_classed(cards[0], "p-name")) if cards else None


def parse_export(entries: Iterator[Input], root: str, warn: Callable[[str], None]) -> Iterator[RawPost]:
    """Every post file of the export; a file that is not an h-entry post is skipped with a warning.

    Drafts name no author: the account's display name (from the profile) is theirs.
    """
    posts: list[RawPost] = []
    owner = None
    for entry in entries:
        if entry.name == f"{root}profile/profile.html":
            owner = _profile_name(entry)
            continue
        try:
            for post in parse(entry):
                post.extra["bundle_entry"] = entry.name
                posts.append(post)
        except ArchiverError as exc:
            warn(f"entry {entry.name} skipped: {exc.message}")
    for post in posts:
        if not post.authors and owner:
            post.authors = [owner]
        yield post
