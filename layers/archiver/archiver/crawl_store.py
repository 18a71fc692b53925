"""A sitemap source's crawl records in the archive table (see archiver.fetch.crawl for what they mean).

Items, one partition per source:
  pk=CRAWL#<source id>  sk=P#<page URL>      lastmod: a page fetched, with the lastmod it had ("" for none)
  pk=CRAWL#<source id>  sk=D#<sitemap URL>   a sitemap document: validators, lastmod, complete, pass
URLs too long for a sort key are keyed by their SHA-256 (`P#sha256:<hex>`). Reads are BatchGetItem
(100 keys), writes BatchWriteItem (25 items): a batch of sitemap entries costs one read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from archiver.source_store import SourceStore
from archiver.store.aws import BATCH_WRITE_MAX, MAX_BATCH_ROUNDS, Table, batch_get, serialize, wrapped

_MAX_KEY_BYTES = 900  # DynamoDB sort keys hold 1,024 bytes


def _key(source_id: str, kind: str, url: str) -> dict[str, str]:
    if len(url.encode("utf-8")) > _MAX_KEY_BYTES:
        url = "sha256:" + hashlib.sha256(url.encode("utf-8")).hexdigest()
    return {"pk": f"CRAWL#{source_id}", "sk": f"{kind}#{url}"}


class CrawlStore:
    """CrawlMemory over the archive table; takes the SourceStore's client and table."""

    def __init__(self, sources: SourceStore) -> None:
        self._table = Table(sources.dynamodb, sources.table_name)

    def pages(self, source_id: str, urls: Iterable[str]) -> dict[str, str]:
        by_key = {_key(source_id, "P", url)["sk"]: url for url in urls}
        items = batch_get(self._table.client, self._table.name,
                          [{"pk": f"CRAWL#{source_id}", "sk": sk} for sk in by_key], "get crawled pages")
        return {by_key[item["sk"]]: item.get("lastmod", "") for item in items}

    def mark_pages(self, source_id: str, pages: dict[str, str]) -> None:
        self._table.batch_put([{**_key(source_id, "P", url), "lastmod": lastmod} for url, lastmod in pages.items()],
                              "record crawled pages")

    def document(self, source_id: str, url: str) -> dict[str, Any] | None:
        key = _key(source_id, "D", url)
        item = self._table.get(key["pk"], key["sk"], consistent=True)
        return {k: v for k, v in item.items() if k not in ("pk", "sk")} if item else None

    def mark_document(self, source_id: str, url: str, record: dict[str, Any]) -> None:
        self._table.batch_put([{**_key(source_id, "D", url), **record}], "record a sitemap")

    def forget(self, source_id: str) -> None:
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in self._table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=serialize({":pk": f"CRAWL#{source_id}"}),
            ProjectionExpression="pk, sk")]
        for start in range(0, len(keys), BATCH_WRITE_MAX):
            requests = [{"DeleteRequest": {"Key": serialize(key)}} for key in keys[start:start + BATCH_WRITE_MAX]]
            for _ in range(MAX_BATCH_ROUNDS):
                with wrapped("forget crawled pages"):
                    response = self._table.client.batch_write_item(RequestItems={self._table.name: requests})
                requests = response.get("UnprocessedItems", {}).get(self._table.name, [])
                if not requests:
                    break
