"""A sitemap source: the pages its sitemap (or its child sitemaps) lists, changed since the cursor."""

from __future__ import annotations

from archiver.fetch.context import FetchContext
from archiver.fetch.documents import archive_document, keep_validators
from archiver.fetch.errors import FetchError
from archiver.fetch.report import FetchReport
from archiver.model import Failure, Source


def fetch_sitemap(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """Pages listed in the sitemap (or its child sitemaps) changed since the cursor, oldest first."""
    from archiver.fetch.sitemap import parse_sitemap

    response = ctx.get(source.url, validators=source.validators.get(source.url))
    report.http_status = response.status
    if response.not_modified:
        report.status = "not_modified"
        return
    sitemap = parse_sitemap(response.body)
    entries = list(sitemap.entries)
    if sitemap.is_index:
        entries = []
        for child in sitemap.entries:
            if source.cursor and child.lastmod and child.lastmod <= source.cursor:
                continue
            child_response = ctx.get(child.url, validators=source.validators.get(child.url))
            if child_response.not_modified:
                continue
            entries += parse_sitemap(child_response.body).entries
            keep_validators(source, child.url, child_response)
    fresh = [e for e in entries if _is_new(e.lastmod, e.url, source)]
    fresh.sort(key=lambda e: e.lastmod or "")
    for entry in fresh[: ctx.max_articles]:
        try:
            page = ctx.get(entry.url)
        except FetchError as exc:
            report.error = Failure(exc.code, exc.stage, f"{entry.url}: {exc.message}")
            continue  # one missing page does not fail the sitemap
        archive_document(source, ctx, page, report, full="never", seen_key=entry.url,
                          seen_digest=entry.lastmod or "-")
        if entry.lastmod:
            source.cursor = max(source.cursor or "", entry.lastmod)
    keep_validators(source, source.url, response)


def _is_new(lastmod: str | None, url: str, source: Source) -> bool:
    if lastmod is None:
        return url not in source.seen
    return source.cursor is None or lastmod > source.cursor
