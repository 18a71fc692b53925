"""Bundles: .zip, .tar, .tar.gz/.tgz and single-file .gz of any other input format.

Each entry becomes a nested Input parsed by the format registry. Archives are hostile input by
default, so limits are enforced while decompressing, counting the bytes actually produced rather
than trusting sizes written in headers: entry count, total uncompressed size, compression ratio,
and nesting depth. A broken or unknown entry is skipped with a warning; a limit breach fails the
whole bundle with InputTooLarge.
"""

from __future__ import annotations

import io
import posixpath
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, TYPE_CHECKING

from archiver.errors import ArchiverError, InputTooLarge, ParseError, PostTooLarge
from archiver.limits import MAX_POST_BYTES
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    import zipfile

NAME = "bundle"

# Limits (module constants so settings can override them later). Every post of a bundle is held
# in memory until it is stored, and parsing costs several times an entry's size, so the limits
# count what entries cost once parsed, not only what they inflate to: an entry is capped by the
# format it is sniffed as (one post: MAX_POST_BYTES; a whole feed or JSON document: MAX_DOCUMENT_BYTES),
# and is skipped, with a warning, without inflating the rest of it.
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 64 * 1024**2  # uncompressed, over all entries and nesting levels
MAX_ENTRY_BYTES = MAX_TOTAL_BYTES  # a nested bundle
MAX_DOCUMENT_BYTES = 32 * 1024**2  # a feed, JSON or WordPress export entry
MAX_RATIO = 100  # uncompressed : compressed, per entry (zip) or per stream (gzip)
RATIO_FLOOR = 1024**2  # below 1 MiB produced, a high ratio is harmless (tiny repetitive files)
MAX_DEPTH = 1  # a bundle may hold bundles, those may not
MAX_WARNINGS = 50

# Exports spread over many files of one zip (an index and bodies, or posts beside account data) are read
# by their own module, chosen by the zip's entry names: `layout_root(names) -> str | None` (the export's
# folder in the zip, "" at the top), `wants(path, root) -> bool` (the entries to read; the rest is not
# posts) and `parse_export(inputs, root, warn) -> Iterator[RawPost]`. Other zips are read entry by entry.
LAYOUT_MODULES = ("archiver.formats.substack", "archiver.formats.medium")

# Files a site keeps beside its posts: images, audio, video, fonts, documents.
MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".bmp", ".ico", ".tif", ".tiff",
                  ".heic", ".mp3", ".m4a", ".ogg", ".wav", ".mp4", ".m4v", ".webm", ".mov", ".woff", ".woff2",
                  ".ttf", ".otf", ".eot", ".pdf")
# A static site's own configuration: read for its URL (`site_url`), never a post.
SITE_CONFIGS = frozenset({"config.toml", "hugo.toml", "config.yaml", "config.yml", "hugo.yaml", "_config.yml"})
MAX_CONFIG_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_SNIFF_BYTES = 4096  # formats.SNIFF_BYTES: enough of an entry to know its format
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP = b"\x1f\x8b"


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def sniff(head: bytes, name: str) -> bool:
    """Zip or gzip magic bytes, or a tar header; the name is not needed."""
    return head.startswith(_ZIP) or head.startswith(_GZIP) or _is_tar(head)


@dataclass
class _Budget:
    """Limits shared by every level of one bundle, so nesting cannot multiply them."""

    name: str
    entries: int = 0
    total: int = 0
    warnings: list[str] = field(default_factory=list)
    too_large: ArchiverError | None = None  # the first entry skipped for its size

    def entry(self) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise InputTooLarge(f"{self.name}: bundle has more than {MAX_ENTRIES} entries")

    def produced(self, n: int) -> None:
        self.total += n
        if self.total > MAX_TOTAL_BYTES:
            raise InputTooLarge(f"{self.name}: bundle expands to more than {MAX_TOTAL_BYTES // 1024**2} MiB")

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


def _check_ratio(budget: _Budget, what: str, produced: int, compressed: int) -> None:
    if produced > RATIO_FLOOR and produced > MAX_RATIO * max(compressed, 1):
        raise InputTooLarge(
            f"{budget.name}: {what} expands more than {MAX_RATIO}:1 "
            f"({compressed} bytes compressed, over {produced} bytes so far): likely a decompression bomb"
        )


class _Skipped(ParseError):
    """An entry over its format's cap, left unread past that."""

    def __init__(self, message: str, cause: ArchiverError | None = None):
        super().__init__(message)
        self.cause = cause


def _read_entry(stream: IO[bytes], budget: _Budget, path: str, compressed: int | None) -> bytes:
    """Read one entry in chunks, counting real output against every limit as it grows.

    Once its head is read the entry's format is sniffed, which sets its cap (`_entry_cap`).
    """
    out = io.BytesIO()
    size = 0
    cap = None
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        budget.produced(len(chunk))
        if compressed is not None:
            _check_ratio(budget, f"entry {path}", size, compressed)
        out.write(chunk)
        if cap is None and size >= _SNIFF_BYTES:
            cap = _entry_cap(out.getvalue()[:_SNIFF_BYTES], path)
        if cap is not None and size > cap[0]:
            _too_large(path, cap, size)
    data = out.getvalue()
    return data


def _entry_cap(head: bytes, path: str) -> tuple[int, type[ArchiverError], str]:
    """How large an entry of the format its head shows may be, the error past it, and what it is."""
    from archiver.formats import ONE_POST_FORMATS, detect

    try:
        module = detect(head, path)
    except ArchiverError:  # read on (the ratio check still applies); skipped with a warning once read
        return MAX_DOCUMENT_BYTES, InputTooLarge, "an entry of no known format"
    if module.NAME in ONE_POST_FORMATS:
        return MAX_POST_BYTES, PostTooLarge, "a single post (MAX_POST_BYTES)"
    if module.NAME == NAME:
        return MAX_ENTRY_BYTES, InputTooLarge, "a nested bundle"
    return MAX_DOCUMENT_BYTES, InputTooLarge, f"a {module.NAME} document read whole"


def _too_large(path: str, cap: tuple[int, type[ArchiverError], str], size: int) -> None:
    limit, error_class, what = cap
    message = f"entry {path} is over {limit / 1024**2:.0f} MiB, the limit for {what} (read {size} bytes)"
    raise _Skipped(message, error_class(message))


class _CountingGzip(io.RawIOBase):
    """A gzip stream that counts what it inflates and stops at the limits (tar.gz and .gz)."""

    def __init__(self, raw: IO[bytes], compressed: int, budget: _Budget, what: str):
        import gzip

        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self._compressed = compressed
        self._budget = budget
        self._what = what
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self._gz.read(min(len(buffer), _CHUNK))
        n = len(data)
        buffer[:n] = data
        self.produced += n
        _check_ratio(self._budget, self._what, self.produced, self._compressed)
        if self.produced > MAX_TOTAL_BYTES:
            raise InputTooLarge(f"{self._budget.name}: {self._what} inflates to more than the bundle limit")
        return n


def _safe_path(path: str) -> str | None:
    """The entry path if it is an ordinary relative path worth reading, else None (skip)."""
    path = path.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _skip_reason(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    if parts[0] == "__MACOSX":
        return "macOS metadata"
    if any(p.startswith(".") for p in parts if p not in (".", "..", "")):
        return "hidden file"
    return None


def _zip_entries(item: Input, budget: _Budget,
                 select: Callable[[str], bool] | None = None) -> Iterator[tuple[str, bytes]]:
    import zipfile

    try:
        archive = zipfile.ZipFile(item.open())
    # ValueError: a corrupt directory's offsets; NotImplementedError: a version or method zipfile lacks
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ParseError(f"{item.name or 'bundle'}: not a readable zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:  # early and cheap; the running count below is the real check
            raise InputTooLarge(f"{budget.name}: zip lists {len(infos)} entries (limit {MAX_ENTRIES})")
        for info in infos:
            if not info.filename or info.is_dir() or (select is not None and not select(info.filename)):
                continue
            yield from _checked(info.filename, budget, lambda info=info: _zip_read(archive, info, budget))


def _zip_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    import zipfile

    try:
        with archive.open(info) as stream:
            return _read_entry(stream, budget, info.filename, info.compress_size)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error,
            ValueError) as exc:
        raise ParseError(f"unreadable zip entry ({exc})") from exc


def _checked(raw_path: str, budget: _Budget, read: Callable[[], bytes]) -> Iterator[tuple[str, bytes]]:
    """Apply the path rules and count the entry, then read it (skipping it on a read error).

    Media files are not posts: they are left unread here, and read by the media job of the posts that show
    them (archiver.media), so they neither cost the bundle's budget nor warn."""
    reason = _skip_reason(raw_path)
    if reason or raw_path.lower().endswith(MEDIA_SUFFIXES) or posixpath.basename(raw_path) in SITE_CONFIGS:
        return
    path = _safe_path(raw_path)
    if path is None:
        budget.warn(f"entry {raw_path!r} skipped: absolute or parent-relative path rejected")
        return
    budget.entry()
    try:
        data = read()
    except _Skipped as exc:
        budget.too_large = budget.too_large or exc.cause
        budget.warn(f"entry {path} skipped: {exc.message}")
        return
    except ParseError as exc:
        budget.warn(f"entry {path} skipped: {exc}")
        return
    yield path, data


def _tar_entries(item: Input, budget: _Budget, gzipped: bool) -> Iterator[tuple[str, bytes]]:
    import tarfile

    raw = item.open()
    stream: IO[bytes] = raw
    if gzipped:
        stream = io.BufferedReader(_CountingGzip(raw, item.size, budget, "gzip stream"), _CHUNK)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if not member.isfile():
                    continue  # directories, links, devices: never followed

                def read(member: tarfile.TarInfo = member) -> bytes:
                    handle = archive.extractfile(member)
                    if handle is None:
                        raise ParseError("no data")
                    return _read_entry(handle, budget, member.name, None)

                yield from _checked(member.name, budget, read)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:  # zlib: corrupt deflate data
        if not budget.entries:
            raise ParseError(f"{item.name or 'bundle'}: not a readable tar archive ({exc})") from exc
        budget.warn(f"tar archive ends early: {exc}")


def _gzip_single(item: Input, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    name = posixpath.basename(item.name or "input.gz")
    inner = name[:-3] if name.lower().endswith(".gz") else name
    stream = _CountingGzip(item.open(), item.size, budget, "gzip stream")
    budget.entry()
    try:
        data = _read_entry(io.BufferedReader(stream, _CHUNK), budget, inner, None)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"{item.name or 'bundle'}: not a readable gzip file ({exc})") from exc
    yield inner, data


def _gzip_holds_tar(item: Input) -> bool:
    import gzip

    try:
        with gzip.GzipFile(fileobj=item.open()) as gz:
            return _is_tar(gz.read(512))
    except (OSError, EOFError, zlib.error):
        return False


def _entries(item: Input, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    head = item.head(512)
    if head.startswith(_ZIP):
        return _zip_entries(item, budget)
    if head.startswith(_GZIP):
        if _gzip_holds_tar(item):
            return _tar_entries(item, budget, gzipped=True)
        return _gzip_single(item, budget)
    if _is_tar(head):
        return _tar_entries(item, budget, gzipped=False)
    raise ParseError(f"{item.name or 'input'}: not a zip, tar or gzip archive")


def _layout(item: Input) -> tuple[ModuleType, str] | None:
    """The export layout module that claims this zip by its entry names, and the export's folder."""
    import importlib
    import zipfile

    if not item.head(4).startswith(_ZIP):
        return None
    try:
        with zipfile.ZipFile(item.open()) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None  # _zip_entries reports it
    for module_name in LAYOUT_MODULES:
        module = importlib.import_module(module_name)
        root = module.layout_root(names)
        if root is not None:
            return module, root
    return None


def _parse(item: Input, budget: _Budget, depth: int, prefix: str) -> Iterator[RawPost]:
    from archiver.formats import detect, parse_as

    layout = _layout(item)
    if layout is not None:
        module, root = layout
        entries = _zip_entries(item, budget, select=lambda path: module.wants(path, root))
        inputs = (Input(data=data, name=path, origin=item.origin) for path, data in entries)
        for post in module.parse_export(inputs, root, budget.warn):
            post.extra["bundle_entry"] = prefix + post.extra.get("bundle_entry", "")
            yield post
        return
    for path, data in _entries(item, budget):
        full = f"{prefix}{path}"
        entry = Input(data=data, name=full, origin=item.origin)
        try:
            module = detect(data, full)
        except ArchiverError as exc:
            budget.warn(f"entry {full} skipped: {exc.message}")
            continue
        if module.NAME == NAME:
            if depth + 1 > MAX_DEPTH:
                raise InputTooLarge(f"{budget.name}: archives nested deeper than {MAX_DEPTH} level(s) ({full})")
            yield from _parse(entry, budget, depth + 1, f"{full}/")
            continue
        try:
            for post in parse_as(module, entry):
                post.extra["bundle_entry"] = full
                yield post
        except InputTooLarge:
            raise
        except ArchiverError as exc:
            budget.warn(f"entry {full} failed: {exc.message}")


def site_url(item: Input) -> str | None:
    """The site URL a zipped site's own configuration names (Hugo's `baseURL`, Jekyll's `url` + `baseurl`):
    what its posts' relative links and images resolve against. None for other bundles."""
    import tomllib
    import zipfile

    import yaml

    if not item.head(4).startswith(_ZIP):
        return None
    try:
        with zipfile.ZipFile(item.open()) as archive:
            configs = sorted((name for name in archive.namelist() if posixpath.basename(name) in SITE_CONFIGS
                              and archive.getinfo(name).file_size <= MAX_CONFIG_BYTES), key=lambda n: n.count("/"))
            for name in configs:
                text = archive.read(name).decode("utf-8", "replace")
                config = tomllib.loads(text) if name.endswith(".toml") else yaml.safe_load(text)
                if not isinstance(config, dict):
                    continue
                base = config.get("baseURL") or config.get("baseurl" if "url" not in config else "url")
                if isinstance(base, str) and base.startswith(("http://", "https://")):
                    path = config.get("baseurl") if "url" in config and isinstance(config.get("baseurl"), str) else ""
                    return base.rstrip("/") + "/" + path.strip("/") + ("/" if path.strip("/") else "")
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, tomllib.TOMLDecodeError, yaml.YAMLError):
        return None
    return None


def parse(item: Input) -> Iterator[RawPost]:
    """Parse every entry of an archive with its own format; skipped entries become warnings. A zipped site's
    posts get the site URL its configuration names, when they name none themselves."""
    budget = _Budget(name=item.name or "bundle")
    pending: RawPost | None = None
    reported = 0
    base = site_url(item)
    for post in _parse(item, budget, 0, ""):
        if base and not post.site_url:
            post.site_url = base
        # Hold one post back so warnings about later skipped entries still have a home.
        post.warnings.extend(budget.warnings[reported:])
        reported = len(budget.warnings)
        if pending is not None:
            yield pending
        pending = post
    if pending is not None:
        pending.warnings.extend(budget.warnings[reported:])
        yield pending
    elif budget.too_large is not None:  # nothing else to archive: the outcome names the size
        raise type(budget.too_large)(f"{budget.name}: no posts in the bundle; {'; '.join(budget.warnings[:5])}")
    elif budget.warnings:
        raise ParseError(f"{budget.name}: no posts in the bundle; {'; '.join(budget.warnings[:5])}")
    elif budget.entries:
        raise ParseError(f"{budget.name}: none of its {budget.entries} entries held a post")
    else:
        raise ParseError(f"{budget.name}: the bundle holds no files")
