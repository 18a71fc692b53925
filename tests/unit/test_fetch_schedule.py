"""When sources are due: intervals, exponential backoff with jitter and a cap, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from archiver.fetch.schedule import MAX_BACKOFF, after_failure, after_success, iso, parse_interval, parse_iso

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("1h", 3600), ("2d", 172800), ("90s", 90), ("600", 600)])
def test_intervals_are_read_with_units(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["10s", "soon", "1w", ""])
def test_too_short_or_unreadable_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_a_success_is_due_again_after_its_interval() -> None:
    assert after_success(NOW, 3600) == NOW + timedelta(hours=1)


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    rng = random.Random(7)
    waits = [(after_failure(NOW, n, rng=rng) - NOW).total_seconds() for n in range(1, 16)]
    assert waits[0] <= 300
    assert waits[4] > waits[0] * 4  # 5th failure: 16x the first backoff, jitter at most halves it
    assert all(w <= MAX_BACKOFF for w in waits)
    assert waits[-1] >= MAX_BACKOFF / 2  # capped, never stalled for good


def test_jitter_spreads_sources_failing_together() -> None:
    rng = random.Random(1)
    moments = {after_failure(NOW, 3, rng=rng) for _ in range(20)}
    assert len(moments) > 10


def test_a_retry_after_is_honoured_up_to_the_cap_of_a_day() -> None:
    assert after_failure(NOW, 1, retry_after=7200, rng=random.Random(3)) == NOW + timedelta(seconds=7200)
    for asked in (2 * MAX_BACKOFF, 999_999_999_999.0, float("inf"), float("nan")):
        due = after_failure(NOW, 1, retry_after=asked, rng=random.Random(3))
        assert due <= NOW + timedelta(seconds=MAX_BACKOFF)  # never parked for years, never an OverflowError


def test_timestamps_round_trip_and_sort_as_text() -> None:
    assert iso(NOW) == "2026-11-26T12:00:00Z"
    assert parse_iso(iso(NOW)) == NOW
    assert iso(NOW) < iso(NOW + timedelta(seconds=1))
