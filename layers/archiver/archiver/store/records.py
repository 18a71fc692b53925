"""Post records in the table: the LATEST item (claimed, then marked stored) and one V# item per version.

No read before write: one conditional update of LATEST decides whether a post is new, a duplicate
(same content hash) or a new version (its number counted atomically).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StoreError
from archiver.store.aws import Table, describe, deserialize, is_conditional_failure, now, serialize
from archiver.store.keys import LATEST, PostKeys, post_pk, stored_keys, version_sk

if TYPE_CHECKING:
    from archiver.model import Post


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
    "normalizer_version",  # what `archiver reprocess` compares with the running normalizer
)


@dataclass(frozen=True)
class Claim:
    """The version a writer may write, or the stored version its content duplicates."""

    version: int
    duplicate: bool = False
    keys: PostKeys | None = None  # where the duplicate's stored version lives
    # The LATEST item this claim replaced (its keys and S3 ETags): the objects a new version replaces.
    previous: dict[str, Any] | None = None


def latest_item(post: Post, common: dict[str, Any]) -> dict[str, Any]:
    """The LATEST item of a stored version: the post's metadata, the version's attributes (`common`) and
    the keys of the BySite and ByStory indexes."""
    site = post.site
    date_key = post.published_at or "0000"
    item: dict[str, Any] = {field: getattr(post, field) for field in _LATEST_FIELDS}
    item.update(common)
    item.update({
        "pk": post_pk(post.id),
        "sk": LATEST,
        "state": "stored",
        "site": site,
        "site_pk": f"SITE#{site}",
        "site_sk": f"{date_key}#{post.id}",
        "story_pk": f"STORY#{post.story_id}",
        "story_sk": f"{date_key}#{post.id}",
    })
    return item


def version_item(post: Post, version: int, common: dict[str, Any]) -> dict[str, Any]:
    """The V#<n> item of a version."""
    return {"pk": post_pk(post.id), "sk": version_sk(version), **common}


class PostRecords:
    def __init__(self, table: Table) -> None:
        self._table = table

    def claim(self, post: Post) -> Claim:
        """One conditional UpdateItem on LATEST: version 1 for a new post, the next version for changed
        content (counted atomically, so concurrent writers get distinct versions), or, when the content
        hash is the one LATEST holds, the stored version it duplicates (or the pending one to resume)."""
        pk = post_pk(post.id)
        try:
            response = self._table.client.update_item(
                TableName=self._table.name,
                Key=serialize({"pk": pk, "sk": LATEST}),
                UpdateExpression=("SET #version = if_not_exists(#version, :zero) + :one, #state = :pending, "
                                  "#sha = :sha, #claimed = :now, #id = :id"),
                ConditionExpression="attribute_not_exists(pk) OR #sha <> :sha",
                ExpressionAttributeNames={"#version": "version", "#state": "state", "#sha": "content_sha256",
                                          "#claimed": "claimed_at", "#id": "id"},
                ExpressionAttributeValues=serialize({":zero": 0, ":one": 1, ":pending": "pending",
                                                     ":sha": post.content_sha256, ":now": now(), ":id": post.id}),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise StoreError(f"claim post {post.id}: {describe(exc)}") from exc
            current = self._table.old_item(exc, pk, LATEST)
            # Same content: stored -> duplicate; pending -> an earlier attempt crashed, resume it.
            if current.get("state") == "stored":
                return Claim(version=int(current["version"]), duplicate=True, keys=stored_keys(current))
            return Claim(version=int(current["version"]))
        except BotoCoreError as exc:
            raise StoreError(f"claim post {post.id}: {exc}") from exc
        previous = deserialize(response.get("Attributes") or {})
        if not previous:
            return Claim(version=1)
        return Claim(version=int(previous["version"]) + 1, previous=previous)

    def claim_revision(self, post: Post, seen: int) -> Claim:
        """Claim version `seen + 1` for a re-normalized post, even when its content hash is unchanged.

        Re-processing writes a new version when any of the post's output changed (text, language...),
        which the content hash alone does not cover. Conditional on LATEST still being version `seen`:
        a version written meanwhile wins, and this raises (re-processing again compares with it).
        """
        pk = post_pk(post.id)
        try:
            response = self._table.client.update_item(
                TableName=self._table.name,
                Key=serialize({"pk": pk, "sk": LATEST}),
                UpdateExpression="SET #version = :next, #state = :pending, content_sha256 = :sha, claimed_at = :now",
                ConditionExpression="#version = :seen AND #state = :stored",
                ExpressionAttributeNames={"#version": "version", "#state": "state"},
                ExpressionAttributeValues=serialize({":next": seen + 1, ":seen": seen, ":pending": "pending",
                                                     ":stored": "stored", ":sha": post.content_sha256,
                                                     ":now": now()}),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise StoreError(f"post {post.id} changed since version {seen} was read", code="post_changed") from exc
            raise StoreError(f"claim revision of post {post.id}: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"claim revision of post {post.id}: {exc}") from exc
        return Claim(version=seen + 1, previous=deserialize(response.get("Attributes") or {}))

    def put_version(self, post: Post, version: int, common: dict[str, Any],
                    index_items: list[dict[str, Any]]) -> dict[str, Any]:
        """Put the V#<n> item of a published version and its story index items: one BatchWriteItem.

        Not a TransactWriteItems with LATEST: that would be one call fewer, but DynamoDB bills each item
        of a transaction twice (2 write units per KB: some 70% more per new post, see docs/benchmarks.md),
        and nothing needs it. V#<n> is written only by attempts at the claim of version n (the same content), so an
        unconditional put cannot undo another writer's; a crash before LATEST is marked leaves the claim
        pending, and the next attempt resumes it.
        """
        self._table.batch_put([version_item(post, version, common), *index_items],
                              f"put version {version} of post {post.id}")
        return common

    def put_outdated_version(self, post: Post, version: int, common: dict[str, Any]) -> dict[str, Any]:
        """Put the V#<n> item of a version already outdated when published (kept under its own keys);
        returns its attributes as stored (an earlier attempt's, if one wrote it)."""
        pk = post_pk(post.id)
        sk = version_sk(version)
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=serialize({"pk": pk, "sk": sk, **common}),
                ConditionExpression="attribute_not_exists(sk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise StoreError(f"put version {version} of post {post.id}: {describe(exc)}") from exc
            existing = self._table.old_item(exc, pk, sk)
            # Written by an earlier (crashed or concurrent) attempt at the same content: keep it.
            if existing.get("content_sha256") != post.content_sha256:
                raise StoreError(f"version {version} of post {post.id} already exists with other content") from exc
            return {**common, **{k: existing[k] for k in common if k in existing}}
        except BotoCoreError as exc:
            raise StoreError(f"put version {version} of post {post.id}: {exc}") from exc
        return common

    def mark_stored(self, post: Post, version: int, common: dict[str, Any]) -> None:
        item = latest_item(post, common)
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=serialize(item),
                # Only the claim that is still current may publish; a newer claim wins.
                ConditionExpression="#version = :version AND content_sha256 = :sha",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=serialize({":version": version, ":sha": post.content_sha256}),
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise StoreError(f"mark post {post.id} stored: {describe(exc)}") from exc
            # A newer version was claimed meanwhile: ours stays in its V# item and in S3.
        except BotoCoreError as exc:
            raise StoreError(f"mark post {post.id} stored: {exc}") from exc

    def get_post(self, post_id: str) -> dict[str, Any] | None:
        """The LATEST item of a post, as plain Python values."""
        return self._table.get(post_pk(post_id), LATEST)

    def get_posts(self, post_ids: list[str], attributes: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
        """The LATEST items of many posts, by id (consistent reads); absent ids are left out. With `attributes`,
        only those (and the id)."""
        wanted = tuple(dict.fromkeys(("id", *attributes))) if attributes else None
        items = self._table.batch_get([{"pk": post_pk(i), "sk": LATEST} for i in post_ids], "get posts", wanted)
        return {item["id"]: item for item in items}

    def get_version(self, post_id: str, version: int) -> dict[str, Any] | None:
        """The V#<n> item of a post (consistent read)."""
        return self._table.get(post_pk(post_id), version_sk(version), consistent=True)

    def list_items(self, post_id: str) -> list[dict[str, Any]]:
        """Every item of a post's partition, in key order (EVENT#..., LATEST, RECHECK, V#...)."""
        return self._table.query(KeyConditionExpression="pk = :pk",
                                 ExpressionAttributeValues=serialize({":pk": post_pk(post_id)}))

    def list_versions(self, post_id: str) -> list[dict[str, Any]]:
        """The version items of a post, oldest first."""
        return self._table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues=serialize({":pk": post_pk(post_id), ":v": "V#"}),
        )

    def list_site_posts(self, site: str, *, newest_first: bool = True,
                        limit: int | None = None) -> list[dict[str, Any]]:
        """A site's posts (LATEST items) by publication date, via the BySite index."""
        return self._table.query(
            limit=limit,
            IndexName="BySite",
            KeyConditionExpression="site_pk = :pk",
            ExpressionAttributeValues=serialize({":pk": f"SITE#{site}"}),
            ScanIndexForward=not newest_first,
        )

