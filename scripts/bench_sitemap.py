"""Benchmark: a site whose sitemap index lists 50,000 pages, archived over repeated scheduled runs.

    .venv/bin/python scripts/bench_sitemap.py [--urls 50000] [--per-sitemap 1000] [--per-run 200]
                                              [--invocation 300] [--out docs/benchmarks.md]

The site (a fixture server on 127.0.0.1) has robots.txt naming `/sitemap_index.xml`, an index of
`urls / per-sitemap` sitemaps, each listing `per-sitemap` pages with one shared `lastmod`. The site
is added as a sitemap source of its home page (`new_source`, as `archiver sources add URL --kind
sitemap` does), then scheduled runs follow one another until the source is no longer `partial`, and
one more run checks that an unchanged site costs only conditional requests.

Each run is one warm Lambda invocation's fetch job: `run_job` with the invocation's deadline
(`--invocation` seconds less the 30 s margin), `--per-run` pages per run (FETCH_PAGES_PER_RUN), the
source table and the crawl records in the local AWS (moto's server, in this process), all runs in one
worker process of their own, whose memory is what is measured (the server and the site live in this
one). Pages are empty documents: what is measured is fetching (requests per URL, the job's time and
memory); archiving is measured by bench_fetch.py. The worker's archive is a stand-in counting the
documents handed to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Fetching: a 50,000-page sitemap over scheduled runs"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
MARGIN = 30


def build_site(web, urls: int, per_sitemap: int) -> None:  # web: archiver.local.web.FixtureWeb
    from archiver.local.web import Reply

    host = "127.0.0.1"
    children = -(-urls // per_sitemap)
    web.add(host, "/robots.txt", f"User-agent: *\nSitemap: {web.url(host, '/sitemap_index.xml')}\n", "text/plain")
    web.add(host, "/sitemap_index.xml", f"<sitemapindex {NS}>" + "".join(
        f"<sitemap><loc>{web.url(host, f'/sitemap-{n}.xml')}</loc></sitemap>" for n in range(children))
        + "</sitemapindex>", "application/xml")
    for n in range(children):
        count = min(per_sitemap, urls - n * per_sitemap)
        web.add(host, f"/sitemap-{n}.xml", f"<urlset {NS}>" + "".join(
            f"<url><loc>{web.url(host, f'/p/{n}/{m}')}</loc><lastmod>2024-05-01</lastmod></url>"
            for m in range(count)) + "</urlset>", "application/xml")
    page = Reply(200, b"", {"Content-Type": "text/plain"})
    for n in range(children):
        for m in range(min(per_sitemap, urls - n * per_sitemap)):
            web.routes[(host, f"/p/{n}/{m}")] = lambda request, page=page: page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=50_000)
    parser.add_argument("--per-sitemap", type=int, default=1_000)
    parser.add_argument("--per-run", type=int, default=200)
    parser.add_argument("--invocation", type=int, default=300, help="the function's timeout, seconds")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    return bench(args)


def bench(args: argparse.Namespace) -> int:
    from archiver.local.stack import LocalAWS
    from archiver.local.web import FixtureWeb

    with FixtureWeb() as web, LocalAWS(ROOT / "template.yaml") as aws:
        resources = aws.create_resources()
        build_site(web, args.urls, args.per_sitemap)
        command = [sys.executable, __file__, "--worker", "--home", web.url("127.0.0.1", "/"),
                   "--table", resources.table_name, "--per-run", str(args.per_run),
                   "--invocation", str(args.invocation)]
        started = datetime.now(UTC)
        worker_run = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ})
        runs = [json.loads(line) for line in worker_run.stdout.splitlines() if line.startswith("{")]
        requests = web.requests()
        spent = (datetime.now(UTC) - started).total_seconds()
    kinds = Counter("robots" if r.path == "/robots.txt" else "page" if r.path.startswith("/p/")
                    else "sitemap" if r.path.endswith(".xml") else "probe" for r in requests)
    pages = Counter(r.path for r in requests if r.path.startswith("/p/"))
    catching_up, steady = runs[:-1], runs[-1]
    per_url = (sum(kinds.values()) - steady["requests"]) / args.urls
    rss = [run["rss_mb"] for run in catching_up]
    deadline = args.invocation - MARGIN
    once = len(pages) == args.urls and set(pages.values()) == {1}
    median_rss = sorted(rss)[len(rss) // 2]
    verdict = all(run["seconds"] < deadline for run in runs)
    section = "\n".join([
        HEADING, "",
        f"`scripts/bench_sitemap.py --urls {args.urls} --per-sitemap {args.per_sitemap} --per-run {args.per_run}`, "
        f"{started:%Y-%m-%d}, {os.cpu_count()} CPUs: one site, robots.txt -> an index of "
        f"{-(-args.urls // args.per_sitemap)} sitemaps of {args.per_sitemap} pages sharing one `lastmod`, added "
        f"from its home page, then scheduled runs (each a warm invocation's job: a {args.invocation} s timeout, "
        f"{MARGIN} s margin, {args.per_run} pages a run) until done, and one more. Pages are empty documents "
        "(archiving is measured by bench_fetch.py); the source table and crawl records are in the local AWS. "
        f"{spent:.0f} s in all.", "",
        "| measure | value |", "|---|---:|",
        f"| scheduled runs to archive every page | {len(catching_up)} |",
        f"| pages fetched (distinct / requests) | {len(pages)} / {sum(pages.values())} |",
        f"| every page fetched exactly once | {'yes' if once else 'NO'} |",
        f"| requests in all: robots.txt / sitemaps / other paths probed / pages | {kinds['robots']} / "
        f"{kinds['sitemap']} / {kinds['probe']} / {kinds['page']} |",
        f"| requests per URL (before the last run) | {per_url:.3f} |",
        f"| slowest run, seconds (deadline {deadline} s) | {max(run['seconds'] for run in runs):.1f} |",
        f"| every run within its deadline | {'yes' if verdict else 'NO'} |",
        f"| worker RSS after run 1 / median / last, MB | {rss[0]:.0f} / {median_rss:.0f} / {rss[-1]:.0f} |",
        f"| worker peak RSS, MB | {max(run['peak_mb'] for run in runs):.0f} |",
        f"| last run (nothing new): requests, all conditional | {steady['requests']}, "
        f"{'yes' if steady['conditional'] == steady['requests'] else 'no'} |", ""])
    publish(section, HEADING, args.out)
    return 0


def worker(args: argparse.Namespace) -> int:
    """Scheduled runs one after another in this process, as a warm function's invocations; a line per run."""
    import resource

    import boto3

    from archiver.crawl_store import CrawlStore
    from archiver.deadline import Deadline
    from archiver.fetch.context import FetchContext
    from archiver.fetch.guard import Guard
    from archiver.fetch.http import HttpClient
    from archiver.fetch.robots import RobotsCache
    from archiver.fetch.sources import new_source
    from archiver.fetch.worker import run_job
    from archiver.source_store import SourceStore

    class Archive:  # the stand-in: documents handed to the archive path, counted
        raws = 0

        def save_raw(self, item) -> str:
            Archive.raws += 1
            return "raw/bench"

        def record_outcome(self, outcome) -> None:
            pass

    sources = SourceStore(boto3.client("dynamodb"), args.table)
    client = HttpClient(guard=Guard.from_setting("127.0.0.0/8"), user_agent="PostArchiver/bench")

    def job(deadline: Deadline | None) -> FetchContext:
        return FetchContext(client=client, robots=RobotsCache(client, store=sources), archive=Archive(),
                            host_delay=0.0, max_articles=args.per_run, deadline=deadline, crawl=CrawlStore(sources))

    adding = job(None)
    source = new_source(args.home, get=adding.get, now=adding.now(), kind="sitemap",
                        robots_text=lambda url: adding.robots.rules(url).text)
    sources.put(source)
    status, runs = "partial", 0
    while status == "partial" or status == "deferred":
        made, conditional = client.requests_made, client.conditional_requests
        started = Deadline.after(0)
        result = run_job([source.id], sources, job(Deadline.after(args.invocation - MARGIN)))
        status = result.reports[0].status if result.reports else "deferred"
        runs += 1
        print(json.dumps({"run": runs, "status": status, "seconds": -started.remaining(),
                          "requests": client.requests_made - made,
                          "conditional": client.conditional_requests - conditional,
                          "rss_mb": _rss_mb(), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
              flush=True)
    made, conditional = client.requests_made, client.conditional_requests
    started = Deadline.after(0)
    result = run_job([source.id], sources, job(Deadline.after(args.invocation - MARGIN)))
    print(json.dumps({"run": runs + 1, "status": result.reports[0].status, "seconds": -started.remaining(),
                      "requests": client.requests_made - made, "conditional": client.conditional_requests - conditional,
                      "rss_mb": _rss_mb(), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
          flush=True)
    return 0


def _rss_mb() -> float:
    """The process's resident memory now (not its peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


if __name__ == "__main__":
    raise SystemExit(main())
