"""Issue 19's nine hostile cases: every fetch job finishes, its state saved, its rest queued again.

Each case is a local server on 127.0.0.1 (bounded in requests and time, it stops itself) and a
fetch job run with small limits, so that each test takes seconds. Assertions are on outcomes
(the job returned, the source's state and health were saved, the rest was queued), never on
how long anything took.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hostile_http import HostileServer, drip_body, drip_head

from archiver.deadline import Deadline
from archiver.fetch.context import FetchContext
from archiver.fetch.guard import Guard
from archiver.fetch.http import HttpClient
from archiver.fetch.robots import RobotsCache
from archiver.fetch.schedule import iso, parse_iso
from archiver.fetch.worker import run_job
from archiver.local.runner import LambdaContext, LocalFunction, sqs_event
from archiver.local.stack import LocalAWS
from archiver.local.web import FixtureWeb, Reply, loopback_resolver
from archiver.model import Source
from archiver.source_store import SourceStore
from archiver.store import ArchiveStore

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOREM = "The harbour authority said the strike would continue until the dispute over night shifts was settled. "


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as server:
        yield server


@pytest.fixture
def client() -> Iterator[HttpClient]:
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),), resolver=loopback_resolver)
    with HttpClient(guard=guard, user_agent="PostArchiver/test", read_timeout=2.0, retries=0, backoff=0.0,
                    deadline=1.0) as http:
        yield http


@pytest.fixture
def archive(clean_aws: LocalAWS) -> ArchiveStore:
    resources = clean_aws.resources
    return ArchiveStore(clean_aws.client("s3"), clean_aws.client("dynamodb"),
                        archive_bucket=resources.archive_bucket, table_name=resources.table_name)


@pytest.fixture
def sources(clean_aws: LocalAWS) -> SourceStore:
    return SourceStore(clean_aws.client("dynamodb"), clean_aws.resources.table_name)


@pytest.fixture
def context(client: HttpClient, archive: ArchiveStore) -> FetchContext:
    return FetchContext(client=client, robots=RobotsCache(client), archive=archive, host_delay=0.0, now=lambda: NOW)


class TimeUpAfterChecks:
    """A deadline that passes after `checks` looks at it: the job's time runs out at a fixed point of its work."""

    def __init__(self, checks: int):
        self.left = checks

    def remaining(self) -> float:
        self.left -= 1
        return 1000.0 if self.left >= 0 else 0.0


class Killed(BaseException):
    """Lambda killing the invocation: nothing after it runs, no `except Exception` catches it."""


class KilledAfterChecks(TimeUpAfterChecks):
    def remaining(self) -> float:
        if super().remaining() <= 0:
            raise Killed
        return 1000.0


def rss(count: int, web: FixtureWeb, host: str, *, summary: str) -> bytes:
    items = "".join(f"<item><title>Story {n}</title><link>{web.url(host, f'/story-{n}')}</link>"
                    f"<guid>{web.url(host, f'/story-{n}')}</guid><pubDate>Tue, 05 Nov 2024 10:00:00 GMT</pubDate>"
                    f"<description><![CDATA[{summary} ({n})]]></description></item>" for n in range(count))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Harbour</title>'
            f"<link>{web.url(host, '/')}</link><description>News</description>{items}</channel></rss>").encode()


def article_page(title: str) -> str:
    body = "".join(f"<p>{LOREM} Paragraph {n} about {title.lower()}.</p>" for n in range(8))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:type" content="article"></head><body><article><h1>{title}</h1>{body}'
            f"</article></body></html>")


def put(sources: SourceStore, source: Source) -> Source:
    sources.put(source)
    return source


# -- 1 and 2: a server that drips bytes -----------------------------------------------------------------------------


class ShortContext(LambdaContext):
    """An invocation with 3 s left: with a 1 s margin, the job has 2 s."""

    def get_remaining_time_in_millis(self) -> int:
        return 3_000


def test_case1_headers_dripped_byte_by_byte_the_handler_returns_saves_and_requeues(clean_aws, monkeypatch,
                                                                                  caplog) -> None:
    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FETCH_MARGIN_SECONDS", "1")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    store = SourceStore(clean_aws.client("dynamodb"), clean_aws.resources.table_name)
    function = LocalFunction(clean_aws, clean_aws.resources)
    sqs = clean_aws.client("sqs")
    queue_url = clean_aws.resources.fetch_queue_url
    with HostileServer(drip_head(interval=0.05), lifetime=30) as hostile:
        source = put(store, Source(id="drip", url=hostile.url("/feed.xml"), kind="feed", next_due_at=iso(NOW)))
        job = {"archiver_fetch": {"host": source.host, "sources": ["drip"], "attempt": 0}}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(job), MessageGroupId=source.host,
                         MessageDeduplicationId="first")
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert any("FETCH_UNSAFE_ALLOW_NETWORKS is set" in r.getMessage() for r in caplog.records)  # at cold start
        response = function.invoke(sqs_event(messages, arn), ShortContext())
        assert response == {"batchItemFailures": []}  # the invocation returned, done with its message
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    saved = store.get("drip")
    assert saved.last["status"] == "deferred"  # cut by the invocation's time: not the source's failure
    assert saved.failures == 0
    [message] = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["archiver_fetch"] == {"host": source.host, "sources": ["drip"], "attempt": 1}


def test_case1_a_request_deadline_shorter_than_the_job_fails_the_source_with_backoff(context, sources) -> None:
    with HostileServer(drip_head(interval=0.05), lifetime=30) as hostile:
        put(sources, Source(id="drip", url=hostile.url("/feed.xml"), kind="feed", next_due_at=iso(NOW)))
        result = run_job(["drip"], sources, context)  # the client's deadline is 1 s, the job has no limit
        assert hostile.wait_for_hang_ups(1) == 1  # cut off and closed
    [report] = result.reports
    assert (report.status, report.error.code) == ("failed", "timeout") and result.remaining == []
    saved = sources.get("drip")
    assert saved.failures == 1 and saved.last["error"]["code"] == "timeout"
    assert parse_iso(saved.next_due_at) > NOW  # backed off


def test_case2_a_small_body_dripped_is_a_timeout_and_the_connection_is_closed(context, sources) -> None:
    with HostileServer(drip_body(interval=0.05, length=60_000), lifetime=30) as hostile:
        put(sources, Source(id="slow-body", url=hostile.url("/feed.xml"), kind="feed", next_due_at=iso(NOW)))
        result = run_job(["slow-body"], sources, context)
        assert hostile.wait_for_hang_ups(1) == 1  # closed while the server had bytes left: never drained
    assert [(r.status, r.error.code) for r in result.reports] == [("failed", "timeout")]
    assert sources.get("slow-body").last["status"] == "failed"


# -- 3 and 4: Retry-After -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["999999999999", "999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_case3_and_4_an_absurd_retry_after_backs_off_a_day_at_most_and_says_so(header, web, context,
                                                                               sources) -> None:
    web.route("busy.test", "/feed.xml", lambda request: Reply(429, b"slow down", {"Retry-After": header}))
    put(sources, Source(id="busy", url=web.url("busy.test", "/feed.xml"), kind="feed", next_due_at=iso(NOW)))
    result = run_job(["busy"], sources, context)  # 999999999999 was an OverflowError: the state was never saved
    assert [r.status for r in result.reports] == ["failed"]
    saved = sources.get("busy")
    assert saved.enabled and saved.failures == 1
    assert NOW + timedelta(hours=23) <= parse_iso(saved.next_due_at) <= NOW + timedelta(days=1)
    assert (saved.last["retry_after"], saved.last["retry_after_capped"]) == (86400, True)


# -- 5: a sitemap index whose children are indexes too -----------------------------------------------------------


SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def sitemap_forest(web: FixtureWeb, host: str, *, mids: int, leaves: int, pages: int) -> None:
    """/root.xml -> `mids` indexes -> `leaves` urlsets each -> `pages` pages each; documents made when asked for."""
    def index(children: list[str]):
        body = (f"<sitemapindex {SITEMAP_NS}>" + "".join(f"<sitemap><loc>{web.url(host, c)}</loc></sitemap>"
                                                         for c in children) + "</sitemapindex>").encode()
        return lambda request: Reply(200, body, {"Content-Type": "application/xml"})

    def urlset(prefix: str):
        def handle(request):
            return Reply(200, (f"<urlset {SITEMAP_NS}>" + "".join(
                f"<url><loc>{web.url(host, f'{prefix}/{n}')}</loc><lastmod>2024-05-01</lastmod></url>"
                for n in range(pages)) + "</urlset>").encode(), {"Content-Type": "application/xml"})
        return handle

    web.route(host, "/root.xml", index([f"/mid-{m}.xml" for m in range(mids)]))
    for m in range(mids):
        web.route(host, f"/mid-{m}.xml", index([f"/leaf-{m}-{n}.xml" for n in range(leaves)]))
        for n in range(leaves):
            web.route(host, f"/leaf-{m}-{n}.xml", urlset(f"/p/{m}/{n}"))


def test_case5_an_index_of_indexes_is_walked_a_bounded_bite_at_a_time(web, context, sources) -> None:
    # 30 x 30 leaves of 2,000 pages: 1.8 million URLs. The old fetcher read every child first (908 MB).
    # The pages answer 404: what counts here is which requests are made and what is held.
    sitemap_forest(web, "forest.test", mids=30, leaves=30, pages=2000)
    put(sources, Source(id="forest", url=web.url("forest.test", "/root.xml"), kind="sitemap", next_due_at=iso(NOW)))
    context.max_articles, context.max_sitemaps = 25, 8
    tracemalloc.start()
    try:
        [report] = run_job(["forest"], sources, context).reports
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.status == "partial" and report.pages == 25
    sitemap_requests = [r.path for r in web.requests("forest.test") if r.path.endswith(".xml")]
    assert sitemap_requests == ["/root.xml", "/mid-0.xml", "/leaf-0-0.xml"]  # the open path, nothing more
    saved = sources.get("forest")
    assert [frame[:2] for frame in saved.progress["walk"]] == [
        ["", 0], [web.url("forest.test", "/root.xml"), 0], [web.url("forest.test", "/mid-0.xml"), 0],
        [web.url("forest.test", "/leaf-0-0.xml"), 25]]
    assert peak < 32 * 1024 * 1024  # one open leaf of 2,000 entries, not the tree

    web.clear_log()
    [second] = run_job(["forest"], sources, context).reports  # the next scheduled run goes on from there
    pages = [r.path for r in web.requests("forest.test") if not r.path.endswith(".xml") and r.path != "/robots.txt"]
    assert second.status == "partial" and len(pages) == 25
    assert sources.get("forest").progress["walk"][-1][1] == 50


# -- 6: one document with very many entries --------------------------------------------------------------------------


def test_case6_a_feed_of_many_entries_stops_in_time_keeps_its_place_and_resumes(web, context, sources,
                                                                                 archive) -> None:
    web.add("big.test", "/feed.xml", rss(100, web, "big.test", summary=LOREM * 20), "application/rss+xml")
    put(sources, Source(id="big", url=web.url("big.test", "/feed.xml"), kind="feed", full="never",
                        next_due_at=iso(NOW)))
    context.deadline = TimeUpAfterChecks(40)  # runs out a few dozen entries in
    first = run_job(["big"], sources, context)
    assert first.remaining == ["big"] and first.reports == []  # handed back to the queue
    saved = sources.get("big")
    done = saved.progress["done"]
    assert saved.last["status"] == "deferred" and 0 < done < 100
    assert saved.last["new"] == done  # every entry before the saved position is archived

    context.deadline = None
    second = run_job(["big"], sources, context)
    [report] = second.reports
    assert (report.status, report.new, report.unchanged) == ("archived", 100 - done, 0)  # from where it stopped
    assert sources.get("big").progress == {}


def test_case6_progress_is_saved_as_it_goes_so_a_killed_job_loses_little(web, context, sources) -> None:
    web.add("big.test", "/feed.xml", rss(60, web, "big.test", summary=LOREM * 20), "application/rss+xml")
    put(sources, Source(id="big", url=web.url("big.test", "/feed.xml"), kind="feed", full="never",
                        next_due_at=iso(NOW)))
    context.save_every = 10
    context.deadline = KilledAfterChecks(60)
    with pytest.raises(Killed):  # no handler code runs after this: only what was saved before counts
        run_job(["big"], sources, context)
    saved = sources.get("big")
    assert saved.progress["done"] >= 10 and saved.progress["done"] % 10 == 0
    assert len(saved.seen) >= saved.progress["done"]


def wp_posts_forever(web: FixtureWeb, total_pages_header: str | None, per_page_seen: list[int]):
    """A WordPress posts endpoint with as many pages as asked for; its page count header says `total_pages_header`."""
    def handle(request):
        page = int(request.query.get("page", 1))
        per_page = int(request.query.get("per_page", 10))
        per_page_seen.append(page)
        posts = []
        for n in range((page - 1) * per_page, page * per_page):
            stamp = (datetime(2024, 1, 1) + timedelta(minutes=n)).isoformat()
            posts.append({"id": n + 1, "date": stamp, "date_gmt": stamp, "modified": stamp, "modified_gmt": stamp,
                          "link": web.url("wp.test", f"/post-{n}/"), "status": "publish", "type": "post",
                          "title": {"rendered": f"Post {n}"}, "content": {"rendered": f"<p>{LOREM} ({n})</p>"}})
        headers = {"Content-Type": "application/json"}
        if total_pages_header is not None:
            headers["X-WP-TotalPages"] = total_pages_header
        return Reply(200, json.dumps(posts).encode(), headers)
    return handle


def test_case6_wordpress_claiming_a_billion_pages_takes_its_share_per_run(web, context, sources) -> None:
    pages: list[int] = []
    web.route("wp.test", "/wp-json/wp/v2/posts", wp_posts_forever(web, "1000000000", pages))
    put(sources, Source(id="wp", url=web.url("wp.test", "/wp-json/"), kind="wordpress", next_due_at=iso(NOW)))
    context.wp_per_page, context.max_pages = 5, 4
    [report] = run_job(["wp"], sources, context).reports
    assert (report.status, report.new) == ("partial", 20)
    saved = sources.get("wp")
    assert saved.next_due_at == iso(NOW)  # due again at the next scheduled run
    assert saved.cursor == (datetime(2024, 1, 1) + timedelta(minutes=19, seconds=-1)).isoformat()
    assert pages == [1, 2, 3, 4]


# -- 7: a feed of summaries in --full auto -----------------------------------------------------------------------------


def test_case7_full_articles_are_capped_per_run_and_the_rest_comes_next_run(web, context, sources) -> None:
    web.add("sum.test", "/feed.xml", rss(25, web, "sum.test", summary="Short teaser&hellip;"),
            "application/rss+xml")
    for n in range(25):
        web.add("sum.test", f"/story-{n}", article_page(f"Story {n}"))
    put(sources, Source(id="sum", url=web.url("sum.test", "/feed.xml"), kind="feed", full="auto",
                        next_due_at=iso(NOW)))
    context.max_articles = 10
    statuses = []
    for _ in range(3):  # three scheduled runs
        [report] = run_job(["sum"], sources, context).reports
        statuses.append((report.status, report.new, report.pages))
    assert statuses == [("partial", 10, 10), ("partial", 10, 10), ("archived", 5, 5)]
    pages = [r.path for r in web.requests("sum.test") if r.path.startswith("/story-")]
    assert sorted(pages) == sorted(f"/story-{n}" for n in range(25))  # each page fetched once
    assert sources.get("sum").progress == {}


# -- 8: X-WP-TotalPages that is not a number -------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["NaN", "1e9", "-1", None])
def test_case8_a_page_count_that_is_not_a_number_ends_at_the_first_short_page(header, web, context, sources) -> None:
    pages: list[int] = []
    handler = wp_posts_forever(web, header, pages)

    def three_pages(request):
        reply = handler(request)
        return reply if int(request.query.get("page", 1)) <= 3 else dataclasses.replace(reply, body=b"[]")

    web.route("wp.test", "/wp-json/wp/v2/posts", three_pages)
    put(sources, Source(id="wp", url=web.url("wp.test", "/wp-json/"), kind="wordpress", next_due_at=iso(NOW)))
    context.wp_per_page = 5
    [report] = run_job(["wp"], sources, context).reports  # NaN was `internal_error: ValueError` after page 1
    assert (report.status, report.new, report.error) == ("archived", 15, None)
    assert pages == [1, 2, 3, 4]


def test_wordpress_without_page_headers_follows_link_rel_next(web, context, sources) -> None:
    pages: list[int] = []
    handler = wp_posts_forever(web, None, pages)

    def linked(request):
        page = int(request.query.get("page", 1))
        reply = handler(request)
        if page < 3:
            following = web.url("wp.test", f"/wp-json/wp/v2/posts?per_page=3&page={page + 1}&orderby=modified"
                                           "&order=asc&_embed=1")
            reply = dataclasses.replace(reply, headers={**reply.headers, "Link": f'<{following}>; rel="next"'})
        return reply

    web.route("wp.test", "/wp-json/wp/v2/posts", linked)
    put(sources, Source(id="wp", url=web.url("wp.test", "/wp-json/"), kind="wordpress", next_due_at=iso(NOW)))
    context.wp_per_page = 5  # the links ask for 3 a page: proof that they, not page + 1, were followed
    [report] = run_job(["wp"], sources, context).reports
    assert (report.status, report.new) == ("archived", 9)  # posts 0-4, then 3-5 and 6-8 by the links
    assert pages == [1, 2, 3]


def test_a_job_never_sleeps_past_its_deadline_for_politeness(web, client, archive, sources) -> None:
    web.add("slow.test", "/robots.txt", "User-agent: *\nCrawl-delay: 30\n", "text/plain")
    web.add("slow.test", "/a", article_page("A"))
    web.add("slow.test", "/b", article_page("B"))
    sleeps: list[float] = []
    context = FetchContext(client=client, robots=RobotsCache(client), archive=archive, host_delay=0.0,
                           now=lambda: NOW, sleep=sleeps.append, deadline=Deadline.after(20))
    for path in ("/a", "/b"):
        put(sources, Source(id=path.strip("/"), url=web.url("slow.test", path), kind="article", next_due_at=iso(NOW)))
    result = run_job(["a", "b"], sources, context)
    assert result.reports == [] and result.remaining == ["a", "b"]
    assert sleeps == []  # a 30 s Crawl-delay after robots.txt with 20 s left: handed back, not slept past the deadline
    assert sources.get("a").last["status"] == "deferred"
