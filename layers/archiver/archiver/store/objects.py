"""Objects in the archive bucket: raw inputs (content-addressed) and the post files."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.spool import PIECE_BYTES
from archiver.store.aws import describe, error_code, wrapped
from archiver.store.keys import RAW_PREFIX, chunk_context_key, raw_key

if TYPE_CHECKING:
    from archiver.model import Input

_METADATA_VALUE_MAX = 900  # S3 user metadata is limited to 2 KB in total
VERSION_METADATA = "archiver-version"  # on post objects: the post version the object holds
MAX_PUBLISH_ATTEMPTS = 8
# A conditional write lost a race: the object exists (412), a concurrent conditional write is in
# flight (409), or the object an If-Match names is gone (404).
_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey", "404"})


@dataclass(frozen=True)
class Published:
    """Where one version's object went: the current key, or its own immutable key if it was outdated."""

    key: str
    version_id: str | None
    etag: str | None
    current: bool


class ArchiveObjects:
    """Writes go to the archive bucket only: no method accepts a bucket to write to."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def save_raw(self, item: Input) -> str:
        """Store the input's bytes under their sha256 (once) and return the key.

        A file-backed input is hashed and uploaded from its file, in pieces: one streamed PUT
        (up to 5 GB), so the conditional `IfNoneMatch` keeps deduplicating as for small inputs.
        """
        if item.path is None:
            digest = hashlib.sha256(item.data).hexdigest()
        else:
            with item.open() as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        key = raw_key(digest)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": guess_content_type(item.name, item.head(512)),
            "Metadata": {
                "original-name": _metadata_value(item.name),
                "origin-uri": _metadata_value(item.origin.uri),
                "sha256": digest,
                # The charset an HTTP response declared: re-processing decodes the bytes as the first run did.
                **({"charset": _metadata_value(item.charset)} if item.charset else {}),
                # The site a dropped file named: re-processing resolves its relative links as the first run did.
                **({"site-url": _metadata_value(item.origin.site_url)} if item.origin.site_url else {}),
            },
        }

        def put(**extra: Any) -> None:
            with item.open() as body:
                self._s3.put_object(Body=body, **params, **extra)

        try:
            put(IfNoneMatch="*")
        except ClientError as exc:
            code = error_code(exc)
            if code in ("PreconditionFailed", "412"):
                return key  # identical bytes already archived
            if code in ("ConditionalRequestConflict", "409"):
                # A concurrent upload of the same bytes is in flight; make sure one lands.
                if not self.exists(key):
                    with wrapped("put raw object"):
                        put()
                return key
            raise StoreError(f"put raw object {key}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"put raw object {key}: {exc}") from exc
        return key

    def download_raw(self, key: str, target: BinaryIO) -> int:
        """Copy archived raw bytes into a local file in 1 MiB pieces (never whole in memory)."""
        written = 0
        with wrapped(f"get raw object {key}"):
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                for piece in body.iter_chunks(PIECE_BYTES):
                    target.write(piece)
                    written += len(piece)
            finally:
                body.close()
        return written

    def read_raw_range(self, key: str, begin: int, end: int) -> bytes:
        """Bytes `[begin, end)` of archived raw bytes: one ranged GET (a chunk's own slice)."""
        with wrapped(f"get bytes {begin}-{end} of raw object {key}"):
            body = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={begin}-{end - 1}")["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        if len(data) != end - begin:
            raise StoreError(f"get bytes {begin}-{end} of raw object {key}: {len(data)} bytes came back")
        return data

    def save_chunk_context(self, raw: str, context: dict[str, Any]) -> str:
        """Store what the chunks of the original at `raw` share (written again by a retried fan-out:
        the same content, derived from the same bytes)."""
        key = chunk_context_key(raw)
        body = json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode()
        with wrapped(f"put chunk context {key}"):
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return key

    def read_raw(self, key: str, target: BinaryIO) -> dict[str, str]:
        """Copy archived raw bytes into a local file in 1 MiB pieces; returns the object's metadata
        (original-name, origin-uri, sha256, charset: what re-processing needs to rebuild the Input)."""
        with wrapped(f"get raw object {key}"):
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                for piece in body.iter_chunks(PIECE_BYTES):
                    target.write(piece)
            finally:
                body.close()
        return dict(response.get("Metadata") or {})

    def list_raw(self, *, since: datetime | None = None, start_after: str | None = None) -> Iterator[str]:
        """Raw object keys (`raw/`), in key order; with `since`, only those first archived at or after it."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": RAW_PREFIX}
        if start_after:
            params["StartAfter"] = start_after
        with wrapped("list raw objects"):
            for page in self._s3.get_paginator("list_objects_v2").paginate(**params):
                for obj in page.get("Contents", []):
                    if since is None or obj["LastModified"] >= since:
                        yield obj["Key"]

    def get_json(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        """A JSON object of the archive bucket (a post.json), exactly the version named when one is."""
        params = {"Bucket": self.bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
        with wrapped(f"get object {key}"):
            body = self._s3.get_object(**params)["Body"].read()
        return json.loads(body)

    def publish(self, key: str, body: bytes, content_type: str, *, version: int, expected_etag: str | None,
                aside_key: str) -> Published:
        """Make `body` (post version `version`) the current object at `key`, unless a newer version is there.

        The current object never goes backwards. Every write is conditional: `If-Match` on the ETag of
        the object it replaces (`expected_etag`, known from the claim, so no read first), or
        `If-None-Match: *` for a new key. When the condition fails, the object's version (its
        `archiver-version` metadata) decides: older -> try again over it; the same -> an earlier attempt
        wrote it; newer -> this version is kept under its own immutable `aside_key` instead.
        """
        condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        for _ in range(MAX_PUBLISH_ATTEMPTS):
            response = self._put_conditionally(key, body, content_type, version, condition)
            if response is not None:
                return Published(key, response.get("VersionId"), _etag(response), current=True)
            head = self._head(key)
            if head is None:
                condition = {"IfNoneMatch": "*"}
                continue
            seen = _version_of(head)
            if seen == version:
                return Published(key, head.get("VersionId"), _etag(head), current=True)
            if seen > version:
                return self._keep_aside(aside_key, body, content_type, version)
            condition = {"IfMatch": _etag(head)}
        raise StoreError(f"publish {key}: too many concurrent writers")

    def _keep_aside(self, key: str, body: bytes, content_type: str, version: int) -> Published:
        """Write an outdated version under its own key, once."""
        response = self._put_conditionally(key, body, content_type, version, {"IfNoneMatch": "*"})
        if response is None:  # an earlier attempt at this version wrote it
            response = self._head(key) or {}
        return Published(key, response.get("VersionId"), _etag(response), current=False)

    def _put_conditionally(self, key: str, body: bytes, content_type: str, version: int,
                           condition: dict[str, str]) -> dict[str, Any] | None:
        """Put with a condition; None when the condition failed."""
        try:
            return self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                       Metadata={VERSION_METADATA: str(version)}, **condition)
        except ClientError as exc:
            if error_code(exc) in _LOST_RACE:
                return None
            raise StoreError(f"put object {key}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"put object {key}: {exc}") from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"head object {key}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"head object {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None


def guess_content_type(name: str, data: bytes) -> str:
    """A content type for raw bytes: from the file name, else from the first bytes."""
    guessed, _ = mimetypes.guess_type(name or "")
    if guessed:
        return guessed
    head = data[:512].lstrip()
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith(b"<?xml"):
        return "application/xml"
    if head[:1] in (b"{", b"["):
        return "application/json"
    if head[:1] == b"<":
        return "text/html"
    if head.startswith(b"---"):
        return "text/markdown"
    return "application/octet-stream"


def _etag(response: dict[str, Any]) -> str | None:
    return response.get("ETag") or None


def _version_of(head: dict[str, Any]) -> int:
    """The post version an object holds (0 for objects written before versions were recorded on them)."""
    value = (head.get("Metadata") or {}).get(VERSION_METADATA, "0")
    return int(value) if value.isdigit() else 0


def _metadata_value(text: str) -> str:
    return quote(text or "", safe="/:@")[:_METADATA_VALUE_MAX]
