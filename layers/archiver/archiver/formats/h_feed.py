"""The posts of a page marked up as a microformats2 `h-feed`: one per `h-entry`.

An IndieWeb blog's home or archive page lists its posts as h-entry elements in an h-feed (or as
several top-level h-entries, which the microformats2 spec reads as an implied feed). Such a page
is a feed, not an article: each entry's explicit properties are read (`p-name`, `u-url`,
`dt-published`, `dt-updated`, `e-content`, `p-summary`, `p-author`, `p-category`) where a page
extractor would make one post of the whole list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.model import RawPost

if TYPE_CHECKING:
    from lxml import html as lxml_html

NAME = "h-feed"


def _has_class(element: Any, name: str) -> bool:
    classes = element.get("class") if isinstance(element.tag, str) else None
    return bool(classes) and name in classes.split()


def _properties(root: Any, name: str) -> list[Any]:
    """Elements of `root` with the class `name` that belong to it, not to an h-* object nested in it.

    One walk over the entry's subtree: nested microformats are not entered (their properties are theirs).
    """
    found = []
    stack = list(root)
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        classes = (element.get("class") or "").split()
        if name in classes:
            found.append(element)
        if not any(c.startswith("h-") for c in classes):
            stack.extend(element)
    found.sort(key=lambda e: e.sourceline or 0)
    return found


def entries(tree: lxml_html.HtmlElement) -> list[Any]:
    """The page's top-level h-entry elements when it lists two or more (those of its h-feed if it has one).

    A page with one h-entry is an article (some themes wrap even that in an h-feed): the page
    extractor reads it, and `e-content` is not needed.
    """
    top = [e for e in tree.iter() if _has_class(e, "h-entry")
           and not any(_has_class(a, "h-entry") for a in e.iterancestors())]
    in_feed = [e for e in top if any(_has_class(a, "h-feed") for a in e.iterancestors())]
    found = in_feed or top
    return found if len(found) >= 2 else []


def _text(elements: list[Any]) -> str | None:
    return " ".join(elements[0].text_content().split()) or None if elements else None


def _url(elements: list[Any]) -> str | None:
    if not elements:
        return None
    element = elements[0]
    return element.get("href") or element.get("src") or _text(elements)


def _datetime(elements: list[Any]) -> str | None:
    if not elements:
        return None
    element = elements[0]
    inner_time = element if element.tag == "time" else next(element.iter("time"), None)
    return element.get("datetime") or (inner_time.get("datetime") if inner_time is not None else None) or _text(
        elements)


def to_raw_post(entry: Any, site_name: str | None, site_url: str | None) -> RawPost:
    """One h-entry as a raw post."""
    from lxml import etree

    content = _properties(entry, "e-content")
    body = ""
    if content:
        root = content[0]
        body = (root.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)
    authors = [name for element in _properties(entry, "p-author")
               if (name := _text(_properties(element, "p-name")) or _text([element]))]
    return RawPost(
        format=NAME,
        body=body,
        body_format="html",
        title=_text(_properties(entry, "p-name")),
        url=_url(_properties(entry, "u-url")),
        original_id=_url(_properties(entry, "u-uid")),
        authors=authors,
        published=_datetime(_properties(entry, "dt-published")),
        updated=_datetime(_properties(entry, "dt-updated")),
        categories=[t for t in (_text([e]) for e in _properties(entry, "p-category")) if t],
        excerpt=_text(_properties(entry, "p-summary")),
        site_name=site_name,
        site_url=site_url,
    )
