"""Benchmark: peak memory of `archiver normalize` on WordPress exports of growing size.

    .venv/bin/python scripts/bench_normalize_memory.py [--posts 2500 25000] [--out docs/benchmarks.md]

Each export (scripts/make_wxr.py, two paragraphs per post) is normalized by `python -m archiver
normalize FILE > /dev/null` in a child process; its peak RSS comes from wait4. The floor is the same
child importing what `normalize` imports and exiting. Streaming means the peak does not grow with
the number of posts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## `archiver normalize`: memory against the number of posts"
FLOOR = "import archiver.cli, archiver.pipeline, archiver.formats.wxr, lxml.etree, nh3, markdown_it"


WRITE_EXPORT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("make_wxr", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
open(sys.argv[3], "w", encoding="utf-8").write(module.export_with_posts(int(sys.argv[2])))
"""


def measure(argv: list[str]) -> dict[str, float]:
    """Run argv with stdout discarded; its wall time, CPU time and peak RSS (MiB)."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(argv, stdout=devnull, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed: {stderr.strip()[-500:]}")
    return {"wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024}


def bench(counts: list[int]) -> list[dict[str, Any]]:
    rows = [{"what": "floor: the imports alone", "posts": 0, "bytes": 0,
             **measure([sys.executable, "-c", FLOOR])}]
    with tempfile.TemporaryDirectory() as work:
        for posts in counts:
            export = Path(work) / f"export-{posts}.xml"
            # Written by a child: Linux starts a child's peak RSS at its parent's, so this process
            # must never hold an export itself.
            subprocess.run([sys.executable, "-c", WRITE_EXPORT, str(ROOT / "scripts" / "make_wxr.py"), str(posts),
                            str(export)], check=True)
            result = measure([sys.executable, "-m", "archiver", "normalize", str(export)])
            rows.append({"what": f"normalize a WXR export of {posts:,} posts", "posts": posts,
                         "bytes": export.stat().st_size, **result})
            print(rows[-1], file=sys.stderr)
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    lines = [HEADING, "",
             "Peak RSS of `python -m archiver normalize FILE > /dev/null` (a child process; wait4), on synthetic WXR "
             "exports (`scripts/make_wxr.py`, two paragraphs per post). Regenerate with `make bench` "
             f"(`scripts/bench_normalize_memory.py`). Measured on {time.strftime('%Y-%m-%d')} on this machine "
             f"({os.cpu_count()} CPUs, shared with other work: times are noisy, memory is not).", "",
             "| run | posts | MB | peak RSS MiB | wall s | CPU s |", "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['what']} | {row['posts']:,} | {row['bytes'] / 1e6:.1f} | {row['peak_mib']:.0f} | "
                     f"{row['wall_s']:.1f} | {row['cpu_s']:.1f} |")
    floor, *runs = rows
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        lines += ["", f"From {small['posts']:,} to {large['posts']:,} posts ({large['posts'] / small['posts']:.0f}x), "
                  f"the peak goes from {small['peak_mib']:.0f} to {large['peak_mib']:.0f} MiB "
                  f"({large['peak_mib'] / small['peak_mib']:.2f}x); imports alone: {floor['peak_mib']:.0f} MiB."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[2500, 25000])
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    args = parser.parse_args(argv)
    text = report(bench(args.posts))
    publish(text, HEADING, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
