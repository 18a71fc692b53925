"""Re-checking archived posts end to end: a real HTTP server on 127.0.0.1, the moto server, the handler.

A fetched article is archived; its page changes upstream; the scheduled run queues its due re-check on the
fetch queue, the worker fetches the page again (conditionally) and archives version 2 with its change record;
a 410 marks the post gone upstream (an event, nothing deleted); `archiver posts history|diff` show it all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from archiver.cli import main
from archiver.fetch.schedule import iso
from archiver.history import diff, history
from archiver.local.runner import LocalFunction
from archiver.local.stack import LocalAWS
from archiver.local.web import FixtureWeb, Reply
from archiver.model import Source

HOST = "127.0.0.1"
LOREM = ("The harbour authority said the strike would continue until the dispute over night shifts was settled, "
         "and that ferries to the islands would run on a reduced timetable in the meantime. ")


def article(title: str, paragraphs: list[str], published: datetime) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:type" content="article"><meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="{iso(published)}"></head>'
            f"<body><article><h1>{title}</h1>{body}</article><footer>Harbour News</footer></body></html>")


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as server:
        yield server


@pytest.fixture
def function(clean_aws: LocalAWS, monkeypatch: pytest.MonkeyPatch) -> LocalFunction:
    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    for name in ("TABLE_NAME", "ARCHIVE_BUCKET"):  # for the CLI, as a user's environment would name the stack
        monkeypatch.setenv(name, clean_aws.resources.environment[name])
    return LocalFunction(clean_aws, clean_aws.resources)


def scheduled_run(function: LocalFunction) -> dict:
    """The schedule event through the handler, then the fetch queue drained through it, as deployed."""
    event = json.loads((function.aws.template_path.parent / "events" / "schedule.json").read_text("utf-8"))
    report = function.invoke(event)
    function.drain_queue(queue_url=function.resources.fetch_queue_url)
    return report


def cli(capsys: pytest.CaptureFixture, *argv: str) -> str:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_a_page_changed_upstream_is_archived_again_with_its_change_record_then_gone(function, web, capsys) -> None:
    store = function.store
    published = datetime.now(UTC) - timedelta(hours=2)
    paragraphs = [LOREM * 3, "Talks between the union and the port resume on Monday.", LOREM * 2]
    web.add(HOST, "/2026/strike", article("Harbour strike", paragraphs, published))
    url = web.url(HOST, "/2026/strike")
    from archiver.source_store import SourceStore

    SourceStore(function.aws.client("dynamodb"), function.resources.table_name).put(
        Source(id="strike", url=url, kind="article", next_due_at=iso(datetime.now(UTC))))
    scheduled_run(function)  # the source's own fetch: version 1, and its post's re-check a day after publication
    [post_id] = store.get_outcome(None, url)["post_ids"]
    recheck = store.rechecks.get(post_id)
    assert (recheck.url, recheck.mode, recheck.step, recheck.due) == (url, "page", 0,
                                                                      iso(published + timedelta(days=1)))
    assert scheduled_run(function)["rechecks"]["due"] == 0  # not due yet

    cli(capsys, "posts", "recheck", post_id)  # due now: the page has not changed, a conditional GET says so
    web.clear_log()
    assert scheduled_run(function)["rechecks"] == {"due": 1, "queued": 1, "jobs": 1, "hosts": 1}
    [request] = web.requests(HOST)
    assert request.path == "/2026/strike" and request.conditional
    assert store.rechecks.get(post_id).last["result"] == "unchanged"
    assert [v["version"] for v in store.list_versions(post_id)] == [1]

    edited = [LOREM * 3, "Talks between the union and the port broke down on Monday.",
              "Correction: an earlier version misnamed the port.", LOREM * 2]
    web.add(HOST, "/2026/strike", article("Harbour strike: talks break down", edited, published))
    store.rechecks.set_due(post_id, iso(datetime.now(UTC)))
    scheduled_run(function)
    latest = store.get_post(post_id)
    assert (latest["version"], latest["trigger"], latest["title"]) == (2, "rechecked",
                                                                        "Harbour strike: talks break down")
    changes = store.get_post_document(latest)["changes"]
    assert (changes["from_version"], changes["to_version"], changes["trigger"]) == (1, 2, "rechecked")
    assert changes["flags"] == ["edited", "corrected"]
    assert changes["fields"]["title"]["new"] == "Harbour strike: talks break down"
    assert [(s["old"], s["new"]) for s in changes["text"]["spans"]] == [
        ("resume", "broke down"), ("", "Correction: an earlier version misnamed the port.")]
    assert changes["notices"][0]["kind"] == "correction"
    assert store.rechecks.get(post_id).last == {"at": store.rechecks.get(post_id).last["at"], "result": "changed",
                                                "http_status": 200, "version": 2}

    web.route(HOST, "/2026/strike", lambda request: Reply(410, b"gone", {"Content-Type": "text/plain"}))
    store.rechecks.set_due(post_id, iso(datetime.now(UTC)))
    scheduled_run(function)
    latest = store.get_post(post_id)
    assert latest["version"] == 2 and latest["gone_upstream"]["http_status"] == 410
    assert store.rechecks.get(post_id).due is None  # 410: gone for good, not asked for again
    assert len(store.list_versions(post_id)) == 2  # nothing deleted: both versions stay readable
    assert store.get_post_document(store.list_versions(post_id)[0])["version"] == 1

    timeline = history(store, post_id)
    assert [(e["kind"], e.get("version"), e.get("trigger"), e["flags"]) for e in timeline] == [
        ("version", 1, "fetched", []), ("version", 2, "rechecked", ["edited", "corrected"]),
        ("gone_upstream", 2, None, ["gone_upstream"])]
    lines = [json.loads(line) for line in cli(capsys, "posts", "history", post_id).splitlines()]
    assert lines == json.loads(json.dumps(timeline))
    shown = json.loads(cli(capsys, "posts", "diff", post_id, "1", "2"))
    assert shown == json.loads(json.dumps(diff(store, post_id, 1, 2)))
    assert (shown["from_version"], shown["to_version"], shown["text"]["inserted"], shown["text"]["deleted"]) == (
        1, 2, 9, 1)
    assert "title" in shown["fields"]


def test_posts_commands_say_what_is_missing_in_one_line(local_aws, monkeypatch, capsys) -> None:
    for name in ("TABLE_NAME", "ARCHIVE_BUCKET"):
        monkeypatch.setenv(name, local_aws.resources.environment[name])
    assert main(["posts", "history", "aaaaaaaaaaaaaaaaaaaa"]) == 2
    assert capsys.readouterr().err.strip() == "archiver: post_not_found: no archived post aaaaaaaaaaaaaaaaaaaa"
    assert main(["posts", "recheck", "aaaaaaaaaaaaaaaaaaaa"]) == 2
    assert "post_not_found" in capsys.readouterr().err


# -- the re-check of feed entries, through a job's FetchContext (no handler)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def context(local_aws: LocalAWS) -> Iterator:
    """A job's context over the session's stack (fresh posts per test: each test's server has its own port)."""
    import ipaddress

    from archiver.fetch.context import FetchContext
    from archiver.fetch.guard import Guard
    from archiver.fetch.http import HttpClient
    from archiver.fetch.robots import RobotsCache
    from archiver.local.web import loopback_resolver
    from archiver.store import ArchiveStore

    archive = ArchiveStore(local_aws.client("s3"), local_aws.client("dynamodb"),
                           archive_bucket=local_aws.resources.archive_bucket,
                           table_name=local_aws.resources.table_name)
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),), resolver=loopback_resolver)
    with HttpClient(guard=guard, user_agent="PostArchiver/test", read_timeout=5.0, retries=1, backoff=0.0) as http:
        yield FetchContext(client=http, robots=RobotsCache(http), archive=archive, host_delay=0.0, now=lambda: NOW,
                           sleep=lambda seconds: None, clock=lambda: 100.0)


def feed(web: FixtureWeb, entries: list[tuple[str, str, str]]) -> str:
    items = "".join(f"<item><title>{title}</title><link>{web.url('news.test', path)}</link>"
                    f"<guid>{web.url('news.test', path)}</guid><pubDate>Wed, 25 Nov 2026 12:00:00 GMT</pubDate>"
                    f"<description><![CDATA[{body}]]></description></item>" for title, path, body in entries)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title>'
            f"<link>{web.url('news.test', '/')}</link><description>News</description>{items}</channel></rss>")


def fetched_post(web: FixtureWeb, context, entries: list[tuple[str, str, str]], full: str) -> str:
    from archiver.fetch.worker import fetch_source

    web.add("news.test", "/feed.xml", feed(web, entries), "application/rss+xml")
    source = Source(id="feed", url=web.url("news.test", "/feed.xml"), kind="feed", full=full, next_due_at=iso(NOW))
    [post_id] = fetch_source(source, context).post_ids
    return post_id


def test_a_feed_entry_completed_by_its_page_is_rebuilt_the_same_way_and_only_a_changed_page_is_a_version(
        web, context) -> None:
    from archiver.fetch.recheck import run_recheck_job

    published = NOW - timedelta(days=1)
    web.add("news.test", "/strike", article("Strike | Harbour News", [LOREM * 3, "Talks resume."], published),
            validators=False)  # a server without validators: only the rebuilt content tells
    post_id = fetched_post(web, context, [("Harbour strike", "/strike", "<p>Ferries cancelled&hellip;</p>")], "auto")
    archive = context.archive
    recheck = archive.rechecks.get(post_id)
    assert (recheck.mode, recheck.url, recheck.validators) == ("page", web.url("news.test", "/strike"), {})

    result = run_recheck_job([post_id], context)  # the same page: rebuilt to the same content hash
    assert dict(result.counts) == {"unchanged": 1} and archive.get_post(post_id)["version"] == 1

    web.add("news.test", "/strike", article("Strike | Harbour News", [LOREM * 3, "Talks broke down."], published),
            validators=False)
    result = run_recheck_job([post_id], context)
    assert (dict(result.counts), result.versions) == ({"changed": 1}, [post_id])
    latest = archive.get_post(post_id)
    document = archive.get_post_document(latest)
    assert (latest["version"], document["title"], document["source"]["format"]) == (2, "Harbour strike", "rss")
    assert document["excerpt"].startswith("Ferries cancelled")  # the entry's own fields, as stored
    assert document["changes"]["fields"] == {}
    assert [(s["old"], s["new"]) for s in document["changes"]["text"]["spans"]] == [("resume.", "broke down.")]


def test_a_feed_body_post_is_checked_for_its_page_only_gone_then_back(web, context) -> None:
    from archiver.fetch.recheck import run_recheck_job

    post_id = fetched_post(web, context, [("Harbour strike", "/strike", f"<p>{LOREM * 30}</p>")], "auto")
    archive = context.archive
    assert archive.rechecks.get(post_id).mode == "status"
    web.route("news.test", "/strike", lambda request: Reply(404, b"not here", {"Content-Type": "text/plain"}))
    assert dict(run_recheck_job([post_id], context).counts) == {"gone": 1}
    assert archive.get_post(post_id)["gone_upstream"]["http_status"] == 404
    assert archive.rechecks.get(post_id).due is not None  # a 404 may pass: its later steps still run

    web.add("news.test", "/moved", article("Strike", [LOREM], NOW))  # back, with another text: not this post's
    web.route("news.test", "/strike", lambda request: Reply(301, b"", {"Location": web.url("news.test", "/moved")}))
    assert dict(run_recheck_job([post_id], context).counts) == {"unchanged": 1, "back": 1}
    assert archive.rechecks.get(post_id).url == web.url("news.test", "/moved")  # moved for good: asked there next
    assert "gone_upstream" not in archive.get_post(post_id)
    assert [(e["kind"], e["http_status"]) for e in history(archive, post_id) if e["kind"] != "version"] == [
        ("gone_upstream", 404), ("back_upstream", 200)]
    assert len(archive.list_versions(post_id)) == 1


def test_a_job_out_of_time_hands_back_the_posts_not_checked(web, context) -> None:
    from archiver.fetch.recheck import run_recheck_job

    post_id = fetched_post(web, context, [("Harbour strike", "/strike", f"<p>{LOREM * 30}</p>")], "auto")
    web.clear_log()
    context.deadline = type("Spent", (), {"remaining": lambda self: 0.0})()
    result = run_recheck_job([post_id, "another"], context)
    assert result.remaining == [post_id, "another"] and not result.counts
    assert web.requests() == []
