"""A sitemap source: every page its sitemaps list, each fetched once (again when its `lastmod` moves on).

The sitemaps are walked depth first, in document order, from the source's roots (its URL, or the
sitemaps a site's robots.txt and well-known paths gave): indexes nested to any depth up to
MAX_DEPTH, loops cut, a document listed twice read once per pass. Pages are taken in batches; a
page is fetched when the crawl records (see `crawl`) do not have it, or have an older `lastmod`.

The walk is resumable: `source.progress` keeps the pass number and the path from the roots to the
document being read, each with the position reached (`walk: [[url, position, digest], ...]`). It
is saved after every batch of pages and whenever the job stops; the next run opens that path
again and goes on from the position (from the start of a document whose bytes changed: the crawl
records then say which pages are new). Only the open path is held in memory, never the tree.

A leaf sitemap handled completely is recorded with its validators: in a later pass it is skipped
when its index gives the same `lastmod`, or asked for conditionally (a 304 skips it). An index
keeps its children in its record (up to KEPT_CHILDREN), so that a 304 is enough to walk it again. A child that
cannot be fetched or read is the source's warning (`error`), not its failure; only roots that all
fail fail the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from archiver.errors import ArchiverError
from archiver.fetch.context import FetchContext, RunCapReached
from archiver.fetch.documents import archive_document
from archiver.fetch.errors import FetchError, HttpError, RobotsDisallowed, UnsafeURL
from archiver.fetch.report import FetchReport
from archiver.fetch.sitemap import MAX_INFLATED, SitemapEntry, read_sitemap
from archiver.fetch.sitemap_discovery import robots_sitemaps
from archiver.model import Failure, Source

MAX_DEPTH = 11  # nested sitemaps below a root, at most (ultimate-sitemap-parser's limit)
BATCH = 100  # pages looked up in the crawl records at once, and between two saves of the walk
KEPT_CHILDREN = 1000  # an index with no more children than this keeps them in its record (well inside an item)
ROOTS = ""  # the walk's first frame: the source's roots, not a fetched document


@dataclass
class _Frame:
    """A document on the walk's path: an index (its children held) or a leaf (its pages streamed)."""

    url: str
    kind: str  # roots | index | urlset | feed | text
    digest: str = ""
    position: int = 0  # entries handled
    lastmod: str | None = None  # as its parent listed it
    validators: dict[str, str] = field(default_factory=dict)
    children: list[SitemapEntry] = field(default_factory=list)
    pages: Iterator[SitemapEntry] | None = None
    failed: int = 0  # pages that could not be fetched this time: the leaf is read again next pass

    @property
    def is_leaf(self) -> bool:
        return self.pages is not None


def fetch_sitemap(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """Walk the source's sitemaps from where the last run stopped; fetch the new and changed pages."""
    _Walk(source, ctx, report).run()


class _Walk:
    def __init__(self, source: Source, ctx: FetchContext, report: FetchReport):
        self.source = source
        self.ctx = ctx
        self.report = report
        self.crawl = ctx.crawl
        self.documents = 0  # sitemap documents fetched in this run
        self.pass_number = int(source.progress.get("pass") or 0)
        self.stack: list[_Frame] = []
        self.root_errors: list[Exception] = []
        self.roots_read = 0

    def run(self) -> None:
        saved = self.source.progress.get("walk") or []
        try:
            if saved:
                self._restore(saved)
            else:
                self.pass_number += 1
                self.stack = [_Frame(ROOTS, "roots", children=[SitemapEntry(url, None) for url in self._roots()])]
            while self.stack:
                frame = self.stack[-1]
                if frame.is_leaf:
                    self._read_pages(frame)
                else:
                    self._next_child(frame)
        finally:
            self._save()
        if self.root_errors and not self.roots_read:
            raise self.root_errors[0]  # not one root could be read: the source itself is failing

    # -- the path ------------------------------------------------------------------------------------------------------

    def _roots(self) -> list[str]:
        if not self.source.sitemaps:
            return [self.source.url]
        # A site: its robots.txt may name new sitemaps since it was added (read from the cache or the table).
        found = robots_sitemaps(self.ctx.robots.rules(self.source.url, within=self.ctx.time_left()).text)
        self.source.sitemaps = list(dict.fromkeys([*self.source.sitemaps, *found]))
        return self.source.sitemaps

    def _restore(self, saved: list) -> None:
        """Open the saved path again: its documents fetched again in full, each resumed at its position."""
        roots = _Frame(ROOTS, "roots", children=[SitemapEntry(url, None) for url in self._roots()])
        roots.position = int(saved[0][1])
        self.stack = [roots]
        for url, position, digest in saved[1:]:
            parent = self.stack[-1]
            listed = next((c for c in parent.children[parent.position:parent.position + 1] if c.url == url), None)
            frame = self._open(SitemapEntry(url, listed.lastmod if listed else None), resume=True)
            if frame is None:
                parent.position += 1
                return
            if frame.digest == digest:  # the same bytes: go on from where the last run stopped
                frame.position = int(position)
                if frame.is_leaf:
                    frame.pages = islice(frame.pages, frame.position, None)
            self.stack.append(frame)

    def _next_child(self, frame: _Frame) -> None:
        if frame.position >= len(frame.children):
            self._finish(frame)
            return
        child = frame.children[frame.position]
        if child.url in {f.url for f in self.stack} or len(self.stack) > MAX_DEPTH:
            self._warn(Failure("sitemap_loop", "fetch", f"{child.url}: listed by its own descendant, or "
                                                       f"nested deeper than {MAX_DEPTH} sitemaps: not read"))
            frame.position += 1
            return
        opened = self._open(child)
        if opened is None:
            frame.position += 1
        else:
            self.stack.append(opened)

    def _finish(self, frame: _Frame) -> None:
        """A document handled to its end: recorded (a leaf with nothing left to retry is complete; a small
        index keeps its children, so that next pass a 304 is enough to walk it)."""
        self.stack.pop()
        if frame.kind != "roots":
            record = {"kind": frame.kind, "lastmod": frame.lastmod or "", "complete": not frame.failed,
                      "pass": self.pass_number, "digest": frame.digest, **frame.validators}
            if frame.kind == "index" and len(frame.children) <= KEPT_CHILDREN:
                record["children"] = [[c.url, c.lastmod or ""] for c in frame.children]
            self.crawl.mark_document(self.source.id, frame.url, record)
        if self.stack:
            self.stack[-1].position += 1

    def _open(self, entry: SitemapEntry, *, resume: bool = False) -> _Frame | None:
        """Fetch and read a sitemap document; None when it is skipped (unchanged, read this pass) or failed."""
        record = self.crawl.document(self.source.id, entry.url) or {}
        is_root = len(self.stack) == 1
        validators = None
        if not resume and record.get("complete"):
            if record.get("pass") == self.pass_number:
                return None  # listed twice: read once per pass
            if record.get("kind") != "index" and entry.lastmod and record.get("lastmod") == entry.lastmod:
                self._carry(entry.url, record)
                return None  # its index says it has not changed: not even asked for
            if record.get("kind") != "index" or record.get("children") is not None:
                validators = {k: record[k] for k in ("etag", "last_modified") if record.get(k)} or None
        if self.documents >= self.ctx.max_sitemaps:
            raise RunCapReached  # this run's share of sitemap documents is read; the walk resumes here
        self.documents += 1
        try:
            response = self.ctx.get(entry.url, validators=validators, max_bytes=MAX_INFLATED)
            if response.not_modified:
                if is_root:
                    self.roots_read += 1
                if record.get("kind") == "index":  # unchanged: its children, as kept, are walked again
                    children = [SitemapEntry(url, lastmod or None) for url, lastmod in record["children"]]
                    return _Frame(entry.url, "index", digest=record.get("digest", ""), lastmod=entry.lastmod,
                                  validators=validators or {}, children=children)
                self._carry(entry.url, record)
                return None
            document = read_sitemap(response.body)
        except (FetchError, ArchiverError) as exc:
            if is_root:
                self.root_errors.append(exc)
            self._warn(Failure(getattr(exc, "code", "fetch_failed"), "fetch", f"sitemap {entry.url}: {exc}"))
            return None
        if is_root:
            self.roots_read += 1
        frame = _Frame(entry.url, document.kind, digest=hashlib.sha256(response.body).hexdigest()[:16],
                       lastmod=entry.lastmod, validators=response.validators.to_dict())
        if document.is_index:
            frame.children = list(document.entries)  # at most 50,000: the limit of one sitemap
        else:
            frame.pages = document.entries
        return frame

    def _carry(self, url: str, record: dict) -> None:
        """An unchanged complete document: counted as read in this pass."""
        self.crawl.mark_document(self.source.id, url, {**record, "pass": self.pass_number})

    # -- pages ---------------------------------------------------------------------------------------------------------

    def _read_pages(self, frame: _Frame) -> None:
        batch = list(islice(frame.pages, BATCH))
        if not batch:
            self._finish(frame)
            return
        known = self.crawl.pages(self.source.id, [entry.url for entry in batch])
        fetched: dict[str, str] = {}
        try:
            for entry in batch:
                lastmod = entry.lastmod or ""
                if (entry.url in known and known[entry.url] >= lastmod) or entry.url in fetched:
                    frame.position += 1
                    continue
                if self.report.pages >= self.ctx.max_articles:
                    raise RunCapReached  # the rest of the batch waits for the next run: position kept
                if self._fetch_page(entry):
                    fetched[entry.url] = lastmod
                else:
                    frame.failed += 1
                frame.position += 1
        finally:
            if fetched:
                self.crawl.mark_pages(self.source.id, fetched)
            self._save()
            self.ctx.checkpoint(self.source)

    def _fetch_page(self, entry: SitemapEntry) -> bool:
        """Fetch and archive one page; False when it should be tried again in a later pass."""
        self.report.pages += 1
        try:
            page = self.ctx.get(entry.url)
        except (HttpError, RobotsDisallowed, UnsafeURL) as exc:
            self._warn(Failure(exc.code, exc.stage, f"{entry.url}: {exc.message}"))
            # A page that is gone, forbidden or refused stays so: not asked for again until its lastmod moves.
            return not isinstance(exc, HttpError) or 400 <= (exc.status or 0) < 429
        except FetchError as exc:
            self._warn(Failure(exc.code, exc.stage, f"{entry.url}: {exc.message}"))
            return False  # timeouts, refused connections, 5xx: next pass
        try:
            archive_document(self.source, self.ctx, page, self.report, full="never", track_seen=False)
        except ArchiverError as exc:  # not a page with a post (its raw bytes and failure are recorded)
            self._warn(Failure(exc.code, exc.stage, f"{entry.url}: {exc.message}"))
        return True

    def _warn(self, failure: Failure) -> None:
        self.report.error = failure  # the last problem, shown in `sources list`; the source is not failing

    def _save(self) -> None:
        walk = [[frame.url, frame.position, frame.digest] for frame in self.stack]
        self.source.progress = {"pass": self.pass_number, **({"walk": walk} if walk else {})}
