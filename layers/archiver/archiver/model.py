"""Domain values that flow through the pipeline: Input -> RawPost -> Post -> Outcome.

These are plain dataclasses with no I/O, so every stage can be tested alone.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Literal

SCHEMA_VERSION = 1

# `fanned_out`: an input too big for one invocation, split into chunks archived by further
# invocations; each chunk records its own outcome (see Chunk). `gone`: the object was deleted (or
# overwritten, without versions) before it could be read: nothing to archive, nothing to retry.
OutcomeStatus = Literal["archived", "duplicate", "failed", "fanned_out", "gone"]
# An outcome record is `pending` while an attempt runs (or after it crashed), `failed` after a
# failure: both are retried. Any other status is finished: a redelivery must not redo it.
UNFINISHED = ("pending", "failed")


def is_finished(record: dict[str, Any] | None) -> bool:
    """Whether an outcome record (as the store returns it) holds a finished outcome."""
    return record is not None and record.get("status") not in (None, *UNFINISHED)


@dataclass(frozen=True)
class Origin:
    """Where an input came from: an inbox object, a local file, or (later) a fetched URL."""

    kind: str  # "s3" | "file" | "url"
    uri: str  # s3://bucket/key, a file path, or an http(s) URL
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None
    etag: str | None = None
    # The site a dropped file's posts belong to (`archiver ... --site-url`, or the inbox object's `site-url`
    # metadata): what their relative links and images resolve against when the posts name no site.
    site_url: str | None = None


@dataclass(frozen=True)
class Input:
    """The raw bytes of one dropped or fetched object, before anything is parsed.

    Small inputs hold their bytes (`data`); large ones are backed by a local file (`path`, e.g.
    in Lambda's /tmp) so that they are never whole in memory: read them through `open()`,
    `head(n)` and `size`. Only formats that cannot stream call `read_bytes()`.
    """

    data: bytes
    name: str  # file name hint (key basename); the format is sniffed from content first
    origin: Origin
    path: str | None = None  # when set, the bytes are in this file and `data` is empty
    temporary: bool = False  # the file is a spooled copy that `discard()` deletes
    charset: str | None = None  # what the HTTP Content-Type said, for a fetched input

    def __post_init__(self) -> None:
        if self.path is not None and self.data:
            raise ValueError("an Input holds either bytes or a file path, not both")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], name: str, origin: Origin, *,
                  temporary: bool = False) -> Input:
        """An Input backed by a local file (read lazily, in pieces)."""
        return cls(data=b"", name=name, origin=origin, path=os.fspath(path), temporary=temporary)

    @property
    def size(self) -> int:
        return os.path.getsize(self.path) if self.path is not None else len(self.data)

    def open(self) -> BinaryIO:
        """A binary stream over the input; streaming parsers (WXR, bundles) read through this."""
        if self.path is not None:
            return open(self.path, "rb")  # the caller closes it
        return io.BytesIO(self.data)

    def head(self, n: int) -> bytes:
        """The first `n` bytes, for sniffing formats and content types."""
        if self.path is None:
            return self.data[:n]
        with open(self.path, "rb") as f:
            return f.read(n)

    def read_bytes(self) -> bytes:
        """All the bytes, in memory: for formats that cannot stream (a page, a Markdown post)."""
        if self.path is None:
            return self.data
        with open(self.path, "rb") as f:
            return f.read()

    def discard(self) -> None:
        """Delete the spooled file of a temporary Input (nothing for bytes or a user's own file)."""
        if self.path is not None and self.temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


@dataclass(frozen=True)
class Chunk:
    """One slice `[start, stop)` of the posts of a large input, archived by its own invocation.

    The input's raw bytes are already in the archive (`raw_key`); `origin` is the original
    input's, so the posts get the same ids and sources as if the input were archived whole.
    """

    raw_key: str
    name: str
    origin: Origin
    format: str  # the format module's NAME, e.g. "wxr"
    index: int  # 0-based position among the input's chunks
    start: int  # first post index (0-based, in the format's own post order)
    stop: int  # one past the last post index
    total: int  # posts in the whole input
    chunks: int  # chunks of the whole input
    # A slice: the chunk's posts are raw bytes [begin, end), read with the shared context (the format's
    # `plan_slices`), so a chunk reads only its own bytes. Without them the chunk parses the input
    # from the start and skips to post `start`.
    begin: int | None = None
    end: int | None = None
    context_key: str | None = None

    @property
    def is_slice(self) -> bool:
        return self.begin is not None and self.end is not None and self.context_key is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.is_slice:  # the message keeps the shape of a chunk that parses from the start
            for name in ("begin", "end", "context_key"):
                del data[name]
        if data["origin"].get("site_url") is None:  # the shape messages had before origins named a site
            del data["origin"]["site_url"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        origin = Origin(**data["origin"])
        return cls(**{**data, "origin": origin})


@dataclass
class RawPost:
    """What a format module extracts from an input: fields as found, not yet normalized.

    Dates stay raw strings (or datetimes) here; `normalize` parses them, cleans the body,
    derives ids and hashes. `front_matter` is the original metadata, kept losslessly.
    """

    format: str  # "frontmatter", "html", "rss", "atom", "jsonfeed", "wxr", "wp-json", ...
    body: str  # the post body, HTML or Markdown
    body_format: Literal["html", "markdown"] = "html"
    title: str | None = None
    url: str | None = None  # the post's own permalink
    canonical_url: str | None = None  # the original publisher's URL
    original_id: str | None = None  # the id the source system gave the post
    authors: list[str] = field(default_factory=list)
    published: Any = None  # raw date value as found
    updated: Any = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    excerpt: str | None = None
    status: str = "publish"  # "publish" | "draft" | "private" | ...
    language: str | None = None
    image: str | None = None  # lead image
    site_name: str | None = None  # feed/site title, kept in `source`
    site_url: str | None = None
    front_matter: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific data (comments, enclosures, ...)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Post:
    """A normalized post: the JSON document of schema version 1 (see schema/post.v1.json)."""

    id: str
    url: str | None
    canonical_url: str | None
    story_id: str
    source: dict[str, Any]
    title: str
    authors: list[str]
    published_at: str | None
    updated_at: str | None
    status: str
    categories: list[str]
    tags: list[str]
    excerpt: str | None
    language: str | None
    image: str | None
    content_html: str
    text: str
    word_count: int
    reading_time_minutes: int
    links: list[dict[str, str]]
    images: list[dict[str, str]]
    source_link: str | None
    content_sha256: str
    normalizer_version: str
    archived_at: str
    front_matter: dict[str, Any]
    fingerprint: str | None = None  # SimHash of the text: near-identical copies differ in at most 3 bits
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    version: int = 1
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        """The post a post.json document holds (keys it does not know are left out)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def site(self) -> str:
        """The site a post belongs to: host of its own URL, else of the source site."""
        from archiver.ids import site_of

        return site_of(self.url or self.source.get("site_url") or self.canonical_url, self.source)


@dataclass
class Failure:
    code: str
    stage: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Outcome:
    """What became of one input: archived (post ids), duplicate, or failed (with the error)."""

    status: OutcomeStatus
    origin: Origin
    raw_key: str | None = None
    post_ids: list[str] = field(default_factory=list)
    error: Failure | None = None
    chunks: int = 0  # fanned_out: how many chunks were queued
    chunk: Chunk | None = None  # the outcome of one chunk of a fanned-out input
    # A redelivered input whose outcome was already recorded: nothing was done again, and this is
    # the recorded (first) outcome; the record counts the attempt.
    redelivered: bool = False

    def to_dict(self) -> dict[str, Any]:
        result = {
            "key": self.origin.key or self.origin.uri,
            "status": self.status,
            "post_ids": self.post_ids,
            "raw_key": self.raw_key,
            "error": self.error.to_dict() if self.error else None,
        }
        if self.chunks:
            result["chunks"] = self.chunks
        if self.chunk is not None:
            result["chunk"] = {"index": self.chunk.index, "start": self.chunk.start, "stop": self.chunk.stop,
                               "total": self.chunk.total}
        if self.redelivered:
            result["redelivered"] = True
        return result


SourceKind = Literal["feed", "wordpress", "sitemap", "article"]
# When a source's posts are fetched again to catch edits and removals: seconds after publication
# (1 day, 1 week, 30 days, 182 days). See archiver.fetch.recheck_schedule.
DEFAULT_RECHECK = (86_400, 604_800, 2_592_000, 15_724_800)
# Fetch each feed entry's page for the full article: when the feed carries a summary only, always, never.
FullMode = Literal["auto", "always", "never"]


@dataclass
class Source:
    """A registered place to fetch posts from, with its fetch state and health.

    `url` is what the fetcher requests: the feed, the WordPress REST API root, the sitemap or the
    article (discovered from a home page when one was added); `site_url` is what the user added.
    """

    id: str
    url: str
    kind: SourceKind
    site_url: str | None = None
    sitemaps: list[str] = field(default_factory=list)  # a site's sitemaps (robots.txt, well-known paths); [] = url
    every_seconds: int = 3600
    enabled: bool = True
    full: FullMode = "auto"
    added_at: str = ""
    next_due_at: str = ""  # ISO 8601 UTC; the scheduler queues sources whose time has come
    validators: dict[str, dict[str, str]] = field(default_factory=dict)  # URL -> etag / last_modified
    cursor: str | None = None  # WordPress `modified_after`: newest change already seen
    # Where an unfinished fetch stopped, to resume there: a feed's document and entry position, a sitemap's walk.
    progress: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # entry key -> digest of what was archived (bounded)
    failures: int = 0  # consecutive failed fetches: the backoff grows with them, a success resets them
    last: dict[str, Any] = field(default_factory=dict)  # the last fetch: at, status, http_status, error, new, updated
    disabled_reason: str | None = None
    recheck: list[int] = field(default_factory=lambda: list(DEFAULT_RECHECK))  # [] = its posts are not re-checked

    @property
    def host(self) -> str:
        """The politeness unit: one job per host fetches its sources one after another."""
        from urllib.parse import urlsplit

        return (urlsplit(self.url).netloc or "").lower()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


RecheckMode = Literal["page", "status"]


@dataclass
class Recheck:
    """A fetched post's re-check: when its page is fetched again (a decaying schedule after publication), and
    what the last check found.

    `page`: the post was built from that page, so the page rebuilt is compared (a change is a new version);
    `status`: the post's text came from elsewhere (a feed's own body, a WordPress API), so only the page's
    answer counts (404/410: gone upstream). `due` is None once no step is left.
    """

    post_id: str
    url: str
    mode: RecheckMode
    offsets: list[int]
    anchor: str  # ISO 8601 UTC: the publication (else archiving) time the offsets count from
    step: int = 0  # the offset the next check is for
    due: str | None = None
    source_id: str | None = None
    validators: dict[str, str] = field(default_factory=dict)  # the page's etag / last_modified, as last seen
    checks: int = 0
    failures: int = 0  # consecutive failed checks of the current step
    gone: dict[str, Any] | None = None  # {"at", "http_status"} while the page answers 404 or 410
    last: dict[str, Any] = field(default_factory=dict)  # the last check: at, result, http_status, version, error

    @property
    def host(self) -> str:
        """The politeness unit, as for sources: a host's re-checks run in its fetch queue group."""
        from urllib.parse import urlsplit

        return (urlsplit(self.url).netloc or "").lower()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recheck:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
