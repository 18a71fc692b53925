"""The files of an archived bundle (a zip or tar of a site), read back for the images its posts show."""

from __future__ import annotations

import tarfile
import zipfile
from typing import IO, Any

from archiver.errors import InputTooLarge, ParseError


class BundleFiles:
    """A zip or tar (plain or gzipped) opened from a local file, its member names known at once."""

    def __init__(self, path: str) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        try:
            if zipfile.is_zipfile(path):
                self._zip = zipfile.ZipFile(path)
                self.names = {info.filename for info in self._zip.infolist() if not info.is_dir()}
            else:
                self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
                self._members = {m.name.lstrip("./"): m for m in self._tar.getmembers() if m.isfile()}
                self.names = set(self._members)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, ValueError, EOFError) as exc:
            raise ParseError(f"the bundle cannot be read again for its images: {exc}", stage="media") from exc

    def find(self, paths: tuple[str, ...]) -> str | None:
        """The first of `paths` the bundle holds."""
        return next((path for path in paths if path in self.names), None)

    def read(self, name: str, max_bytes: int) -> bytes:
        """A member's bytes, refused past `max_bytes` (counted as they are inflated, never trusted from headers)."""
        stream: IO[bytes] | Any = (self._zip.open(name) if self._zip is not None
                                   else self._tar.extractfile(self._members[name]))
        with stream:
            data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputTooLarge(f"{name} in the bundle is over the {max_bytes}-byte image limit", stage="media")
        return data

    def close(self) -> None:
        for archive in (self._zip, self._tar):
            if archive is not None:
                archive.close()

    def __enter__(self) -> BundleFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
