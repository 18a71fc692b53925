"""Source records in the archive table: the registry of what to fetch, and when.

Items:
  pk=SOURCE#<id>  sk=SOURCE   the Source (see model.Source): options, fetch state and health
  pk=HOST#<origin> sk=ROBOTS  the origin's robots.txt as last fetched, shared by every worker for a day
GSI `ByDue` (due_pk, due_sk): every source, in DUE_SHARDS partitions, sorted by next-due time:
  due_pk=DUE#<shard>   due_sk=<next_due_at>#<id>   enabled sources
                       due_sk=~disabled#<id>       disabled ones sort after every timestamp
so "which sources are due" is one Query per shard (`due_sk <= now`), never a Scan, and listing
every source is the same Query without the bound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.model import Source
from archiver.store.aws import batch_get, is_conditional_failure
from archiver.store.aws import deserialize as _deserialize
from archiver.store.aws import serialize as _serialize

DUE_INDEX = "ByDue"
DUE_SHARDS = 4  # spreads the index's partitions; a due query reads each shard
DISABLED = "~disabled"
MAX_ROBOTS_ITEM_BYTES = 350 * 1024  # DynamoDB items hold 400 KB
_STATE_FIELDS = ("url", "sitemaps", "validators", "cursor", "progress", "seen", "failures", "last", "next_due_at",
                 "enabled", "disabled_reason")


class SourceNotFound(StoreError):
    code = "source_not_found"
    stage = "sources"


class SourceStore:
    """Reads and writes Source items; takes a boto3 DynamoDB client created once by the caller."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        if not table_name:
            raise StoreError("a table name is required")
        self._ddb = dynamodb
        self.table_name = table_name

    @property
    def dynamodb(self) -> Any:
        """The boto3 DynamoDB client (shared with the crawl records, see archiver.crawl_store)."""
        return self._ddb

    def put(self, source: Source) -> None:
        """Create or replace a source (adding a URL again updates its options)."""
        self._call("put source", "put_item", Item=_serialize(_item(source)))

    def get(self, source_id: str) -> Source | None:
        response = self._call("get source", "get_item", Key=_serialize(_key(source_id)), ConsistentRead=True)
        raw = response.get("Item")
        return _source(_deserialize(raw)) if raw else None

    def get_many(self, source_ids: list[str]) -> dict[str, Source]:
        """The sources that still exist among `source_ids`, by id: one BatchGetItem per 100 ids."""
        items = batch_get(self._ddb, self.table_name, [_key(i) for i in source_ids], "get sources")
        return {source.id: source for source in map(_source, items)}

    def require(self, source_id: str) -> Source:
        source = self.get(source_id)
        if source is None:
            raise SourceNotFound(f"no source {source_id}")
        return source

    def delete(self, source_id: str) -> bool:
        response = self._call("delete source", "delete_item", Key=_serialize(_key(source_id)),
                              ReturnValues="ALL_OLD")
        return bool(response.get("Attributes"))

    def save_state(self, source: Source) -> bool:
        """Write a fetch's results (state, health, next due time) onto the source.

        Only if the source still exists: a source removed while it was being fetched stays removed.
        Returns False in that case.
        """
        item = _item(source)
        names = {f"#{i}": name for i, name in enumerate((*_STATE_FIELDS, "due_sk"))}
        values = {f":{i}": item.get(name) for i, name in enumerate((*_STATE_FIELDS, "due_sk"))}
        sets = [f"#{i} = :{i}" for i in range(len(names)) if values[f":{i}"] is not None]
        removes = [f"#{i}" for i in range(len(names)) if values[f":{i}"] is None]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._ddb.update_item(
                TableName=self.table_name, Key=_serialize(_key(source.id)), UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_serialize({k: v for k, v in values.items() if v is not None}),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise StoreError(f"save source {source.id}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"save source {source.id}: {exc}") from exc
        return True

    def lease(self, source: Source, until: str) -> bool:
        """Move a due source's next-due time to `until` while its job is queued (at most once).

        Conditional on the due time the scheduler read: two overlapping schedule runs cannot both
        queue it. The worker sets the real next-due time when it has fetched the source.
        """
        try:
            self._ddb.update_item(
                TableName=self.table_name, Key=_serialize(_key(source.id)),
                UpdateExpression="SET next_due_at = :until, due_sk = :due_sk",
                ConditionExpression="due_sk = :seen",
                ExpressionAttributeValues=_serialize({":until": until, ":due_sk": _due_sk(until, source.id),
                                                      ":seen": _due_sk(source.next_due_at, source.id)}),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise StoreError(f"lease source {source.id}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"lease source {source.id}: {exc}") from exc
        source.next_due_at = until
        return True

    def due(self, now: str, *, limit: int | None = None) -> Iterator[Source]:
        """Enabled sources whose next-due time is at or before `now`, oldest first within a shard."""
        count = 0
        for shard in range(DUE_SHARDS):
            for item in self._query_shard(shard, upper=f"{now}#\uffff"):
                yield _source(item)
                count += 1
                if limit is not None and count >= limit:
                    return

    def list(self) -> list[Source]:
        """Every source (enabled first by next-due time, then disabled), via the index.

        These are summaries (the index projects options and health, not the fetch state such as
        validators and seen entries): `get` a source before changing and `put`ting it back.
        """
        sources = [_source(item) for shard in range(DUE_SHARDS) for item in self._query_shard(shard)]
        return sorted(sources, key=lambda s: (not s.enabled, s.next_due_at, s.id))

    def load_robots(self, origin: str, max_age: float) -> tuple[str, str] | None:
        """A host's stored robots.txt (text, how it was obtained) if fetched less than `max_age` seconds ago."""
        from datetime import UTC, datetime

        from archiver.fetch.schedule import parse_iso

        raw = self._call("get robots.txt", "get_item", Key=_serialize(_robots_key(origin))).get("Item")
        if not raw:
            return None
        item = _deserialize(raw)
        if (datetime.now(UTC) - parse_iso(item["fetched_at"])).total_seconds() > max_age:
            return None
        return item.get("text", ""), item.get("reason", "")

    def save_robots(self, origin: str, text: str, reason: str) -> None:
        """Keep a host's robots.txt for the other workers (files too big for one item are not kept)."""
        from datetime import UTC, datetime

        from archiver.fetch.schedule import iso

        if len(text.encode("utf-8")) > MAX_ROBOTS_ITEM_BYTES:
            return
        item = {**_robots_key(origin), "text": text, "reason": reason, "fetched_at": iso(datetime.now(UTC))}
        self._call("put robots.txt", "put_item", Item=_serialize(item))

    def _query_shard(self, shard: int, upper: str | None = None) -> Iterator[dict[str, Any]]:
        condition = "due_pk = :pk" + (" AND due_sk <= :upper" if upper else "")
        values = {":pk": f"DUE#{shard}", **({":upper": upper} if upper else {})}
        try:
            pages = self._ddb.get_paginator("query").paginate(
                TableName=self.table_name, IndexName=DUE_INDEX, KeyConditionExpression=condition,
                ExpressionAttributeValues=_serialize(values))
            for page in pages:
                for raw in page.get("Items", []):
                    yield _deserialize(raw)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"query due sources: {exc}") from exc

    def _call(self, action: str, method: str, *, _table: bool = True, **params: Any) -> dict[str, Any]:
        try:
            if _table:
                params["TableName"] = self.table_name
            return getattr(self._ddb, method)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"{action}: {exc}") from exc


def _key(source_id: str) -> dict[str, str]:
    return {"pk": f"SOURCE#{source_id}", "sk": "SOURCE"}


def _robots_key(origin: str) -> dict[str, str]:
    return {"pk": f"HOST#{origin}", "sk": "ROBOTS"}


def _shard(source_id: str) -> int:
    return hashlib.sha256(source_id.encode()).digest()[0] % DUE_SHARDS


def _due_sk(next_due_at: str, source_id: str) -> str:
    return f"{next_due_at}#{source_id}"


def _item(source: Source) -> dict[str, Any]:
    due_sk = _due_sk(source.next_due_at, source.id) if source.enabled else f"{DISABLED}#{source.id}"
    return {**_key(source.id), **source.to_dict(), "host": source.host, "due_pk": f"DUE#{_shard(source.id)}",
            "due_sk": due_sk}


def _source(item: dict[str, Any]) -> Source:
    return Source.from_dict(item)
