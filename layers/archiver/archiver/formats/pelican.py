"""Markdown posts with a Pelican / MultiMarkdown metadata header: `Key: value` lines, then a blank line.

    Title: Counting cranes
    Date: 2010-12-03 10:20
    Category: Birds
    Tags: cranes, winter count

No fence marks the header (unlike Jekyll's `---`): it is the run of `Key: value` lines (indented lines
continue a value) that opens the file, up to the first blank line, and it must name a `Title` or two
other Pelican metadata names (without a Title, the first heading of the body names the post). Keys are
case-insensitive (MultiMarkdown also ignores spaces in them). Pelican's liquid tags (`{% img %}`,
`{% youtube %}` ...) become Markdown images and links; tags that include other files are left out with a
warning. Nikola's metadata comment (`<!-- .. title: x -->`) is read the same way. The mapping onto post
fields is shared with reStructuredText posts (`rst.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from archiver.model import Input, RawPost

NAME = "pelican"

_KEY_LINE = re.compile(r"^[ ]{0,3}([A-Za-z0-9][A-Za-z0-9_ -]{0,40}):(?:[ \t]+(.*?))?[ \t]*$")
_CONTINUATION = re.compile(r"^(?:[ ]{4,}|\t)(\S.*?)\s*$")
_NOT_MARKDOWN = (".html", ".htm", ".xml", ".json", ".rss", ".atom", ".rdf", ".csv", ".yaml", ".yml", ".toml",
                 ".rst", ".rest", ".eml")
# Pelican's link placeholders (`{static}/images/a.png`, `|filename|/b.md`): the path after them is
# site-relative, the placeholder itself means nothing outside the site's build.
_PLACEHOLDER = re.compile(r"(?<=[(\"'=])\s*(?:\{(?:static|filename|attach|tag|category|author|index)\}|"
                          r"\|(?:static|filename|attach|tag|category|author)\|)")
# Nikola writes its metadata as reST comments, `.. title: x`; Markdown posts wrap them in an HTML comment.
_NIKOLA = re.compile(r"\A\s*(?P<open><!--[ \t]*\n)?(?P<lines>(?:\.\. [A-Za-z_][\w-]*:[^\n]*(?:\n|\Z))+)"
                     r"(?(open)\s*-->[ \t]*(?:\n|\Z))")
_NIKOLA_LINE = re.compile(r"^\.\. ([A-Za-z_][\w-]*):[ \t]*(.*)$", re.M)
_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[-_ ]?(.*)$")
# Metadata names Pelican knows: a header without `Title` is still one when it has two of them (Pelican can
# take the title from elsewhere, e.g. the file name).
_PELICAN_KEYS = {"title", "date", "modified", "category", "tags", "keywords", "author", "authors", "slug", "summary",
                 "status", "lang", "translation", "template", "save_as", "url"}
# Pelican's liquid_tags plugin (from Octopress): `{% img [class] src [w [h]] [title [alt]] %}`, `{% youtube id %}`...
_LIQUID = re.compile(r"\{%\s*([a-z_]+)\s*(.*?)\s*%\}", re.S)
_FENCED = re.compile(r"(^[ \t]*(?:```|~~~).*?^[ \t]*(?:```|~~~)[ \t]*$)", re.M | re.S)
_FIRST_HEADING = re.compile(r"\A\s*(?:#{1,6}[ \t]+(.+?)[ \t#]*$|(\S.*)\n(?:=+|-+)[ \t]*$)", re.M)
_STATUSES = {"published": "publish", "draft": "draft", "hidden": "hidden"}


def read_header(text: str) -> tuple[dict[str, str], str] | None:
    """The metadata header and the body after it, or None when the text does not open with one."""
    lines = text.split("\n")
    meta: dict[str, str] = {}
    last: str | None = None
    for index, line in enumerate(lines):
        if not line.strip():
            end = index + 1
            break
        key_line = _KEY_LINE.match(line)
        continuation = _CONTINUATION.match(line)
        if continuation and last is not None:
            meta[last] = f"{meta[last]}\n{continuation.group(1)}".strip()
        elif key_line:
            last = key_line.group(1).strip()
            meta[last] = (key_line.group(2) or "").strip()
        else:
            return None  # a line of prose before any blank line: not a header
    else:
        end = len(lines)
    keys = {canonical_key(k) for k in meta}
    if "title" not in keys and len(keys & _PELICAN_KEYS) < 2:
        return None
    return meta, "\n".join(lines[end:])


def read_nikola_header(text: str) -> tuple[dict[str, str], str] | None:
    """Nikola's metadata: `.. title: x` lines opening the file (in Markdown inside `<!-- -->`), and the rest."""
    match = _NIKOLA.match(text)
    if not match:
        return None
    meta = {m.group(1): m.group(2).strip() for m in _NIKOLA_LINE.finditer(match.group("lines"))}
    if "title" not in {canonical_key(k) for k in meta}:
        return None
    return {k: v for k, v in meta.items() if v}, text[match.end():]


def canonical_key(key: str) -> str:
    """Pelican lower-cases keys; MultiMarkdown also drops spaces ("Base Header Level" -> baseheaderlevel)."""
    return re.sub(r"[\s]+", "", key).lower()


def sniff(head: bytes, name: str) -> bool:
    """Text (not markup, not a fence) whose first lines are a `Key: value` header naming a Title (or two
    other Pelican metadata names)."""
    if PurePosixPath(name).suffix.lower() in _NOT_MARKDOWN:
        return False
    text = head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if text.startswith("<!--"):
        return read_nikola_header(text) is not None
    if text.lstrip()[:1] in ("<", "{", "[") or text.startswith(("---", "+++")):
        return False
    if "\n\n" not in text and len(head) >= 4096:
        return False  # a "header" longer than the sniffing head is prose, not metadata
    return read_header(text) is not None or (text.startswith("<!--") and read_nikola_header(text) is not None)


def split_list(value: str) -> list[str]:
    """Pelican's list values: separated by semicolons when there are any, else by commas; items stay whole."""
    parts = value.split(";") if ";" in value else value.split(",")
    return list(dict.fromkeys(" ".join(p.split()) for p in parts if p.strip()))


def strip_placeholders(body: str) -> str:
    return _PLACEHOLDER.sub("", body)


def _liquid_tag(match: re.Match[str], warnings: list[str]) -> str:
    name, args = match.group(1), match.group(2)
    words = args.split()
    if name == "img":
        src = next((w for w in words if re.match(r"(?:/|https?://|\.\.?/)|.*\.\w{2,4}$", w)), None)
        if src:
            rest = args.split(src, 1)[1]
            alt = re.sub(r"^(?:\s*\d+%?)*\s*", "", rest).strip().strip("[]\"' ")
            return f"![{alt}]({src})"
    elif name in ("youtube", "vimeo") and words:
        url = f"https://www.youtube.com/watch?v={words[0]}" if name == "youtube" else f"https://vimeo.com/{words[0]}"
        return f"[{url}]({url})"
    elif name in ("video", "audio") and (url := next((w for w in words if w.startswith("http")), None)):
        return f"[{url}]({url})"
    if len(warnings) < 10:
        warnings.append(f"Pelican tag {{% {name} %}} left out: what it includes is not part of the post")
    return ""


def liquid_tags(body: str, warnings: list[str]) -> str:
    """Pelican's liquid tags (outside fenced code): images and videos become Markdown, the rest is dropped
    with a warning (`{% notebook %}` and `{% include_code %}` name files that are not in the post)."""
    parts = _FENCED.split(body)
    for index in range(0, len(parts), 2):
        parts[index] = _LIQUID.sub(lambda m: _liquid_tag(m, warnings), parts[index])
    return "".join(parts)


def first_heading(body: str) -> str | None:
    """The heading that opens a Markdown body (ATX `# x` or setext), for posts whose header names no title."""
    match = _FIRST_HEADING.match(body)
    return (match.group(1) or match.group(2)).strip() if match else None


def to_raw_post(meta: dict[str, str], body: str, name: str, *, fmt: str, body_format: str,
                warnings: list[str] | None = None) -> RawPost:
    """Map Pelican's metadata names (and MultiMarkdown's) onto post fields; `meta` is kept as written."""
    fields: dict[str, str] = {}
    for key, value in meta.items():
        fields.setdefault(canonical_key(key), value)
    stem = PurePosixPath(name).stem
    file_date = _FILE_DATE.match(stem)
    extra: dict[str, Any] = {}
    slug = fields.get("slug") or (file_date.group(2) if file_date else stem)
    if slug:
        extra["file_slug"] = slug
    authors = split_list(fields["authors"]) if fields.get("authors") else []
    if not authors and fields.get("author"):
        authors = [" ".join(fields["author"].split())]
    tags = split_list(fields.get("tags") or fields.get("keywords") or "")
    category = " ".join((fields.get("category") or "").split())
    status = fields.get("status", "").strip().lower()
    return RawPost(
        format=fmt,
        body=body,
        body_format=body_format,  # type: ignore[arg-type]
        title=" ".join(fields.get("title", "").split()) or None,
        url=fields.get("url") or None,
        authors=authors,
        published=fields.get("date") or (file_date.group(1) if file_date else None),
        updated=fields.get("modified") or fields.get("updated") or None,
        categories=[category] if category else [],
        tags=tags,
        excerpt=fields.get("summary") or fields.get("description") or None,
        status=_STATUSES.get(status, status or "publish"),
        language=fields.get("lang") or fields.get("language") or None,
        image=fields.get("image") or fields.get("cover") or fields.get("featured_image") or None,
        front_matter=dict(meta),
        extra=extra,
        warnings=list(warnings or []),
    )


def parse(item: Input) -> Iterator[RawPost]:
    """One post: the header's metadata, the rest as Markdown (Pelican's placeholders removed from links)."""
    from archiver.errors import ParseError

    text = item.read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    found = read_header(text) or read_nikola_header(text)
    if found is None:
        raise ParseError(f"{item.name or 'input'}: no `Key: value` metadata header with a Title")
    meta, body = found
    warnings: list[str] = []
    body = liquid_tags(strip_placeholders(body), warnings)
    post = to_raw_post(meta, body, item.name, fmt=NAME, body_format="markdown", warnings=warnings)
    if post.title is None and (heading := first_heading(body)):
        post.title = heading
        post.warnings.append("no Title in the header: title taken from the first heading")
    yield post
