"""`archiver sources ...` and `archiver fetch`: register, inspect and fetch the sources the schedule fetches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import get_args

from archiver.model import FullMode, SourceKind

KINDS = get_args(SourceKind)
FULL_MODES = get_args(FullMode)


def add_source_commands(commands: argparse._SubParsersAction, where: argparse.ArgumentParser,
                        command: Callable[..., argparse.ArgumentParser]) -> None:
    """The source commands, each taking `where` (--stack, --endpoint-url: docs/cli.md), made by `command`
    (the CLI's subcommand factory, which adds --debug)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--every", help="how often to fetch it: 15m, 1h, 1d... (default 1h)")
    options.add_argument("--full", choices=FULL_MODES,
                         help="fetch each entry's page for the full article: when the feed has a summary only "
                              "(auto, the default), always, or never")
    options.add_argument("--recheck", metavar="OFFSETS",
                         help="when its posts' pages are fetched again to catch edits and removals, counted from "
                              "publication: 1d,7d,30d,182d (the default), or off (docs/history.md)")
    sources = command(commands, "sources", help="register and inspect the sources that the schedule fetches")
    actions = sources.add_subparsers(required=True, metavar="ACTION")
    add = command(actions, "add", parents=[where, options],
                             help="add a feed, WordPress site, sitemap or article URL (again: its options change, "
                                  "its fetch state is kept)")
    add.add_argument("url", metavar="URL")
    add.add_argument("--kind", choices=KINDS, help="what the URL is (default: found out by fetching it once)")
    add.set_defaults(run=_sources_add)
    listing = command(actions, "list", parents=[where], help="every source with its health and next fetch")
    listing.set_defaults(run=_sources_list)
    change = command(actions, "set", parents=[where, options], help="change a source's options")
    change.add_argument("id", metavar="ID")
    switch = change.add_mutually_exclusive_group()
    switch.add_argument("--enable", dest="enabled", action="store_const", const=True, help="fetch it again")
    switch.add_argument("--disable", dest="enabled", action="store_const", const=False, help="stop fetching it")
    change.set_defaults(run=_sources_set)
    now = command(actions, "fetch", parents=[where], help="fetch a source now, as its scheduled run would")
    now.add_argument("id", metavar="ID")
    now.set_defaults(run=_sources_fetch)
    for name, help_text in (("show", "one source, whole"), ("remove", "forget a source (its posts stay archived)"),
                            ("enable", "fetch a source again"), ("disable", "stop fetching a source")):
        action = command(actions, name, parents=[where], help=help_text)
        action.add_argument("id", metavar="ID")
        action.set_defaults(run=_sources_action, action=name)
    fetch = command(commands, "fetch", parents=[where],
                                help="archive one URL now (a feed, a site or an article), without adding it")
    fetch.add_argument("url", metavar="URL")
    fetch.add_argument("--kind", choices=KINDS)
    fetch.add_argument("--full", choices=FULL_MODES, default="auto")
    fetch.set_defaults(run=_fetch)


def _sources_add(args: argparse.Namespace) -> int:
    """Register a URL; one already registered keeps its validators, cursor, entries seen and health."""
    from archiver.fetch.sources import new_source, set_options, source_id

    settings, sources, _, _ = _source_targets(args)
    existing = sources.get(source_id(args.url))  # the URL of a source: no need to fetch it to know what it is
    if existing is None:
        with _fetch_context(settings, sources) as ctx:  # robots.txt first, paced, within FETCH_CLI_SECONDS
            found = new_source(args.url, get=ctx.get, now=ctx.now(), kind=args.kind, every=args.every or "1h",
                               full=args.full or "auto", robots_text=lambda url: ctx.robots.rules(url).text)
        existing = sources.get(found.id)  # a home page whose feed is registered already
        if existing is None:
            sources.put(set_options(found, recheck=args.recheck))
            print(json.dumps(_source_line(found), ensure_ascii=False))
            return 0
    set_options(existing, every=args.every, full=args.full, recheck=args.recheck)
    sources.put(existing)
    print(json.dumps({**_source_line(existing), "updated": True}, ensure_ascii=False))
    return 0


def _sources_set(args: argparse.Namespace) -> int:
    from archiver.fetch.sources import set_options

    _, sources, _, _ = _source_targets(args)
    source = sources.require(args.id)
    set_options(source, every=args.every, full=args.full, enabled=args.enabled, recheck=args.recheck)
    sources.put(source)
    print(json.dumps(_source_line(source), ensure_ascii=False))
    return 0


def _sources_fetch(args: argparse.Namespace) -> int:
    """A registered source fetched now: its state saved as the scheduled run saves it."""
    from archiver.fetch.context import OutOfTime
    from archiver.fetch.worker import fetch_source

    settings, sources, archive, sqs = _source_targets(args, archive=True)
    source = sources.require(args.id)
    with _fetch_context(settings, sources, archive, sqs) as ctx:
        ctx.save = sources.save_state
        try:
            report = fetch_source(source, ctx)
        except OutOfTime:
            report = None
        sources.save_state(source)
    print(json.dumps({"id": source.id, **source.last, "post_ids": report.post_ids if report else []},
                     ensure_ascii=False))
    return _exit_code(source.last.get("status"))


def _sources_list(args: argparse.Namespace) -> int:
    _, sources, _, _ = _source_targets(args)
    for source in sources.list():
        print(json.dumps(_source_line(source), ensure_ascii=False))
    return 0


def _sources_action(args: argparse.Namespace) -> int:
    from archiver.fetch.sources import set_options

    _, sources, _, _ = _source_targets(args)
    if args.action == "remove":
        if not sources.delete(args.id):
            print(f"archiver: no source {args.id}", file=sys.stderr)
            return 1
        from archiver.crawl_store import CrawlStore

        CrawlStore(sources).forget(args.id)  # a sitemap source's records of pages fetched
        print(json.dumps({"id": args.id, "removed": True}))
        return 0
    source = sources.require(args.id)
    if args.action in ("enable", "disable"):
        set_options(source, enabled=args.action == "enable")
        sources.put(source)
    print(json.dumps(source.to_dict() if args.action == "show" else _source_line(source), ensure_ascii=False,
                     indent=2 if args.action == "show" else None))
    return 0


def _fetch(args: argparse.Namespace) -> int:
    """A one-off source (not registered), fetched now through the same worker as scheduled ones.

    robots.txt is read before the first GET, requests are paced, and the whole command stops after
    FETCH_CLI_SECONDS (status `deferred`) or at the pages-per-run cap (status `partial`).
    """
    from archiver.fetch.context import OutOfTime
    from archiver.fetch.crawl import MemoryCrawl
    from archiver.fetch.sources import new_source
    from archiver.fetch.worker import fetch_source

    settings, sources, archive, sqs = _source_targets(args, archive=True)
    with _fetch_context(settings, sources, archive, sqs) as ctx:
        ctx.crawl = MemoryCrawl()  # not a registered source: its sitemap pages leave no records behind
        try:
            source = new_source(args.url, get=ctx.get, now=ctx.now(), kind=args.kind, full=args.full,
                                robots_text=lambda url: ctx.robots.rules(url).text)
        except OutOfTime:
            print(f"archiver: timeout: {args.url}: no answer within FETCH_CLI_SECONDS "
                  f"({settings.fetch_cli_seconds:g} s)", file=sys.stderr)
            return 3
        try:
            report = fetch_source(source, ctx)
        except OutOfTime:
            report = None
    print(json.dumps({"id": source.id, "kind": source.kind, **source.last,
                      "post_ids": report.post_ids if report else []}, ensure_ascii=False))
    return _exit_code(source.last.get("status"))


def _exit_code(status: str | None) -> int:
    """0 done, 1 failed, 3 stopped early (out of time, or the run's share of pages taken)."""
    return {"failed": 1, "deferred": 3, "partial": 3}.get(status or "", 0)


@contextmanager
def _fetch_context(settings, sources, archive=None, sqs=None) -> Iterator:  # -> Iterator[FetchContext]
    """The scheduled job's context for a command: robots.txt and pacing, with FETCH_CLI_SECONDS to run."""
    from archiver.deadline import Deadline
    from archiver.fetch.runtime import fetch_context, http_client

    if warning := settings.unsafe_fetch_warning():
        print(f"archiver: warning: {warning}", file=sys.stderr)
    media = None
    if archive is not None and sqs is not None and settings.fetch_queue_url:  # the stack's media jobs: images
        from archiver.media.job import SqsMediaQueue

        media = SqsMediaQueue(sqs, settings.fetch_queue_url)
    with http_client(settings) as client:
        yield fetch_context(settings, client, archive, sources, deadline=Deadline.after(settings.fetch_cli_seconds),
                            media=media)


def _source_targets(args: argparse.Namespace, *, archive: bool = False):  # -> (Settings, SourceStore, store, sqs)
    """Where the command acts (--stack, --endpoint-url, the environment; archiver.deployment), its table needed."""
    from archiver.deployment import resolve_target
    from archiver.source_store import SourceStore

    target = resolve_target(args.stack, args.endpoint_url, {})
    settings = target.require("table_name")
    store = target.store() if archive else None
    return settings, SourceStore(target.client("dynamodb"), settings.table_name), store, target.client("sqs")


def _source_line(source) -> dict:
    from archiver.fetch.health import health

    last = source.last or {}
    line = {"id": source.id, "kind": source.kind, "url": source.url, "enabled": source.enabled,
            "health": health(source), "every": source.every_seconds, "full": source.full,
            "next_due": source.next_due_at, "last_fetch": last.get("at"), "status": last.get("status"),
            "http_status": last.get("http_status"), "new": last.get("new"), "updated": last.get("updated"),
            "failures": source.failures,
            "error": (last.get("error") or {}).get("message") or source.disabled_reason}
    if last.get("retry_after") is not None:  # the server's Retry-After, as honoured: at most a day
        line["retry_after"] = last["retry_after"]
        line["retry_after_capped"] = bool(last.get("retry_after_capped"))
    return line
