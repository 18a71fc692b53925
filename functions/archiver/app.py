"""Lambda entry point: adapts S3 / SQS / EventBridge / schedule events to the archiver library.

No parsing, HTML or storage logic here; see the `archiver` package in layers/archiver/.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)

from archiver.chunks import SqsChunkQueue, from_message
from archiver.clients import client
from archiver.config import Settings
from archiver.dates import zone
from archiver.deadline import Deadline
from archiver.errors import ArchiverError
from archiver.events import (
    ObjectRef,
    event_kind,
    objects_in_eventbridge,
    objects_in_s3_notification,
    objects_in_sqs_body,
    raw_keys_in_batch,
    reprocess_options,
)
from archiver.fetch.jobs import HostJob, SqsJobQueue, queue_due_sources
from archiver.fetch.recheck_jobs import RecheckJob, queue_due_rechecks
from archiver.inbox import archive_object as archive_inbox_object
from archiver.media.job import MediaJob, SqsMediaQueue
from archiver.source_store import SourceStore
from archiver.spool import RawCache
from archiver.store import ArchiveStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from archiver.model import Chunk, Outcome

logger = Logger()
# Trace the AWS calls; requests is patched by the first fetch job (importing it here would cost every
# cold start ~60 ms), and patching every module X-Ray knows would import sqlite3 and more.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
# A batch whose every record failed still returns (each listed in batchItemFailures) instead of
# raising: the invocation ends normally, and SQS retries exactly the failed records either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
fifo_processor = SqsFifoPartialProcessor()  # the fetch queue: a failed job holds back its host's later jobs

SETTINGS = Settings.from_env()  # once per cold start (a module loaded again reads it again)
if warning := SETTINGS.unsafe_fetch_warning():
    logger.warning(warning)
# Clients retry throttling and 5xx errors (botocore standard mode; see archiver.clients).
s3 = client("s3")
dynamodb = client("dynamodb")
sqs = client("sqs")
store = ArchiveStore(s3, dynamodb, archive_bucket=SETTINGS.archive_bucket, table_name=SETTINGS.table_name)
sources = SourceStore(dynamodb, SETTINGS.table_name)
# Large splittable inputs are fanned out as chunk messages to the function's own trigger queue.
chunk_queue = SqsChunkQueue(sqs, SETTINGS.queue_url) if SETTINGS.queue_url else None
fetch_queue = SqsJobQueue(sqs, SETTINGS.fetch_queue_url) if SETTINGS.fetch_queue_url else None
# A stored post's images are archived by a media job on the fetch queue, grouped by the images' host.
media_queue = SqsMediaQueue(sqs, SETTINGS.fetch_queue_url) if SETTINGS.fetch_queue_url else None
_http = None  # the fetch worker's HTTP client (one requests.Session), made by the first fetch job
raw_cache = RawCache(SETTINGS.spool_dir or None)  # the raw object chunks read, kept across warm starts
DEFAULT_TZ = zone(SETTINGS.default_timezone)
METRIC_BY_STATUS = {"archived": "InputsArchived", "duplicate": "InputsDuplicate", "failed": "InputsFailed",
                    "fanned_out": "InputsFannedOut", "gone": "InputsGone"}


def publish_metrics(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`metrics.log_metrics` for an invocation that may count nothing.

    S3's s3:TestEvent (sent when the inbox's notification is configured, so on every local stack start)
    and a fetch job whose sources are gone have no metric to publish, which is normal: Powertools'
    decorator would print its "No application metrics to publish" UserWarning for each of them.
    """

    @functools.wraps(handler)
    def publishing(event: dict[str, Any], context: LambdaContext) -> Any:
        try:
            return handler(event, context)
        finally:  # as log_metrics: published even when the handler raises
            if metrics.metric_set:
                metrics.flush_metrics()

    return publishing


class InputFailed(ArchiverError):
    """Raised so that the batch reports the record as failed; the failure is already recorded."""

    code = "input_failed"


@tracer.capture_method
def archive_object(ref: ObjectRef, deadline: Deadline | None = None) -> Outcome | None:
    if ref.bucket == SETTINGS.archive_bucket:  # never re-ingest our own output
        logger.warning("ignoring an event for the archive bucket", extra={"key": ref.key})
        return None
    outcome = archive_inbox_object(s3, ref, store, settings=SETTINGS, default_tz=DEFAULT_TZ, queue=chunk_queue,
                                   deadline=deadline, media=media_queue)
    if outcome.redelivered:  # already archived by an earlier delivery: nothing was done again
        metrics.add_metric(name="InputsRedelivered", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=METRIC_BY_STATUS[outcome.status], unit=MetricUnit.Count, value=1)
    if outcome.status == "archived" and not outcome.redelivered:
        metrics.add_metric(name="PostsArchived", unit=MetricUnit.Count, value=len(outcome.post_ids))
    if outcome.status == "fanned_out" and not outcome.redelivered:
        metrics.add_metric(name="ChunksQueued", unit=MetricUnit.Count, value=outcome.chunks)
    logger.info("input processed", extra=outcome.to_dict())
    if outcome.status == "failed":
        raise InputFailed(f"s3://{ref.bucket}/{ref.key}: {outcome.error.code}: {outcome.error.message}")
    return outcome


@tracer.capture_method
def archive_chunk_message(chunk: Chunk, deadline: Deadline | None = None) -> Outcome:
    from archiver.pipeline import archive_chunk  # the normalizer's imports: paid by the first event, not the start

    outcome = archive_chunk(chunk, store, default_tz=DEFAULT_TZ, cache=raw_cache, deadline=deadline, media=media_queue,
                            max_post_bytes=SETTINGS.max_post_bytes)
    metrics.add_metric(name="ChunksFailed" if outcome.status == "failed" else "ChunksArchived",
                       unit=MetricUnit.Count, value=1)
    if outcome.status == "archived":
        metrics.add_metric(name="PostsArchived", unit=MetricUnit.Count, value=len(outcome.post_ids))
    logger.info("chunk processed", extra=outcome.to_dict())
    if outcome.status == "failed":
        raise InputFailed(f"{chunk.origin.uri} chunk {chunk.index}: {outcome.error.code}: {outcome.error.message}")
    return outcome


@tracer.capture_method
def run_fetch_job(job: HostJob, lambda_context: LambdaContext | None) -> None:
    """A host's due sources, fetched one after another; the rest is queued again if time runs short."""
    from archiver.fetch.worker import run_job

    result = run_job(list(job.sources), sources, fetch_job_context(lambda_context))
    for report in result.reports:
        metrics.add_metric(name=f"Fetch{report.status.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PostsArchived", unit=MetricUnit.Count, value=report.new + report.updated)
        logger.info("source fetched", extra={"source": report.source_id, **report.to_dict()})
    if result.remaining:
        if fetch_queue is None:
            raise ArchiverError("a fetch job ran short of time and no fetch queue is configured", stage="fetch")
        fetch_queue.send([HostJob(job.host, tuple(result.remaining), job.attempt + 1)])
        metrics.add_metric(name="FetchDeferred", unit=MetricUnit.Count, value=1)
        logger.info("fetch job deferred", extra={"host": job.host, "remaining": len(result.remaining)})


@tracer.capture_method
def run_recheck_job(job: RecheckJob, lambda_context: LambdaContext | None) -> None:
    """A host's due re-checks, one post after another; the rest is queued again if time runs short."""
    from archiver.fetch.recheck import run_recheck_job as run_job

    result = run_job(list(job.posts), fetch_job_context(lambda_context))
    counts = result.counts
    checked = sum(counts[name] for name in ("unchanged", "changed", "gone", "failed"))
    metrics.add_metric(name="PostsRechecked", unit=MetricUnit.Count, value=checked)
    metrics.add_metric(name="RecheckVersions", unit=MetricUnit.Count, value=counts["changed"])
    metrics.add_metric(name="RecheckGone", unit=MetricUnit.Count, value=counts["gone"])
    metrics.add_metric(name="RecheckFailed", unit=MetricUnit.Count, value=counts["failed"])
    logger.info("re-check job", extra={"host": job.host, **result.counts, "versions": result.versions,
                                       "remaining": len(result.remaining)})
    if result.remaining:
        if fetch_queue is None:
            raise ArchiverError("a re-check job ran short of time and no fetch queue is configured", stage="recheck")
        fetch_queue.send([RecheckJob(job.host, tuple(result.remaining), job.attempt + 1, job.lease)])
        metrics.add_metric(name="RecheckDeferred", unit=MetricUnit.Count, value=1)


def fetch_job_context(lambda_context: LambdaContext | None) -> Any:
    """A fetch or re-check job's context: the worker's HTTP client, its deadline less the margin."""
    global _http
    from archiver.fetch.runtime import fetch_context, http_client

    if _http is None:
        tracer.patch(["requests"])
        _http = http_client(SETTINGS)
    # The job stops with the margin left: enough to save its state and queue the rest.
    deadline = Deadline.from_context(lambda_context, SETTINGS.fetch_margin_seconds)
    return fetch_context(SETTINGS, _http, store, sources, default_tz=DEFAULT_TZ, deadline=deadline,
                         media=media_queue)


@tracer.capture_method
def run_media_job(job: MediaJob, lambda_context: LambdaContext | None) -> None:
    """One post version's images: archived, attached to its page; the rest queued again if time runs short."""
    from archiver.media.job import run_media_job as run_job

    report = run_job(job, media_context(lambda_context))
    metrics.add_metric(name="MediaArchived", unit=MetricUnit.Count, value=report.archived)
    if report.failed:
        metrics.add_metric(name="MediaFailed", unit=MetricUnit.Count, value=report.failed)
    logger.info("media job", extra=report.to_dict())
    if report.remaining is not None:
        if media_queue is None:
            raise ArchiverError("a media job ran short of time and no fetch queue is configured", stage="media")
        media_queue.send([report.remaining])


def media_context(lambda_context: LambdaContext | None) -> Any:
    """The media job's context: the fetch worker's HTTP client, robots.txt shared through the table."""
    global _http
    from archiver.media.job import media_context as context_for

    if _http is None and SETTINGS.remote_media:
        from archiver.fetch.runtime import http_client

        tracer.patch(["requests"])
        _http = http_client(SETTINGS)
    deadline = (lambda: lambda_context.get_remaining_time_in_millis() / 1000) if lambda_context else None
    return context_for(store, SETTINGS, deadline=deadline, client=_http, robots_store=sources)


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    logger.set_correlation_id(record.message_id)  # follows one message through retries and the DLQ
    media_job = MediaJob.from_message(record.body)
    if media_job is not None:  # a stored post's images, queued when it was stored
        run_media_job(media_job, lambda_context)
        return
    job = HostJob.from_message(record.body)
    if job is not None:  # a host's fetch job, queued by the schedule
        run_fetch_job(job, lambda_context)
        return
    recheck_job = RecheckJob.from_message(record.body)
    if recheck_job is not None:  # a host's due re-checks of archived posts, queued by the schedule
        run_recheck_job(recheck_job, lambda_context)
        return
    chunk = from_message(record.body)
    remaining = lambda_context.get_remaining_time_in_millis() if lambda_context else None
    needed = SETTINGS.chunk_min_seconds if chunk is not None else (
        SETTINGS.deadline_margin_seconds + SETTINGS.input_min_seconds)
    if remaining is not None and remaining < needed * 1000 and chunk_queue is not None:
        # Not enough time left in this invocation (a batch holds up to 10 messages): queue the
        # message again, as a fresh one, rather than risk the timeout or burn a retry.
        chunk_queue.requeue(record.body)
        logger.info("message deferred", extra={"chunk": chunk.index if chunk else None, "remaining_ms": remaining})
        metrics.add_metric(name="ChunksDeferred" if chunk else "InputsDeferred", unit=MetricUnit.Count, value=1)
        return
    # Each message's work stops before the function's timeout; see archiver.deadline.
    deadline = Deadline.from_context(lambda_context, SETTINGS.deadline_margin_seconds)
    if chunk is not None:  # a chunk of a large input, queued by archive_input
        archive_chunk_message(chunk, deadline)
        return
    for ref in objects_in_sqs_body(record.body):
        archive_object(ref, deadline)


def archive_all(refs: list[ObjectRef], context: LambdaContext | None = None) -> dict[str, Any]:
    """Direct S3 or EventBridge events: archive every object, then fail if any did (to retry them)."""
    failed = []
    for ref in refs:
        try:
            archive_object(ref, Deadline.from_context(context, SETTINGS.deadline_margin_seconds))
        except InputFailed as exc:
            failed.append(str(exc))
    if failed:
        raise InputFailed(f"{len(failed)} of {len(refs)} inputs failed: " + "; ".join(failed))
    return {"archived": len(refs)}


def schedule_fetches() -> dict[str, Any]:
    """The scheduled run fetches nothing itself: it queues one job per host with due sources, and one per host
    with archived posts due for a re-check (at most RECHECK_PER_RUN of them: the rest wait for the next run)."""
    from datetime import UTC, datetime

    if fetch_queue is None:
        raise ArchiverError("no FETCH_QUEUE_URL: the schedule has nowhere to queue fetch jobs", stage="schedule")
    now = datetime.now(UTC)
    report = queue_due_sources(sources, fetch_queue, now, lease_seconds=SETTINGS.fetch_lease_seconds)
    rechecks = queue_due_rechecks(store.rechecks, fetch_queue, now, lease_seconds=SETTINGS.fetch_lease_seconds,
                                  limit=SETTINGS.recheck_per_run)
    metrics.add_metric(name="ScheduledRuns", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="SourcesQueued", unit=MetricUnit.Count, value=report.queued)
    metrics.add_metric(name="RechecksQueued", unit=MetricUnit.Count, value=rechecks.queued)
    result = {**report.to_dict(), "rechecks": rechecks.to_dict()}
    logger.info("scheduled run", extra=result)
    return result


def reprocess_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """A Distributed Map batch of archived originals: re-normalize their posts, return the counts.

    A bad input is counted (failed), not raised: the batch succeeds. Running out of time raises,
    so that the state machine retries the batch (re-processing it again only finds posts unchanged).
    """
    from archiver.reprocess import Options, reprocess

    options = Options.from_event(reprocess_options(event), default_tz=DEFAULT_TZ,
                                 max_post_bytes=SETTINGS.max_post_bytes)
    deadline = Deadline.from_context(context, SETTINGS.deadline_margin_seconds)
    report = reprocess(store, options, raw_keys_in_batch(event, options.since), deadline=deadline, media=media_queue)
    metrics.add_metric(name="ReprocessRenormalized", unit=MetricUnit.Count, value=report.renormalized)
    metrics.add_metric(name="ReprocessUnchanged", unit=MetricUnit.Count, value=report.unchanged)
    metrics.add_metric(name="ReprocessSkipped", unit=MetricUnit.Count, value=report.skipped)
    metrics.add_metric(name="ReprocessFailed", unit=MetricUnit.Count, value=report.failed)
    logger.info("reprocess batch", extra={k: v for k, v in report.to_dict().items() if k != "renormalized_ids"})
    return report.to_dict()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@publish_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    kind = event_kind(event)
    logger.append_keys(trigger=kind)
    logger.set_correlation_id(event.get("id") or context.aws_request_id)  # EventBridge's event id
    if kind == "sqs":
        fifo = str(event["Records"][0].get("eventSourceARN", "")).endswith(".fifo")
        return process_partial_response(event=event, record_handler=record_handler,
                                        processor=fifo_processor if fifo else processor, context=context)
    if kind == "s3":
        return archive_all(objects_in_s3_notification(event), context)
    if kind == "eventbridge-s3":
        return archive_all(objects_in_eventbridge(event), context)
    if kind == "schedule":
        return schedule_fetches()
    if kind == "reprocess":
        return reprocess_batch(event, context)
    raise ArchiverError(f"unsupported event: {sorted(event)[:5]}", code="unsupported_event", stage="trigger")
