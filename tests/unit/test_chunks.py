"""Fan-out of large inputs: chunk plans, the chunk message, the SQS sender, the pipeline's decision.

No AWS here: the queue and the store are small fakes (the pipeline takes them as dependencies).
"""

from __future__ import annotations

import json
from pathlib import Path

import make_feed  # scripts/ (pytest's pythonpath)
import make_wxr
import pytest

from archiver import chunks, pipeline
from archiver.model import Chunk, Input, Origin, Outcome
from archiver.spool import RawCache, spool

ORIGIN = Origin("s3", "s3://inbox/big export.xml", "inbox", "big export.xml", None, "etag1")


def export(tmp_path: Path, posts: int) -> Input:
    path = tmp_path / "big export.xml"
    path.write_text(make_wxr.export_with_posts(posts), "utf-8")
    return Input.from_file(path, "big export.xml", ORIGIN)


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[Chunk] = []

    def send(self, planned) -> None:
        self.sent.extend(planned)


class FakeStore:
    """Only what the fan-out path touches: raw bytes first, then the outcome record."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.outcomes: list[Outcome] = []

    def save_raw(self, item: Input) -> str:
        self.calls.append("save_raw")
        return "raw/ab/abcd"

    def begin_input(self, origin: Origin, **_: object) -> None:
        self.calls.append("begin_input")  # a first attempt: no earlier record

    def record_outcome(self, outcome: Outcome, **_: object) -> None:
        self.calls.append("record_outcome")
        self.outcomes.append(outcome)

    def save_chunk_context(self, raw_key: str, context: dict) -> str:
        self.calls.append("save_chunk_context")
        self.context = json.loads(json.dumps(context))  # what S3 would hand back
        return "chunks/ab/abcd/context.json"


class SliceStore(FakeStore):
    """A store holding one archived export: chunks may read byte ranges of it, never all of it."""

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw
        self.ranges: list[tuple[int, int]] = []
        self.posts: list = []

    def read_raw_range(self, key: str, begin: int, end: int) -> bytes:
        self.ranges.append((begin, end))
        return self.raw[begin:end]

    def read_chunk_context(self, key: str) -> dict:
        assert key == "chunks/ab/abcd/context.json"
        return self.context

    def download_raw(self, key: str, target) -> int:
        raise AssertionError("a slice must not download the whole export")

    def save_post(self, post, raw_key, html, **_: object):
        from archiver.store.facade import SaveResult
        from archiver.store.keys import post_keys

        self.posts.append(post)
        return SaveResult(status="archived", version=1, keys=post_keys(post))


def test_plan_covers_every_post_once_in_order():
    planned = chunks.plan(60, 25, raw_key="raw/ab/abcd", name="x.xml", origin=ORIGIN, format="wxr")
    assert [(c.index, c.start, c.stop) for c in planned] == [(0, 0, 25), (1, 25, 50), (2, 50, 60)]
    assert {(c.total, c.chunks) for c in planned} == {(60, 3)}
    assert [c.start for c in planned[1:]] == [c.stop for c in planned[:-1]]
    assert len(chunks.plan(75, 25, raw_key="k", name="x", origin=ORIGIN, format="wxr")) == 3


def test_chunk_message_shape_and_round_trip():
    chunk = chunks.plan(60, 25, raw_key="raw/ab/abcd", name="big export.xml", origin=ORIGIN, format="wxr")[2]
    body = json.loads(chunks.to_message(chunk))
    assert body == {"archiver_chunk": {
        "raw_key": "raw/ab/abcd", "name": "big export.xml", "format": "wxr",
        "origin": {"kind": "s3", "uri": "s3://inbox/big export.xml", "bucket": "inbox", "key": "big export.xml",
                   "version_id": None, "etag": "etag1"},
        "index": 2, "start": 50, "stop": 60, "total": 60, "chunks": 3}}
    assert chunks.from_message(chunks.to_message(chunk)) == chunk


@pytest.mark.parametrize("body", ['{"Records": []}', '{"Event": "s3:TestEvent"}', "not json", "[]"])
def test_other_queue_messages_are_not_chunks(body: str):
    assert chunks.from_message(body) is None


class FakeSqs:
    def __init__(self, refuse_first: int = 0) -> None:
        self.requests: list[list[dict]] = []
        self.refuse = refuse_first

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.requests.append(Entries)
        failed = [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in Entries[: self.refuse]]
        self.refuse = 0
        return {"Successful": [{"Id": e["Id"]} for e in Entries[len(failed):]], "Failed": failed}


def test_sqs_queue_sends_ten_per_request_and_resends_refused_entries():
    planned = chunks.plan(23 * 10, 10, raw_key="k", name="x", origin=ORIGIN, format="wxr")
    sqs = FakeSqs(refuse_first=2)
    chunks.SqsChunkQueue(sqs, "https://sqs/queue").send(planned)
    assert [len(r) for r in sqs.requests] == [10, 2, 10, 3]  # the two refused entries went again
    sent = [chunks.from_message(e["MessageBody"]).index for r in sqs.requests for e in r]
    assert sorted(set(sent)) == list(range(23))


def test_archive_input_saves_raw_first_then_queues_chunks_instead_of_archiving(tmp_path):
    store, queue = FakeStore(), ListQueue()
    outcome = pipeline.archive_input(export(tmp_path, 60), store, queue=queue, chunk_posts=25)
    assert store.calls == ["save_raw", "begin_input", "save_chunk_context", "record_outcome"]
    assert outcome.status == "fanned_out" and outcome.chunks == 3 and outcome.post_ids == []
    assert outcome.raw_key == "raw/ab/abcd"
    assert [(c.start, c.stop, c.raw_key, c.format, c.origin) for c in queue.sent] == [
        (0, 25, "raw/ab/abcd", "wxr", ORIGIN), (25, 50, "raw/ab/abcd", "wxr", ORIGIN),
        (50, 60, "raw/ab/abcd", "wxr", ORIGIN)]
    assert outcome.to_dict()["chunks"] == 3
    # Slices: consecutive byte ranges, each named in its message with the shared context.
    assert all(c.context_key == "chunks/ab/abcd/context.json" for c in queue.sent)
    assert [c.end for c in queue.sent[:-1]] <= [c.begin for c in queue.sent[1:]]
    message = json.loads(chunks.to_message(queue.sent[1]))["archiver_chunk"]
    assert chunks.from_message(chunks.to_message(queue.sent[1])) == queue.sent[1]
    assert message["begin"] == queue.sent[1].begin > 0


def test_each_chunk_reads_only_its_own_bytes_and_archives_exactly_its_posts(tmp_path):
    item = export(tmp_path, 60)
    raw = item.read_bytes()
    store, queue = SliceStore(raw), ListQueue()
    pipeline.archive_input(item, store, queue=queue, chunk_posts=25)
    outcomes = [pipeline.archive_chunk(chunk, store) for chunk in queue.sent]
    assert [(o.status, len(o.post_ids)) for o in outcomes] == [("archived", 25), ("archived", 25), ("archived", 10)]
    assert store.ranges == [(c.begin, c.end) for c in queue.sent]
    assert sum(end - begin for begin, end in store.ranges) < len(raw)  # the channel head is read by none
    whole = [p.id for p in pipeline.each_normalized(item)]
    assert [p.id for p in store.posts] == whole


def test_a_queue_that_fails_leaves_a_failure_record_to_retry(tmp_path):
    class Broken:
        def send(self, planned) -> None:
            raise chunks.FanOutError("queue is down")

    store = FakeStore()
    outcome = pipeline.archive_input(export(tmp_path, 30), store, queue=Broken(), chunk_posts=25)
    assert outcome.status == "failed" and outcome.raw_key == "raw/ab/abcd"
    assert (outcome.error.code, outcome.error.stage) == ("fan_out_failed", "fan_out")


def test_small_or_unsplittable_inputs_are_archived_whole(tmp_path):
    assert pipeline.split(export(tmp_path, 25), "k", 25) == []  # not more than chunk_posts
    assert len(pipeline.split(export(tmp_path, 26), "k", 25)) == 2
    markdown = Input(b"---\ntitle: One\n---\nBody\n", "one.md", ORIGIN)
    assert pipeline.split(markdown, "k", 1) == []  # front matter cannot split
    assert pipeline.split(Input(b"\x00junk", "x.bin", ORIGIN), "k", 1) == []  # the whole path reports it


def test_file_backed_input_reads_in_pieces_and_deletes_its_spooled_copy(tmp_path):
    path = spool([b"<?xml ", b"version='1.0'?>", b"<rss/>"], directory=str(tmp_path))
    with Input.from_file(path, "x.xml", ORIGIN, temporary=True) as item:
        assert item.size == 27 and item.head(5) == b"<?xml"
        with item.open() as f:
            assert f.read() == item.read_bytes() == b"<?xml version='1.0'?><rss/>"
    assert not Path(path).exists()
    with pytest.raises(ValueError):
        Input(b"data", "x", ORIGIN, path=path)


def test_spool_stops_at_the_limit_and_leaves_nothing_behind(tmp_path):
    from archiver.errors import InputTooLarge

    with pytest.raises(InputTooLarge):
        spool([b"x" * 10] * 3, directory=str(tmp_path), max_bytes=25)
    assert list(tmp_path.iterdir()) == []


def test_raw_cache_downloads_once_and_keeps_one_copy(tmp_path):
    cache = RawCache(tmp_path)
    fills = []

    def fill(key: str):
        return lambda f: (fills.append(key), f.write(key.encode()))

    first = cache.path("raw/aa/aaaa", fill("raw/aa/aaaa"))
    assert cache.path("raw/aa/aaaa", fill("raw/aa/aaaa")) == first
    second = cache.path("raw/bb/bbbb", fill("raw/bb/bbbb"))
    assert fills == ["raw/aa/aaaa", "raw/bb/bbbb"]
    assert [p.name for p in cache.directory.iterdir()] == ["bbbb"]
    assert Path(second).read_bytes() == b"raw/bb/bbbb"


def test_a_large_feed_is_archived_in_slices_too(tmp_path):
    raw = make_feed.rss(60, paragraphs=1).encode()
    item = Input(raw, "big.rss", ORIGIN)
    store, queue = SliceStore(raw), ListQueue()
    pipeline.archive_input(item, store, queue=queue, chunk_posts=25)
    assert [(c.format, c.start, c.stop) for c in queue.sent] == [("feed", 0, 25), ("feed", 25, 50), ("feed", 50, 60)]
    outcomes = [pipeline.archive_chunk(chunk, store) for chunk in queue.sent]
    assert [len(o.post_ids) for o in outcomes] == [25, 25, 10]
    assert store.ranges == [(c.begin, c.end) for c in queue.sent]
    assert [p.id for p in store.posts] == [p.id for p in pipeline.each_normalized(item)]
