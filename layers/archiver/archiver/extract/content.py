"""Main-content extraction: one trafilatura pass, readability-lxml as a second opinion where it may help.

Measured on scrapinghub/article-extraction-benchmark (see docs/evaluation.md): trafilatura in precision
mode is the best single extractor, but it sometimes returns a fragment (one section of the article, or a
print notice) where readability-lxml finds the whole story. Those fragments hold a small share of the page's
own text, so readability runs only there (`READABILITY_SHARE`), and its body is chosen from how the two
texts overlap, never from anything site-specific. On the benchmark that is readability on about a third
of the pages, for the F1 of running both everywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

# Below this many words an extraction is treated as failed and a longer candidate is preferred.
MIN_WORDS = 50
# Readability's body replaces trafilatura's when it is this many times longer...
LONGER_RATIO = 2.0
# ...and holds at least this share of trafilatura's word 4-grams (trafilatura got a fragment).
CONTAINED = 0.9
# readability is asked only when trafilatura's text is under this share of the page's words: the fragments
# it replaced on the benchmark held 6-36 % of their page; a whole article usually holds over 40 %.
READABILITY_SHARE = 0.4
_VISIBLE_TEXT = "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"

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


def _trafilatura_html(page: Any, url: str | None, **options: bool) -> str:
    """trafilatura's body as HTML, with links and inline formatting; `page` is markup or a parsed tree
    (trafilatura copies a tree it is given)."""
    import trafilatura

    document = trafilatura.extract(page, url=url, include_comments=False, include_tables=True, output_format="html",
                                   include_links=True, include_formatting=True, **options) or ""
    return _inner_body(document) if document else ""


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


def extract_content(html: str, url: str | None = None, json_ld_body: str | None = None, *,
                    tree: Any = None) -> Content:
    """Choose the page's main content from trafilatura, readability-lxml and JSON-LD `articleBody`.

    `tree` is the page already parsed (lxml): trafilatura reads a copy of it instead of parsing again.
    """
    from html import escape

    from archiver.text import html_to_text

    candidates: dict[str, str] = {"trafilatura": _trafilatura_html(tree if tree is not None else html, url,
                                                                   favor_precision=True)}
    texts = {"trafilatura": html_to_text(candidates["trafilatura"])}
    words = {"trafilatura": _words(texts["trafilatura"])}

    def second_opinion(name: str, body: str) -> None:
        candidates[name] = body
        texts[name] = html_to_text(body)
        words[name] = _words(texts[name])

    chosen = "trafilatura"
    if len(words["trafilatura"]) < MIN_WORDS:
        # precision mode found (almost) nothing: try trafilatura's default mode, then readability
        second_opinion("trafilatura-default", _trafilatura_html(tree if tree is not None else html, url))
        second_opinion("readability", _readability_html(html))
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
    elif len(words["trafilatura"]) < READABILITY_SHARE * _page_words(tree, html):
        second_opinion("readability", _readability_html(html))
        if (len(words["readability"]) >= LONGER_RATIO * len(words["trafilatura"])
                and _contained(words["trafilatura"], words["readability"]) >= CONTAINED):
            chosen = "readability"

    if not words[chosen]:
        return Content("", "none", "")
    return Content(candidates[chosen], chosen, texts[chosen])


def _page_words(tree: Any, html: str) -> int:
    """Words of the page's visible text (scripts and styles aside): what a fragment is a small share of."""
    if tree is None:
        from lxml import html as lxml_html

        tree = lxml_html.document_fromstring(html)
    return len(" ".join(tree.xpath(_VISIBLE_TEXT)).split())
