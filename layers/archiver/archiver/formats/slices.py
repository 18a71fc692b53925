"""Byte ranges of the posts of a large XML input, so that each chunk reads only its own bytes.

A chunk of a WordPress export or a feed used to parse the input from the start and skip to its
posts, so archiving N chunks cost about N/2 passes over the input. Instead, the fan-out's own pass
also scans the raw bytes for the top-level post elements (`<item>`, `<entry>`) and plans each
chunk as a byte range; the chunk reads those bytes (one ranged GET) and parses them wrapped in the
input's head and tail (the format keeps what else its posts need in a small shared context).

The scan only has to skip what can hide a "<item" in XML: CDATA sections, comments and processing
instructions; anywhere else a raw "<" is markup. The format checks that the scan found exactly
the elements its parser found, and otherwise falls back to chunks that count posts.
"""

from __future__ import annotations

import contextlib
import functools
import mmap
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archiver.model import Input

_SKIP_TO = {b"<![CDATA[": b"]]>", b"<!--": b"-->", b"<?": b"?>"}


@dataclass(frozen=True)
class Slice:
    """One chunk: its posts `[start, stop)` (the format's numbering) are the elements in bytes `[begin, end)`."""

    start: int
    stop: int
    begin: int
    end: int


@functools.lru_cache(maxsize=8)
def _markup(names: str, container: str | None) -> re.Pattern[bytes]:
    parts = [rb"<!\[CDATA\[", rb"<!--", rb"<\?", rb"<(?P<close>/?)(?:[\w.\-]+:)?(?:" + names.encode() + rb")[\s>/]"]
    if container:
        parts.append(rb"(?P<container><(?:[\w.\-]+:)?" + container.encode() + rb"[\s>])")
    return re.compile(b"|".join(parts))


def scan(data: Any, names: str, container: str | None = None) -> tuple[int | None, list[tuple[int, int]]] | None:
    """(end of the first `<container ...>` start tag, (begin, end) of every `names` element), from
    the raw bytes (`names`: a regex alternation of local names, any namespace prefix). None when the
    elements are nested, self-closed or left open: not the plain layout this is for."""
    pattern = _markup(names, container)
    ranges: list[tuple[int, int]] = []
    container_end = begin = None
    pos = 0
    while (match := pattern.search(data, pos)) is not None:
        token = match.group()
        closing = _SKIP_TO.get(token)
        if closing is not None:
            end = data.find(closing, match.end())
            if end == -1:
                return None
            pos = end + len(closing)
        elif match.group("container") if container else False:
            if container_end is None:
                container_end = data.find(b">", match.start()) + 1
            pos = match.end()
        elif match.group("close"):
            end = data.find(b">", match.start()) + 1
            if begin is None or end == 0:
                return None
            ranges.append((begin, end))
            begin, pos = None, end
        else:
            if begin is not None:
                return None
            begin, pos = match.start(), match.end()
    return (container_end, ranges) if begin is None else None


def plan(counted: Sequence[bool], ranges: Sequence[tuple[int, int]], chunk_posts: int) -> list[Slice]:
    """Slices of at most `chunk_posts` posts: `counted[i]` says whether element i is a post (numbered
    in order); elements that are not (attachments, menus) ride with their neighbours."""
    if chunk_posts < 1:
        raise ValueError("chunk size must be at least 1")
    slices: list[Slice] = []
    first = posts = total = 0
    for index, is_post in enumerate(counted):
        if is_post and posts == chunk_posts:
            slices.append(Slice(total - posts, total, ranges[first][0], ranges[index - 1][1]))
            first, posts = index, 0
        posts += is_post
        total += is_post
    if posts:
        slices.append(Slice(total - posts, total, ranges[first][0], ranges[-1][1]))
    elif slices:  # elements after the last post end the last slice
        last = slices[-1]
        slices[-1] = Slice(last.start, last.stop, last.begin, ranges[-1][1])
    return slices


@contextlib.contextmanager
def raw_bytes(item: Input) -> Any:
    """The input's bytes without reading a file-backed input into memory (a read-only mmap)."""
    if item.path is None or item.size == 0:  # an empty file cannot be mapped
        yield item.data
        return
    with item.open() as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data
