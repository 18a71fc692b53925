"""Benchmark: what parsing costs the chunks of a large WordPress export, against one pass over it.

    .venv/bin/python scripts/bench_chunks.py [--size-mb 100] [--chunk-posts 250] [--out docs/benchmarks.md]

A synthetic export (scripts/make_wxr.py, distinct texts) is fanned out as the function fans it out,
in chunks of `--chunk-posts` posts. Only the format's parsing is timed (CPU seconds of this process),
since it is the part that depended on a chunk's position; normalizing and storing cost the same
per post either way. Rows:

  floor        one pass that parses every post of the export (`wxr.parse`)
  fan-out      what the inbox notification parses to plan the chunks: `wxr.plan_slices` (one pass
               of the parser and one scan of the bytes), and before it `wxr.count`
  slices       every chunk, each parsing only its own bytes (`wxr.parse_slice`): all of them, timed
  by position  every chunk parsing from the start and skipping to its posts (`wxr.parse(item,
               start, stop)`, what chunks did before): its first, middle and last chunk are timed,
               and the whole fan-out is estimated from them (a chunk's cost grows with its position)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`
from timing import Spent, timed

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## WXR export: parsing per chunk"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--chunk-posts", type=int, default=250)
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "layers" / "archiver"))
    import make_wxr  # scripts/, beside this one

    from archiver.formats import wxr
    from archiver.model import Input, Origin

    with tempfile.TemporaryDirectory(prefix="bench-chunks-") as scratch:
        path = Path(scratch) / "export.xml"
        make_wxr.write_wxr(path, int(args.size_mb * 1e6), distinct=True)
        item = Input.from_file(path, "export.xml", Origin("file", str(path)))
        raw = path.read_bytes()

        floor, posts = timed(lambda: sum(1 for _ in wxr.parse(item)))
        counting, _ = timed(lambda: wxr.count(item))
        planning, (context, slices) = timed(lambda: wxr.plan_slices(item, args.chunk_posts))
        per_slice = []
        sliced_posts = 0
        for piece in slices:
            only_its_bytes = Input(raw[piece.begin:piece.end], item.name, item.origin)
            seconds, got = timed(lambda part=only_its_bytes: sum(1 for _ in wxr.parse_slice(part, context)))
            per_slice.append(seconds)
            sliced_posts += got
        positions = {"first": 0, "middle": len(slices) // 2, "last": len(slices) - 1}
        by_position = {name: timed(lambda i=i: sum(1 for _ in wxr.parse(item, slices[i].start, slices[i].stop)))[0].cpu
                       for name, i in positions.items()}
    if sliced_posts != posts:
        raise SystemExit(f"the slices gave {sliced_posts} posts, the whole export {posts}")

    chunks = len(slices)
    # A chunk parsing from the start costs a full first pass plus a second pass up to its end: linear in
    # its position, so the mean of the first and last chunk times the number of chunks estimates the sum.
    estimated_by_position = (by_position["first"] + by_position["last"]) / 2 * chunks
    sliced = Spent(sum(s.cpu for s in per_slice), sum(s.wall for s in per_slice))

    def row(what: str, count: int, spent: Spent, ratio: str) -> str:
        return f"| {what} | {count} | {spent.cpu:.1f} | {spent.wall:.1f} | {ratio} |"

    rows = [
        "| what | chunks | CPU s | wall s | CPU, ratio to the floor |",
        "|---|---:|---:|---:|---:|",
        row("floor: one pass over the export (`wxr.parse`, every post)", 1, floor, "1.00"),
        row("fan-out, before: `wxr.count`", 1, counting, f"{counting.cpu / floor.cpu:.2f}"),
        row("fan-out, now: `wxr.plan_slices` (parser pass + byte scan)", 1, planning,
            f"{planning.cpu / floor.cpu:.2f}"),
        row(f"chunks, now: each parses only its own bytes (`parse_slice`), all {chunks} timed", chunks, sliced,
            f"**{sliced.cpu / floor.cpu:.2f}**"),
        f"| chunks, before: each parses from the start (`parse(item, start, stop)`), estimated from the "
        f"first ({by_position['first']:.1f} s), middle ({by_position['middle']:.1f} s) and last "
        f"({by_position['last']:.1f} s) CPU | {chunks} | {estimated_by_position:.0f} | | "
        f"{estimated_by_position / floor.cpu:.0f} |",
    ]
    section = "\n".join([
        HEADING, "",
        f"A {args.size_mb:g} MB synthetic WordPress export (`scripts/make_wxr.py --distinct`, {posts:,} posts) "
        f"in chunks of {args.chunk_posts} posts, as the function fans it out; only the format's parsing, in CPU "
        f"and wall seconds of one process (normalizing and storing cost the same per post either way). Measured "
        f"{datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}). "
        f"Regenerate with `make bench` (`scripts/bench_chunks.py --size-mb {args.size_mb:g}`).", "",
        *rows, "",
        f"A chunk now parses its own {statistics.median(s.cpu for s in per_slice) * 1000:.0f} ms (median, CPU) "
        f"wherever it is in the export: all {chunks} chunks together cost {sliced.cpu / floor.cpu:.2f} passes, "
        f"where chunks that parsed from the start cost about {estimated_by_position / floor.cpu:.0f}.", ""])
    publish(section, HEADING, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
