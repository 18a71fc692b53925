"""Archived pages with their images, seen in a real browser (headless Chromium through Playwright): a dropped
Hugo post whose images are on the web, an extracted news page, and a site bundle with its media folder, each
archived through the local stack as deployed, then exported and opened from disk. Every image shows, and not
one request leaves the archive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from local_http import LocalHTTPServer, Reply
from test_media import drop, hugo_site, png

from archiver.local.runner import LocalFunction, export_bucket

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="BROWSER TESTS SKIPPED: Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")

LEAD = ("A long first paragraph of the harbour story, about the strike that ended on Tuesday after nine days "
        "of talks between the union and the port, and what it means for the ferries. ")


def news_page(web: LocalHTTPServer) -> bytes:
    paragraphs = "".join(f"<p>{LEAD}Paragraph {n}.</p>" for n in range(6))
    return f"""<!doctype html><html lang="en"><head><title>Strike ends at the harbour</title>
<link rel="canonical" href="{web.url('/news/strike.html')}">
<meta property="og:image" content="{web.url('/photos/lead.png')}"></head>
<body><header><img src="{web.url('/assets/logo.png')}" alt="The Gazette"><nav><a href="/">Home</a></nav></header>
<article><h1>Strike ends at the harbour</h1>
<figure><img src="data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
 data-src="/photos/lead.png" alt="Pickets at dawn"><figcaption>Pickets at dawn.</figcaption></figure>
{paragraphs}<figure><picture><source srcset="/photos/quay-800.png 800w, /photos/quay-400.png 400w">
<img src="/photos/quay-400.png" alt="The quay"></picture></figure>{paragraphs}</article>
<aside class="related"><img src="{web.url('/photos/other-story.png')}"><a href="/other">Other story</a></aside>
</body></html>""".encode()


@pytest.fixture
def archive_folder(clean_aws, monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("REMOTE_MEDIA", "true")
    monkeypatch.setenv("FETCH_UNSAFE_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FETCH_HOST_DELAY", "0")
    function = LocalFunction(clean_aws, clean_aws.resources)
    with LocalHTTPServer() as web:
        for path, size in (("/photos/lead.png", (64, 40)), ("/photos/quay-800.png", (80, 50)),
                           ("/photos/quay-400.png", (40, 25)), ("/img/fem/example_1.png", (30, 30)),
                           ("/img/fem/example_2.png", (31, 20)), ("/assets/logo.png", (20, 20)),
                           ("/photos/other-story.png", (22, 22))):
            web.route(path, Reply(body=png(*size, shade=len(path)), headers={"Content-Type": "image/png"}))
        hugo_post = (f"---\ntitle: Women in maths\ndate: 2024-05-03\nurl: {web.url('/post/fem/')}\n---\n"
                     "Two figures:\n\n![First](/img/fem/example_1.png)\n\nand\n\n![Second](/img/fem/example_2.png)\n")
        outcomes = [drop(clean_aws, function, "hugo/fem.md", hugo_post.encode()),
                    drop(clean_aws, function, "pages/strike.html", news_page(web)),
                    drop(clean_aws, function, "sites/blog.zip", hugo_site())]
        assert [o["status"] for o in outcomes] == ["archived"] * 3
        logo_requests = web.hits("/assets/logo.png") + web.hits("/photos/other-story.png")
    assert logo_requests == 0  # the site's logo and the related story's picture are not the article's
    export_bucket(clean_aws.client("s3"), clean_aws.resources.archive_bucket, tmp_path / "archive")
    return tmp_path / "archive"


def test_archived_pages_show_every_image_from_the_archive_and_reach_nothing_outside(archive_folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    pages = sorted(archive_folder.glob("posts/**/index.html"))
    assert len(pages) == 4  # the Hugo post, the news page, the bundle's two posts
    outside: list[str] = []
    shown: dict[str, list[int]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (outside.append(route.request.url), route.abort()))
        for page_path in pages:
            page = context.new_page()
            page.goto(page_path.as_uri(), wait_until="load")
            shown[page_path.parent.name] = page.evaluate(
                "() => [...document.images].map(i => i.complete ? i.naturalWidth : 0)")
            page.close()
        browser.close()
    assert outside == []
    counts = {name.split("--")[0]: widths for name, widths in shown.items()}  # folders are slug--id
    assert counts["fem"] == [30, 31]
    assert counts["strike"] == [64, 80]  # the lead photo, the quay at its widest
    assert counts["first"] == [60] and counts["second"] == [30]
    assert all(width > 0 for widths in shown.values() for width in widths)
