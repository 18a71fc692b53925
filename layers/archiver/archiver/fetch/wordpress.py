"""A WordPress site through its REST API: the posts modified since the cursor, page after page."""

from __future__ import annotations

from urllib.parse import urlencode

from archiver.fetch.context import FetchContext, OutOfTime
from archiver.fetch.documents import archive_document
from archiver.fetch.report import FetchReport
from archiver.model import Source


def fetch_wordpress(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """The REST API's posts modified since the cursor, oldest change first, page after page.

    The query stays the same for the whole pass (page numbers refer to it); the cursor moves to
    the newest change seen when the pass ends. A pass cut short keeps its progress less a second,
    so that posts sharing the last timestamp across a page boundary are asked for again, not lost.
    """
    since, newest = source.cursor, None
    try:
        for page in range(1, ctx.max_pages + 1):
            response = ctx.get(wp_posts_url(source.url, page=page, modified_after=since, per_page=ctx.wp_per_page))
            report.http_status = response.status
            if page == 1 and response.permanent_url and "wp/v2/posts" in response.permanent_url:
                source.url = report.url = response.permanent_url[: response.permanent_url.index("wp/v2/posts")]
            if response.body.strip() in (b"", b"[]"):
                break
            posts = archive_document(source, ctx, response, report, full="never")
            modified = [p.front_matter["modified"] for p in posts if isinstance(p.front_matter.get("modified"), str)]
            newest = max([newest or "", *modified]) or None
            if page >= int(response.headers.get("x-wp-totalpages") or 1):
                break
    except OutOfTime:
        if newest:
            source.cursor = max(source.cursor or "", _second_before(newest))
        raise
    if newest:
        source.cursor = max(source.cursor or "", newest)


def _second_before(stamp: str) -> str:
    from datetime import datetime, timedelta

    try:
        return (datetime.fromisoformat(stamp) - timedelta(seconds=1)).isoformat()
    except ValueError:
        return stamp


def wp_posts_url(api_root: str, *, page: int, modified_after: str | None, per_page: int = 100) -> str:
    """The posts endpoint under a REST API root (`/wp-json/` or `?rest_route=/`), oldest change first."""
    params = {"per_page": per_page, "page": page, "_embed": 1, "orderby": "modified", "order": "asc"}
    if modified_after:
        params["modified_after"] = modified_after
    query = urlencode(params)
    if api_root.endswith("rest_route=/"):
        return f"{api_root}wp/v2/posts&{query}"
    return f"{api_root.rstrip('/')}/wp/v2/posts?{query}"
