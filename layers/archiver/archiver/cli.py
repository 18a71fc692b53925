"""The `archiver` command: every subcommand only calls library functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from archiver.errors import ArchiverError


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
    invoke.set_defaults(run=_local_invoke)
    return parser


def _normalize(args: argparse.Namespace) -> int:
    from archiver.dates import zone
    from archiver.model import Input, Origin
    from archiver.pipeline import normalize_input

    failures = 0
    for path in args.paths:
        try:
            data = path.read_bytes()
            item = Input(data=data, name=path.name, origin=Origin(kind="file", uri=str(path.resolve())))
            for post in normalize_input(item, default_tz=zone(args.timezone)):
                sys.stdout.write(json.dumps(post.to_dict(), ensure_ascii=False) + "\n")
        except (OSError, ArchiverError) as exc:
            failures += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            code = getattr(exc, "code", "unreadable")
            print(f"archiver: {path}: {code}: {' '.join(reason.split())}", file=sys.stderr)
    return 1 if failures else 0


def _schema(args: argparse.Namespace) -> int:
    from archiver.schema import post_schema

    print(json.dumps(post_schema(), indent=2))
    return 0


def _local_ingest(args: argparse.Namespace) -> int:
    from archiver.local.runner import ingest

    return ingest(args.paths, export=args.export, template=args.template)


def _local_invoke(args: argparse.Namespace) -> int:
    from archiver.local.runner import invoke

    return invoke(args.event, file=args.file, template=args.template)
