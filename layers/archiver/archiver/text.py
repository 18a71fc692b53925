"""Plain text, links and images from HTML, block by block.

The one HTML-to-text rendering of the project: the normalizer derives `text` with it, and the
article extractor and its benchmark compare candidate bodies with it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "tfoot", "thead", "tr", "ul",
}  # fmt: skip
SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "svg", "iframe"}  # never text
CELL_TAGS = {"td", "th"}
LINE_BREAK = "\x00"  # a <br>, kept apart from the source's own (insignificant) newlines
WORDS_PER_MINUTE = 230
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")
_SOURCE_LABEL = re.compile(r"^(source|original(?: article| source| story)?|via|read more(?: at)?)\s*:?$", re.I)


@dataclass
class Content:
    text: str
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)

    @functools.cached_property  # counted once: the text is not changed after `analyze`
    def word_count(self) -> int:
        return len(_WORD.findall(self.text))

    @property
    def reading_time_minutes(self) -> int:
        return math.ceil(self.word_count / WORDS_PER_MINUTE)

    @property
    def source_link(self) -> str | None:
        """The trailing "Source" link that republishing blogs put under a copied story."""
        for link in reversed(self.links):
            if _SOURCE_LABEL.match(link["text"].strip()):
                return link["url"]
        return None


def html_to_text(html: str) -> str:
    """Only the text of `analyze`: paragraphs separated by blank lines, `<br>` as a line break."""
    return analyze(html).text


def analyze(clean_html: str) -> Content:
    """Paragraphs of text separated by blank lines, plus every link and image, in document order."""
    if not clean_html.strip():
        return Content(text="")
    clean_html = _CONTROL_CHARS.sub(" ", clean_html)  # lxml refuses them; extractors' output may hold them
    try:
        root = lxml_html.fragment_fromstring(clean_html, create_parent="div")
    except AssertionError:  # lxml asserts on a "fragment" that is a whole document (an extractor's output)
        try:
            root = lxml_html.document_fromstring(clean_html)
        except etree.ParserError:
            return Content(text="")
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        lines = ("".join(current)).split(LINE_BREAK)
        paragraph = "\n".join(" ".join(line.split()) for line in lines if line.strip())
        if paragraph:
            blocks.append(paragraph)
        current.clear()

    def walk(element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in SKIP_TAGS:
            pass
        elif tag == "pre":
            flush()
            for br in element.iter("br"):  # a <br> in code is a line end (text_content() would drop it)
                br.tail = "\n" + (br.tail or "")
            blocks.append(element.text_content().strip("\n"))
        else:
            is_block = tag in BLOCK_TAGS
            if is_block:
                flush()
            if tag == "br":
                current.append(LINE_BREAK)
            elif tag in CELL_TAGS:
                current.append(" ")  # cells of a row are words apart, not glued
            if element.text and tag:
                current.append(element.text)
            for child in element:
                walk(child)
            if is_block:
                flush()
        if element.tail:
            current.append(element.tail)

    current.append(root.text or "")
    for child in root:
        walk(child)
    flush()
    links = [
        {"url": a.get("href"), "text": " ".join(a.text_content().split())}
        for a in root.iter("a")
        if a.get("href")
    ]
    images = [{"src": img.get("src"), "alt": img.get("alt") or ""} for img in root.iter("img") if img.get("src")]
    return Content(text="\n\n".join(b for b in blocks if b), links=links, images=images)
