"""`make demo-fetch`: fetch three local sites on a schedule, twice, through the local stack.

Starts fixture sites on 127.0.0.1 (a news site whose RSS feed carries summaries only, a WordPress
site with its REST API, a paper with a sitemap index), adds their home pages with
`archiver sources add` (which discovers the feed, the API and the sitemap), then runs the
schedule twice as deployed (schedule event -> FIFO fetch queue -> handler). The first run
archives every post; the second asks only conditionally and archives nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from make_sample_bundle import gradient_png  # scripts/, beside this one

from archiver.cli import main as archiver
from archiver.fetch.schedule import iso
from archiver.local.runner import LocalFunction, export_bucket
from archiver.local.stack import LocalAWS
from archiver.local.web import FixtureWeb, Request, wordpress_posts
from archiver.source_store import SourceStore

REPO = Path(__file__).resolve().parents[1]
EXPORT = REPO / "out" / "fetch-archive"
PARAGRAPH = ("Dock workers walked out at dawn on Tuesday, halting the ferries to the islands and leaving "
             "hundreds of lorries queued on the quay road, as talks over night-shift pay broke down again. ")


@dataclass
class Run:
    reports: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


def article(title: str, n: int, photo: str | None = None) -> str:
    paragraphs = "".join(f"<p>{PARAGRAPH}({title}, part {i + 1}.)</p>" for i in range(6))
    figure = (f'<figure><img src="{photo}" alt="{title}: the quay" width="480" height="270">'
              "<figcaption>The quay road at dawn.</figcaption></figure>") if photo else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:type" content="article"><meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="2024-11-0{n}T09:00:00Z"></head><body>'
            f"<nav><a href='/'><img src='/logo.png' alt='Quay News'>Home</a></nav><article><h1>{title}</h1>"
            f"{paragraphs[:len(paragraphs) // 2]}{figure}{paragraphs[len(paragraphs) // 2:]}</article>"
            "<footer>&copy; Local news</footer></body></html>")


def build_news(web: FixtureWeb) -> str:
    """A news site: home page -> RSS feed of summaries -> full articles."""
    stories = ["Harbour strike enters second day", "Ferries cancelled", "Talks resume"]
    items = "".join(
        f"<item><title>{title}</title><link>{web.url('127.0.0.1', f'/news/{n}')}</link>"
        f"<guid>{web.url('127.0.0.1', f'/news/{n}')}</guid><pubDate>0{n + 1} Nov 2024 09:00:00 GMT</pubDate>"
        f"<description>{title}: the latest from the quay&#8230;</description></item>"
        for n, title in enumerate(stories))
    web.add("127.0.0.1", "/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>Quay News'
            f"</title><link>{web.url('127.0.0.1', '/')}</link><description>News</description>{items}"
            "</channel></rss>", "application/rss+xml")
    for n, title in enumerate(stories):  # each with a photo, archived beside it by the media job
        web.add("127.0.0.1", f"/news/{n}", article(title, n + 1, photo=f"/photos/{n}.png"))
        web.add("127.0.0.1", f"/photos/{n}.png", gradient_png(480, 270, (240, 160 + 30 * n, 110), (30, 60, 110)),
                "image/png")
    web.add("127.0.0.1", "/", '<html><head><title>Quay News</title><link rel="alternate" '
            'type="application/rss+xml" title="Quay News" href="/feed.xml"></head><body>Quay News</body></html>')
    return web.url("127.0.0.1", "/")


def build_wordpress(web: FixtureWeb) -> str:
    """A WordPress site: home page announcing its REST API (Link header), three posts."""
    posts = [{"id": n, "date_gmt": f"2024-11-0{n}T10:00:00", "modified": f"2024-11-0{n}T10:00:00",
              "modified_gmt": f"2024-11-0{n}T10:00:00", "link": web.url("127.0.0.1", f"/{n}/"), "type": "post",
              "status": "publish", "title": {"rendered": f"Council notes, week {n}"},
              "content": {"rendered": f"<p>{PARAGRAPH}</p><p>Minutes of week {n}.</p>"},
              "excerpt": {"rendered": ""}} for n in (1, 2, 3)]
    web.route("127.0.0.1", "/wp-json/wp/v2/posts", wordpress_posts(posts))
    api = web.url("127.0.0.1", "/wp-json/")
    web.add("127.0.0.1", "/", "<html><head><title>Council blog</title></head><body></body></html>",
            headers={"Link": f'<{api}>; rel="https://api.w.org/"'})
    return web.url("127.0.0.1", "/")


def build_paper(web: FixtureWeb) -> str:
    """A paper with a sitemap index and a news sitemap of two articles."""
    child = web.url("127.0.0.1", "/sitemap-news.xml")
    web.add("127.0.0.1", "/sitemap.xml", '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
            f'schemas/sitemap/0.9"><sitemap><loc>{child}</loc></sitemap></sitemapindex>', "application/xml")
    urls = "".join(f"<url><loc>{web.url('127.0.0.1', f'/a/{n}')}</loc><lastmod>2024-11-0{n}</lastmod></url>"
                   for n in (1, 2))
    web.add("127.0.0.1", "/sitemap-news.xml", '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
            f'schemas/sitemap/0.9">{urls}</urlset>', "application/xml")
    for n in (1, 2):
        web.add("127.0.0.1", f"/a/{n}", article(f"Bridge inspection report {n}", n))
    return web.url("127.0.0.1", "/sitemap.xml")


def run_demo(out=sys.stdout) -> list[Run]:
    """The whole demo; returns what each run fetched, with the sites' request logs."""
    os.environ.update({"FETCH_UNSAFE_ALLOW_NETWORKS": "127.0.0.0/8", "FETCH_HOST_DELAY": "0"})
    with contextlib.ExitStack() as stack:
        sites = [stack.enter_context(FixtureWeb()) for _ in range(3)]
        aws = stack.enter_context(LocalAWS(REPO / "template.yaml"))
        resources = aws.create_resources()
        os.environ.update({"TABLE_NAME": resources.table_name, "ARCHIVE_BUCKET": resources.archive_bucket})
        function = LocalFunction(aws, resources)
        sources = SourceStore(aws.client("dynamodb"), resources.table_name)
        for url in (build_news(sites[0]), build_wordpress(sites[1]), build_paper(sites[2])):
            print(f"$ archiver sources add {url}", file=out)
            with contextlib.redirect_stdout(out):
                if archiver(["sources", "add", url, "--every", "1h"]) != 0:
                    raise SystemExit(f"could not add {url}")
        schedule = json.loads((REPO / "events" / "schedule.json").read_text("utf-8"))
        runs = []
        for number in (1, 2):
            for site in sites:
                site.clear_log()
            if number == 2:  # an hour later, in effect: every source is due again
                for summary in sources.list():
                    source = sources.get(summary.id)
                    source.next_due_at = iso(datetime.now(UTC))
                    sources.put(source)
            queued = function.invoke(schedule)
            function.drain_queue(queue_url=resources.fetch_queue_url)
            run = Run(reports=[{"url": s.url, "kind": s.kind, **s.last} for s in sources.list()],
                      requests=[r for site in sites for r in site.requests()])
            runs.append(run)
            _print_run(number, queued, run, out)
        count = export_bucket(aws.client("s3"), resources.archive_bucket, EXPORT)
        print(f"\nexported {count} objects to {EXPORT.relative_to(REPO)}/ (open the index.html files in a browser: "
              "the news stories show their photos from media/)", file=out)
    return runs


def _print_run(number: int, queued: dict, run: Run, out) -> None:
    conditional = sum(is_conditional(r) for r in run.requests)
    print(f"\nrun {number}: {queued['jobs']} host jobs queued for {queued['queued']} due sources; "
          f"{len(run.requests)} requests ({conditional} conditional)", file=out)
    for report in run.reports:
        print(f"  {report['kind']:9} {report['status']:12} HTTP {report.get('http_status')}  "
              f"new {report.get('new')}, updated {report.get('updated')}  {report['url']}", file=out)


def is_conditional(request: Request) -> bool:
    """If-None-Match / If-Modified-Since, or WordPress's own form: `modified_after` (it sends no validators)."""
    return request.conditional or "modified_after" in request.query


if __name__ == "__main__":
    runs = run_demo()
    second = runs[1]
    ok = all(r["new"] == 0 and r["updated"] == 0 for r in second.reports) and all(
        is_conditional(r) for r in second.requests)
    print("\nsecond run: nothing archived, only conditional requests" if ok else "\nsecond run archived again!")
    sys.exit(0 if ok else 1)
