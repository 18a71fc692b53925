"""Re-check jobs: one message per host on the fetch queue, bounded in posts, read back as they were sent."""

from __future__ import annotations

from archiver.fetch.jobs import HostJob
from archiver.fetch.recheck_jobs import MAX_POSTS_PER_JOB, RecheckJob, plan_recheck_jobs


def test_due_rechecks_make_one_job_per_host_bounded_in_posts() -> None:
    due = [{"post_id": f"a{n}", "host": "a.example"} for n in range(MAX_POSTS_PER_JOB + 1)]
    due += [{"post_id": "b0", "host": "b.example"}]
    jobs = plan_recheck_jobs(due, "2026-11-26T12:30:00Z")
    assert [(job.host, len(job.posts)) for job in jobs] == [("a.example", MAX_POSTS_PER_JOB), ("a.example", 1),
                                                            ("b.example", 1)]
    assert jobs[1].posts == (f"a{MAX_POSTS_PER_JOB}",)


def test_a_job_message_reads_back_and_is_told_apart_from_other_messages() -> None:
    job = RecheckJob("a.example", ("p1", "p2"), attempt=2, lease="2026-11-26T12:30:00Z")
    assert RecheckJob.from_message(job.to_message()) == job
    assert RecheckJob.from_message(HostJob("a.example", ("s1",)).to_message()) is None
    assert HostJob.from_message(job.to_message()) is None
    assert RecheckJob.from_message("not json") is None
    # Two runs' jobs for the same posts differ (the FIFO queue drops a body it saw in the last five minutes).
    later = RecheckJob("a.example", ("p1", "p2"), attempt=2, lease="2026-11-26T12:45:00Z")
    assert job.to_message() != later.to_message()
