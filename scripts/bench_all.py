"""`make bench`: every benchmark of docs/benchmarks.md, one after the other, and how long each took.

    .venv/bin/python scripts/bench_all.py --calls-baseline REV [--host .aws-sam/host] [--out docs/benchmarks.md]

Each benchmark runs as its own process (so that one's memory and imports do not weigh on the next)
and writes its own section; this script adds a section with the wall time of each and of all, which
issue 10 bounds at 10 minutes. Fetching runs here at 500 feeds on 50 hosts with one entry each: every
fetch-side count (requests, robots.txt, the conditional second run) is at issue 6's scale while the
archiving stays small. `make bench-scale` runs it with 50 entries per feed (25,000 posts, about 75
minutes) into docs/benchmarks-at-scale.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`
from timing import timed

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## How long `make bench` takes"
LIMIT_SECONDS = 600

STEPS = [  # (what it measures, script and arguments), in the order they run
    ("WXR export: memory and time per invocation (100 MB)", ["bench_wxr.py", "--size-mb", "100"]),
    ("WXR export: parsing per chunk (100 MB)", ["bench_chunks.py", "--size-mb", "100"]),
    ("normalizing a post against one parse", ["bench_normalize.py"]),
    ("`archiver normalize`: memory against posts", ["bench_normalize_memory.py", "--posts", "2500", "25000"]),
    ("HTML page extraction against one trafilatura pass", ["bench_extraction.py"]),
    ("cold start of the built artifact", ["bench_cold_start.py"]),
    ("storage calls per input", ["count_storage_calls.py"]),
    ("fetching: 500 feeds on 50 hosts, one entry each",
     ["bench_fetch.py", "--hosts", "50", "--feeds-per-host", "10", "--entries", "1"]),
    ("fetching: a 50,000-page sitemap over scheduled runs", ["bench_sitemap.py", "--urls", "50000"]),
]


def run(script_and_args: list[str], out: Path, args: argparse.Namespace) -> float:
    """Run one benchmark script writing into `out`; its wall seconds (it fails the whole run if it fails)."""
    extra = {"bench_cold_start.py": ["--host", str(args.host)],
             "count_storage_calls.py": ["--baseline", args.calls_baseline]}.get(script_and_args[0], [])
    command = [sys.executable, str(ROOT / "scripts" / script_and_args[0]), *script_and_args[1:], *extra,
               "--out", str(out)]
    print("+", " ".join(command), flush=True)
    return timed(lambda: subprocess.run(command, check=True, cwd=ROOT))[0].wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", type=Path, default=ROOT / ".aws-sam" / "host", help="the `make build-host` folder")
    parser.add_argument("--calls-baseline", required=True, help="the revision storage calls are compared with")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    seconds = [(what, run(script_and_args, args.out, args)) for what, script_and_args in STEPS]
    total = sum(spent for _, spent in seconds)
    verdict = "met" if total <= LIMIT_SECONDS else f"NOT met ({total / LIMIT_SECONDS:.2f} of the limit)"
    section = "\n".join([
        HEADING, "",
        "Every table in this file comes from one `make bench` (`scripts/bench_all.py`), which runs the "
        "benchmarks one after the other, each in a process of its own. Wall time of each, measured "
        f"{datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the "
        "end), with the virtualenv and the host build (`make build-host`) already made. Accuracy is measured "
        "by `make eval` and `make eval-language` (docs/evaluation.md); fetching at 25,000 posts by "
        "`make bench-scale` (docs/benchmarks-at-scale.md).", "",
        "| benchmark | wall s |", "|---|---:|",
        *(f"| {what} | {spent:.0f} |" for what, spent in seconds),
        f"| **all of `make bench`** | **{total:.0f}** |", "",
        f"Target: under {LIMIT_SECONDS // 60} minutes: {verdict}.", ""])
    publish(section, HEADING, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
