"""A source's health in one word, from what its fetches recorded: what `archiver sources list` shows.

A source that stops answering is never disabled for it: it is retried with a backoff that grows
with its consecutive failures and stops growing at a day (Retry-After too is capped at a day),
and its health says so. Only the user, or a 410 Gone, disables a source, with the reason kept.
"""

from __future__ import annotations

from typing import Any

from archiver.model import Source

DOWN_AFTER = 5  # consecutive failures after which a source is shown as down (still retried, at most daily)


def health(source: Source) -> str:
    """new | ok | catching_up | failing | backing_off | down | disabled | gone."""
    last: dict[str, Any] = source.last or {}
    if not source.enabled:
        return "gone" if (source.disabled_reason or "").startswith("410") else "disabled"
    if source.failures >= DOWN_AFTER:
        return "down"
    if source.failures:
        return "backing_off" if last.get("retry_after") is not None else "failing"
    if last.get("status") in ("deferred", "partial"):
        return "catching_up"  # progress saved, the rest at the next run
    return "ok" if last else "new"
