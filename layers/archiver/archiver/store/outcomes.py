"""Input outcome records: what became of each input (and of each chunk of a fanned-out one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.store.aws import Table, deserialize, now, serialize, wrapped
from archiver.store.keys import chunk_sk, input_pk

if TYPE_CHECKING:
    from archiver.model import Outcome

MAX_OUTCOME_POST_IDS = 1000  # ids of 20 characters: ~25 KB, far below DynamoDB's 400 KB item limit


class OutcomeRecords:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, outcome: Outcome, *, received_at: str | None = None) -> None:
        """Record the latest outcome of one input (overwrites the record of an earlier attempt)."""
        origin = outcome.origin
        stamp = now()
        sk = origin.version_id or origin.etag or "-"
        item: dict[str, Any] = {
            "pk": input_pk(origin.bucket, origin.key, origin.uri),
            "sk": chunk_sk(sk, outcome.chunk.index) if outcome.chunk is not None else sk,
            "status": outcome.status,
            # An item holds at most 400 KB: a feed of thousands of posts keeps the first ids and the count.
            "post_ids": list(outcome.post_ids[:MAX_OUTCOME_POST_IDS]),
            "post_count": len(outcome.post_ids),
            "raw_key": outcome.raw_key,
            "origin_kind": origin.kind,
            "origin_uri": origin.uri,
            "bucket": origin.bucket,
            "key": origin.key,
            "version_id": origin.version_id,
            "etag": origin.etag,
            "received_at": received_at or stamp,
            "updated_at": stamp,
        }
        if outcome.error is not None:
            item["error"] = outcome.error.to_dict()
        if outcome.chunks:
            item["chunks"] = outcome.chunks
        if outcome.chunk is not None:
            chunk = outcome.chunk
            item["chunk"] = {"index": chunk.index, "start": chunk.start, "stop": chunk.stop,
                             "total": chunk.total, "chunks": chunk.chunks, "format": chunk.format}
        with wrapped(f"record outcome of {origin.uri}"):
            self._table.client.put_item(TableName=self._table.name, Item=serialize(item))

    def get(self, bucket: str | None, key: str) -> dict[str, Any] | None:
        """The most recently updated outcome of an inbox object (any of its versions).

        With `bucket=None`, `key` is the origin URI of a non-S3 input (a local file, a URL).
        The outcomes of a fanned-out input's chunks are not it: see `list_chunks`.
        """
        items = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": input_pk(bucket, key, None)}),
        )
        items = [i for i in items if "chunk" not in i]
        return max(items, key=lambda i: i.get("updated_at", ""), default=None)

    def list_chunks(self, outcome: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunk outcomes of a fanned-out input (its outcome record as `get` returns it)."""
        return self._table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :chunks)",
            ExpressionAttributeValues=serialize({":pk": outcome["pk"], ":chunks": chunk_sk(outcome["sk"], None)}),
        )

    def list_failures(self) -> list[dict[str, Any]]:
        """Every input whose latest outcome is failed (a filtered Scan: fine at archive scale)."""
        items: list[dict[str, Any]] = []
        with wrapped("scan failures"):
            pages = self._table.client.get_paginator("scan").paginate(
                TableName=self._table.name,
                FilterExpression="begins_with(pk, :input) AND #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize({":input": "INPUT#", ":failed": "failed"}),
            )
            for page in pages:
                items.extend(deserialize(raw) for raw in page.get("Items", []))
        return items
