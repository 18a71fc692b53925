"""A standalone, readable index.html for an archived post: no scripts, no external resources."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from archiver.model import Post

# Nothing remote: a remote image would tell its host (often a tracker) who reads the archive and
# when. Until its images are archived (archiver.media) the page shows their alt text; then its
# <img> point at the archive's own copies, which 'self' lets load.
CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"

_STYLE = """
:root { color-scheme: light dark; }
body { margin: 0 auto; padding: 2rem 1.25rem 4rem; max-width: 42rem;
  font: 1.125rem/1.65 Georgia, "Iowan Old Style", "Times New Roman", serif; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .5rem; }
header p, footer, .terms { font: .9rem/1.5 system-ui, sans-serif; color: GrayText; }
img, video, iframe { max-width: 100%; height: auto; }
pre { overflow-x: auto; padding: .75rem; background: rgba(127,127,127,.12); }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
blockquote { margin: 1rem 0; padding-left: 1rem; border-left: 3px solid rgba(127,127,127,.5); }
table { border-collapse: collapse; } td, th { border: 1px solid rgba(127,127,127,.4); padding: .25rem .5rem; }
a { color: LinkText; word-break: break-word; }
.terms span { display: inline-block; margin-right: .5rem; }
footer { margin-top: 3rem; border-top: 1px solid rgba(127,127,127,.4); padding-top: 1rem; }
""".strip()


def render_post_html(post: Post, media: Mapping[str, str] | None = None) -> str:
    """The post as one HTML5 page; metadata is escaped, the (already sanitized) body inserted as is.

    `media` maps an image's `src` as written in the body (or the lead image's URL) to its archived copy,
    a link relative to the page: those `<img>` show the copy; the lead image, when the body does not
    show it, opens the article.
    """
    title = post.title or "Untitled"
    lang = post.language or "und"
    head = [
        "<!doctype html>",
        f'<html lang="{_attr(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_attr(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(title)}</title>",
    ]
    if post.canonical_url and _is_http(post.canonical_url):
        head.append(f'<link rel="canonical" href="{_attr(post.canonical_url)}">')
    if post.authors:
        head.append(f'<meta name="author" content="{_attr(", ".join(post.authors))}">')
    if post.excerpt:
        head.append(f'<meta name="description" content="{_attr(post.excerpt)}">')
    head += [f"<style>\n{_STYLE}\n</style>", "</head>"]

    header = ["<header>", f"<h1>{escape(title)}</h1>"]
    byline = []
    if post.authors:
        byline.append(f'<span class="byline">By {escape(", ".join(post.authors))}</span>')
    if post.published_at:
        byline.append(f'<time datetime="{_attr(post.published_at)}">{escape(_day(post.published_at))}</time>')
    if post.updated_at and post.updated_at != post.published_at:
        byline.append(
            f'<span class="updated">updated <time datetime="{_attr(post.updated_at)}">'
            f"{escape(_day(post.updated_at))}</time></span>"
        )
    if byline:
        header.append(f"<p>{' · '.join(byline)}</p>")
    links = []
    if post.url:
        links.append(_link(post.url, "Original post"))
    if post.canonical_url and post.canonical_url != post.url:
        links.append(_link(post.canonical_url, "Canonical URL", rel="canonical"))
    if links:
        header.append(f"<p>{' · '.join(links)}</p>")
    terms = [f"<span>Category: {escape(c)}</span>" for c in post.categories]
    terms += [f"<span>#{escape(t)}</span>" for t in post.tags]
    if terms:
        header.append(f'<p class="terms">{"".join(terms)}</p>')
    header.append("</header>")

    footer = ["<footer>"]
    source_name = (post.source.get("site_name") or post.source.get("name")) if post.source else None
    if post.source_link:
        footer.append(f"<p>Source: {_link(post.source_link, source_name or post.source_link)}</p>")
    elif source_name:
        footer.append(f"<p>Source: {escape(str(source_name))}</p>")
    footer.append(f"<p>Archived {escape(_day(post.archived_at))} · id <code>{escape(post.id)}</code></p>")
    footer.append("</footer>")

    content = with_archived_images(post.content_html, media) if media else post.content_html
    lead = media.get(post.image) if media and post.image else None
    if lead and not any(image.get("src") == post.image for image in post.images):
        content = f'<figure class="lead"><img src="{_attr(lead)}" alt=""></figure>\n{content}'
    body = [
        "<body>",
        "<article>",
        *header,
        f'<div class="content">\n{content}\n</div>',
        *footer,
        "</article>",
        "</body>",
        "</html>",
    ]
    return "\n".join(head + body) + "\n"


def with_archived_images(content_html: str, media: Mapping[str, str]) -> str:
    """The body with each `<img>` whose `src` has an archived copy pointing at that copy."""
    if "<img" not in content_html:
        return content_html
    from lxml import etree
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(content_html, create_parent="div")
    for img in root.iter("img"):
        archived = media.get(img.get("src") or "")
        if archived:
            img.set("src", archived)
    return (root.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)


def _attr(value: str) -> str:
    return escape(str(value), quote=True)


def _link(url: str, text: str, *, rel: str | None = None) -> str:
    """An anchor for http(s) URLs only; anything else (javascript:, data:) stays plain text."""
    if not _is_http(url):
        return escape(f"{text}: {url}")
    rel_attr = f"{rel} noopener noreferrer" if rel else "noopener noreferrer"
    return f'<a href="{_attr(url)}" rel="{rel_attr}">{escape(str(text))}</a>'


def _is_http(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:  # "https://[x": shown as text, never as a link
        return False


def _day(iso: str | None) -> str:
    """The date part of an ISO timestamp, for display (the full value stays in datetime=)."""
    return (iso or "")[:10]
