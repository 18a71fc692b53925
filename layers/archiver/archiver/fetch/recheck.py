"""Re-checking archived posts: each post's page fetched again through the fetch machinery, as its schedule says.

A re-check job holds one host's due posts (see `recheck_jobs`); each goes through the job's FetchContext, so
robots.txt, per-host pacing, the SSRF guard and the invocation's deadline hold as for sources, and the GET is
conditional on the validators its page last had. Then:
- 304, or a page-mode post rebuilt to the same content: nothing written but the re-check's state;
- a page-mode post rebuilt to other content: a new version (trigger `rechecked`) with its change record;
- 404 / 410: the post is gone upstream, an event beside its versions and a mark on LATEST (store.rechecks);
  after a 410 (gone for good) it is not asked for again, after a 404 its later steps still run;
- a page that answers again after that: a `back_upstream` event, the mark removed;
- anything else (timeouts, 5xx, robots.txt, a page that no longer parses): the re-check's failure, retried
  with backoff, then its step given up. Nothing archived is ever deleted.
A job short of time stops before the next post and hands back those not done (re-queued by the handler).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from archiver.errors import ArchiverError
from archiver.fetch.context import FetchContext, OutOfTime
from archiver.fetch.documents import response_input
from archiver.fetch.errors import HttpError
from archiver.fetch.rebuild import entry_with_page, page_post
from archiver.fetch.recheck_schedule import advance, after_check_failed
from archiver.fetch.schedule import iso
from archiver.model import Origin, Recheck
from archiver.normalize import normalize
from archiver.render import render_post_html

if TYPE_CHECKING:
    from datetime import datetime

    from archiver.fetch.http import Response

Result = Literal["unchanged", "changed", "gone", "failed", "skipped"]
GONE_STATUSES = frozenset({404, 410})


@dataclass
class RecheckJobResult:
    counts: Counter[str] = field(default_factory=Counter)  # results, and "back" for pages answering again
    versions: list[str] = field(default_factory=list)  # ids of the posts that got a new version
    remaining: list[str] = field(default_factory=list)  # post ids not reached: to queue again


def run_recheck_job(post_ids: list[str], ctx: FetchContext) -> RecheckJobResult:
    """Re-check a host's due posts in order; stop early (returning the rest) when time runs short."""
    result = RecheckJobResult()
    rechecks = ctx.archive.rechecks
    found = rechecks.get_many(post_ids)  # one read per 100 posts
    for index, post_id in enumerate(post_ids):
        recheck = found.get(post_id)
        if recheck is None:
            continue
        try:
            ctx.check_time()
            outcome = recheck_post(recheck, ctx)
        except OutOfTime:  # nothing of this post was decided: it is checked again from the start
            result.remaining = list(post_ids[index:])
            break
        rechecks.put(recheck)
        result.counts[outcome] += 1
        if outcome == "changed":
            result.versions.append(post_id)
        if recheck.last.get("back_upstream"):
            result.counts["back"] += 1
    return result


def recheck_post(recheck: Recheck, ctx: FetchContext) -> Result:
    """Check one post's page now; its schedule and last result are updated in place (the caller saves them).

    Never raises for the page's own problems (they are the re-check's result); OutOfTime propagates.
    """
    now = ctx.now()
    latest = ctx.archive.get_post(recheck.post_id)
    recheck.checks += 1
    recheck.last = {"at": iso(now)}
    if latest is None or latest.get("state") != "stored":  # being written: the next try finds it stored
        return _failed(recheck, now, ArchiverError("the post is being written", code="post_pending", stage="recheck"))
    version = int(latest["version"])
    try:
        response = ctx.get(recheck.url, validators=recheck.validators or None)
    except OutOfTime:
        raise
    except HttpError as exc:
        if exc.status in GONE_STATUSES:
            return _gone(recheck, ctx, now, exc.status, version)
        return _failed(recheck, now, exc, retry_after=exc.retry_after)
    except ArchiverError as exc:
        return _failed(recheck, now, exc)
    recheck.last["http_status"] = response.status
    try:
        outcome, version = _compare(recheck, ctx, response, latest)
    except OutOfTime:
        raise
    except Exception as exc:  # a page that no longer parses, even a bug: the re-check's failure, never the job's
        error = exc if isinstance(exc, ArchiverError) else ArchiverError(
            f"{type(exc).__name__}: {exc}", code="internal_error", stage="recheck")
        return _failed(recheck, now, error)
    if not response.not_modified:
        recheck.validators = {k: v for k, v in response.validators.to_dict().items() if v}
    if response.permanent_url:  # 301/308: the page has moved for good; the post keeps its id
        recheck.url = response.permanent_url
    if recheck.gone is not None:
        _back(recheck, ctx, now, response.status, version)
    recheck.last.update(result=outcome, version=version)
    advance(recheck, now)
    return outcome


def _compare(recheck: Recheck, ctx: FetchContext, response: Response,
             latest: dict[str, Any]) -> tuple[Result, int]:
    """Rebuild a page-mode post from its page and store it: ("changed", new version) or ("unchanged", version)."""
    version = int(latest["version"])
    if response.not_modified or recheck.mode != "page":
        return "unchanged", version
    archive = ctx.archive
    item = response_input(response)
    raw_key = archive.save_raw(item)
    full_article = (latest.get("source") or {}).get("format") != "html"
    if full_article:  # a feed entry completed by its page: the entry's fields from its stored version
        document = archive.get_post_document(latest)
        raw = entry_with_page(document, item, raw_key)
        origin = Origin("url", (document.get("source") or {}).get("uri") or recheck.url)
    else:
        raw, origin = page_post(item, latest.get("url")), item.origin
    post = normalize(raw, origin, archived_at=ctx.now().isoformat(timespec="seconds"), default_tz=ctx.default_tz)
    # The post it was: its id even if the page moved or names another URL now, its story link kept.
    post = replace(post, id=recheck.post_id, story_id=latest.get("story_id") or post.story_id)
    saved = archive.save_post(post, raw_key, render_post_html(post), trigger="rechecked")
    if saved.status == "duplicate":
        return "unchanged", version
    ctx.queue_media(post, saved.version)
    return "changed", saved.version


def _gone(recheck: Recheck, ctx: FetchContext, now: datetime, status: int, version: int) -> Result:
    """The page answers 404 or 410: an event and a mark on LATEST the first time (or when the status changes)."""
    recheck.last.update(result="gone", http_status=status, version=version)
    if recheck.gone is None or recheck.gone.get("http_status") != status:
        recheck.gone = {"at": iso(now), "http_status": status, "url": recheck.url}
        ctx.archive.rechecks.record_event(recheck.post_id, "gone_upstream", iso(now), recheck.checks,
                                          {"http_status": status, "url": recheck.url, "version": version})
        ctx.archive.rechecks.mark_gone(recheck.post_id, recheck.gone, version)
    recheck.validators = {}
    if status == 410:  # Gone: removed for good, not asked for again (as a source answering 410 is disabled)
        recheck.due = None
    else:
        advance(recheck, now)
    return "gone"


def _back(recheck: Recheck, ctx: FetchContext, now: datetime, status: int, version: int) -> None:
    ctx.archive.rechecks.record_event(recheck.post_id, "back_upstream", iso(now), recheck.checks,
                                      {"http_status": status, "url": recheck.url, "version": version})
    ctx.archive.rechecks.mark_gone(recheck.post_id, None, version)
    recheck.gone = None
    recheck.last["back_upstream"] = True


def _failed(recheck: Recheck, now: datetime, error: ArchiverError, *, retry_after: float | None = None) -> Result:
    recheck.last.update(result="failed", error={"code": error.code, "stage": error.stage, "message": error.message},
                        http_status=getattr(error, "status", None))
    after_check_failed(recheck, now, retry_after=retry_after)
    return "failed"
