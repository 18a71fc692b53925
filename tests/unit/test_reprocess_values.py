"""archiver.reprocess and the events of its state machine: the parts that need no AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.errors import ArchiverError
from archiver.events import event_kind, raw_keys_in_batch, reprocess_options
from archiver.ids import VOLATILE_FIELDS, output_sha256
from archiver.reprocess import Options, ReprocessReport, origin_from_metadata, parse_since


def batch(items: list[dict], **options) -> dict:
    return {"Items": items, "BatchInput": {"action": "reprocess", "options": options}}


def test_a_distributed_map_batch_is_a_reprocess_event() -> None:
    assert event_kind(batch([{"Key": "raw/aa/a"}])) == "reprocess"
    assert event_kind({"Items": [{"Key": "raw/aa/a"}]}) == "unknown"  # a batch from another map


def test_a_batch_names_only_raw_objects_and_filters_by_last_modified() -> None:
    event = batch([{"Key": "raw/aa/old", "LastModified": 1_700_000_000},  # 2023-11-14
                   {"Key": "raw/bb/new", "LastModified": "2025-06-01T00:00:00.000Z"},
                   {"Key": "posts/x/post.json", "LastModified": 1_800_000_000}], since="2024-01-01")

    assert raw_keys_in_batch(event) == ["raw/aa/old", "raw/bb/new"]
    assert raw_keys_in_batch(event, parse_since("2024-01-01")) == ["raw/bb/new"]
    assert reprocess_options(event) == {"since": "2024-01-01"}


def test_options_from_a_state_machine_input() -> None:
    options = Options.from_event({"since": "2026-01-31T12:00:00Z", "site": "", "dry_run": True})
    assert options == Options(since=datetime(2026, 1, 31, 12, tzinfo=UTC), site=None, dry_run=True)
    with pytest.raises(ArchiverError) as invalid:
        Options.from_event({"since": "last week"})
    assert invalid.value.code == "invalid_since"


def test_the_output_digest_ignores_only_what_every_run_changes() -> None:
    document = {"id": "x", "title": "T", "text": "body", "archived_at": "2026-01-01T00:00:00+00:00", "version": 1,
                "normalizer_version": "1.0.0"}
    rerun = {**document, "archived_at": "2027-01-01T00:00:00+00:00", "version": 3, "normalizer_version": "2.0.0"}

    assert {"archived_at", "version", "normalizer_version"} == VOLATILE_FIELDS
    assert output_sha256(rerun) == output_sha256(document)
    assert output_sha256({**document, "text": "body!"}) != output_sha256(document)
    assert output_sha256(dict(reversed(document.items()))) == output_sha256(document)  # key order is not output


def test_the_origin_comes_back_from_the_raw_objects_metadata() -> None:
    origin, name = origin_from_metadata("raw/ab/abc", {"origin-uri": "s3://inbox/feeds/caf%C3%A9%20news.xml",
                                                       "original-name": "caf%C3%A9%20news.xml"})
    assert (origin.kind, origin.uri, origin.bucket, origin.key, name) == (
        "s3", "s3://inbox/feeds/café news.xml", "inbox", "feeds/café news.xml", "café news.xml")
    assert origin_from_metadata("raw/ab/abc", {"origin-uri": "https://example.com/feed"})[0].kind == "url"
    assert origin_from_metadata("raw/ab/abc", {"origin-uri": "/home/me/post.md"})[0].kind == "file"
    assert origin_from_metadata("raw/ab/abc", {})[1] == "abc"  # no metadata: the key names it


def test_reports_add_up_and_keep_a_bounded_list_of_failures() -> None:
    total = ReprocessReport()
    for i in range(80):
        part = ReprocessReport(inputs=1)
        part.count("unchanged")
        part.fail(f"raw/{i}", ArchiverError("bad", code="parse_error", stage="parse"))
        total.merge(part)

    assert (total.inputs, total.unchanged, total.failed, len(total.failures)) == (80, 80, 80, 50)
