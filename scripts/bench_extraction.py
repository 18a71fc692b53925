"""Benchmark: extracting an HTML page's article against the floor of one trafilatura pass.

    .venv/bin/python scripts/bench_extraction.py [--limit N] [--out docs/benchmarks.md]

The pages of scrapinghub/article-extraction-benchmark (../shared/corpus/articles/), one process,
after one warm-up page. For each page both run, in alternating order (ABBA), so that both see the
same machine:

  archiver  `archiver.formats.html_page` then the normalizer: the text a page is archived with
  floor     `trafilatura.extract(html, include_comments=False)`: one pass, as the accuracy
            benchmark runs it (scripts/eval_extraction.py, whose F1 `make eval` reports)

Medians per page, CPU time of this process and wall time.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`
from eval_extraction import DEFAULT_CORPUS, extract_ours, extract_trafilatura
from timing import Spent, timed

HEADING = "## HTML page extraction against one trafilatura pass"
TARGET = 1.5


def measure(pages: dict[str, bytes]) -> dict[str, list[Spent]]:
    """Each extractor's CPU and wall seconds per page, the two run in alternating order."""
    extractors = {"archiver": extract_ours, "floor": extract_trafilatura}
    first = next(iter(pages))
    for extract in extractors.values():  # warm-up: imports, lazily built models
        extract(pages[first], f"{first}.html")
    spent: dict[str, list[Spent]] = {name: [] for name in extractors}
    for index, (key, data) in enumerate(pages.items()):
        order = list(extractors) if index % 4 in (0, 3) else list(reversed(extractors))
        for name in order:
            spent[name].append(timed(lambda extract=extractors[name], key=key, data=data:
                                     extract(data, f"{key}.html"))[0])
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus folder")
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    folder = args.corpus / "articles" / "html"
    if not folder.is_dir():
        print(f"{folder} not found: no pages to extract, section left as it was", file=sys.stderr)
        return 0
    paths = sorted(folder.glob("*.html.gz"))[:args.limit]
    pages = {path.name.removesuffix(".html.gz"): gzip.decompress(path.read_bytes()) for path in paths}
    spent = measure(pages)

    def median_ms(name: str, clock: str) -> float:
        """The median milliseconds per page of one extractor, by one clock ("cpu" or "wall")."""
        return statistics.median(getattr(sample, clock) for sample in spent[name]) * 1000

    ratio = median_ms("archiver", "cpu") / median_ms("floor", "cpu")
    verdict = "met" if ratio <= TARGET else f"not met ({ratio / TARGET:.1f} times the target)"
    rows = [f"| {label} | {median_ms(name, 'cpu'):.1f} | {median_ms(name, 'wall'):.1f} | "
            f"{sum(s.cpu for s in spent[name]):.1f} |"
            for name, label in (("archiver", "archiver: `html_page` + normalize"),
                                ("floor", "floor: one `trafilatura.extract`"))]
    section = "\n".join([
        HEADING, "",
        f"The {len(pages)} pages of scrapinghub/article-extraction-benchmark (`../shared/corpus/articles/html`), "
        "each extracted by both in one process, in alternating order, after one warm-up page. `archiver` is "
        "`archiver.formats.html_page` and the normalizer (the text a page is archived with); the floor is one "
        "`trafilatura.extract(html, include_comments=False)`. Accuracy (F1) is in docs/evaluation.md (`make eval`). "
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}). "
        "Regenerate with `make bench` (`scripts/bench_extraction.py`).", "",
        "| extractor | CPU ms/page, median | wall ms/page, median | CPU s, all pages |",
        "|---|---:|---:|---:|",
        *rows, "",
        f"Ratio of the CPU medians: **{ratio:.1f}**; target at most {TARGET:g}: {verdict}.", ""])
    publish(section, HEADING, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
