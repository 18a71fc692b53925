"""A word-level diff of two plain texts: how many words went in and out, and where (a bounded list of spans).

Paragraphs are compared first and words only inside the paragraphs that differ, so an edit in a long text
costs a diff of the paragraphs it touched, not of the whole text. A changed block too large to compare word
by word (MAX_BLOCK_CELLS) counts as deleted and inserted whole.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

MAX_SPANS = 20  # spans listed per diff; the counts are always exact
SPAN_WORDS = 40  # words of each side of a span shown; the rest is counted
MAX_BLOCK_CELLS = 4_000_000  # old words x new words of one changed block compared word by word (~1 s at worst)
_PARAGRAPHS = re.compile(r"\n\s*\n")


def word_diff(a: str, b: str, *, max_spans: int = MAX_SPANS, span_words: int = SPAN_WORDS) -> dict[str, Any]:
    """What changed from text `a` to text `b`, word by word.

    `inserted` / `deleted`: words of `b` not in `a` and of `a` not in `b`; `spans`: the first `max_spans`
    changes in reading order, each with its position in both texts (`old_at`, `new_at`: word indexes) and
    the words taken out and put in (at most `span_words` of each shown); `spans_total`: all of them.
    """
    old_paragraphs, new_paragraphs = _paragraphs(a), _paragraphs(b)
    old_starts, new_starts = _starts(old_paragraphs), _starts(new_paragraphs)
    inserted = deleted = 0
    spans: list[dict[str, Any]] = []
    total = 0
    matcher = SequenceMatcher(None, [" ".join(p) for p in old_paragraphs], [" ".join(p) for p in new_paragraphs],
                              autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_words = [w for p in old_paragraphs[i1:i2] for w in p]
        new_words = [w for p in new_paragraphs[j1:j2] for w in p]
        for old_at, old, new_at, new in _word_changes(old_words, new_words):
            deleted += len(old)
            inserted += len(new)
            total += 1
            if len(spans) < max_spans:
                spans.append(_span(old_starts[i1] + old_at, old, new_starts[j1] + new_at, new, span_words))
    return {"words_before": old_starts[-1], "words_after": new_starts[-1], "inserted": inserted,
            "deleted": deleted, "spans": spans, "spans_total": total}


def _paragraphs(text: str) -> list[list[str]]:
    return [words for words in (p.split() for p in _PARAGRAPHS.split(text or "")) if words]


def _starts(paragraphs: list[list[str]]) -> list[int]:
    """Each paragraph's first word index, and the word count last."""
    starts = [0]
    for words in paragraphs:
        starts.append(starts[-1] + len(words))
    return starts


def _word_changes(old: list[str], new: list[str]) -> list[tuple[int, list[str], int, list[str]]]:
    """(old index, words out, new index, words in) for each change between two word lists."""
    if not old or not new or len(old) * len(new) > MAX_BLOCK_CELLS:
        return [(0, old, 0, new)]
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [(i1, old[i1:i2], j1, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _span(old_at: int, old: list[str], new_at: int, new: list[str], span_words: int) -> dict[str, Any]:
    op = "replace" if old and new else ("delete" if old else "insert")
    return {"op": op, "old_at": old_at, "new_at": new_at, "old": _clipped(old, span_words),
            "new": _clipped(new, span_words), "old_words": len(old), "new_words": len(new)}


def _clipped(words: list[str], limit: int) -> str:
    return " ".join(words[:limit]) + (" …" if len(words) > limit else "")
