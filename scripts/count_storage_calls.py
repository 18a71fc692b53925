"""Count the AWS calls the handler makes per input: a new post, a redelivery, a duplicate, a new version.

Runs the function in-process against the embedded local AWS (moto server) and counts every call its
own boto3 clients make with a botocore `before-call.*.*` hook (the harness's calls are not counted).

    .venv/bin/python scripts/count_storage_calls.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from archiver.local.runner import LocalFunction, sqs_event
from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[1]
# Over 30 words: the post gets a fingerprint, so the story index is read and written as for real posts.
BODY = b" ".join(b"Word%d of a post long enough to be fingerprinted." % i for i in range(12))
POST = b"---\ntitle: Counting calls\ndate: 2024-05-03\nurl: https://calls.example.com/counting\n---\n" + BODY + b"\n"
CHANGED = POST.replace(b"Word0 ", b"Edited word0 ")


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


def main() -> int:
    with LocalAWS(REPO_ROOT / "template.yaml") as aws:
        resources = aws.create_resources()
        function = LocalFunction(aws, resources)
        calls: Counter[str] = Counter()
        for client in function_clients(function.module):
            service = client.meta.service_model.service_name
            client.meta.events.register(
                "before-call.*.*", lambda model, _s=service, **_: calls.update([f"{_s}.{model.name}"]))
        sqs, s3 = aws.client("sqs"), aws.client("s3")
        arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

        def deliver(body: bytes | None, key: str = "calls.md") -> dict[str, Any]:
            if body is not None:
                s3.put_object(Bucket=resources.inbox_bucket, Key=key, Body=body)
            messages = []
            for _ in range(5):
                got = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
                messages += [m for m in got if "ObjectCreated" in m["Body"]]
                for m in got:
                    sqs.delete_message(QueueUrl=resources.queue_url, ReceiptHandle=m["ReceiptHandle"])
                if not got:
                    break
            deliver.last = messages or deliver.last
            calls.clear()
            response = function.invoke(sqs_event(deliver.last, arn))
            assert response == {"batchItemFailures": []}, response
            return dict(sorted(calls.items()))

        deliver.last = []
        results = {"new post": deliver(POST), "redelivered duplicate": deliver(None),
                   "same post under another key": deliver(POST, "copy.md"), "new version": deliver(CHANGED)}
        for name, counted in results.items():
            print(json.dumps({"input": name, "calls": sum(counted.values()), "by_operation": counted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
