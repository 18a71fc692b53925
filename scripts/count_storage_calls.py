"""Count the AWS calls the handler makes per input: a new post, a redelivery, a duplicate, a new version.

Runs the function in-process against the embedded local AWS (moto server) and counts every call its
own boto3 clients make with a botocore `before-parameter-build.*.*` hook (the harness's calls are not counted),
split into writes and reads, with the DynamoDB write units the writes are billed (estimated from the
request: 1 per KB of a put item, 2 per KB of each item of a transaction; an UpdateItem counts 1, its
lower bound). With `--baseline REF`, the same count runs on the archiver package and template of
that git revision (in a subprocess), so that before and after come from the same run.

    .venv/bin/python scripts/count_storage_calls.py [--baseline REF] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

sys.path.insert(0, str(Path(__file__).resolve().parent))  # docs_section, when imported from elsewhere
from docs_section import write_section

REPO_ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Storage calls per input"
# Over 30 words: the post gets a fingerprint, so the story index is read and written as for real posts.
BODY = b" ".join(b"Word%d of a post long enough to be fingerprinted." % i for i in range(12))
POST = b"---\ntitle: Counting calls\ndate: 2024-05-03\nurl: https://calls.example.com/counting\n---\n" + BODY + b"\n"
CHANGED = POST.replace(b"Word0 ", b"Edited word0 ")
FEED_POSTS = 20  # a feed's posts share its inbox read, raw bytes and outcome records
CASES = ("new post", "the same notification delivered again", "the same post under another key",
         "a new version of the post", f"a feed of {FEED_POSTS} new posts, per post",
         "the same feed under another key, per post")
# Targets of issue 10: storage writes per new post, calls in all per duplicate.
TARGETS = {"new post": ("writes", 4), "the same notification delivered again": ("calls", 2),
           "the same post under another key": ("calls", 2), CASES[4]: ("writes", 4), CASES[5]: ("calls", 2)}
COMMIT_OPERATIONS = frozenset({"BatchWriteItem", "PutItem", "TransactWriteItems"})
READS = frozenset({"GetObject", "HeadObject", "ListObjectVersions", "GetItem", "BatchGetItem", "Query", "Scan",
                   "ReceiveMessage", "GetQueueAttributes"})


def function_clients(module: Any) -> list[BaseClient]:
    """Every boto3 client the handler module holds, directly or one attribute down (deduplicated)."""
    found: dict[int, BaseClient] = {}

    def visit(value: Any, depth: int) -> None:
        if isinstance(value, BaseClient):
            found[id(value)] = value
        elif depth and hasattr(value, "__dict__") and not isinstance(value, type):
            for attr in vars(value).values():
                visit(attr, depth - 1)

    for value in list(vars(module).values()):
        visit(value, 2)
    return list(found.values())


def on_each_call(module: Any, seen: Callable[..., None]) -> None:
    """Call `seen(service=, model=, params=)` before each API call of the handler's own clients, with the
    API parameters not yet serialized: once per call, retries are not counted again."""
    for client in function_clients(module):
        service = client.meta.service_model.service_name
        client.meta.events.register("before-parameter-build.*.*", lambda _s=service, **kw: seen(service=_s, **kw))


def _kb(item: dict[str, Any]) -> int:
    """Billed KB of an item in DynamoDB's JSON, from its serialized size (an estimate within a few %)."""
    return max(1, math.ceil(len(json.dumps(item, separators=(",", ":"))) / 1024))


def write_units(operation: str, params: dict[str, Any]) -> int:
    if operation == "PutItem":
        return _kb(params["Item"])
    if operation == "TransactWriteItems":
        return sum(2 * _kb(next(iter(op.values())).get("Item", {})) for op in params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(_kb(r["PutRequest"]["Item"]) for rs in params["RequestItems"].values() for r in rs
                   if "PutRequest" in r)
    if operation in ("UpdateItem", "DeleteItem"):
        return 1
    return 0


class CountedFunction:
    """The handler on the local stack with its own storage calls counted: `calls` by `service.Operation`,
    and in `units` the DynamoDB write units they are billed (`wru`) and those of the V#, index and LATEST
    writes (`commit_calls`, `commit_wru`). Files are dropped into the inbox and their notifications handed
    to the handler as its SQS trigger would."""

    def __init__(self, aws: Any, resources: Any) -> None:
        from archiver.local.runner import LocalFunction

        self.resources = resources
        self.function = LocalFunction(aws, resources)
        self.calls: Counter[str] = Counter()
        self.units: Counter[str] = Counter()
        self._sqs, self._s3 = aws.client("sqs"), aws.client("s3")
        self._versions: dict[tuple[str, str], tuple[str, str | None]] = {}  # (bucket, key) -> (etag, version id)
        self._arn = self._sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        on_each_call(self.function.module, self._seen)

    def _seen(self, model: Any, params: dict[str, Any], service: str, **_: Any) -> None:
        self.calls[f"{service}.{model.name}"] += 1
        if service == "dynamodb":
            self.units["wru"] += write_units(model.name, params)
            if model.name in COMMIT_OPERATIONS:  # the post's V#, index and LATEST items
                self.units["commit_calls"] += 1
                self.units["commit_wru"] += write_units(model.name, params)

    def drop(self, body: bytes, key: str) -> list[dict[str, Any]]:
        """Put a file into the inbox; the notification messages it queued (taken off the queue)."""
        put = self._s3.put_object(Bucket=self.resources.inbox_bucket, Key=key, Body=body)
        self._versions[self.resources.inbox_bucket, key] = (put["ETag"].strip('"'), put.get("VersionId"))
        messages: list[dict[str, Any]] = []
        for _ in range(5):
            got = self._sqs.receive_message(QueueUrl=self.resources.queue_url, MaxNumberOfMessages=10).get(
                "Messages", [])
            messages += [m for m in got if "ObjectCreated" in m["Body"]]
            for m in got:
                self._sqs.delete_message(QueueUrl=self.resources.queue_url, ReceiptHandle=m["ReceiptHandle"])
            if not got:
                break
        return messages

    def invoke(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        from archiver.local.runner import retarget, sqs_event

        # As AWS notifies for the versioned inbox: each record names its version. moto's name none, and the
        # handler would first look the version up (a listing and a Query that AWS's events do not cost).
        return self.function.invoke(retarget(sqs_event(messages, self._arn), self._versions))

    def reset_counts(self) -> None:
        self.calls.clear()
        self.units.clear()


def count(template: Path) -> dict[str, dict[str, Any]]:
    """Deliver the four inputs through the local stack built from `template`; the calls of each."""
    from archiver.local.stack import LocalAWS

    with LocalAWS(template) as aws:
        counted_function = CountedFunction(aws, aws.create_resources())
        calls, units = counted_function.calls, counted_function.units
        last: list[dict[str, Any]] = []

        def deliver(body: bytes | None, key: str = "calls.md") -> dict[str, Any]:
            if body is not None:
                last[:] = counted_function.drop(body, key)
            counted_function.reset_counts()
            response = counted_function.invoke(last)
            assert response == {"batchItemFailures": []}, response
            by_operation = dict(sorted(calls.items()))
            reads = sum(n for op, n in by_operation.items() if op.split(".")[1] in READS)
            total = sum(by_operation.values())
            counted = {"calls": total, "writes": total - reads, "reads": reads, "dynamodb_write_units": units["wru"],
                       "by_operation": by_operation}
            if units["commit_calls"]:  # the same items as one TransactWriteItems: 1 call, each item billed twice
                counted["as_one_transaction"] = {
                    "writes": counted["writes"] - units["commit_calls"] + 1,
                    "dynamodb_write_units": units["wru"] + units["commit_wru"]}
            return counted

        feed = feed_of(FEED_POSTS)
        counts = (deliver(POST), deliver(None), deliver(POST, "copy.md"), deliver(CHANGED),
                  per_post(deliver(feed, "feed.rss"), FEED_POSTS), per_post(deliver(feed, "copy.rss"), FEED_POSTS))
        return dict(zip(CASES, counts, strict=True))


def feed_of(posts: int) -> bytes:
    """An RSS feed of `posts` distinct posts long enough to be fingerprinted (scripts/make_feed.py)."""
    import make_feed  # scripts/, beside this one (on the path: see docs_section above)

    return make_feed.rss(posts, paragraphs=2).encode()


def per_post(counted: dict[str, Any], posts: int) -> dict[str, Any]:
    """The counts of a multi-post input divided by its posts (its own reads and writes shared out)."""
    shared = {key: round(counted[key] / posts, 2) for key in ("calls", "writes", "reads", "dynamodb_write_units")}
    return {**{k: v for k, v in counted.items() if k != "as_one_transaction"}, **shared}  # (that is per input)


def baseline(ref: str) -> dict[str, dict[str, Any]]:
    """The same count on the archiver package and template.yaml of git revision `ref`."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref, "layers/archiver", "functions",
                              "template.yaml"],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(tmp, "layers", "archiver"))}
        out = subprocess.run([sys.executable, __file__, "--template", str(Path(tmp, "template.yaml")), "--json"],
                             check=True, capture_output=True, text=True, env=env, cwd=tmp).stdout
    return json.loads(out.strip().splitlines()[-1])


def _by_operation(counted: dict[str, int]) -> str:
    return ", ".join(f"{op.replace('dynamodb.', 'DynamoDB ').replace('s3.', 'S3 ')} {n}" for op, n in counted.items())


def _target(case: str, now: dict[str, Any]) -> str:
    if case not in TARGETS:
        return ""
    what, limit = TARGETS[case]
    value = now[what]
    verdict = "met" if value <= limit else f"not met: {value / limit:.2f} times the target"
    return f"≤ {limit} {what} ({verdict})"


def section(now: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]] | None, ref: str | None) -> str:
    machine = f"{platform.machine()}, Python {platform.python_version()}, moto server on 127.0.0.1"
    head = ["input", "now: calls (writes + reads)", "DynamoDB write units", "target",
            "V#, index and LATEST as one transaction: writes, write units"]
    if before:
        head[1:1] = [f"before ({ref}): calls (writes + reads)", "before: write units"]
    lines = [f"| {' | '.join(head)} | now, by operation |", "|" + "---|" * (len(head) + 1)]
    for case, counted in now.items():
        transaction = counted.get("as_one_transaction")
        cells = [case, f"{counted['calls']} ({counted['writes']} + {counted['reads']})",
                 str(counted["dynamodb_write_units"]), _target(case, counted),
                 f"{transaction['writes']}, {transaction['dynamodb_write_units']}" if transaction else ""]
        if before:
            old = before[case]
            cells[1:1] = [f"{old['calls']} ({old['writes']} + {old['reads']})", str(old["dynamodb_write_units"])]
        lines.append(f"| {' | '.join(cells)} | {_by_operation(counted['by_operation'])} |")
    table = "\n".join(lines)
    new = now["new post"]
    transaction = new.get("as_one_transaction", {}).get("dynamodb_write_units", new["dynamodb_write_units"])
    extra = f"{transaction / new['dynamodb_write_units'] - 1:.0%}"
    return f"""{HEADING}

What the handler's own AWS clients call for one single-post inbox object (a post of 120 words, so
that the story index is read and written), counted with a botocore `before-parameter-build.*.*` hook; reads are
GetObject, HeadObject, GetItem and Query, every other call is a write (a conditional write that is
refused is still a billed write). DynamoDB write units are estimated from each request: 1 per KB of
a put item, 2 per KB of each item of a TransactWriteItems (DynamoDB bills transactional writes
twice), 1 per UpdateItem (its lower bound). Measured {datetime.now(UTC):%Y-%m-%d} on {machine}:

```sh
make bench   # or: .venv/bin/python scripts/count_storage_calls.py --baseline {ref or 'REF'} --out docs/benchmarks.md
```

{table}

Where the calls of a new post go: the inbox GetObject; the raw bytes (S3 PUT, `If-None-Match`),
saved before anything is parsed; the `pending` outcome record (what a crash leaves for `archiver
retry`); the claim of the post's LATEST item (one conditional UpdateItem: version 1, the next version
or the duplicate it is, with the replaced item's ETags back from `ReturnValues: ALL_OLD`); the story
lookup (one Query per SimHash band, made only once the claim says the post will be stored);
`post.json` and `index.html` (S3 PUTs with `If-None-Match` / `If-Match`, so that the current objects
never go backwards); one BatchWriteItem of the V# item and the 4 SimHash band items; LATEST marked
stored (a PutItem conditional on the claim still being current); the outcome record. Before an inbox
object is read, its outcome record is looked up (one read: GetItem by the version id the event names;
moto's notifications name none, so the events handed to the handler here name it, as AWS's do): a
redelivery of a finished input stops there and only counts the attempt. A duplicate stops at the
claim: no story lookup, no index write. A new version reads one thing more: the previous version's
`post.json` (one S3 GetObject, named by the item the claim replaced), for its change record
(docs/history.md).

Batch, not transaction: the column "as one transaction" is what the V# item, the band items and LATEST would cost as
one TransactWriteItems, computed from the same requests. It is one call fewer, but DynamoDB bills
every item of a transaction twice (2 write units per KB), so a new post would cost {extra} more
write units, and nothing needs the atomicity: V#<n> is only ever written by attempts at the claim of
version n, and a crash before LATEST leaves the claim `pending` for the next attempt to resume.

What stands between a new post and 4 writes: the 3 S3 PUTs (raw bytes, post.json, index.html) leave
one write for the table, but issue 7's guarantees need more: the `pending` record before parsing (a
crash must leave a record naming the saved raw bytes), the claim before publishing (the version
number and the ETags the conditional PUTs need), LATEST after publishing (it names the published
object versions) and the outcome record. Between a duplicate under another key and 2 calls stand the
same inbox read, raw-bytes PUT and `pending` record, which come before the post is even parsed.

In an input of many posts (a feed, an export's chunk) the inbox read, the raw bytes and the outcome
records are the input's, shared by its posts: the last two rows divide a {FEED_POSTS}-post feed's calls by
its posts. A new post there costs its claim, post.json, index.html, the BatchWriteItem and LATEST
(5 writes), plus the story lookup; a duplicate costs its refused claim alone.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "template.yaml")
    parser.add_argument("--baseline", help="git revision to count too (before), e.g. main or a commit")
    parser.add_argument("--out", type=Path, help="Markdown file whose storage-calls section is rewritten")
    parser.add_argument("--json", action="store_true", help="print one JSON object of every case (for --baseline)")
    args = parser.parse_args(argv)
    now = count(args.template)
    if args.json:
        print(json.dumps(now))
        return 0
    before = baseline(args.baseline) if args.baseline else None
    for case, counted in now.items():
        row = {"input": case, **counted}
        if before:
            row["before"] = {k: before[case][k] for k in ("calls", "writes", "reads", "dynamodb_write_units")}
        print(json.dumps(row))
    if args.out:
        write_section(args.out, HEADING, section(now, before, args.baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
