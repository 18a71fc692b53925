"""Fetching sources end to end: a real HTTP server on 127.0.0.1 serving fixture sites, the moto server.

Every fetched document goes the dropped files' way (raw bytes, parse, normalize, store); these
tests check what fetching adds: conditional requests, incremental WordPress and sitemap fetches,
full articles for summary-only feeds, robots.txt, politeness, health and backoff, redirects, Gone.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from archiver.deadline import Deadline
from archiver.fetch.context import FetchContext
from archiver.fetch.guard import Guard
from archiver.fetch.http import HttpClient
from archiver.fetch.robots import RobotsCache
from archiver.fetch.schedule import iso
from archiver.fetch.sources import new_source
from archiver.fetch.worker import fetch_source, run_job
from archiver.local.stack import LocalAWS
from archiver.local.web import FixtureWeb, Reply, loopback_resolver, wordpress_posts
from archiver.model import Source
from archiver.source_store import SourceStore
from archiver.store import ArchiveStore

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOREM = ("The harbour authority said the strike would continue until the dispute over night shifts was settled, "
         "and that ferries to the islands would run on a reduced timetable in the meantime. ")


def rss(items: list[dict[str, str]], *, title: str = "Harbour News", link: str = "http://news.test/") -> str:
    entries = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link><guid>{i['link']}</guid>"
        f"<pubDate>{i.get('date', 'Tue, 05 Nov 2024 10:00:00 GMT')}</pubDate>"
        f"<description><![CDATA[{i['summary']}]]></description>"
        + (f"<content:encoded><![CDATA[{i['content']}]]></content:encoded>" if i.get("content") else "")
        + "</item>" for i in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{title}</title>'
            f"<link>{link}</link><description>News</description>{entries}</channel></rss>")


def article_page(title: str, paragraphs: int = 8) -> str:
    body = "".join(f"<p>{LOREM} Paragraph {n} of the story about {title.lower()}.</p>" for n in range(paragraphs))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Harbour News</title>'
            f'<meta property="og:type" content="article"><meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="2024-11-05T10:00:00Z"></head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright Harbour News</footer></body></html>")


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as server:
        yield server


@pytest.fixture
def client() -> Iterator[HttpClient]:
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),), resolver=loopback_resolver)
    with HttpClient(guard=guard, user_agent="PostArchiver/test (+https://example.invalid/contact)",
                    read_timeout=5.0, retries=1, backoff=0.0) as http:
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
    sleeps: list[float] = []
    ctx = FetchContext(client=client, robots=RobotsCache(client), archive=archive, host_delay=0.0,
                       now=lambda: NOW, sleep=sleeps.append, clock=lambda: 100.0)  # a clock that stands still
    ctx.sleeps = sleeps  # type: ignore[attr-defined]
    return ctx


class TimeUpAfter:
    """A deadline that passes once the web server has had `requests` requests: no clock in the test."""

    def __init__(self, web: FixtureWeb, requests: int):
        self.web = web
        self.requests = requests

    def remaining(self) -> float:
        return 1000.0 if len(self.web.requests()) < self.requests else 0.0


def count_calls(*clients: object) -> Counter:
    """Counts AWS API calls made through these boto3 clients from now on, by operation name."""
    calls: Counter = Counter()
    for aws_client in clients:
        aws_client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
    return calls


def feed_source(web: FixtureWeb, path: str = "/feed.xml", *, full: str = "never", host: str = "news.test") -> Source:
    url = web.url(host, path)
    return Source(id="src-" + path.strip("/").replace("/", "-"), url=url, kind="feed", full=full,
                  next_due_at=iso(NOW))


def test_a_feed_is_archived_then_only_asked_for_conditionally(web, context, archive) -> None:
    items = [{"title": f"Story {n}", "link": web_link(web, f"/story-{n}"), "summary": f"<p>{LOREM * 30}</p>"}
             for n in range(3)]
    web.add("news.test", "/feed.xml", rss(items), "application/rss+xml")
    source = feed_source(web)

    first = fetch_source(source, context)
    assert (first.status, first.http_status, first.new, first.updated) == ("archived", 200, 3, 0)
    assert source.validators[source.url]["etag"]
    assert source.next_due_at == iso(NOW + timedelta(seconds=source.every_seconds))
    titles = sorted(archive.get_post(post_id)["title"] for post_id in first.post_ids)
    assert titles == ["Story 0", "Story 1", "Story 2"]
    assert archive.get_outcome(None, source.url)["status"] == "archived"

    web.clear_log()
    calls = count_calls(archive._s3, archive._ddb)
    second = fetch_source(source, context)
    assert (second.status, second.http_status, second.new) == ("not_modified", 304, 0)
    [request] = web.requests("news.test")
    assert request.path == "/feed.xml" and request.conditional
    assert sum(calls.values()) == 0  # a 304 costs no parsing and no writes (the caller saves the source's health)


def web_link(web: FixtureWeb, path: str, host: str = "news.test") -> str:
    return web.url(host, path)


def test_a_changed_entry_becomes_a_new_version_and_a_new_entry_a_new_post(web, context, archive) -> None:
    items = [{"title": "Strike", "link": web_link(web, "/strike"), "summary": f"<p>{LOREM * 30}</p>"}]
    web.add("news.test", "/feed.xml", rss(items), "application/rss+xml")
    source = feed_source(web)
    [post_id] = fetch_source(source, context).post_ids

    items[0]["summary"] = f"<p>Update: the strike has ended. {LOREM * 30}</p>"
    items.append({"title": "Ferries", "link": web_link(web, "/ferries"), "summary": f"<p>{LOREM * 20}</p>"})
    web.add("news.test", "/feed.xml", rss(items), "application/rss+xml")
    report = fetch_source(source, context)
    assert (report.new, report.updated, report.unchanged) == (1, 1, 0)
    assert archive.get_post(post_id)["version"] == 2

    web.add("news.test", "/feed.xml", rss(items, title="Harbour News (renamed)"), "application/rss+xml")
    report = fetch_source(source, context)  # new bytes, same entries: nothing archived again
    assert (report.status, report.new, report.updated, report.unchanged) == ("unchanged", 0, 0, 2)


def test_summary_only_entries_get_their_page_as_the_full_article(web, context, archive) -> None:
    items = [{"title": "Harbour strike", "link": web_link(web, "/2024/11/harbour-strike"),
              "summary": "<p>Ferries cancelled as the strike goes on&hellip;</p>"}]
    web.add("news.test", "/feed.xml", rss(items), "application/rss+xml")
    web.add("news.test", "/2024/11/harbour-strike", article_page("Harbour strike"))
    source = feed_source(web, full="auto")

    report = fetch_source(source, context)
    [post_id] = report.post_ids
    post = json.loads(archive._s3.get_object(Bucket=archive.archive_bucket,
                                             Key=archive.get_post(post_id)["json_key"])["Body"].read())
    assert "Paragraph 7 of the story" in post["text"]
    assert "Copyright Harbour News" not in post["text"]
    assert post["excerpt"].startswith("Ferries cancelled as the strike goes on")
    page_key = post["extra"]["full_article"]["raw_key"]
    page_bytes = archive._s3.get_object(Bucket=archive.archive_bucket, Key=page_key)["Body"].read()
    assert b"Paragraph 7 of the story" in page_bytes  # the page's own bytes are an original too
    assert [r.path for r in web.requests("news.test")][-1] == "/2024/11/harbour-strike"


def test_a_fetched_article_has_its_byline_as_author_and_its_title_once(web, context, archive) -> None:
    page = article_page("Harbour strike").replace("<h1>Harbour strike</h1>",
                                                  '<h1>Harbour strike</h1><p class="byline">By Ana Ruiz</p>')
    web.add("news.test", "/2024/11/harbour-strike", page)
    source = Source(id="a", url=web.url("news.test", "/2024/11/harbour-strike"), kind="article", next_due_at=iso(NOW))
    [post_id] = fetch_source(source, context).post_ids
    post = json.loads(archive._s3.get_object(Bucket=archive.archive_bucket,
                                             Key=archive.get_post(post_id)["json_key"])["Body"].read())
    assert post["authors"] == ["Ana Ruiz"]
    assert post["title"] == "Harbour strike"
    assert not post["text"].startswith("Harbour strike")  # the page shows the title above the text: once


def test_full_article_mode_never_keeps_the_feed_summary(web, context, archive) -> None:
    items = [{"title": "Teaser", "link": web_link(web, "/teaser"), "summary": "<p>Short teaser&hellip;</p>"}]
    web.add("news.test", "/feed.xml", rss(items), "application/rss+xml")
    web.add("news.test", "/teaser", article_page("Teaser"))
    fetch_source(feed_source(web, full="never"), context)
    assert "/teaser" not in [r.path for r in web.requests("news.test")]


def test_wordpress_is_fetched_by_pages_then_incrementally(web, context, archive) -> None:
    posts = [wp_post(web, n) for n in range(25)]
    web.route("blog.test", "/wp-json/wp/v2/posts", wordpress_posts(posts))
    source = Source(id="wp", url=web.url("blog.test", "/wp-json/"), kind="wordpress", next_due_at=iso(NOW))
    context.wp_per_page = 10

    first = fetch_source(source, context)
    assert (first.status, first.new) == ("archived", 25), first.error
    api_requests = [r for r in web.requests("blog.test") if r.path.endswith("/posts")]
    assert [r.query.get("page") for r in api_requests] == ["1", "2", "3"]
    assert all(r.query.get("_embed") == "1" and r.query.get("orderby") == "modified" for r in api_requests)
    assert source.cursor == posts[-1]["modified"]

    web.clear_log()
    assert fetch_source(source, context).new == 0
    [request] = web.requests("blog.test")
    assert request.query["modified_after"] == posts[-1]["modified"]

    posts[3] = {**posts[3], "modified": "2024-12-01T09:00:00", "content": {"rendered": f"<p>Corrected. {LOREM}</p>"}}
    report = fetch_source(source, context)
    assert (report.new, report.updated) == (0, 1)


def wp_post(web: FixtureWeb, n: int) -> dict:
    stamp = f"2024-11-{1 + n // 24:02d}T{n % 24:02d}:00:00"
    return {"id": n + 1, "date": stamp, "date_gmt": stamp, "modified": stamp, "modified_gmt": stamp,
            "link": web.url("blog.test", f"/post-{n}/"), "status": "publish", "type": "post",
            "title": {"rendered": f"Post number {n}"}, "content": {"rendered": f"<p>{LOREM} ({n})</p>"},
            "excerpt": {"rendered": "<p>Excerpt</p>"}}


def test_a_sitemap_index_leads_to_pages_changed_since_the_last_fetch(web, context, archive) -> None:
    index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>{web.url("paper.test", "/sitemap-news.xml")}</loc></sitemap></sitemapindex>')
    pages = {f"/news/{name}": f"2024-11-0{day}T08:00:00Z" for day, name in ((1, "tide"), (2, "bridge"), (3, "storm"))}
    urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
        f"<url><loc>{web.url('paper.test', path)}</loc><lastmod>{mod}</lastmod></url>" for path, mod in pages.items())
        + "</urlset>")
    web.add("paper.test", "/sitemap.xml", index, "application/xml")
    web.add("paper.test", "/sitemap-news.xml", urlset, "application/xml")
    for path in pages:
        web.add("paper.test", path, article_page(path.rsplit("/", 1)[1].title()))
    source = Source(id="sm", url=web.url("paper.test", "/sitemap.xml"), kind="sitemap", next_due_at=iso(NOW))

    first = fetch_source(source, context)
    assert (first.status, first.new) == ("archived", 3)
    web.clear_log()
    second = fetch_source(source, context)
    assert (second.status, second.new) == ("unchanged", 0)
    # Both asked for conditionally: the index's children are kept in its record, the leaf was read completely.
    assert [(r.path, r.conditional) for r in web.requests("paper.test")] == [
        ("/sitemap.xml", True), ("/sitemap-news.xml", True)]

    pages["/news/bridge"] = "2024-11-05T08:00:00Z"  # one page changed
    urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
        f"<url><loc>{web.url('paper.test', path)}</loc><lastmod>{mod}</lastmod></url>" for path, mod in pages.items())
        + "</urlset>")
    web.add("paper.test", "/sitemap-news.xml", urlset, "application/xml")
    web.clear_log()
    third = fetch_source(source, context)
    assert (third.new, third.updated, third.unchanged) == (0, 0, 1)  # fetched again; its text had not changed
    assert [r.path for r in web.requests("paper.test")] == ["/sitemap.xml", "/sitemap-news.xml", "/news/bridge"]


def test_a_sitemap_sources_crawl_records_live_in_the_table_across_jobs(web, context, sources) -> None:
    from archiver.crawl_store import CrawlStore

    paths = [f"/news/{n}" for n in range(5)]
    web.add("paper.test", "/sitemap.xml", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
        f"<url><loc>{web.url('paper.test', p)}</loc><lastmod>2024-11-01</lastmod></url>" for p in paths)
        + "</urlset>", "application/xml")
    for path in paths:
        web.add("paper.test", path, article_page(path.rsplit("/", 1)[1]))
    sources.put(Source(id="sm", url=web.url("paper.test", "/sitemap.xml"), kind="sitemap", next_due_at=iso(NOW)))
    context.max_articles = 2
    statuses = []
    for _ in range(4):  # four scheduled runs, each a job of its own: only the table carries what was fetched
        context.crawl = CrawlStore(sources)
        statuses += [r.status for r in run_job(["sm"], sources, context).reports]
    assert statuses == ["partial", "partial", "archived", "unchanged"]
    fetched = [r.path for r in web.requests("paper.test") if r.path.startswith("/news/")]
    assert sorted(fetched) == paths  # each once
    crawl = CrawlStore(sources)
    assert crawl.pages("sm", [web.url("paper.test", p) for p in paths]) == {
        web.url("paper.test", p): "2024-11-01T00:00:00Z" for p in paths}
    assert crawl.document("sm", web.url("paper.test", "/sitemap.xml"))["complete"]
    crawl.forget("sm")
    assert crawl.pages("sm", [web.url("paper.test", p) for p in paths]) == {}


def test_robots_disallow_and_crawl_delay_are_honoured(web, context) -> None:
    web.add("slow.test", "/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 7\n", "text/plain")
    web.add("slow.test", "/private/feed.xml", rss([]), "application/rss+xml")
    web.add("slow.test", "/a", article_page("A"))
    web.add("slow.test", "/b", article_page("B"))
    blocked = Source(id="p", url=web.url("slow.test", "/private/feed.xml"), kind="feed", next_due_at=iso(NOW))
    report = fetch_source(blocked, context)
    assert (report.status, report.error.code) == ("failed", "robots_disallowed")
    assert "/private/feed.xml" not in [r.path for r in web.requests("slow.test")]

    for path in ("/a", "/b"):
        fetch_source(Source(id=path, url=web.url("slow.test", path), kind="article", next_due_at=iso(NOW)), context)
    assert context.sleeps == [7.0]  # the second page waited for the Crawl-delay
    assert [r.path for r in web.requests("slow.test")].count("/robots.txt") == 1


def test_gone_disables_the_source(web, context) -> None:
    web.route("old.test", "/feed.xml", lambda request: Reply(410, b"gone"))
    source = Source(id="gone", url=web.url("old.test", "/feed.xml"), kind="feed", next_due_at=iso(NOW))
    report = fetch_source(source, context)
    assert (report.status, report.http_status) == ("failed", 410)
    assert not source.enabled and "410" in source.disabled_reason


def test_retry_after_pushes_the_next_fetch_and_failures_back_off_then_reset(web, context) -> None:
    state = {"reply": Reply(429, b"slow down", {"Retry-After": "7200"})}
    web.route("busy.test", "/feed.xml", lambda request: state["reply"])
    source = Source(id="busy", url=web.url("busy.test", "/feed.xml"), kind="feed", next_due_at=iso(NOW))
    report = fetch_source(source, context)
    assert (report.status, report.http_status, report.error.code) == ("failed", 429, "http_error")
    assert source.next_due_at >= iso(NOW + timedelta(seconds=7200))
    assert source.failures == 1

    state["reply"] = Reply(404, b"missing")
    fetch_source(source, context)
    fetch_source(source, context)
    assert source.failures == 3
    assert source.enabled  # a feed that fails never stalls for good: it is retried with backoff

    item = [{"title": "Back", "link": web_link(web, "/back", "busy.test"), "summary": f"<p>{LOREM * 20}</p>"}]
    body = rss(item).encode()
    state["reply"] = Reply(200, body, {"Content-Type": "application/rss+xml"})
    report = fetch_source(source, context)
    assert (report.status, source.failures) == ("archived", 0)
    assert source.next_due_at == iso(NOW + timedelta(seconds=source.every_seconds))


def test_a_permanent_redirect_moves_the_source(web, context) -> None:
    new_url = web.url("news.test", "/new-feed.xml")
    web.route("news.test", "/old-feed.xml", lambda request: Reply(301, b"", {"Location": new_url}))
    web.add("news.test", "/new-feed.xml", rss([{"title": "Moved", "link": web_link(web, "/moved"),
                                                "summary": f"<p>{LOREM * 20}</p>"}]), "application/rss+xml")
    source = feed_source(web, "/old-feed.xml")
    assert fetch_source(source, context).status == "archived"
    assert source.url == new_url


def test_adding_a_home_page_discovers_its_feed_or_wordpress_api(web, client) -> None:
    web.add("news.test", "/", '<html><head><title>Harbour News</title><link rel="alternate" '
                              'type="application/rss+xml" href="/feed.xml"></head><body></body></html>')
    source = new_source(web.url("news.test", "/"), get=client.get, now=NOW)
    assert (source.kind, source.url, source.site_url) == ("feed", web.url("news.test", "/feed.xml"),
                                                          web.url("news.test", "/"))
    api = web.url("blog.test", "/wp-json/")
    web.add("blog.test", "/", "<html><head><title>Blog</title></head></html>",
            headers={"Link": f'<{api}>; rel="https://api.w.org/"'})
    source = new_source(web.url("blog.test", "/"), get=client.get, now=NOW, every="15m", full="always")
    assert (source.kind, source.url, source.every_seconds, source.full) == ("wordpress", api, 900, "always")


def test_discovery_reads_robots_txt_first_and_is_paced_like_a_job(web, context) -> None:
    web.add("news.test", "/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
                              "</head><body></body></html>")
    web.add("news.test", "/feed.xml", rss([]), "application/rss+xml")
    context.host_delay = 2.0
    source = new_source(web.url("news.test", "/"), get=context.get, now=NOW)
    assert [r.path for r in web.requests("news.test")] == ["/robots.txt", "/"]
    fetch_source(source, context)
    assert context.sleeps == [2.0, 2.0]  # the page after robots.txt, the feed after the page (the clock stands still)


def test_a_job_short_of_time_hands_back_the_sources_not_done(web, context, sources) -> None:
    for n in range(3):
        sources.put(Source(id=f"s{n}", url=web.url("news.test", f"/f{n}.xml"), kind="feed", next_due_at=iso(NOW)))
    context.deadline = Deadline.after(-1)  # the margin is already reached
    result = run_job(["s0", "s1", "s2"], sources, context)
    assert result.remaining == ["s0", "s1", "s2"] and not result.reports
    assert web.requests() == []


def test_a_source_removed_while_queued_is_skipped_and_not_recreated(web, context, sources) -> None:
    web.add("news.test", "/feed.xml", rss([]), "application/rss+xml")
    sources.put(Source(id="kept", url=web.url("news.test", "/feed.xml"), kind="feed", next_due_at=iso(NOW)))
    result = run_job(["gone", "kept"], sources, context)
    assert [r.source_id for r in result.reports] == ["kept"]
    assert sources.get("gone") is None
    assert sources.get("kept").last["status"] in ("failed", "unchanged")


def test_the_schedule_queues_one_job_per_host_and_workers_fetch_them(clean_aws, web, monkeypatch) -> None:
    """Over the moto server, as deployed: schedule event -> FIFO fetch queue (group = host) -> handler."""
    from archiver.local.runner import LocalFunction

    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    function = LocalFunction(clean_aws, clean_aws.resources)
    store = SourceStore(clean_aws.client("dynamodb"), clean_aws.resources.table_name)
    now = iso(datetime.now(UTC))
    for host, path in (("127.0.0.1", "/a.xml"), ("127.0.0.1", "/b.xml"), ("localhost", "/c.xml")):
        items = [{"title": f"{host}{path} story", "link": web.url(host, path + "/story"),
                  "summary": f"<p>{LOREM * 20}</p>"}]
        web.add(host, path, rss(items), "application/rss+xml")
        store.put(Source(id=f"{host}{path}".replace("/", "-"), url=web.url(host, path), kind="feed",
                         full="never", next_due_at=now))
    schedule = json.loads((clean_aws.template_path.parent / "events" / "schedule.json").read_text("utf-8"))

    assert function.invoke(schedule) == {"due": 3, "queued": 3, "jobs": 2, "hosts": 2,
                                         "rechecks": {"due": 0, "queued": 0, "jobs": 0, "hosts": 0}}
    assert function.invoke(schedule)["due"] == 0  # leased: an overlapping run queues nothing twice
    sqs = clean_aws.client("sqs")
    queued = sqs.receive_message(QueueUrl=clean_aws.resources.fetch_queue_url, MaxNumberOfMessages=10,
                                 AttributeNames=["MessageGroupId"], VisibilityTimeout=0)["Messages"]
    assert sorted(m["Attributes"]["MessageGroupId"] for m in queued) == [f"127.0.0.1:{web.port}",
                                                                         f"localhost:{web.port}"]
    function.drain_queue(queue_url=clean_aws.resources.fetch_queue_url)
    health = {s.id: s.last for s in store.list()}
    assert {h["status"] for h in health.values()} == {"archived"}
    assert all(s.next_due_at > now for s in store.list())

    web.clear_log()
    for summary in store.list():  # due again: the second run asks only conditionally and archives nothing
        source = store.get(summary.id)
        source.next_due_at = now
        store.put(source)
    function.invoke(schedule)
    function.drain_queue(queue_url=clean_aws.resources.fetch_queue_url)
    assert {s.last["status"] for s in store.list()} == {"not_modified"}
    assert len(web.requests()) == 3 and all(r.conditional for r in web.requests())


def test_a_hosts_robots_txt_is_shared_by_later_jobs_through_the_table(web, client, archive, sources) -> None:
    web.add("shared.test", "/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    web.add("shared.test", "/a", article_page("A"))
    for _ in range(2):  # two jobs, as on two workers: each has its own cache, the table is shared
        context = FetchContext(client=client, robots=RobotsCache(client, store=sources), archive=archive,
                               host_delay=0.0, now=lambda: NOW)
        fetch_source(Source(id="a", url=web.url("shared.test", "/a"), kind="article", next_due_at=iso(NOW)), context)
        assert not context.robots.rules(web.url("shared.test", "/private/x")).allowed(
            web.url("shared.test", "/private/x"))
    assert [r.path for r in web.requests("shared.test")].count("/robots.txt") == 1


def test_a_robots_txt_that_fails_is_not_shared(web, client, archive, sources) -> None:
    web.route("flaky.test", "/robots.txt", lambda request: Reply(503, b"busy"))
    for _ in range(2):
        robots = RobotsCache(client, store=sources)
        assert not robots.rules(web.url("flaky.test", "/a")).allowed(web.url("flaky.test", "/a"))
    assert [r.path for r in web.requests("flaky.test")].count("/robots.txt") >= 2  # asked again by the next job


def test_a_page_in_the_charset_its_header_names_is_read_in_it(web, context, archive) -> None:
    title = "Забастовка в порту"
    page = article_page("Strike").replace("<meta charset=\"utf-8\">", "").replace("<h1>Strike</h1>",
                                                                                  f"<h1>{title}</h1>")
    web.add("ru.test", "/story", page.encode("koi8-r"), "text/html; charset=KOI8-R")
    source = Source(id="ru", url=web.url("ru.test", "/story"), kind="article", next_due_at=iso(NOW))
    [post_id] = fetch_source(source, context).post_ids
    post = json.loads(archive._s3.get_object(Bucket=archive.archive_bucket,
                                             Key=archive.get_post(post_id)["json_key"])["Body"].read())
    assert title in post["text"]


def test_slow_and_oversized_responses_are_the_sources_failures(web, archive) -> None:
    import time as clock

    def slow(request):
        clock.sleep(1.5)
        return Reply(200, b"<rss></rss>", {"Content-Type": "application/rss+xml"})

    web.route("slow.test", "/feed.xml", slow)
    web.add("big.test", "/feed.xml", b"<rss>" + b" " * 300_000 + b"</rss>", "application/rss+xml")
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),), resolver=loopback_resolver)
    with HttpClient(guard=guard, user_agent="PostArchiver/test", read_timeout=0.5, max_bytes=100_000, retries=0,
                    backoff=0.0) as http:
        context = FetchContext(client=http, robots=RobotsCache(http), archive=archive, host_delay=0.0, now=lambda: NOW)
        codes = {}
        for host in ("slow.test", "big.test"):
            source = Source(id=host, url=web.url(host, "/feed.xml"), kind="feed", next_due_at=iso(NOW))
            report = fetch_source(source, context)
            codes[host] = (report.status, report.error.code, source.last["error"]["code"], source.failures)
    assert codes == {"slow.test": ("failed", "timeout", "timeout", 1),
                     "big.test": ("failed", "too_large", "too_large", 1)}


def private_resolver(host: str, port: int) -> list[str]:
    """A test resolver: intranet.test is a private address, anything else loopback."""
    return ["10.0.0.1"] if host == "intranet.test" else ["127.0.0.1"]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[::1]/feed",
                                 "http://[::ffff:10.0.0.1]/feed", "file:///etc/passwd", "gopher://127.0.0.1:70/",
                                 "http://127.0.0.1:9/feed", "http://intranet.test/feed"])
def test_an_unsafe_source_is_refused_with_its_reason_recorded(url: str, archive) -> None:
    # no allow-list: as deployed
    with HttpClient(guard=Guard(resolver=private_resolver), user_agent="PostArchiver/test") as http:
        context = FetchContext(client=http, robots=RobotsCache(http), archive=archive, host_delay=0.0, now=lambda: NOW)
        source = Source(id="unsafe", url=url, kind="feed", next_due_at=iso(NOW))
        report = fetch_source(source, context)
    assert (report.status, source.last["error"]["code"]) == ("failed", "unsafe_url")
    assert http.requests_made == 0


def test_a_redirect_to_a_private_address_is_refused_on_the_source(web, archive) -> None:
    web.route("news.test", "/feed.xml", lambda request: Reply(302, b"", {"Location": "http://intranet.test/admin"}))
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),), resolver=private_resolver)
    with HttpClient(guard=guard, user_agent="PostArchiver/test") as http:
        context = FetchContext(client=http, robots=RobotsCache(http), archive=archive, host_delay=0.0, now=lambda: NOW)
        source = Source(id="redirect", url=web.url("news.test", "/feed.xml"), kind="feed", next_due_at=iso(NOW))
        report = fetch_source(source, context)
    assert (report.status, report.error.code) == ("failed", "unsafe_url")
    assert "10.0.0.1" in report.error.message or "intranet.test" in report.error.message


@pytest.mark.parametrize(("fixture", "content_type"), [
    ("feed/atom.xml", "application/atom+xml"), ("feed/rdf.rdf", "application/rdf+xml"),
    ("feed/rss2.xml", "application/rss+xml"), ("json_feed/feed11.json", "application/feed+json")])
def test_feeds_of_every_kind_are_fetched_and_archived(fixture, content_type, web, context, repo_root) -> None:
    body = (repo_root / "tests" / "fixtures" / fixture).read_bytes()
    web.add("kinds.test", "/" + fixture.replace("/", "-"), body, content_type)
    source = Source(id="k", url=web.url("kinds.test", "/" + fixture.replace("/", "-")), kind="feed", full="never",
                    next_due_at=iso(NOW))
    report = fetch_source(source, context)
    assert report.status == "archived", report.error
    assert report.new >= 1 and len(report.post_ids) == report.new


def test_a_source_cut_short_keeps_its_progress_and_goes_back_to_the_queue(web, context, sources) -> None:
    posts = [wp_post(web, n) for n in range(25)]
    web.route("blog.test", "/wp-json/wp/v2/posts", wordpress_posts(posts))
    sources.put(Source(id="wp", url=web.url("blog.test", "/wp-json/"), kind="wordpress", next_due_at=iso(NOW)))
    context.wp_per_page = 10
    context.deadline = TimeUpAfter(web, requests=3)  # robots.txt, pages 1 and 2: then time runs short
    result = run_job(["wp"], sources, context)
    assert result.remaining == ["wp"] and not result.reports
    saved = sources.get("wp")
    assert saved.last["status"] == "deferred"
    assert saved.cursor == "2024-11-01T08:59:59"  # page 1's newest change, less a second
    assert len(saved.seen) == 10
