"""The change record of a new version: what changed from the previous stored version, and what it means.

Pure: two post documents (post.json, schema v1) in, one JSON-ready dict out. Flags:
- `edited`: the text or a compared field (title, dates, authors, canonical URL, tags, categories) changed;
- `retracted`: a retraction notice appeared (in the title or the text), or the text shrank to under
  SHRUNK_SHARE of the previous one (a page emptied to "this article is no longer available");
- `corrected`: a correction or an editor's note appeared. Kept apart from `retracted`: a corrected post
  still stands, and a reader told it was retracted would be misled.
`gone_upstream` is not a version's flag: a page that answers 404/410 gives no new version, it is an
event on the post (archiver.store.rechecks).
"""

from __future__ import annotations

from typing import Any

from archiver.changes.notices import find_notices
from archiver.changes.words import MAX_SPANS, word_diff

SCALAR_FIELDS = ("title", "published_at", "updated_at", "canonical_url")
LIST_FIELDS = ("authors", "tags", "categories")
# Compared only to say that they changed (a re-normalized page, a new lead image...).
OTHER_FIELDS = ("url", "status", "excerpt", "language", "image", "content_html", "links")
SHRUNK_SHARE = 0.2  # a text under a fifth of the previous one...
SHRUNK_MIN_WORDS = 50  # ...when the previous one had at least this many words
MAX_LIST_ITEMS = 50  # of each list field's values recorded


def change_record(previous: dict[str, Any], new: dict[str, Any], *, max_spans: int = MAX_SPANS) -> dict[str, Any]:
    """What changed from the `previous` post document to the `new` one (see the module docstring)."""
    fields: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        if previous.get(name) != new.get(name):
            fields[name] = {"old": previous.get(name), "new": new.get(name)}
    for name in LIST_FIELDS:
        old, now = list(previous.get(name) or []), list(new.get(name) or [])
        if old != now:
            fields[name] = {"old": old[:MAX_LIST_ITEMS], "new": now[:MAX_LIST_ITEMS],
                            "added": [v for v in now if v not in old][:MAX_LIST_ITEMS],
                            "removed": [v for v in old if v not in now][:MAX_LIST_ITEMS]}
    text = word_diff(previous.get("text") or "", new.get("text") or "", max_spans=max_spans)
    before = find_notices(previous.get("text") or "", previous.get("title") or "")
    notices = [{"kind": kind, "text": paragraph}
               for kind, paragraph in find_notices(new.get("text") or "", new.get("title") or "")
               if (kind, paragraph) not in before]
    retracted_by = []
    if any(n["kind"] == "retraction" for n in notices):
        retracted_by.append("notice")
    if _shrunk(text["words_before"], text["words_after"]):
        retracted_by.append("shrinkage")
    flags = []
    if fields or text["inserted"] or text["deleted"]:
        flags.append("edited")
    if retracted_by:
        flags.append("retracted")
    if any(n["kind"] != "retraction" for n in notices):
        flags.append("corrected")
    record: dict[str, Any] = {
        "from_version": previous.get("version"),
        "to_version": new.get("version"),
        "flags": flags,
        "fields": fields,
        "other_fields": [name for name in OTHER_FIELDS if previous.get(name) != new.get(name)],
        "text": text,
        "notices": notices,
    }
    if retracted_by:
        record["retracted_by"] = retracted_by
    return record


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """The compact form kept on the version's table item: word counts, and what is not empty of the flags, the
    names of the fields changed and the notice kinds; `from_version` only when it is not the version before.
    Compact because every version's item is billed by the KB."""
    text = record.get("text") or {}
    compact: dict[str, Any] = {"inserted": text.get("inserted", 0), "deleted": text.get("deleted", 0)}
    listed = {"flags": list(record.get("flags") or []), "fields": sorted(record.get("fields") or {}),
              "notices": sorted({n["kind"] for n in record.get("notices") or []})}
    compact.update({name: values for name, values in listed.items() if values})
    if record.get("from_version") is not None and record.get("from_version") != (record.get("to_version") or 0) - 1:
        compact["from_version"] = record["from_version"]
    if record.get("unavailable"):
        compact["unavailable"] = True
    return compact


def _shrunk(words_before: int, words_after: int) -> bool:
    return words_before >= SHRUNK_MIN_WORDS and words_after < SHRUNK_SHARE * words_before
