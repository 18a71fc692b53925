#!/usr/bin/env python3
"""Article images: which images of a page each extractor keeps, against Mozilla Readability's reference.

The pages are Readability's own test pages (`tests/realworld/readability/<page>/source.html.gz`, the reference
output beside it as `expected.html.gz`), every page but the 30 kept aside for checking the result (see that
folder's README). Each page is read as fetched from Readability's test URL. An image counts once per page; a
kept image matches a reference image when they share a URL (`src`, `srcset` or lazy-loading attributes, all
resolved) or a distinctive file name (another size of the same picture). Recall is over the reference's images,
precision over the kept ones, both summed over all pages (pages without images count for precision).
Writes a section of docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from docs_section import EVALUATION_TITLE, write_section  # scripts/ is on a script's path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "archiver"))

PAGES = ROOT / "tests" / "realworld" / "readability"
PAGE_URL = "http://fakehost/test/page.html"  # where Readability's tests say each page was fetched from
SECTION = "## Article images"
URL_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src")
SRCSET_ATTRIBUTES = ("srcset", "data-srcset")
MIN_NAME = 12  # a file name shorter than this ("image.jpg") says nothing of which picture it is


def image_urls(fragment: str) -> list[set[str]]:
    """Each distinct image of an HTML fragment, as the set of URLs it is known by."""
    from lxml import html as lxml_html

    from archiver.extract.images import srcset_candidates

    if not fragment.strip():
        return []
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    images: list[set[str]] = []
    for img in root.iter("img"):
        urls = {urljoin(PAGE_URL, img.get(a).strip()) for a in URL_ATTRIBUTES if (img.get(a) or "").strip()}
        for attribute in SRCSET_ATTRIBUTES:
            urls |= {urljoin(PAGE_URL, url) for url, _ in srcset_candidates(img.get(attribute) or "")}
        urls = {url for url in urls if not url.startswith("data:")}
        if urls and not any(same_picture(urls, known) for known in images):
            images.append(urls)
    return images


def _names(urls: set[str]) -> set[str]:
    names = {url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower() for url in urls}
    return {name for name in names if len(name) >= MIN_NAME}


def same_picture(a: set[str], b: set[str]) -> bool:
    return bool(a & b) or bool(_names(a) & _names(b))


def matches(expected: list[set[str]], kept: list[set[str]]) -> int:
    """Reference images matched by kept ones, each kept image matching at most one."""
    used: set[int] = set()
    found = 0
    for reference in expected:
        for i, image in enumerate(kept):
            if i not in used and same_picture(reference, image):
                used.add(i)
                found += 1
                break
    return found


# --- the extractors: each gives the page's kept images as HTML ------------------------------------


def ours(page: bytes) -> str:
    """The archived post's images: `archiver.formats.html_page` then the normalizer (`post.images`)."""
    from html import escape

    from archiver.formats import html_page
    from archiver.model import Input, Origin
    from archiver.normalize import normalize

    origin = Origin(kind="url", uri=PAGE_URL)
    posts = [normalize(raw, origin) for raw in html_page.parse(Input(data=page, name="page.html", origin=origin))]
    return "".join(f'<img src="{escape(image["src"])}">' for post in posts for image in post.images)


def trafilatura_images(page: bytes) -> str:
    import trafilatura

    return trafilatura.extract(page.decode("utf-8", "replace"), url=PAGE_URL, output_format="html",
                               include_images=True, include_tables=True) or ""


def readability_lxml(page: bytes) -> str:
    from readability import Document

    return Document(page.decode("utf-8", "replace"), url=PAGE_URL).summary(html_partial=True)


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "post-archiver": ours,
    "trafilatura (include_images)": trafilatura_images,
    "readability-lxml": readability_lxml,
}


@dataclass
class Score:
    expected: int = 0
    kept: int = 0
    matched: int = 0
    pages_with_images: int = 0
    pages_with_all: int = 0
    seconds: float = 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.kept if self.kept else 1.0


def evaluate(folder: Path, extractor: Callable[[bytes], str], *, verbose: bool = False) -> Score:
    score = Score()
    for page in sorted(p for p in folder.iterdir() if (p / "source.html.gz").exists()):
        expected = image_urls(gzip.decompress((page / "expected.html.gz").read_bytes()).decode("utf-8"))
        source = gzip.decompress((page / "source.html.gz").read_bytes())
        started = time.perf_counter()
        try:
            kept = image_urls(extractor(source))
        except Exception as exc:  # a crash on one page keeps nothing there
            print(f"{page.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            kept = []
        score.seconds += time.perf_counter() - started
        found = matches(expected, kept)
        score.expected, score.kept, score.matched = score.expected + len(expected), score.kept + len(kept), \
            score.matched + found
        if expected:
            score.pages_with_images += 1
            score.pages_with_all += found == len(expected)
        if verbose and (found != len(expected) or found != len(kept)):
            print(f"  {page.name}: reference {len(expected)}, kept {len(kept)}, matched {found}")
    return score


def table(scores: dict[str, Score], pages: int) -> str:
    lines = ["| extractor | recall | precision | reference images | kept | matched | pages with every image "
             "| ms/page |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in scores.items():
        bold = "**" if name == "post-archiver" else ""
        lines.append(f"| {name} | {bold}{s.recall:.3f}{bold} | {bold}{s.precision:.3f}{bold} | {s.expected} "
                     f"| {s.kept} | {s.matched} | {s.pages_with_all} of {s.pages_with_images} "
                     f"| {1000 * s.seconds / max(1, pages):.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES,
                        help="a folder of <page>/source.html.gz + expected.html.gz (default: the committed set)")
    parser.add_argument("--extractors", default=",".join(EXTRACTORS), help="comma-separated subset")
    parser.add_argument("--verbose", action="store_true", help="list the pages where an extractor differs")
    parser.add_argument("--out", type=Path, help="markdown file to write the section into")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.extractors.split(",") if n.strip()]
    pages = sum(1 for p in args.pages.iterdir() if (p / "source.html.gz").exists())
    scores = {}
    for name in names:
        if args.verbose:
            print(name)
        scores[name] = evaluate(args.pages, EXTRACTORS[name], verbose=args.verbose)
    body = "\n".join([
        f"Which images of a page each extractor keeps, on {pages} of Mozilla Readability's test pages "
        f"(`{args.pages.relative_to(ROOT) if args.pages.is_relative_to(ROOT) else args.pages}`: every page "
        "but the 30 kept aside for checking, see its README), against the images of Readability's reference "
        "output. An image counts once per page; a kept image matches a reference image when they share a URL "
        "(`src`, `srcset`, lazy-loading attributes, resolved) or a distinctive file name (another size of the "
        "same picture). Recall over the reference's images, precision over the kept ones, summed over all "
        "pages. `post-archiver` is `archiver.formats.html_page` then the normalizer: the `images` of the "
        "archived post. Target: recall and precision of at least 0.90.",
        "",
        table(scores, pages),
        "",
        "How (`archiver/extract/images.py`): lazy-loading placeholders, `<noscript>` copies, `<picture>` and "
        "`srcset` are resolved to the image a reader saw; then the page is read in document order and each "
        "block of text found in the extraction anchors the images after it. An image is the article's between "
        "two of its blocks with little other text around, as a lead photo just above its first block (inside "
        "the element around the article, or in a `<figure>`), or as a last figure just below it; not in "
        "navigation, footers, boxes whose class names them as something else (related, share, comments...), "
        "teaser links to other pages, or tracking pixels. Sizes of one picture count once, the largest kept.",
        "",
        "Regenerate with `make eval` (`scripts/eval_images.py`); `--pages DIR` scores another set of pages "
        "in the same layout.",
    ])
    section = f"{SECTION}\n\n{body}"
    print(section)
    if args.out:
        write_section(args.out, SECTION, section, title=EVALUATION_TITLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
