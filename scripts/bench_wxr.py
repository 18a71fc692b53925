"""Benchmark: a large WordPress export through the deployed wiring, peak memory and time per invocation.

    .venv/bin/python scripts/bench_wxr.py [--size-mb 100] [--all] [--out docs/benchmarks.md]

Generates a synthetic export (scripts/make_wxr.py, distinct texts), starts the embedded local AWS
(moto server) in this process, drops the export into the local inbox, then runs each handler
invocation in a child process, as Lambda runs the function in its own: the child's peak RSS
(from wait4) is the function's memory, without moto's in-memory copies of the objects.

Children are started by a small launcher process forked before moto holds anything: Linux carries
the peak RSS of the process that forks (or vforks) into the child's `ru_maxrss`, so children forked
from this process directly would report moto's memory. Each child also reports its own `VmHWM`
(/proc/self/status: the peak of the address space it executed into), which must agree. Phases:

  baseline  the handler module imported, no event (cold start)
  parent    the inbox notification: read the object (spooled to a temp file), save the raw bytes,
            count the posts, queue one message per chunk
  chunk     one chunk message, cold (the raw object downloaded again)
  all       (--all) every chunk, in batches of 10 messages per invocation as the SQS trigger sends them
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from docs_section import publish  # scripts/ is on the path of a script run as `python scripts/...`

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## WXR export: memory and fan-out"
LIMIT_MB = 256


# ----------------------------------------------------------------- child: one Lambda invocation


def child(event_path: str) -> int:
    """Import the handler as Lambda does (cold start) and invoke it once; print timings as JSON."""
    import resource

    started = time.perf_counter()
    from archiver.local.runner import LambdaContext
    from archiver.local.template import FUNCTION_ID, load_template

    template = load_template(ROOT / "template.yaml")
    props = template["Resources"][FUNCTION_ID]["Properties"]
    module_name, handler_name = props["Handler"].rsplit(".", 1)
    spec = importlib.util.spec_from_file_location("app", ROOT / props["CodeUri"] / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    event = json.loads(Path(event_path).read_text("utf-8")) if event_path != "-" else None
    response = getattr(module, handler_name)(event, LambdaContext()) if event else None
    done = time.perf_counter()
    status = Path("/proc/self/status").read_text()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"import_s": imported - started, "invoke_s": done - imported, "response": response,
                      "vmhwm_mb": hwm_kb / 1024,
                      "self_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


def launcher() -> int:
    """Run the commands read from stdin (one JSON line each) and report each child's rusage."""
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        with open(request["stdout"], "wb") as stdout, open(request["stderr"], "wb") as stderr:
            proc = subprocess.Popen(request["argv"], env=request["env"], stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        print(json.dumps({"returncode": proc.returncode, "maxrss_kb": usage.ru_maxrss,
                          "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.perf_counter() - started}),
              flush=True)
    return 0


class Launcher:
    """The launcher process: started first, while this process is still small."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--launcher"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict[str, str], stdout: Path, stderr: Path) -> dict[str, Any]:
        request = {"argv": argv, "env": env, "stdout": str(stdout), "stderr": str(stderr)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run_child(launch: Launcher, event: dict[str, Any] | None, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """Run one invocation in a child process; its peak RSS comes from wait4 (this child only)."""
    event_file = "-"
    if event is not None:
        event_file = str(workdir / "event.json")
        Path(event_file).write_text(json.dumps(event), "utf-8")
    out = workdir / "child.out"
    err = workdir / "child.err"
    usage = launch.run([sys.executable, __file__, "--child", event_file], env, out, err)
    if usage["returncode"] != 0:
        raise SystemExit(f"child failed ({usage['returncode']}):\n{err.read_text()[-3000:]}")
    result = json.loads(out.read_text().strip().splitlines()[-1])
    result.update({"wall_s": usage["wall_s"], "cpu_s": usage["cpu_s"], "maxrss_mb": usage["maxrss_kb"] / 1024})
    return result


# ----------------------------------------------------------------- parent


def receive(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(messages)),
                                  WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        messages += got
        if len(messages) >= limit:
            break
    return messages


def bench(size_mb: float, run_all: bool, keep: Path | None) -> dict[str, Any]:
    from archiver.local.runner import sqs_event
    from archiver.local.stack import LocalAWS

    launch = Launcher()  # first: see the module docstring
    workdir = Path(tempfile.mkdtemp(prefix="bench-wxr-"))
    lambda_tmp = workdir / "lambda-tmp"  # the function's /tmp (spooled inputs, the raw cache)
    lambda_tmp.mkdir()
    try:
        export = workdir / "export.xml"
        import make_wxr  # scripts/, beside this one

        started = time.perf_counter()
        counts = make_wxr.write_wxr(export, int(size_mb * 1024 * 1024), distinct=True)
        print(f"generated {export.stat().st_size / 1048576:.1f} MB, {counts} in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)

        with LocalAWS(ROOT / "template.yaml") as aws:
            resources = aws.create_resources()
            sqs, s3 = aws.client("sqs"), aws.client("s3")
            url = resources.queue_url
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sqs.purge_queue(QueueUrl=url)  # the s3:TestEvent
            env = {**os.environ, **resources.environment, "POWERTOOLS_TRACE_DISABLED": "true",
                   "AWS_LAMBDA_FUNCTION_NAME": "ArchiverFunction", "SPOOL_DIR": str(lambda_tmp),
                   "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
            with export.open("rb") as body:
                s3.put_object(Bucket=resources.inbox_bucket, Key=export.name, Body=body)

            results: dict[str, Any] = {"size_mb": export.stat().st_size / 1048576, "items": counts,
                                       "chunk_posts": int(resources.environment.get("CHUNK_POSTS", 250))}
            results["baseline"] = run_child(launch, None, env, workdir)
            print(f"baseline: {results['baseline']['maxrss_mb']:.0f} MB (VmHWM {results['baseline']['vmhwm_mb']:.0f})",
                  file=sys.stderr)

            notification = receive(sqs, url, 10)
            results["parent"] = run_child(launch, sqs_event(notification, arn), env, workdir)
            from archiver.store import ArchiveStore

            store = ArchiveStore(s3, aws.client("dynamodb"), archive_bucket=resources.archive_bucket,
                                 table_name=resources.table_name)
            parent = store.get_outcome(resources.inbox_bucket, export.name)
            results["parent"]["outcome"] = {k: parent.get(k) for k in ("status", "chunks", "raw_key")}
            parent_result = results["parent"]
            print(f"parent: {parent_result['maxrss_mb']:.0f} MB (VmHWM {parent_result['vmhwm_mb']:.0f}), "
                  f"{results['parent']['wall_s']:.1f} s, "
                  f"{results['parent']['outcome']}", file=sys.stderr)

            first = receive(sqs, url, 1)
            results["chunk"] = run_child(launch, sqs_event(first, arn), env, workdir)
            chunk_body = json.loads(first[0]["Body"])["archiver_chunk"]
            results["chunk"]["range"] = [chunk_body["start"], chunk_body["stop"]]
            results["posts_total"] = chunk_body["total"]
            chunk_result = results["chunk"]
            print(f"chunk: {chunk_result['maxrss_mb']:.0f} MB (VmHWM {chunk_result['vmhwm_mb']:.0f}), "
                  f"{results['chunk']['wall_s']:.1f} s",
                  file=sys.stderr)

            if run_all:
                batches = []
                while messages := receive(sqs, url, 10):
                    result = run_child(launch, sqs_event(messages, arn), env, workdir)
                    result["messages"] = len(messages)
                    batches.append(result)
                    print(f"batch {len(batches)}: {len(messages)} chunks, {result['maxrss_mb']:.0f} MB, "
                          f"{result['wall_s']:.1f} s", file=sys.stderr)
                chunks = store.list_chunk_outcomes(parent)
                results["all"] = {
                    "batches": len(batches),
                    "wall_s": sum(b["wall_s"] for b in batches) + results["chunk"]["wall_s"],
                    "cpu_s": sum(b["cpu_s"] for b in batches) + results["chunk"]["cpu_s"],
                    "max_maxrss_mb": max([b["maxrss_mb"] for b in batches] + [results["chunk"]["maxrss_mb"]]),
                    "max_vmhwm_mb": max([b["vmhwm_mb"] for b in batches] + [results["chunk"]["vmhwm_mb"]]),
                    "chunk_outcomes": len(chunks),
                    "statuses": sorted({c["status"] for c in chunks}),
                    "posts": sum(len(c.get("post_ids", [])) for c in chunks),
                    "unique_posts": len({i for c in chunks for i in c.get("post_ids", [])}),
                }
                print(f"all: {results['all']}", file=sys.stderr)
        return results
    finally:
        launch.close()
        if keep:
            shutil.copytree(workdir, keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict[str, Any]) -> str:
    peak = max(results[p]["maxrss_mb"] for p in ("parent", "chunk"))
    if "all" in results:
        peak = max(peak, results["all"]["max_maxrss_mb"])
    items = results["items"]
    lines = [
        HEADING,
        "",
        f"A {results['size_mb']:.0f} MB synthetic WordPress export (`scripts/make_wxr.py --distinct`: "
        f"{items['post']:,} posts, {items['attachment']:,} attachments, {items['nav_menu_item']:,} menu items; "
        f"{results['posts_total']:,} posts to archive once auto-drafts are skipped) dropped into the local "
        f"inbox, `CHUNK_POSTS={results['chunk_posts']}`. Each invocation runs the handler in a child process "
        "(the moto server stays in the parent, so its copies of the objects are not counted); peak RSS is "
        "the child's `ru_maxrss` from `wait4`. Regenerate with `make bench` "
        "(`scripts/bench_wxr.py --all` for every chunk).",
        "",
        "| invocation | what it does | peak RSS (`ru_maxrss`) | `VmHWM` | wall time | CPU time |",
        "|---|---|---:|---:|---:|---:|",
        f"| cold start only | imports the handler module, no event | {results['baseline']['maxrss_mb']:.0f} MB "
        f"| {results['baseline']['vmhwm_mb']:.0f} MB | {results['baseline']['wall_s']:.1f} s | "
        f"{results['baseline']['cpu_s']:.1f} s |",
        f"| inbox notification | spool the object to /tmp, hash + upload the raw bytes, count posts, queue "
        f"{results['parent']['outcome']['chunks']} chunk messages (`fanned_out`) | "
        f"{results['parent']['maxrss_mb']:.0f} MB | {results['parent']['vmhwm_mb']:.0f} MB | "
        f"{results['parent']['wall_s']:.1f} s | {results['parent']['cpu_s']:.1f} s |",
        "| one chunk (cold) | read its slice of the raw object (one ranged GET) and the shared context, posts "
        f"{results['chunk']['range'][0]}-"
        f"{results['chunk']['range'][1]}: parse, normalize, store | {results['chunk']['maxrss_mb']:.0f} MB | "
        f"{results['chunk']['vmhwm_mb']:.0f} MB | {results['chunk']['wall_s']:.1f} s | "
        f"{results['chunk']['cpu_s']:.1f} s |",
    ]
    if "all" in results:
        a = results["all"]
        lines.append(
            f"| all chunks | {a['chunk_outcomes']} chunks in {a['batches']} batches of up to 10 (+ the one above); "
            f"{a['unique_posts']:,} posts, statuses {', '.join(a['statuses'])} | max {a['max_maxrss_mb']:.0f} MB | "
            f"max {a['max_vmhwm_mb']:.0f} MB | {a['wall_s']:.0f} s in total | {a['cpu_s']:.0f} s in total |")
    lines += [
        "",
        f"Peak over every invocation: **{peak:.0f} MB** (limit {LIMIT_MB} MB). Times are against moto on one "
        "machine, sequentially; in AWS the chunks run in parallel, one invocation per batch.",
        "",
        "Running every chunk of 100 MB locally takes hours: moto's DynamoDB `Query` scans the whole table "
        "(`Table.query` iterates `all_items()`), so each post's story lookup slows down as the table grows; "
        "DynamoDB itself reads one partition. `--all` on a few MB shows the whole path (see below).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="EVENT", help=argparse.SUPPRESS)
    parser.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size-mb", type=float, default=100.0, help="export size (default 100)")
    parser.add_argument("--all", action="store_true", help="also run every chunk (long: tens of minutes)")
    parser.add_argument("--out", type=Path, help="write the results section into this Markdown file")
    parser.add_argument("--keep", type=Path, help="keep the work folder's files here")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.launcher:
        return launcher()
    results = bench(args.size_mb, args.all, args.keep)
    section = report(results)
    publish(section, HEADING, args.out)
    peak = max(results[p]["maxrss_mb"] for p in ("parent", "chunk"))
    if "all" in results:
        peak = max(peak, results["all"]["max_maxrss_mb"])
    return 0 if peak < LIMIT_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
