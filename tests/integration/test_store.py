"""ArchiveStore against moto over HTTP: versions, duplicates, crash recovery, raw dedupe, outcomes, indexes.

Uses the session's `local_aws` (tests/conftest.py: moto's server on 127.0.0.1, resources created
from template.yaml). Every test uses fresh ids, keys and sites, so the shared stack is fine.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from archiver.local.stack import LocalAWS
from archiver.model import Failure, Input, Origin, Outcome, Post
from archiver.store import ArchiveStore

REGION = "us-east-1"


@dataclass
class Stack:
    endpoint_url: str
    archive_bucket: str
    table_name: str


@pytest.fixture(scope="module")
def stack(local_aws: LocalAWS) -> Stack:
    resources = local_aws.resources
    assert resources is not None
    return Stack(local_aws.endpoint_url, resources.archive_bucket, resources.table_name)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 2}),
    )


@pytest.fixture(scope="module")
def s3(stack: Stack) -> Any:
    return _client("s3", stack.endpoint_url)


@pytest.fixture(scope="module")
def ddb(stack: Stack) -> Any:
    return _client("dynamodb", stack.endpoint_url)


@pytest.fixture
def store(stack: Stack, s3: Any, ddb: Any) -> ArchiveStore:
    return ArchiveStore(s3, ddb, archive_bucket=stack.archive_bucket, table_name=stack.table_name)


def make_post(*, site: str | None = None, body: str = "<p>Hello.</p>", **overrides: Any) -> Post:
    site = site or f"{uuid.uuid4().hex[:8]}.example.com"
    content_sha256 = hashlib.sha256(body.encode()).hexdigest()
    fields: dict[str, Any] = dict(
        id=uuid.uuid4().hex[:16],
        url=f"https://{site}/2024/05/hello-world.html",
        canonical_url=f"https://{site}/2024/05/hello-world.html",
        story_id=uuid.uuid4().hex[:16],
        source={"kind": "file", "site_name": "Example", "site_url": f"https://{site}/", "weight": 0.5},
        title="Hello, World!",
        authors=["Ada Lovelace"],
        published_at="2024-05-03T10:00:00Z",
        updated_at=None,
        status="publish",
        categories=["News"],
        tags=["python"],
        excerpt="",
        language="en",
        image=None,
        content_html=body,
        text="Hello.",
        word_count=1,
        reading_time_minutes=1,
        links=[],
        images=[],
        source_link=f"https://{site}/",
        content_sha256=content_sha256,
        normalizer_version="1",
        archived_at="2024-06-01T00:00:00Z",
        front_matter={"layout": "post", "score": 1.5},
    )
    fields.update(overrides)
    return Post(**fields)


def changed(post: Post, body: str) -> Post:
    return replace(post, content_html=body, content_sha256=hashlib.sha256(body.encode()).hexdigest())


def json_versions(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    response = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in response.get("Versions", []) if v["Key"] == key]


def read_json(s3: Any, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
    extra = {"VersionId": version_id} if version_id else {}
    return json.loads(s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read())


def test_post_keys_are_human_browsable(store: ArchiveStore):
    post = make_post(site="blog.example.com")
    keys = store.post_keys(post)
    assert keys.prefix == f"posts/blog.example.com/2024/05/03/hello-world--{post.id}/"
    assert keys.json_key == keys.prefix + "post.json"
    assert keys.html_key == keys.prefix + "index.html"
    undated = store.post_keys(replace(post, published_at=None, url=None, title="Ça va? Très bien!"))
    assert undated.prefix.endswith(f"/undated/ca-va-tres-bien--{post.id}/")


def test_first_save_archives_version_1(store: ArchiveStore, s3: Any, stack: Stack):
    post = make_post()
    result = store.save_post(post, "raw/ab/abc", "<!doctype html><title>x</title>")
    assert (result.status, result.version) == ("archived", 1)

    document = read_json(s3, stack.archive_bucket, result.keys.json_key)
    assert document["id"] == post.id and document["version"] == 1
    assert document["front_matter"]["score"] == 1.5
    head = s3.head_object(Bucket=stack.archive_bucket, Key=result.keys.html_key)
    assert head["ContentType"] == "text/html; charset=utf-8"

    latest = store.get_post(post.id)
    assert latest is not None
    assert latest["state"] == "stored"
    assert latest["version"] == 1
    assert latest["title"] == post.title
    assert latest["authors"] == ["Ada Lovelace"]
    assert latest["source"]["weight"] == 0.5
    assert latest["site"] == post.site
    assert latest["site_pk"] == f"SITE#{post.site}"
    assert latest["story_pk"] == f"STORY#{post.story_id}"
    assert latest["raw_key"] == "raw/ab/abc"
    assert latest["json_key"] == result.keys.json_key
    assert "updated_at" not in latest and "image" not in latest  # None is omitted
    assert latest["json_version_id"]

    versions = store.list_versions(post.id)
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["content_sha256"] == post.content_sha256


def test_redelivered_post_is_a_duplicate_and_writes_nothing(store: ArchiveStore, s3: Any, stack: Stack):
    post = make_post()
    first = store.save_post(post, "raw/aa/a", "<p>page</p>")
    again = store.save_post(replace(post, archived_at="2024-07-01T00:00:00Z"), "raw/aa/a", "<p>page</p>")

    assert (again.status, again.version) == ("duplicate", 1)
    assert again.keys == first.keys
    assert len(store.list_versions(post.id)) == 1
    assert len(json_versions(s3, stack.archive_bucket, first.keys.json_key)) == 1
    assert store.get_post(post.id)["archived_at"] == "2024-06-01T00:00:00Z"


def test_duplicate_reports_where_the_stored_version_lives(store: ArchiveStore):
    post = make_post()
    first = store.save_post(post, "raw/k", "<p></p>")
    # Same content hash, different metadata (e.g. a re-dated copy): still a duplicate.
    again = store.save_post(replace(post, published_at="2025-01-01T00:00:00Z"), "raw/k", "<p></p>")
    assert again.status == "duplicate"
    assert again.keys == first.keys


def test_changed_content_archives_version_2_and_keeps_both(store: ArchiveStore, s3: Any, stack: Stack):
    post = make_post(body="<p>First draft.</p>")
    first = store.save_post(post, "raw/01/one", "<p>1</p>")
    second = store.save_post(changed(post, "<p>Second draft.</p>"), "raw/02/two", "<p>2</p>")

    assert (second.status, second.version) == ("archived", 2)
    versions = store.list_versions(post.id)
    assert [v["version"] for v in versions] == [1, 2]
    assert [v["raw_key"] for v in versions] == ["raw/01/one", "raw/02/two"]

    s3_versions = json_versions(s3, stack.archive_bucket, first.keys.json_key)
    assert len(s3_versions) == 2
    bodies = {read_json(s3, stack.archive_bucket, first.keys.json_key, v["VersionId"])["version"] for v in s3_versions}
    assert bodies == {1, 2}
    assert versions[0]["json_version_id"] != versions[1]["json_version_id"]

    latest = store.get_post(post.id)
    assert latest["version"] == 2 and latest["state"] == "stored"
    assert latest["raw_key"] == "raw/02/two"

    # The same changed content again is a duplicate of version 2.
    assert store.save_post(changed(post, "<p>Second draft.</p>"), "raw/02/two", "<p>2</p>").status == "duplicate"


def test_changed_date_moves_the_key_and_both_objects_exist(store: ArchiveStore, s3: Any, stack: Stack):
    post = make_post(body="<p>v1</p>")
    first = store.save_post(post, "raw/x", "<p>1</p>")
    moved = replace(changed(post, "<p>v2</p>"), published_at="2024-05-04T09:00:00Z")
    second = store.save_post(moved, "raw/y", "<p>2</p>")
    assert second.keys.json_key != first.keys.json_key
    assert read_json(s3, stack.archive_bucket, first.keys.json_key)["version"] == 1
    assert read_json(s3, stack.archive_bucket, second.keys.json_key)["version"] == 2


def test_pending_claim_left_by_a_crash_is_completed_on_redelivery(
    store: ArchiveStore, s3: Any, ddb: Any, stack: Stack, monkeypatch: pytest.MonkeyPatch
):
    post = make_post()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Lambda timed out")

    with monkeypatch.context() as m:
        m.setattr(store, "_put_version", crash)
        with pytest.raises(RuntimeError):
            store.save_post(post, "raw/cr/crash", "<p>page</p>")
    assert store.get_post(post.id)["state"] == "pending"
    assert store.list_versions(post.id) == []

    result = store.save_post(post, "raw/cr/crash", "<p>page</p>")
    assert (result.status, result.version) == ("archived", 1)
    assert store.get_post(post.id)["state"] == "stored"
    assert [v["version"] for v in store.list_versions(post.id)] == [1]
    assert store.save_post(post, "raw/cr/crash", "<p>page</p>").status == "duplicate"


def test_crash_after_version_item_is_completed_on_redelivery(store: ArchiveStore, monkeypatch: pytest.MonkeyPatch):
    post = make_post()
    with monkeypatch.context() as m:
        m.setattr(store, "_mark_stored", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError):
            store.save_post(post, "raw/cr/late", "<p>page</p>")
    assert len(store.list_versions(post.id)) == 1

    result = store.save_post(post, "raw/cr/late", "<p>page</p>")
    assert (result.status, result.version) == ("archived", 1)
    latest = store.get_post(post.id)
    versions = store.list_versions(post.id)
    assert latest["state"] == "stored"
    assert len(versions) == 1
    assert latest["json_version_id"] == versions[0]["json_version_id"]  # LATEST agrees with V#1


def test_hot_path_never_reads_before_writing(stack: Stack):
    """Conditional writes decide: duplicates and new versions need no GetItem or HeadObject."""
    s3, ddb = _client("s3", stack.endpoint_url), _client("dynamodb", stack.endpoint_url)
    reads: list[str] = []
    ddb.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append("GetItem"))
    ddb.meta.events.register("before-call.dynamodb.Query", lambda **_: reads.append("Query"))
    s3.meta.events.register("before-call.s3.HeadObject", lambda **_: reads.append("HeadObject"))
    store = ArchiveStore(s3, ddb, archive_bucket=stack.archive_bucket, table_name=stack.table_name)

    post = make_post()
    data = uuid.uuid4().bytes
    for _ in range(2):
        store.save_raw(Input(data, "x.bin", Origin("file", "/tmp/x.bin")))
        store.save_post(post, "raw/r", "<p></p>")
    assert store.save_post(changed(post, "<p>new</p>"), "raw/r", "<p></p>").version == 2
    assert reads == []


def test_identical_bytes_under_two_names_are_saved_once(store: ArchiveStore, s3: Any, stack: Stack):
    data = f"---\ntitle: Café {uuid.uuid4()}\n---\nBody\n".encode()
    first = store.save_raw(
        Input(data, "café post.md", Origin("s3", "s3://inbox/café post.md", "inbox", "café post.md"))
    )
    second = store.save_raw(Input(data, "copy.md", Origin("s3", "s3://inbox/copy.md", "inbox", "copy.md")))

    digest = hashlib.sha256(data).hexdigest()
    assert first == second == f"raw/{digest[:2]}/{digest}"
    response = s3.list_object_versions(Bucket=stack.archive_bucket, Prefix=first)
    assert len(response.get("Versions", [])) == 1
    head = s3.head_object(Bucket=stack.archive_bucket, Key=first)
    assert head["Metadata"]["original-name"] == "caf%C3%A9%20post.md"
    assert head["Metadata"]["origin-uri"] == "s3://inbox/caf%C3%A9%20post.md"
    assert head["ContentType"] == "text/markdown"
    assert s3.get_object(Bucket=stack.archive_bucket, Key=first)["Body"].read() == data


def test_failed_outcome_is_readable_and_listed(store: ArchiveStore):
    key = f"drops/{uuid.uuid4().hex}.bin"
    origin = Origin("s3", f"s3://inbox/{key}", "inbox", key, version_id="v1", etag='"abc"')
    failure = Failure(code="unsupported_format", stage="detect", message="no format recognised")
    store.record_outcome(
        Outcome("failed", origin, raw_key="raw/ff/ff", error=failure), received_at="2024-06-01T00:00:00Z"
    )

    outcome = store.get_outcome("inbox", key)
    assert outcome is not None
    assert outcome["status"] == "failed"
    assert outcome["error"] == {"code": "unsupported_format", "stage": "detect", "message": "no format recognised"}
    assert outcome["raw_key"] == "raw/ff/ff"
    assert outcome["sk"] == "v1"
    assert outcome["received_at"] == "2024-06-01T00:00:00Z"
    assert any(f["pk"] == f"INPUT#inbox/{key}" for f in store.list_failures())

    # A retry that succeeds overwrites the same input's record and leaves the failure list.
    store.record_outcome(Outcome("archived", origin, raw_key="raw/ff/ff", post_ids=["p1"]))
    outcome = store.get_outcome("inbox", key)
    assert outcome["status"] == "archived" and "error" not in outcome
    assert outcome["post_ids"] == ["p1"]
    assert not any(f["pk"] == f"INPUT#inbox/{key}" for f in store.list_failures())


def test_first_finished_outcome_stands_and_later_attempts_are_counted(store: ArchiveStore):
    key = f"drops/{uuid.uuid4().hex}.md"
    origin = Origin("s3", f"s3://inbox/{key}", "inbox", key, version_id="v1")
    assert store.begin_input(origin, raw_key="raw/aa/a") is None
    assert store.get_outcome("inbox", key)["status"] == "pending"  # what a crash would leave
    store.record_outcome(Outcome("archived", origin, raw_key="raw/aa/a", post_ids=["p1"]), begun=True)
    first = store.get_outcome("inbox", key)

    # A redelivery: begin returns the finished record, the attempt is counted, nothing replaced.
    again = store.begin_input(origin, raw_key="raw/aa/a")
    assert again["status"] == "archived" and again["post_ids"] == ["p1"]
    store.record_outcome(Outcome("duplicate", origin, raw_key="raw/aa/a", post_ids=["p1"]))
    failure = Failure(code="store_error", stage="store", message="throttled")
    store.record_outcome(Outcome("failed", origin, raw_key="raw/aa/a", error=failure))

    outcome = store.get_outcome("inbox", key)
    assert (outcome["status"], outcome["post_ids"], outcome["attempts"]) == ("archived", ["p1"], 4)
    assert outcome["updated_at"] == first["updated_at"] and "error" not in outcome
    assert outcome["last_status"] == "failed" and outcome["last_error"] == failure.to_dict()


def test_outcome_without_bucket_is_keyed_by_uri(store: ArchiveStore, ddb: Any, stack: Stack):
    uri = f"/tmp/{uuid.uuid4().hex}.md"
    store.record_outcome(Outcome("duplicate", Origin("file", uri), post_ids=["p"]))
    item = ddb.get_item(TableName=stack.table_name, Key={"pk": {"S": f"INPUT#{uri}"}, "sk": {"S": "-"}})
    assert item["Item"]["status"] == {"S": "duplicate"}
    assert store.get_outcome(None, uri)["post_ids"] == ["p"]
    assert store.get_outcome("inbox", "missing") is None


def test_outcome_of_a_huge_input_keeps_the_first_ids_and_the_count(store: ArchiveStore):
    uri = f"/tmp/{uuid.uuid4().hex}.xml"
    ids = [f"{i:020d}" for i in range(1500)]
    store.record_outcome(Outcome("archived", Origin("file", uri), post_ids=ids))
    outcome = store.get_outcome(None, uri)
    assert outcome["post_ids"] == ids[:1000] and outcome["post_count"] == 1500


def test_site_posts_are_listed_newest_first(store: ArchiveStore):
    site = f"{uuid.uuid4().hex[:8]}.example.net"
    dates = ["2023-01-01T00:00:00Z", "2024-03-01T00:00:00Z", None, "2022-06-15T00:00:00Z"]
    for i, date in enumerate(dates):
        post = make_post(site=site, published_at=date, body=f"<p>{i}</p>")
        store.save_post(replace(post, url=f"https://{site}/p{i}-post"), "raw/s", "<p></p>")

    newest = [p.get("published_at") for p in store.list_site_posts(site)]
    assert newest == ["2024-03-01T00:00:00Z", "2023-01-01T00:00:00Z", "2022-06-15T00:00:00Z", None]
    oldest = store.list_site_posts(site, newest_first=False, limit=2)
    assert [p.get("published_at") for p in oldest] == [None, "2022-06-15T00:00:00Z"]
    assert store.list_site_posts("nothing.example") == []


def test_story_copies_are_found_across_sites(store: ArchiveStore):
    story = uuid.uuid4().hex[:16]
    a = make_post(story_id=story, published_at="2024-01-02T00:00:00Z")
    b = make_post(story_id=story, published_at="2024-01-01T00:00:00Z")
    other = make_post()
    for post in (a, b, other):
        store.save_post(post, "raw/st", "<p></p>")
    copies = store.list_story_copies(story)
    assert [c["id"] for c in copies] == [b.id, a.id]
    assert {c["site"] for c in copies} == {a.site, b.site}


def test_store_errors_are_wrapped(stack: Stack, s3: Any, ddb: Any):
    from archiver.errors import StoreError

    broken = ArchiveStore(s3, ddb, archive_bucket=stack.archive_bucket, table_name="no-such-table")
    with pytest.raises(StoreError) as info:
        broken.get_post("x")
    assert info.value.code == "store_error" and "\n" not in info.value.message


# -- a slow writer and a fast writer of the same post: the current objects never go backwards


class Paused:
    """A store whose S3 client stops before the first put of a post object, until released."""

    def __init__(self, stack: Stack, ddb: Any) -> None:
        self.s3 = _client("s3", stack.endpoint_url)
        self.store = ArchiveStore(self.s3, ddb, archive_bucket=stack.archive_bucket, table_name=stack.table_name)
        self.waiting, self.go = threading.Event(), threading.Event()
        self.s3.meta.events.register("before-parameter-build.s3.PutObject", self._pause)

    def _pause(self, params: dict[str, Any], **_: Any) -> None:
        if params["Key"].startswith("posts/") and not self.waiting.is_set():
            self.waiting.set()
            assert self.go.wait(60), "the paused writer was never released"

    def save_in_background(self, post: Post, raw_key: str) -> tuple[threading.Thread, list[Any]]:
        result: list[Any] = []
        thread = threading.Thread(target=lambda: result.append(self.store.save_post(post, raw_key, "<p>slow</p>")))
        thread.start()
        assert self.waiting.wait(60), "the slow writer never reached its first put"
        return thread, result


def current_versions(s3: Any, stack: Stack, keys: Any) -> tuple[int, str]:
    page = s3.get_object(Bucket=stack.archive_bucket, Key=keys.html_key)["Body"].read().decode()
    return read_json(s3, stack.archive_bucket, keys.json_key)["version"], page.rsplit("<!--", 1)[1]


def test_slow_writer_finishing_last_never_replaces_a_newer_version(
        store: ArchiveStore, s3: Any, ddb: Any, stack: Stack):
    post = make_post(body="<p>v1</p>")
    store.save_post(post, "raw/v1", "<p>1</p>")
    slow = Paused(stack, ddb)
    thread, slow_result = slow.save_in_background(changed(post, "<p>slow edit</p>"), "raw/slow")  # claims v2

    fast = store.save_post(changed(post, "<p>fast edit</p>"), "raw/fast", "<p>fast</p>")  # claims v3, publishes
    slow.go.set()
    thread.join(60)

    assert fast.version == 3 and slow_result[0].version == 2
    assert current_versions(s3, stack, fast.keys) == (3, f" post {post.id} version 3 -->\n")
    latest = store.get_post(post.id)
    assert (latest["version"], latest["state"], latest["raw_key"]) == (3, "stored", "raw/fast")
    # Version 2 is not lost: it lives under its own immutable keys, named by its V# item.
    versions = {v["version"]: v for v in store.list_versions(post.id)}
    assert sorted(versions) == [1, 2, 3]
    v2 = versions[2]
    assert v2["json_key"] == fast.keys.prefix + "versions/000002/post.json"
    assert read_json(s3, stack.archive_bucket, v2["json_key"], v2["json_version_id"])["version"] == 2
    assert slow_result[0].keys.json_key == v2["json_key"]


def test_slow_writer_finishing_first_is_replaced_by_the_newer_version(
        store: ArchiveStore, s3: Any, ddb: Any, stack: Stack, monkeypatch: pytest.MonkeyPatch):
    post = make_post(body="<p>v1</p>")
    store.save_post(post, "raw/v1", "<p>1</p>")
    slow = Paused(stack, ddb)
    claimed_v2 = threading.Event()
    real_claim = slow.store._claim

    def claim_then_wait(p: Post) -> Any:
        claim = real_claim(p)
        claimed_v2.set()
        assert slow.go.wait(60)
        return claim

    monkeypatch.setattr(slow.store, "_claim", claim_then_wait)
    slow.waiting.set()  # no pause at the put: the slow writer waits after its claim instead
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(
        slow.store.save_post(changed(post, "<p>slow edit</p>"), "raw/slow", "<p>slow</p>")))
    thread.start()
    assert claimed_v2.wait(60)
    # The fast writer claims v3 but, before it publishes, the slow one publishes v2 and finishes.
    fast_s3 = _client("s3", stack.endpoint_url)
    fast_store = ArchiveStore(fast_s3, ddb, archive_bucket=stack.archive_bucket, table_name=stack.table_name)

    def let_slow_finish(params: dict[str, Any], **_: Any) -> None:
        if params["Key"].startswith("posts/") and not slow.go.is_set():
            slow.go.set()
            thread.join(60)

    fast_s3.meta.events.register("before-parameter-build.s3.PutObject", let_slow_finish)
    fast = fast_store.save_post(changed(post, "<p>fast edit</p>"), "raw/fast", "<p>fast</p>")

    assert (result[0].version, fast.version) == (2, 3)
    assert current_versions(s3, stack, fast.keys) == (3, f" post {post.id} version 3 -->\n")
    assert store.get_post(post.id)["version"] == 3
    versions = {v["version"]: v for v in store.list_versions(post.id)}
    assert sorted(versions) == [1, 2, 3]
    # Both wrote the current key, in version order: v2's object is an older S3 version of it.
    assert versions[2]["json_key"] == versions[3]["json_key"] == fast.keys.json_key
    assert read_json(s3, stack.archive_bucket, fast.keys.json_key, versions[2]["json_version_id"])["version"] == 2
