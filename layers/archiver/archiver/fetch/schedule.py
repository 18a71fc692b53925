"""When a source is next due: its interval after a success, exponential backoff after failures.

Pure functions over timestamps, so the rules are tested without a clock. A source never stalls
for good: the backoff is capped (a day by default) and the next success resets it.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

MIN_INTERVAL = 60  # seconds: no source is fetched more often than once a minute
MAX_BACKOFF = 24 * 3600  # seconds: the longest wait after consecutive failures
FIRST_BACKOFF = 300  # seconds: the wait after a first failure, doubled by each further one
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str | int) -> int:
    """`90`, `90s`, `15m`, `1h`, `2d` -> seconds (at least MIN_INTERVAL)."""
    if isinstance(text, int):
        seconds = text
    else:
        match = _INTERVAL.match(text)
        if not match:
            raise ValueError(f"not an interval: {text!r} (use e.g. 30m, 1h, 1d)")
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds < MIN_INTERVAL:
        raise ValueError(f"an interval of {seconds}s is shorter than the minimum of {MIN_INTERVAL}s")
    return seconds


def iso(moment: datetime) -> str:
    """The one timestamp form of source records: sortable ISO 8601 UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def after_success(now: datetime, every_seconds: int) -> datetime:
    return now + timedelta(seconds=every_seconds)


def after_failure(now: datetime, failures: int, *, retry_after: float | None = None,
                  rng: random.Random | None = None) -> datetime:
    """Exponential backoff with jitter, capped: the `failures`-th consecutive failure (1-based).

    The wait is never shorter than a server's Retry-After, itself capped at MAX_BACKOFF (a day):
    a server cannot park a source for years. "Equal jitter": half the backoff fixed, half random,
    so that sources failing together spread out.
    """
    backoff = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, min(failures - 1, 20)))
    backoff = backoff / 2 + (rng or random).uniform(0, backoff / 2)
    asked = min(max(retry_after or 0.0, 0.0), MAX_BACKOFF) if retry_after == retry_after else 0.0  # NaN: none
    return now + timedelta(seconds=max(backoff, asked))
