"""Objects in the archive bucket: raw inputs (content-addressed) and the post files."""

from __future__ import annotations

import hashlib
import mimetypes
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.spool import PIECE_BYTES
from archiver.store.aws import describe, error_code, wrapped
from archiver.store.keys import raw_key

if TYPE_CHECKING:
    from archiver.model import Input

_METADATA_VALUE_MAX = 900  # S3 user metadata is limited to 2 KB in total


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

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        """Put one object; returns its S3 version id."""
        with wrapped(f"put object {key}"):
            response = self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return response.get("VersionId")

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"head object {key}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"head object {key}: {exc}") from exc
        return True


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


def _metadata_value(text: str) -> str:
    return quote(text or "", safe="/:@")[:_METADATA_VALUE_MAX]
