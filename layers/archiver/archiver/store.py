"""The storage adapter: the only module that knows archive bucket keys and table keys.

Layout (archive bucket):
  raw/<sha256[:2]>/<sha256>                                    original bytes, content-addressed
  posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/post.json         normalized post (schema v1)
  posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/index.html        standalone readable page
  (`undated` replaces <yyyy>/<mm>/<dd> when the post has no date)

Table items:
  pk=POST#<id>            sk=LATEST     the current version's metadata (+ GSI keys BySite/ByStory)
  pk=POST#<id>            sk=V#000001   one item per archived version
  pk=INPUT#<bucket>/<key> sk=<version id | etag | ->   the latest outcome of one input
  pk=INPUT#<bucket>/<key> sk=<same>#chunk-000003      the outcome of one chunk of a fanned-out input
  pk=SIMHASH#<band>       sk=POST#<id>  near-duplicate index: fingerprint bands -> story_id

No read before write on the hot path: conditional writes decide duplicates and versions.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Literal
from urllib.parse import quote, unquote, urlsplit

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from archiver import stories
from archiver.errors import StoreError
from archiver.ids import slugify
from archiver.spool import PIECE_BYTES

if TYPE_CHECKING:
    from archiver.model import Input, Outcome, Post

LATEST = "LATEST"
MAX_OUTCOME_POST_IDS = 1000  # ids of 20 characters: ~25 KB, far below DynamoDB's 400 KB item limit
MAX_STORY_CANDIDATES = 100  # per fingerprint band: a lookup stays a few small reads
_BAND_PREFIX = "SIMHASH#"  # near-duplicate index: pk=SIMHASH#<band>:<value>, sk=POST#<id>
MAX_CLAIM_ATTEMPTS = 5
SLUG_MAX = 80
_METADATA_VALUE_MAX = 900  # S3 user metadata is limited to 2 KB in total

# The fields copied from the post onto its LATEST item.
_LATEST_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "authors",
    "published_at",
    "categories",
    "tags",
    "source",
    "story_id",
    "content_sha256",
    "status",
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class PostKeys:
    """Where one post lives in the archive bucket."""

    prefix: str
    json_key: str
    html_key: str


@dataclass(frozen=True)
class SaveResult:
    """What `save_post` did: archived a (new) version, or found the same content already stored."""

    status: Literal["archived", "duplicate"]
    version: int
    keys: PostKeys


class ArchiveStore:
    """S3 + DynamoDB storage of raw inputs, posts, versions and input outcomes.

    Takes boto3 *clients*, created once by the caller and reused across warm invocations.
    Writes go to the archive bucket only: no method accepts a bucket to write to.
    """

    def __init__(self, s3: Any, dynamodb: Any, *, archive_bucket: str, table_name: str) -> None:
        if not archive_bucket or not table_name:
            raise StoreError("archive bucket and table name are required")
        self._s3 = s3
        self._ddb = dynamodb
        self.archive_bucket = archive_bucket
        self.table_name = table_name

    # ----------------------------------------------------------------- raw inputs

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
            "Bucket": self.archive_bucket,
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
            code = _error_code(exc)
            if code in ("PreconditionFailed", "412"):
                return key  # identical bytes already archived
            if code in ("ConditionalRequestConflict", "409"):
                # A concurrent upload of the same bytes is in flight; make sure one lands.
                if not self._exists(key):
                    with _wrapped("put raw object"):
                        put()
                return key
            raise StoreError(f"put raw object {key}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"put raw object {key}: {exc}") from exc
        return key

    def download_raw(self, key: str, target: BinaryIO) -> int:
        """Copy archived raw bytes into a local file in 1 MiB pieces (never whole in memory)."""
        written = 0
        with _wrapped(f"get raw object {key}"):
            body = self._s3.get_object(Bucket=self.archive_bucket, Key=key)["Body"]
            try:
                for piece in body.iter_chunks(PIECE_BYTES):
                    target.write(piece)
                    written += len(piece)
            finally:
                body.close()
        return written

    def _exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.archive_bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"head object {key}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"head object {key}: {exc}") from exc
        return True

    # ----------------------------------------------------------------- posts

    def post_keys(self, post: Post) -> PostKeys:
        """The human-browsable keys of a post: posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/."""
        site = _key_segment(post.site) or "unknown-site"
        day = _date_path(post.published_at)
        slug = _post_slug(post)
        prefix = f"posts/{site}/{day}/{slug}--{post.id}/"
        return PostKeys(prefix=prefix, json_key=prefix + "post.json", html_key=prefix + "index.html")

    def save_post(self, post: Post, raw_key: str, html: str) -> SaveResult:
        """Archive a post: a new version when its content changed, nothing when it is a duplicate.

        1. claim LATEST (conditional put / update) -> the version number, or "duplicate";
        2. write post.json and index.html;
        3. put the V#<n> item, then mark LATEST stored with the post's metadata.
        A crash between the steps leaves LATEST "pending"; redelivery of the same content resumes it.
        """
        keys = self.post_keys(post)
        claimed = self._claim(post)
        if claimed.duplicate:
            return SaveResult(status="duplicate", version=claimed.version, keys=claimed.keys or keys)
        version = claimed.version
        archived_at = post.archived_at or _now()

        document = post.to_dict()
        document["version"] = version
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        json_version_id = self._put_archive_object(keys.json_key, body, "application/json")
        html_version_id = self._put_archive_object(keys.html_key, html.encode("utf-8"), "text/html; charset=utf-8")

        common = {
            "id": post.id,
            "version": version,
            "content_sha256": post.content_sha256,
            "archived_at": archived_at,
            "raw_key": raw_key,
            "json_key": keys.json_key,
            "html_key": keys.html_key,
            "json_version_id": json_version_id,
            "html_version_id": html_version_id,
        }
        common = self._put_version(post, version, common)
        self._mark_stored(post, version, common)
        return SaveResult(status="archived", version=version, keys=keys)

    def _claim(self, post: Post) -> _Claim:
        pk = _post_pk(post.id)
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item=_serialize(
                    {
                        "pk": pk,
                        "sk": LATEST,
                        "id": post.id,
                        "state": "pending",
                        "version": 1,
                        "content_sha256": post.content_sha256,
                        "claimed_at": _now(),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return _Claim(version=1)
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StoreError(f"claim post {post.id}: {_describe(exc)}") from exc
            current = self._old_item(exc, pk, LATEST)
        except BotoCoreError as exc:
            raise StoreError(f"claim post {post.id}: {exc}") from exc

        for _ in range(MAX_CLAIM_ATTEMPTS):
            seen = int(current["version"])
            if current.get("content_sha256") == post.content_sha256:
                # Same content: stored -> duplicate; pending -> an earlier attempt crashed, resume it.
                if current.get("state") == "stored":
                    return _Claim(version=seen, duplicate=True, keys=_stored_keys(current))
                return _Claim(version=seen)
            try:
                self._ddb.update_item(
                    TableName=self.table_name,
                    Key=_serialize({"pk": pk, "sk": LATEST}),
                    UpdateExpression=(
                        "SET #version = :next, #state = :pending, content_sha256 = :sha, claimed_at = :now"
                    ),
                    ConditionExpression="#version = :seen",
                    ExpressionAttributeNames={"#version": "version", "#state": "state"},
                    ExpressionAttributeValues=_serialize(
                        {
                            ":next": seen + 1,
                            ":seen": seen,
                            ":pending": "pending",
                            ":sha": post.content_sha256,
                            ":now": _now(),
                        }
                    ),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return _Claim(version=seen + 1)
            except ClientError as exc:
                if not _is_conditional_failure(exc):
                    raise StoreError(f"claim new version of post {post.id}: {_describe(exc)}") from exc
                current = self._old_item(exc, pk, LATEST)  # lost a race: look again
            except BotoCoreError as exc:
                raise StoreError(f"claim new version of post {post.id}: {exc}") from exc
        raise StoreError(f"claim post {post.id}: too many concurrent updates")

    def _old_item(self, exc: ClientError, pk: str, sk: str) -> dict[str, Any]:
        """The item that failed a condition: from the error (ALL_OLD), else a consistent read."""
        raw = exc.response.get("Item")
        if raw:
            return _deserialize(raw)
        item = self._get_item(pk, sk, consistent=True)
        if item is None:
            raise StoreError(f"item {pk} {sk} failed a condition but cannot be read")
        return item

    def _put_archive_object(self, key: str, body: bytes, content_type: str) -> str | None:
        with _wrapped(f"put object {key}"):
            response = self._s3.put_object(Bucket=self.archive_bucket, Key=key, Body=body, ContentType=content_type)
        return response.get("VersionId")

    def _put_version(self, post: Post, version: int, common: dict[str, Any]) -> dict[str, Any]:
        """Put the V#<n> item; returns the version's attributes as stored (an earlier attempt's may win)."""
        pk = _post_pk(post.id)
        sk = _version_sk(version)
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item=_serialize({"pk": pk, "sk": sk, **common}),
                ConditionExpression="attribute_not_exists(sk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StoreError(f"put version {version} of post {post.id}: {_describe(exc)}") from exc
            existing = self._old_item(exc, pk, sk)
            # Written by an earlier (crashed or concurrent) attempt at the same content: keep it.
            if existing.get("content_sha256") != post.content_sha256:
                raise StoreError(f"version {version} of post {post.id} already exists with other content") from exc
            return {**common, **{k: existing[k] for k in common if k in existing}}
        except BotoCoreError as exc:
            raise StoreError(f"put version {version} of post {post.id}: {exc}") from exc
        return common

    def _mark_stored(self, post: Post, version: int, common: dict[str, Any]) -> None:
        site = post.site
        date_key = post.published_at or "0000"
        item: dict[str, Any] = {field: getattr(post, field) for field in _LATEST_FIELDS}
        item.update(common)
        item.update(
            {
                "pk": _post_pk(post.id),
                "sk": LATEST,
                "state": "stored",
                "site": site,
                "site_pk": f"SITE#{site}",
                "site_sk": f"{date_key}#{post.id}",
                "story_pk": f"STORY#{post.story_id}",
                "story_sk": f"{date_key}#{post.id}",
            }
        )
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item=_serialize(item),
                # Only the claim that is still current may publish; a newer claim wins.
                ConditionExpression="#version = :version AND content_sha256 = :sha",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=_serialize({":version": version, ":sha": post.content_sha256}),
            )
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise StoreError(f"mark post {post.id} stored: {_describe(exc)}") from exc
            # A newer version was claimed meanwhile: ours stays in its V# item and in S3.
        except BotoCoreError as exc:
            raise StoreError(f"mark post {post.id} stored: {exc}") from exc

    # ----------------------------------------------------------------- input outcomes

    def record_outcome(self, outcome: Outcome, *, received_at: str | None = None) -> None:
        """Record the latest outcome of one input (overwrites the record of an earlier attempt)."""
        origin = outcome.origin
        now = _now()
        sk = origin.version_id or origin.etag or "-"
        item: dict[str, Any] = {
            "pk": _input_pk(origin.bucket, origin.key, origin.uri),
            "sk": _chunk_sk(sk, outcome.chunk.index) if outcome.chunk is not None else sk,
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
            "received_at": received_at or now,
            "updated_at": now,
        }
        if outcome.error is not None:
            item["error"] = outcome.error.to_dict()
        if outcome.chunks:
            item["chunks"] = outcome.chunks
        if outcome.chunk is not None:
            chunk = outcome.chunk
            item["chunk"] = {"index": chunk.index, "start": chunk.start, "stop": chunk.stop,
                             "total": chunk.total, "chunks": chunk.chunks, "format": chunk.format}
        with _wrapped(f"record outcome of {origin.uri}"):
            self._ddb.put_item(TableName=self.table_name, Item=_serialize(item))

    def get_outcome(self, bucket: str | None, key: str) -> dict[str, Any] | None:
        """The most recently updated outcome of an inbox object (any of its versions).

        With `bucket=None`, `key` is the origin URI of a non-S3 input (a local file, a URL).
        The outcomes of a fanned-out input's chunks are not it: see `list_chunk_outcomes`.
        """
        items = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=_serialize({":pk": _input_pk(bucket, key, None)}),
        )
        items = [i for i in items if "chunk" not in i]
        return max(items, key=lambda i: i.get("updated_at", ""), default=None)

    def list_chunk_outcomes(self, outcome: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunk outcomes of a fanned-out input (its outcome record as `get_outcome` returns it)."""
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :chunks)",
            ExpressionAttributeValues=_serialize({":pk": outcome["pk"], ":chunks": _chunk_sk(outcome["sk"], None)}),
        )

    def list_failures(self) -> list[dict[str, Any]]:
        """Every input whose latest outcome is failed (a filtered Scan: fine at archive scale)."""
        items: list[dict[str, Any]] = []
        with _wrapped("scan failures"):
            pages = self._ddb.get_paginator("scan").paginate(
                TableName=self.table_name,
                FilterExpression="begins_with(pk, :input) AND #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_serialize({":input": "INPUT#", ":failed": "failed"}),
            )
            for page in pages:
                items.extend(_deserialize(raw) for raw in page.get("Items", []))
        return items

    # ----------------------------------------------------------------- reads

    def get_post(self, post_id: str) -> dict[str, Any] | None:
        """The LATEST item of a post, as plain Python values."""
        return self._get_item(_post_pk(post_id), LATEST)

    def list_versions(self, post_id: str) -> list[dict[str, Any]]:
        """The version items of a post, oldest first."""
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues=_serialize({":pk": _post_pk(post_id), ":v": "V#"}),
        )

    def list_site_posts(
        self, site: str, *, newest_first: bool = True, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """A site's posts (LATEST items) by publication date, via the BySite index."""
        return self._query(
            limit=limit,
            IndexName="BySite",
            KeyConditionExpression="site_pk = :pk",
            ExpressionAttributeValues=_serialize({":pk": f"SITE#{site}"}),
            ScanIndexForward=not newest_first,
        )

    def list_story_copies(self, story_id: str) -> list[dict[str, Any]]:
        """Every post (LATEST item) that is a copy of one story, oldest first, via ByStory."""
        return self._query(
            IndexName="ByStory",
            KeyConditionExpression="story_pk = :pk",
            ExpressionAttributeValues=_serialize({":pk": f"STORY#{story_id}"}),
        )

    def find_story(self, post: Post) -> str | None:
        """The story_id of an archived post whose text is near-identical to this one's, if any.

        A few exact-key queries on the fingerprint bands (see archiver.stories), never a scan.
        """
        if not post.fingerprint:
            return None
        for band in stories.bands(post.fingerprint):
            for item in self._query(
                limit=MAX_STORY_CANDIDATES,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=_serialize({":pk": f"{_BAND_PREFIX}{band}"}),
                ProjectionExpression="post_id, fingerprint, story_id",
            ):
                if item["post_id"] != post.id and stories.are_copies(post.fingerprint, item["fingerprint"]):
                    return item["story_id"]
        return None

    def index_story(self, post: Post) -> None:
        """Make this post findable by later near-identical copies (one small item per band)."""
        if not post.fingerprint:
            return
        for band in stories.bands(post.fingerprint):
            item = {"pk": f"{_BAND_PREFIX}{band}", "sk": _post_pk(post.id), "post_id": post.id,
                    "fingerprint": post.fingerprint, "story_id": post.story_id}
            with _wrapped(f"index story band {band}"):
                self._ddb.put_item(TableName=self.table_name, Item=_serialize(item))

    def _get_item(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        with _wrapped(f"get item {pk} {sk}"):
            response = self._ddb.get_item(
                TableName=self.table_name,
                Key=_serialize({"pk": pk, "sk": sk}),
                ConsistentRead=consistent,
            )
        raw = response.get("Item")
        return _deserialize(raw) if raw else None

    def _query(self, *, limit: int | None = None, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with _wrapped(f"query {params.get('IndexName', 'table')}"):
            if limit is not None:  # read no more than asked for, not a whole 1 MB page
                params["PaginationConfig"] = {"PageSize": limit}
            for page in self._ddb.get_paginator("query").paginate(TableName=self.table_name, **params):
                for raw in page.get("Items", []):
                    items.append(_deserialize(raw))
                    if limit is not None and len(items) >= limit:
                        return items
        return items


@dataclass(frozen=True)
class _Claim:
    version: int
    duplicate: bool = False
    keys: PostKeys | None = None  # where the duplicate's stored version lives


def _stored_keys(item: dict[str, Any]) -> PostKeys | None:
    json_key, html_key = item.get("json_key"), item.get("html_key")
    if not (json_key and html_key):
        return None
    return PostKeys(prefix=json_key.rsplit("/", 1)[0] + "/", json_key=json_key, html_key=html_key)


# --------------------------------------------------------------------- keys


def raw_key(sha256_hex: str) -> str:
    """Content-addressed key of original bytes."""
    return f"raw/{sha256_hex[:2]}/{sha256_hex}"


def _post_pk(post_id: str) -> str:
    return f"POST#{post_id}"


def _version_sk(version: int) -> str:
    return f"V#{version:06d}"


def _chunk_sk(input_sk: str, index: int | None) -> str:
    """`<input sk>#chunk-000003`; with no index, the prefix shared by an input's chunks."""
    return f"{input_sk}#chunk-" + ("" if index is None else f"{index:06d}")


def _input_pk(bucket: str | None, key: str | None, uri: str | None) -> str:
    if bucket:
        return f"INPUT#{bucket}/{key or ''}"
    return f"INPUT#{uri or key or '-'}"


def _post_slug(post: Post) -> str:
    """The last segment of the post's URL path, else its title, as an ASCII slug."""
    if post.url:
        path = unquote(urlsplit(post.url).path)
        last = next((seg for seg in reversed(path.split("/")) if seg), "")
        last = re.sub(r"\.(html?|php|aspx?|md|markdown)$", "", last, flags=re.IGNORECASE)
        # A bare number (/2024/05/, /archives/123) or a generic name says nothing: use the title.
        if last and not last.isdigit() and last.lower() not in ("index", "post", "entry"):
            slug = slugify(last, SLUG_MAX)
            if slug != "untitled":
                return slug
    return slugify(post.title, SLUG_MAX)


def _date_path(published_at: str | None) -> str:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", published_at or "")
    return "/".join(match.groups()) if match else "undated"


def _key_segment(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.lower()).strip("-.")


# --------------------------------------------------------------------- helpers


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


def _now() -> str:
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


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def _deserialize(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _unplain(_deserializer.deserialize(v)) for k, v in raw.items()}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_conditional_failure(exc: ClientError) -> bool:
    return _error_code(exc) == "ConditionalCheckFailedException"


def _describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


@contextmanager
def _wrapped(action: str) -> Iterator[None]:
    """Turn AWS errors into one-line StoreErrors."""
    try:
        yield
    except ClientError as exc:
        raise StoreError(f"{action}: {_describe(exc)}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"{action}: {exc}") from exc
