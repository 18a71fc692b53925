"""The local archive kept across `archiver local up` restarts (`--state DIR`).

moto 5.2.5 has no persistence of its own (getmoto/moto#9755 proposes one), and a dump through
the API cannot keep it intact: S3 gives every re-uploaded object a new version id, while outcome
records are keyed by the inbox version and post versions name their archive object versions. So
the data is saved as moto holds it: each bucket's objects (every version, with its id) and each
table's items, pickled from moto's in-process backends, as moto itself copies a table's items
when it restores a backup (`Table.restore_table`). Buckets, tables and queues are created from
the template on every start; only their contents come back. Queued notifications not yet handled
are saved as message bodies and sent again on restore.

The file is a pickle: load only a state folder you wrote. It is stamped with moto's version and
refused by another one (moto's classes may change between versions).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError
from archiver.local.stack import REGION, LocalAWS, LocalResources

STATE_FILE = "moto-state.pickle"
FORMAT = 1


class StateError(ArchiverError):
    """A state folder that cannot be read or does not fit this moto."""

    code = "bad_state"
    stage = "local"


@dataclass
class Snapshot:
    """What a state folder holds (buckets, tables and queues by name)."""

    moto_version: str
    buckets: dict[str, Any] = field(default_factory=dict)  # name -> moto's versioned key store
    tables: dict[str, Any] = field(default_factory=dict)  # name -> (key schema, moto's items)
    queued: dict[str, list[str]] = field(default_factory=dict)  # queue name -> bodies not yet handled
    format: int = FORMAT

    @property
    def counts(self) -> dict[str, int]:
        objects = sum(len(versions) for store in self.buckets.values() for versions in dict.values(store))
        items = sum(sum(len(v) if isinstance(v, dict) else 1 for v in items.values())
                    for _, items in self.tables.values())
        return {"buckets": len(self.buckets), "object_versions": objects, "tables": len(self.tables), "items": items,
                "queued": sum(map(len, self.queued.values()))}


def _backends() -> tuple[Any, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"], dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def _moto_version() -> str:
    import moto

    return moto.__version__


def take_snapshot(aws: LocalAWS, resources: LocalResources) -> Snapshot:
    """The contents of the served buckets and tables, and the inbox queue's waiting messages.

    Call it with nothing else writing (the moto server stopped or idle): moto's dicts are read as they are.
    """
    s3, dynamodb = _backends()
    snapshot = Snapshot(moto_version=_moto_version())
    for name in (resources.inbox_bucket, resources.archive_bucket):
        if name in s3.buckets:
            snapshot.buckets[name] = s3.buckets[name].keys
    table = dynamodb.tables.get(resources.table_name)
    if table is not None:
        snapshot.tables[resources.table_name] = (table.schema, table.items)
    return snapshot


def save_queued(aws: LocalAWS, snapshot: Snapshot, queue_urls: list[str]) -> None:
    """Move the visible messages of standard queues into the snapshot (each body once)."""
    sqs = aws.client("sqs")
    for url in queue_urls:
        bodies: list[str] = []
        for _ in range(10_000):  # bounded: 10 messages a receive
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           VisibilityTimeout=300).get("Messages", [])
            if not messages:
                break
            bodies += [m["Body"] for m in messages]
        if bodies:
            snapshot.queued[url.rsplit("/", 1)[-1]] = bodies


def prepare_folder(folder: Path) -> None:
    """Make the state folder, or fail now (not after hours of archiving) if it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"state folder {folder}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateError(f"state folder {folder} is not writable")


def write_snapshot(snapshot: Snapshot, folder: Path) -> Path:
    """Write atomically: a crash while saving leaves the previous state in place."""
    prepare_folder(folder)
    target = folder / STATE_FILE
    partial = target.with_suffix(".partial")
    try:
        with partial.open("wb") as f:
            pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        partial.replace(target)
    except OSError as exc:
        raise StateError(f"cannot save the state to {target}: {exc.strerror or exc}") from exc
    return target


def read_snapshot(folder: Path) -> Snapshot | None:
    """The saved snapshot, or None when the folder holds none yet (a first start)."""
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            snapshot = pickle.load(f)  # the user's own state folder (see the module docstring)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise StateError(f"{path} cannot be read ({type(exc).__name__}: {exc}); move it away to start empty") from exc
    if not isinstance(snapshot, Snapshot) or snapshot.format != FORMAT:
        raise StateError(f"{path} is not a state file of this archiver version; move it away to start empty")
    if snapshot.moto_version != _moto_version():
        raise StateError(f"{path} was saved by moto {snapshot.moto_version}, this is moto {_moto_version()}: "
                         "its objects cannot be read safely; move it away to start empty")
    return snapshot


def restore_snapshot(aws: LocalAWS, resources: LocalResources, snapshot: Snapshot) -> None:
    """Put the saved contents into the freshly created buckets and tables of the same names."""
    from moto.core.base_backend import backend_lock

    s3, dynamodb = _backends()
    with backend_lock:
        for name, keys in snapshot.buckets.items():
            if name not in s3.buckets:
                raise StateError(f"the saved bucket {name} is not served now (another template or stack?)")
            s3.buckets[name].keys = keys
        for name, (schema, items) in snapshot.tables.items():
            table = dynamodb.tables.get(name)
            if table is None:
                raise StateError(f"the saved table {name} is not served now (another template or stack?)")
            if table.schema != schema:
                raise StateError(f"table {name}: its key schema changed since the state was saved")
            table.items = items
    sqs = aws.client("sqs")
    for queue_name, bodies in snapshot.queued.items():
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        for first in range(0, len(bodies), 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[first:first + 10])])
