"""Benchmark: normalizing a post against the floor of one BeautifulSoup(lxml) parse of its body.

    .venv/bin/python scripts/bench_normalize.py [--wxr-posts 2000] [--out docs/benchmarks.md]

Three sets of posts, CPU time of this process (one core), after one warm-up pass over each set:

  seed-shaped  the seed (../shared/seed) and the corpus's WordPress-to-Jekyll exports of republished
               news (`jekyll/wp-whenitson-*`): front matter + raw HTML, the shape the product is for
  Jekyll       every Jekyll/Hugo post of ../shared/corpus/jekyll (YAML, TOML and JSON front matter)
  WXR          a synthetic WordPress export (scripts/make_wxr.py, distinct texts), per post

archiver: the input's posts parsed and normalized (`pipeline.each_normalized`: format, front matter,
cleaning, text, dates, ids, fingerprint, language), per post. floor: `BeautifulSoup(body, "lxml")`
of each post's body as the format hands it over (what the issue's table calls one parse). Medians
per post for the file sets (one post per file); for the export, its total over its posts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`
from timing import Spent, timed

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HEADING = "## Normalizing a post against one parse"
TARGET = 3.0
ROUNDS = 4  # of the export: it is one measurement, not one per file


def per_post_ms(spent: Spent, posts: int) -> Spent:
    return Spent(spent.cpu * 1000 / posts, spent.wall * 1000 / posts)


def median(samples: list[Spent]) -> Spent:
    """The median CPU and the median wall time (each of its own column)."""
    return Spent(statistics.median(s.cpu for s in samples), statistics.median(s.wall for s in samples))


def measure_files(paths: list[Path]) -> tuple[Spent, Spent, int]:
    """(archiver ms per post, floor ms per post, posts): medians over files of one post each."""
    from bs4 import BeautifulSoup

    from archiver import formats
    from archiver.errors import ArchiverError
    from archiver.model import Input, Origin
    from archiver.pipeline import each_normalized

    inputs, bodies = [], []
    for path in paths:
        item = Input(path.read_bytes(), path.name, Origin("file", str(path)))
        try:
            bodies.append([raw.body for raw in formats.parse(item)])
        except ArchiverError:  # not a post (a section page): not in the set
            continue
        inputs.append(item)
    archiver, floor, posts = [], [], 0
    for warm_up in (True, False):
        for item, item_bodies in zip(inputs, bodies, strict=True):
            spent, normalized = timed(lambda item=item: sum(1 for _ in each_normalized(item)))
            parsed, _ = timed(lambda b=item_bodies: [BeautifulSoup(body, "lxml") for body in b])
            if not warm_up and normalized:
                archiver.append(per_post_ms(spent, normalized))
                floor.append(per_post_ms(parsed, normalized))
                posts += normalized
    return median(archiver), median(floor), posts


def measure_export(posts: int) -> tuple[Spent, Spent, int]:
    """(archiver ms per post, floor ms per post, posts) over one synthetic WordPress export."""
    import make_wxr  # scripts/, beside this one
    from bs4 import BeautifulSoup

    from archiver.formats import wxr
    from archiver.model import Input, Origin
    from archiver.pipeline import each_normalized
    text = make_wxr.export_with_posts(posts, paragraphs=12)  # the article-length posts of `--distinct`
    item = Input(text.encode(), "export.xml", Origin("file", "export.xml"))
    bodies = [raw.body for raw in wxr.parse(item)]
    normalized = sum(1 for _ in each_normalized(item))  # warm-up
    # Rounds alternate the two (ABBA), so that a neighbour's load weighs on both; medians of the rounds.
    archiver, floor = [], []
    for round_ in range(ROUNDS):
        steps = [(archiver, lambda: sum(1 for _ in each_normalized(item))),
                 (floor, lambda: [BeautifulSoup(body, "lxml") for body in bodies])]
        for times, work in steps if round_ % 4 in (0, 3) else reversed(steps):
            times.append(per_post_ms(timed(work)[0], normalized))
    return median(archiver), median(floor), normalized


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wxr-posts", type=int, default=2000)
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "layers" / "archiver"))
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

    jekyll = SHARED / "corpus" / "jekyll"
    rows = []
    if jekyll.is_dir():
        seed = sorted(p for p in (SHARED / "seed").iterdir() if p.is_file())
        rows.append(("seed-shaped posts (seed + `jekyll/wp-whenitson-*`)",
                     measure_files(seed + sorted(jekyll.glob("wp-whenitson-*")))))
        rows.append(("Jekyll/Hugo corpus (`jekyll/*`)", measure_files(sorted(p for p in jekyll.iterdir()
                                                                            if p.is_file()))))
    else:
        print(f"{jekyll} not found: the seed and Jekyll rows are left out", file=sys.stderr)
    rows.append((f"WXR posts (synthetic export, {args.wxr_posts:,} posts)", measure_export(args.wxr_posts)))

    table = ["| posts | n | archiver CPU ms/post | floor CPU ms/post (one BeautifulSoup(lxml) parse) | ratio (CPU) "
             "| wall ms/post: archiver, floor, ratio | target (CPU) |",
             "|---|---:|---:|---:|---:|---|---|"]
    for name, (spent, floor, posts) in rows:
        ratio = spent.cpu / floor.cpu
        verdict = "met" if ratio <= TARGET else f"not met ({ratio / TARGET:.1f} times the target)"
        table.append(f"| {name} | {posts:,} | {spent.cpu:.2f} | {floor.cpu:.2f} | **{ratio:.1f}** | "
                     f"{spent.wall:.2f}, {floor.wall:.2f}, {spent.wall / floor.wall:.1f} | "
                     f"at most {TARGET:g} times: {verdict} |")
    section = "\n".join([
        HEADING, "",
        "CPU and wall time of one process per post, medians for the file sets (one post each), for the export the "
        f"median of {ROUNDS} rounds (alternating with the floor) of its total over its posts; one warm-up pass "
        "first. `archiver` is parse + normalize (`pipeline.each_normalized`), "
        "the floor one `BeautifulSoup(body, \"lxml\")` of each post's body as its format hands it over. "
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs (load average "
        f"{os.getloadavg()[0]:.1f}). Regenerate with `make bench` (`scripts/bench_normalize.py`).", "",
        *table, ""])
    publish(section, HEADING, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
