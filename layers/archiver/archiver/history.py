"""A post's history for a reader: its versions (when, what made each, what changed) and what happened to it
upstream, and the diff of any two of its versions. Library functions over the store, for the CLI
(`archiver posts history|diff`, archiver.cli_posts) and any other caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.changes import change_record
from archiver.errors import ArchiverError

if TYPE_CHECKING:
    from archiver.store import ArchiveStore

DIFF_SPANS = 200  # changed spans a diff lists (a version's own change record keeps 20)


class PostNotFound(ArchiverError):
    code = "post_not_found"
    stage = "history"


class VersionNotFound(ArchiverError):
    code = "version_not_found"
    stage = "history"


def history(store: ArchiveStore, post_id: str) -> list[dict[str, Any]]:
    """Every version of a post and every upstream event, oldest first (one Query).

    A version: `{"kind": "version", "version", "at", "trigger", "flags", "changes"}` (`changes`: the summary of
    its change record, None for version 1); an event: `{"kind": "gone_upstream" | "back_upstream", "at",
    "http_status", "url", "version", "flags"}`. Raises PostNotFound for an id with no versions.
    """
    timeline = store.post_timeline(post_id)
    if not timeline.versions:
        raise PostNotFound(f"no archived post {post_id}")
    entries = [{"kind": "version", "version": item["version"], "at": item.get("archived_at"),
                "trigger": item.get("trigger"), "flags": list((item.get("changes") or {}).get("flags") or []),
                "changes": item.get("changes"), "content_sha256": item.get("content_sha256")}
               for item in timeline.versions]
    entries += [{"kind": item["event"], "at": item.get("at"), "http_status": item.get("http_status"),
                 "url": item.get("url"), "version": item.get("version"),
                 "flags": ["gone_upstream"] if item["event"] == "gone_upstream" else []}
                for item in timeline.events]
    # Both kinds of time are ISO 8601 UTC: their first 19 characters (to the second) sort; within a second a
    # version goes first, and each kind keeps the store's order (versions by number, events by check).
    return sorted(entries, key=lambda e: ((e["at"] or "")[:19], e["kind"] != "version"))


def diff(store: ArchiveStore, post_id: str, a: int, b: int, *, max_spans: int = DIFF_SPANS) -> dict[str, Any]:
    """What changed from version `a` to version `b` of a post (either order): the change record of the pair,
    the text diffed word by word (see archiver.changes). Reads their two post.json documents."""
    versions = {item["version"]: item for item in store.list_versions(post_id)}
    if not versions:
        raise PostNotFound(f"no archived post {post_id}")
    documents = [_document(store, post_id, versions, number) for number in (a, b)]
    record = change_record(*documents, max_spans=max_spans)
    return {"post_id": post_id, **record, "from_version": a, "to_version": b,
            "from_archived_at": versions[a].get("archived_at"), "to_archived_at": versions[b].get("archived_at")}


def _document(store: ArchiveStore, post_id: str, versions: dict[int, dict[str, Any]], number: int) -> dict[str, Any]:
    item = versions.get(number)
    if item is None:
        known = ", ".join(map(str, sorted(versions)))
        raise VersionNotFound(f"post {post_id} has no version {number} (it has {known})")
    document = store.get_post_document(item)
    if document.get("version") != number:  # named without an S3 version id, and replaced since
        raise VersionNotFound(f"version {number} of post {post_id} is no longer kept (its post.json holds version "
                              f"{document.get('version')})")
    return document
