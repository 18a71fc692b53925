"""The decaying re-check schedule of fetched posts: pure functions over timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archiver.fetch.recheck_schedule import MAX_FAILURES, advance, after_check_failed, parse_offsets, plan
from archiver.fetch.schedule import iso
from archiver.model import DEFAULT_RECHECK, Post

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = 86_400


def post(*, published: datetime | None = NOW, format: str = "html", kind: str = "url",
         extra: dict | None = None, url: str = "https://news.example/strike") -> Post:
    return Post(id="p" * 20, url=url, canonical_url=url, story_id="s" * 20,
                source={"kind": kind, "uri": url if format == "html" else "https://news.example/feed.xml",
                        "format": format},
                title="Strike", authors=[], published_at=iso(published) if published else None, updated_at=None,
                status="publish", categories=[], tags=[], excerpt=None, language="en", image=None,
                content_html="<p>x</p>", text="x", word_count=1, reading_time_minutes=1, links=[], images=[],
                source_link=None, content_sha256="0" * 64, normalizer_version="1", archived_at=iso(NOW),
                front_matter={}, extra=extra or {})


def test_offsets_are_read_as_intervals_and_off_turns_them_off() -> None:
    assert parse_offsets("30d, 1d,7d 182d") == [DAY, 7 * DAY, 30 * DAY, 182 * DAY]
    assert parse_offsets("off") == []
    with pytest.raises(ValueError):
        parse_offsets("soon")


def test_a_post_just_published_is_checked_a_day_after_then_later_and_later() -> None:
    recheck = plan(post(), list(DEFAULT_RECHECK), NOW, source_id="src", validators={"etag": '"a"'})
    assert (recheck.mode, recheck.url, recheck.step, recheck.due) == ("page", "https://news.example/strike", 0,
                                                                      iso(NOW + timedelta(days=1)))
    assert (recheck.source_id, recheck.validators, recheck.host) == ("src", {"etag": '"a"'}, "news.example")
    dues = []
    while recheck.due is not None:
        dues.append(recheck.due)
        advance(recheck, datetime.fromisoformat(recheck.due.replace("Z", "+00:00")))
    assert dues == [iso(NOW + timedelta(days=d)) for d in (1, 7, 30, 182)]


def test_offsets_already_past_are_skipped_and_an_old_post_is_not_rechecked() -> None:
    recheck = plan(post(published=NOW - timedelta(days=3)), list(DEFAULT_RECHECK), NOW)
    assert (recheck.step, recheck.due) == (1, iso(NOW + timedelta(days=4)))
    assert plan(post(published=NOW - timedelta(days=400)), list(DEFAULT_RECHECK), NOW) is None
    late = plan(post(), list(DEFAULT_RECHECK), NOW)
    advance(late, NOW + timedelta(days=40))  # a check that ran late skips the steps it overtook
    assert (late.step, late.due) == (3, iso(NOW + timedelta(days=182)))


def test_an_undated_or_future_post_counts_from_its_archiving() -> None:
    for published in (None, NOW + timedelta(days=300)):
        assert plan(post(published=published), [DAY], NOW).due == iso(NOW + timedelta(days=1))


def test_only_fetched_posts_with_a_page_are_rechecked_and_the_mode_says_what_is_compared() -> None:
    assert plan(post(kind="s3"), [DAY], NOW) is None
    assert plan(post(), [], NOW) is None
    feed_body = plan(post(format="rss"), [DAY], NOW)
    assert (feed_body.mode, feed_body.url) == ("status", "https://news.example/strike")
    full = plan(post(format="rss", extra={"full_article": {"url": "https://news.example/page"}}), [DAY], NOW)
    assert (full.mode, full.url) == ("page", "https://news.example/page")


def test_a_failed_check_is_retried_with_backoff_then_its_step_is_given_up() -> None:
    recheck = plan(post(), [DAY, 7 * DAY], NOW)
    later = NOW + timedelta(days=1)
    for failure in range(1, MAX_FAILURES):
        after_check_failed(recheck, later)
        assert (recheck.step, recheck.failures) == (0, failure)
        assert later < datetime.fromisoformat(recheck.due.replace("Z", "+00:00")) <= later + timedelta(days=1)
    after_check_failed(recheck, later)
    assert (recheck.step, recheck.failures, recheck.due) == (1, 0, iso(NOW + timedelta(days=7)))


def test_a_sources_schedule_is_set_by_its_options_and_new_sources_get_the_default() -> None:
    from archiver.fetch.sources import set_options
    from archiver.model import Source

    source = Source(id="s", url="https://news.example/feed.xml", kind="feed")
    assert source.recheck == list(DEFAULT_RECHECK)
    assert set_options(source, recheck="2d, 14d").recheck == [2 * DAY, 14 * DAY]
    assert set_options(source, every="2h").recheck == [2 * DAY, 14 * DAY]  # other options leave it
    assert set_options(source, recheck="off").recheck == []
    assert Source.from_dict({"id": "old", "url": "https://x/", "kind": "feed"}).recheck == list(DEFAULT_RECHECK)
