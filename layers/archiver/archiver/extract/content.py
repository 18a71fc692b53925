"""Main-content extraction: trafilatura first, readability-lxml as a checked second opinion.

Measured on scrapinghub/article-extraction-benchmark (see docs/evaluation.md): trafilatura in
precision mode is the best single extractor, but it sometimes returns a fragment (one section of
the article, or a print notice) where readability-lxml finds the whole story. So both run and
the result is chosen from how their texts overlap, never from anything site-specific.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Below this many words an extraction is treated as failed and a longer candidate is preferred.
MIN_WORDS = 50
# Readability's body replaces trafilatura's when it is this many times longer...
LONGER_RATIO = 2.0
# ...and holds at least this share of trafilatura's word 4-grams (trafilatura got a fragment).
CONTAINED = 0.9

_WORD = re.compile(r"\w+")


@dataclass
class Content:
    """The chosen main content as an HTML fragment, and which extractor produced it."""

    html: str
    method: str  # "trafilatura" | "trafilatura-default" | "readability" | "json-ld" | "none"
    text: str  # plain-text rendering of `html`, for checks and the excerpt fallback


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _shingles(words: list[str], n: int = 4) -> Counter:
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))


def _contained(part: list[str], whole: list[str]) -> float:
    """Share of `part`'s word 4-grams that also occur in `whole`."""
    a, b = _shingles(part), _shingles(whole)
    return sum((a & b).values()) / max(1, sum(a.values()))


def _trafilatura_html(html: str, url: str | None, **options: bool) -> str:
    """trafilatura's body as HTML; links and formatting kept only when they lose no text.

    With `include_links` trafilatura occasionally drops the text next to a link, so the richer
    markup is used only when its words equal those of the plain extraction.
    """
    import trafilatura

    common = dict(url=url, include_comments=False, include_tables=True, output_format="html", **options)
    plain = trafilatura.extract(html, **common) or ""
    if not plain:
        return ""
    rich = trafilatura.extract(html, include_links=True, include_formatting=True, **common) or ""
    from archiver.text import html_to_text

    if rich and _words(html_to_text(rich)) == _words(html_to_text(plain)):
        return _inner_body(rich)
    return _inner_body(plain)


def _inner_body(document: str) -> str:
    """trafilatura wraps its HTML output in <html><body>; keep only the body's content."""
    match = re.search(r"<body[^>]*>(.*)</body>", document, re.DOTALL | re.IGNORECASE)
    return (match.group(1) if match else document).strip()


def _readability_html(html: str) -> str:
    from readability import Document

    try:
        return Document(html).summary(html_partial=True)
    except Exception:  # readability raises its own Unparseable and lxml errors on odd pages
        return ""


def extract_content(html: str, url: str | None = None, json_ld_body: str | None = None) -> Content:
    """Choose the page's main content from trafilatura, readability-lxml and JSON-LD `articleBody`."""
    from html import escape

    from archiver.text import html_to_text

    candidates: dict[str, str] = {"trafilatura": _trafilatura_html(html, url, favor_precision=True)}
    candidates["readability"] = _readability_html(html)
    texts = {name: html_to_text(body) for name, body in candidates.items()}
    words = {name: _words(text) for name, text in texts.items()}

    chosen = "trafilatura"
    if len(words["trafilatura"]) < MIN_WORDS:
        # precision mode found (almost) nothing: try trafilatura's default mode, then readability
        candidates["trafilatura-default"] = _trafilatura_html(html, url)
        texts["trafilatura-default"] = html_to_text(candidates["trafilatura-default"])
        words["trafilatura-default"] = _words(texts["trafilatura-default"])
        for name in ("trafilatura-default", "readability"):
            if len(words[name]) >= MIN_WORDS:
                chosen = name
                break
        else:
            if json_ld_body and len(_words(json_ld_body)) >= MIN_WORDS:
                paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\r?\n", json_ld_body) if p.strip()]
                body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
                return Content(body, "json-ld", "\n\n".join(paragraphs))
            chosen = max(words, key=lambda name: len(words[name]))
    elif (
        len(words["readability"]) >= LONGER_RATIO * len(words["trafilatura"])
        and _contained(words["trafilatura"], words["readability"]) >= CONTAINED
    ):
        chosen = "readability"

    if not words[chosen]:
        return Content("", "none", "")
    return Content(candidates[chosen], chosen, texts[chosen])
