"""Registry of input formats, recognised by content first and by file name second.

Each format module exposes `NAME`, `sniff(head: bytes, name: str) -> bool` and
`parse(input: Input) -> Iterator[RawPost]`. Format modules never touch AWS or the network,
and import their heavy dependencies inside `parse`, so a cold start pays only for what it uses.

A format that can split a large input into chunks (WXR, RSS/Atom feeds, JSON Feed) also exposes
`count(input) -> int` and accepts `parse(input, start, stop)`: the posts numbered `[start, stop)`,
in its own stable order.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from archiver import limits
from archiver.decoding import binary_kind, decode_text, wide_encoding
from archiver.errors import PostTooLarge, UnsupportedFormat
from archiver.model import Input, RawPost

# Order matters: the most specific signatures first. Whole-document JSON formats come before
# front matter (a pretty-printed JSON object also opens with `{`); front matter before HTML
# because a Jekyll post with an HTML body starts with a fence, not with markup.
FORMAT_MODULES = (
    "archiver.formats.bundle",  # zip / gzip / tar magic bytes
    "archiver.formats.json_feed",  # JSON with a jsonfeed.org version (or RSS-in-JSON)
    "archiver.formats.wp_json",  # JSON with WordPress REST `{"rendered": ...}` fields
    "archiver.formats.blogger_json",  # JSON of Blogger API `blogger#post` resources
    "archiver.formats.ghost_json",  # JSON opening with Ghost's export `meta.exported_on`, or a Ghost API response
    "archiver.formats.pelican",  # `Key: value` header lines naming a Title, no fence (before front matter)
    "archiver.formats.rst",  # reStructuredText: a .rst name or a Pelican field list at the top
    "archiver.formats.frontmatter",  # a fence (`---`, `+++`, `{`) and a body; after whole-JSON formats
    "archiver.formats.wxr",  # XML declaring the WordPress export namespace (before plain feeds)
    "archiver.formats.blogger",  # Atom with Blogger's kind terms or 2018 namespace (before plain feeds)
    "archiver.formats.feed",  # XML rooted at rss / feed / rdf:RDF (before HTML pages)
    "archiver.formats.substack",  # the header row of Substack's posts.csv (alone: a clear error)
    "archiver.formats.medium",  # Medium's export HTML: its stylesheet or an h-entry article (before pages)
    "archiver.formats.html_page",
)

SNIFF_BYTES = 4096


def _modules() -> Iterator[ModuleType]:
    for name in FORMAT_MODULES:
        yield importlib.import_module(name)


# XML declares its own encoding and its parsers read UTF-16 themselves; other formats get UTF-8.
XML_FORMATS = {"feed", "wxr", "blogger"}


def detect(data: bytes, name: str = "") -> ModuleType:
    """Return the format module that recognises these bytes (the first SNIFF_BYTES are enough),
    or raise UnsupportedFormat. Binary content (an image named `.md`) is refused by content;
    UTF-16/32 text is sniffed as the UTF-8 it will be read as."""
    head = data[:SNIFF_BYTES]
    for module in _modules():
        if module.sniff(head, name):
            return module
        if module.NAME == "bundle":  # the only binary format: whatever else is binary is no post
            if kind := binary_kind(head):
                raise UnsupportedFormat(f"{name or 'input'} is {kind}, not a post")
            if wide := wide_encoding(head):
                head = head.decode(wide[0], errors="ignore").encode("utf-8")
    raise UnsupportedFormat(f"no known post format recognised in {name or 'input'}")


# Formats whose whole input is one post: over MAX_POST_BYTES it is refused before it is parsed.
ONE_POST_FORMATS = {"frontmatter", "html", "pelican", "rst", "medium"}


def parse(item: Input, *, max_post_bytes: int = limits.MAX_POST_BYTES) -> list[RawPost]:
    """Detect the input's format and parse it into raw posts."""
    return list(each_post(detect(item.head(SNIFF_BYTES), item.name), item, max_post_bytes=max_post_bytes))


def check_post_input(size: int, max_post_bytes: int) -> None:
    """Raise PostTooLarge for a one-post input over the limit (its body can only be smaller by its metadata)."""
    if size > max_post_bytes:
        raise PostTooLarge(f"a post of {size / 1024**2:.1f} MiB is over the {max_post_bytes / 1024**2:.1f} MiB "
                           "limit (MAX_POST_BYTES); its raw bytes are archived")


def parse_as(module: ModuleType, item: Input) -> list[RawPost]:
    """Parse an input with the module detected for it (no size check: see each_post)."""
    return list(each_post(module, item, max_post_bytes=None))


def each_post(module: ModuleType, item: Input, *, max_post_bytes: int | None) -> Iterator[RawPost]:
    """The input's raw posts one at a time, as `module` parses them.

    A one-post input over `max_post_bytes` is refused before it is parsed; UTF-16/32 text is read
    as UTF-8 (not XML, which declares its own encoding).
    """
    if max_post_bytes is not None and module.NAME in ONE_POST_FORMATS:
        check_post_input(item.size, max_post_bytes)
    warnings: list[str] = []
    if module.NAME not in XML_FORMATS and wide_encoding(item.head(1024)):
        decoded = decode_text(item.read_bytes())
        item = Input(data=decoded.text.encode("utf-8"), name=item.name, origin=item.origin)
        warnings = decoded.warnings
    for post in module.parse(item):
        post.warnings[:0] = warnings
        yield post


def can_split(module: ModuleType) -> bool:
    """Whether a format can count its posts and parse a range of them (see the module docstring)."""
    return callable(getattr(module, "count", None))


def by_name(name: str) -> ModuleType:
    """The format module whose NAME is `name` (chunks name the format their input was detected as)."""
    for module in _modules():
        if name == module.NAME:
            return module
    raise UnsupportedFormat(f"no format named {name!r}")
