"""`ArchiveStore`: S3 + DynamoDB storage of raw inputs, posts, versions and input outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from archiver.changes import change_record, summary
from archiver.errors import StoreError
from archiver.ids import output_sha256
from archiver.store import keys
from archiver.store.aws import Table, now
from archiver.store.media import MediaStore
from archiver.store.objects import ArchiveObjects, Published
from archiver.store.outcomes import OutcomeRecords
from archiver.store.rechecks import RecheckRecords, recheck_item
from archiver.store.records import Claim, PostRecords
from archiver.store.story_index import StoryIndex, band_items

if TYPE_CHECKING:
    from datetime import datetime

    from archiver.model import Chunk, Input, Origin, Outcome, Post, Recheck

# What made a version: a dropped file (inbox, CLI), a fetch (a source's schedule), `archiver reprocess`, a re-check.
Trigger = Literal["dropped", "fetched", "reprocessed", "rechecked"]


@dataclass(frozen=True)
class SaveResult:
    """What `save_post` did: archived a (new) version, or found the same content already stored."""

    status: Literal["archived", "duplicate"]
    version: int
    keys: keys.PostKeys


@dataclass
class PostTimeline:
    """Every record of one post, as `ArchiveStore.post_timeline` reads them (items as plain values)."""

    latest: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # gone_upstream, back_upstream (store.rechecks)
    recheck: dict[str, Any] | None = None


def version_attributes(post: Post, version: int, document: dict[str, Any], *, raw_key: str, archived_at: str,
                       json_object: Published, html_object: Published) -> dict[str, Any]:
    """What the V#<n> and LATEST items of a published version record of it: its digests, its original and
    the S3 objects (keys, versions, ETags) of its post.json and index.html."""
    return {
        "id": post.id,
        "version": version,
        "content_sha256": post.content_sha256,
        "normalizer_version": post.normalizer_version,
        "output_sha256": output_sha256(document),
        "archived_at": archived_at,
        "raw_key": raw_key,
        "json_key": json_object.key,
        "html_key": html_object.key,
        "json_version_id": json_object.version_id,
        "html_version_id": html_object.version_id,
        "json_etag": json_object.etag,
        "html_etag": html_object.etag,
    }


class ArchiveStore:
    """S3 + DynamoDB storage of raw inputs, posts, versions and input outcomes.

    Takes boto3 *clients*, created once by the caller and reused across warm invocations.
    Writes go to the archive bucket only: no method accepts a bucket to write to.
    """

    def __init__(self, s3: Any, dynamodb: Any, *, archive_bucket: str, table_name: str) -> None:
        if not archive_bucket or not table_name:
            raise StoreError("archive bucket and table name are required")
        self.archive_bucket = archive_bucket
        self.table_name = table_name
        # The clients, as the single-class store exposed them (tests count the calls made on them).
        self._s3 = s3
        self._ddb = dynamodb
        table = Table(dynamodb, table_name)
        self.objects = ArchiveObjects(s3, archive_bucket)
        self.records = PostRecords(table)
        self.outcomes = OutcomeRecords(table)
        self.stories = StoryIndex(table)
        self.media = MediaStore(s3, table, archive_bucket)
        self.rechecks = RecheckRecords(table)

    # ----------------------------------------------------------------- raw inputs

    def save_raw(self, item: Input) -> str:
        """Store the input's bytes under their sha256 (once) and return the key."""
        return self.objects.save_raw(item)

    def download_raw(self, key: str, target: BinaryIO) -> int:
        """Copy archived raw bytes into a local file in 1 MiB pieces (never whole in memory)."""
        return self.objects.download_raw(key, target)

    def read_raw_range(self, key: str, begin: int, end: int) -> bytes:
        """Bytes `[begin, end)` of archived raw bytes (a chunk's slice), with one ranged GET."""
        return self.objects.read_raw_range(key, begin, end)

    def save_chunk_context(self, raw_key: str, context: dict[str, Any]) -> str:
        """Store the context the chunks of an original share; returns its key."""
        return self.objects.save_chunk_context(raw_key, context)

    def read_chunk_context(self, key: str) -> dict[str, Any]:
        return self.objects.get_json(key)

    def read_raw(self, key: str, target: BinaryIO) -> dict[str, str]:
        """Copy archived raw bytes into a local file; returns the object's metadata (origin-uri, ...)."""
        return self.objects.read_raw(key, target)

    def list_raw_keys(self, *, since: datetime | None = None) -> Iterator[str]:
        """Every archived original's key (`raw/...`), optionally only those first archived since a time."""
        return self.objects.list_raw(since=since)

    def get_post_document(self, item: dict[str, Any]) -> dict[str, Any]:
        """The post.json a LATEST (or V#) item names, exactly the version it names."""
        return self.objects.get_json(item["json_key"], item.get("json_version_id"))

    # ----------------------------------------------------------------- posts

    def post_keys(self, post: Post) -> keys.PostKeys:
        """The human-browsable keys of a post: posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/."""
        return keys.post_keys(post)

    def save_post(self, post: Post, raw_key: str, html: str, *, link_story: bool = False,
                  revise: int | None = None, trigger: Trigger | None = None,
                  recheck: Recheck | None = None) -> SaveResult:
        """Archive a post: a new version when its content changed, nothing when it is a duplicate.

        1. claim LATEST (one conditional update) -> the version number, or "duplicate" (then stop: a
           duplicate writes nothing else);
        2. with `link_story`, link the post to the story it is a copy of (reads the SimHash bands; only
           for a post that is stored, and only when it names no other original);
        3. publish post.json and index.html with conditional writes, so that the current objects never
           go backwards (a version outdated by a faster writer is kept under its own key instead);
        4. put the V#<n> item with the story index items (one BatchWriteItem), then mark LATEST stored
           with the post's metadata (a conditional put: only if still current).
        A crash between the steps leaves LATEST "pending"; redelivery of the same content resumes it.
        `revise`: the stored version a re-normalized post replaces (archiver.reprocess): a new version
        even when the content hash is the same, only if that version is still the latest.
        A version after the first carries its change record (`changes` in post.json, its summary on the
        V# item): what changed since the previous version, read back with one GET of its post.json, the
        only read a new version costs. `trigger` (default: from the post's source, or `reprocessed`) is kept
        on the V# item. `recheck`: a fetched post's re-check schedule, written with its first version.
        """
        post_keys = keys.post_keys(post)
        claimed = self.records.claim_revision(post, revise) if revise is not None else self._claim(post)
        if claimed.duplicate:
            return SaveResult(status="duplicate", version=claimed.version, keys=claimed.keys or post_keys)
        if link_story and post.canonical_url in (None, post.url):  # a post naming another original keeps it
            post.story_id = self.stories.find_story(post) or post.story_id
        version = claimed.version
        archived_at = post.archived_at or now()
        previous = claimed.previous or {}
        aside = keys.version_keys(post_keys, version)

        trigger = trigger or ("reprocessed" if revise is not None else
                              "fetched" if post.source.get("kind") == "url" else "dropped")
        document = post.to_dict()
        document["version"] = version
        if version > 1:
            document["changes"] = self._change_record(post.id, document, claimed, trigger)
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        # The version in the page too: no two versions' pages have the same bytes (ETag), so an
        # If-Match on an older page can never overwrite a newer one that happens to look the same.
        page = f"{html.rstrip()}\n<!-- post {post.id} version {version} -->\n".encode()
        json_object = self.objects.publish(
            post_keys.json_key, body, "application/json", version=version, aside_key=aside.json_key,
            expected_etag=previous.get("json_etag") if previous.get("json_key") == post_keys.json_key else None)
        html_object = self.objects.publish(
            post_keys.html_key, page, "text/html; charset=utf-8", version=version, aside_key=aside.html_key,
            expected_etag=previous.get("html_etag") if previous.get("html_key") == post_keys.html_key else None)

        common = version_attributes(post, version, document, raw_key=raw_key, archived_at=archived_at,
                                    json_object=json_object, html_object=html_object)
        common["trigger"] = trigger
        current = json_object.current and html_object.current
        extra = [recheck_item(recheck)] if recheck is not None and version == 1 and current else []
        # The change summary goes on the V# item only: LATEST is written again with every version (a PutItem
        # billed by the KB), and `history` reads the V# items.
        changes = {"changes": summary(document["changes"])} if "changes" in document else {}
        common = self._put_version(post, version, {**common, **changes}, current=current, extra=extra)
        if current:
            self._mark_stored(post, version, {k: v for k, v in common.items() if k != "changes"})
        return SaveResult(status="archived", version=version,
                          keys=keys.stored_keys(common) or post_keys)

    def _change_record(self, post_id: str, document: dict[str, Any], claimed: Claim, trigger: str) -> dict[str, Any]:
        """What changed since the version before: its post.json (named by the LATEST item the claim replaced, or,
        for a claim resumed after a crash, by its V# item) compared with `document`. A previous version that
        cannot be read gives a record saying so, never a failed save: the new version is what matters."""
        version = document["version"]
        previous = claimed.previous or self.records.get_version(post_id, version - 1) or {}
        try:
            if not previous.get("json_key"):
                raise StoreError(f"version {version - 1} names no post.json")
            record = change_record(self.get_post_document(previous), document)
        except StoreError as exc:
            record = {"from_version": version - 1, "to_version": version, "flags": [], "unavailable": exc.message}
        return {**record, "trigger": trigger}

    # The steps of save_post, as methods so that tests can stop a save between them.
    def _claim(self, post: Post) -> Claim:
        return self.records.claim(post)

    def _put_version(self, post: Post, version: int, common: dict[str, Any], *, current: bool,
                     extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The V# item; with the story index items (and `extra` items) in the same call when the version is
        current."""
        if current:
            return self.records.put_version(post, version, common, [*band_items(post), *(extra or [])])
        return self.records.put_outdated_version(post, version, common)

    def _mark_stored(self, post: Post, version: int, common: dict[str, Any]) -> None:
        self.records.mark_stored(post, version, common)

    def get_post(self, post_id: str) -> dict[str, Any] | None:
        """The LATEST item of a post, as plain Python values."""
        return self.records.get_post(post_id)

    def get_posts(self, post_ids: list[str], attributes: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
        """The LATEST items of many posts (BatchGetItem, 100 a call), by id; absent ids are left out. With
        `attributes`, only those of each item."""
        return self.records.get_posts(post_ids, attributes)

    def list_versions(self, post_id: str) -> list[dict[str, Any]]:
        """The version items of a post, oldest first."""
        return self.records.list_versions(post_id)

    def post_timeline(self, post_id: str) -> PostTimeline:
        """A post's LATEST item, versions (oldest first), upstream events (oldest first) and re-check: one Query."""
        timeline = PostTimeline()
        for item in self.records.list_items(post_id):
            sk = item.get("sk", "")
            if sk == keys.LATEST:
                timeline.latest = item
            elif sk.startswith("V#"):
                timeline.versions.append(item)
            elif sk.startswith(keys.EVENT_PREFIX):
                timeline.events.append(item)
            elif sk == keys.RECHECK:
                timeline.recheck = item
        return timeline

    def list_site_posts(self, site: str, *, newest_first: bool = True,
                        limit: int | None = None) -> list[dict[str, Any]]:
        """A site's posts (LATEST items) by publication date, via the BySite index."""
        return self.records.list_site_posts(site, newest_first=newest_first, limit=limit)

    # ----------------------------------------------------------------- stories

    def find_story(self, post: Post) -> str | None:
        """The story_id of an archived post whose text is near-identical to this one's, if any."""
        return self.stories.find_story(post)

    def index_story(self, post: Post) -> None:
        """Make this post findable by later near-identical copies."""
        self.stories.index_story(post)

    def list_story_copies(self, story_id: str) -> list[dict[str, Any]]:
        """Every post (LATEST item) that is a copy of one story, oldest first."""
        return self.stories.list_story_copies(story_id)

    # ----------------------------------------------------------------- input outcomes

    def begin_input(self, origin: Origin, *, raw_key: str | None,
                    chunk: Chunk | None = None) -> dict[str, Any] | None:
        """Note that an attempt at an input starts (its raw bytes saved); returns the record it had before.

        Until the attempt records its outcome, the record says `pending`: a crash leaves it for retry.
        A record that holds a finished outcome is kept (`is_finished`); the attempt is counted.
        """
        return self.outcomes.begin(origin, raw_key=raw_key, chunk=chunk)

    def repeated_input(self, origin: Origin) -> dict[str, Any] | None:
        """The finished record of an input delivered again (the attempt counted), else None. Read before
        the inbox object is, so a redelivery costs one read and one write."""
        return self.outcomes.repeat(origin)

    def record_outcome(self, outcome: Outcome, *, received_at: str | None = None, begun: bool = False) -> None:
        """Record the outcome of one attempt at an input: the first finished outcome is kept, later ones
        are counted (`attempts`, `last_status`). `begun`: `begin_input` started this attempt."""
        self.outcomes.record(outcome, received_at=received_at, begun=begun)

    def get_outcome(self, bucket: str | None, key: str) -> dict[str, Any] | None:
        """The most recent outcome of an inbox object (`bucket=None`: `key` is a non-S3 origin URI)."""
        return self.outcomes.get(bucket, key)

    def list_chunk_outcomes(self, outcome: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunk outcomes of a fanned-out input (its outcome record as `get_outcome` returns it)."""
        return self.outcomes.list_chunks(outcome)

    def list_failures(self) -> list[dict[str, Any]]:
        """Every unfinished input or chunk record: failed, or pending (running, or crashed), oldest first."""
        return self.outcomes.list_failures()

    def list_input_records(self, input_key: str) -> list[dict[str, Any]]:
        """Every record of one input (each version, each chunk); `input_key` is `<bucket>/<key>` or a URI."""
        return self.outcomes.list_input(input_key)
