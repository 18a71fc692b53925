"""What a sitemap source has already fetched: one record per page URL and per sitemap document.

A sitemap lists up to 50,000 URLs and an index up to 50,000 sitemaps: far more than a source's
own record can hold, and more than a job should keep in memory. So the pages fetched (with the
`lastmod` they had) and the sitemap documents read (validators, the `lastmod` their index gave,
whether every entry of theirs was handled, in which pass) live as records of their own, asked
for in batches: `CrawlStore` in the table for jobs, `MemoryCrawl` for one-off fetches and tests.

A page is new when it has no record, or when its `lastmod` is newer than the one recorded: an
exact set, not a date alone, so pages sharing one `lastmod` across a per-run cap are all fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class CrawlMemory(Protocol):
    def pages(self, source_id: str, urls: Iterable[str]) -> dict[str, str]:
        """The recorded `lastmod` ("" for none) of those of `urls` already fetched."""
        ...

    def mark_pages(self, source_id: str, pages: dict[str, str]) -> None:
        """Record pages as fetched, each with its `lastmod` ("" for none)."""
        ...

    def document(self, source_id: str, url: str) -> dict[str, Any] | None: ...

    def mark_document(self, source_id: str, url: str, record: dict[str, Any]) -> None: ...

    def forget(self, source_id: str) -> None:
        """Drop every record of the source (it was removed)."""
        ...


class MemoryCrawl:
    """CrawlMemory in a dict: for `archiver fetch` of an unregistered URL, and tests."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], str] = {}
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}

    def pages(self, source_id: str, urls: Iterable[str]) -> dict[str, str]:
        return {url: self._pages[(source_id, url)] for url in urls if (source_id, url) in self._pages}

    def mark_pages(self, source_id: str, pages: dict[str, str]) -> None:
        self._pages.update({(source_id, url): lastmod for url, lastmod in pages.items()})

    def document(self, source_id: str, url: str) -> dict[str, Any] | None:
        record = self._documents.get((source_id, url))
        return dict(record) if record is not None else None

    def mark_document(self, source_id: str, url: str, record: dict[str, Any]) -> None:
        self._documents[(source_id, url)] = dict(record)

    def forget(self, source_id: str) -> None:
        for store in (self._pages, self._documents):
            for key in [k for k in store if k[0] == source_id]:
                del store[key]
