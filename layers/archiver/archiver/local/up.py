"""`archiver local up`: a live local stack that archives what is dropped into its inbox, until stopped.

The embedded moto server listens on a fixed port (DEFAULT_PORT unless `--port`); the template's
resources are created there, and the inbox's ObjectCreated notifications go to the inbox queue as
in AWS (moto delivers them). This process plays Lambda's SQS triggers: it polls the inbox and fetch
queues and hands each batch to the handler, deleting what the handler did not report as failed.
The schedule rule fires on its rate, or now on `archiver local tick` (a message on a control queue
that only the local stack has). stdout: first one JSON line naming the endpoint and resources, then
one JSON line per handled object, chunk, fetch job or scheduled run. SIGINT/SIGTERM stop it after
the batch in hand; with `--state DIR` the archive is saved there and restored on the next start.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from archiver.errors import ArchiverError
from archiver.local import DEFAULT_PORT
from archiver.local.progress import Progress
from archiver.local.runner import Batch, LocalFunction
from archiver.local.stack import REGION, LocalAWS, LocalResources
from archiver.local.template import FUNCTION_ID, base_context, resolve

CONTROL_QUEUE = "archiver-local-control"  # `archiver local tick` writes here; not a template resource
IDLE_SECONDS = 0.5  # pause between polls while every queue is empty
CATCH_UP_MIN = 10  # a backlog at least this long gets a progress bar
INBOX_BATCH_SIZE = 10  # the template's BatchSize default
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class NoLocalStack(ArchiverError):
    """`archiver local tick` found no `archiver local up` at the endpoint."""

    code = "no_local_stack"
    stage = "local"


def schedule_seconds(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> float | None:
    """The period of the function's Schedule event (`rate(15 minutes)` -> 900.0); None for cron
    expressions (not run locally: use `archiver local tick`) or when there is no schedule."""
    function = template["Resources"][FUNCTION_ID]["Properties"]
    context = base_context(template, parameters)
    for event in (function.get("Events") or {}).values():
        if event.get("Type") != "Schedule":
            continue
        expression = str(resolve(event["Properties"]["Schedule"], context)).strip()
        match = _RATE.match(expression)
        if match is None:
            print(f"archiver: the schedule {expression!r} is not a rate(): it runs only on `archiver local tick`",
                  file=sys.stderr)
            return None
        return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")])
    return None


def scheduled_event() -> dict[str, Any]:
    """The event EventBridge hands the function when the schedule rule fires."""
    import uuid
    from datetime import UTC, datetime

    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:123456789012:rule/archiver-local-schedule"], "detail": {}}


def announcement(aws: LocalAWS, resources: LocalResources) -> dict[str, Any]:
    """The first stdout line: what scripts need to drive the stack."""
    return {"endpoint": aws.endpoint_url, "region": REGION, "inbox_bucket": resources.inbox_bucket,
            "archive_bucket": resources.archive_bucket, "table": resources.table_name,
            "queue_url": resources.queue_url, "fetch_queue_url": resources.fetch_queue_url}


def wire_inbox(aws: LocalAWS, inbox_bucket: str, queue_url: str) -> None:
    """Send the inbox's ObjectCreated notifications to the queue, unless some configuration already does
    (a stack deployed through moto's CloudFormation loses its NotificationConfiguration)."""
    s3, sqs = aws.client("s3"), aws.client("sqs")
    current = s3.get_bucket_notification_configuration(Bucket=inbox_bucket)
    if current.get("QueueConfigurations"):
        return
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=inbox_bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})


class LiveStack:
    """The trigger loop over served resources: inbox and fetch queues, the schedule, the control queue.

    `resources` says what to serve: the template's resources created locally, or a deployed
    stack's, named by its outputs (`archiver local up --stack`). The loop runs until `stop` is set.
    """

    def __init__(self, aws: LocalAWS, resources: LocalResources, function: LocalFunction, *,
                 out: IO[str] | None = None, quiet: bool = False, schedule_every: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.aws = aws
        self.resources = resources
        self.function = function
        self.out = out if out is not None else sys.stdout
        self.quiet = quiet
        self.schedule_every = schedule_every
        self.clock = clock
        self.sqs = aws.client("sqs")
        self.control_url = self.sqs.create_queue(QueueName=CONTROL_QUEUE)["QueueUrl"]
        self._next_schedule = clock() + schedule_every if schedule_every else None
        self._catch_up: Progress | None = None

    def emit(self, line: dict[str, Any]) -> None:
        self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.out.flush()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            busy = self.step()
            if not busy:
                self._end_catch_up()
                stop.wait(IDLE_SECONDS)
        self._end_catch_up()

    def step(self) -> bool:
        """One round over the triggers; True if anything was handled."""
        busy = False
        if self._next_schedule is not None and self.clock() >= self._next_schedule:
            self._next_schedule = self.clock() + self.schedule_every
            self.run_schedule("rate")
            busy = True
        ticks = self.sqs.receive_message(QueueUrl=self.control_url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=0).get("Messages", [])
        if ticks:
            self.sqs.delete_message_batch(QueueUrl=self.control_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ticks)])
            self.run_schedule("tick")  # several ticks queued meanwhile make one run
            busy = True
        busy |= self._handle(self.resources.queue_url, INBOX_BATCH_SIZE, inbox=True)
        if self.resources.fetch_queue_url:
            busy |= self._handle(self.resources.fetch_queue_url, 1, inbox=False)
        return busy

    def run_schedule(self, trigger: str) -> None:
        try:
            report = self.function.invoke(scheduled_event())
        except Exception as exc:  # the handler raising is a failed invocation, as in Lambda: log it, go on
            self.emit({"schedule": trigger, "status": "failed", "error": _error(exc)})
            return
        self.emit({"schedule": trigger, "status": "done", **(report or {})})

    def _handle(self, queue_url: str, batch_size: int, *, inbox: bool) -> bool:
        if inbox:
            self._start_catch_up(queue_url)
        try:
            batch = self.function.handle_batch(queue_url, batch_size=batch_size)
        except Exception as exc:  # a failed invocation: its messages return after the visibility timeout
            self.emit({"queue": queue_url.rsplit("/", 1)[-1], "status": "failed", "error": _error(exc)})
            return True
        if batch is None:
            return False
        counts: dict[str, int] = {}
        for line in batch_lines(self.function, batch):
            self.emit(line)
            counts[line["status"]] = counts.get(line["status"], 0) + 1
        if inbox and self._catch_up is not None:
            self._catch_up.advance(len(batch.messages), **counts)
        return True

    def _start_catch_up(self, queue_url: str) -> None:
        """A progress bar when a backlog waits (many files dropped at once, or restored state)."""
        if self.quiet or self._catch_up is not None:
            return
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url,
                                                   AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
        if waiting >= CATCH_UP_MIN:
            self._catch_up = Progress(waiting, "catching up", unit="messages")

    def _end_catch_up(self) -> None:
        if self._catch_up is not None:
            self._catch_up.close()
            print(f"archiver: caught up: {self._catch_up.summary()}", file=sys.stderr, flush=True)
            self._catch_up = None


def batch_lines(function: LocalFunction, batch: Batch) -> Iterator[dict[str, Any]]:
    """One line per object, chunk or fetch job of a handled batch, with its recorded outcome."""
    from archiver.chunks import from_message
    from archiver.events import objects_in_sqs_body
    from archiver.fetch.jobs import HostJob

    for message in batch.messages:
        failed = message["MessageId"] in batch.failed_ids
        job = HostJob.from_message(message["Body"])
        if job is not None:
            yield {"fetch_job": job.host, "sources": len(job.sources), "status": "failed" if failed else "done"}
            continue
        chunk = from_message(message["Body"])
        if chunk is not None:
            yield _chunk_line(function, chunk, failed)
            continue
        for ref in objects_in_sqs_body(message["Body"]):  # none for s3:TestEvent
            yield outcome_line(function, ref.bucket, ref.key)


def outcome_line(function: LocalFunction, bucket: str, key: str) -> dict[str, Any]:
    """The object's latest outcome record as one line: key, status, post ids, error (as `local ingest`)."""
    record = function.store.get_outcome(bucket, key)
    if record is None:
        return {"key": key, "status": "failed", "post_ids": [],
                "error": {"code": "not_processed", "stage": "trigger", "message": "no outcome was recorded"}}
    line = {"key": key, "status": record["status"], "post_ids": record.get("post_ids", []),
            "error": record.get("error")}
    if record["status"] == "fanned_out":
        line["chunks"] = record.get("chunks")
    return line


def _chunk_line(function: LocalFunction, chunk: Any, failed: bool) -> dict[str, Any]:
    key = chunk.origin.key or chunk.origin.uri
    record = function.store.get_outcome(chunk.origin.bucket, key) if chunk.origin.bucket else None
    outcome = {}
    if record is not None:
        outcome = next((c for c in function.store.list_chunk_outcomes(record)
                        if (c.get("chunk") or {}).get("index") == chunk.index), {})
    return {"key": key, "chunk": chunk.index, "status": outcome.get("status", "failed" if failed else "archived"),
            "post_ids": outcome.get("post_ids", []), "error": outcome.get("error")}


def _error(exc: BaseException) -> dict[str, str]:
    return {"code": getattr(exc, "code", type(exc).__name__), "message": " ".join(str(exc).split())[:500]}


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (the batch in hand finishes first); a second signal interrupts."""
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print(f"archiver: {signal.Signals(signum).name}: stopping after the batch in hand", file=sys.stderr,
              flush=True)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def template_resources(aws: LocalAWS) -> LocalResources:
    """What `local up` serves by default: the template's resources, created from its Properties."""
    return aws.create_resources()


def up(*, port: int = DEFAULT_PORT, state: Path | None = None, template: Path | None = None,
       quiet: bool = False, schedule_every: float | None = None, out: IO[str] | None = None,
       resources_for: Callable[[LocalAWS], LocalResources] = template_resources) -> int:
    """Serve resources on `port` until SIGINT/SIGTERM; 0 after a clean stop.

    `resources_for` makes (or finds) the resources to serve once the server runs, and names them:
    by default the template's; a deployed stack's outputs can name others (then `wire_inbox` them).
    """
    from archiver.local import state as saved

    out = out if out is not None else sys.stdout
    snapshot = None
    if state is not None:  # a bad state folder fails before anything starts
        saved.prepare_folder(state)
        snapshot = saved.read_snapshot(state)
    with stop_on_signals() as stop, LocalAWS(template, port=port) as aws:
        resources = resources_for(aws)
        if snapshot is not None:
            saved.restore_snapshot(aws, resources, snapshot)
            print(f"archiver: restored {_counts(snapshot.counts)} from {state}", file=sys.stderr)
        function = LocalFunction(aws, resources)
        every = schedule_every if schedule_every is not None else schedule_seconds(aws.template, aws.parameters)
        live = LiveStack(aws, resources, function, out=out, quiet=quiet, schedule_every=every or None)
        live.emit(announcement(aws, resources))
        print(f"archiver: local stack on {aws.endpoint_url}; drop files with\n"
              f"  aws --endpoint-url {aws.endpoint_url} s3 cp post.md s3://{resources.inbox_bucket}/\n"
              f"archiver: Ctrl-C stops it{' and saves the archive in ' + str(state) if state else ''}",
              file=sys.stderr, flush=True)
        live.run(stop)
        if state is not None:
            snapshot = saved.take_snapshot(aws, resources)
            saved.save_queued(aws, snapshot, [resources.queue_url])
    # The server has stopped: nothing writes into moto's state while it is written out.
    if state is not None:
        path = saved.write_snapshot(snapshot, state)
        print(f"archiver: saved {_counts(snapshot.counts)} to {path}", file=sys.stderr)
    print("archiver: stopped", file=sys.stderr)
    return 0


def tick(endpoint: str) -> int:
    """Ask the `archiver local up` at `endpoint` to run the schedule now."""
    import boto3
    from botocore.exceptions import ClientError, EndpointConnectionError

    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    try:
        url = sqs.get_queue_url(QueueName=CONTROL_QUEUE)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tick": time.time()}))
    except EndpointConnectionError as exc:
        raise NoLocalStack(f"nothing listens at {endpoint}: start `archiver local up` first") from exc
    except ClientError as exc:
        raise NoLocalStack(f"{endpoint} is not an `archiver local up` ({exc})") from exc
    print(json.dumps({"endpoint": endpoint, "tick": "sent"}))
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in counts.items())
