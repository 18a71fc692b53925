"""reStructuredText posts (Pelican's `.rst` posts): rendered to HTML with docutils.

Pelican reads a post's title from the document title (or a `:title:` field) and its metadata from the
field list that follows it (`:date:`, `:tags:`, `:category:`, `:authors:`, `:summary:` ...), which
docutils turns into the document's docinfo; the metadata is mapped like Pelican's Markdown headers
(`pelican.to_raw_post`). docutils (~2.6 MB, ~0.3 s to import) is imported inside `parse` only.

docutils runs with file insertion disabled (no `include`, no `raw :file:` or `:url:`: a post must never
read the disk or the network) and never halts or prints: its messages become warnings. A directive it
does not know (a Pelican plugin's `youtube`, `gist`, ...) keeps its content as a literal block.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from archiver.errors import ParseError
from archiver.formats.pelican import read_nikola_header, strip_placeholders, to_raw_post
from archiver.model import Input, RawPost

if TYPE_CHECKING:
    from docutils import nodes

NAME = "rst"

_SUFFIXES = (".rst", ".rest")
_ADORNMENT = r"[=\-`:'\"~^_*+#<>.]"
# A Pelican-style opening: an optional (over- and under-lined) title, then a `:field:` line.
_OPENING = re.compile(
    rf"\A\s*(?:(?:{_ADORNMENT}{{3,}}\n)?[^\n]+\n{_ADORNMENT}{{3,}}\n\s*\n)?"
    r":(?:title|date|tags|category|slug|authors?|summary|modified|lang|status):"
    r"|\A\s*\.\. title:",  # Nikola's metadata comments
)
_MAX_WARNINGS = 10
_INLINE_MATH = re.compile(r'<tt class="math">([^<]*)</tt>')  # docutils' LaTeX math output, as code


def sniff(head: bytes, name: str) -> bool:
    """A `.rst` name, or text opening with a Pelican field list (after an optional section title) or with
    Nikola's `.. title:` comment."""
    if PurePosixPath(name).suffix.lower() in _SUFFIXES:
        return not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<", b"{", b"---", b"+++"))
    return bool(_OPENING.match(head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")))


def _settings(warnings: io.StringIO) -> dict[str, Any]:
    return {
        "file_insertion_enabled": False,  # no include, no raw/csv-table :file: or :url:
        "report_level": 5,  # keep messages out of the HTML; they are read from the doctree instead
        "halt_level": 5,
        "warning_stream": warnings,
        "traceback": True,  # raise instead of printing and returning nothing
        "syntax_highlight": "none",  # no Pygments needed: code stays a plain literal block
        # Math as its TeX source in <code class="math"> / <pre class="math">: readable as it is, where the
        # sanitizer removes MathML (`math` elements) with their content.
        "math_output": "LaTeX",
        "_disable_config": True,  # no docutils.conf from the working directory
        "embed_stylesheet": False,
        "stylesheet_path": "",
        "initial_header_level": 2,
        "input_encoding": "unicode",
    }


def _field_text(node: nodes.Node) -> str:
    return " ".join(node.astext().split())


def _docinfo(doctree: nodes.document) -> dict[str, str]:
    """The docinfo fields (date, authors, tags, ...) as `name: text`, and remove them from the body."""
    from docutils import nodes

    meta: dict[str, str] = {}
    for info in list(doctree.findall(nodes.docinfo)):
        for child in info.children:
            if isinstance(child, nodes.field):
                meta[_field_text(child[0])] = _field_text(child[1])
            elif isinstance(child, nodes.authors):
                meta["authors"] = ", ".join(_field_text(a) for a in child.children)
            elif isinstance(child, nodes.Element):
                meta[child.tagname] = _field_text(child)
        info.parent.remove(info)
    return meta


def _messages(doctree: nodes.document, warnings: list[str]) -> None:
    """System messages out of the doctree: unknown directives keep their text, the rest become warnings."""
    from docutils import nodes

    for message in list(doctree.findall(nodes.system_message)):
        text = _field_text(message[0]) if message.children else ""
        if message.get("level", 0) >= 2 and len(warnings) < _MAX_WARNINGS:
            warnings.append(f"reStructuredText line {message.get('line', '?')}: {text}"[:300])
        source = [child for child in message.children if isinstance(child, nodes.literal_block)]
        if text.startswith("Unknown directive type") and source:
            message.replace_self(nodes.literal_block(source[0].astext(), source[0].astext()))
        else:
            message.parent.remove(message)


def render(text: str) -> tuple[str, str | None, dict[str, str], list[str]]:
    """reST to (HTML fragment, document title, docinfo fields, warnings)."""
    from docutils.core import publish_doctree, publish_from_doctree
    from docutils.utils import SystemMessage
    from docutils.writers import html5_polyglot

    stream = io.StringIO()
    warnings: list[str] = []
    try:
        doctree = publish_doctree(text, settings_overrides=_settings(stream))
        meta = _docinfo(doctree)
        _messages(doctree, warnings)
        writer = html5_polyglot.Writer()
        publish_from_doctree(doctree, writer=writer, settings_overrides=_settings(stream))
    except (SystemMessage, ValueError, IndexError, AttributeError, NotImplementedError) as exc:
        # docutils raises these on input it cannot structure at all (e.g. broken tables in odd places)
        raise ParseError(f"reStructuredText could not be read: {type(exc).__name__}: {exc}") from exc
    title = doctree.get("title") or None
    return _INLINE_MATH.sub(r"<code>\1</code>", writer.parts["fragment"]), title, meta, warnings


def parse(item: Input) -> Iterator[RawPost]:
    """One post: the rendered body, the title and Pelican's metadata fields."""
    text = item.read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if not text.strip():
        raise ParseError(f"{item.name or 'input'}: empty reStructuredText file")
    html, title, meta, warnings = render(text)
    nikola = read_nikola_header(text)  # `.. title: x` comments: invisible to docutils, Nikola's metadata
    if nikola is not None:
        meta = {**nikola[0], **meta}
    if title and not any(key.lower() == "title" for key in meta):
        meta = {"title": title, **meta}
    yield to_raw_post(meta, strip_placeholders(html), item.name, fmt=NAME, body_format="html", warnings=warnings)
