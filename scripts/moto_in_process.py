"""The local archive for benchmarks of many thousands of posts: moto without its HTTP server, and with
a DynamoDB Query that reads one partition, as DynamoDB's does. For benchmarks only.

Two costs of the embedded local AWS belong to the emulator, not to the archiver, and grow the runs of
tens of thousands of posts from minutes to hours:

- moto 5.2.5's `Table.query` on the base table filters `all_items()`, a sorted list of every item in
  the table, so each Query costs time in proportion to the table, and archiving N posts (each asks a
  few Queries: story bands, outcomes) grows with N². Inside `in_process_aws()` a base-table Query sees
  only its own partition's items (index queries are left as they are; the archiver's path of a post
  makes none). Results are the same; only the cost differs.
- Every call through moto's server is a new HTTP connection to werkzeug and Flask. The clients made by
  `in_process_aws()` call moto's backends in this process (moto's own botocore hook, the one that
  `mock_aws` uses), so they share the server's state, without the HTTP.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

_asked = threading.local()  # the partition a Query on this thread reads (the server answers on threads)


@contextlib.contextmanager
def in_process_aws(region: str) -> Iterator[Callable[[str], Any]]:
    """While open: one-partition Queries, and a factory of boto3 clients served in this process."""
    import boto3
    from moto.core.models import botocore_stubber

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=f"https://{service}.{region}.amazonaws.com",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    with one_partition_queries():
        botocore_stubber.enabled = True  # clients pointed at 127.0.0.1 still go to the server: no pattern matches
        try:
            yield client
        finally:
            botocore_stubber.enabled = False


@contextlib.contextmanager
def one_partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # moto passes it positionally
        _asked.partition = None if index_name else hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _asked.partition = None

    def partition_items(self: Table) -> list[Any]:
        key = getattr(_asked, "partition", None)
        if key is None:
            return all_items(self)
        partition = self.items.get(key)
        if partition is None:
            return []
        if not self.range_key_attr:
            return [partition]
        return sorted(partition.values(), key=lambda item: item.range_key)

    Table.query, Table.all_items = partition_query, partition_items
    try:
        yield
    finally:
        Table.query, Table.all_items = query, all_items
