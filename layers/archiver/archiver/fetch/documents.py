"""One fetched document through the one archive path: raw bytes saved, each new or changed entry archived.

Entries already archived unchanged are skipped by their digest (kept on the source, bounded);
feed entries that carry only a summary get their page fetched (same job, same politeness) and
its extracted article as body.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archiver import formats
from archiver.errors import ArchiverError
from archiver.extract.leading_title import drop_repeated_title
from archiver.fetch.context import FetchContext, OutOfTime, RunCapReached
from archiver.fetch.recheck_schedule import plan as recheck_plan
from archiver.fetch.report import FetchReport
from archiver.fetch.schedule import iso
from archiver.model import Input, Origin, Outcome, RawPost, Source
from archiver.normalize import normalize
from archiver.pipeline import failed_outcome, store_post

if TYPE_CHECKING:
    from archiver.fetch.http import Response

SEEN_LIMIT = 1000  # entry digests kept per source: more than any feed holds at once
SUMMARY_WORDS = 150  # auto mode: a feed entry shorter than this is taken for a summary
_TRUNCATED = re.compile(r"(\u2026|\.\.\.|read more|continue reading|weiterlesen|lire la suite)"
                        r"\W*$", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def fetch_feed(source: Source, ctx: FetchContext, report: FetchReport) -> None:
    """A feed (or a single article): one conditional GET, then every new or changed entry archived.

    A document left unfinished (out of time, or its full articles over the run's cap) is asked
    for again unconditionally and resumed at the entry where it stopped, if its bytes are the same.
    """
    unfinished = source.progress.get("document") == source.url
    response = ctx.get(source.url, validators=None if unfinished else source.validators.get(source.url))
    report.http_status = response.status
    if response.permanent_url and response.permanent_url != source.url:
        source.validators.pop(source.url, None)
        source.url = report.url = response.permanent_url  # 301/308: the source has moved for good
    if response.not_modified:
        report.status = "not_modified"
        return
    archive_document(source, ctx, response, report, full=source.full if source.kind == "feed" else "never",
                     resume=True)
    keep_validators(source, source.url, response)


def archive_document(source: Source, ctx: FetchContext, response: Response, report: FetchReport, *, full: str,
                     seen_key: str | None = None, seen_digest: str | None = None,
                     resume: bool = False, track_seen: bool = True) -> list[RawPost]:
    """Save a fetched document's raw bytes, then archive each of its new or changed posts.

    Records the document's outcome as every dropped file's is; a document that cannot be parsed
    is the source's failure (its raw bytes stay archived). Returns the document's raw posts.
    With `resume`, the position reached is kept on the source (`progress`) every `save_every`
    entries and when the job's budget is spent, and a later fetch of the same bytes starts there.
    Without `track_seen` the entries' digests are not kept on the source (a sitemap's pages have
    their own records, see `crawl`).
    """
    item = response_input(response)
    archive = ctx.archive
    raw_key = archive.save_raw(item)
    saved: list[str] = []
    duplicates = 0
    stage = "parse"
    position = {"document": response.url, "digest": hashlib.sha256(response.body).hexdigest()[:16]}
    start = _resume_at(source.progress, position) if resume else 0
    index = start
    try:
        raw_posts = formats.parse(item)
        if not raw_posts:
            raise ArchiverError("the document holds no posts", code="no_posts", stage="parse")
        archived_at = iso(ctx.now())
        for index in range(start, len(raw_posts)):
            ctx.check_time()  # between entries: a document of 20,000 entries stops in time too
            if resume and index > start and (index - start) % ctx.save_every == 0:
                source.progress = {**position, "done": index}
                ctx.checkpoint(source)
            raw = raw_posts[index]
            key = seen_key or raw.original_id or raw.url or raw.title or ""
            digest = seen_digest or _digest(raw)
            if track_seen and source.seen.get(key) == digest:
                source.seen[key] = source.seen.pop(key)  # recently seen: kept longest by _trim
                report.unchanged += 1
                continue
            stage = "fetch_article"
            post_raw_key = _with_full_article(raw, ctx, full, report) or raw_key
            if raw.body_format == "html":  # a page's extracted article often opens with its title
                raw.body = drop_repeated_title(raw.body, raw.title)
            stage = "normalize"
            post = normalize(raw, item.origin, archived_at=archived_at, default_tz=ctx.default_tz)
            stage = "store"
            # Written with the post's first version only: a later one keeps the schedule it has.
            recheck = recheck_plan(post, source.recheck, ctx.now(), source_id=source.id)
            if recheck is not None and recheck.url == response.final_url:  # the page itself: its validators
                recheck.validators = _validators_of(response)
            result = store_post(post, post_raw_key, archive, recheck=recheck)
            saved.append(post.id)
            if result.status == "archived":
                ctx.queue_media(post, result.version)
            if result.status == "duplicate":
                duplicates += 1
                report.unchanged += 1
            elif result.version == 1:
                report.new += 1
            else:
                report.updated += 1
            if track_seen:
                source.seen[key] = digest
            stage = "parse"
        status = "duplicate" if saved and duplicates == len(saved) else "archived"
        outcome = Outcome(status=status, origin=item.origin, raw_key=raw_key, post_ids=saved)
    except (OutOfTime, RunCapReached):
        if resume:
            source.progress = {**position, "done": index}  # the entry it stopped at is done next time
        if saved:
            archive.record_outcome(Outcome(status="archived", origin=item.origin, raw_key=raw_key, post_ids=saved))
            report.post_ids += saved
        raise
    except Exception as exc:
        archive.record_outcome(failed_outcome(item.origin, exc, stage=stage, raw_key=raw_key, post_ids=saved))
        raise
    finally:
        _trim(source.seen)
    if resume and source.progress.get("document") == position["document"]:
        source.progress = {}  # finished: nothing to resume
    if saved:  # a document whose entries were all archived before writes nothing but the source's health
        archive.record_outcome(outcome)
        report.post_ids += saved
    return raw_posts


def _resume_at(progress: dict, position: dict) -> int:
    """Where to start in a document: where the last fetch stopped, if it was these very bytes."""
    same = progress.get("document") == position["document"] and progress.get("digest") == position["digest"]
    done = progress.get("done") if same else 0
    return int(done) if isinstance(done, int | float) and done > 0 else 0


def _with_full_article(raw: RawPost, ctx: FetchContext, full: str, report: FetchReport) -> str | None:
    """Replace a summary-only entry's body by its page's article; returns the page's raw key.

    The feed's summary becomes the excerpt. A page that cannot be fetched or gives less text
    than the feed leaves the entry as the feed has it, with a warning. RunCapReached when this
    run has fetched its share of pages for the source: the entry waits for the next run.
    """
    if full == "never" or not raw.url or not (full == "always" or is_summary(raw.body)):
        return None
    from archiver.formats import html_page

    if report.pages >= ctx.max_articles:
        raise RunCapReached
    report.pages += 1
    try:
        response = ctx.get(raw.url)
        page_item = response_input(response)
        page = next(html_page.parse(page_item))
    except OutOfTime:
        raise
    except ArchiverError as exc:
        raw.warnings.append(f"full article not fetched from {raw.url}: {exc.code}: {exc.message}"[:300])
        return None
    if _words(page.body) <= _words(raw.body):
        raw.warnings.append(f"the page {raw.url} has no more text than the feed: kept the feed's")
        return None
    raw_key = ctx.archive.save_raw(page_item)
    raw.excerpt = raw.excerpt or _TAG.sub(" ", raw.body).strip() or None
    raw.body, raw.body_format = page.body, "html"
    raw.canonical_url = raw.canonical_url or page.canonical_url
    raw.image = raw.image or page.image
    raw.authors = raw.authors or page.authors
    raw.published = raw.published or page.published
    raw.extra["full_article"] = {"url": response.final_url, "raw_key": raw_key,
                                 "extractor": page.extra.get("extractor")}
    return raw_key


def is_summary(body_html: str) -> bool:
    """Auto mode: a feed body this short, or ending in "…" / "Read more", is a summary of the page."""
    words = html.unescape(_TAG.sub(" ", body_html)).split()
    return len(words) < SUMMARY_WORDS or bool(_TRUNCATED.search(" ".join(words[-6:])))


def _words(body_html: str) -> int:
    return len(_TAG.sub(" ", body_html).split())


def response_input(response: Response) -> Input:
    """A fetched response as the one path's Input: its bytes, its final URL as origin, its charset."""
    origin = Origin(kind="url", uri=response.final_url, etag=response.validators.etag)
    name = PurePosixPath(urlsplit(response.final_url).path).name or "index.html"
    return Input(data=response.body, name=name, origin=origin, charset=response.charset)


def _digest(raw: RawPost) -> str:
    """What a reader of the entry would see change: a new digest is worth a new version."""
    parts = [raw.title or "", raw.body, str(raw.updated or ""), raw.url or "", raw.excerpt or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:24]


def _validators_of(response: Response) -> dict[str, str]:
    """A response's validators (etag, last_modified), for the first conditional GET of its page's re-check."""
    return {k: v for k, v in response.validators.to_dict().items() if v}


def keep_validators(source: Source, url: str, response: Response) -> None:
    validators = {k: v for k, v in response.validators.to_dict().items() if v}
    if validators:
        source.validators[url] = validators
    else:
        source.validators.pop(url, None)


def _trim(seen: dict[str, str]) -> None:
    """Keep the newest SEEN_LIMIT entries (dicts keep insertion order; re-seen keys move last)."""
    for key in list(seen)[: max(0, len(seen) - SEEN_LIMIT)]:
        del seen[key]
