"""`archiver reprocess` over the embedded local AWS: an archive of 1,000 posts, then a normalizer change.

The small archives are built the ordinary way (RSS feeds through `archive_input`), so their originals,
outcomes and post records are those a real run leaves. The 1,000-post archive is put straight into the
store: the originals saved as `archive_input` saves them, each post's V#1 and LATEST items built by the
store's own item builders and written 25 at a time, without post.json and index.html (re-processing
reads neither: it compares output digests), so that it costs seconds, not a minute of moto calls.
A normalizer change is then simulated by patching one step of `archiver.normalize` so that exactly the
posts whose title holds a marker come out differently; re-processing must write a new version of those
and of no other.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest

from archiver import normalize as normalize_module
from archiver.model import Input, Origin
from archiver.pipeline import archive_input, normalize_input
from archiver.reprocess import Options, reprocess
from archiver.store import ArchiveStore, keys
from archiver.store.facade import version_attributes
from archiver.store.objects import Published
from archiver.store.records import latest_item, version_item

FEEDS = 4
POSTS_PER_FEED = 250
MARKER = "[fix]"
MARKED_EVERY = 10  # post n is marked when n % 10 == 3: 100 of 1,000


def feed(site: str, first: int, count: int) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for n in range(first, first + count):
        title = f"Story {n} {MARKER}" if n % MARKED_EVERY == 3 else f"Story {n}"
        items.append(
            f"<item><title>{escape(title)}</title><link>https://{site}/posts/story-{n}</link>"
            f"<guid>https://{site}/posts/story-{n}</guid>"
            f"<pubDate>{format_datetime(start + timedelta(hours=n))}</pubDate>"
            f"<description>{escape(f'<p>Body of story {n}: a few words about item {n}, for the archive.</p>')}"
            "</description></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{site}</title>'
            f"<link>https://{site}/</link><description>test</description><language>en</language>"
            + "".join(items) + "</channel></rss>").encode()


def sites(feeds: int = FEEDS) -> list[str]:
    return [f"site{i}.example" for i in range(feeds)]


def build_archive(aws, feeds: int, posts_per_feed: int) -> tuple[ArchiveStore, dict[str, list[str]]]:
    """`feeds` feeds of `posts_per_feed` posts archived as inbox drops; the store and each site's post ids."""
    resources = aws.resources
    store = ArchiveStore(aws.client("s3"), aws.client("dynamodb"),
                         archive_bucket=resources.archive_bucket, table_name=resources.table_name)
    ids = {}
    for i, site in enumerate(sites(feeds)):
        key = f"feeds/{site}.xml"
        origin = Origin("s3", f"s3://{resources.inbox_bucket}/{key}", resources.inbox_bucket, key)
        outcome = archive_input(Input(data=feed(site, i * posts_per_feed, posts_per_feed), name=key, origin=origin),
                                store)
        assert outcome.status == "archived", outcome.error
        ids[site] = outcome.post_ids
    assert sum(map(len, ids.values())) == feeds * posts_per_feed
    return store, ids


def put_archive(aws, feeds: int, posts_per_feed: int) -> tuple[ArchiveStore, dict[str, list[str]]]:
    """The archive `build_archive` makes, put straight into the store: originals, V#1 and LATEST items."""
    resources = aws.resources
    store = ArchiveStore(aws.client("s3"), aws.client("dynamodb"),
                         archive_bucket=resources.archive_bucket, table_name=resources.table_name)
    ids, items = {}, []
    for i, site in enumerate(sites(feeds)):
        key = f"feeds/{site}.xml"
        origin = Origin("s3", f"s3://{resources.inbox_bucket}/{key}", resources.inbox_bucket, key)
        item = Input(data=feed(site, i * posts_per_feed, posts_per_feed), name=key, origin=origin)
        raw_key = store.save_raw(item)
        posts = normalize_input(item)
        for post in posts:
            document = post.to_dict()
            post_keys = keys.post_keys(post)
            common = version_attributes(
                post, 1, document, raw_key=raw_key, archived_at=post.archived_at,
                json_object=Published(post_keys.json_key, None, None, current=True),
                html_object=Published(post_keys.html_key, None, None, current=True))
            items += [version_item(post, 1, common), latest_item(post, common)]
        ids[site] = [post.id for post in posts]
    store.records._table.batch_put(items, "put the archive")
    assert sum(map(len, ids.values())) == feeds * posts_per_feed
    return store, ids


@pytest.fixture
def archive(clean_aws) -> Iterator[tuple[ArchiveStore, dict[str, list[str]]]]:
    """1,000 archived posts in four feeds of 250."""
    yield put_archive(clean_aws, FEEDS, POSTS_PER_FEED)


@pytest.fixture
def small_archive(clean_aws) -> Iterator[tuple[ArchiveStore, dict[str, list[str]]]]:
    """40 archived posts in two feeds of 20."""
    yield build_archive(clean_aws, 2, 20)


def marked_title(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "improved" normalizer: titles holding the marker lose it (a change of the content hash)."""
    original = normalize_module._title

    def title(*args, **kwargs):
        text = original(*args, **kwargs)
        return text.replace(MARKER, "").strip() if MARKER in text else text

    monkeypatch.setattr(normalize_module, "_title", title)


def versions(store: ArchiveStore, post_ids: list[str]) -> dict[str, int]:
    latest = store.get_posts(post_ids)
    assert set(latest) == set(post_ids)
    return {post_id: int(item["version"]) for post_id, item in latest.items()}


def test_reprocess_rewrites_exactly_the_posts_whose_output_changed(archive, monkeypatch) -> None:
    store, ids = archive
    all_ids = [post_id for site in sites() for post_id in ids[site]]
    marked = {post_id for post_id, item in store.get_posts(all_ids).items() if MARKER in item["title"]}
    assert len(marked) == 100

    unchanged_run = reprocess(store, Options())
    assert unchanged_run.to_dict() | {"failures": []} == {
        "inputs": FEEDS, "renormalized": 0, "unchanged": 1000, "skipped": 0, "failed": 0, "dry_run": False,
        "renormalized_ids": [], "failures": []}, unchanged_run.failures

    marked_title(monkeypatch)
    dry = reprocess(store, Options(dry_run=True))
    assert (dry.renormalized, dry.unchanged, dry.failed) == (100, 900, 0)
    assert set(versions(store, all_ids).values()) == {1}  # a dry run writes nothing

    report = reprocess(store, Options())

    assert (report.inputs, report.renormalized, report.unchanged, report.skipped, report.failed) == (4, 100, 900, 0, 0)
    after = versions(store, all_ids)
    assert {post_id for post_id, version in after.items() if version == 2} == marked
    assert {post_id for post_id, version in after.items() if version == 1} == set(all_ids) - marked
    one = sorted(marked)[0]
    latest = store.get_post(one)
    assert MARKER not in latest["title"]
    assert [item["version"] for item in store.list_versions(one)] == [1, 2]
    document = store.get_post_document(latest)
    assert document["version"] == 2 and MARKER not in document["title"]
    assert latest["normalizer_version"] == normalize_module.NORMALIZER_VERSION

    again = reprocess(store, Options())  # the archive now holds the new normalizer's output
    assert (again.renormalized, again.unchanged, again.failed) == (0, 1000, 0)


def test_site_and_since_select_what_is_reprocessed(small_archive, monkeypatch) -> None:
    store, _ = small_archive
    marked_title(monkeypatch)

    one_site = reprocess(store, Options(site=sites()[1], dry_run=True))
    assert (one_site.inputs, one_site.renormalized, one_site.unchanged) == (1, 2, 18)  # posts 23 and 33
    everything = reprocess(store, Options(since=datetime.now(UTC) - timedelta(days=1), dry_run=True))
    assert (everything.inputs, everything.renormalized, everything.unchanged) == (2, 4, 36)

    future = reprocess(store, Options(since=datetime.now(UTC) + timedelta(days=1), dry_run=True))
    assert future.inputs == 0


def test_a_change_outside_the_content_hash_is_a_new_version_too(small_archive, monkeypatch) -> None:
    """Text, word counts, language... are not in content_sha256; their change still makes a version."""
    store, ids = small_archive
    original = normalize_module.analyze

    def analyze(content_html):
        content = original(content_html)
        if "story 7:" in content.text:  # exactly one post: "Body of story 7: ..."
            return dataclasses.replace(content, text=content.text + " Newly extracted words.")
        return content

    monkeypatch.setattr(normalize_module, "analyze", analyze)
    post_id = ids[sites()[0]][7]
    before = store.get_post(post_id)

    report = reprocess(store, Options())

    assert (report.renormalized, report.unchanged, report.failed) == (1, 39, 0), [f["message"] for f in report.failures]
    assert report.renormalized_ids == [post_id]
    after = store.get_post(post_id)
    assert after["content_sha256"] == before["content_sha256"] and after["version"] == 2
    assert store.get_post_document(after)["text"] == store.get_post_document(before)["text"] + " Newly extracted words."


def test_an_older_input_does_not_bring_back_an_older_version(clean_aws) -> None:
    """A post whose current version came from a later feed snapshot is skipped in the older snapshot."""
    resources = clean_aws.resources
    store = ArchiveStore(clean_aws.client("s3"), clean_aws.client("dynamodb"),
                         archive_bucket=resources.archive_bucket, table_name=resources.table_name)
    old = feed("s.example", 0, 2)
    new = old.replace(b"Body of story 1:", b"Edited body of story 1:")
    outcomes = []
    for version, data in (("v1", old), ("v2", new)):  # two versions of one inbox object
        origin = Origin("s3", f"s3://{resources.inbox_bucket}/f.xml", resources.inbox_bucket, "f.xml", version)
        outcomes.append(archive_input(Input(data=data, name="f.xml", origin=origin), store))
    assert [o.status for o in outcomes] == ["archived", "archived"]
    assert store.get_post(outcomes[1].post_ids[1])["version"] == 2

    report = reprocess(store, Options())

    assert (report.inputs, report.renormalized, report.unchanged, report.skipped) == (2, 0, 2, 2)
    edited = store.get_post(outcomes[1].post_ids[1])
    assert edited["version"] == 2  # still the edited version, not the old text again
    assert "Edited body" in store.get_post_document(edited)["content_html"]


def test_a_bad_original_is_counted_as_failed_not_raised(clean_aws) -> None:
    resources = clean_aws.resources
    store = ArchiveStore(clean_aws.client("s3"), clean_aws.client("dynamodb"),
                         archive_bucket=resources.archive_bucket, table_name=resources.table_name)
    origin = Origin("s3", f"s3://{resources.inbox_bucket}/x.bin", resources.inbox_bucket, "x.bin")
    outcome = archive_input(Input(data=b"\x00\x01 not a post", name="x.bin", origin=origin), store)
    assert outcome.status == "failed"

    report = reprocess(store, Options())

    assert (report.inputs, report.failed) == (1, 1)
    assert report.failures[0]["raw_key"] == outcome.raw_key
    assert report.failures[0]["code"] == outcome.error.code


def test_the_command_reprocesses_the_configured_archive(clean_aws, monkeypatch, capsys) -> None:
    from archiver.cli import main

    resources = clean_aws.resources
    _, ids = build_archive(clean_aws, 1, 12)
    monkeypatch.setenv("TABLE_NAME", resources.table_name)
    monkeypatch.setenv("ARCHIVE_BUCKET", resources.archive_bucket)
    marked_title(monkeypatch)  # of posts 0-11, only post 3 is marked

    assert main(["reprocess", "--dry-run", "--site", sites(1)[0]]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["inputs"], dry["renormalized"], dry["unchanged"], dry["dry_run"]) == (1, 1, 11, True)
    assert main(["reprocess"]) == 0
    assert json.loads(capsys.readouterr().out)["renormalized_ids"] == [ids[sites(1)[0]][3]]
    assert main(["reprocess", "--since", "yesterday"]) == 2
    assert "invalid_since" in capsys.readouterr().err
    assert main(["reprocess", "--on-aws"]) == 2  # the state machine is a deployed stack's
    assert "--on-aws needs --stack" in capsys.readouterr().err


def test_a_revision_of_a_version_no_longer_latest_is_refused(clean_aws) -> None:
    """A version written between reading LATEST and writing the revision wins; the revision is refused."""
    from archiver.errors import StoreError
    from archiver.pipeline import normalize_input
    from archiver.render import render_post_html

    store, ids = build_archive(clean_aws, 1, 2)
    resources = clean_aws.resources
    key = f"feeds/{sites(1)[0]}.xml"
    origin = Origin("s3", f"s3://{resources.inbox_bucket}/{key}", resources.inbox_bucket, key)
    post = normalize_input(Input(data=feed(sites(1)[0], 0, 2), name=key, origin=origin))[0]
    post.text += " revised"
    raw_key = store.get_post(post.id)["raw_key"]

    assert store.save_post(post, raw_key, render_post_html(post), revise=1).version == 2
    with pytest.raises(StoreError) as refused:
        store.save_post(post, raw_key, render_post_html(post), revise=1)  # version 1 is no longer the latest

    assert refused.value.code == "post_changed"
    assert [item["version"] for item in store.list_versions(post.id)] == [1, 2]
    assert post.id == ids[sites(1)[0]][0]
