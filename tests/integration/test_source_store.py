"""Source records over the moto server: the ByDue index, leases, state saves that never resurrect."""

from __future__ import annotations

import pytest

from archiver.local.stack import LocalAWS
from archiver.model import Source
from archiver.source_store import DUE_SHARDS, SourceNotFound, SourceStore


@pytest.fixture
def store(clean_aws: LocalAWS) -> SourceStore:
    return SourceStore(clean_aws.client("dynamodb"), clean_aws.resources.table_name)


def make(n: int, due: str, *, enabled: bool = True) -> Source:
    return Source(id=f"src{n:03d}", url=f"https://h{n % 3}.example/feed{n}", kind="feed", next_due_at=due,
                  enabled=enabled)


def test_due_sources_come_from_the_index_and_disabled_ones_never(store: SourceStore, clean_aws: LocalAWS) -> None:
    for n in range(12):
        store.put(make(n, f"2026-11-26T1{n % 4}:00:00Z", enabled=n != 5))
    calls = []
    clean_aws_client = store._ddb
    clean_aws_client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    due = list(store.due("2026-11-26T11:30:00Z"))
    assert sorted(s.id for s in due) == sorted(f"src{n:03d}" for n in range(12) if n % 4 in (0, 1) and n != 5)
    assert set(calls) == {"Query"} and len(calls) == DUE_SHARDS  # one Query per shard, no Scan
    assert [s.id for s in store.list()][-1] == "src005"  # disabled sources are listed last


def test_a_lease_is_taken_once(store: SourceStore) -> None:
    source = make(1, "2026-11-26T10:00:00Z")
    store.put(source)
    first, second = store.get(source.id), store.get(source.id)
    assert store.lease(first, "2026-11-26T10:30:00Z")
    assert not store.lease(second, "2026-11-26T10:30:00Z")  # an overlapping run read the old due time
    assert list(store.due("2026-11-26T10:15:00Z")) == []


def test_saving_state_keeps_options_and_never_recreates_a_removed_source(store: SourceStore) -> None:
    source = make(2, "2026-11-26T10:00:00Z")
    store.put(source)
    source.validators = {source.url: {"etag": '"abc"'}}
    source.last = {"status": "archived", "new": 3}
    assert store.save_state(source)
    saved = store.get(source.id)
    assert saved.validators == source.validators and saved.last["new"] == 3
    assert store.delete(source.id)
    assert not store.save_state(source)
    assert store.get(source.id) is None
    with pytest.raises(SourceNotFound):
        store.require(source.id)
