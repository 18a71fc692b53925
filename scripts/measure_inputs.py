"""Time and peak memory of normalizing each input, one child process per input.

    .venv/bin/python scripts/measure_inputs.py FILE... [--timeout 120] [--json]

Each file goes through `archiver.pipeline.normalize_input` (the path of `archiver normalize`) in
its own child process; the child's peak RSS comes from wait4, its time from the wall clock, its
outcome (posts, or the error code) from its output. A child still running after --timeout is
killed and reported as such. Also reports time per KB, the number `make stress` tabulates.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def child(path: str) -> int:
    from archiver.errors import ArchiverError
    from archiver.model import Input, Origin
    from archiver.pipeline import normalize_input

    file = Path(path)
    item = Input(data=file.read_bytes(), name=file.name, origin=Origin(kind="file", uri=str(file.resolve())))
    try:
        posts = normalize_input(item)
    except ArchiverError as exc:
        print(json.dumps({"outcome": exc.code, "message": exc.message[:200]}))
        return 0
    json.dumps([post.to_dict() for post in posts], allow_nan=False)  # post.json must be writable
    warnings = sorted({w[:80] for post in posts for w in post.warnings})
    print(json.dumps({"outcome": "archived", "posts": len(posts), "warnings": warnings[:3]}))
    return 0


def measure(path: Path, timeout: float) -> dict:
    """Run one child; its outcome, wall time and peak RSS."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, __file__, "--child", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    status = rusage = None
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            process.send_signal(signal.SIGKILL)
            _, status, rusage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.monotonic() - started
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    result = {"input": path.name, "bytes": path.stat().st_size, "seconds": round(seconds, 2),
              "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1)}
    if seconds > timeout:
        result["outcome"] = f"killed after {timeout:.0f} s"
    elif process.returncode != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        result["outcome"] = f"crashed: {last[:160]}"
    else:
        result.update(json.loads(out.strip().splitlines()[-1]))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--child")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--json", action="store_true", help="one JSON line per input")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    for path in args.files:
        result = measure(path, args.timeout)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            per_kb = result["seconds"] / max(result["bytes"] / 1024, 1) * 1000
            print(f"{result['input']:28} {result['bytes']:>11,} B {result['seconds']:>8.2f} s "
                  f"{per_kb:>8.2f} ms/KB {result['peak_rss_mb']:>8.1f} MB  {result['outcome']}"
                  + (f"  {result.get('message', '')[:90]}" if result.get("message") else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
