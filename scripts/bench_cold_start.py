#!/usr/bin/env python3
"""Cold import of the built artifact: the handler module's import time, with and without `.pyc`.

Runs on the host build of `make build-host` (.aws-sam/host): each sample is a fresh
`python3.12 -I -S` process whose imports come only from the function folder, the layer's python/
and the runtime's boto3 (as archiver.local.built runs the function), with the function's
environment, timing `import app` (what Lambda's init does). "without .pyc" is a copy of the
function and layer with every __pycache__ removed, run with -B: on Lambda's read-only /opt and
/var/task nothing can be written, so every cold start compiles every module again. The floor is
`import boto3` plus Powertools' Logger, Metrics and Tracer from the same folders.
Writes a table into docs/benchmarks.md with --out.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import check_build  # scripts/, beside this one
from docs_section import write_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "archiver"))

SECTION = "## Cold start of the built artifact"
HANDLER_IMPORT = "import app"
FLOOR_IMPORT = "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer"
ISSUE_FLOOR_IMPORT = "import boto3, aws_lambda_powertools"
IMPORT_TARGET_MS = 150  # handler import at most this much over `import boto3, aws_lambda_powertools`
SURCHARGE_TARGET_MS = 100  # the first event at most this much dearer than the next
SEED = ROOT.parent / "shared" / "seed"


def timing_code(paths: list[Path], statement: str) -> str:
    """A -c program printing the statement's CPU and wall milliseconds."""
    return (f"import sys, time; sys.path[:0] = {[str(p) for p in paths]!r}; "
            "c, t = time.process_time(), time.perf_counter(); "
            f"{statement}; print((time.process_time() - c) * 1000, (time.perf_counter() - t) * 1000)")


def sample(python: str, paths: list[Path], statement: str, env: dict[str, str], *,
           no_bytecode: bool) -> tuple[float, float]:
    """(CPU ms, wall ms) of one cold import."""
    flags = ["-I", "-S", *(["-B"] if no_bytecode else [])]
    out = subprocess.run([python, *flags, "-c", timing_code(paths, statement)], env=env, cwd=paths[0],
                         capture_output=True, text=True, check=True, timeout=120)
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def import_breakdown(python: str, paths: list[Path], env: dict[str, str]) -> list[tuple[str, float]]:
    """Top-level packages by the import time spent in their own modules (`-X importtime` self times)."""
    out = subprocess.run([python, "-I", "-S", "-X", "importtime", "-c", timing_code(paths, HANDLER_IMPORT)],
                         env=env, cwd=paths[0], capture_output=True, text=True, check=True, timeout=120)
    totals: dict[str, float] = {}
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            name = match.group(2).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])


def first_post_surcharge(python: str, paths: list[Path], env: dict[str, str]) -> tuple[float, float]:
    """(CPU ms of the first post, of the same post again) normalized right after `import app`: what
    the first event loads lazily (formats, YAML, cleaning, the language model) shows as the difference."""
    seed = next(p for p in sorted(SEED.iterdir()) if p.is_file())
    code = (f"import sys, time; sys.path[:0] = {[str(p) for p in paths]!r}; import app; "
            "from archiver.model import Input, Origin; from archiver.pipeline import each_normalized; "
            f"data = open({str(seed)!r}, 'rb').read(); spent = []\n"
            "for _ in range(2):\n"
            "    c = time.process_time(); list(each_normalized(Input(data, 'seed.txt', Origin('file', 'seed'))))\n"
            "    spent.append((time.process_time() - c) * 1000)\n"
            "print(*spent)")
    out = subprocess.run([python, "-I", "-S", "-c", code], env=env, cwd=paths[0], capture_output=True, text=True,
                         check=True, timeout=120)
    first, again = out.stdout.strip().splitlines()[-1].split()
    return float(first), float(again)


def without_bytecode(artifact, scratch: Path) -> list[Path]:
    """Copies of the function and layer folders with no __pycache__ (the runtime's boto3 keeps its own)."""
    copies = []
    for source, name in ((artifact.function_dir, "task"), (artifact.layer_dir, "python")):
        target = scratch / name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
        copies.append(target)
    return [*copies, artifact.runtime_dir.resolve()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", type=Path, default=ROOT / ".aws-sam" / "host", help="the `make build-host` folder")
    parser.add_argument("--build", type=Path, default=ROOT / ".aws-sam" / "build",
                        help="the `make build` folder (the arm64 artifact that deploys), for its layer's size")
    parser.add_argument("--runs", type=int, default=7, help="cold starts per case (the median is reported)")
    parser.add_argument("--out", type=Path, help="write the table into this markdown file")
    args = parser.parse_args(argv)

    from archiver.local.built import BuiltArtifact, BuiltFunction
    from archiver.local.stack import LocalAWS

    artifact = BuiltArtifact.from_dir(args.host)
    with LocalAWS(ROOT / "template.yaml") as aws:  # for the function's environment, resolved as in invoke --built
        env = BuiltFunction(aws, aws.create_resources(), artifact).environment()
    paths = [path.resolve() for path in artifact.paths]
    version = subprocess.run([artifact.python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    results: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="archiver-cold-") as scratch:
        stripped = without_bytecode(artifact, Path(scratch))
        cases = {
            "handler import, with .pyc (as built)": (paths, HANDLER_IMPORT, False),
            "handler import, without .pyc (compiled at every cold start)": (stripped, HANDLER_IMPORT, True),
            "floor: boto3 + Powertools Logger/Metrics/Tracer, with .pyc": (paths, FLOOR_IMPORT, False),
            "floor: `import boto3, aws_lambda_powertools`, with .pyc": (paths, ISSUE_FLOOR_IMPORT, False),
        }
        surcharges = []
        for _ in range(args.runs):  # interleaved, so that a busy moment hits every case alike
            for name, (case_paths, statement, no_bytecode) in cases.items():
                results.setdefault(name, []).append(sample(artifact.python, case_paths, statement, env,
                                                           no_bytecode=no_bytecode))
            if SEED.is_dir():
                surcharges.append(first_post_surcharge(artifact.python, paths, env))
    breakdown = import_breakdown(artifact.python, paths, env)
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    sizes = []
    for label, build in (("arm64, `make build`", args.build), ("host, `make build-host`", args.host / "build")):
        if (build / "ArchiverLayer").is_dir():
            zipped, unzipped = check_build.layer_sizes(build)
            sizes.append(f"{label}: {zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped")

    rows = ["| case | CPU ms, median | CPU ms, min-max | wall ms, median |", "|---|---:|---:|---:|"]
    for name, times in results.items():
        cpu, wall = [t[0] for t in times], [t[1] for t in times]
        rows.append(f"| {name} | **{statistics.median(cpu):.0f}** | {min(cpu):.0f}-{max(cpu):.0f} | "
                    f"{statistics.median(wall):.0f} |")
    handler = statistics.median(t[0] for t in results["handler import, with .pyc (as built)"])
    floor = statistics.median(t[0] for t in results["floor: `import boto3, aws_lambda_powertools`, with .pyc"])
    verdicts = [f"Handler import {handler:.0f} ms against a target of the floor + {IMPORT_TARGET_MS} = "
                f"{floor + IMPORT_TARGET_MS:.0f} ms: {'met' if handler <= floor + IMPORT_TARGET_MS else 'not met'} "
                f"({handler - floor:.0f} ms over the floor)."]
    if surcharges:
        first = statistics.median(s[0] for s in surcharges)
        again = statistics.median(s[1] for s in surcharges)
        verdicts.append(f"First post after `import app` (the seed, normalized): {first:.0f} ms, the same post again "
                        f"{again:.0f} ms: a first-event surcharge of {first - again:.0f} ms against a target of "
                        f"{SURCHARGE_TARGET_MS}: {'met' if first - again <= SURCHARGE_TARGET_MS else 'not met'} "
                        "(CPU ms, medians).")
    table = "\n".join([*rows, "", *verdicts])
    biggest = ", ".join(f"{name} {ms:.0f}" for name, ms in breakdown[:8])
    print(table)
    print("layer: " + "; ".join(sizes))
    print(f"import time by package (ms, -X importtime self times, one run): {biggest}")
    if args.out:
        write_section(args.out, SECTION, "\n".join([
            SECTION, "",
            f"The artifact of `make build-host` ({args.host.name}: this machine's architecture, the same build as the "
            f"arm64 one that deploys), each sample a fresh `python{version} -I -S` importing only from the function "
            "folder, the layer's `python/` and the runtime's boto3, with the function's environment; the time of "
            "`import app`, which is what Lambda's init runs. *Without .pyc*: the same folders with every "
            "`__pycache__` removed and `-B`, as on Lambda's read-only `/opt` when a layer ships no `.pyc`: every "
            f"cold start compiles every module. {args.runs} cold starts per case, interleaved, on "
            f"{datetime.now(UTC):%Y-%m-%d}, {load}. CPU time is the process's own (`time.process_time`): "
            "on 2 cores shared with other work the wall time mostly measures the wait for a core.", "",
            table, "",
            "The layer (`scripts/check_build.py`, which `make build` runs; targets 30 MB zipped, 80 MB unzipped): "
            + "; ".join(sizes) + ". Before the lean build (commit 03ce8ee: py3langid with numpy, a second botocore, "
            "babel's locale data, no `.pyc`), measured the same way: 59.2 MB zipped, 143.6 MB unzipped.", "",
            f"Where the handler's import time goes (ms spent in each package's own modules, `-X importtime`, one "
            f"run): {biggest}.", "",
            "Regenerate with `make bench` (or `make bench-cold` alone).",
        ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
