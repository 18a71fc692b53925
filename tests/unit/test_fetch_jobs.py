"""Host jobs: one per host, messages that round-trip, FIFO entries grouped by host."""

from __future__ import annotations

from archiver.fetch.jobs import MAX_SOURCES_PER_JOB, HostJob, SqsJobQueue, plan_jobs
from archiver.model import Source


def source(n: int, host: str) -> Source:
    return Source(id=f"s{n}", url=f"https://{host}/feed{n}.xml", kind="feed")


def test_one_job_per_host_in_a_stable_order() -> None:
    jobs = plan_jobs([source(1, "b.example"), source(2, "a.example"), source(3, "b.example")])
    assert [(j.host, j.sources) for j in jobs] == [("a.example", ("s2",)), ("b.example", ("s1", "s3"))]


def test_a_host_with_very_many_sources_is_split() -> None:
    jobs = plan_jobs([source(n, "big.example") for n in range(MAX_SOURCES_PER_JOB + 1)])
    assert [len(j.sources) for j in jobs] == [MAX_SOURCES_PER_JOB, 1]


def test_the_host_includes_the_port() -> None:
    assert Source(id="x", url="http://127.0.0.1:8080/feed", kind="feed").host == "127.0.0.1:8080"


def test_job_messages_round_trip_and_other_messages_are_not_jobs() -> None:
    job = HostJob("a.example", ("s1", "s2"), attempt=2)
    assert HostJob.from_message(job.to_message()) == job
    assert HostJob.from_message('{"Records": []}') is None
    assert HostJob.from_message("not json") is None


class RecordingSqs:
    def __init__(self) -> None:
        self.batches: list[list[dict]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.batches.append(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_fifo_entries_are_grouped_by_host_ten_per_request() -> None:
    sqs = RecordingSqs()
    SqsJobQueue(sqs, "https://sqs.example/123/fetch.fifo").send(
        [HostJob(f"h{n}.example", (f"s{n}",)) for n in range(12)])
    assert [len(b) for b in sqs.batches] == [10, 2]
    first = sqs.batches[0][0]
    assert first["MessageGroupId"] == "h0.example"
    assert len(first["MessageDeduplicationId"]) == 64
