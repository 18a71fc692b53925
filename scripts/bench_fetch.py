"""Benchmark: fetching many feeds on many hosts, twice, against the floor of bare `requests.get`.

    .venv/bin/python scripts/bench_fetch.py [--hosts 50] [--feeds-per-host 10] [--entries 50]
                                            [--concurrency 8] [--out docs/benchmarks.md]

Each host is a fixture server of its own on 127.0.0.1 (a port each), serving RSS feeds with
ETag/Last-Modified. In one process, against the embedded local AWS (moto server), it measures:

  floor      every feed URL with bare `requests.get`, hosts spread over `concurrency` threads, each
             host's feeds one after another (as politeness requires), nothing archived
  dropped    the same feed documents archived as dropped files (`archive_input`): the archiving cost
  first run  every source due: one job per host, `concurrency` workers, each with its own HTTP
             client (host delay 0): GET, save raw, parse, normalize, store, source state
             (dropped and first run alternate in `blocks` blocks of hosts, each into an archive of its own)
  second run every source due again: conditional GETs only, answered 304

Storage calls are counted with botocore event hooks; requests from the servers' own logs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`
from moto_in_process import in_process_aws
from timing import timed

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Fetching: many feeds on many hosts"
WORDS = ("harbour", "ferry", "strike", "council", "bridge", "tide", "storm", "quay", "island", "market", "school",
         "library", "road", "rail", "port", "weather", "budget", "election", "festival", "museum", "hospital")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "PutObject"}


@dataclass
class Phase:
    name: str
    wall: float
    cpu: float
    requests: int = 0
    conditional: int = 0
    posts: int = 0
    calls: Counter | None = None


def feed_document(host_url: str, feed: int, entries: int, seed: int = 0) -> bytes:
    """An RSS feed of `entries` distinct stories with full content (no page fetches needed).

    Each story draws its words at random (seeded), so that no two stories are near-copies: a news
    archive's posts are distinct texts, and the story index keeps one band item per post and band.
    """
    items = []
    for n in range(entries):
        draw = random.Random(seed * 100_000 + n)
        words = " ".join(draw.choices(WORDS, k=120))
        link = f"{host_url}/feed{feed}/story-{n}"
        items.append(f"<item><title>Story {n} of feed {feed} at {host_url}</title><link>{link}</link>"
                     f"<guid>{link}</guid><pubDate>Tue, 05 Nov 2024 10:{n % 60:02d}:00 GMT</pubDate>"
                     f"<description><![CDATA[<p>{words}.</p><p>{words[::-1]}.</p><p>Feed {feed}, story {n}.</p>]]>"
                     "</description></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>{host_url}/</link><description>bench</description>{''.join(items)}</channel></rss>").encode()


def timed_phase(name: str, work: Callable[[], Any]) -> tuple[Phase, Any]:
    spent, result = timed(work)
    return Phase(name, spent.wall, spent.cpu), result


def bench(hosts: int, feeds_per_host: int, entries: int, concurrency: int, blocks: int) -> list[Phase]:
    import requests

    from archiver.fetch.context import FetchContext
    from archiver.fetch.guard import Guard
    from archiver.fetch.http import HttpClient
    from archiver.fetch.jobs import plan_jobs
    from archiver.fetch.robots import RobotsCache
    from archiver.fetch.schedule import iso
    from archiver.fetch.worker import run_job
    from archiver.local.stack import REGION, LocalAWS
    from archiver.local.web import FixtureWeb
    from archiver.model import Input, Origin, Source
    from archiver.pipeline import archive_input
    from archiver.source_store import SourceStore
    from archiver.store import ArchiveStore

    phases = []
    with contextlib.ExitStack() as stack:
        sites = [stack.enter_context(FixtureWeb()) for _ in range(hosts)]
        feeds: dict[str, list[str]] = {}  # host -> its feed URLs
        documents: dict[str, bytes] = {}
        for host, site in enumerate(sites):
            base = site.url("127.0.0.1", "")
            for feed in range(feeds_per_host):
                url = site.url("127.0.0.1", f"/feed{feed}.xml")
                documents[url] = feed_document(base, feed, entries, seed=host * feeds_per_host + feed)
                site.add("127.0.0.1", f"/feed{feed}.xml", documents[url], "application/rss+xml")
                feeds.setdefault(f"127.0.0.1:{site.port}", []).append(url)

        def site_requests() -> tuple[int, int]:
            logged = [r for site in sites for r in site.requests()]
            for site in sites:
                site.clear_log()
            return len(logged), sum(r.conditional for r in logged)

        def per_host(work: Callable[[str, list[str]], Any]) -> list[Any]:
            with ThreadPoolExecutor(concurrency) as pool:
                return list(pool.map(lambda item: work(*item), feeds.items()))

        def floor_host(host: str, urls: list[str]) -> int:
            return sum(len(requests.get(url, timeout=30).content) for url in urls)

        phase, _ = timed_phase("floor: bare requests.get", lambda: per_host(floor_host))
        phase.requests, phase.conditional = site_requests()
        phases.append(phase)

        aws = stack.enter_context(LocalAWS(ROOT / "template.yaml"))
        in_process_client = stack.enter_context(in_process_aws(REGION))
        lock = threading.Lock()

        def counted_stores(stack_name: str, calls: Counter) -> tuple[ArchiveStore, SourceStore]:
            """An archive of its own (table and bucket, empty), its storage calls counted into `calls`."""
            aws.parameters["NamePrefix"] = stack_name  # (the template names the table and buckets after it)
            resources = aws.create_resources()

            def count(model: Any, **_: Any) -> None:
                with lock:
                    calls[model.name] += 1

            s3, ddb = in_process_client("s3"), in_process_client("dynamodb")
            for client in (s3, ddb):
                client.meta.events.register("before-call.*.*", count)
            return (ArchiveStore(s3, ddb, archive_bucket=resources.archive_bucket, table_name=resources.table_name),
                    SourceStore(ddb, resources.table_name))

        dropped_calls: Counter = Counter()
        fetched_calls: Counter = Counter()
        dropped_archive, _ = counted_stores("bench-dropped", dropped_calls)
        fetched_archive, sources = counted_stores("bench-fetched", fetched_calls)
        # Warm the process up (the parsers' and the normalizer's first use), so that neither phase pays it.
        warm_up, _ = counted_stores("bench-warm-up", Counter())
        url = next(iter(documents))
        archive_input(Input(data=documents[url], name="warm-up.xml", origin=Origin("url", url)), warm_up)

        def drop_host(host: str, urls: list[str]) -> int:
            archived = 0
            for url in urls:
                item = Input(data=documents[url], name=url.rsplit("/", 1)[1], origin=Origin("url", url))
                archived += len(archive_input(item, dropped_archive).post_ids)
            return archived

        guard = Guard.from_setting("127.0.0.0/8")
        now = iso(datetime.now(UTC))
        registered = [Source(id=f"s{i}", url=url, kind="feed", full="auto", next_due_at=now)
                      for i, url in enumerate(u for urls in feeds.values() for u in urls)]
        for source in registered:
            sources.put(source)
        fetched_calls.clear()

        def run_jobs(due: list[Any]) -> list[Any]:
            def work(job: Any) -> Any:
                with HttpClient(guard=guard, user_agent="PostArchiver/bench (+https://example.invalid)") as http:
                    context = FetchContext(client=http, robots=RobotsCache(http, store=sources),
                                           archive=fetched_archive, host_delay=0.0)
                    return run_job(list(job.sources), sources, context)

            with ThreadPoolExecutor(concurrency) as pool:
                return list(pool.map(work, plan_jobs(due)))

        def archived_posts(results: list[Any]) -> int:
            return sum(r.new + r.updated for result in results for r in result.reports)

        def add(phase: Phase, work: Callable[[], None]) -> None:
            part, _ = timed_phase(phase.name, work)
            phase.wall += part.wall
            phase.cpu += part.cpu

        dropped = Phase("dropped as files: archive_input", 0.0, 0.0)
        first = Phase("first run: fetch and archive", 0.0, 0.0)
        # Dropping and fetching alternate block by block (ABBA), each into its own empty archive, so
        # that both see the same machine: a neighbour's load, a table of the same size, a warm process.
        hosts_in_order = list(feeds)
        size = -(-len(hosts_in_order) // blocks)
        for number, begin in enumerate(range(0, len(hosts_in_order), size)):
            block = {host: feeds[host] for host in hosts_in_order[begin:begin + size]}
            urls = {url for host_urls in block.values() for url in host_urls}
            due = [source for source in registered if source.url in urls]

            def drop_block(block: dict[str, list[str]] = block) -> None:
                with ThreadPoolExecutor(concurrency) as pool:
                    dropped.posts += sum(pool.map(lambda item: drop_host(*item), block.items()))

            def fetch_block(due: list[Any] = due) -> None:
                site_requests()
                first.posts += archived_posts(run_jobs(due))
                made, conditional = site_requests()
                first.requests += made
                first.conditional += conditional

            steps = [(dropped, drop_block), (first, fetch_block)]
            for phase, work in steps if number % 2 == 0 else reversed(steps):
                add(phase, work)
        dropped.calls, first.calls = Counter(dropped_calls), Counter(fetched_calls)
        phases += [dropped, first]

        for source in registered:
            fresh = sources.get(source.id)
            fresh.next_due_at = now
            sources.put(fresh)
        site_requests()
        fetched_calls.clear()
        phase, results = timed_phase("second run: all due again", lambda: run_jobs(registered))
        phase.requests, phase.conditional = site_requests()
        phase.posts = archived_posts(results)
        phase.calls = Counter(fetched_calls)
        phases.append(phase)
    return phases


def report(phases: list[Phase], args: argparse.Namespace) -> str:
    floor, dropped, first, second = phases
    feeds = args.hosts * args.feeds_per_host
    lines = [
        HEADING, "",
        f"{feeds} RSS feeds on {args.hosts} hosts (one fixture server per host on 127.0.0.1), {args.entries} "
        f"entries each ({feeds * args.entries:,} posts), {args.concurrency} workers; storage is the embedded local "
        "AWS, called in this process, with a DynamoDB Query that reads one partition as DynamoDB's does "
        "(`scripts/moto_in_process.py`: moto's server over HTTP and its whole-table Query made a run of this "
        "size take hours). Dropping the posts as files and the first run alternate in "
        f"{args.blocks} blocks of hosts (ABBA), each into an empty table and bucket of its own, so that both see "
        "the same machine (other load, table size, a warm process); their times are the sums over the blocks. "
        "Wall time, and CPU time of this process (the fixture servers and moto run in it "
        f"too). Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end. Regenerate with `make {args.make_target}` (`scripts/bench_fetch.py "
        f"--hosts {args.hosts} --feeds-per-host {args.feeds_per_host} --entries {args.entries}`).", "",
        "| phase | wall s | CPU s | requests | conditional | posts archived | storage calls | storage writes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in phases:
        total = sum(p.calls.values()) if p.calls else 0
        writes = sum(n for op, n in (p.calls or {}).items() if op in WRITES)
        lines.append(f"| {p.name} | {p.wall:.1f} | {p.cpu:.1f} | {p.requests} | {p.conditional} | {p.posts:,} | "
                     f"{total:,} | {writes:,} |")
    budget = 2 * floor.wall + dropped.wall
    second_writes = {op: n for op, n in (second.calls or {}).items() if op in WRITES}
    lines += ["",
              f"- First run: {first.wall:.1f} s against a target of 2 x floor + archiving the same posts as dropped "
              f"files = 2 x {floor.wall:.1f} + {dropped.wall:.1f} = {budget:.1f} s: "
              f"{'met' if first.wall <= budget else 'NOT met'} ({first.wall / budget:.2f} of the target).",
              f"- Second run: {second.requests} requests for {feeds} feeds, {second.conditional} of them conditional; "
              f"{second.posts} posts archived; writes: {dict(second_writes) or 'none'} "
              "(one UpdateItem per source: its health and next due time, the fetch's outcome).",
              f"- End-to-end ingest through the local stack (the dropped files, {args.concurrency} workers): "
              f"{dropped.posts / dropped.wall:.1f} posts/s, {sum(dropped.calls.values()) / dropped.posts:.1f} "
              "storage calls per post (counted with botocore's `before-call` event).",
              f"- Peak RSS of the whole benchmark process: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--feeds-per-host", type=int, default=10)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=5, help="blocks of hosts, dropped and fetched in turn")
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    parser.add_argument("--make-target", default="bench", help="the make target named in the section")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    section = report(bench(args.hosts, args.feeds_per_host, args.entries, args.concurrency, args.blocks), args)
    publish(section, HEADING, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
