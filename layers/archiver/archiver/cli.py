"""The `archiver` command: every subcommand only calls library functions.

Commands that touch AWS take `--stack NAME` and `--endpoint-url URL` and resolve where they act in
archiver.deployment (one order for all). No traceback reaches a user: an error is one line,
`archiver: <code>: <message>`, exit status 2; `--debug` shows the traceback too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.cli_posts import add_post_commands
from archiver.cli_sources import add_source_commands
from archiver.errors import ArchiverError
from archiver.local import DEFAULT_PORT as LOCAL_PORT
from archiver.local import PORT_VARIABLE as LOCAL_PORT_VARIABLE

if TYPE_CHECKING:
    from archiver.deployment import Target
    from archiver.model import Post


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`archiver normalize ... | head`): stop quietly
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        print("archiver: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a user's mistake, a refused request, even a bug: one line, exit 2
        if args.debug:
            traceback.print_exc()
        code, message = error_line(exc)
        print(f"archiver: {code}: {message}", file=sys.stderr)
        return 2


def error_line(exc: BaseException) -> tuple[str, str]:
    """The code and one-line message a user sees for an exception."""
    if isinstance(exc, ArchiverError):
        return exc.code, exc.message
    if isinstance(exc, ValueError):  # a refused URL, a bad option value
        return "invalid", _one_line(str(exc))
    if type(exc).__module__.startswith("botocore."):
        return _aws_error_line(exc)
    if isinstance(exc, OSError) and exc.strerror:
        code = {FileNotFoundError: "not_found", PermissionError: "permission_denied"}.get(type(exc), "os_error")
        return code, _one_line(f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror)
    return "internal_error", _one_line(f"{type(exc).__name__}: {exc} (--debug shows where)")


def _aws_error_line(exc: BaseException) -> tuple[str, str]:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

    if isinstance(exc, ClientError):  # AWS answered: its own error code (NoSuchBucket, AccessDenied...)
        return str(exc.response.get("Error", {}).get("Code") or "aws_error"), _one_line(str(exc))
    if isinstance(exc, NoCredentialsError):
        return "no_credentials", "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, NoRegionError):
        return "not_configured", "no AWS region: set AWS_REGION, or pass --stack or --endpoint-url"
    if isinstance(exc, EndpointConnectionError):
        return "unreachable", _one_line(str(exc))
    return "aws_error", _one_line(f"{type(exc).__name__}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:1000]


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would print a second BrokenPipeError there.
    # Nothing to do when stdout is not a real file (captured in tests).
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiver", description="Archive blog and news posts.")
    parser.add_argument("--debug", action="store_true", help="on an error, show its traceback too")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    aws = _aws_options()

    normalize = _command(commands, "normalize", help="print each post of the inputs as JSON Lines (no AWS); an "
                         "input over $MAX_INPUT_BYTES (200 MiB) is refused, as the inbox refuses it")
    normalize.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    normalize.add_argument("--timezone", default="UTC", help="zone for dates written without one (default UTC)")
    normalize.add_argument("--site-url", metavar="URL", help="the site the files' posts belong to: relative links "
                           "and images resolve against it when a post names no site")
    normalize.set_defaults(run=_normalize)

    copies = _command(commands, "copies", parents=[aws],
                      help="which posts are copies of one story: of local files, or of an archived post (--post)")
    copies.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    copies.add_argument("--post", metavar="ID", help="an archived post's id: list its copies in the table")
    copies.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    copies.set_defaults(run=_copies)

    failures = _command(commands, "failures", parents=[aws],
                        help="list inputs that failed or never finished (pending), as JSON Lines")
    failures.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    failures.set_defaults(run=_failures)

    retry = _command(commands, "retry", parents=[aws],
                     help="archive failed or unfinished inputs again, from their saved bytes")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("key", nargs="?", metavar="KEY", help="an input as `archiver failures` names it")
    which.add_argument("--all", action="store_true", help="every unfinished input (not those pending < 30 min)")
    retry.add_argument("--table", help="the archive table (default: $TABLE_NAME)")
    retry.add_argument("--archive-bucket", help="the archive bucket (default: $ARCHIVE_BUCKET)")
    retry.add_argument("--timezone", help="zone for dates written without one (default: $DEFAULT_TIMEZONE)")
    retry.add_argument("--quiet", action="store_true", help="no progress on stderr (with --all)")
    retry.set_defaults(run=_retry)

    add_source_commands(commands, aws, _command)
    add_post_commands(commands, aws, _command)

    reprocess = _command(commands, "reprocess", parents=[aws], help="re-normalize archived posts from their "
                         "archived originals; a new version only where the output changed")
    reprocess.add_argument("--since", metavar="DATE",
                           help="only inputs archived on or after DATE (2026-01-31 or 2026-01-31T12:00:00Z)")
    reprocess.add_argument("--site", help="only the posts of this site (as in post keys: example.com)")
    reprocess.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    reprocess.add_argument("--timezone", help="zone for dates written without one (default: $DEFAULT_TIMEZONE)")
    reprocess.add_argument("--on-aws", action="store_true",
                           help="with --stack: start the stack's ReprocessStateMachine (Distributed Map, in "
                                "batches on Lambda) instead of re-processing from this machine")
    reprocess.set_defaults(run=_reprocess)

    schema = _command(commands, "schema", help="print the JSON Schema of archived posts")
    schema.set_defaults(run=_schema)

    local = _command(commands, "local", help="run against an embedded local AWS (moto server)")
    local_commands = local.add_subparsers(required=True, metavar="COMMAND")
    ingest = _command(local_commands, "ingest",
                      help="drop files (or folders, recursively) into the local inbox and archive them")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="files, or folders: their files recursively, keyed relative to the folder")
    ingest.add_argument("--export", type=Path, metavar="DIR", help="copy the archive bucket to DIR")
    ingest.add_argument("--site-url", metavar="URL", help="the site the files' posts belong to (the inbox "
                        "objects' site-url metadata): relative links and images resolve against it")
    ingest.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    ingest.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ingest.set_defaults(run=_local_ingest)
    up = _command(local_commands, "up", help="a live local stack: archive what is dropped into its inbox until Ctrl-C")
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
    tick = _command(local_commands, "tick", help="tell the running `archiver local up` to run the schedule now")
    tick.add_argument("--endpoint-url", "--endpoint", dest="endpoint",
                      help="its endpoint (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:PORT)")
    tick.add_argument("--port", type=int, default=None,
                      help=f"its port (default: ${{{LOCAL_PORT_VARIABLE}}} or {LOCAL_PORT})")
    tick.set_defaults(run=_local_tick)
    invoke = _command(local_commands, "invoke", help="run the handler on sample events, one after another")
    invoke.add_argument("events", type=Path, nargs="+", metavar="EVENT.json")
    invoke.add_argument("--file", type=Path, help="the object the event names (default: a bundled sample)")
    invoke.add_argument("--template", type=Path, help="template.yaml (default: found from the current folder)")
    invoke.add_argument("--built", type=Path, metavar="DIR",
                        help="run the built artifact of `make build-host` (e.g. .aws-sam/host) in a clean python3.12")
    invoke.add_argument("--python", help="with --built: the python3.12 to run it (default: the one that built it)")
    invoke.set_defaults(run=_local_invoke)
    deploy = _command(local_commands, "deploy", help="deploy template.yaml through the local CloudFormation "
                      "(package, SAM transform, create or update), then apply by API what moto drops")
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


def _aws_options() -> argparse.ArgumentParser:
    """Where a command that touches AWS acts (resolved by archiver.deployment, in one order for all)."""
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--stack", metavar="NAME",
                     help="a deployed stack (name or ARN): its outputs name the table, buckets and queues "
                          "(default: TABLE_NAME, ARCHIVE_BUCKET... from the environment)")
    aws.add_argument("--endpoint-url", metavar="URL",
                     help="an AWS endpoint, e.g. http://127.0.0.1:4566 for a local stack (default: $AWS_ENDPOINT_URL)")
    return aws


# `--debug` after a command too (`archiver retry --all --debug`), as before it; SUPPRESS keeps the main
# parser's value when it is not repeated there.
_DEBUG = argparse.ArgumentParser(add_help=False)
_DEBUG.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _command(commands: argparse._SubParsersAction, name: str, *, parents: Sequence[argparse.ArgumentParser] = (),
             **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand that takes --debug as the main command does."""
    return commands.add_parser(name, parents=[_DEBUG, *parents], **kwargs)


def _target(args: argparse.Namespace) -> Target:
    """Where the command acts: its --stack, --endpoint-url and own options, then the environment."""
    from archiver.deployment import resolve_target

    overrides = {field: getattr(args, option) for field, option in (("table_name", "table"),
                                                                     ("archive_bucket", "archive_bucket"))
                 if hasattr(args, option)}
    return resolve_target(args.stack, args.endpoint_url, overrides)


def _normalize(args: argparse.Namespace) -> int:
    from archiver.dates import zone

    failures = 0
    for path in args.paths:
        try:  # each post is written as soon as it is built: memory stays flat in the number of posts
            for post in _each_normalized(path, zone(args.timezone), site_url=args.site_url):
                sys.stdout.write(json.dumps(post.to_dict(), ensure_ascii=False) + "\n")
        except _FileFailed:
            failures += 1
    return 1 if failures else 0


class _FileFailed(Exception):
    """A file could not be normalized; its one-line error is already on stderr."""


def _each_normalized(path: Path, default_tz: tzinfo = UTC, *, site_url: str | None = None) -> Iterator[Post]:
    """The file's posts one at a time; raises _FileFailed (after a one-line error on stderr) when the
    file cannot be read or normalized. The file is read in pieces by formats that stream; one over the
    inbox's size limit (MAX_INPUT_BYTES) is refused before it is read.

    Any exception, even a bug, is that file's failure: the caller goes on with the next file.
    """
    from archiver.config import Settings
    from archiver.model import Input, Origin
    from archiver.pipeline import each_normalized

    limits = Settings.from_env()  # the inbox's limits: what the archive would refuse is not read here either
    if not path.is_file():
        _report(path, "unreadable", "read", "not a file" if path.exists() else "No such file or directory")
        raise _FileFailed
    item = Input.from_file(path, name=path.name, origin=Origin(kind="file", uri=str(path.resolve()),
                                                               site_url=site_url))
    try:
        yield from each_normalized(item, default_tz=default_tz, max_bytes=limits.max_input_bytes,
                                   max_post_bytes=limits.max_post_bytes)
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
        return _archived_copies(args.post, _target(args))
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


def _archived_copies(post_id: str, target: Target) -> int:
    store = target.store(bucket=False)
    post = store.get_post(post_id)
    if post is None:
        print(f"archiver: no archived post {post_id}", file=sys.stderr)
        return 1
    for copy in store.list_story_copies(post["story_id"]):
        print(json.dumps({k: copy.get(k) for k in ("id", "url", "title", "site", "published_at", "json_key")},
                         ensure_ascii=False))
    return 0


def _record_line(record: dict) -> dict:
    from archiver.retry import input_key

    line = {"input": input_key(record), "sk": record["sk"], "status": record.get("status"),
            "error": record.get("error"), "raw_key": record.get("raw_key"), "attempts": record.get("attempts"),
            "last_attempt_at": record.get("last_attempt_at")}
    if record.get("chunk"):
        line["chunk"] = record["chunk"]["index"]
    return line


def _failures(args: argparse.Namespace) -> int:
    for record in _target(args).store(bucket=False).list_failures():
        print(json.dumps(_record_line(record), ensure_ascii=False))
    return 0


def _retry(args: argparse.Namespace) -> int:
    from archiver import retry
    from archiver.chunks import SqsChunkQueue
    from archiver.dates import zone
    from archiver.local.progress import Progress

    target = _target(args)
    store = target.store()  # the saved bytes are read back from the archive bucket
    config = target.settings
    records = retry.unfinished(store, None if args.all else args.key)
    if not records and not args.all:
        print(f"archiver: no failed or unfinished input {args.key!r} (see `archiver failures`)", file=sys.stderr)
        return 1
    queue = SqsChunkQueue(target.client("sqs"), config.queue_url) if config.queue_url else None
    from archiver.media.job import SqsMediaQueue

    media = SqsMediaQueue(target.client("sqs"), config.fetch_queue_url) if config.fetch_queue_url else None
    s3 = target.client("s3")
    failed = 0
    with Progress(len(records), "retrying", quiet=args.quiet or not args.all) as progress:
        for record in records:
            if args.all and retry.is_recent(record):
                print(f"archiver: {retry.input_key(record)} skipped: pending since {record.get('last_attempt_at')}, "
                      "it may still be running (retry it by KEY to force)", file=sys.stderr)
                progress.advance(skipped=1)
                continue
            try:
                outcome = retry.retry(record, store, s3=s3, settings=config, queue=queue, media=media,
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
    from archiver.dates import zone
    from archiver.reprocess import Options, parse_since, reprocess

    target = _target(args)
    store = target.store()
    settings = target.settings
    options = Options(since=parse_since(args.since), site=args.site, dry_run=args.dry_run,
                      default_tz=zone(args.timezone or settings.default_timezone),
                      max_post_bytes=settings.max_post_bytes)
    media = None
    if settings.fetch_queue_url and not args.dry_run:  # posts without archived images get their media jobs
        from archiver.media.job import SqsMediaQueue

        media = SqsMediaQueue(target.client("sqs"), settings.fetch_queue_url)
    report = reprocess(store, options, media=media)
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    print(f"{report.inputs} inputs: {report.renormalized} posts re-normalized"
          f"{' (dry run: nothing written)' if args.dry_run else ''}, {report.unchanged} unchanged, "
          f"{report.skipped} skipped, {report.failed} failed", file=sys.stderr)
    for failure in report.failures:
        print(f"  FAILED {failure['raw_key']} {failure['post_id'] or ''}: {failure['code']} at {failure['stage']}: "
              f"{failure['message']}", file=sys.stderr)
    return 1 if report.failed else 0


def _reprocess_on_aws(args: argparse.Namespace) -> int:
    from archiver.deployment import NotConfigured
    from archiver.reprocess import parse_since

    if not args.stack:
        raise NotConfigured("--on-aws needs --stack NAME (the state machine is the stack's)")
    parse_since(args.since)  # a mistake is reported here, not by a failed execution
    target = _target(args)
    arn = target.output("ReprocessStateMachineArn")
    execution_input = {"since": args.since or "", "site": args.site or "", "dry_run": args.dry_run}
    started = target.client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(execution_input))
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

    return ingest(args.paths, export=args.export, template=args.template, quiet=args.quiet, site_url=args.site_url)


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
    return invoke(args.events, file=args.file, template=args.template, built=args.built, python=args.python)
