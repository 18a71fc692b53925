"""The `archiver` command: every subcommand only calls library functions."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.cli_sources import add_source_commands
from archiver.errors import ArchiverError
from archiver.local import DEFAULT_PORT as LOCAL_PORT
from archiver.local import PORT_VARIABLE as LOCAL_PORT_VARIABLE

if TYPE_CHECKING:
    from archiver.model import Post
    from archiver.store import ArchiveStore


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ArchiverError, ValueError) as exc:  # a user's mistake or a refused URL: one line, no traceback
        code = getattr(exc, "code", "invalid")
        print(f"archiver: {code}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`archiver normalize ... | head`): stop quietly
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        print("archiver: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would print a second BrokenPipeError there.
    # Nothing to do when stdout is not a real file (captured in tests).
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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

    failures = commands.add_parser(
        "failures", help="list inputs that failed or never finished (pending), as JSON Lines")
    failures.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    failures.set_defaults(run=_failures)

    retry = commands.add_parser("retry", help="archive failed or unfinished inputs again, from their saved bytes")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("key", nargs="?", metavar="KEY", help="an input as `archiver failures` names it")
    which.add_argument("--all", action="store_true", help="every unfinished input (not those pending < 30 min)")
    retry.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    retry.add_argument("--archive-bucket", help="the archive bucket (default: $ARCHIVE_BUCKET)")
    retry.add_argument("--timezone", help="zone for dates written without one (default: $DEFAULT_TIMEZONE)")
    retry.add_argument("--quiet", action="store_true", help="no progress on stderr (with --all)")
    retry.set_defaults(run=_retry)

    add_source_commands(commands)

    reprocess = commands.add_parser(
        "reprocess", help="re-normalize archived posts from their archived originals; a new version only where "
                          "the output changed")
    reprocess.add_argument("--since", metavar="DATE",
                           help="only inputs archived on or after DATE (2026-01-31 or 2026-01-31T12:00:00Z)")
    reprocess.add_argument("--site", help="only the posts of this site (as in post keys: example.com)")
    reprocess.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    reprocess.add_argument("--stack", help="a deployed stack's name (default: TABLE_NAME, ARCHIVE_BUCKET from the "
                                           "environment; AWS_ENDPOINT_URL for a local stack)")
    reprocess.add_argument("--timezone", help="zone for dates written without one (default: $DEFAULT_TIMEZONE)")
    reprocess.add_argument("--on-aws", action="store_true",
                           help="with --stack: start the stack's ReprocessStateMachine (Distributed Map, in "
                                "batches on Lambda) instead of re-processing from this machine")
    reprocess.set_defaults(run=_reprocess)

    schema = commands.add_parser("schema", help="print the JSON Schema of archived posts")
    schema.set_defaults(run=_schema)

    local = commands.add_parser("local", help="run against an embedded local AWS (moto server)")
    local_commands = local.add_subparsers(required=True, metavar="COMMAND")
    ingest = local_commands.add_parser(
        "ingest", help="drop files (or folders, recursively) into the local inbox and archive them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="files, or folders: their files recursively, keyed relative to the folder")
    ingest.add_argument("--export", type=Path, metavar="DIR", help="copy the archive bucket to DIR")
    ingest.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    ingest.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ingest.set_defaults(run=_local_ingest)
    up = local_commands.add_parser(
        "up", help="a live local stack: archive what is dropped into its inbox until Ctrl-C")
    up.add_argument("--port", type=int, default=None,
                    help=f"the port on 127.0.0.1 (default: ${{{LOCAL_PORT_VARIABLE}}} or {LOCAL_PORT})")
    up.add_argument("--state", type=Path, metavar="DIR",
                    help="keep the local archive in DIR: restored on start, saved on stop")
    up.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    up.add_argument("--schedule-every", type=float, metavar="SECONDS",
                    help="run the schedule this often instead of the template's rate (0: only on `local tick`)")
    up.add_argument("--quiet", action="store_true", help="no progress on stderr while catching up")
    up.add_argument("--stack", help="deploy template.yaml as this stack through the local CloudFormation (as "
                                    "`archiver local deploy`) and serve its resources, named by its outputs")
    up.add_argument("--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE",
                    help="with --stack: template parameters, as `sam deploy --parameter-overrides`")
    up.set_defaults(run=_local_up)
    tick = local_commands.add_parser("tick", help="tell the running `archiver local up` to run the schedule now")
    tick.add_argument("--endpoint", help="its endpoint (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:PORT)")
    tick.add_argument("--port", type=int, default=None,
                      help=f"its port (default: ${{{LOCAL_PORT_VARIABLE}}} or {LOCAL_PORT})")
    tick.set_defaults(run=_local_tick)
    invoke = local_commands.add_parser("invoke", help="run the handler on a sample event")
    invoke.add_argument("event", type=Path, metavar="EVENT.json")
    invoke.add_argument("--file", type=Path, help="the object the event names (default: a bundled sample)")
    invoke.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    invoke.add_argument("--built", type=Path, metavar="DIR",
                        help="run the built artifact of `make build-host` (e.g. .aws-sam/host) in a clean python3.12")
    invoke.add_argument("--python", help="with --built: the python3.12 to run it (default: the one that built it)")
    invoke.set_defaults(run=_local_invoke)
    deploy = local_commands.add_parser(
        "deploy", help="deploy template.yaml through the local CloudFormation (package, SAM transform, create or "
                       "update), then apply by API what moto drops")
    deploy.add_argument("--stack", required=True, help="the stack's name")
    deploy.add_argument("--endpoint-url", metavar="URL",
                        help="a running local AWS, e.g. http://127.0.0.1:PORT of `archiver local up` (default: an "
                             "embedded one for this command only)")
    deploy.add_argument("--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE",
                        help="template parameters, as `sam deploy --parameter-overrides`")
    deploy.add_argument("--drop", nargs="+", type=Path, default=[], metavar="FILE",
                        help="then drop these files into the stack's inbox and archive them through the stack")
    deploy.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    deploy.set_defaults(run=_local_deploy)
    return parser


def _normalize(args: argparse.Namespace) -> int:
    from archiver.dates import zone

    failures = 0
    for path in args.paths:
        try:  # each post is written as soon as it is built: memory stays flat in the number of posts
            for post in _each_normalized(path, zone(args.timezone)):
                sys.stdout.write(json.dumps(post.to_dict(), ensure_ascii=False) + "\n")
        except _FileFailed:
            failures += 1
    return 1 if failures else 0


class _FileFailed(Exception):
    """A file could not be normalized; its one-line error is already on stderr."""


def _each_normalized(path: Path, default_tz: tzinfo = UTC) -> Iterator[Post]:
    """The file's posts one at a time; raises _FileFailed (after a one-line error on stderr) when the
    file cannot be read or normalized. The file is read in pieces by formats that stream.

    Any exception, even a bug, is that file's failure: the caller goes on with the next file.
    """
    from archiver.model import Input, Origin
    from archiver.pipeline import each_normalized

    if not path.is_file():
        _report(path, "unreadable", "read", "not a file" if path.exists() else "No such file or directory")
        raise _FileFailed
    item = Input.from_file(path, name=path.name, origin=Origin(kind="file", uri=str(path.resolve())))
    try:
        yield from each_normalized(item, default_tz=default_tz)
    except ArchiverError as exc:
        _report(path, exc.code, exc.stage, exc.message)
        raise _FileFailed from exc
    except OSError as exc:
        _report(path, "unreadable", "read", exc.strerror or str(exc))
        raise _FileFailed from exc
    except Exception as exc:  # each_normalized wraps bugs in InternalError; this is the last guard
        _report(path, "internal_error", "normalize", f"{type(exc).__name__}: {exc}")
        raise _FileFailed from exc


def _normalized_files(paths: list[Path], default_tz: tzinfo = UTC) -> Iterator[list[Post] | None]:
    """Each file's posts as a list (None for a file that failed, after its one-line error)."""
    for path in paths:
        try:
            yield list(_each_normalized(path, default_tz))
        except _FileFailed:
            yield None


def _report(path: Path, code: str, stage: str, message: str) -> None:
    print(f"archiver: {path}: {code} ({stage}): {' '.join(message.split())[:500]}", file=sys.stderr)


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


def _archive_store(table: str | None, archive_bucket: str | None = None) -> ArchiveStore:
    from archiver.clients import client
    from archiver.config import settings
    from archiver.store import ArchiveStore

    config = settings()
    # Reading the table needs no bucket; the store wants one named, so name the configured one.
    return ArchiveStore(client("s3"), client("dynamodb"), archive_bucket=archive_bucket or config.archive_bucket
                        or "unused", table_name=table or config.table_name)


def _record_line(record: dict) -> dict:
    from archiver.retry import input_key

    line = {"input": input_key(record), "sk": record["sk"], "status": record.get("status"),
            "error": record.get("error"), "raw_key": record.get("raw_key"), "attempts": record.get("attempts"),
            "last_attempt_at": record.get("last_attempt_at")}
    if record.get("chunk"):
        line["chunk"] = record["chunk"]["index"]
    return line


def _failures(args: argparse.Namespace) -> int:
    for record in _archive_store(args.table).list_failures():
        print(json.dumps(_record_line(record), ensure_ascii=False))
    return 0


def _retry(args: argparse.Namespace) -> int:
    from archiver import retry
    from archiver.chunks import SqsChunkQueue
    from archiver.clients import client
    from archiver.config import settings
    from archiver.dates import zone
    from archiver.local.progress import Progress

    config = settings()
    store = _archive_store(args.table, args.archive_bucket)
    records = retry.unfinished(store, None if args.all else args.key)
    if not records and not args.all:
        print(f"archiver: no failed or unfinished input {args.key!r} (see `archiver failures`)", file=sys.stderr)
        return 1
    queue = SqsChunkQueue(client("sqs"), config.queue_url) if config.queue_url else None
    s3 = client("s3")
    failed = 0
    with Progress(len(records), "retrying", quiet=args.quiet or not args.all) as progress:
        for record in records:
            if args.all and retry.is_recent(record):
                print(f"archiver: {retry.input_key(record)} skipped: pending since {record.get('last_attempt_at')}, "
                      "it may still be running (retry it by KEY to force)", file=sys.stderr)
                progress.advance(skipped=1)
                continue
            try:
                outcome = retry.retry(record, store, s3=s3, settings=config, queue=queue,
                                      default_tz=zone(args.timezone or config.default_timezone))
            except ArchiverError as exc:
                print(f"archiver: {retry.input_key(record)}: {exc.code}: {exc.message}", file=sys.stderr)
                failed += 1
                progress.advance(failed=1)
                continue
            failed += outcome.status == "failed"
            progress.advance(**{outcome.status: 1})
            print(json.dumps({"input": retry.input_key(record), **outcome.to_dict()}, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def _reprocess(args: argparse.Namespace) -> int:
    if args.on_aws:
        return _reprocess_on_aws(args)
    from archiver.clients import client
    from archiver.dates import zone
    from archiver.deployment import target_settings
    from archiver.reprocess import Options, parse_since, reprocess
    from archiver.store import ArchiveStore

    settings = target_settings(args.stack)
    store = ArchiveStore(client("s3"), client("dynamodb"), archive_bucket=settings.archive_bucket,
                         table_name=settings.table_name)
    options = Options(since=parse_since(args.since), site=args.site, dry_run=args.dry_run,
                      default_tz=zone(args.timezone or settings.default_timezone),
                      max_post_bytes=settings.max_post_bytes)
    report = reprocess(store, options)
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    print(f"{report.inputs} inputs: {report.renormalized} posts re-normalized"
          f"{' (dry run: nothing written)' if args.dry_run else ''}, {report.unchanged} unchanged, "
          f"{report.skipped} skipped, {report.failed} failed", file=sys.stderr)
    for failure in report.failures:
        print(f"  FAILED {failure['raw_key']} {failure['post_id'] or ''}: {failure['code']} at {failure['stage']}: "
              f"{failure['message']}", file=sys.stderr)
    return 1 if report.failed else 0


def _reprocess_on_aws(args: argparse.Namespace) -> int:
    from archiver.clients import client
    from archiver.deployment import NotConfigured, stack_output
    from archiver.reprocess import parse_since

    if not args.stack:
        raise NotConfigured("--on-aws needs --stack NAME (the state machine is the stack's)")
    parse_since(args.since)  # a mistake is reported here, not by a failed execution
    arn = stack_output(args.stack, "ReprocessStateMachineArn")
    execution_input = {"since": args.since or "", "site": args.site or "", "dry_run": args.dry_run}
    started = client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(execution_input))
    print(json.dumps({"execution_arn": started["executionArn"], "input": execution_input}))
    print("started: each batch's counts are in the execution's Map Run (Step Functions console) and in the "
          "PostArchiver Reprocess* metrics", file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from archiver.schema import post_schema

    print(json.dumps(post_schema(), indent=2))
    return 0


def _local_ingest(args: argparse.Namespace) -> int:
    from archiver.local.runner import ingest

    return ingest(args.paths, export=args.export, template=args.template, quiet=args.quiet)


def _local_port(args: argparse.Namespace) -> int:
    if args.port is not None:
        return args.port
    value = os.environ.get(LOCAL_PORT_VARIABLE, "")
    try:
        return int(value) if value else LOCAL_PORT
    except ValueError:
        raise ValueError(f"{LOCAL_PORT_VARIABLE}={value!r} is not a port number") from None


def _local_up(args: argparse.Namespace) -> int:
    from archiver.local.up import template_resources, up

    resources_for = template_resources
    if args.stack:
        from archiver.local.deploy import serve_stack

        if args.state:
            # A stack's names end with its stack id, which a fresh local AWS gives anew on each start: the
            # saved buckets and table would have other names than the ones deployed now.
            print("archiver: --state cannot be used with --stack yet: each start deploys the stack anew, and its "
                  "bucket and table names derive from the new stack id", file=sys.stderr)
            return 2
        resources_for = serve_stack(args.stack, _parameter_overrides(args.parameter_overrides))
    elif args.parameter_overrides:
        print("archiver: --parameter-overrides needs --stack", file=sys.stderr)
        return 2
    return up(port=_local_port(args), state=args.state, template=args.template, quiet=args.quiet,
              schedule_every=args.schedule_every, resources_for=resources_for)


def _parameter_overrides(items: list[str]) -> dict[str, str]:
    if any("=" not in item for item in items):
        raise ValueError("--parameter-overrides takes KEY=VALUE pairs")
    return dict(item.split("=", 1) for item in items)


def _local_tick(args: argparse.Namespace) -> int:
    from archiver.local.up import tick

    endpoint = args.endpoint or (None if args.port is not None else os.environ.get("AWS_ENDPOINT_URL"))
    return tick(endpoint or f"http://127.0.0.1:{_local_port(args)}")


def _local_deploy(args: argparse.Namespace) -> int:
    from archiver.local.deploy import archive_through_stack, deploy_stack
    from archiver.local.stack import LocalAWS

    parameters = _parameter_overrides(args.parameter_overrides)
    missing = [path for path in args.drop if not path.is_file()]
    if missing:
        print(f"archiver: {missing[0]}: no such file", file=sys.stderr)
        return 2

    def report(deployment, endpoint: str) -> None:
        print(deployment.report(), file=sys.stderr)
        print(json.dumps({"stack": deployment.stack_name, "status": deployment.status, "endpoint": endpoint,
                          "outputs": deployment.outputs}, ensure_ascii=False))

    if args.endpoint_url:
        if args.drop:
            print("archiver: --drop runs the function in this process: use it without --endpoint-url "
                  "(or drop files with `aws --endpoint-url ... s3 cp` into the running stack)", file=sys.stderr)
            return 2
        report(deploy_stack(args.stack, endpoint_url=args.endpoint_url, template_path=args.template,
                            parameters=parameters), args.endpoint_url)
        return 0
    with LocalAWS(args.template) as aws:
        report(deploy_stack(args.stack, endpoint_url=aws.endpoint_url, template_path=aws.template_path,
                            parameters=parameters, clients=aws.client), aws.endpoint_url)
        lines = archive_through_stack(aws, args.stack, args.drop) if args.drop else []
        for line in lines:
            print(json.dumps(line, ensure_ascii=False))
        print("the embedded local AWS stops now; to keep a deployed stack, deploy into a running one "
              "(--endpoint-url)", file=sys.stderr)
    return 1 if any(line["status"] not in ("archived", "duplicate") for line in lines) else 0


def _local_invoke(args: argparse.Namespace) -> int:
    from archiver.local.runner import invoke

    if args.python and not args.built:
        print("archiver: --python needs --built", file=sys.stderr)
        return 2
    return invoke(args.event, file=args.file, template=args.template, built=args.built, python=args.python)
