"""What a downloaded file really is: an image type known by its bytes (never by its name or the server's
word), its dimensions, and, for SVG, whether it is safe to keep.

SVG is a document that can carry scripts: it is kept only when every element and attribute is drawing
(an allow-list), never when it could run code or fetch anything, even if opened on its own.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from archiver.errors import ArchiverError

# (magic bytes at offset, extension, content type); WebP and AVIF are checked by their brand below.
_SIGNATURES = (
    (0, b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (0, b"GIF87a", "gif", "image/gif"),
    (0, b"GIF89a", "gif", "image/gif"),
    (0, b"BM", "bmp", "image/bmp"),
    (0, b"\x00\x00\x01\x00", "ico", "image/x-icon"),
    (0, b"II*\x00", "tif", "image/tiff"),
    (0, b"MM\x00*", "tif", "image/tiff"),
)
_SVG_START = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE\s+svg[^>\[]*(?:\[.*?\])?\s*>\s*)?"
                        rb"<svg[\s>]",
                        re.IGNORECASE | re.DOTALL)
# Drawing only: no script, foreignObject (HTML inside), animation of attributes, links or external images.
SVG_ELEMENTS = frozenset({
    "svg", "g", "defs", "desc", "title", "metadata", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "pattern",
    "clipPath", "mask", "marker", "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
    "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood",
    "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology",
    "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence", "switch", "view",
})  # fmt: skip
_URL_VALUE = re.compile(r"url\s*\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)


class MediaRefused(ArchiverError):
    """A download that is not an image the archive can keep (HTML, an unsafe SVG, an unknown type)."""

    code = "not_an_image"
    stage = "media"


@dataclass(frozen=True)
class Probed:
    content_type: str
    extension: str
    width: int | None
    height: int | None


def probe(data: bytes) -> Probed:
    """The image type and size of `data`; raises MediaRefused for anything that is not an image we keep."""
    kind = _kind(data)
    if kind is None:
        raise MediaRefused(f"not an image (starts with {data[:16]!r})")
    extension, content_type = kind
    if extension == "svg":
        check_svg(data)
    import imagesize  # a few KB of pure Python: the dimensions from the header bytes

    width, height = imagesize.get(io.BytesIO(data))
    return Probed(content_type, extension, int(width) if width > 0 else None, int(height) if height > 0 else None)


def _kind(data: bytes) -> tuple[str, str] | None:
    for offset, magic, extension, content_type in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return extension, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "avif", "image/avif"
    if _SVG_START.match(data[:4096].lstrip(b"\xef\xbb\xbf")):
        return "svg", "image/svg+xml"
    return None


def check_svg(data: bytes) -> None:
    """Raise MediaRefused unless the SVG holds only drawing: allowed elements, no event handlers, no links
    or references outside the document, no entities, no styles that load anything."""
    from lxml import etree

    if b"<!ENTITY" in data:
        raise MediaRefused("SVG declares entities", code="unsafe_svg")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise MediaRefused(f"SVG is not well-formed XML: {exc}", code="unsafe_svg") from exc
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments and processing instructions
            if isinstance(element, etree._ProcessingInstruction):
                raise MediaRefused("SVG holds a processing instruction", code="unsafe_svg")
            continue
        name = etree.QName(element).localname
        if name not in SVG_ELEMENTS:
            raise MediaRefused(f"SVG element <{name}> is not drawing", code="unsafe_svg")
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname.lower()
            if local.startswith("on"):
                raise MediaRefused(f"SVG event handler {local}", code="unsafe_svg")
            if local == "href" and not value.strip().startswith("#"):
                raise MediaRefused(f"SVG reference outside the document: {value[:80]!r}", code="unsafe_svg")
            if any(not target.startswith("#") for target in _URL_VALUE.findall(value)):
                raise MediaRefused("SVG style loads something outside the document", code="unsafe_svg")
