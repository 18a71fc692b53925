"""`make stress`: hostile inputs and 1,000 ordinary ones through the local stack; writes docs/reliability.md.

    .venv/bin/python scripts/stress.py [--ordinary 1000] [--out docs/reliability.md] [--no-browser]

1. Builds the hostile inputs of scripts/hostile_inputs.py (every class of issue 7: time, memory,
   bad input, sanitizer), XSS vectors as posts, and ordinary posts with distinct texts.
2. Per hostile input, the cost of its normalization in a child process of its own
   (scripts/measure_inputs.py): outcome, wall time, peak RSS from wait4.
3. Everything is dropped into the embedded local AWS inbox and archived by the deployed wiring
   (inbox -> SQS -> handler, archiver.local.runner): every input must have an outcome record,
   and every post of an archived input must have its version in the table and its post.json.
4. The archived pages are exported and opened in headless Chromium (Debian's /usr/bin/chromium
   through Playwright): no script may run (no dialog, no marker set by a payload), no request may
   leave the page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
RSS_TARGET_MB = 512


# Each payload, if any script ran, would open a dialog or set window.__xss.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '<svg onload="window.__xss=3"><circle r="1"/></svg>',
    '<body onload="window.__xss=4">',
    '<iframe src="javascript:parent.__xss=5"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=6</script>"></iframe>',
    '<a href="javascript:window.__xss=7">click</a>',
    '<a href=" JaVaScRiPt:window.__xss=8">click</a>',
    '<a href="&#106;avascript:window.__xss=9">click</a>',
    '<blockquote cite="javascript:window.__xss=10">quote</blockquote>',
    '<q cite="javascript:window.__xss=11">quote</q>',
    '<object data="javascript:window.__xss=12"></object>',
    '<embed src="javascript:window.__xss=13">',
    '<form action="javascript:window.__xss=14"><button>go</button></form>',
    '<math><mi xlink:href="javascript:window.__xss=15">m</mi></math>',
    '<details open ontoggle="window.__xss=16">d</details>',
    '<video><source onerror="window.__xss=17"></video>',
    '<style>@import "javascript:window.__xss=18";</style>',
    '<div style="background:url(javascript:window.__xss=19)">bg</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=20">',
    '<base href="javascript:/">',
    '<img src="https://tracker.example/pixel.gif" alt="tracker">',
    '<link rel="stylesheet" href="https://cdn.example/x.css">',
    "<noscript><p title=\"</noscript><img src=x onerror=window.__xss=21>\"></noscript>",
    '<template><script>window.__xss=22</script></template>',
    "<![CDATA[<script>window.__xss=23</script>]]>",
    '<p><a href="data:text/html,<script>alert(24)</script>">data</a></p>',
    '<img src="data:image/svg+xml,<svg onload=alert(25)>">',
    '"><script>window.__xss=26</script>',
    "</title><script>window.__xss=27</script>",
    "<textarea></textarea><script>window.__xss=28</script>",
    '<select><style></select><img src=x onerror="window.__xss=29">',
    "{{constructor.constructor('window.__xss=30')()}}",
    '[caption]<img src=x onerror="window.__xss=31">[/caption]',
    '[video src="javascript:window.__xss=32"][/video]',
    '<iframe/src="javascript:window.__xss=33"/>',
    '<scr<script>ipt>window.__xss=34</scr</script>ipt>',
    '<a href="java\nscript:window.__xss=35">nl</a>',
    '<svg><a xlink:href="javascript:window.__xss=36"><text y="20">t</text></a></svg>',
]


def xss_inputs() -> list[tuple[str, bytes]]:
    """Each vector in a Markdown post's body, in a title, and in an HTML page; plus one feed of them all."""
    inputs = []
    for i, vector in enumerate(XSS_VECTORS):
        body = f"Before the vector.\n\n{vector}\n\nAfter the vector, ordinary words follow here.\n"
        inputs.append((f"xss-{i:02d}-body.md", f"---\ntitle: XSS body {i}\n---\n{body}".encode()))
        title = json.dumps(f"XSS title {i} {vector}")
        inputs.append((f"xss-{i:02d}-title.md", f"---\ntitle: {title}\nauthor: {title}\n---\nBody {i}.\n".encode()))
        page = (f"<!doctype html><html><head><title>XSS page {i}</title></head><body><article><h1>XSS page {i}"
                f"</h1><p>{' '.join(['Words of an article body that extractors keep.'] * 8)}</p>{vector}"
                f"<p>{' '.join(['More article text after the vector, for the extractor.'] * 8)}</p>"
                "</article></body></html>")
        inputs.append((f"xss-{i:02d}-page.html", page.encode()))
    items = "".join(f"<item><title>XSS item {i}</title><link>https://feed.example/{i}</link>"
                    f"<description><![CDATA[<p>Item {i}.</p>{v}]]></description></item>"
                    for i, v in enumerate(XSS_VECTORS))
    inputs.append(("xss-feed.rss", f"<?xml version='1.0'?><rss version='2.0'><channel><title>XSS</title>"
                                   f"<link>https://feed.example/</link>{items}</channel></rss>".encode()))
    return inputs


def ordinary_inputs(count: int) -> list[tuple[str, bytes]]:
    import random

    rng = random.Random(11)
    words = ["harbour", "council", "library", "ferry", "market", "river", "bridge", "school", "budget", "storm",
             "garden", "museum", "festival", "railway", "clinic", "theatre", "election", "weather", "fishing"]
    inputs = []
    for i in range(count):
        text = "\n\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(40, 120))).capitalize() + "."
                           for _ in range(rng.randint(2, 6)))
        inputs.append((f"ordinary/{i:04d}-post.md",
                       f"---\ntitle: Ordinary post {i}\ndate: 2024-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
                       f"url: https://ordinary.example/{i}\ntags: [news, n{i % 7}]\n---\n{text}\n".encode()))
    return inputs


def through_the_stack(files: list[tuple[str, Path]]) -> dict[str, Any]:
    """Drop every file into the local inbox, let the queue trigger archive them; check outcomes and versions."""
    from archiver.local.runner import LocalFunction, export_bucket
    from archiver.local.stack import LocalAWS

    started = time.monotonic()
    with LocalAWS(ROOT / "template.yaml") as aws:
        resources = aws.create_resources()
        function = LocalFunction(aws, resources)
        s3 = aws.client("s3")
        for key, path in files:
            with path.open("rb") as body:
                s3.put_object(Bucket=resources.inbox_bucket, Key=key, Body=body)
        function.drain_queue()
        outcomes: dict[str, dict[str, Any] | None] = {}
        lost: list[str] = []
        for key, _ in files:
            record = function.store.get_outcome(resources.inbox_bucket, key)
            outcomes[key] = record
            for post_id in (record or {}).get("post_ids", []) if (record or {}).get("status") == "archived" else []:
                post = function.store.get_post(post_id)
                if not post or not int(post.get("version", 0)):
                    lost.append(f"{key}: {post_id} has no version")
                    continue
                try:
                    s3.head_object(Bucket=resources.archive_bucket, Key=post["json_key"])
                except Exception:  # any failure to find it counts as a lost version
                    lost.append(f"{key}: {post_id} has no post.json")
        export = Path(tempfile.mkdtemp(prefix="stress-export-"))
        export_bucket(s3, resources.archive_bucket, export)
    return {"outcomes": outcomes, "lost": lost, "export": export, "seconds": time.monotonic() - started}


# URL attributes whose scheme is not http(s)/mailto: none may survive the sanitizer.
_UNSAFE_URLS_JS = r"""() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
    .filter(a => /^(href|src|cite|action|formaction|data|srcdoc|xlink:href|background|poster)$/i.test(a.name))
    .filter(a => /^\s*[a-z][a-z0-9+.-]*:/i.test(a.value) && !/^\s*(https?|mailto):/i.test(a.value))
    .map(a => `${e.tagName.toLowerCase()}[${a.name}]=${a.value.slice(0, 80)}`))"""


def in_chromium(pages: list[Path]) -> dict[str, Any]:
    """Open each page: no script may run, no request may leave it, no script URL may be left in it."""
    from playwright.sync_api import sync_playwright

    ran: list[str] = []
    remote: list[str] = []
    unsafe: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        context = browser.new_context(java_script_enabled=True)  # the payloads' own scripts could run
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (remote.append(route.request.url), route.abort()))
        for page_path in pages:
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog, dialogs=dialogs: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_timeout(50)  # let onload/onerror handlers fire
            marker = page.evaluate("() => window.__xss ?? null")
            if dialogs or marker is not None:
                ran.append(f"{page_path.parent.name}: dialogs={dialogs} marker={marker}")
            unsafe += [f"{page_path.parent.name}: {found}" for found in page.evaluate(_UNSAFE_URLS_JS)]
            page.close()
        browser.close()
    return {"pages": len(pages), "ran": ran, "remote": remote, "unsafe": unsafe}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ordinary", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--timeout", type=float, default=300, help="per hostile input, in its child process")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    import hostile_inputs as hostile_module  # scripts/, beside this one

    work = Path(tempfile.mkdtemp(prefix="stress-inputs-"))

    files: list[tuple[str, Path]] = []
    hostile = list(hostile_module.hostile_inputs())
    for item in hostile:
        path = work / "hostile" / item.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.build())
        files.append((f"hostile/{item.name}", path))
    for name, data in [*xss_inputs(), *ordinary_inputs(args.ordinary)]:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append((name if name.startswith("ordinary/") else f"xss/{name}", path))
    print(f"{len(files)} inputs in {work}", file=sys.stderr)

    # Measured from a fresh launcher: Linux starts a child's peak RSS at its parent's, and this
    # process has held the 50 MB inputs it built.
    launcher = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "measure_inputs.py"), "--json", "--timeout",
                                 str(args.timeout), *(str(work / "hostile" / item.name) for item in hostile)],
                                stdout=subprocess.PIPE, text=True)
    costs = []
    for item, line in zip(hostile, launcher.stdout, strict=True):
        result = json.loads(line)
        result.update(kind=item.kind, expect=item.expect)
        costs.append(result)
        print(json.dumps(result), file=sys.stderr, flush=True)
    launcher.wait()

    log = work / "handler.log"  # the handler's JSON log lines, one or more per input
    with log.open("w") as sink, contextlib.redirect_stderr(sink):
        stack = through_the_stack(files)
    print(f"handler log: {log}", file=sys.stderr)
    browser = None
    if not args.no_browser:
        pages = sorted((stack["export"] / "posts").rglob("index.html"))
        ordinary = [p for p in pages if "ordinary.example" in str(p)]
        # Every page of a hostile or XSS input, and a sample of the ordinary ones.
        browser = in_chromium([p for p in pages if p not in set(ordinary)] + ordinary[:: max(1, len(ordinary) // 50)])
    report = _report(costs, stack, browser, len(hostile), len(XSS_VECTORS), args.ordinary)
    args.out.write_text(report)
    print(report)
    recorded = sum(1 for record in stack["outcomes"].values() if record)
    ok = recorded == len(files) and not stack["lost"] and (
        browser is None or not (browser["ran"] or browser["remote"] or browser["unsafe"]))
    return 0 if ok else 1


def _report(costs: list[dict], stack: dict, browser: dict | None, n_hostile: int, n_xss: int, n_ordinary: int) -> str:
    outcomes = stack["outcomes"]
    recorded = sum(1 for record in outcomes.values() if record)
    by_status: dict[str, int] = {}
    for record in outcomes.values():
        status = (record or {}).get("status", "none")
        by_status[status] = by_status.get(status, 0) + 1
    accepted = [c for c in costs if c.get("outcome") == "archived"]
    lines = [
        "# Reliability: hostile inputs through the local stack",
        "",
        "Written by `make stress` (`scripts/stress.py`); every number is measured by that run. Hostile",
        "inputs: `scripts/hostile_inputs.py` (one or more per class of issue 7); per-input cost: each input",
        "normalized alone in a child process (`scripts/measure_inputs.py`: wall time, peak RSS from wait4);",
        "then all inputs dropped into the embedded local AWS and archived by the deployed wiring",
        "(inbox -> SQS -> handler, in-process); archived pages opened in headless Chromium.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| inputs tried | {len(outcomes)} ({n_hostile} hostile, {3 * n_xss + 1} XSS posts/pages/feed, "
        f"{n_ordinary} ordinary) |",
        f"| outcomes recorded | {recorded} (must equal inputs) |",
        f"| outcomes | {', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))} |",
        f"| versions lost | {len(stack['lost'])} (must be 0) |",
        f"| peak RSS of an accepted hostile input | {max((c['peak_rss_mb'] for c in accepted), default=0):.0f} MB "
        f"(target <= {RSS_TARGET_MB} MB) |",
        f"| peak RSS of any hostile input | {max(c['peak_rss_mb'] for c in costs):.0f} MB |",
        f"| longest time for one hostile input | {max(c['seconds'] for c in costs):.1f} s |",
        f"| the whole run through the stack | {stack['seconds']:.0f} s |",
    ]
    if browser is not None:
        lines += [
            f"| archived pages opened in Chromium | {browser['pages']} |",
            f"| pages where a script ran | {len(browser['ran'])} (must be 0) |",
            f"| requests that tried to leave a page | {len(browser['remote'])} (must be 0) |",
            f"| URL attributes with a scheme other than http(s)/mailto | {len(browser['unsafe'])} (must be 0) |",
        ]
    lines += ["", "## Each hostile input", "",
              "| input | class | bytes | outcome | expected | time (s) | ms/KB | peak RSS (MB) |",
              "|---|---|---:|---|---|---:|---:|---:|"]
    for c in costs:
        per_kb = c["seconds"] / max(c["bytes"] / 1024, 1) * 1000
        lines.append(f"| {c['input']} | {c['kind']} | {c['bytes']:,} | {c['outcome']} | {c['expect']} | "
                     f"{c['seconds']:.2f} | {per_kb:.2f} | {c['peak_rss_mb']:.0f} |")
    if stack["lost"] or (browser and (browser["ran"] or browser["remote"] or browser["unsafe"])):
        lines += ["", "## Problems", "", *[f"- {p}" for p in stack["lost"]],
                  *[f"- script ran: {p}" for p in (browser or {}).get("ran", [])],
                  *[f"- remote request: {p}" for p in (browser or {}).get("remote", [])[:20]],
                  *[f"- unsafe URL: {p}" for p in (browser or {}).get("unsafe", [])[:20]]]
    lines += ["", f"Machine: {os.cpu_count()} CPUs shared with other work; times include each child's "
              "interpreter start and imports (about 1 s).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
