"""Input outcome records: what became of each input (and of each chunk of a fanned-out one).

History, not last write wins. An attempt at an input starts with `begin` (after its raw bytes are
saved): a new record is `pending` until the attempt records its outcome, so a crash in between
leaves a record to retry. The first conclusive outcome (archived, duplicate, fanned_out, gone) is
kept; later attempts only count (`attempts`) and leave their own result in `last_status` /
`last_attempt_at` / `last_error`. A failed or pending record is replaced by the next outcome.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.model import is_finished
from archiver.store.aws import Table, describe, deserialize, is_conditional_failure, now, serialize
from archiver.store.keys import chunk_sk, input_pk

if TYPE_CHECKING:
    from archiver.model import Chunk, Origin, Outcome

MAX_OUTCOME_POST_IDS = 1000  # ids of 20 characters: ~25 KB, far below DynamoDB's 400 KB item limit
# Unfinished records (pending, failed) carry the keys of the sparse `ToRetry` index, so that they
# are listed by Query, never a Scan. The index key is spread over a few shards so that a flood of
# inputs (each pending for a moment) never makes one hot partition.
RETRY_INDEX = "ToRetry"
RETRY_SHARDS = 4
_REPLACEABLE = "attribute_not_exists(pk) OR #status IN (:pending, :failed)"


class OutcomeRecords:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self, origin: Origin, *, raw_key: str | None, chunk: Chunk | None = None) -> dict[str, Any] | None:
        """Note that an attempt at an input starts; returns its record as it was before (None: first attempt).

        A new, pending or failed record becomes `pending` (what a crash leaves behind); a finished one
        keeps its outcome and counts the attempt.
        """
        key = _key(origin, chunk)
        stamp = now()
        fields = {**_origin_fields(origin), "status": "pending", "raw_key": raw_key, "last_attempt_at": stamp,
                  **_retry_keys(key, stamp)}
        if chunk is not None:
            fields["chunk"] = _chunk_fields(chunk)
        try:
            response = self._update(key, set_=fields, set_if_absent={"received_at": stamp, "updated_at": stamp},
                                    add={"attempts": 1}, condition=_REPLACEABLE, return_old=True)
            return response or None
        except _ConditionFailed as failed:
            old = failed.old or self._table.get(key["pk"], key["sk"], consistent=True) or {}
        self._update(key, set_={"last_attempt_at": stamp}, add={"attempts": 1})
        return old

    def repeat(self, origin: Origin) -> dict[str, Any] | None:
        """The finished record of an input delivered again, with this attempt counted; None when the input
        has no finished outcome yet (then the ordinary path runs, and `begin` decides for sure).

        One eventually consistent GetItem (half a read unit): a stale read only sends a redelivery down
        the ordinary path, which is correct, just dearer. A redelivery then costs two calls, no inbox read.
        """
        key = _key(origin, None)
        if origin.version_id or not origin.etag:
            record = self._table.get(key["pk"], key["sk"])
        else:  # an object of an unversioned bucket is named by its ETag: the record of those bytes
            found = self._table.query(
                KeyConditionExpression="pk = :pk", FilterExpression="etag = :etag AND attribute_not_exists(#chunk)",
                ExpressionAttributeNames={"#chunk": "chunk"},
                ExpressionAttributeValues=serialize({":pk": key["pk"], ":etag": origin.etag}))
            record = next((item for item in found if "chunk" not in item and is_finished(item)), None)
        if not is_finished(record):
            return None
        key = {"pk": record["pk"], "sk": record["sk"]}
        self._update(key, set_={"last_attempt_at": now()}, add={"attempts": 1})
        return record

    def record(self, outcome: Outcome, *, received_at: str | None = None, begun: bool = False) -> None:
        """Record the outcome of one attempt at an input.

        It becomes the input's outcome unless the record already holds a finished one; then it is kept
        as the last attempt's result. `begun`: the attempt was counted by `begin` already.
        """
        origin = outcome.origin
        key = _key(origin, outcome.chunk)
        stamp = now()
        fields: dict[str, Any] = {
            **_origin_fields(origin),
            "status": outcome.status,
            # An item holds at most 400 KB: a feed of thousands of posts keeps the first ids and the count.
            "post_ids": list(outcome.post_ids[:MAX_OUTCOME_POST_IDS]),
            "post_count": len(outcome.post_ids),
            "raw_key": outcome.raw_key,
            "updated_at": stamp,
            "last_attempt_at": stamp,
            "error": outcome.error.to_dict() if outcome.error is not None else None,
            "chunks": outcome.chunks or None,
            "chunk": _chunk_fields(outcome.chunk) if outcome.chunk is not None else None,
            # Listed for retry while failed; REMOVEd (None) once finished.
            **_retry_keys(key, stamp, listed=outcome.status == "failed"),
        }
        attempts = {"attempts": 0 if begun else 1}
        try:
            self._update(key, set_=fields, set_if_absent={"received_at": received_at or stamp}, add=attempts,
                         condition=_REPLACEABLE)
            return
        except _ConditionFailed:
            pass  # a finished outcome is kept: this attempt is history
        last = {"last_status": outcome.status, "last_attempt_at": stamp,
                "last_error": outcome.error.to_dict() if outcome.error is not None else None}
        self._update(key, set_=last, add=attempts)

    def get(self, bucket: str | None, key: str) -> dict[str, Any] | None:
        """The outcome of an inbox object's most recently received version.

        With `bucket=None`, `key` is the origin URI of a non-S3 input (a local file, a URL).
        The outcomes of a fanned-out input's chunks are not it: see `list_chunks`.
        """
        items = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": input_pk(bucket, key, None)}),
        )
        items = [i for i in items if "chunk" not in i]
        return max(items, key=lambda i: (i.get("received_at", ""), i.get("updated_at", "")), default=None)

    def list_chunks(self, outcome: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunk outcomes of a fanned-out input (its outcome record as `get` returns it)."""
        return self._table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :chunks)",
            ExpressionAttributeValues=serialize({":pk": outcome["pk"], ":chunks": chunk_sk(outcome["sk"], None)}),
        )

    def list_failures(self) -> list[dict[str, Any]]:
        """Every unfinished input or chunk record (failed, or pending: running or crashed), oldest first.

        A Query per shard of the sparse `ToRetry` index: finished records are not in it.
        """
        items: list[dict[str, Any]] = []
        for shard in range(RETRY_SHARDS):
            items += self._table.query(
                IndexName=RETRY_INDEX,
                KeyConditionExpression="retry_pk = :pk",
                ExpressionAttributeValues=serialize({":pk": f"RETRY#{shard}"}),
            )
        return sorted(items, key=lambda item: item.get("retry_sk", ""))

    def list_input(self, input_key: str) -> list[dict[str, Any]]:
        """Every record of one input (each version, each chunk): `input_key` is `<bucket>/<key>` or a URI."""
        return self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": f"INPUT#{input_key}"}),
        )

    def _update(self, key: dict[str, str], *, set_: dict[str, Any], set_if_absent: dict[str, Any] | None = None,
                add: dict[str, int] | None = None, condition: str | None = None,
                return_old: bool = False) -> dict[str, Any]:
        """One UpdateItem: SET the values (REMOVE those that are None), SET-if-absent, ADD counters."""
        names: dict[str, str] = {"#status": "status"} if condition else {}
        values: dict[str, Any] = {":pending": "pending", ":failed": "failed"} if condition else {}
        sets, removes, adds = [], [], []
        for i, (name, value) in enumerate(set_.items()):
            names[f"#s{i}"] = name
            if value is None:
                removes.append(f"#s{i}")
            else:
                values[f":s{i}"] = value
                sets.append(f"#s{i} = :s{i}")
        for i, (name, value) in enumerate((set_if_absent or {}).items()):
            names[f"#f{i}"], values[f":f{i}"] = name, value
            sets.append(f"#f{i} = if_not_exists(#f{i}, :f{i})")
        for i, (name, value) in enumerate((add or {}).items()):
            names[f"#a{i}"], values[f":a{i}"] = name, value
            adds.append(f"#a{i} :a{i}")
        expression = " ".join(part for part in (
            "SET " + ", ".join(sets) if sets else "",
            "REMOVE " + ", ".join(removes) if removes else "",
            "ADD " + ", ".join(adds) if adds else "") if part)
        params: dict[str, Any] = {"TableName": self._table.name, "Key": serialize(key),
                                  "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                  "ExpressionAttributeValues": serialize(values)}
        if condition:
            params["ConditionExpression"] = condition
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if return_old:
            params["ReturnValues"] = "ALL_OLD"
        try:
            response = self._table.client.update_item(**params)
        except ClientError as exc:
            if condition and is_conditional_failure(exc):
                raw = exc.response.get("Item")
                raise _ConditionFailed(_deserialized(raw)) from exc
            raise StoreError(f"record outcome {key['pk']} {key['sk']}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"record outcome {key['pk']} {key['sk']}: {exc}") from exc
        return _deserialized(response.get("Attributes"))


class _ConditionFailed(Exception):
    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.old = old


def _deserialized(raw: dict[str, Any] | None) -> dict[str, Any]:
    return deserialize(raw) if raw else {}


def _key(origin: Origin, chunk: Chunk | None) -> dict[str, str]:
    sk = origin.version_id or origin.etag or "-"
    return {"pk": input_pk(origin.bucket, origin.key, origin.uri),
            "sk": chunk_sk(sk, chunk.index) if chunk is not None else sk}


def _retry_keys(key: dict[str, str], stamp: str, *, listed: bool = True) -> dict[str, str | None]:
    """The `ToRetry` index keys of an unfinished record (None: removed, the record leaves the index)."""
    if not listed:
        return {"retry_pk": None, "retry_sk": None}
    shard = int(hashlib.sha256(key["pk"].encode()).hexdigest(), 16) % RETRY_SHARDS
    return {"retry_pk": f"RETRY#{shard}", "retry_sk": f"{stamp}#{key['pk']}#{key['sk']}"}


def _origin_fields(origin: Origin) -> dict[str, Any]:
    return {"origin_kind": origin.kind, "origin_uri": origin.uri, "bucket": origin.bucket, "key": origin.key,
            "version_id": origin.version_id, "etag": origin.etag, "site_url": origin.site_url}


def _chunk_fields(chunk: Chunk) -> dict[str, Any]:
    return {"index": chunk.index, "start": chunk.start, "stop": chunk.stop, "total": chunk.total,
            "chunks": chunk.chunks, "format": chunk.format, "name": chunk.name}
