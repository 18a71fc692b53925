"""A page's title said twice: the extracted article often opens with the heading that is its title.

The archived page shows the title above the body, so a body that starts with the same words as a
heading (or a paragraph of nothing else) would show them twice; that first element is dropped.
"""

from __future__ import annotations

import html
import re

_FIRST = re.compile(r"\A\s*<(h[1-6]|p|header)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def drop_repeated_title(body_html: str, title: str | None) -> str:
    """`body_html` without its first heading (or paragraph) when that repeats `title`; else as it is."""
    if not title or not body_html:
        return body_html
    match = _FIRST.match(body_html)
    if match is None or _words(match.group(2)) != _words(title):
        return body_html
    return body_html[match.end():].lstrip()


def _words(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).casefold().split()).strip(" .:!?")
