"""Inbox keys for local files: what `archiver local ingest` and `local deploy --drop` upload them as."""

from __future__ import annotations

import os
from pathlib import Path


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
    return [path.relative_to(root).as_posix() for path in resolved]
