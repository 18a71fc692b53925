"""`archiver posts ...`: an archived post's versions, what changed between them, and its re-check."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime


def add_post_commands(commands: argparse._SubParsersAction, where: argparse.ArgumentParser,
                      command: Callable[..., argparse.ArgumentParser]) -> None:
    """The post commands, each taking `where` (--stack, --endpoint-url: docs/cli.md), made by `command`
    (the CLI's subcommand factory, which adds --debug)."""
    posts = command(commands, "posts", help="an archived post's versions and what changed between them")
    actions = posts.add_subparsers(required=True, metavar="ACTION")
    history = command(actions, "history", parents=[where],
                      help="every version of a post (when, what made it, what changed) and what happened to it "
                           "upstream (gone, back), oldest first, as JSON Lines")
    history.add_argument("id", metavar="ID")
    history.set_defaults(run=_history)
    diff = command(actions, "diff", parents=[where],
                   help="what changed from version A to version B of a post: its metadata, and its text word by word")
    diff.add_argument("id", metavar="ID")
    diff.add_argument("a", type=int, metavar="A")
    diff.add_argument("b", type=int, metavar="B")
    diff.add_argument("--spans", type=int, default=200, help="changed spans listed at most (default 200)")
    diff.set_defaults(run=_diff)
    recheck = command(actions, "recheck", parents=[where],
                      help="fetch a post's page again at the next scheduled run (a fetched post with a re-check)")
    recheck.add_argument("id", metavar="ID")
    recheck.set_defaults(run=_recheck)


def _history(args: argparse.Namespace) -> int:
    from archiver.history import history

    for entry in history(_store(args), args.id):
        print(json.dumps(entry, ensure_ascii=False))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from archiver.history import diff

    print(json.dumps(diff(_store(args), args.id, args.a, args.b, max_spans=args.spans), ensure_ascii=False, indent=2))
    return 0


def _recheck(args: argparse.Namespace) -> int:
    from archiver.fetch.schedule import iso
    from archiver.history import PostNotFound

    due = iso(datetime.now(UTC))
    if not _store(args).rechecks.set_due(args.id, due):
        raise PostNotFound(f"post {args.id} has no re-check (only fetched posts have one)")
    print(json.dumps({"id": args.id, "recheck_due": due}))
    return 0


def _store(args: argparse.Namespace):  # -> ArchiveStore
    """Where the command acts (--stack, --endpoint-url, the environment; archiver.deployment)."""
    from archiver.deployment import resolve_target

    return resolve_target(args.stack, args.endpoint_url, {}).store()
