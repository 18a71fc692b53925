"""`archiver sources ...` and `archiver fetch`: register, inspect and fetch the sources the schedule fetches."""

from __future__ import annotations

import argparse
import json
import sys


def add_source_commands(commands: argparse._SubParsersAction) -> None:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--stack", help="a deployed stack's name (default: TABLE_NAME, ARCHIVE_BUCKET... from the "
                                       "environment; AWS_ENDPOINT_URL for a local stack)")
    sources = commands.add_parser("sources", help="register and inspect the sources that the schedule fetches")
    actions = sources.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=[where], help="add a feed, WordPress site, sitemap or article URL")
    add.add_argument("url", metavar="URL")
    add.add_argument("--kind", choices=("feed", "wordpress", "sitemap", "article"),
                     help="what the URL is (default: found out by fetching it once)")
    add.add_argument("--every", default="1h", help="how often to fetch it: 15m, 1h, 1d... (default 1h)")
    add.add_argument("--full", choices=("auto", "always", "never"), default="auto",
                     help="fetch each entry's page for the full article: when the feed has a summary only "
                          "(auto, the default), always, or never")
    add.set_defaults(run=_sources_add)
    listing = actions.add_parser("list", parents=[where], help="every source with its health and next fetch")
    listing.set_defaults(run=_sources_list)
    for name, help_text in (("show", "one source, whole"), ("remove", "forget a source (its posts stay archived)"),
                            ("enable", "fetch a source again"), ("disable", "stop fetching a source")):
        action = actions.add_parser(name, parents=[where], help=help_text)
        action.add_argument("id", metavar="ID")
        action.set_defaults(run=_sources_action, action=name)
    fetch = commands.add_parser("fetch", parents=[where],
                                help="archive one URL now (a feed, a site or an article), without adding it")
    fetch.add_argument("url", metavar="URL")
    fetch.add_argument("--kind", choices=("feed", "wordpress", "sitemap", "article"))
    fetch.add_argument("--full", choices=("auto", "always", "never"), default="auto")
    fetch.set_defaults(run=_fetch)


def _sources_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from archiver.fetch.sources import new_source

    settings, sources, _ = _source_targets(args)
    client = _http_client(settings)
    source = new_source(args.url, get=client.get, now=datetime.now(UTC), kind=args.kind, every=args.every,
                        full=args.full)
    sources.put(source)
    print(json.dumps(_source_line(source), ensure_ascii=False))
    return 0


def _sources_list(args: argparse.Namespace) -> int:
    _, sources, _ = _source_targets(args)
    for source in sources.list():
        print(json.dumps(_source_line(source), ensure_ascii=False))
    return 0


def _sources_action(args: argparse.Namespace) -> int:
    _, sources, _ = _source_targets(args)
    if args.action == "remove":
        if not sources.delete(args.id):
            print(f"archiver: no source {args.id}", file=sys.stderr)
            return 1
        print(json.dumps({"id": args.id, "removed": True}))
        return 0
    source = sources.require(args.id)
    if args.action in ("enable", "disable"):
        source.enabled = args.action == "enable"
        source.disabled_reason = None if source.enabled else "disabled by the user"
        if source.enabled:
            source.failures = 0
        sources.put(source)
    print(json.dumps(source.to_dict() if args.action == "show" else _source_line(source), ensure_ascii=False,
                     indent=2 if args.action == "show" else None))
    return 0


def _fetch(args: argparse.Namespace) -> int:
    """A one-off source (not registered), fetched now through the same worker as scheduled ones."""
    from datetime import UTC, datetime

    from archiver.fetch.runtime import fetch_context
    from archiver.fetch.sources import new_source
    from archiver.fetch.worker import fetch_source

    settings, sources, archive = _source_targets(args, archive=True)
    client = _http_client(settings)
    source = new_source(args.url, get=client.get, now=datetime.now(UTC), kind=args.kind, full=args.full)
    report = fetch_source(source, fetch_context(settings, client, archive, sources))
    print(json.dumps({"id": source.id, "kind": source.kind, **report.to_dict(), "post_ids": report.post_ids},
                     ensure_ascii=False))
    return 1 if report.status == "failed" else 0


def _source_targets(args: argparse.Namespace, *, archive: bool = False):  # -> (Settings, SourceStore, ArchiveStore)
    import boto3

    from archiver.deployment import target_settings
    from archiver.source_store import SourceStore
    from archiver.store import ArchiveStore

    settings = target_settings(args.stack)
    dynamodb = boto3.client("dynamodb")
    store = None
    if archive:
        store = ArchiveStore(boto3.client("s3"), dynamodb, archive_bucket=settings.archive_bucket,
                             table_name=settings.table_name)
    return settings, SourceStore(dynamodb, settings.table_name), store


def _http_client(settings):  # -> HttpClient
    from archiver.fetch.runtime import http_client

    return http_client(settings)


def _source_line(source) -> dict:
    last = source.last or {}
    return {"id": source.id, "kind": source.kind, "url": source.url, "enabled": source.enabled,
            "every": source.every_seconds, "full": source.full, "next_due": source.next_due_at,
            "last_fetch": last.get("at"), "status": last.get("status"), "http_status": last.get("http_status"),
            "new": last.get("new"), "updated": last.get("updated"), "failures": source.failures,
            "error": (last.get("error") or {}).get("message") or source.disabled_reason}
