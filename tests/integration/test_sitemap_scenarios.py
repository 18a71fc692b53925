"""Sitemaps as complete as ultimate-sitemap-parser: each scenario's site is served on 127.0.0.1, the
reference library (usp 1.8.1, a dev dependency) lists the pages it finds from the home page, and the
archiver, added as a sitemap source of that home page, must fetch every one of them, each once, over
as many scheduled runs as its per-run cap needs; a run after that fetches no page at all.

usp's own test suite is not in its sdist, so these scenarios are ours, written after what usp
reads (its fetch_parse.py and tree.py): robots.txt `Sitemap:` lines and its well-known paths,
indexes nested at any depth, loops, gzip told by the bytes, plain text, RSS and Atom, sitemaps
without a namespace, Google News, cut-off XML, W3C dates, duplicates, and many pages sharing one
`lastmod` across the per-run cap. Pages are empty documents: what is under test is which URLs are
fetched (the archive is an in-memory stand-in; archiving itself is tested elsewhere).
"""

from __future__ import annotations

import gzip
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from archiver.fetch.context import FetchContext
from archiver.fetch.crawl import MemoryCrawl
from archiver.fetch.guard import Guard
from archiver.fetch.http import HttpClient
from archiver.fetch.robots import RobotsCache
from archiver.fetch.sources import new_source
from archiver.fetch.worker import fetch_source
from archiver.local.web import FixtureWeb, Reply

HOST = "127.0.0.1"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


class Site:
    """A scenario's site on a FixtureWeb: sitemap documents, and pages that answer with an empty body."""

    def __init__(self, web: FixtureWeb):
        self.web = web
        self.pages: set[str] = set()

    def url(self, path: str) -> str:
        return self.web.url(HOST, path)

    def document(self, path: str, body: str | bytes, content_type: str = "application/xml", **options) -> None:
        self.web.add(HOST, path, body.encode() if isinstance(body, str) else body, content_type, **options)

    def page_urls(self, prefix: str, count: int) -> list[str]:
        urls = [self.url(f"{prefix}/{n}") for n in range(count)]
        for url in urls:
            self.web.add(HOST, url.split(str(self.web.port), 1)[1], b"", "text/plain")
            self.pages.add(url)
        return urls

    def urlset(self, path: str, urls: list[str], lastmod: str | None = "2024-05-01", *, ns: str = NS,
               extra: str = "") -> None:
        mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        self.document(path, f'<?xml version="1.0" encoding="UTF-8"?><urlset {ns} {extra}>'
                            + "".join(f"<url><loc>{u}</loc>{mod}</url>" for u in urls) + "</urlset>")

    def index(self, path: str, children: list[str]) -> None:
        self.document(path, f'<?xml version="1.0"?><sitemapindex {NS}>'
                            + "".join(f"<sitemap><loc>{self.url(c)}</loc></sitemap>" for c in children)
                            + "</sitemapindex>")

    def robots(self, *sitemaps: str) -> None:
        self.document("/robots.txt", "User-agent: *\nDisallow: /private/\n"
                      + "".join(f"Sitemap: {self.url(s)}\n" for s in sitemaps), "text/plain")


# -- the scenarios ----------------------------------------------------------------------------------------------------


def nested_indexes_from_robots(site: Site) -> None:
    site.robots("/sitemap_index.xml")
    site.index("/sitemap_index.xml", ["/sitemap-posts.xml", "/sitemaps/more.xml"])
    site.urlset("/sitemap-posts.xml", site.page_urls("/posts", 40))
    site.index("/sitemaps/more.xml", ["/sitemaps/pages.xml", "/sitemaps/deeper.xml"])
    site.urlset("/sitemaps/pages.xml", site.page_urls("/pages", 25))
    site.index("/sitemaps/deeper.xml", ["/sitemaps/deepest.xml"])
    site.urlset("/sitemaps/deepest.xml", site.page_urls("/deep", 10))


def deep_chain_of_indexes(site: Site) -> None:
    site.robots("/level-0.xml")
    for level in range(7):
        site.index(f"/level-{level}.xml", [f"/level-{level + 1}.xml", f"/leaf-{level}.xml"])
        site.urlset(f"/leaf-{level}.xml", site.page_urls(f"/l{level}", 5))
    site.urlset("/level-7.xml", site.page_urls("/bottom", 5))


def gzip_told_by_the_bytes(site: Site) -> None:
    site.robots("/sitemap_index.xml.gz")
    index = (f'<sitemapindex {NS}><sitemap><loc>{site.url("/a.xml.gz")}</loc></sitemap>'
             f'<sitemap><loc>{site.url("/b.xml.gz")}</loc></sitemap>'
             f'<sitemap><loc>{site.url("/c.xml")}</loc></sitemap></sitemapindex>')
    site.document("/sitemap_index.xml.gz", gzip.compress(index.encode()), "application/octet-stream")
    urls_a = site.page_urls("/gz-a", 30)
    site.document("/a.xml.gz", gzip.compress(("<urlset " + NS + ">" + "".join(
        f"<url><loc>{u}</loc></url>" for u in urls_a) + "</urlset>").encode()), "application/x-gzip")
    site.urlset("/b.xml.gz", site.page_urls("/gz-b", 20))  # named .gz, plain XML inside
    site.urlset("/c.xml", site.page_urls("/gz-c", 15))  # beside them, an ordinary one


def plain_text_rss_and_atom(site: Site) -> None:
    site.robots("/sitemap.txt", "/feed.rss", "/atom.xml")
    text_urls = site.page_urls("/text", 20)
    site.document("/sitemap.txt", "\ufeff" + "\n".join([*text_urls, "not a url", "ftp://x.example/y", ""]),
                  "text/plain")
    rss_urls = site.page_urls("/rss", 12)
    site.document("/feed.rss", '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>' + "".join(
        f"<item><title>Item {n}</title><link>{u}</link><pubDate>Tue, 10 Aug 2010 20:43:53 -0000</pubDate></item>"
        for n, u in enumerate(rss_urls)) + "</channel></rss>", "application/rss+xml")
    atom_urls = site.page_urls("/atom", 9)
    site.document("/atom.xml", '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
                  + "".join(f'<entry><title>E {n}</title><link rel="alternate" href="{u}"/>'
                            f"<updated>2024-05-0{n % 9 + 1}</updated></entry>" for n, u in enumerate(atom_urls))
                  + "</feed>",
                  "application/atom+xml")


def unpublished_well_known_paths(site: Site) -> None:
    site.document("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")  # names no sitemap
    site.index("/sitemap_index.xml", ["/sitemap-1.xml"])
    site.urlset("/sitemap-1.xml", site.page_urls("/known", 30))
    site.urlset("/sitemap-news.xml", site.page_urls("/news", 10), extra=NEWS_NS)
    site.urlset("/sitemap.xml.gz", site.page_urls("/known-gz", 5))
    site.urlset("/wp-sitemap.xml", site.page_urls("/wp", 5))  # found by us (WordPress >= 5.5), not by usp
    site.document("/sitemap.xml", "<!doctype html><html><body>Not found</body></html>", "text/html")  # a soft 404


def no_namespace_bom_and_w3c_dates(site: Site) -> None:
    site.robots("/plain.xml", "/dated.xml", "/news.xml")
    site.urlset("/plain.xml", site.page_urls("/plain", 15), ns="")
    urls = site.page_urls("/dated", 6)
    dates = ["1997", "1997-07", "1997-07-16", "1997-07-16T19:20+01:00", "1997-07-16T19:20:30.45+01:00", "not a date"]
    site.document("/dated.xml", "\ufeff" + f'<?xml version="1.0"?><urlset {NS}>' + "".join(
        f"<url><loc>{u}</loc><lastmod>{d}</lastmod></url>" for u, d in zip(urls, dates, strict=True)) + "</urlset>")
    news = site.page_urls("/gnews", 8)
    site.document("/news.xml", f'<urlset {NS} {NEWS_NS}>' + "".join(
        f"<url><loc>{u}</loc><news:news><news:publication><news:name>P</news:name><news:language>en"
        f"</news:language></news:publication><news:publication_date>2024-05-0{n + 1}</news:publication_date>"
        f"<news:title>Story {n}</news:title></news:news></url>" for n, u in enumerate(news)) + "</urlset>")


def loops_and_duplicates(site: Site) -> None:
    site.robots("/loop-index.xml", "/loop-index.xml")
    site.index("/loop-index.xml", ["/loop-index.xml", "/child-index.xml", "/child-index.xml", "/dupes.xml"])
    site.index("/child-index.xml", ["/loop-index.xml", "/leaf.xml"])
    urls = site.page_urls("/loop", 20)
    site.urlset("/leaf.xml", urls)
    site.urlset("/dupes.xml", [*urls[:10], *urls[:10], *site.page_urls("/dupe", 5)])


def cut_off_xml(site: Site) -> None:
    site.robots("/cut.xml", "/broken-later.xml")
    urls = site.page_urls("/cut", 12)
    body = f"<urlset {NS}>" + "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    site.document("/cut.xml", body[: body.rindex("<url>") + 20])  # the last entry is cut in its URL
    more = site.page_urls("/later", 8)
    site.document("/broken-later.xml", f"<urlset {NS}>" + "".join(f"<url><loc>{u}</loc></url>" for u in more[:5])
                  + "<url><loc>&bogus;</loc></url>" + "".join(f"<url><loc>{u}</loc></url>" for u in more[5:])
                  + "</urlset>")


def a_thousand_pages_with_one_lastmod(site: Site) -> None:
    site.robots("/big-index.xml")
    site.index("/big-index.xml", [f"/big-{n}.xml" for n in range(4)])
    for n in range(4):
        site.urlset(f"/big-{n}.xml", site.page_urls(f"/big{n}", 250), lastmod="2024-05-01T00:00:00Z")


def many_children_each_an_index(site: Site) -> None:
    site.robots("/root.xml")
    site.index("/root.xml", [f"/mid-{n}.xml" for n in range(12)])
    for n in range(12):
        site.index(f"/mid-{n}.xml", [f"/leaf-{n}-{m}.xml" for m in range(3)])
        for m in range(3):
            site.urlset(f"/leaf-{n}-{m}.xml", site.page_urls(f"/p{n}-{m}", 8))


def robots_and_known_paths_together(site: Site) -> None:
    site.robots("/listed.xml")
    site.urlset("/listed.xml", site.page_urls("/listed", 10))
    site.urlset("/sitemap.xml", site.page_urls("/also", 10))  # usp also probes the well-known paths
    site.urlset("/sitemap_news.xml", site.page_urls("/also-news", 4))


def child_redirects_to_its_parent(site: Site) -> None:
    site.robots("/top.xml")
    site.index("/top.xml", ["/redirect.xml", "/real.xml"])
    site.web.route(HOST, "/redirect.xml", lambda request: Reply(301, b"", {"Location": site.url("/top.xml")}))
    site.urlset("/real.xml", site.page_urls("/real", 10))


def escaped_and_odd_urls(site: Site) -> None:
    site.robots("/odd.xml")
    urls = site.page_urls("/odd", 6)
    with_query = [f"{u}?a=1&amp;b=2" for u in urls[:3]]
    site.document("/odd.xml", f"<urlset {NS}>" + "".join(
        f"<url><loc>\n  {u}  \n</loc></url>" for u in [*with_query, *urls[3:]]) + "<url><loc></loc></url></urlset>")


SCENARIOS: dict[str, Callable[[Site], None]] = {f.__name__: f for f in (
    nested_indexes_from_robots, deep_chain_of_indexes, gzip_told_by_the_bytes, plain_text_rss_and_atom,
    unpublished_well_known_paths, no_namespace_bom_and_w3c_dates, loops_and_duplicates, cut_off_xml,
    a_thousand_pages_with_one_lastmod, many_children_each_an_index, robots_and_known_paths_together,
    child_redirects_to_its_parent, escaped_and_odd_urls)}


# -- running them -----------------------------------------------------------------------------------------------------


class MemoryArchive:
    """The archive as far as a page that holds no post needs one: its raw bytes and its outcome."""

    def __init__(self) -> None:
        self.outcomes: list = []

    def save_raw(self, item) -> str:
        return f"raw/{item.origin.uri}"

    def record_outcome(self, outcome) -> None:
        self.outcomes.append(outcome)


@pytest.fixture
def site() -> Iterator[Site]:
    with FixtureWeb() as web:
        yield Site(web)


def reference_pages(home: str) -> set[str]:
    from usp.tree import sitemap_tree_for_homepage

    return {page.url for page in sitemap_tree_for_homepage(home).all_pages()}


def archive_site(site: Site, *, per_run: int, runs: int = 40) -> tuple[list, Counter]:
    """Add the home page as a sitemap source, then run scheduled fetches until it is done (bounded)."""
    crawl = MemoryCrawl()
    guard = Guard(allow=(ipaddress.ip_network("127.0.0.0/8"),))
    with HttpClient(guard=guard, user_agent="PostArchiver/test", read_timeout=5.0, retries=0) as client:
        def job() -> FetchContext:  # each run a job of its own: robots.txt cache and all
            return FetchContext(client=client, robots=RobotsCache(client), archive=MemoryArchive(), host_delay=0.0,
                                now=lambda: NOW, max_articles=per_run, crawl=crawl)

        adding = job()
        source = new_source(site.url("/"), get=adding.get, now=NOW, kind="sitemap",
                            robots_text=lambda url: adding.robots.rules(url).text)
        site.web.clear_log()
        reports = []
        for _ in range(runs):
            reports.append(fetch_source(source, job()))
            if reports[-1].status != "partial":
                break
        page_paths = {u.split(str(site.web.port), 1)[1].split("?")[0] for u in site.pages}
        fetched = Counter(r.path for r in site.web.requests() if r.path in page_paths)
        site.web.clear_log()
        again = fetch_source(source, job())  # a later scheduled run: nothing new
        reports.append(again)
        assert not [r.path for r in site.web.requests() if r.path in page_paths]
    return reports, fetched


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_page_the_reference_finds_is_fetched_once(scenario: str, site: Site) -> None:
    SCENARIOS[scenario](site)
    expected = {u.split(str(site.web.port), 1)[1].split("?")[0] for u in reference_pages(site.url("/"))}
    reports, fetched = archive_site(site, per_run=40)
    assert expected, "the reference found no page: the scenario is broken"
    assert expected <= set(fetched), f"missed: {sorted(expected - set(fetched))[:10]}"
    assert max(fetched.values()) == 1  # each page fetched once across every run
    assert all(r.status in ("partial", "archived", "unchanged") for r in reports), [r.error for r in reports]


def test_a_thousand_pages_with_one_lastmod_and_a_cap_of_200_lose_none(site: Site) -> None:
    # Issue 19: the first run took 200 pages and moved a date cursor past the other 800.
    a_thousand_pages_with_one_lastmod(site)
    reports, fetched = archive_site(site, per_run=200)
    assert [r.status for r in reports[:5]] == ["partial"] * 4 + ["unchanged"]  # 200 a run, the last finishes
    assert len(fetched) == 1000 and set(fetched.values()) == {1}
