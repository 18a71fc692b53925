"""Fan-out of large inputs: split their posts into chunks and queue one message per chunk.

An export of thousands of posts cannot be archived within one Lambda invocation (each post costs
a few S3 and DynamoDB calls). `archive_input` saves its raw bytes, counts its posts and sends
`Chunk`s through a `ChunkQueue`; each chunk message comes back to the function through its own
trigger queue, so chunks get the same retries, partial batch failures and dead-letter queue as
dropped files. The message body:

    {"archiver_chunk": {"raw_key": "raw/ab/ab12...", "name": "export.xml", "format": "wxr",
                        "origin": {"kind": "s3", "uri": ..., "bucket": ..., "key": ..., ...},
                        "index": 3, "start": 750, "stop": 1000, "total": 25000, "chunks": 100,
                        "begin": 1843211, "end": 2457190,
                        "context_key": "chunks/ab/ab12.../context.json"}}

`begin`/`end` make the chunk a slice: it reads only those bytes of the original (a ranged GET), with
the context its format's `plan_slices` wrote once for every chunk (a WordPress export's authors and
attachments, a feed's head and tail, a JSON Feed's other members). Formats that cannot slice leave
them out: their chunks parse from the start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from archiver.errors import ArchiverError
from archiver.model import Chunk, Origin

if TYPE_CHECKING:
    from archiver.formats.slices import Slice

MESSAGE_KEY = "archiver_chunk"
SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries
SEND_ATTEMPTS = 3


class FanOutError(ArchiverError):
    code = "fan_out_failed"
    stage = "fan_out"


class ChunkQueue(Protocol):
    """Where chunks go: the function's own trigger queue in AWS; a list in tests."""

    def send(self, chunks: Sequence[Chunk]) -> None: ...


def plan(total: int, size: int, *, raw_key: str, name: str, origin: Origin, format: str) -> list[Chunk]:
    """Chunks of at most `size` posts covering posts `[0, total)`, in order."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    count = -(-total // size)
    return [
        Chunk(raw_key=raw_key, name=name, origin=origin, format=format, index=i, start=i * size,
              stop=min(total, (i + 1) * size), total=total, chunks=count)
        for i in range(count)
    ]


def plan_slices(slices: Sequence[Slice], *, raw_key: str, name: str, origin: Origin, format: str,
                context_key: str) -> list[Chunk]:
    """One chunk per slice of the input's bytes (see archiver.formats.slices), in order."""
    total = slices[-1].stop if slices else 0
    return [
        Chunk(raw_key=raw_key, name=name, origin=origin, format=format, index=i, start=s.start, stop=s.stop,
              total=total, chunks=len(slices), begin=s.begin, end=s.end, context_key=context_key)
        for i, s in enumerate(slices)
    ]


def to_message(chunk: Chunk) -> str:
    return json.dumps({MESSAGE_KEY: chunk.to_dict()}, ensure_ascii=False, separators=(",", ":"))


def from_message(body: str) -> Chunk | None:
    """The chunk a queue message carries, or None for any other message (an S3 notification)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(MESSAGE_KEY), dict):
        return None
    return Chunk.from_dict(data[MESSAGE_KEY])


class SqsChunkQueue:
    """Sends chunk messages to an SQS queue, ten per request; entries SQS refuses are sent again."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        if not queue_url:
            raise FanOutError("a chunk queue needs a queue URL")
        self._sqs = sqs
        self.queue_url = queue_url

    def requeue(self, body: str) -> None:
        """Send a message body again as a fresh message (one this invocation has no time left for)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except (BotoCoreError, ClientError) as exc:
            raise FanOutError(f"requeue a message to {self.queue_url}: {exc}") from exc

    def send(self, chunks: Sequence[Chunk]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for first in range(0, len(chunks), SQS_BATCH):
            pending = {str(c.index): to_message(c) for c in chunks[first:first + SQS_BATCH]}
            for _ in range(SEND_ATTEMPTS):
                try:
                    response = self._sqs.send_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": i, "MessageBody": body} for i, body in pending.items()],
                    )
                except (BotoCoreError, ClientError) as exc:
                    raise FanOutError(f"send chunks to {self.queue_url}: {exc}") from exc
                failed = response.get("Failed", [])
                pending = {f["Id"]: pending[f["Id"]] for f in failed}
                if not pending:
                    break
            else:
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}" for f in failed[:3])
                raise FanOutError(f"{len(pending)} chunk messages were refused by {self.queue_url}: {reasons}")
