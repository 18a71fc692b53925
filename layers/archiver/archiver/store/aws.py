"""The store's AWS plumbing: DynamoDB (de)serialization, one-line errors, and a small table wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError

BATCH_WRITE_MAX = 25  # items per BatchWriteItem call
BATCH_GET_MAX = 100  # keys per BatchGetItem call
MAX_BATCH_ROUNDS = 5  # rounds for unprocessed items (each call is retried by botocore as well)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class Table:
    """The archive table through a boto3 DynamoDB *client*: plain Python values in and out."""

    def __init__(self, dynamodb: Any, name: str) -> None:
        self.client = dynamodb
        self.name = name

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        with wrapped(f"get item {pk} {sk}"):
            response = self.client.get_item(TableName=self.name, Key=serialize({"pk": pk, "sk": sk}),
                                            ConsistentRead=consistent)
        raw = response.get("Item")
        return deserialize(raw) if raw else None

    def query(self, *, limit: int | None = None, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with wrapped(f"query {params.get('IndexName', 'table')}"):
            if limit is not None:  # read no more than asked for, not a whole 1 MB page
                params["PaginationConfig"] = {"PageSize": limit}
            for page in self.client.get_paginator("query").paginate(TableName=self.name, **params):
                for raw in page.get("Items", []):
                    items.append(deserialize(raw))
                    if limit is not None and len(items) >= limit:
                        return items
        return items

    def batch_put(self, items: list[dict[str, Any]], what: str) -> None:
        """Put items with BatchWriteItem: one call per 25 items (and per round of unprocessed ones), billed
        as ordinary puts. Unconditional: only for items whose writers cannot disagree."""
        for start in range(0, len(items), BATCH_WRITE_MAX):
            requests = [{"PutRequest": {"Item": serialize(item)}} for item in items[start:start + BATCH_WRITE_MAX]]
            for _ in range(MAX_BATCH_ROUNDS):
                with wrapped(what):
                    response = self.client.batch_write_item(RequestItems={self.name: requests})
                requests = response.get("UnprocessedItems", {}).get(self.name, [])
                if not requests:
                    break
            else:
                raise StoreError(f"{what}: {len(requests)} items left unprocessed")

    def batch_get(self, keys: list[dict[str, str]], what: str,
                  attributes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """The items that exist among `keys` (consistent reads), only `attributes` of each when given."""
        return batch_get(self.client, self.name, keys, what, attributes)

    def old_item(self, exc: ClientError, pk: str, sk: str) -> dict[str, Any]:
        """The item that failed a condition: from the error (ALL_OLD), else a consistent read."""
        raw = exc.response.get("Item")
        if raw:
            return deserialize(raw)
        item = self.get(pk, sk, consistent=True)
        if item is None:
            raise StoreError(f"item {pk} {sk} failed a condition but cannot be read")
        return item


def batch_get(dynamodb: Any, table_name: str, keys: list[dict[str, str]], what: str,
              attributes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The items that exist among `keys` (consistent reads): one BatchGetItem per 100 keys, and per round
    of the keys DynamoDB hands back unprocessed. With `attributes`, only those of each item come back (the
    read costs the same; the response is smaller)."""
    found: list[dict[str, Any]] = []
    unique = list({(key["pk"], key["sk"]): key for key in keys}.values())
    projection = {"ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(attributes))),
                  "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(attributes)}} \
        if attributes else {}
    for first in range(0, len(unique), BATCH_GET_MAX):
        request = {table_name: {"Keys": [serialize(key) for key in unique[first:first + BATCH_GET_MAX]],
                                "ConsistentRead": True, **projection}}
        for _ in range(MAX_BATCH_ROUNDS):
            with wrapped(what):
                response = dynamodb.batch_get_item(RequestItems=request)
            found += (deserialize(raw) for raw in response.get("Responses", {}).get(table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise StoreError(f"{what}: keys still unprocessed after {MAX_BATCH_ROUNDS} rounds")
    return found


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """Python values DynamoDB accepts: floats become Decimals, None map entries are dropped."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, set):
        return {_unplain(v) for v in value}
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def deserialize(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _unplain(_deserializer.deserialize(v)) for k, v in raw.items()}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_conditional_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


@contextmanager
def wrapped(action: str) -> Iterator[None]:
    """Turn AWS errors into one-line StoreErrors."""
    try:
        yield
    except ClientError as exc:
        raise StoreError(f"{action}: {describe(exc)}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"{action}: {exc}") from exc
