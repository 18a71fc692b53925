"""Bounds on what reading one input may cost, shared by the formats and the normalizer.

Hostile inputs are cheap to write and costly to read: a nesting bomb, a YAML alias bomb, a
5,000-digit integer, `NaN` where JSON allows none. Each bound here turns one into a clear error
(a `TooComplex`, which the formats report as a parse error) or a value kept as text, instead of
a RecursionError, a traceback or gigabytes of memory.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# One post's body (config.Settings.max_post_bytes): normalizing a 5 MB Markdown post peaks at ~310 MB
# and takes ~30 s (docs/reliability.md); the worst Markdown (all punctuation) costs ~40 ms per KB.
MAX_POST_BYTES = 4 * 1024**2
# Metadata copied onto the post's table item (400 KB at most in DynamoDB): bounded with a warning;
# the values as found stay whole in post.json's `front_matter`.
MAX_TITLE_CHARS = 2000
MAX_TERMS = 500  # authors, categories, tags: each
MAX_TERM_CHARS = 200
MAX_NESTING = 64  # levels of lists and objects; real front matter and feed items use under ten
MAX_YAML_NODES = 200_000  # values of a YAML document once its aliases are expanded
MAX_FRONT_MATTER_CHARS = 1024**2  # metadata, not content: YAML is read at ~100 KB/s in pure Python
MAX_INT_DIGITS = 4300  # Python's own limit for turning text into an int and back (sys.int_info)
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))
MAX_NOTES = 5  # warnings about one field's values; the rest are counted


class TooComplex(ValueError):
    """A document nested too deeply, or expanding past its budget."""


def load_json(text: str | bytes) -> Any:
    """`json.loads` that refuses nesting bombs and keeps integers too long for Python as their digits."""
    try:
        value = json.loads(text, parse_int=_json_int)
    except RecursionError:
        raise TooComplex(f"nested deeper than {MAX_NESTING} levels") from None
    check_nesting(value)
    return value


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits.lstrip("-")) <= MAX_INT_DIGITS else digits


def check_nesting(value: Any, limit: int = MAX_NESTING) -> None:
    """Raise TooComplex when lists and dicts nest deeper than `limit` (iterative: no recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, (list, tuple)) else ()
        if children and depth > limit:
            raise TooComplex(f"nested deeper than {limit} levels")
        pending.extend((child, depth + 1) for child in children)


# Half of a UTF-16 pair, alone: JSON's "\ud800" and YAML's "\ud800" escapes decode to one; UTF-8 cannot hold it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_NOTE = "lone UTF-16 surrogate (an escape like \\ud800 with no pair) replaced by U+FFFD"


def json_safe(value: Any, path: str, warnings: list[str]) -> Any:
    """The value with what JSON cannot hold made text: `NaN`/`Infinity` and integers too long to print.

    `json.dumps(..., allow_nan=False)` then always works; each change is named in `warnings`.
    Expects bounded nesting (the formats check it); refuses deeper values rather than recursing.
    """
    check_nesting(value)
    changes: list[str] = []
    value = _safe(value, path, changes)
    warnings += changes[:MAX_NOTES]
    if len(changes) > MAX_NOTES:
        warnings.append(f"{path}: {len(changes) - MAX_NOTES} more values kept as text")
    return value


def _safe(value: Any, path: str, warnings: list[str]) -> Any:
    if isinstance(value, dict):
        return {str(k): _safe(v, f"{path}.{k}", warnings) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v, f"{path}[{i}]", warnings) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        warnings.append(f"{path[:200]}: {text} is not a JSON number, kept as text")
        return text
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
        warnings.append(f"{path[:200]}: integer of {value.bit_length()} bits kept as hexadecimal text")
        return hex(value)
    if isinstance(value, str) and LONE_SURROGATE.search(value):
        warnings.append(f"{path[:200]}: {SURROGATE_NOTE}")
        return LONE_SURROGATE.sub("\ufffd", value)
    return value
