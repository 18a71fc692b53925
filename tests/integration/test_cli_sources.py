"""`archiver sources ...` and `archiver fetch` against the local AWS and a fixture site on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hostile_http import HostileServer, drip_head

from archiver.cli import main
from archiver.fetch.schedule import parse_iso
from archiver.local.stack import LocalAWS
from archiver.local.web import FixtureWeb, Reply

HOST = "127.0.0.1"
LOREM = "The harbour authority said the strike would continue until the dispute over night shifts was settled. "


def rss(web: FixtureWeb, count: int = 2) -> str:
    items = "".join(f"<item><title>Story {n}</title><link>{web.url(HOST, f'/story-{n}')}</link>"
                    f"<guid>{web.url(HOST, f'/story-{n}')}</guid>"
                    f"<description><![CDATA[{LOREM * 30}]]></description></item>" for n in range(count))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title><link>{web.url(HOST, "/")}'
            f"</link><description>News</description>{items}</channel></rss>")


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as server:
        yield server


@pytest.fixture
def stack(clean_aws: LocalAWS, monkeypatch: pytest.MonkeyPatch) -> LocalAWS:
    monkeypatch.setenv("TABLE_NAME", clean_aws.resources.table_name)
    monkeypatch.setenv("ARCHIVE_BUCKET", clean_aws.resources.archive_bucket)
    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    return clean_aws


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def show(capsys: pytest.CaptureFixture, source_id: str) -> dict:
    assert main(["sources", "show", source_id]) == 0
    return json.loads(capsys.readouterr().out)  # the whole source, indented


def run_failing(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_adding_a_source_again_changes_its_options_and_keeps_its_state(stack, web, capsys) -> None:
    web.add(HOST, "/feed.xml", rss(web), "application/rss+xml")
    code, [added] = run(capsys, "sources", "add", web.url(HOST, "/feed.xml"), "--full", "never")
    assert code == 0 and added["health"] == "new"
    code, [fetched] = run(capsys, "sources", "fetch", added["id"])
    assert (code, fetched["status"], fetched["new"]) == (0, "archived", 2)
    shown = show(capsys, added["id"])
    kept = {key: shown[key] for key in ("validators", "seen", "last", "next_due_at")}
    assert kept["validators"] and len(kept["seen"]) == 2

    code, [again] = run(capsys, "sources", "add", web.url(HOST, "/feed.xml"), "--every", "15m")
    assert (code, again["updated"], again["every"], again["full"], again["health"]) == (0, True, 900, "never", "ok")
    after = show(capsys, added["id"])
    assert {key: after[key] for key in kept} == kept  # validators, entries seen, health: all still there
    web.clear_log()
    _, [second] = run(capsys, "sources", "fetch", added["id"])
    assert second["status"] == "not_modified" and all(r.conditional for r in web.requests(HOST)
                                                     if r.path == "/feed.xml")


def test_sources_set_changes_options_and_switches_a_source_off_and_on(stack, web, capsys) -> None:
    _, [added] = run(capsys, "sources", "add", web.url(HOST, "/feed.xml"), "--kind", "feed")
    code, [changed] = run(capsys, "sources", "set", added["id"], "--every", "2h", "--full", "always", "--disable")
    assert (code, changed["every"], changed["full"], changed["enabled"], changed["health"]) == (
        0, 7200, "always", False, "disabled")
    _, [enabled] = run(capsys, "sources", "set", added["id"], "--enable")
    assert enabled["enabled"] and enabled["every"] == 7200
    assert main(["sources", "set", "no-such-source", "--enable"]) == 2


def test_sources_list_shows_health_and_a_retry_after_capped_at_a_day(stack, web, capsys) -> None:
    # Hostile case 4: Retry-After of 31 years; the source stays enabled and says why it waits.
    web.route(HOST, "/feed.xml", lambda request: Reply(503, b"busy", {"Retry-After": "999999999"}))
    _, [added] = run(capsys, "sources", "add", web.url(HOST, "/feed.xml"), "--kind", "feed")
    code, [fetched] = run(capsys, "sources", "fetch", added["id"])
    assert (code, fetched["status"], fetched["http_status"]) == (1, "failed", 503)
    _, [listed] = run(capsys, "sources", "list")
    assert (listed["health"], listed["enabled"], listed["retry_after"], listed["retry_after_capped"]) == (
        "backing_off", True, 86400, True)
    assert parse_iso(listed["next_due"]) <= parse_iso(fetched["at"]) + timedelta(days=1)
    assert "capped at a day" in listed["error"]


# -- 9: robots.txt before any discovery GET ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["fetch"], ["sources", "add"]])
def test_case9_robots_txt_is_read_before_the_first_discovery_get(command, stack, web, capsys) -> None:
    web.add(HOST, "/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain")
    web.add(HOST, "/", f'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
                       f"<body>{LOREM}</body></html>")
    code, err = run_failing(capsys, *command, web.url(HOST, "/"))
    assert code == 2 and "robots_disallowed" in err
    assert "warning: FETCH_UNSAFE_ALLOW_NETWORKS is set (127.0.0.0/8)" in err  # said at every start
    assert [r.path for r in web.requests()] == ["/robots.txt"]  # the home page was never asked for


@pytest.mark.parametrize("command", [["fetch"], ["sources", "add"]])
def test_case9_discovery_asks_robots_txt_once_then_the_page(command, stack, web, capsys) -> None:
    web.add(HOST, "/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
                       "<body></body></html>")
    web.add(HOST, "/feed.xml", rss(web), "application/rss+xml")
    code, [line] = run(capsys, *command, web.url(HOST, "/"), "--full", "never")
    assert code == 0 and line["kind"] == "feed"
    paths = [r.path for r in web.requests()]
    assert paths[:2] == ["/robots.txt", "/"] and paths.count("/robots.txt") == 1


def test_archiver_fetch_stops_at_its_overall_deadline(stack, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FETCH_CLI_SECONDS", "1")
    monkeypatch.setenv("FETCH_DEADLINE", "60")
    with HostileServer(drip_head(interval=0.05), lifetime=30) as hostile:
        code, [line] = run(capsys, "fetch", hostile.url("/feed.xml"), "--kind", "feed")
        assert (code, line["status"]) == (3, "deferred")
        code, lines = run(capsys, "fetch", hostile.url("/"))  # discovery itself cut off
        assert (code, lines) == (3, [])
        assert hostile.wait_for_hang_ups(2) == 2


def test_a_site_added_as_a_sitemap_source_is_fetched_and_forgotten_when_removed(stack, web, capsys) -> None:
    from archiver.crawl_store import CrawlStore
    from archiver.source_store import SourceStore

    web.add(HOST, "/robots.txt", f"User-agent: *\nSitemap: {web.url(HOST, '/news-sitemap.xml')}\n", "text/plain")
    web.add(HOST, "/news-sitemap.xml", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{web.url(HOST, '/story')}</loc></url></urlset>", "application/xml")
    web.add(HOST, "/wp-sitemap.xml", f"{web.url(HOST, '/other')}\n", "text/plain")  # a plain-text one
    web.add(HOST, "/story", f"<html><head><title>Story</title></head><body><article><p>{LOREM * 5}</p>"
                            f"</article></body></html>")
    web.add(HOST, "/other", b"", "text/plain")
    code, [added] = run(capsys, "sources", "add", web.url(HOST, "/"), "--kind", "sitemap")
    assert (code, added["kind"], added["url"]) == (0, "sitemap", web.url(HOST, "/"))
    code, [fetched] = run(capsys, "sources", "fetch", added["id"])
    assert (code, fetched["status"], fetched["new"], fetched["pages"]) == (0, "archived", 1, 2)
    crawl = CrawlStore(SourceStore(stack.client("dynamodb"), stack.resources.table_name))
    assert set(crawl.pages(added["id"], [web.url(HOST, "/story"), web.url(HOST, "/other")])) == {
        web.url(HOST, "/story"), web.url(HOST, "/other")}
    assert main(["sources", "remove", added["id"]]) == 0
    assert crawl.pages(added["id"], [web.url(HOST, "/story")]) == {}
