"""A saved HTML article page: main content, title, authors, dates, canonical link, metadata.

Content comes from `archiver.extract.content` (trafilatura checked against readability-lxml), its images
from the page itself (`archiver.extract.images`), metadata from JSON-LD, OpenGraph and <meta> tags
(`archiver.extract.metadata`). lxml and the extractors are imported inside `parse`, so other formats'
cold starts don't load them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any

from archiver.decoding import bom_encoding
from archiver.errors import ParseError
from archiver.formats import h_feed
from archiver.model import Input, RawPost

NAME = "html"
MAX_PAGE_DEPTH = 200  # elements nested deeper are unwrapped before parsing (see `_parsed`)
MIN_CONTENT_WORDS = 20  # fewer words than this in the body is reported as a warning

_LEADING = re.compile(rb"\A(?:\s+|<!--.*?-->)*", re.DOTALL)
_PROLOG = re.compile(rb"\A(?:<\?.*?\?>|<!doctype[^>]*>|<!--.*?-->)\s*", re.IGNORECASE | re.DOTALL)
_DOCTYPE_HTML = re.compile(rb"<!doctype\s+html", re.IGNORECASE)
_FEED_ROOT = re.compile(rb"\A<(?:rss|feed|rdf:RDF|opml)\b", re.IGNORECASE)
_HTML_START = re.compile(rb"\A<(?:html|head|body)\b", re.IGNORECASE)
_HTML_NEAR_START = re.compile(rb"<(?:html|head|body|meta|title)\b", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_ASCII_COMPATIBLE = frozenset(("latin-1", "iso8859-1", "ascii", "cp1252"))
_ROOT_NAME = re.compile(rb"<([A-Za-z][\w.:\-]*)")
# Elements an HTML document or fragment can start with (the HTML standard's, obsolete ones included;
# not svg/math, which stand alone as their own formats). Any other root is some other XML: not a page.
_HTML_ELEMENT_NAMES = """
    html head body base link meta style title script noscript template article section nav aside h1 h2 h3 h4
    h5 h6 hgroup header footer address main p hr pre blockquote ol ul menu li dl dt dd figure figcaption div a
    em strong small s cite q dfn abbr ruby rt rp data time code var samp kbd sub sup i b u mark bdi bdo span br
    wbr ins del picture source img iframe embed object param video audio track map area table caption
    colgroup col tbody thead tfoot tr td th form label input button select datalist optgroup option textarea
    output progress meter fieldset legend details summary dialog slot canvas search center font big tt strike
    frameset frame noframes marquee acronym applet basefont dir listing xmp plaintext nobr noembed
"""
HTML_ELEMENTS = frozenset(_HTML_ELEMENT_NAMES.split())
# Redirect pages: `<meta http-equiv="refresh" content="0; url=...">` and web servers' redirect bodies.
REDIRECT_PAGE_WORDS = 40
_REFRESH_URL = re.compile(r"""^\s*\d*\s*[;,]\s*url\s*=\s*['"]?([^'"\s]+)""", re.IGNORECASE)
_MOVED = re.compile(r"(?:\d{3}\s+)?(?:(?:Object|Document|Page)\s+(?:has\s+)?Moved|Moved\s+(?:Permanently|Temporarily)|"
                    r"(?:Temporary|Permanent)\s+Redirect)|\d{3}\s+(?:Found|See\s+Other)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""\A<\?xml[^>]+encoding\s*=\s*["']([-\w.:]+)""", re.IGNORECASE)


def _strip_head(head: bytes) -> bytes:
    marked = bom_encoding(head)
    head = head[marked[1]:] if marked else head
    return head[_LEADING.match(head).end() :]


def sniff(head: bytes, name: str = "") -> bool:
    """True for HTML markup: a doctype, <html>, or head/body/meta/title tags near the start.

    Feeds (`<rss>`, `<feed>`, `<rdf:RDF>`, WXR), front-matter files and JSON are left to their
    own formats; the .html/.htm name only decides when the content starts with a tag at all.
    """
    text = _strip_head(head)
    if not text or text.startswith((b"---", b"+++", b"{", b"[")):
        return False
    doctype_html = False
    while True:  # skip the prolog: XML declaration, processing instructions, doctype, comments
        prolog = _PROLOG.match(text)
        if not prolog:
            break
        doctype_html = doctype_html or bool(_DOCTYPE_HTML.match(prolog.group(0)))
        text = text[prolog.end() :]
    if _FEED_ROOT.match(text):
        return False
    if doctype_html or _HTML_START.match(text):
        return True
    if not text.startswith(b"<"):
        return False
    root = _ROOT_NAME.match(text)
    if root and root.group(1).decode("ascii", "replace").lower().rsplit(":", 1)[-1] not in HTML_ELEMENTS:
        return False  # other XML (`<catalog>`, `<opml>`, `<svg>`): neither a page nor a feed
    if _HTML_NEAR_START.search(text[:1024]):
        return True
    return name.lower().endswith((".html", ".htm", ".xhtml"))


def decode(data: bytes, http_charset: str | None = None) -> tuple[str, str, list[str]]:
    """Bytes to text: BOM, then valid UTF-8, then a declared charset (the HTTP header's of a fetched
    page, else meta or XML), then windows-1252.

    Valid UTF-8 with non-ASCII bytes wins over a declared legacy charset: saved pages often keep a
    stale `charset=iso-8859-1` after being re-encoded, while legacy text is almost never valid UTF-8.
    """
    marked = bom_encoding(data)
    if marked:
        encoding, length = marked
        return data[length:].decode(encoding, "replace"), encoding, []
    head = data[:4096]
    declared = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    name = declared.group(1).decode("ascii", "replace").lower() if declared else None
    name = http_charset.lower() if http_charset else name  # WHATWG: the header wins over <meta>
    warnings: list[str] = []
    codec = None
    if name:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            warnings.append(f"unknown charset {name!r} declared; guessed instead")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if codec and codec != "utf-8" and not text.isascii():
            warnings.append(f"declared charset {name} does not fit; read as UTF-8")
        return text, "utf-8", warnings
    if codec and codec != "utf-8":
        # browsers read latin-1 (and ascii) as windows-1252; so do we
        codec = "cp1252" if codec in _ASCII_COMPATIBLE else codec
        try:
            return data.decode(codec), codec, warnings
        except UnicodeDecodeError:
            return data.decode(codec, "replace"), codec, [*warnings, f"bytes invalid in {name} replaced"]
    reason = "invalid UTF-8" if codec == "utf-8" else "not UTF-8 and no charset declared"
    return data.decode("cp1252", "replace"), "cp1252", [*warnings, f"{reason}; read as windows-1252"]


def _refuse_redirect_page(tree: Any, name: str) -> None:
    """A page that only sends readers elsewhere is not a post: a meta refresh to another URL, or a web
    server's "Object Moved" / "301 Moved Permanently" page, with next to no text of its own."""
    words = len(" ".join(tree.xpath("//body//text()")).split())
    if words > REDIRECT_PAGE_WORDS:
        return
    refresh = tree.xpath("//meta[translate(@http-equiv, 'REFSH', 'refsh')='refresh']/@content")
    target = next((m[1] for c in refresh if (m := _REFRESH_URL.search(c))), None)
    headings = [" ".join(t.split()) for t in tree.xpath("//title//text() | //h1//text()")]
    if target is None and not any(_MOVED.fullmatch(h) for h in headings):
        return
    where = f" to {target.strip()[:300]!r}" if target else ""
    raise ParseError(f"{name or 'input'} is a redirect page{where}, not a post", code="not_a_post")


def _parsed(markup: str) -> tuple[Any, bool]:
    """The page's tree, and whether the parser stopped at its depth limit (and so lost what lay deeper)."""
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True)
    tree = lxml_html.document_fromstring(markup, parser=parser)
    return tree, any("Excessive depth" in error.message for error in parser.error_log)


def parse(item: Input) -> Iterator[RawPost]:
    """One RawPost per page: the main content as HTML, with the page's metadata."""
    from lxml import etree

    from archiver.clean_html import limit_nesting
    from archiver.extract.content import extract_content
    from archiver.extract.images import article_images, resolve_lazy_images
    from archiver.extract.leading_title import drop_repeated_title
    from archiver.extract.metadata import extract_metadata

    text, encoding, warnings = decode(item.read_bytes(), item.charset)
    # lxml refuses str input that carries an XML encoding declaration
    markup = re.sub(r"\A\s*<\?xml[^>]*\?>", "", text)
    if not markup.strip():
        raise ParseError(f"{item.name or 'input'}: empty HTML page")
    try:
        tree, too_deep = _parsed(markup)
        if too_deep:  # libxml2 (lxml, trafilatura) drops what lies deeper than 256 levels: flatten, keep the words
            markup = limit_nesting(markup, MAX_PAGE_DEPTH, structure_depth=MAX_PAGE_DEPTH + 40)
            tree, _ = _parsed(markup)
            warnings.append(f"markup nested over 256 levels deep: flattened past {MAX_PAGE_DEPTH}, text kept")
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{item.name or 'input'}: unparseable HTML: {exc}") from exc

    _refuse_redirect_page(tree, item.name)
    meta = extract_metadata(tree)
    if entries := h_feed.entries(tree):  # an h-feed page lists posts: one each, not one of the list
        for entry in entries:
            post = h_feed.to_raw_post(entry, meta.site_name, meta.url)
            post.warnings[:0] = [*warnings, f"page is a microformats h-feed of {len(entries)} h-entry posts"]
            yield post
        return
    content = extract_content(markup, url=meta.url, json_ld_body=meta.article_body, tree=tree)
    # The page's images, where its article had them: relative URLs resolve against where it was fetched from.
    page_url = item.origin.uri if item.origin.kind == "url" else meta.url
    resolve_lazy_images(tree, base_url=page_url)
    body = drop_repeated_title(article_images(tree, content.html, base_url=page_url, lead_image=meta.image),
                               meta.title)
    warnings += meta.warnings
    if content.method == "none" or len(content.text.split()) < MIN_CONTENT_WORDS:
        warnings.append(f"little or no main content found ({len(content.text.split())} words)")
    elif content.method != "trafilatura":
        warnings.append(f"main content taken from {content.method}")

    yield RawPost(  # a page without a title gets one from its text in normalize, with a warning
        format=NAME,
        body=body,
        body_format="html",
        title=meta.title,
        url=meta.url,
        canonical_url=meta.canonical_url,
        authors=meta.authors,
        published=meta.published,
        updated=meta.updated,
        categories=meta.categories,
        tags=meta.tags,
        excerpt=meta.description,
        language=meta.language,
        image=meta.image,
        site_name=meta.site_name,
        front_matter=meta.raw,
        extra={"extractor": content.method, "encoding": encoding},
        warnings=warnings,
    )
