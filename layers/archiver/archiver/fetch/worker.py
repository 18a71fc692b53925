"""A host's fetch job: its sources one after another, every document through the one archive path.

For each source: conditional GET (a 304 costs no parsing and no writes but the source's health),
then the document's raw bytes are saved, its posts parsed, normalized and stored exactly as a
dropped file's are. The kinds live beside this module: `documents` (a feed or an article),
`wordpress`, `sitemap_fetch`. A source's state (validators, cursor, position, seen entries) is
saved as its fetch goes and, with its health and next due time, when it ends. A job whose time
runs short (see `context`) saves the source it was on and hands it back with the sources not done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archiver.fetch.context import FetchContext, OutOfTime, RunCapReached
from archiver.fetch.documents import fetch_feed
from archiver.fetch.errors import HttpError
from archiver.fetch.report import FetchReport
from archiver.fetch.schedule import after_failure, after_success, iso
from archiver.fetch.sitemap_fetch import fetch_sitemap
from archiver.fetch.wordpress import fetch_wordpress
from archiver.model import Origin, Source
from archiver.pipeline import failed_outcome

if TYPE_CHECKING:
    from archiver.source_store import SourceStore


@dataclass
class JobResult:
    reports: list[FetchReport] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # source ids not reached: to queue again


def run_job(source_ids: list[str], sources: SourceStore, ctx: FetchContext) -> JobResult:
    """Fetch a host's sources in order; stop early (returning the rest) when time runs short.

    Each source's progress is saved as it goes (`ctx.checkpoint`) and when its fetch ends or is cut short.
    """
    result = JobResult()
    ctx.save = sources.save_state
    found = sources.get_many(source_ids)  # one read per 100 sources; a removal meanwhile is caught by save_state
    for index, source_id in enumerate(source_ids):
        source = found.get(source_id)
        if source is None or not source.enabled:
            continue  # removed or disabled since it was queued
        try:
            ctx.check_time()
        except OutOfTime:
            result.remaining = list(source_ids[index:])
            break
        try:
            report = fetch_source(source, ctx)
        except OutOfTime:  # cut short inside the source: keep its progress (cursor, entries seen), then hand back
            sources.save_state(source)
            result.remaining = list(source_ids[index:])
            break
        sources.save_state(source)
        result.reports.append(report)
    return result


def fetch_source(source: Source, ctx: FetchContext) -> FetchReport:
    """Fetch one source now, archive what changed, and update its state and health in place.

    Never raises for the source's own problems (HTTP errors, unsafe URLs, unparseable documents):
    they are its health. OutOfTime propagates, after progress so far is kept on the source. A source
    that had its share of the run (RunCapReached) is `partial` and stays due for the next run.
    """
    now = ctx.now()
    report = FetchReport(source_id=source.id, url=source.url, at=iso(now))
    fetchers = {"feed": fetch_feed, "article": fetch_feed, "wordpress": fetch_wordpress, "sitemap": fetch_sitemap}
    try:
        fetchers[source.kind](source, ctx, report)
    except OutOfTime:
        report.status = "deferred"
        source.last = report.to_dict()
        raise
    except RunCapReached:
        report.status = "partial"
        source.failures = 0
        source.next_due_at = iso(now)  # the rest at the next scheduled run, from the saved cursor
    except Exception as exc:  # any error, even a bug, is recorded on the source: it never stalls silently
        report.status = "failed"
        report.error = failed_outcome(Origin("url", source.url), exc, stage="fetch").error
        report.http_status = getattr(exc, "status", None) or report.http_status
        source.failures += 1
        if isinstance(exc, HttpError) and exc.retry_after is not None:
            report.retry_after, report.retry_after_capped = exc.retry_after, exc.retry_after_capped
        source.next_due_at = iso(after_failure(now, source.failures, retry_after=report.retry_after))
        if isinstance(exc, HttpError) and exc.gone:
            source.enabled = False
            source.disabled_reason = f"410 Gone at {report.at}"
    else:
        source.failures = 0
        source.next_due_at = iso(after_success(now, source.every_seconds))
        if report.status == "unchanged" and (report.new or report.updated):
            report.status = "archived"
    source.last = report.to_dict()
    return report


# ----------------------------------------------------------------------------- kinds
