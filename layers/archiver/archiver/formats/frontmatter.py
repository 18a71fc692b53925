"""Jekyll / Hugo / WordPress-export posts: YAML (`---`), TOML (`+++`), JSON (`{`) or Eleventy's
JavaScript (`---js`) front matter.

Values are kept as written (YAML timestamps stay strings) so `front_matter` in the archived
post is lossless; mapping the many key spellings onto post fields happens here, parsing
dates and cleaning bodies in the shared normalizer.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler

from archiver import limits
from archiver.decoding import decode_text
from archiver.errors import FrontMatterError, ParseError, UnsupportedFormat
from archiver.model import Input, RawPost

NAME = "frontmatter"

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkdn", ".mkd", ".text", ".rmd"}
HTML_SUFFIXES = {".html", ".htm"}
_FENCE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(---(?:js|javascript)?|\+\+\+)[ \t]*\r?\n")
_JSON_OPEN = re.compile(rb"^(?:\xef\xbb\xbf)?\s*\{\s*\r?\n\s*\"")
_PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")
_HTML_BLOCK = re.compile(r"<(p|div|br|table|blockquote|h[1-6]|ul|ol|figure|section|article)\b", re.I)
# Indentation within the line only: `\s*` here would rescan every run of blank lines from each line.
_MARKDOWN_BLOCK = re.compile(r"^(#{1,6} |```|[ \t]*[-*+] \S|[ \t]*\d+\. \S|\[[^\]\n]+\]: )", re.M)
# Markdown that HTML never writes: a `[text](url)` link or `**strong**` (not `__x__`: code says `__init__`).
_MARKDOWN_INLINE = re.compile(r"\[[^\[\]\n]+\]\([^()\s]+\)|\*\*[^*\s][^*\n]*\*\*")
# A page that only sends readers elsewhere (jekyll-redirect-from's `redirect_to`, go.dev's `redirect`).
_REDIRECT_KEYS = ("redirect_to", "redirect", "redirect_url")
_WORDPRESS_KEYS = {"post_title", "post_date", "post_excerpt", "ID"}
# Keys only a Zola/Hugo section (list) page has; with an empty body they mark a section, not a post.
_SECTION_KEYS = {"sort_by", "paginate_by", "paginate_path", "page_template", "generate_feeds", "generate_feed",
                 "transparent", "insert_anchor_links"}


class _VerbatimLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as the strings they were written as (lossless).

    It also bounds the document: nesting deeper than `limits.MAX_NESTING` levels, or more than
    `limits.MAX_YAML_NODES` nodes once aliases are expanded (a 400-byte "billion laughs" expands
    to 10^9), or an alias of a node inside itself, is refused while composing, before anything is
    built. Integers too long for Python to read are kept as the text they were written as.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes once expanded, levels)

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            node = self.anchors.get(self.peek_event().anchor)
            if node is not None:
                if id(node) not in self._sizes:
                    raise yaml.YAMLError(f"alias *{self.peek_event().anchor} refers to a node that contains it")
                size, levels = self._sizes[id(node)]
                self._count(size, self._depth + levels)
            return super().compose_node(parent, index)
        self._depth += 1
        self._count(0, self._depth)  # before descending: deep documents must not reach Python's recursion limit
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        known = [self._sizes.get(id(child), (1, 1)) for child in children]
        size = 1 + sum(n for n, _ in known)
        self._sizes[id(node)] = (size, 1 + max((levels for _, levels in known), default=0))
        self._count(1, self._depth + 1)
        return node

    def _count(self, nodes: int, depth: int) -> None:
        self._expanded += nodes
        if self._expanded > limits.MAX_YAML_NODES:
            raise yaml.YAMLError(f"more than {limits.MAX_YAML_NODES} values once aliases are expanded")
        if depth > limits.MAX_NESTING:
            raise yaml.YAMLError(f"nested deeper than {limits.MAX_NESTING} levels")


def _construct_int(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> int | str:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:  # over Python's 4,300-digit limit
        return node.value


# libyaml's loader, with the same values (timestamps kept as text): about ten times faster. It
# composes in C, where the bounds above cannot be checked while composing, so it reads only
# documents short enough that even the deepest nesting they can spell is harmless to C, and with no
# anchor, alias or tag where a node can start (an `&` in "AT&T" or "&#8211;" mid-text is no anchor).
# The values it builds are then walked with the same bounds, so a document it reads can never
# expand past them either.
FAST_YAML_MAX_CHARS = 16_384
_NODE_PROPERTY = re.compile(r"(?:\A|[\n\r\f\v\x85\u2028\u2029\ufeff\[\]{},:?!\"'|>-])[ \t]*[&*!]")
if yaml.__with_libyaml__:
    class _CVerbatimLoader(yaml.CSafeLoader):
        pass
else:  # a PyYAML built without libyaml: every document takes the bounded Python loader
    _CVerbatimLoader = None

for _loader in (_VerbatimLoader, _CVerbatimLoader):
    if _loader is not None:
        _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
        _loader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }


def load_yaml(text: str) -> Any:
    """A YAML front matter's values, timestamps kept as written; bounded (see `_VerbatimLoader`)."""
    if _CVerbatimLoader is None or len(text) > FAST_YAML_MAX_CHARS or _NODE_PROPERTY.search(text):
        return yaml.load(text, Loader=_VerbatimLoader)
    try:
        value = yaml.load(text, Loader=_CVerbatimLoader)
    except yaml.YAMLError:  # libyaml and PyYAML disagree on a few malformed documents: PyYAML's word is final
        return yaml.load(text, Loader=_VerbatimLoader)
    _check_bounds(value)
    return value


def _check_bounds(value: Any) -> None:
    """The bounds `_VerbatimLoader` keeps while composing, checked on built values (iteratively)."""
    pending, seen = [(value, 1)], 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if seen > limits.MAX_YAML_NODES:
            raise yaml.YAMLError(f"more than {limits.MAX_YAML_NODES} values once aliases are expanded")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > limits.MAX_NESTING:
            raise yaml.YAMLError(f"nested deeper than {limits.MAX_NESTING} levels")
        pending.extend((child, depth + 1) for child in children)


class _JavaScript(BaseHandler):
    # Eleventy: `---js` (or `---javascript`) opens, `---` closes; only literal values are read.
    FM_BOUNDARY = re.compile(r"^-{3}(?:js|javascript)?[ \t]*$", re.MULTILINE)
    OPENING = re.compile(r"^-{3}(?:js|javascript)[ \t]*\n")

    def detect(self, text: str) -> bool:
        return bool(self.OPENING.match(text))

    def load(self, fm: str, **kwargs: object) -> Any:
        from archiver.formats import js_front_matter

        data, skipped = js_front_matter.load(fm)
        if skipped:
            data["__skipped__"] = skipped
        return data


class _YAML(YAMLHandler):
    # Jekyll also accepts `...` (YAML's document end marker) as the closing fence.
    FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.{3})[ \t]*$", re.MULTILINE)

    def detect(self, text: str) -> bool:
        return text.startswith("---")

    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)


class _TOML(BaseHandler):
    # python-frontmatter's own TOML handler needs the `toml` package; the stdlib reads TOML 1.0.
    FM_BOUNDARY = re.compile(r"^\+{3,}[ \t]*$", re.MULTILINE)

    def load(self, fm: str, **kwargs: object) -> Any:
        try:
            return tomllib.loads(fm)
        except RecursionError:
            raise limits.TooComplex(f"nested deeper than {limits.MAX_NESTING} levels") from None


class _JSON(JSONHandler):
    def detect(self, text: str) -> bool:
        return text.startswith("{")

    def load(self, fm: str, **kwargs: object) -> Any:
        return limits.load_json(fm)


HANDLERS = (_JavaScript(), _YAML(), _TOML(), _JSON())


def sniff(head: bytes, name: str) -> bool:
    """A front-matter fence on the first line; or a Markdown file name with no markup start."""
    if _FENCE.match(head) or _JSON_OPEN.match(head):
        return True
    suffix = PurePosixPath(name).suffix.lower()
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return suffix in MARKDOWN_SUFFIXES and start not in (b"<", b"{", b"[")


def parse(item: Input) -> Iterator[RawPost]:
    decoded = decode_text(item.read_bytes())  # UTF-8, else UTF-16 or a legacy encoding, named in a warning
    text = decoded.text.replace("\r\n", "\n")
    meta, body, warnings = split(text)
    warnings[:0] = decoded.warnings
    if not body.strip() and text.lstrip("\ufeff \t\n").startswith("{"):
        # A JSON document alone, pretty-printed, is no Hugo post with JSON front matter: an export in a
        # format not known here. It must not become an empty post.
        raise UnsupportedFormat(f"{item.name or 'input'} is a JSON document in no known post format")
    if PurePosixPath(item.name).stem == "_index" or (_SECTION_KEYS & meta.keys() and not body.strip()):
        raise ParseError(f"{item.name or 'input'} is a section page (Hugo/Zola `_index`), not a post",
                         code="not_a_post")
    redirect = first(meta, *_REDIRECT_KEYS)
    if isinstance(redirect, str) and redirect.strip() and not body.strip():
        raise ParseError(f"{item.name or 'input'} is a redirect stub to {redirect.strip()[:300]!r}, not a post",
                         code="not_a_post")
    yield to_raw_post(meta, body, item.name, warnings)


def split(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Split a document into (front matter, body, warnings); a fence that never closes is an error."""
    stripped = text.lstrip()
    handler = next((h for h in HANDLERS if h.detect(stripped)), None)
    if handler is None:
        return {}, text, ["no front matter"]
    fence = stripped.split("\n", 1)[0].strip()
    try:
        fm_text, body = handler.split(stripped)
    except ValueError:
        raise FrontMatterError(f"front matter opened with {fence!r} on line 1 is never closed") from None
    if len(fm_text) > limits.MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(f"front matter of {len(fm_text) // 1024} KiB is over the "
                               f"{limits.MAX_FRONT_MATTER_CHARS // 1024} KiB limit")
    try:
        meta = handler.load(fm_text)
        limits.check_nesting(meta)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: TOML, JSON, limits, 5,000-digit TOML integers
        raise FrontMatterError(f"front matter is not valid {type(handler).__name__[1:]}: {exc}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError(f"front matter is a {type(meta).__name__}, not a mapping of keys to values")
    skipped = meta.pop("__skipped__", None) if isinstance(handler, _JavaScript) else None
    warnings = [f"JavaScript front matter: computed values not read: {', '.join(skipped)}"] if skipped else []
    return jsonable(meta), body, warnings


def to_raw_post(meta: dict[str, Any], body: str, name: str, warnings: list[str]) -> RawPost:
    """Map the key spellings of Jekyll, Hugo, Zola and WordPress exports onto post fields."""
    stem = PurePosixPath(name).stem
    file_date, file_slug = _date_from_file_name(stem)
    path = first(meta, "path", "slug")
    published = first(meta, "date", "post_date", "published_at", "pubDate", "publishDate") or file_date
    if published is None and isinstance(path, str) and (m := _PATH_DATE.search(path)):
        published = "-".join(m.groups())
    extra: dict[str, Any] = {}
    if file_slug:
        extra["file_slug"] = file_slug
    if isinstance(path, str):
        extra["path"] = path
    url = first(meta, "permalink", "url", "link")
    taxonomies = meta.get("taxonomies") if isinstance(meta.get("taxonomies"), dict) else {}  # Zola's terms
    return RawPost(
        format=NAME,
        body=body,
        body_format=_body_format(body, name),
        title=text_value(first(meta, "title", "post_title")),
        url=text_value(url),
        canonical_url=text_value(first(meta, "canonical_url", "canonical", "canonicalURL", "original_link")),
        original_id=text_value(first(meta, "ID", "id", "wordpress_id", "wp_id")),
        authors=names(first(meta, "authors", "author", "post_author")),
        published=published,
        updated=first(meta, "last_modified_at", "lastmod", "updated", "modified", "post_modified"),
        categories=terms(meta, "categories", "category", "original_cats") or terms(taxonomies, "categories"),
        tags=terms(meta, "tags", "tag", "keywords") or terms(taxonomies, "tags"),
        excerpt=text_value(first(meta, "excerpt", "post_excerpt", "description", "summary")),
        status=_status(meta),
        language=text_value(first(meta, "lang", "language", "locale")),
        image=text_value(first(meta, "image", "featured_image", "cover", "thumbnail")),
        front_matter=meta,
        extra=extra | ({"wpautop": True} if _WORDPRESS_KEYS & meta.keys() else {}),
        warnings=warnings,
    )


def first(meta: dict[str, Any], *keys: str) -> Any:
    """The first present, non-empty value among the keys, with one-element lists unwrapped.

    Keys written with other capitals (`Title:`, `Date:`, as Pelican users write YAML headers) match too.
    """
    folded = {str(k).lower(): k for k in meta}
    for key in keys:
        value = unwrap(meta.get(key, meta.get(folded.get(key.lower(), key))))
        if value not in (None, "", []):
            return value
    return None


def unwrap(value: Any) -> Any:
    # WordPress exports write single meta values as one-element lists: `original_link: [url]`.
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def text_value(value: Any) -> str | None:
    """A scalar as one clean line: folded YAML scalars lose their trailing newline."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result: dict[str, None] = {}  # ordered and de-duplicated in one pass
    for item in items:
        if isinstance(item, dict):
            item = item.get("name") or item.get("display_name")
        if name := text_value(item):
            result[name] = None
    return list(result)


# Keys of WordPress-to-Jekyll exports whose list items are comma-joined term lists ("a,b,c").
_FOLDED_TERM_KEYS = {"original_cats"}


def terms(meta: dict[str, Any], *keys: str) -> list[str]:
    """Categories or tags. List items are kept whole (Jekyll, Hugo, Zola); only a plain string is split:
    on commas when it has any, else on whitespace (Jekyll). The comma-joined list items of WordPress
    exports (`original_cats`) are split on commas."""
    result: dict[str, None] = {}  # ordered and de-duplicated in one pass
    for key in keys:
        value = meta.get(key)
        if isinstance(value, list):
            items = value
            split_items = key in _FOLDED_TERM_KEYS
        else:
            items = [value]
            split_items = True
        for item in items:
            if item is None or isinstance(item, (dict, list)):
                continue
            text = str(item)
            if not split_items:
                parts = [text]
            elif "," in text or key in _FOLDED_TERM_KEYS:
                parts = text.split(",")
            else:
                parts = text.split()
            for part in parts:
                if term := " ".join(part.split()):
                    result[term] = None
        if result:
            return list(result)
    return list(result)


def jsonable(value: Any) -> Any:
    """Front-matter values as JSON types; TOML dates become ISO strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value  # NaN and Infinity stay floats here: the normalizer makes them JSON-safe text


def _status(meta: dict[str, Any]) -> str:
    if meta.get("published") is False or str(meta.get("published")).lower() == "false":
        return "draft"
    if meta.get("draft") is True or str(meta.get("draft")).lower() == "true":
        return "draft"
    return str(first(meta, "status", "post_status") or "publish").lower()


def _date_from_file_name(stem: str) -> tuple[str | None, str | None]:
    # Jekyll's `_posts/YYYY-MM-DD-slug.md` (our corpus prefixes names, so search, don't match).
    # Jekyll also reads months and days without their zero (`2017-2-5-slug.md`).
    match = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$", stem)
    if not match or not (1 <= int(match.group(2)) <= 12 and 1 <= int(match.group(3)) <= 31):
        return None, None
    year, month, day, slug = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}", slug


def _body_format(body: str, name: str) -> str:
    """HTML for an `.html` file, or a body of HTML blocks with no Markdown in it (a WordPress export's
    scraped markup, which CommonMark would break at its blank lines and indentation); else Markdown, which
    passes raw HTML blocks through as CommonMark says."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if _HTML_BLOCK.search(body) and not _MARKDOWN_BLOCK.search(body) and not _MARKDOWN_INLINE.search(body):
        return "html"
    return "markdown"
