"""Inbox keys for local files: what `archiver local ingest` and `local deploy --drop` upload them as.

A key is the file's path relative to the folder given, or to the folder the files given share (as
`aws s3 cp` keys them), never an absolute path; `s3_key` then makes it one S3 can carry.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path, PurePath

from archiver.errors import ArchiverError

MAX_KEY_BYTES = 1024  # S3's limit on a key, in bytes of UTF-8
# Characters XML 1.0 cannot carry besides the control characters; S3 lists keys in XML.
_NOT_XML = frozenset("\ufffe\uffff")


class BadKey(ArchiverError):
    """A file's key that S3 cannot take: that file fails, the others are archived."""

    code = "bad_key"
    stage = "upload"


def collect_inputs(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files to upload and their inbox keys.

    A folder gives its files, recursively and sorted, keyed by their path relative to the folder
    (hidden files and folders, such as `.git` or `.DS_Store`, are skipped); files named one by one
    are keyed by `inbox_keys`.
    """
    loose = [path for path in paths if not path.is_dir()]
    loose_keys = dict(zip(loose, inbox_keys(loose), strict=True))
    files: list[Path] = []
    keys: list[str] = []
    for given in paths:  # in the order given
        if not given.is_dir():
            files.append(given)
            keys.append(loose_keys[given])
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                files.append(path)
                keys.append(relative.as_posix())
    return files, keys


def inbox_keys(paths: list[Path]) -> list[str]:
    """Inbox keys for local files: their paths relative to the folder they all share.

    So `a/post.md` and `b/post.md` stay two objects (base names would collide and the second
    upload would replace the first); files of one folder keep their plain names.
    """
    resolved = [path.resolve() for path in paths]
    if not resolved:
        return []
    root = Path(os.path.commonpath([path.parent for path in resolved]))
    if root == Path(root.anchor):  # they share no folder: their paths from / say nothing about them
        return _distinct_tails(resolved)
    return [path.relative_to(root).as_posix() for path in resolved]


def _distinct_tails(paths: list[Path]) -> list[str]:
    """Each path's shortest tail (its name, then its folder and name...) that no other path ends with."""
    parts = [path.parts[1:] for path in paths]
    keys = []
    for mine in parts:
        others = [theirs for theirs in set(parts) if theirs != mine]
        size = next((n for n in range(1, len(mine)) if all(theirs[-n:] != mine[-n:] for theirs in others)),
                    len(mine))
        keys.append(PurePath(*mine[-size:]).as_posix())
    return keys


def s3_key(key: str) -> str:
    """`key` as S3 can carry it; raises BadKey when it is over S3's 1,024 bytes.

    S3 takes any UTF-8, but answers listings in XML, where a CR, an LF or another control character
    does not survive (moto refuses a key with CR/LF outright). Those characters, and bytes of a file
    name that are not UTF-8, are percent-encoded: `a\r\nb.md` is uploaded as `a%0D%0Ab.md`.
    """
    safe = printable(key)
    size = len(safe.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise BadKey(f"{safe[:80]}...: the inbox key would be {size} bytes of UTF-8, over S3's limit of "
                     f"{MAX_KEY_BYTES}; drop the file from a folder nearer to it, or give it a shorter name",
                     code="key_too_long")
    return safe


def printable(text: str) -> str:
    """`text` with control characters and undecodable file-name bytes percent-encoded (valid UTF-8)."""
    return "".join(_encoded(char) if _unsafe(char) else char for char in text)


def _unsafe(char: str) -> bool:
    # Cc: C0 controls (CR, LF, tab...), DEL, C1 controls; Cs: a file name's non-UTF-8 byte (surrogateescape)
    return unicodedata.category(char) in ("Cc", "Cs") or char in _NOT_XML


def _encoded(char: str) -> str:
    if 0xDC80 <= ord(char) <= 0xDCFF:  # how Python decodes a file name's byte that is not UTF-8
        return f"%{ord(char) - 0xDC00:02X}"
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
