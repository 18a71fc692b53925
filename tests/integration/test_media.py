"""Posts archived with their images, over the embedded local AWS as deployed: inbox -> handler -> media job on
the fetch queue -> images in media/, the page pointing at them. Images come from a local HTTP server (the
web) and from the files of a dropped bundle; a post is never failed for its media."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import pytest
from local_http import LocalHTTPServer, Reply
from lxml import html as lxml_html

from archiver.local.runner import LocalFunction
from archiver.store import ArchiveStore

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def png(width: int, height: int = 1, shade: int = 0) -> bytes:
    """A valid PNG of the given size (distinct `shade`s make distinct files)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([shade % 256, 0, 0]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
SCRIPTED_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4"/></svg>'


@pytest.fixture
def function(clean_aws, monkeypatch) -> LocalFunction:
    monkeypatch.setenv("REMOTE_MEDIA", "true")
    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    monkeypatch.setenv("MEDIA_MAX_BYTES", str(64 * 1024))
    return LocalFunction(clean_aws, clean_aws.resources)


@pytest.fixture
def web() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as server:
        server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private/\n"))
        yield server


def drop(aws, function: LocalFunction, key: str, data: bytes) -> dict[str, Any]:
    """Drop a file into the inbox and run the deployed wiring: inbox queue, then the media jobs."""
    aws.client("s3").put_object(Bucket=aws.resources.inbox_bucket, Key=key, Body=data)
    function.drain_queue()
    function.drain_queue(queue_url=aws.resources.fetch_queue_url, batch_size=1)
    return function.store.get_outcome(aws.resources.inbox_bucket, key)


def document_of(store: ArchiveStore, post_id: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    latest = store.get_post(post_id)
    document = store.get_post_document(latest)
    s3 = store._s3
    page = s3.get_object(Bucket=store.archive_bucket, Key=latest["html_key"])["Body"].read().decode()
    return document, page, latest


def page_images(page: str) -> list[str]:
    return [img.get("src") for img in lxml_html.document_fromstring(page).iter("img")]


def test_a_post_with_50_images_of_which_10_fail_is_archived_with_40_images_and_10_recorded_failures(
        clean_aws, function, web) -> None:
    images = []
    for n in range(39):
        web.route(f"/img/ok-{n}.png", Reply(body=png(10 + n, 2, n), headers={"Content-Type": "image/png"}))
        images.append(f"/img/ok-{n}.png")
    web.route("/img/drawing.svg", Reply(body=SAFE_SVG, headers={"Content-Type": "image/svg+xml"}))
    images.append("/img/drawing.svg")
    missing = [f"/img/missing-{n}.png" for n in range(6)]  # 404 for now
    web.route("/img/page.png", Reply(body=b"<html><body>Not an image</body></html>",
                                     headers={"Content-Type": "image/png"}))
    web.route("/img/scripted.svg", Reply(body=SCRIPTED_SVG, headers={"Content-Type": "image/svg+xml"}))
    web.route("/img/huge.png", Reply(body=png(4000, 40), content_length=2 * 1024**3,
                                     headers={"Content-Type": "image/png"}))
    web.route("/private/secret.png", Reply(body=png(3), headers={"Content-Type": "image/png"}))
    images += [*missing, "/img/page.png", "/img/scripted.svg", "/img/huge.png", "/private/secret.png"]
    body = "\n\n".join(f"Paragraph {n} of the story.\n\n![Picture {n}]({web.url(path)})"
                       for n, path in enumerate(images))
    post = f"---\ntitle: Fifty pictures\ndate: 2024-05-01\nurl: {web.url('/fifty/')}\n---\n{body}\n".encode()

    outcome = drop(clean_aws, function, "posts/fifty.md", post)

    assert outcome["status"] == "archived"  # the post, whatever became of its images
    store = function.store
    document, page, latest = document_of(store, outcome["post_ids"][0])
    by_status: dict[str, list[dict[str, Any]]] = {}
    for image in document["images"]:
        by_status.setdefault(image.get("status", "none"), []).append(image)
    assert len(by_status["archived"]) == 40 and len(by_status["failed"]) == 10
    codes = sorted(image["error"]["code"] for image in by_status["failed"])
    assert codes == sorted(["http_error"] * 6 + ["not_an_image", "unsafe_svg", "too_large", "robots_disallowed"])
    assert latest["media"] == {"archived": 40, "failed": 10} and latest["version"] == 1  # no new version
    # Each archived image is stored once, content-addressed, and the page points at it relatively.
    s3 = clean_aws.client("s3")
    first = by_status["archived"][0]
    assert first["archived"].startswith("media/") and first["content_type"] == "image/png"
    assert (first["width"], first["height"]) == (10, 2)
    stored = s3.get_object(Bucket=store.archive_bucket, Key=first["archived"])
    assert stored["ContentType"] == "image/png" and stored["Body"].read() == png(10, 2, 0)
    svg = next(image for image in by_status["archived"] if image["src"].endswith(".svg"))
    assert s3.head_object(Bucket=store.archive_bucket, Key=svg["archived"])["ContentType"] == "image/svg+xml"
    folder = PurePosixPath(latest["html_key"]).parent
    sources = page_images(page)
    archived_sources = [s for s in sources if not s.startswith("http")]
    assert len(archived_sources) == 40
    assert all(str(PurePosixPath(folder, s)).replace("posts/", "", 1) for s in archived_sources)
    assert all(_resolves(folder, s).startswith("media/") for s in archived_sources)
    assert not any("scripted.svg" in s and not s.startswith("http") for s in sources)  # never served as SVG
    assert web.hits("/img/huge.png") == 1
    # `archiver failures` lists the media record; after the missing images appear, a retry fetches them.
    failures = [r for r in store.list_failures() if r.get("origin_kind") == "media"]
    assert len(failures) == 1 and failures[0]["error"]["code"] == "media_failed"
    assert failures[0]["images_failed"] == 10
    for path in missing:
        web.route(path, Reply(body=png(7, 7, hash(path) % 200), headers={"Content-Type": "image/png"}))
    from archiver import retry
    from archiver.config import Settings

    retried = retry.retry(failures[0], store, s3=s3, settings=Settings.from_env(), default_tz=None)
    assert retried.status == "failed"  # four are for good not images
    document, page, latest = document_of(store, outcome["post_ids"][0])
    assert sum(image.get("status") == "archived" for image in document["images"]) == 46
    assert latest["media"] == {"archived": 46, "failed": 4}
    assert sum(web.hits(f"/img/ok-{n}.png") for n in range(39)) == 39  # archived ones are not fetched again


def _resolves(folder: PurePosixPath, relative: str) -> str:
    parts = list(folder.parts)
    for part in relative.split("/"):
        if part == "..":
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def hugo_site() -> bytes:
    files = {
        "blog/config.toml": b'baseURL = "https://blog.example/"\ntitle = "Blog"\n',
        "blog/content/post/first.md": b"---\ntitle: First\ndate: 2024-04-01\n---\nA post with a picture.\n\n"
                                      b"![Harbour](/img/harbour.png)\n\nAnd the end of it.\n",
        "blog/content/post/second/index.md": b"---\ntitle: Second\ndate: 2024-04-02\n---\nA page bundle.\n\n"
                                             b"![Beside](beside.png)\n",
        "blog/content/post/second/beside.png": png(30, 20, 7),
        "blog/static/img/harbour.png": png(60, 40, 9),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_dropped_site_bundle_takes_its_images_from_its_own_files(clean_aws, monkeypatch) -> None:
    monkeypatch.setenv("REMOTE_MEDIA", "false")  # the bundle holds them: no network needed
    function = LocalFunction(clean_aws, clean_aws.resources)

    outcome = drop(clean_aws, function, "sites/blog.zip", hugo_site())

    assert outcome["status"] == "archived" and len(outcome["post_ids"]) == 2
    pictures = {}
    for post_id in outcome["post_ids"]:
        document, page, latest = document_of(function.store, post_id)
        [image] = document["images"]
        assert image["status"] == "archived", image
        pictures[document["title"]] = (image["bundle_path"], image["width"], image["height"])
        assert _resolves(PurePosixPath(latest["html_key"]).parent, page_images(page)[0]) == image["archived"]
    assert pictures == {"First": ("blog/static/img/harbour.png", 60, 40),
                        "Second": ("blog/content/post/second/beside.png", 30, 20)}
    assert not [r for r in function.store.list_failures() if r.get("origin_kind") == "media"]
    document, _, _ = document_of(function.store, outcome["post_ids"][0])
    assert not [w for w in document["warnings"] if ".png" in w]  # its images are media, not skipped entries


def test_the_media_job_of_a_version_no_longer_current_leaves_it_alone(clean_aws, function, web) -> None:
    web.route("/a.png", Reply(body=png(5), headers={"Content-Type": "image/png"}))
    first = f"---\ntitle: Changing\ndate: 2024-05-02\nurl: {web.url('/c/')}\n---\nOne ![a]({web.url('/a.png')})\n"
    second = first.replace("One", "Two")
    s3 = clean_aws.client("s3")
    s3.put_object(Bucket=clean_aws.resources.inbox_bucket, Key="c1.md", Body=first.encode())
    function.drain_queue()
    s3.put_object(Bucket=clean_aws.resources.inbox_bucket, Key="c2.md", Body=second.encode())
    function.drain_queue()
    function.drain_queue(queue_url=clean_aws.resources.fetch_queue_url, batch_size=1)
    post_id = function.store.get_outcome(clean_aws.resources.inbox_bucket, "c2.md")["post_ids"][0]
    document, _, latest = document_of(function.store, post_id)
    assert latest["version"] == 2 and document["version"] == 2
    assert document["images"][0]["status"] == "archived" and "Two" in document["text"]
    [first_version, _] = function.store.list_versions(post_id)
    assert "media" not in first_version  # its job found the keys taken by version 2 and attached nothing there


def test_reprocess_archives_the_media_of_posts_archived_before_without_new_versions(clean_aws, function, web) -> None:
    from archiver.media.job import SqsMediaQueue
    from archiver.model import Input
    from archiver.model import Origin as InputOrigin
    from archiver.pipeline import archive_input
    from archiver.reprocess import Options, reprocess

    web.route("/old.png", Reply(body=png(12, 3, 1), headers={"Content-Type": "image/png"}))
    text = f"---\ntitle: Older\ndate: 2023-01-01\nurl: {web.url('/older/')}\n---\nOld ![o]({web.url('/old.png')})\n"
    store = function.store
    outcome = archive_input(Input(data=text.encode(), name="older.md", origin=InputOrigin("file", "older.md")),
                            store)  # as before media jobs existed: none queued
    [post_id] = outcome.post_ids
    assert "media" not in store.get_post(post_id)

    queue = SqsMediaQueue(clean_aws.client("sqs"), clean_aws.resources.fetch_queue_url)
    report = reprocess(store, Options(), media=queue)
    function.drain_queue(queue_url=clean_aws.resources.fetch_queue_url, batch_size=1)

    assert (report.renormalized, report.unchanged) == (0, 1)
    document, page, latest = document_of(store, post_id)
    assert latest["version"] == 1 and latest["media"] == {"archived": 1, "failed": 0}
    assert document["images"][0]["status"] == "archived" and not page_images(page)[0].startswith("http")
    again = reprocess(store, Options(), media=queue)  # done: nothing queued again
    assert again.unchanged == 1
    assert not clean_aws.client("sqs").receive_message(QueueUrl=clean_aws.resources.fetch_queue_url).get("Messages")
