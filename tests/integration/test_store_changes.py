"""Change records as the store writes them, against moto over HTTP: every version after the first carries one
(post.json `changes`, a summary on its V# item), whatever made it, for one GET of the previous post.json."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from archiver.local.stack import LocalAWS
from archiver.model import Post
from archiver.store import ArchiveStore

SCHEMA = json.loads((Path(__file__).parents[2] / "layers/archiver/archiver/schema/post.v1.json").read_text())
TEXT = "The harbour authority said the strike would continue until the dispute over night shifts was settled."


@pytest.fixture
def store(local_aws: LocalAWS) -> ArchiveStore:
    resources = local_aws.resources
    return ArchiveStore(local_aws.client("s3"), local_aws.client("dynamodb"),
                        archive_bucket=resources.archive_bucket, table_name=resources.table_name)


def counting(store: ArchiveStore) -> Counter:
    """Counts the calls made through the store's clients from now on (`calls["s3.GetObject"]`)."""
    calls: Counter = Counter()
    for client in (store._s3, store._ddb):
        service = client.meta.service_model.service_name
        client.meta.events.register("before-parameter-build.*.*",
                                    lambda model, _s=service, **_: calls.update([f"{_s}.{model.name}"]))
    return calls


def an_id() -> str:
    return base64.b32encode(uuid.uuid4().bytes).decode().lower()[:20]


def a_post(text: str = TEXT, *, kind: str = "file", **fields: object) -> Post:
    site = f"{uuid.uuid4().hex[:8]}.example.org"
    url = f"https://{site}/2026/11/strike.html"
    post = Post(id=an_id(), url=url, canonical_url=url, story_id=an_id(),
                source={"kind": kind, "uri": url, "format": "html"}, title="Harbour strike", authors=["Ana Ruiz"],
                published_at="2026-11-20T10:00:00+00:00", updated_at=None, status="publish", categories=[], tags=[],
                excerpt=None, language="en", image=None, content_html=f"<p>{text}</p>", text=text,
                word_count=len(text.split()), reading_time_minutes=1, links=[], images=[], source_link=None,
                content_sha256="", normalizer_version="1.1.0", archived_at="2026-11-20T11:00:00+00:00",
                front_matter={})
    return edited(post, text, **fields)


def edited(post: Post, text: str, **fields: object) -> Post:
    changed = replace(post, text=text, content_html=f"<p>{text}</p>", **fields)
    digest = hashlib.sha256(json.dumps([changed.title, changed.authors, changed.content_html]).encode()).hexdigest()
    return replace(changed, content_sha256=digest)


def stored_document(store: ArchiveStore, post_id: str, version: int) -> dict:
    item = next(v for v in store.list_versions(post_id) if v["version"] == version)
    return store.get_post_document(item)


def test_a_new_version_carries_its_change_record_for_one_get_of_the_previous_post_json(store) -> None:
    post = a_post()
    calls = counting(store)
    store.save_post(post, "raw/ch/1", "<p>1</p>")
    assert "s3.GetObject" not in calls  # version 1: nothing to compare
    calls.clear()
    assert store.save_post(replace(post, archived_at="2026-11-21T00:00:00+00:00"), "raw/ch/1", "<p>1</p>").status \
        == "duplicate"
    assert calls == {"dynamodb.UpdateItem": 1}  # a duplicate: the claim alone, as before
    calls.clear()

    second = edited(post, TEXT.replace("night shifts", "weekend shifts"), title="Harbour strike goes on")
    assert store.save_post(second, "raw/ch/2", "<p>2</p>").version == 2
    assert calls["s3.GetObject"] == 1 and "dynamodb.GetItem" not in calls and "s3.HeadObject" not in calls

    document = stored_document(store, post.id, 2)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    changes = document["changes"]
    assert (changes["from_version"], changes["to_version"], changes["trigger"]) == (1, 2, "dropped")
    assert changes["flags"] == ["edited"]
    assert changes["fields"]["title"] == {"old": "Harbour strike", "new": "Harbour strike goes on"}
    assert (changes["text"]["deleted"], changes["text"]["inserted"]) == (1, 1)
    assert changes["text"]["spans"][0]["old"] == "night" and changes["text"]["spans"][0]["new"] == "weekend"
    version_item = store.list_versions(post.id)[1]
    assert version_item["trigger"] == "dropped"
    assert version_item["changes"] == {"flags": ["edited"], "fields": ["title"], "inserted": 1, "deleted": 1}
    assert "changes" not in store.get_post(post.id)  # LATEST, written with every version, stays lean
    assert "changes" not in stored_document(store, post.id, 1)


def test_each_path_names_its_trigger_and_a_retraction_is_flagged(store) -> None:
    post = a_post(kind="url")
    store.save_post(post, "raw/tr/1", "<p>1</p>")
    notice = "This article has been withdrawn."
    store.save_post(edited(post, notice), "raw/tr/2", "<p>2</p>")
    store.save_post(edited(post, notice + " Sorry."), "raw/tr/3", "<p>3</p>", trigger="rechecked")
    store.save_post(edited(post, notice + " Sorry."), "raw/tr/3", "<p>3</p>", revise=3)  # same content, re-normalized
    versions = store.list_versions(post.id)
    assert [v["trigger"] for v in versions] == ["fetched", "fetched", "rechecked", "reprocessed"]
    second = stored_document(store, post.id, 2)["changes"]
    assert second["flags"] == ["edited", "retracted"] and second["notices"][0]["text"] == notice
    assert stored_document(store, post.id, 4)["changes"]["flags"] == []  # nothing a reader sees changed


def test_a_claim_resumed_after_a_crash_still_compares_with_the_version_before(store, monkeypatch) -> None:
    post = a_post()
    store.save_post(post, "raw/cr/1", "<p>1</p>")
    second = edited(post, TEXT + " Talks resume on Monday.")
    with monkeypatch.context() as m:
        m.setattr(store, "_put_version", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError):
            store.save_post(second, "raw/cr/2", "<p>2</p>")
    assert store.save_post(second, "raw/cr/2", "<p>2</p>").version == 2  # resumed: the claim names no previous
    changes = stored_document(store, post.id, 2)["changes"]
    assert (changes["from_version"], changes["text"]["inserted"]) == (1, 4)
