"""Local copies of large objects (Lambda's /tmp): written in pieces, never whole in memory.

`spool` copies a stream of pieces (an S3 body) to a temporary file that backs an `Input`
(`spool_to_file` for any writer, such as a download of archived raw bytes);
`RawCache` keeps the one archived raw object that chunk invocations read, across warm starts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from archiver.errors import InputTooLarge

PIECE_BYTES = 1024 * 1024  # what one read of an S3 body returns, at most


def spool(pieces: Iterable[bytes], *, directory: str | None = None, max_bytes: int | None = None,
          what: str = "input") -> str:
    """Write the pieces to a new temporary file and return its path (the caller deletes it).

    `max_bytes` is checked against the bytes actually written, whatever a header claimed.
    """

    def write(f: BinaryIO) -> None:
        written = 0
        for piece in pieces:
            written += len(piece)
            if max_bytes is not None and written > max_bytes:
                raise InputTooLarge(f"{what} is over the {max_bytes}-byte limit")
            f.write(piece)

    return spool_to_file(write, directory=directory)


def spool_to_file(write: Callable[[BinaryIO], object], *, directory: str | None = None) -> str:
    """Run `write(file)` on a new temporary file and return its path (the caller deletes it).

    A write that fails leaves no file behind.
    """
    fd, path = tempfile.mkstemp(prefix="archiver-", suffix=".spool", dir=directory or None)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return path


class RawCache:
    """The archived raw object that chunk invocations read, kept in a local folder.

    Every chunk of a large input needs the whole raw object, and the chunks of one input usually
    arrive together (a batch of up to 10 messages, then more on the same warm container): one
    download per container instead of one per chunk. Raw keys are content-addressed, so a cached
    file is always the right bytes; only the latest object is kept, so the folder holds one copy.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory or tempfile.gettempdir()) / "archiver-raw"

    def path(self, raw_key: str, fill: Callable[[BinaryIO], object]) -> str:
        """The local copy of `raw_key`, made with `fill(file)` when it is not cached yet."""
        target = self.directory / raw_key.rsplit("/", 1)[-1]
        if target.is_file():
            return str(target)
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.iterdir():  # keep one copy: /tmp is small (512 MB by default)
            old.unlink(missing_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as f:
                fill(f)
            partial.replace(target)  # atomic: a crash never leaves a truncated copy under the final name
        finally:
            partial.unlink(missing_ok=True)
        return str(target)

    def clear(self) -> None:
        if self.directory.is_dir():
            for old in self.directory.iterdir():
                old.unlink(missing_ok=True)
