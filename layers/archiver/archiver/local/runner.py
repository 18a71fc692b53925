"""Run the deployed wiring locally: inbox -> SQS -> handler, against the embedded local AWS.

moto has no Lambda runtime without Docker, so the handler runs in-process: loaded from the
function's CodeUri/Handler in template.yaml, with the template's environment, and handed
events shaped exactly as Lambda shapes them (SQS batches, with partial-failure responses).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from archiver.errors import ArchiverError
from archiver.inbox import SITE_URL_METADATA
from archiver.local.keys import collect_inputs, printable, s3_key
from archiver.local.stack import REGION, LocalAWS, LocalResources
from archiver.local.template import FUNCTION_ID, resolve
from archiver.model import Failure, Input, Origin, Outcome
from archiver.store import ArchiveStore

MAX_EMPTY_POLLS = 5  # bounded: stop when the queue stays empty this many times in a row
SUMMARY_POSTS = 20  # posts listed per input in the summary (an export holds thousands)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "ArchiverFunction"
    memory_limit_in_mb: int = 512  # template.yaml MemorySize
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:ArchiverFunction"
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/ArchiverFunction"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class LocalFunction:
    """The Lambda function of template.yaml, run in-process against a started LocalAWS."""

    def __init__(self, aws: LocalAWS, resources: LocalResources):
        self.aws = aws
        self.resources = resources
        self.module = _load_handler_module(aws, resources)
        handler_name = aws.template["Resources"][FUNCTION_ID]["Properties"]["Handler"].rsplit(".", 1)[1]
        self.handler: Handler = getattr(self.module, handler_name)
        self.store = ArchiveStore(aws.client("s3"), aws.client("dynamodb"),
                                  archive_bucket=resources.archive_bucket, table_name=resources.table_name)
        self._queue_arns: dict[str, str] = {}

    def invoke(self, event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
        """Call the handler as Lambda would; its logs and metrics go to stderr, not stdout."""
        with _environment(self.resources.environment), contextlib.redirect_stdout(sys.stderr):
            return self.handler(event, context or LambdaContext())

    def drain_queue(self, *, batch_size: int = 10, queue_url: str | None = None,
                    on_batch: Callable[[Batch], None] | None = None) -> list[dict[str, Any]]:
        """Poll the inbox queue (or `queue_url`) and hand each batch to the handler, as the SQS trigger does.

        Returns the handler's responses. Messages reported as failed are left on the queue (in
        AWS they return after the visibility timeout and, after maxReceiveCount, go to the DLQ).
        `on_batch` is called after each batch (progress).
        """
        queue_url = queue_url or self.resources.queue_url
        responses = []
        empty_polls = 0
        while empty_polls < MAX_EMPTY_POLLS:
            batch = self.handle_batch(queue_url, batch_size=batch_size)
            if batch is None:
                empty_polls += 1
                continue
            empty_polls = 0
            responses.append(batch.response)
            if on_batch is not None:
                on_batch(batch)
        return responses

    def handle_batch(self, queue_url: str, *, batch_size: int = 10) -> Batch | None:
        """Receive one batch (None when the queue has nothing visible), invoke the handler with it,
        delete the messages it did not report as failed. A raising handler's exception propagates and
        its messages stay on the queue (they return after the visibility timeout, as in AWS)."""
        sqs = self.aws.client("sqs")
        if queue_url not in self._queue_arns:
            self._queue_arns[queue_url] = sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size,
                                       WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return None
        response = self.invoke(sqs_event(messages, self._queue_arns[queue_url]))
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        return Batch(messages, response, failed)


@dataclass(frozen=True)
class Batch:
    """One batch handed to the handler: the messages received, its response, the ids it failed."""

    messages: list[dict[str, Any]]
    response: dict[str, Any]
    failed_ids: set[str]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS trigger builds from received messages."""
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    } for m in messages]}


def ingest(paths: list[Path], *, export: Path | None = None, template: Path | None = None,
           quiet: bool = False, site_url: str | None = None) -> int:
    """Upload files (folders: their files, recursively) to the local inbox, let the queue trigger
    archive them, report each outcome. Progress on stderr unless `quiet`."""
    from archiver.local.progress import Progress

    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"archiver: {path}: no such file or folder", file=sys.stderr)
    files, keys = collect_inputs([p for p in paths if p.exists()])
    with LocalAWS(template) as aws:
        resources = aws.create_resources()
        if not quiet and sys.stderr.isatty():
            # A bar on the terminal: the function's INFO logs and metrics (stderr too) would break it up
            # at every input; the outcome lines and the summary say what they say.
            resources = dataclasses.replace(resources, environment={
                **resources.environment, "POWERTOOLS_LOG_LEVEL": "WARNING", "LOG_LEVEL": "WARNING",
                "POWERTOOLS_METRICS_DISABLED": "true"})
        function = LocalFunction(aws, resources)
        s3 = aws.client("s3")
        with Progress(len(files), "uploading", unit="files", quiet=quiet) as progress:
            dropped = drop_files(s3, function.store, resources.inbox_bucket, files, keys, advance=progress.advance,
                                 site_url=site_url)
        with Progress(len(files), "archiving", unit="messages", quiet=quiet) as progress:
            def advance(batch: Batch) -> None:
                # The total grows with the chunks of large inputs (and moto's s3:TestEvent).
                progress.grow(progress.done + len(batch.messages) + _waiting(aws, resources.queue_url))
                progress.advance(len(batch.messages), ok=len(batch.messages) - len(batch.failed_ids),
                                 failed=len(batch.failed_ids))

            function.drain_queue(on_batch=advance)
        if resources.fetch_queue_url:  # the media jobs of the posts just stored: their images, archived
            with Progress(_waiting(aws, resources.fetch_queue_url), "archiving images", unit="posts",
                          quiet=quiet) as progress:
                function.drain_queue(queue_url=resources.fetch_queue_url, batch_size=1,
                                     on_batch=lambda batch: progress.advance(len(batch.messages)))
        outcomes = [drop.line() if drop.refused else _outcome_line(function.store, resources.inbox_bucket, drop.key)
                    for drop in dropped]
        for line in outcomes:
            print(json.dumps(line, ensure_ascii=False))
        _summary(outcomes, function.store, resources)
        if export:
            count = export_bucket(s3, resources.archive_bucket, export, quiet=quiet)
            print(f"exported {count} objects to {export}/ (open the index.html files in a browser)",
                  file=sys.stderr)
    return 1 if missing or any(o["status"] != "archived" and o["status"] != "duplicate" for o in outcomes) else 0


@dataclass(frozen=True)
class Dropped:
    """A local file dropped into the inbox under `key`, or refused: its failed outcome, recorded instead."""

    path: Path
    key: str
    refused: Outcome | None = None

    def line(self) -> dict[str, Any]:
        """A refused file's outcome line, as `archiver local ingest` prints each input's."""
        error = self.refused.error.to_dict() if self.refused and self.refused.error else None
        return {"key": self.key, "status": "failed", "post_ids": [], "error": error}


def drop_files(s3: Any, store: ArchiveStore, bucket: str, files: list[Path], keys: list[str], *,
               advance: Callable[[], None] | None = None, site_url: str | None = None) -> list[Dropped]:
    """Upload each file into the inbox under its key (`archiver.local.keys.s3_key` of it), streamed.

    A file that cannot be uploaded (a key S3 cannot take, an unreadable file, an upload refused) gets
    a failed outcome of its own, recorded under its path with its bytes archived when they can be
    read, so that `archiver failures` and `retry` see it. The other files still go.
    """
    dropped = []
    for path, key in zip(files, keys, strict=True):
        dropped.append(_drop(s3, store, bucket, path, key, site_url))
        if advance is not None:
            advance()
    return dropped


def _drop(s3: Any, store: ArchiveStore, bucket: str, path: Path, key: str, site_url: str | None = None) -> Dropped:
    from botocore.exceptions import BotoCoreError, ClientError

    shown = printable(key)
    try:
        safe = s3_key(key)
        with path.open("rb") as body:  # streamed: a 100 MB export is not read into memory
            s3.put_object(Bucket=bucket, Key=safe, Body=body,
                          Metadata={SITE_URL_METADATA: site_url} if site_url else {})
    except ArchiverError as exc:
        return Dropped(path, shown, _refuse(store, path, exc))
    except OSError as exc:
        error = ArchiverError(f"{printable(str(path))}: {exc.strerror or exc}", code="unreadable", stage="read")
        return Dropped(path, shown, _refuse(store, path, error))
    except (BotoCoreError, ClientError) as exc:
        error = ArchiverError(f"the inbox refused the key {shown!r}: {exc}", code="upload_failed", stage="upload")
        return Dropped(path, shown, _refuse(store, path, error))
    return Dropped(path, safe)


def _refuse(store: ArchiveStore, path: Path, error: ArchiverError) -> Outcome:
    """Record the failed outcome of a file that was not uploaded; its bytes are archived if they can be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    origin = Origin(kind="file", uri=printable(str(path)))
    outcome = Outcome(status="failed", origin=origin, error=Failure(error.code, error.stage, error.message))
    # Unreadable, or the archive refused: the outcome still says why the file failed.
    with contextlib.suppress(OSError, ArchiverError, BotoCoreError, ClientError):
        outcome.raw_key = store.save_raw(Input.from_file(path, printable(path.name), origin))
    with contextlib.suppress(ArchiverError, BotoCoreError, ClientError):
        store.record_outcome(outcome)
    return outcome


def _waiting(aws: LocalAWS, queue_url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def invoke(event_paths: Path | list[Path], *, file: Path | None = None, template: Path | None = None,
           built: Path | None = None, python: str | None = None) -> int:
    """Run the handler on sample events, one after another on one local stack, after uploading the objects
    each names.

    The handler is the source tree's, in this process; with `built` (a `make build-host` folder)
    it is the built artifact's, in a clean python3.12 process as Lambda runs it (archiver.local.built):
    each event a cold start. Prints the handler's response and the outcome of each object the event
    names; with several events, each event's lines follow a `{"event": PATH}` line.
    """
    paths = [event_paths] if isinstance(event_paths, Path) else list(event_paths)
    artifact = None
    if built is not None:
        from archiver.local.built import BuiltArtifact

        artifact = BuiltArtifact.from_dir(built, python)  # before starting anything: it may be missing
    status = 0
    with LocalAWS(template) as aws:
        resources = aws.create_resources()
        if artifact is not None:
            from archiver.local.built import BuiltFunction

            function: LocalFunction | BuiltFunction = BuiltFunction(aws, resources, artifact)
        else:
            function = LocalFunction(aws, resources)
        for event_path in paths:
            if len(paths) > 1:
                print(json.dumps({"event": str(event_path)}, ensure_ascii=False))
            status = max(status, _invoke_one(event_path, function, aws, resources, file))
    return status


def _invoke_one(event_path: Path, function: LocalFunction | Any, aws: LocalAWS, resources: LocalResources,
                file: Path | None) -> int:
    event = json.loads(event_path.read_text("utf-8"))
    uploaded = {}
    for bucket, key in _named_objects(event):
        if bucket != resources.inbox_bucket:
            print(f"archiver: the event names bucket {bucket!r}; the local inbox is {resources.inbox_bucket!r}",
                  file=sys.stderr)
            return 2
        source = file or _bundled_sample(event_path, key)
        response = aws.client("s3").put_object(Bucket=bucket, Key=key, Body=source.read_bytes())
        uploaded[bucket, key] = (response["ETag"].strip('"'), response.get("VersionId"))
    # The handler reads exactly the version an event names: name the versions just uploaded.
    event = retarget(event, uploaded)
    _archive_originals_named(event, event_path, aws, resources)
    _discard_messages(aws.client("sqs"), resources.queue_url)  # only this event's delivery runs
    try:
        response = function.invoke(event)
        status = 0 if not response or not response.get("batchItemFailures") else 1
    except Exception as exc:  # the handler raising is how Lambda reports a failed invocation
        error_type = getattr(exc, "error_type", type(exc).__name__)  # the built function's, as Lambda names it
        response, status = {"errorType": error_type, "errorMessage": str(exc)}, 1
    print(json.dumps(response, ensure_ascii=False))
    for bucket, key in _named_objects(event):
        print(json.dumps(_outcome_line(function.store, bucket, key), ensure_ascii=False))
    return status


def _discard_messages(sqs: Any, queue_url: str) -> None:
    """Delete what the queue holds (the uploads' own notifications). Not PurgeQueue: SQS allows that once a
    minute per queue, and one stack runs several events."""
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def retarget(event: dict[str, Any], versions: dict[tuple[str, str], tuple[str, str | None]]) -> dict[str, Any]:
    """A copy of an S3 / SQS / EventBridge event naming the given (etag, version id) of each object."""
    from urllib.parse import unquote_plus

    event = json.loads(json.dumps(event))

    def notification(body: dict[str, Any]) -> dict[str, Any]:
        for record in body.get("Records") or []:
            s3 = record.get("s3") or {}
            obj = s3.get("object") or {}
            found = versions.get((s3.get("bucket", {}).get("name"), unquote_plus(obj.get("key", ""))))
            if found:
                obj["eTag"], obj["versionId"] = found
        return body

    if event.get("detail", {}).get("object"):
        detail = event["detail"]
        found = versions.get((detail["bucket"]["name"], detail["object"]["key"]))
        if found:
            detail["object"]["etag"], detail["object"]["version-id"] = found
    for record in event.get("Records") or []:
        if record.get("eventSource") == "aws:sqs":
            record["body"] = json.dumps(notification(json.loads(record["body"])))
    if (event.get("Records") or [{}])[0].get("eventSource") == "aws:s3":
        notification(event)
    return event


def export_bucket(s3: Any, bucket: str, target: Path, *, quiet: bool = True) -> int:
    """Copy every object of a bucket to a folder, keys as relative paths (progress on stderr unless quiet)."""
    from archiver.local.progress import Progress

    keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])]
    count = 0
    with Progress(len(keys), "exporting", unit="objects", quiet=quiet) as progress:
        for key in keys:
            progress.advance()
            path = (target / key).resolve()
            if target.resolve() not in path.parents:
                continue  # a key with `..` must not escape the export folder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            count += 1
    return count


def _outcome_line(store: ArchiveStore, bucket: str, key: str) -> dict[str, Any]:
    record = store.get_outcome(bucket, key)
    if record is None:
        return {"key": key, "status": "failed", "post_ids": [],
                "error": {"code": "not_processed", "stage": "trigger", "message": "no event was delivered"}}
    if record["status"] == "fanned_out":
        return _fanned_out_line(store, record, key)
    return {"key": key, "status": record["status"], "post_ids": record.get("post_ids", []),
            "error": record.get("error")}


def _fanned_out_line(store: ArchiveStore, record: dict[str, Any], key: str) -> dict[str, Any]:
    """One line for an input archived in chunks: failed if any chunk failed or never ran."""
    chunks = store.list_chunk_outcomes(record)
    post_ids = [post_id for chunk in chunks for post_id in chunk.get("post_ids", [])]
    failed = [chunk for chunk in chunks if chunk["status"] == "failed"]
    error = None
    if failed:
        status, error = "failed", {**failed[0]["error"], "chunk": failed[0]["chunk"]["index"]}
    elif len(chunks) < record["chunks"]:
        status = "failed"
        error = {"code": "not_processed", "stage": "trigger",
                 "message": f"{record['chunks'] - len(chunks)} of {record['chunks']} chunks did not run"}
    else:
        status = "duplicate" if all(chunk["status"] == "duplicate" for chunk in chunks) else "archived"
    return {"key": key, "status": status, "post_ids": post_ids, "error": error, "chunks": record["chunks"]}


def _summary(outcomes: list[dict[str, Any]], store: ArchiveStore, resources: LocalResources) -> None:
    counts = {status: sum(o["status"] == status for o in outcomes) for status in ("archived", "duplicate", "failed")}
    print(f"\n{len(outcomes)} inputs: {counts['archived']} archived, {counts['duplicate']} duplicate, "
          f"{counts['failed']} failed", file=sys.stderr)
    for line in outcomes:
        if line["status"] == "failed":
            error = line["error"] or {}
            print(f"  FAILED {line['key']}: {error.get('code')} at {error.get('stage')}: {error.get('message')}",
                  file=sys.stderr)
        if line.get("chunks"):
            print(f"  {line['key']}: {len(line['post_ids'])} posts archived in {line['chunks']} chunks",
                  file=sys.stderr)
        for post_id in line["post_ids"][:SUMMARY_POSTS]:
            post = store.get_post(post_id) or {}
            print(f"  {line['key']} -> {post.get('title')!r}\n"
                  f"      s3://{resources.archive_bucket}/{post.get('html_key')}\n"
                  f"      s3://{resources.archive_bucket}/{post.get('json_key')}\n"
                  f"      dynamodb {resources.table_name}: pk=POST#{post_id} (version {post.get('version')})",
                  file=sys.stderr)
        if len(line["post_ids"]) > SUMMARY_POSTS:
            print(f"  {line['key']}: ... and {len(line['post_ids']) - SUMMARY_POSTS} more posts", file=sys.stderr)


def _named_objects(event: dict[str, Any]) -> Iterator[tuple[str, str]]:
    from archiver.events import event_kind, objects_in_eventbridge, objects_in_s3_notification, objects_in_sqs_body

    kind = event_kind(event)
    if kind == "sqs":
        refs = [ref for record in event["Records"] for ref in objects_in_sqs_body(record["body"])]
    elif kind == "s3":
        refs = objects_in_s3_notification(event)
    elif kind == "eventbridge-s3":
        refs = objects_in_eventbridge(event)
    else:
        refs = []
    for ref in refs:
        yield ref.bucket, ref.key


def _archive_originals_named(event: dict[str, Any], event_path: Path, aws: LocalAWS,
                             resources: LocalResources) -> None:
    """A re-processing batch names archived originals (raw/<sha256>): archive the bundled samples with
    those digests first, as inbox drops, so that there is something to re-process."""
    import hashlib

    from archiver.events import event_kind, raw_keys_in_batch
    from archiver.model import Input, Origin
    from archiver.pipeline import archive_input

    if event_kind(event) != "reprocess":
        return
    samples = {hashlib.sha256(path.read_bytes()).hexdigest(): path
               for path in (event_path.resolve().parent / "samples").iterdir() if path.is_file()}
    store = ArchiveStore(aws.client("s3"), aws.client("dynamodb"), archive_bucket=resources.archive_bucket,
                         table_name=resources.table_name)
    for key in raw_keys_in_batch(event):
        sample = samples.get(key.rsplit("/", 1)[-1])
        if sample is None:
            raise SystemExit(f"archiver: no sample in {event_path.parent / 'samples'} has the digest of {key!r}")
        origin = Origin("s3", f"s3://{resources.inbox_bucket}/{sample.name}", resources.inbox_bucket, sample.name)
        archive_input(Input(data=sample.read_bytes(), name=sample.name, origin=origin), store)


def _bundled_sample(event_path: Path, key: str) -> Path:
    sample = event_path.resolve().parent / "samples" / Path(key).name
    if not sample.is_file():
        raise SystemExit(f"archiver: no sample for key {key!r} in {sample.parent}; pass --file PATH")
    return sample


def _load_handler_module(aws: LocalAWS, resources: LocalResources) -> ModuleType:
    """Import the function's handler module fresh, so its module-level clients bind to this stack."""
    properties = aws.template["Resources"][FUNCTION_ID]["Properties"]
    code_uri = resolve(properties["CodeUri"], {})
    module_name = properties["Handler"].rsplit(".", 1)[0]
    path = aws.template_path.parent / code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"local_{module_name}_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    with _environment(resources.environment), contextlib.redirect_stdout(sys.stderr):
        spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """The function's environment (from template.yaml) while the handler runs; tracing off locally."""
    wanted = {**variables, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": "ArchiverFunction"}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
