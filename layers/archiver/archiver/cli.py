"""The `archiver` command: every subcommand only calls library functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.errors import ArchiverError

if TYPE_CHECKING:
    from archiver.model import Post


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiver", description="Archive blog and news posts.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    normalize = commands.add_parser("normalize", help="print each post of the inputs as JSON Lines (no AWS)")
    normalize.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    normalize.add_argument("--timezone", default="UTC", help="zone for dates written without one (default UTC)")
    normalize.set_defaults(run=_normalize)

    copies = commands.add_parser(
        "copies", help="which posts are copies of one story: of local files, or of an archived post (--post)")
    copies.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    copies.add_argument("--post", metavar="ID", help="an archived post's id: list its copies in the table")
    copies.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    copies.set_defaults(run=_copies)

    schema = commands.add_parser("schema", help="print the JSON Schema of archived posts")
    schema.set_defaults(run=_schema)

    local = commands.add_parser("local", help="run against an embedded local AWS (moto server)")
    local_commands = local.add_subparsers(required=True, metavar="COMMAND")
    ingest = local_commands.add_parser("ingest", help="drop files into the local inbox and archive them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--export", type=Path, metavar="DIR", help="copy the archive bucket to DIR")
    ingest.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    ingest.set_defaults(run=_local_ingest)
    invoke = local_commands.add_parser("invoke", help="run the handler on a sample event")
    invoke.add_argument("event", type=Path, metavar="EVENT.json")
    invoke.add_argument("--file", type=Path, help="the object the event names (default: a bundled sample)")
    invoke.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    invoke.add_argument("--built", type=Path, metavar="DIR",
                        help="run the built artifact of `make build-host` (e.g. .aws-sam/host) in a clean python3.12")
    invoke.add_argument("--python", help="with --built: the python3.12 to run it (default: the one that built it)")
    invoke.set_defaults(run=_local_invoke)
    return parser


def _normalize(args: argparse.Namespace) -> int:
    from archiver.dates import zone

    failures = 0
    for posts in _normalized_files(args.paths, zone(args.timezone)):
        if posts is None:
            failures += 1
            continue
        for post in posts:
            sys.stdout.write(json.dumps(post.to_dict(), ensure_ascii=False) + "\n")
    return 1 if failures else 0


def _normalized_files(paths: list[Path], default_tz: tzinfo = UTC) -> Iterator[list[Post] | None]:
    """Each file's posts; None (after a one-line error on stderr) for a file that cannot be read."""
    from archiver.model import Input, Origin
    from archiver.pipeline import normalize_input

    for path in paths:
        try:
            item = Input(data=path.read_bytes(), name=path.name, origin=Origin(kind="file", uri=str(path.resolve())))
            yield normalize_input(item, default_tz=default_tz)
        except (OSError, ArchiverError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            code = getattr(exc, "code", "unreadable")
            print(f"archiver: {path}: {code}: {' '.join(reason.split())}", file=sys.stderr)
            yield None


def _copies(args: argparse.Namespace) -> int:
    if args.post:
        return _archived_copies(args.post, args.table)
    from archiver.stories import group_copies

    posts, failures = [], 0
    for found in _normalized_files(args.paths):
        posts += found or []
        failures += found is None
    for group in group_copies(posts):
        print(json.dumps({"story_id": group[0].story_id, "posts": [
            {"id": p.id, "url": p.url, "title": p.title, "uri": p.source["uri"]} for p in group]},
            ensure_ascii=False))
    return 1 if failures else 0


def _archived_copies(post_id: str, table: str | None) -> int:
    import boto3

    from archiver.config import settings
    from archiver.store import ArchiveStore

    config = settings()
    # Reading the table needs no bucket; the store wants one named, so name the configured one.
    store = ArchiveStore(None, boto3.client("dynamodb"), archive_bucket=config.archive_bucket or "unused",
                         table_name=table or config.table_name)
    post = store.get_post(post_id)
    if post is None:
        print(f"archiver: no archived post {post_id}", file=sys.stderr)
        return 1
    for copy in store.list_story_copies(post["story_id"]):
        print(json.dumps({k: copy.get(k) for k in ("id", "url", "title", "site", "published_at", "json_key")},
                         ensure_ascii=False))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from archiver.schema import post_schema

    print(json.dumps(post_schema(), indent=2))
    return 0


def _local_ingest(args: argparse.Namespace) -> int:
    from archiver.local.runner import ingest

    return ingest(args.paths, export=args.export, template=args.template)


def _local_invoke(args: argparse.Namespace) -> int:
    from archiver.local.runner import invoke

    if args.python and not args.built:
        print("archiver: --python needs --built", file=sys.stderr)
        return 2
    return invoke(args.event, file=args.file, template=args.template, built=args.built, python=args.python)
