"""One normalizer for every format: RawPost -> Post (schema version 1).

Pure: no I/O, no clock unless `archived_at` is omitted. Dates are parsed, the body cleaned
and sanitized, text derived, ids and hashes computed.
"""

from __future__ import annotations

import html as html_lib
import json
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

from archiver import clean_html, dates, ids, stories
from archiver.model import Origin, Post, RawPost
from archiver.text import analyze

NORMALIZER_VERSION = "1.0.0"
MIN_LANGUAGE_TEXT = 40  # characters: shorter texts give unreliable guesses
LANGUAGE_SAMPLE = 5000  # characters: enough for a confident guess, bounded time for long posts
# Hints from format modules to the normalizer, not part of the archived document.
PROCESSING_HINTS = {"wpautop"}


def normalize(raw: RawPost, origin: Origin, *, archived_at: str | None = None,
              default_tz: tzinfo = UTC) -> Post:
    """Normalize one raw post found in an input from `origin`."""
    warnings = list(raw.warnings)
    url = _absolute(raw.url, raw.site_url)
    canonical_url = _absolute(raw.canonical_url, raw.site_url) or url
    body = raw.body
    template_tags = raw.format == "frontmatter"  # Liquid / Hugo tags only mean something in site sources
    if raw.body_format == "markdown":
        body = render_markdown(clean_html.strip_template_tags(body) if template_tags else body)
        template_tags = False  # done before rendering: `{% raw %}` text must not be stripped twice
    content_html = clean_html.clean(
        body,
        base_url=url or raw.site_url,
        template_tags=template_tags,
        autop=bool(raw.extra.get("wpautop")) and raw.body_format == "html",
    )
    content = analyze(content_html)
    title = _title(raw, content.text, warnings)
    published = _date(raw.published, "published", default_tz, warnings)
    updated = _date(raw.updated, "updated", default_tz, warnings)
    authors = [_plain(a) for a in raw.authors if _plain(a)]
    categories = [_plain(c) for c in raw.categories if _plain(c)]
    tags = [_plain(t) for t in raw.tags if _plain(t)]
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
        "site_url": raw.site_url,
        "original_id": raw.original_id,
    }
    site = ids.site_of(url or raw.site_url or canonical_url, source)
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
        image=_absolute(raw.image, url or raw.site_url),
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
        front_matter=raw.front_matter,
        extra={k: v for k, v in raw.extra.items() if k not in PROCESSING_HINTS},
        warnings=warnings,
    )


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, when the source did not declare one (None if unsure)."""
    if len(text) < MIN_LANGUAGE_TEXT:
        return None
    from archiver.language import guess  # CLD3: a few ms to import, paid only by posts without a language

    return guess(text[:LANGUAGE_SAMPLE])


def render_markdown(text: str) -> str:
    """CommonMark with tables and strikethrough; inline HTML passes through to the sanitizer."""
    from markdown_it import MarkdownIt  # only Markdown inputs pay for this import

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


def _title(raw: RawPost, text: str, warnings: list[str]) -> str:
    title = _plain(raw.title)
    if title:
        return title
    fallback = raw.extra.get("file_slug")
    if fallback:
        warnings.append("no title: derived from the file name")
        return fallback.replace("-", " ").strip().capitalize()
    first_line = text.split("\n", 1)[0][:120]
    warnings.append("no title: derived from the first line of text" if first_line else "no title")
    return first_line


def _date(value: Any, field: str, default_tz: tzinfo, warnings: list[str]) -> datetime | None:
    parsed = dates.parse_date(value, default_tz)
    if value not in (None, "") and parsed is None:
        warnings.append(f"{field} date not understood: {value!r}")
    return parsed


def _plain(value: Any) -> str:
    """Metadata text without HTML entities or tags (WordPress titles carry `&#8217;`)."""
    if value is None:
        return ""
    text = str(value)
    if "<" in text:  # tags go before entities are decoded: "&lt;script&gt;" in a title is text
        text = clean_html.nh3.clean(text, tags=set())
    return " ".join(html_lib.unescape(text).split())


def _absolute(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL, resolved against the site's URL when relative; else None."""
    url = html_lib.unescape((url or "").strip())
    if url and not ids.is_absolute_url(url) and ids.is_absolute_url(base):
        url = urljoin(base, url)
    return url if ids.is_absolute_url(url) else None
