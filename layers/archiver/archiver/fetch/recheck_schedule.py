"""When an archived post's page is fetched again: a decaying schedule counted from its publication.

Edits and retractions come soon after publication and rarely later, so each post is re-checked at a few
offsets from its publication time (a source's `recheck`: by default 1 day, 1 week, 30 days, 182 days),
then never again. Offsets already past when the post is archived are skipped (a ten-year-old post found
in a sitemap is not re-checked at all), and so are those a late check overtook. Pure functions over
timestamps, as `schedule` is for sources.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from archiver.fetch.schedule import after_failure, iso, parse_interval, parse_iso
from archiver.model import Recheck

if TYPE_CHECKING:
    from archiver.model import Post

MAX_FAILURES = 3  # failed checks of one step (timeouts, 5xx, robots) before the step is given up
_SEPARATOR = re.compile(r"[\s,]+")
_OFF = ("off", "none", "never", "0")


def parse_offsets(text: str) -> list[int]:
    """`1d,7d,30d,182d` -> seconds, ascending; `off` -> [] (the source's posts are not re-checked)."""
    if text.strip().lower() in _OFF:
        return []
    offsets = sorted({parse_interval(part) for part in _SEPARATOR.split(text.strip()) if part})
    if not offsets:
        raise ValueError(f"not a re-check schedule: {text!r} (use e.g. 1d,7d,30d,182d, or off)")
    return offsets


def recheck_url(post: Post) -> str | None:
    """The page a post's re-check fetches: the page it was built from, else its own URL; None when it has none."""
    full_article = (post.extra or {}).get("full_article") or {}
    if post.source.get("format") == "html" and post.source.get("kind") == "url":
        url = post.source.get("uri")
    else:
        url = full_article.get("url") or post.url
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def plan(post: Post, offsets: list[int], now: datetime, *, source_id: str | None = None,
         validators: dict[str, str] | None = None) -> Recheck | None:
    """The re-check of a fetched post just archived; None when it has no page or no offset is still ahead."""
    url = recheck_url(post)
    if url is None or not offsets or post.source.get("kind") != "url":  # a dropped file's page is not its source
        return None
    anchor = anchor_of(post.published_at, now)
    mode = "page" if post.source.get("format") == "html" or (post.extra or {}).get("full_article") else "status"
    recheck = Recheck(post_id=post.id, url=url, mode=mode, offsets=sorted(offsets), anchor=iso(anchor),
                      source_id=source_id, validators=dict(validators or {}))
    advance(recheck, now, from_step=0)
    return recheck if recheck.due is not None else None


def anchor_of(published_at: str | None, now: datetime) -> datetime:
    """What the offsets count from: the publication time, unless it is missing, unreadable or in the future."""
    try:
        published = parse_iso(published_at) if published_at else None
    except ValueError:
        published = None
    return published if published is not None and published <= now else now


def advance(recheck: Recheck, now: datetime, *, from_step: int | None = None) -> None:
    """Move to the first step (from `from_step`, default the one after the current) still ahead of `now`."""
    anchor = parse_iso(recheck.anchor)
    step = recheck.step + 1 if from_step is None else from_step
    while step < len(recheck.offsets) and anchor + timedelta(seconds=recheck.offsets[step]) <= now:
        step += 1
    recheck.step, recheck.failures = step, 0
    recheck.due = iso(anchor + timedelta(seconds=recheck.offsets[step])) if step < len(recheck.offsets) else None


def after_check_failed(recheck: Recheck, now: datetime, *, retry_after: float | None = None) -> None:
    """A check that could not be made (timeout, 5xx, robots.txt): the same step again after a backoff, at most
    MAX_FAILURES times, then the next step."""
    recheck.failures += 1
    if recheck.failures >= MAX_FAILURES:
        advance(recheck, now)
        return
    recheck.due = iso(after_failure(now, recheck.failures, retry_after=retry_after))
