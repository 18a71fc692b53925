"""A WordPress site through its REST API: the posts modified since the cursor, page after page."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from archiver.fetch.context import FetchContext, OutOfTime, RunCapReached
from archiver.fetch.discover import link_target
from archiver.fetch.documents import archive_document
from archiver.fetch.errors import HttpError
from archiver.fetch.report import FetchReport
from archiver.model import Source

if TYPE_CHECKING:
    from archiver.fetch.http import Response


def fetch_wordpress(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """The REST API's posts modified since the cursor, oldest change first, page after page.

    The query stays the same for the whole pass (page numbers refer to it). After each page the
    cursor is kept, less a second (posts sharing the last timestamp across a page boundary are
    asked for again, not lost), and saved; when the pass ends it moves to the newest change seen.
    The next page is what `X-WP-TotalPages` says, else the `Link: rel="next"`, else a full page
    asks for one more. A pass longer than `max_pages` pages resumes at the next run.
    """
    since, newest = source.cursor, None
    url = wp_posts_url(source.url, page=1, modified_after=since, per_page=ctx.wp_per_page)
    try:
        for page in range(1, ctx.max_pages + 1):
            try:
                response = ctx.get(url)
            except HttpError as exc:
                if page > 1 and exc.status == 400:  # rest_post_invalid_page_number: past the last page
                    break
                raise
            report.http_status = response.status
            if page == 1 and response.permanent_url and "wp/v2/posts" in response.permanent_url:
                source.url = report.url = response.permanent_url[: response.permanent_url.index("wp/v2/posts")]
            if response.body.strip() in (b"", b"[]"):
                break
            posts = archive_document(source, ctx, response, report, full="never")
            modified = [p.front_matter["modified"] for p in posts if isinstance(p.front_matter.get("modified"), str)]
            newest = max([newest or "", *modified]) or None
            if newest:
                source.cursor = max(source.cursor or "", _second_before(newest))
                ctx.checkpoint(source)
            url = _next_page(response, source.url, page, len(posts), since, ctx.wp_per_page)
            if url is None:
                break
        else:
            raise RunCapReached  # more pages than one run's share: the saved cursor resumes them
    except OutOfTime:
        if newest:
            source.cursor = max(source.cursor or "", _second_before(newest))
        raise
    if newest:
        source.cursor = max(source.cursor or "", newest)


def page_count(header: str | None) -> int | None:
    """X-WP-TotalPages as a number; None when absent or not a whole number (`NaN`, `1e9`, `-1`)."""
    value = (header or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _next_page(response: Response, api_root: str, page: int, count: int, since: str | None,
               per_page: int) -> str | None:
    """The URL of the page after `page`, or None when this was the last."""
    total = page_count(response.headers.get("x-wp-totalpages"))
    if total is not None:
        return wp_posts_url(api_root, page=page + 1, modified_after=since, per_page=per_page) if page < total else None
    following = link_target(response.headers.get("link"), "next", response.final_url)
    if following and urlsplit(following).netloc == urlsplit(response.final_url).netloc:
        return following  # WordPress's own link; another host's is not followed
    if count >= per_page:  # no count and no link: a full page may have a next one (a 400 ends it)
        return wp_posts_url(api_root, page=page + 1, modified_after=since, per_page=per_page)
    return None


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
