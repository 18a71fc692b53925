"""Counting and slicing the entries of an XML feed (RSS 2.0, RSS 1.0, Atom), streamed with lxml.

A feed of 50,000 entries cannot be normalized within one Lambda invocation, so large feeds are
fanned out in chunks like WordPress exports (see archiver.chunks). feedparser reads a whole
document at once, so a chunk hands it a smaller feed instead: the same root and feed metadata,
with only the entries `[start, stop)` (in document order). Entity declarations are refused (no
expansion, no network), and a feed lxml cannot read strictly is not split: it is archived whole,
read as far as feedparser can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver.errors import ParseError

if TYPE_CHECKING:
    from lxml import etree

    from archiver.model import Input

_ENTRY_PARENTS = {"channel", "rdf", "feed"}  # RSS 2.0 channel/item, RSS 1.0 rdf:RDF/item, Atom feed/entry
_ENTRIES = {"item", "entry"}
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


def count_entries(item: Input) -> int:
    """How many entries the feed holds, from one streamed pass that keeps none of them."""
    total = 0
    for elem, _ in _entries(item):
        total += 1
        _forget(elem)
    return total


def slice_entries(item: Input, start: int, stop: int | None) -> bytes:
    """The feed with only its entries `[start, stop)`: same root, namespaces and feed metadata."""
    from lxml import etree

    root = None
    dropped: list[Any] = []
    for index, (elem, parent) in enumerate(_entries(item)):
        root = elem.getroottree().getroot()
        for old in dropped:  # previous siblings: safe to remove while parsing
            parent.remove(old)
        dropped = []
        if index < start or (stop is not None and index >= stop):
            elem.clear(keep_tail=False)
            dropped.append(elem)
    if root is None:
        raise ParseError(f"{item.name or 'feed'}: no entries to slice")
    for old in dropped:
        old.getparent().remove(old)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _entries(item: Input) -> Iterator[tuple[etree._Element, etree._Element]]:
    """(entry, parent) for each entry of the feed, as its end tag is read."""
    from lxml import etree

    if _ENTITY_DECL.search(item.head(65536)):
        raise ParseError(f"{item.name or 'feed'}: the DOCTYPE declares entities; not split")
    with item.open() as stream:
        parser = etree.iterparse(stream, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=True, recover=False, remove_comments=True, remove_pis=True)
        try:
            for _, elem in parser:
                parent = elem.getparent()
                if (parent is not None and _local(elem) in _ENTRIES and _local(parent) in _ENTRY_PARENTS
                        and _is_top(parent)):
                    yield elem, parent
        except etree.XMLSyntaxError as exc:
            raise ParseError(f"{item.name or 'feed'}: not well-formed XML, not split ({exc})") from exc


def _is_top(parent: etree._Element) -> bool:
    """The entries' container is the root (rdf:RDF, Atom feed) or the root's child (RSS channel)."""
    grandparent = parent.getparent()
    return grandparent is None or grandparent.getparent() is None


def _local(elem: etree._Element) -> str:
    tag = elem.tag if isinstance(elem.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _forget(elem: etree._Element) -> None:
    """Drop a counted entry and the entries before it, so memory stays flat however long the feed."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    while elem.getprevious() is not None and _local(elem.getprevious()) in _ENTRIES:
        del parent[parent.index(elem.getprevious())]
