"""Reading dropped objects from the inbox bucket: read-only, by design."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from archiver.errors import InputTooLarge
from archiver.events import ObjectRef
from archiver.model import Input, Origin
from archiver.spool import PIECE_BYTES, spool


def read_input(s3: Any, ref: ObjectRef, *, max_bytes: int, spool_bytes: int | None = None,
               spool_dir: str | None = None) -> Input:
    """Get the object as an Input; the origin records the version actually read.

    Objects larger than `spool_bytes` are copied to a temporary file in `spool_dir` in 1 MiB
    pieces and the Input is backed by it (use it as a context manager: it deletes the file), so a
    100 MB export never sits in memory; smaller ones are read into bytes.
    """
    response = s3.get_object(Bucket=ref.bucket, Key=ref.key)
    if response["ContentLength"] > max_bytes:  # checked before the body is read into memory
        response["Body"].close()
        raise InputTooLarge(f"s3://{ref.bucket}/{ref.key} is {response['ContentLength']} bytes, over {max_bytes}")
    origin = Origin(
        kind="s3",
        uri=f"s3://{ref.bucket}/{ref.key}",
        bucket=ref.bucket,
        key=ref.key,
        version_id=response.get("VersionId") if response.get("VersionId") not in (None, "null") else None,
        etag=response.get("ETag", "").strip('"') or None,
    )
    name = PurePosixPath(ref.key).name
    body = response["Body"]
    if spool_bytes is not None and response["ContentLength"] > spool_bytes:
        try:
            path = spool(body.iter_chunks(PIECE_BYTES), directory=spool_dir, max_bytes=max_bytes,
                         what=f"s3://{ref.bucket}/{ref.key}")
        finally:
            body.close()
        return Input.from_file(path, name, origin, temporary=True)
    return Input(data=body.read(), name=name, origin=origin)
