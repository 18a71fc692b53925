"""One normalizer for every format: RawPost -> Post (schema version 1).

Pure: no I/O, no clock unless `archived_at` is omitted. Dates are parsed, the body cleaned
and sanitized, text derived, ids and hashes computed.
"""

from __future__ import annotations

import functools
import html as html_lib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

from archiver import clean_html, dates, ids, limits, mojibake, stories
from archiver.errors import PostTooLarge
from archiver.model import Origin, Post, RawPost
from archiver.text import analyze

NORMALIZER_VERSION = "1.1.0"
MIN_LANGUAGE_TEXT = 40  # characters: shorter texts give unreliable guesses
LANGUAGE_SAMPLE = 5000  # characters: enough for a confident guess, bounded time for long posts
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Hints from format modules to the normalizer, not part of the archived document.
PROCESSING_HINTS = {"wpautop"}
SITE_SOURCE_FORMATS = {"frontmatter", "pelican", "rst"}  # a static site's source files, not published pages
# Formatting that feeds and WordPress put in titles, names and excerpts; any other `<...>` is text.
_FORMATTING_TAG = re.compile(
    r"</?(a|abbr|b|bdi|bdo|big|blockquote|br|center|cite|code|del|dfn|div|em|font|h[1-6]|i|ins|kbd|li|mark|ol|"
    r"p|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|ul|var|wbr)\b[^<>]*>",
    re.IGNORECASE,
)
# C0 and C1 controls (tab, newline and carriage return are whitespace), bidi embeddings, overrides
# and isolates (U+202A-202E, U+2066-2069: "gnp.exe" shown as "exe.png"), and U+FFFE/U+FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_BREAKING = {"blockquote", "br", "center", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ol", "p", "ul"}
MAX_QUOTE_DEPTH = 32
MAX_MARKDOWN_NESTING = 64  # lists and quotes together; quotes alone stop at MAX_QUOTE_DEPTH
_DEEP_QUOTE = re.compile(rf"^(?:[ \t]{{0,3}}>[ \t]?){{{MAX_QUOTE_DEPTH + 1},}}", re.MULTILINE)
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]{0,32}[ -/]{0,4}[@-~]")  # ANSI/VT100 (colours, cursor)


def normalize(raw: RawPost, origin: Origin, *, archived_at: str | None = None,
              default_tz: tzinfo = UTC, max_post_bytes: int = limits.MAX_POST_BYTES) -> Post:
    """Normalize one raw post found in an input from `origin`.

    A body over `max_post_bytes` raises PostTooLarge: rendering and cleaning cost many times the
    body's size in memory, and the raw bytes are archived either way.
    """
    check_post_size(raw.body, max_post_bytes)
    raw = _repair_surrogates(_repair_encoding(raw))
    warnings = list(raw.warnings)
    # Relative links resolve against the document's own URL (RFC 3986) when known, else the site's.
    document_url = _document_url(raw, origin)
    site_url = _absolute(raw.site_url or origin.site_url, document_url, warnings, "site_url")
    url = _absolute(raw.url, document_url or site_url, warnings, "url")
    canonical_url = _absolute(raw.canonical_url, document_url or site_url, warnings, "canonical_url") or url
    base_url = url or site_url or document_url  # None: relative links stay as written
    root_url = None
    if not (url or document_url) and raw.format in SITE_SOURCE_FORMATS:
        # A site source file without its own URL: where it is published is unknown, so only links from the
        # site's root (`/img/x.png`) can be resolved; a page's own `x.png` stays relative (its bundle has it).
        base_url, root_url = None, site_url
    body = raw.body
    template_tags = raw.format == "frontmatter"  # Liquid / Hugo tags only mean something in site sources
    if raw.body_format == "markdown":
        body = flatten_quotes(body, warnings)
        body = render_markdown(clean_html.strip_template_tags(body, markdown=True) if template_tags else body)
        template_tags = False  # done before rendering: `{% raw %}` text must not be stripped twice
    content_html = clean_html.clean(
        body,
        base_url=base_url,
        root_url=root_url,
        template_tags=template_tags,
        autop=bool(raw.extra.get("wpautop")) and raw.body_format == "html",
    )
    content = analyze(content_html)
    title = _clipped(_title(raw, content_html, content.text, warnings), limits.MAX_TITLE_CHARS, "title", warnings)
    published = _date(raw.published, "published", default_tz, warnings)
    updated = _date(raw.updated, "updated", default_tz, warnings)
    authors = _terms(raw.authors, "authors", warnings)
    categories = _terms(raw.categories, "categories", warnings)
    tags = _terms(raw.tags, "tags", warnings)
    # What a reader sees: a change to any of it is a new version, a re-delivery is not.
    content_sha256 = ids.sha256_hex(json.dumps(
        [title, authors, dates.iso(published), dates.iso(updated), categories, tags, content_html],
        ensure_ascii=False,
    ))
    source = {
        "kind": origin.kind,
        "uri": origin.uri,
        "format": raw.format,
        "site_name": raw.site_name,
        "site_url": site_url or raw.site_url,
        "original_id": raw.original_id,
    }
    site = ids.site_of(url or site_url or canonical_url, source)
    return Post(
        id=ids.post_id(url=url, site=site, original_id=raw.original_id, content_sha256=content_sha256),
        url=url,
        canonical_url=canonical_url,
        story_id=ids.story_id(canonical_url=canonical_url, url=url, content_sha256=content_sha256),
        source=source,
        title=title,
        authors=authors,
        published_at=dates.iso(published),
        updated_at=dates.iso(updated),
        status=raw.status,
        categories=categories,
        tags=tags,
        excerpt=_plain(raw.excerpt) or None,
        language=raw.language or detect_language(content.text),
        image=_absolute(raw.image, base_url, warnings, "image"),
        content_html=content_html,
        text=content.text,
        word_count=content.word_count,
        reading_time_minutes=content.reading_time_minutes,
        links=content.links,
        images=content.images,
        source_link=content.source_link,
        content_sha256=content_sha256,
        fingerprint=stories.fingerprint(content.text),
        normalizer_version=NORMALIZER_VERSION,
        archived_at=archived_at or datetime.now(UTC).isoformat(timespec="seconds"),
        front_matter=limits.json_safe(raw.front_matter, "front_matter", warnings),
        extra=limits.json_safe({k: v for k, v in raw.extra.items() if k not in PROCESSING_HINTS}, "extra", warnings),
        warnings=warnings,
    )


def _repair_encoding(raw: RawPost) -> RawPost:
    """The post's text fields as written when they were UTF-8 decoded twice (see archiver.mojibake)."""
    repaired = replace(raw, **_each_text_field(raw, mojibake.repair))
    if repaired == raw:
        return raw
    # Known to be double-encoded now: what is left of its no-break spaces goes too, in every field.
    repaired = replace(repaired, **_each_text_field(repaired, mojibake.repair_lost_no_break_spaces))
    changed = [name for name in (*_TEXT_FIELDS, *_TERM_FIELDS) if getattr(repaired, name) != getattr(raw, name)]
    return replace(repaired, warnings=[*raw.warnings, f"{mojibake.WARNING}: {', '.join(changed)}"])


def _repair_surrogates(raw: RawPost) -> RawPost:
    """Lone UTF-16 surrogates (from a `\ud800` escape in JSON or YAML) as U+FFFD, with a warning naming the
    fields: no UTF-8 document could hold them. (front_matter and extra are repaired by limits.json_safe.)"""
    fields = (raw.title, raw.body, raw.excerpt, raw.url, raw.canonical_url, raw.image, raw.site_name, raw.site_url,
              raw.original_id, *raw.authors, *raw.categories, *raw.tags)
    if not any(isinstance(f, str) and limits.LONE_SURROGATE.search(f) for f in fields):
        return raw

    def fix(value: Any) -> Any:
        return limits.LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    repaired = replace(raw, **_each_text_field(raw, fix), **{name: fix(getattr(raw, name)) for name in _URL_FIELDS})
    changed = [name for name in (*_TEXT_FIELDS, *_TERM_FIELDS, *_URL_FIELDS)
               if getattr(repaired, name) != getattr(raw, name)]
    return replace(repaired, warnings=[*raw.warnings, f"{', '.join(changed)}: {limits.SURROGATE_NOTE}"])


_URL_FIELDS = ("url", "canonical_url", "image", "site_name", "site_url", "original_id")
_TEXT_FIELDS = ("title", "body", "excerpt")
_TERM_FIELDS = ("authors", "categories", "tags")


def _each_text_field(raw: RawPost, fix: Any) -> dict[str, Any]:
    return {**{name: fix(getattr(raw, name)) for name in _TEXT_FIELDS},
            **{name: [fix(v) if isinstance(v, str) else v for v in getattr(raw, name)] for name in _TERM_FIELDS}}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, when the source did not declare one (None if unsure)."""
    if len(text) < MIN_LANGUAGE_TEXT:
        return None
    from archiver.language import guess  # CLD3: a few ms to import, paid only by posts without a language

    return guess(text[:LANGUAGE_SAMPLE])


def flatten_quotes(text: str, warnings: list[str]) -> str:
    """Quotes nested deeper than MAX_QUOTE_DEPTH flattened to that depth (with a warning): the renderer's
    own nesting limit would drop their text."""
    if ">" * (MAX_QUOTE_DEPTH + 1) not in text.replace(" ", "") or not _DEEP_QUOTE.search(text):
        return text
    warnings.append(f"Markdown quotes nested over {MAX_QUOTE_DEPTH} levels: flattened, text kept")
    return _DEEP_QUOTE.sub("> " * MAX_QUOTE_DEPTH, text)


def render_markdown(text: str) -> str:
    """CommonMark with tables, strikethrough and footnotes (`[^1]`); inline HTML passes through to the sanitizer."""
    return _markdown().render(text)


@functools.cache  # one renderer per process: building it costs about a millisecond, rendering keeps no state in it
def _markdown() -> Any:
    from markdown_it import MarkdownIt  # only Markdown inputs pay for this import
    from mdit_py_plugins.footnote import footnote_plugin

    # Nesting beyond maxNesting is dropped by markdown-it: deep quotes are flattened first (flatten_quotes).
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_MARKDOWN_NESTING})
    md.enable(["table", "strikethrough"]).use(footnote_plugin)
    md.add_render_rule("footnote_anchor", lambda *args: "")  # the "↩︎" back-link is navigation, not text
    return md


def _title(raw: RawPost, content_html: str, text: str, warnings: list[str]) -> str:
    title = _plain(raw.title)
    if title:
        return title
    heading = _first_heading(content_html)
    if heading:
        warnings.append("no title: taken from the first heading of the body")
        return heading
    fallback = raw.extra.get("file_slug")
    if fallback:
        warnings.append("no title: derived from the file name")
        # Jekyll's titleize_slug, what the site showed: every word capitalized ("march-the-second").
        return " ".join(word[:1].upper() + word[1:] for word in fallback.replace("_", "-").split("-") if word)
    first_line = text.split("\n", 1)[0][:120]
    warnings.append("no title: derived from the first line of text" if first_line else "no title")
    return first_line


def _date(value: Any, field: str, default_tz: tzinfo, warnings: list[str]) -> datetime | None:
    parsed = dates.parse_date(value, default_tz)
    if value not in (None, "") and parsed is None:
        warnings.append(f"{field} date not understood: {value!r}")
    return parsed


def _first_heading(content_html: str) -> str:
    """The text of the body's first <h1>, or of the heading the body opens with (a later <h2> names a
    section, not the post)."""
    if "<h" not in content_html:
        return ""
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(content_html, create_parent="div")
    first = next((child for child in root if isinstance(child.tag, str)), None)
    heading = next(root.iter("h1"), None)
    if heading is None and first is not None and first.tag in _HEADINGS:
        heading = first
    return " ".join(heading.text_content().split())[:300] if heading is not None else ""


def _terms(values: list[Any], field: str, warnings: list[str]) -> list[str]:
    """Plain, non-empty names, at most MAX_TERMS of MAX_TERM_CHARS each: the post's record in the
    table holds them and an item is limited to 400 KB. All of them stay in `front_matter`."""
    terms = [_clipped(term, limits.MAX_TERM_CHARS, field, warnings) for term in map(_plain, values) if term]
    if len(terms) > limits.MAX_TERMS:
        warnings.append(f"{field}: {len(terms)} values, the first {limits.MAX_TERMS} kept")
        terms = terms[: limits.MAX_TERMS]
    return terms


def _clipped(text: str, limit: int, field: str, warnings: list[str]) -> str:
    if len(text) <= limit:
        return text
    warnings.append(f"{field}: {len(text)} characters, cut to {limit}")
    return text[:limit].rstrip() + "\u2026"


def check_post_size(body: str, max_post_bytes: int) -> None:
    """Raise PostTooLarge when the body's UTF-8 form is over `max_post_bytes`."""
    if len(body) * 4 <= max_post_bytes:  # cheap: no character takes more than 4 bytes
        return
    size = len(body) if len(body) > max_post_bytes else len(body.encode("utf-8", "surrogatepass"))
    if size > max_post_bytes:
        raise PostTooLarge(f"post body of {size / 1024**2:.1f} MiB is over the {max_post_bytes / 1024**2:.1f} MiB "
                           "limit (MAX_POST_BYTES); its raw bytes are archived")


def _plain(value: Any) -> str:
    """Metadata text without HTML entities, formatting tags or control characters.

    WordPress titles carry `&#8217;`, feed titles `<em>`; only formatting tags go, and never their
    text: "Using the <template> element" is a title about HTML, not markup. Tags go before entities
    are decoded ("&lt;script&gt;" in a title is text), controls and bidi overrides after (they can
    come from entities too).
    """
    if value is None:
        return ""
    text = str(value)
    if "<" in text:
        text = _FORMATTING_TAG.sub(lambda m: " " if m[1].lower() in _BREAKING else "", text)
    return " ".join(strip_controls(html_lib.unescape(text)).split())


def _document_url(raw: RawPost, origin: Origin) -> str | None:
    """The URL of the document the post came from: a feed's self link, else the URL it was fetched from."""
    for candidate in (raw.extra.get("feed_url"), origin.uri if origin.kind == "url" else None):
        if clean_html.usable_base(candidate):
            return candidate
    return None


def strip_controls(text: str) -> str:
    """The text without control characters (terminal escape sequences whole) and bidi overrides."""
    return _UNSAFE.sub(" ", _ESCAPE_SEQUENCE.sub("", text)) if _UNSAFE.search(text) else text


def _absolute(url: str | None, base: str | None = None, warnings: list[str] | None = None,
              field: str = "url") -> str | None:
    """An absolute http(s) URL, resolved against the site's URL when relative; else None.

    Control characters and bidi overrides are removed (a URL cannot hold them; an override can
    disguise one), and the value as found is kept in a warning.
    """
    url = html_lib.unescape((url or "").strip())
    if _UNSAFE.search(url):
        if warnings is not None:
            warnings.append(f"{field}: control or bidi characters removed from {url[:300]!r}")
        url = _UNSAFE.sub("", _ESCAPE_SEQUENCE.sub("", url)).strip()
    if url and not ids.is_absolute_url(url) and ids.is_absolute_url(base):
        try:
            url = urljoin(base, url)
        except ValueError:  # not a URL at all ("https://[x": an unbalanced IPv6 host)
            return None
    return url if ids.is_absolute_url(url) else None
