"""The scheduled run: due sources -> one fetch job per host -> the fetch queue.

The schedule never fetches. It queries the due sources (the table's ByDue index, no Scan),
leases them (so that an overlapping run cannot queue them twice) and sends one message per
host holding that host's due sources. The fetch queue is FIFO with the host as message group,
so SQS itself hands a host's jobs to one worker at a time, in order: politeness holds with no
lock of ours, while different hosts run in parallel up to the event source's maximum concurrency.
Message body:

    {"archiver_fetch": {"host": "example.com", "sources": ["<source id>", ...]}}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from archiver.errors import ArchiverError
from archiver.fetch.schedule import iso
from archiver.model import Source
from archiver.source_store import SourceStore

MESSAGE_KEY = "archiver_fetch"
MAX_SOURCES_PER_JOB = 2000  # ids of 20 characters: well inside SQS's 256 KB message limit
SQS_BATCH = 10


class QueueError(ArchiverError):
    code = "queue_failed"
    stage = "schedule"


@dataclass(frozen=True)
class HostJob:
    """The sources of one host to fetch one after another; `attempt` counts re-queued remainders."""

    host: str
    sources: tuple[str, ...]
    attempt: int = 0

    def to_message(self) -> str:
        return json.dumps({MESSAGE_KEY: {"host": self.host, "sources": list(self.sources),
                                         "attempt": self.attempt}}, separators=(",", ":"))

    @classmethod
    def from_message(cls, body: str) -> HostJob | None:
        """The job a queue message carries, or None for any other message."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        job = data.get(MESSAGE_KEY) if isinstance(data, dict) else None
        if not isinstance(job, dict):
            return None
        return cls(host=str(job["host"]), sources=tuple(job["sources"]), attempt=int(job.get("attempt", 0)))


class QueuedJob(Protocol):
    """A job for the fetch queue: a host's sources (HostJob), a host's re-checks (recheck_jobs.RecheckJob)."""

    @property
    def host(self) -> str: ...

    def to_message(self) -> str: ...


class JobQueue(Protocol):
    def send(self, jobs: Sequence[QueuedJob]) -> None: ...


@dataclass
class ScheduleReport:
    due: int = 0
    queued: int = 0
    jobs: int = 0
    hosts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "queued": self.queued, "jobs": self.jobs, "hosts": len(self.hosts)}


def plan_jobs(sources: Iterable[Source]) -> list[HostJob]:
    """One job per host (more only past MAX_SOURCES_PER_JOB), hosts and sources in a stable order."""
    by_host: dict[str, list[str]] = {}
    for source in sources:
        by_host.setdefault(source.host, []).append(source.id)
    jobs = []
    for host in sorted(by_host):
        ids = by_host[host]
        for first in range(0, len(ids), MAX_SOURCES_PER_JOB):
            jobs.append(HostJob(host, tuple(ids[first:first + MAX_SOURCES_PER_JOB])))
    return jobs


def queue_due_sources(sources: SourceStore, queue: JobQueue, now: datetime, *, lease_seconds: int) -> ScheduleReport:
    """Lease every due source and queue one job per host; returns what was done."""
    report = ScheduleReport()
    until = iso(now + timedelta(seconds=lease_seconds))
    leased = []
    for source in sources.due(iso(now)):
        report.due += 1
        if sources.lease(source, until):
            leased.append(source)
    jobs = plan_jobs(leased)
    queue.send(jobs)
    report.queued = len(leased)
    report.jobs = len(jobs)
    report.hosts = sorted({job.host for job in jobs})
    return report


class SqsJobQueue:
    """Sends host jobs to the FIFO fetch queue: message group = host, ten messages per request."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        if not queue_url:
            raise QueueError("a fetch queue needs a queue URL")
        self._sqs = sqs
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")

    def send(self, jobs: Sequence[QueuedJob]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for first in range(0, len(jobs), SQS_BATCH):
            entries = [self._entry(str(i), job) for i, job in enumerate(jobs[first:first + SQS_BATCH])]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                raise QueueError(f"send fetch jobs to {self.queue_url}: {exc}") from exc
            if response.get("Failed"):
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}" for f in response["Failed"][:3])
                raise QueueError(f"{len(response['Failed'])} fetch jobs were refused: {reasons}")

    def _entry(self, entry_id: str, job: QueuedJob) -> dict[str, Any]:
        body = job.to_message()
        entry = {"Id": entry_id, "MessageBody": body}
        if self.fifo:
            # The host is the group (one worker at a time per host); identical jobs sent within
            # SQS's five-minute window are dropped as duplicates.
            entry["MessageGroupId"] = (job.host or "-")[:128]  # SQS allows 128 characters
            entry["MessageDeduplicationId"] = hashlib.sha256(body.encode()).hexdigest()
        return entry
