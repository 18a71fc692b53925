"""A post's images in the archive: content-addressed objects, what is known of each image URL, and the
attachment of archived images to a stored post version (its post.json and index.html, no new version).

The attachment rewrites the version's own objects in place: S3 keeps their earlier object versions, the V#
item and (while the version is current) LATEST get the new ETags, so later writers' conditions still hold.
A version no longer current at its keys (a newer version replaced it) is left alone: the newer version's
media job attaches its images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.store.aws import Table, describe, error_code, is_conditional_failure, now, serialize, wrapped
from archiver.store.keys import LATEST, media_input_pk, media_key, media_url_pk, post_pk, version_sk
from archiver.store.objects import VERSION_METADATA
from archiver.store.outcomes import _retry_keys

MAX_ATTACH_ATTEMPTS = 5
_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


@dataclass(frozen=True)
class StoredVersion:
    """One post version as the media job finds it: its document and where its objects are."""

    post_id: str
    version: int
    document: dict[str, Any]
    raw_key: str | None
    json_key: str
    html_key: str
    json_etag: str | None
    html_etag: str | None


class MediaStore:
    def __init__(self, s3: Any, table: Table, bucket: str) -> None:
        self._s3 = s3
        self._table = table
        self.bucket = bucket

    # ------------------------------------------------------------------ image objects and URLs

    def save(self, data: bytes, sha256_hex: str, extension: str, content_type: str) -> str:
        """Store an image once under its digest; returns its key (a second post showing it writes nothing)."""
        key = media_key(sha256_hex, extension)
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                                IfNoneMatch="*", ContentDisposition="inline",
                                CacheControl="public, max-age=31536000, immutable")
        except ClientError as exc:
            if error_code(exc) not in _LOST_RACE:  # 412: those bytes are archived already
                raise StoreError(f"put media {key}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"put media {key}: {exc}") from exc
        return key

    def known(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """What is recorded of each image URL already archived (BatchGetItem), by URL."""
        if not urls:
            return {}
        keys = [{"pk": media_url_pk(url), "sk": "URL"} for url in dict.fromkeys(urls)]
        return {item["url"]: item for item in self._table.batch_get(keys, "get media urls") if item.get("key")}

    def remember(self, records: list[dict[str, Any]]) -> None:
        """Record archived image URLs (each with its media key, type, size, dimensions)."""
        self._table.batch_put([{"pk": media_url_pk(r["url"]), "sk": "URL", **r} for r in records],
                              "put media urls")

    # ------------------------------------------------------------------ post versions

    def stored_version(self, post_id: str, version: int) -> StoredVersion | None:
        """The version's V# item and its post.json; None when the version is no longer current at its keys."""
        item = self._table.get(post_pk(post_id), version_sk(version), consistent=True)
        if item is None or not item.get("json_key"):
            return None
        head = self._head(item["json_key"])
        if head is None or _version_of(head) != version:
            return None  # replaced by a newer version (which has its own media job), or kept aside
        with wrapped(f"get object {item['json_key']}"):
            response = self._s3.get_object(Bucket=self.bucket, Key=item["json_key"], IfMatch=head["ETag"])
            document = json.loads(response["Body"].read())
        html_head = self._head(item["html_key"])
        return StoredVersion(post_id, version, document, item.get("raw_key"), item["json_key"], item["html_key"],
                             head["ETag"], html_head["ETag"] if html_head else None)

    def attach(self, stored: StoredVersion, document: dict[str, Any], page: str,
               summary: dict[str, Any]) -> bool:
        """Write the version's post.json and index.html with its archived images, and note it on its items.

        Conditional on the objects being those read (If-Match): a concurrent writer wins and this returns
        False (the job reads again and retries). `summary` (counts) goes on the V# item, and on LATEST while
        this version is the current one.
        """
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        html = f"{page.rstrip()}\n<!-- post {stored.post_id} version {stored.version} -->\n".encode()
        written = {}
        for name, key, data, content_type, etag in (
                ("json", stored.json_key, body, "application/json", stored.json_etag),
                ("html", stored.html_key, html, "text/html; charset=utf-8", stored.html_etag)):
            try:
                condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
                response = self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                                               Metadata={VERSION_METADATA: str(stored.version)}, **condition)
            except ClientError as exc:
                if error_code(exc) in _LOST_RACE:
                    return False
                raise StoreError(f"attach media to {key}: {describe(exc)}") from exc
            written[f"{name}_etag"], written[f"{name}_version_id"] = response.get("ETag"), response.get("VersionId")
        attributes = {**written, "media": summary}
        self._update(post_pk(stored.post_id), version_sk(stored.version), attributes, None, stored.version)
        self._update(post_pk(stored.post_id), LATEST, attributes, "#version = :version", stored.version)
        return True

    def _update(self, pk: str, sk: str, attributes: dict[str, Any], condition: str | None, version: int) -> None:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":a{i}": value for i, value in enumerate(attributes.values())}
        params: dict[str, Any] = {
            "TableName": self._table.name, "Key": serialize({"pk": pk, "sk": sk}),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(attributes))),
            "ConditionExpression": "attribute_exists(pk)" + (f" AND {condition}" if condition else ""),
        }
        if condition:
            names["#version"], values[":version"] = "version", version
        params["ExpressionAttributeNames"] = names
        params["ExpressionAttributeValues"] = serialize(values)
        try:
            self._table.client.update_item(**params)
        except ClientError as exc:
            if not is_conditional_failure(exc):  # LATEST moved on to a newer version: it keeps its own
                raise StoreError(f"note media on {pk} {sk}: {describe(exc)}") from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"head object {key}: {describe(exc)}") from exc

    # ------------------------------------------------------------------ the media's outcome record

    def record_outcome(self, post_id: str, version: int, raw_key: str | None, failures: list[dict[str, Any]],
                       archived: int) -> None:
        """The media outcome of one post version: `failed` (listed by `archiver failures`, retried by
        `archiver retry`) while some image is missing, `archived` once every image is in."""
        key = {"pk": media_input_pk(post_id), "sk": version_sk(version)}
        stamp = now()
        fields: dict[str, Any] = {
            "status": "failed" if failures else "archived", "origin_kind": "media",
            "origin_uri": f"media of post {post_id} version {version}",
            "post_id": post_id, "post_version": version, "raw_key": raw_key, "post_ids": [post_id],
            "last_attempt_at": stamp, "images_archived": archived,
            "images_failed": len(failures), "failures": failures[:50],
            "error": {"code": "media_failed", "stage": "media", "message": _message(failures)} if failures else None,
            **_retry_keys(key, stamp, listed=bool(failures)),
        }
        present = {k: v for k, v in fields.items() if v is not None}
        absent = [k for k, v in fields.items() if v is None]
        names = {f"#f{i}": k for i, k in enumerate(present)}
        names.update({f"#r{i}": k for i, k in enumerate(absent)})
        names["#received"], names["#attempts"] = "received_at", "attempts"
        expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(present)))
        expression += ", #received = if_not_exists(#received, :now) ADD #attempts :one"
        if absent:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(absent)))
        values = {f":f{i}": v for i, v in enumerate(present.values())} | {":now": stamp, ":one": 1}
        with wrapped(f"record media outcome of {post_id}"):
            self._table.client.update_item(TableName=self._table.name, Key=serialize(key),
                                           UpdateExpression=expression, ExpressionAttributeNames=names,
                                           ExpressionAttributeValues=serialize(values))


def _message(failures: list[dict[str, Any]]) -> str:
    first = failures[0] if failures else {}
    return (f"{len(failures)} image(s) could not be archived; first: {first.get('url') or first.get('src')}: "
            f"{first.get('code')}: {first.get('message', '')}")[:500]


def _version_of(head: dict[str, Any]) -> int:
    value = (head.get("Metadata") or {}).get(VERSION_METADATA, "0")
    return int(value) if value.isdigit() else 0

