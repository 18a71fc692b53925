"""Reading dropped objects from the inbox bucket: read-only, by design."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from archiver.errors import InputTooLarge
from archiver.events import ObjectRef
from archiver.model import Input, Origin


def read_input(s3: Any, ref: ObjectRef, *, max_bytes: int) -> Input:
    """Get the object's bytes as an Input; the origin records the version actually read."""
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
    return Input(data=response["Body"].read(), name=PurePosixPath(ref.key).name, origin=origin)
