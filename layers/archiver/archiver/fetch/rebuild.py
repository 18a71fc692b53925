"""A post rebuilt from its page fetched again, exactly as the fetch built it the first time.

Two ways, as `documents` builds posts: a page archived for itself (an article or sitemap source) is parsed
again whole; a feed entry completed by its page keeps the entry's own fields, as its stored version has them,
with the page's article as its body. So an unchanged page gives the same content hash (the store finds a
duplicate and writes nothing), and a change is one the page made. No network, no AWS: a page in, a RawPost out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver import formats
from archiver.errors import ParseError
from archiver.extract.leading_title import drop_repeated_title
from archiver.model import RawPost

if TYPE_CHECKING:
    from archiver.model import Input


def page_post(item: Input, url: str | None) -> RawPost:
    """The post of a page archived for itself; of a page holding several (an h-feed), the one at `url`."""
    raw_posts = formats.parse(item)
    chosen = raw_posts[0] if len(raw_posts) == 1 else next((r for r in raw_posts if url and r.url == url), None)
    if chosen is None:
        raise ParseError(f"the page holds {len(raw_posts)} posts, none at {url}", code="post_not_found")
    if chosen.body_format == "html":  # as the fetch did: a page's article often opens with its title
        chosen.body = drop_repeated_title(chosen.body, chosen.title)
    return chosen


def entry_with_page(document: dict[str, Any], item: Input, raw_key: str) -> RawPost:
    """A feed entry completed by its page: its stored fields, the page's article as body (see the docstring)."""
    from archiver.formats import html_page

    page = next(html_page.parse(item))
    source = document.get("source") or {}
    extra = {**(document.get("extra") or {}),
             "full_article": {"url": item.origin.uri, "raw_key": raw_key, "extractor": page.extra.get("extractor")}}
    return RawPost(
        format=source.get("format") or "html", body=drop_repeated_title(page.body, document.get("title")),
        body_format="html", title=document.get("title"), url=document.get("url"),
        canonical_url=document.get("canonical_url"), original_id=source.get("original_id"),
        authors=list(document.get("authors") or []), published=document.get("published_at"),
        updated=document.get("updated_at"), categories=list(document.get("categories") or []),
        tags=list(document.get("tags") or []), excerpt=document.get("excerpt"),
        status=document.get("status") or "publish", language=document.get("language"), image=document.get("image"),
        site_name=source.get("site_name"), site_url=source.get("site_url"),
        front_matter=dict(document.get("front_matter") or {}), extra=extra)
