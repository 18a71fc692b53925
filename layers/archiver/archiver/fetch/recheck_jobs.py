"""The scheduled run's re-checks: due posts -> one re-check job per host -> the fetch queue.

As for sources (see `jobs`): the due re-checks are found through the table's ToRecheck index (a Query per
shard, no Scan), at most `limit` a run (the rest stay due for the next run), leased so that an overlapping
run cannot queue them twice, and sent one message per host (at most MAX_POSTS_PER_JOB posts each) to the
FIFO fetch queue with the host as message group: a host's re-checks and its sources' fetches take turns,
one worker at a time, so politeness holds across both. Message body:

    {"archiver_recheck": {"host": "example.com", "posts": ["<post id>", ...], "attempt": 0, "lease": "<until>"}}

The lease in the body keeps two runs' jobs for the same posts apart: the FIFO queue drops a body it has seen
in the last five minutes (a post re-checked on demand, then by the schedule).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archiver.fetch.schedule import iso

if TYPE_CHECKING:
    from archiver.fetch.jobs import JobQueue
    from archiver.store.rechecks import RecheckRecords

MESSAGE_KEY = "archiver_recheck"
MAX_POSTS_PER_JOB = 100  # a job's posts are read with one BatchGetItem; each is at least one paced GET


@dataclass(frozen=True)
class RecheckJob:
    """The due posts of one host to re-check one after another; `attempt` counts re-queued remainders."""

    host: str
    posts: tuple[str, ...]
    attempt: int = 0
    lease: str = ""  # the leases' end, as the scheduled run set it

    def to_message(self) -> str:
        return json.dumps({MESSAGE_KEY: {"host": self.host, "posts": list(self.posts), "attempt": self.attempt,
                                         "lease": self.lease}}, separators=(",", ":"))

    @classmethod
    def from_message(cls, body: str) -> RecheckJob | None:
        """The job a queue message carries, or None for any other message."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        job = data.get(MESSAGE_KEY) if isinstance(data, dict) else None
        if not isinstance(job, dict):
            return None
        return cls(host=str(job["host"]), posts=tuple(job["posts"]), attempt=int(job.get("attempt", 0)),
                   lease=str(job.get("lease", "")))


@dataclass
class RecheckScheduleReport:
    due: int = 0
    queued: int = 0
    jobs: int = 0
    hosts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "queued": self.queued, "jobs": self.jobs, "hosts": len(self.hosts)}


def plan_recheck_jobs(due: Iterable[dict[str, Any]], lease: str = "") -> list[RecheckJob]:
    """One job per host (more past MAX_POSTS_PER_JOB), hosts in a stable order, posts as found (oldest first)."""
    by_host: dict[str, list[str]] = {}
    for item in due:
        by_host.setdefault(item.get("host") or "", []).append(item["post_id"])
    return [RecheckJob(host, tuple(ids[first:first + MAX_POSTS_PER_JOB]), lease=lease)
            for host, ids in sorted(by_host.items()) for first in range(0, len(ids), MAX_POSTS_PER_JOB)]


def queue_due_rechecks(rechecks: RecheckRecords, queue: JobQueue, now: datetime, *, lease_seconds: int,
                       limit: int) -> RecheckScheduleReport:
    """Lease at most `limit` due re-checks and queue one job per host; returns what was done."""
    report = RecheckScheduleReport()
    until = iso(now + timedelta(seconds=lease_seconds))
    leased = []
    for item in rechecks.due(iso(now), limit=limit):
        report.due += 1
        if rechecks.lease(item, until):
            leased.append(item)
    jobs = plan_recheck_jobs(leased, until)
    if jobs:
        queue.send(jobs)
    report.queued, report.jobs = len(leased), len(jobs)
    report.hosts = sorted({job.host for job in jobs})
    return report
