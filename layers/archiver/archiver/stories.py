"""Copies of one story: the same text republished by several sites.

Copies are linked by `story_id`: posts naming the same canonical URL share it by construction
(see ids.story_id); near-identical texts are found by a 64-bit SimHash over word 3-shingles.
Two fingerprints at most MAX_DISTANCE bits apart are copies; splitting a fingerprint into
MAX_DISTANCE + 1 bands guarantees such a pair shares at least one band exactly, which is what
the store indexes (pigeonhole), so a lookup is a few exact-key queries, not a scan.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

BITS = 64
MAX_DISTANCE = 3
BANDS = MAX_DISTANCE + 1
BAND_BITS = BITS // BANDS
MIN_WORDS = 30  # below this, texts are too short to tell a copy from a template
SHINGLE = 3
_WORD = re.compile(r"\w+")
_HASH = functools.partial(hashlib.blake2b, digest_size=8)  # of each shingle's UTF-8 bytes
_DIGEST = operator.methodcaller("digest")


def fingerprint(text: str) -> str | None:
    """The SimHash of a text as 16 hex digits, or None when the text is too short to compare."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    shingles = zip(*(words[i:] for i in range(SHINGLE)), strict=False)  # consecutive word triples
    digests = b"".join(map(_DIGEST, map(_HASH, map(str.encode, map(" ".join, shingles)))))
    count = len(digests) // 8
    # A bit is set in the SimHash when most shingle hashes have it. Each digest byte position is read
    # as one big integer; masking it with one bit of every byte and counting the ones (in C) counts
    # the shingles with that bit: 64 integer operations instead of 64 Python steps per shingle.
    masks = [int.from_bytes(bytes((1 << bit,)) * count) for bit in range(8)]
    ones = [0] * BITS
    for position in range(8):  # digest byte 0 holds the top bits (big-endian)
        column = int.from_bytes(digests[position::8])
        for bit in range(8):
            ones[(7 - position) * 8 + bit] = (column & masks[bit]).bit_count()
    value = sum(1 << bit for bit in range(BITS) if 2 * ones[bit] > count)
    return f"{value:016x}"


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def are_copies(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and distance(a, b) <= MAX_DISTANCE


def bands(fp: str) -> list[str]:
    """`<band index>:<band value>` for each band; copies share at least one."""
    value = int(fp, 16)
    mask = (1 << BAND_BITS) - 1
    return [f"{i}:{value >> (i * BAND_BITS) & mask:0{BAND_BITS // 4}x}" for i in range(BANDS)]


P = TypeVar("P")


def group_copies(posts: Sequence[P]) -> list[list[P]]:
    """Groups of two or more posts that are copies of one story (same story_id or near-identical text).

    Works on anything with `story_id` and `fingerprint` attributes (Post objects).
    """
    parent = list(range(len(posts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(pairs: Iterable[tuple[int, int]]) -> None:
        for i, j in pairs:
            parent[root(i)] = root(j)

    by_story: dict[str, int] = {}
    by_band: dict[str, list[int]] = {}
    for i, post in enumerate(posts):
        if post.story_id in by_story:
            union([(i, by_story[post.story_id])])
        by_story.setdefault(post.story_id, i)
        if post.fingerprint:
            for band in bands(post.fingerprint):
                candidates = by_band.setdefault(band, [])
                union((i, j) for j in candidates if are_copies(post.fingerprint, posts[j].fingerprint))
                candidates.append(i)
    groups: dict[int, list[P]] = {}
    for i, post in enumerate(posts):
        groups.setdefault(root(i), []).append(post)
    return [group for group in groups.values() if len(group) > 1]
