"""Re-check records in the table: each fetched post's schedule (found by due time through the sparse ToRecheck
index, never a Scan), and the events of a post upstream (gone, back) with the mark they leave on LATEST.

A page that answers 404 or 410 gives no new version (there is no new content to keep): it is an event item
beside the versions, and `gone_upstream` on LATEST while it lasts; nothing archived is ever deleted. A new
version replaces LATEST whole, so a page that comes back changed loses the mark by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.model import Recheck
from archiver.store.aws import Table, describe, is_conditional_failure, serialize, wrapped
from archiver.store.keys import LATEST, RECHECK, event_sk, post_pk, recheck_index_keys

RECHECK_INDEX = "ToRecheck"
RECHECK_SHARDS = 4  # spreads the index's partitions; a due query reads each shard


def recheck_item(recheck: Recheck) -> dict[str, Any]:
    """The table item of a re-check; in the ToRecheck index only while a check is ahead (`due`)."""
    item = {"pk": post_pk(recheck.post_id), "sk": RECHECK, **recheck.to_dict(), "host": recheck.host}
    if recheck.due is not None:
        item.update(recheck_index_keys(recheck.post_id, recheck.due, RECHECK_SHARDS))
    return item


class RecheckRecords:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, recheck: Recheck) -> None:
        """Write a re-check's state after a check (only the post's re-check job writes it, one host's job at a
        time: the fetch queue's message group)."""
        self._table.batch_put([recheck_item(recheck)], f"put re-check of post {recheck.post_id}")

    def get_many(self, post_ids: list[str]) -> dict[str, Recheck]:
        items = self._table.batch_get([{"pk": post_pk(i), "sk": RECHECK} for i in post_ids], "get re-checks")
        return {item["post_id"]: Recheck.from_dict(item) for item in items}

    def get(self, post_id: str) -> Recheck | None:
        item = self._table.get(post_pk(post_id), RECHECK, consistent=True)
        return Recheck.from_dict(item) if item else None

    def due(self, now: str, *, limit: int) -> Iterator[dict[str, Any]]:
        """Re-checks due at or before `now` (post_id, host, due, recheck_sk), at most `limit`, oldest first per
        shard; one Query per shard, each reading no more than it may return."""
        count = 0
        for shard in range(RECHECK_SHARDS):
            if count >= limit:
                return
            for item in self._table.query(
                    limit=limit - count, IndexName=RECHECK_INDEX,
                    KeyConditionExpression="recheck_pk = :pk AND recheck_sk <= :upper",
                    ExpressionAttributeValues=serialize({":pk": f"RECHECK#{shard}", ":upper": f"{now}#\uffff"})):
                count += 1
                yield item

    def lease(self, due: dict[str, Any], until: str) -> bool:
        """Move a due re-check to `until` while its job is queued; False when another run took it first."""
        keys = recheck_index_keys(due["post_id"], until, RECHECK_SHARDS)
        return self._update(due["post_id"], "SET #due = :until, recheck_sk = :sk", "recheck_sk = :seen",
                            {":until": until, ":sk": keys["recheck_sk"], ":seen": due["recheck_sk"]})

    def set_due(self, post_id: str, due: str) -> bool:
        """Check a post again at `due` (an operator's "now"), whatever step it is at; False when it has no
        re-check record."""
        keys = recheck_index_keys(post_id, due, RECHECK_SHARDS)
        return self._update(post_id, "SET #due = :due, recheck_pk = :pk, recheck_sk = :sk", None,
                            {":due": due, ":pk": keys["recheck_pk"], ":sk": keys["recheck_sk"]})

    def record_event(self, post_id: str, kind: str, at: str, check: int, attributes: dict[str, Any]) -> dict[str, Any]:
        """Keep what happened to a post upstream, seen by its re-check number `check` (an EVENT# item beside its
        versions); returns the item."""
        item = {"pk": post_pk(post_id), "sk": event_sk(at, check, kind), "post_id": post_id, "event": kind,
                "at": at, "check": check, **attributes}
        self._table.batch_put([item], f"put {kind} event of post {post_id}")
        return item

    def mark_gone(self, post_id: str, gone: dict[str, Any] | None, version: int) -> None:
        """Set (or, with None, remove) `gone_upstream` on LATEST, while it is still `version`: a newer version
        written meanwhile says itself what is upstream."""
        expression = "SET gone_upstream = :gone" if gone is not None else "REMOVE gone_upstream"
        values = {":version": version, **({":gone": gone} if gone is not None else {})}
        try:
            self._table.client.update_item(
                TableName=self._table.name, Key=serialize({"pk": post_pk(post_id), "sk": LATEST}),
                UpdateExpression=expression, ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#version": "version"}, ExpressionAttributeValues=serialize(values))
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise StoreError(f"mark post {post_id} gone upstream: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"mark post {post_id} gone upstream: {exc}") from exc

    def _update(self, post_id: str, expression: str, condition: str | None, values: dict[str, Any]) -> bool:
        try:
            with wrapped(f"update re-check of post {post_id}"):
                self._table.client.update_item(
                    TableName=self._table.name, Key=serialize({"pk": post_pk(post_id), "sk": RECHECK}),
                    UpdateExpression=expression, ExpressionAttributeNames={"#due": "due"},
                    ConditionExpression="attribute_exists(pk)" + (f" AND {condition}" if condition else ""),
                    ExpressionAttributeValues=serialize(values))
        except StoreError as exc:
            if isinstance(exc.__cause__, ClientError) and is_conditional_failure(exc.__cause__):
                return False
            raise
        return True
