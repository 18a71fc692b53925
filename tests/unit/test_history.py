"""`history` and `diff` over a store's records: the library behind `archiver posts history|diff` (no AWS: a
stand-in for the three store reads they make)."""

from __future__ import annotations

from typing import Any

import pytest

from archiver.history import PostNotFound, VersionNotFound, diff, history
from archiver.store import PostTimeline

TEXT = "The harbour authority said the strike would continue until the dispute over night shifts was settled."


class RecordedStore:
    """The store's reads `history` and `diff` use, over records given as plain values."""

    def __init__(self, versions: list[dict[str, Any]], documents: dict[int, dict[str, Any]],
                 events: list[dict[str, Any]] | None = None) -> None:
        self.versions, self.documents, self.events = versions, documents, events or []

    def post_timeline(self, post_id: str) -> PostTimeline:
        return PostTimeline(latest=self.versions[-1] if self.versions else None, versions=self.versions,
                            events=self.events)

    def list_versions(self, post_id: str) -> list[dict[str, Any]]:
        return self.versions

    def get_post_document(self, item: dict[str, Any]) -> dict[str, Any]:
        return self.documents[item["json_version_id"]]


def document(version: int, text: str, **fields: Any) -> dict[str, Any]:
    return {"version": version, "title": "Harbour strike", "authors": ["Ana Ruiz"], "tags": [], "categories": [],
            "published_at": "2026-11-20T10:00:00+00:00", "updated_at": None, "canonical_url": None, "text": text,
            **fields}


@pytest.fixture
def store() -> RecordedStore:
    summary = {"flags": ["edited"], "fields": ["title"], "inserted": 1, "deleted": 1}
    versions = [
        {"version": 1, "archived_at": "2026-11-20T11:00:00Z", "trigger": "fetched", "json_version_id": 1,
         "content_sha256": "a" * 64},
        {"version": 2, "archived_at": "2026-11-21T11:00:00+00:00", "trigger": "rechecked", "json_version_id": 2,
         "content_sha256": "b" * 64, "changes": summary},
    ]
    events = [{"event": "gone_upstream", "at": "2026-11-27T11:00:00Z", "http_status": 404, "url": "https://x/",
               "version": 2},
              {"event": "back_upstream", "at": "2026-11-21T09:00:00Z", "http_status": 200, "url": "https://x/",
               "version": 1}]
    documents = {1: document(1, TEXT), 2: document(2, TEXT.replace("night", "weekend"), title="Strike goes on")}
    return RecordedStore(versions, documents, events)


def test_history_lists_versions_and_upstream_events_in_time_order(store: RecordedStore) -> None:
    entries = history(store, "post")
    assert [(e["kind"], e["version"], e["at"][:10]) for e in entries] == [
        ("version", 1, "2026-11-20"), ("back_upstream", 1, "2026-11-21"), ("version", 2, "2026-11-21"),
        ("gone_upstream", 2, "2026-11-27")]
    first, _, second, gone = entries
    assert (first["trigger"], first["flags"], first["changes"]) == ("fetched", [], None)
    assert (second["trigger"], second["flags"], second["changes"]["fields"]) == ("rechecked", ["edited"], ["title"])
    assert (gone["flags"], gone["http_status"]) == (["gone_upstream"], 404)


def test_history_of_an_unknown_post_says_so() -> None:
    with pytest.raises(PostNotFound):
        history(RecordedStore([], {}), "nope")


def test_diff_compares_any_two_versions_in_either_order(store: RecordedStore) -> None:
    forward = diff(store, "post", 1, 2)
    assert (forward["post_id"], forward["from_version"], forward["to_version"]) == ("post", 1, 2)
    assert forward["fields"]["title"] == {"old": "Harbour strike", "new": "Strike goes on"}
    assert [(s["old"], s["new"]) for s in forward["text"]["spans"]] == [("night", "weekend")]
    assert (forward["from_archived_at"], forward["to_archived_at"]) == ("2026-11-20T11:00:00Z",
                                                                        "2026-11-21T11:00:00+00:00")
    backward = diff(store, "post", 2, 1)
    assert [(s["old"], s["new"]) for s in backward["text"]["spans"]] == [("weekend", "night")]
    assert diff(store, "post", 2, 2)["flags"] == []


def test_diff_names_a_version_that_does_not_exist_or_is_no_longer_kept(store: RecordedStore) -> None:
    with pytest.raises(VersionNotFound, match=r"has no version 3 \(it has 1, 2\)"):
        diff(store, "post", 1, 3)
    store.documents[1] = store.documents[2]  # a post.json read without its S3 version id: the newer one
    with pytest.raises(VersionNotFound, match="no longer kept"):
        diff(store, "post", 1, 2)
    with pytest.raises(PostNotFound):
        diff(RecordedStore([], {}), "nope", 1, 2)
