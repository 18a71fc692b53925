"""The article's images, put back into its extracted body where they stood on the page.

Text extractors return the article's words; what a reader also saw, its photos and figures, are
taken from the page itself. Each `<img>` of the page (lazy-loading placeholders resolved first) is
placed by the article text around it: the page is read in document order, each block of text found
in the extraction anchors the images that follow it. An image between two blocks of the article, a
lead image just before its first block (or the page's declared lead image), or a figure just after
its last block is the article's; one in a box of other text (related stories, comments, a sidebar),
in navigation, or too small to see is not.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

# Where lazy-loading scripts keep the real URL until the image scrolls into view.
LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-url", "data-hi-res-src",
            "data-full-src", "data-orig-file", "data-large-file", "data-img-src", "data-echo", "data-actualsrc")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset", "data-original-srcset")
# Non-article text allowed between an image and the article block it belongs with (a caption, a credit,
# a byline and date above the lead photo); more than this and the image stands in some other box.
IN_FLOW_GAP = 400
LEAD_GAP = 600
TRAILING_GAP = 150
MIN_ANCHOR_CHARS = 20  # shorter texts ("Share", "1 of 5") are everywhere: they anchor nothing
NEEDLE_CHARS = 60  # how much of a block's text identifies it in the extraction
MAX_IMAGES = 200  # per post: a page with more is a gallery index, not an article
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".bmp", ".tif", ".tiff")

MIN_DATA_URI = 200  # characters: smaller data: images are placeholders (a 1x1 GIF is ~70)
BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
})  # fmt: skip
SKIPPED = frozenset({"script", "style", "template", "head", "title", "svg", "math", "iframe", "select", "textarea",
                     "button", "noscript"})
OUT_OF_ARTICLE = frozenset({"nav", "footer", "aside", "form"})
PAGE_ROOTS = frozenset({"html", "body", "main", "article"})  # their classes describe the page, not a box in it
# Words of the class or id of boxes that are not the article ("RelatedContent", "share-bar", "sidebar_ad").
BOILERPLATE_WORDS = frozenset({
    "share", "sharing", "social", "related", "recommend", "recommended", "recommendations", "comment", "comments",
    "newsletter", "promo", "promotion", "advert", "advertisement", "ad", "ads", "sponsor", "sponsored", "nav",
    "navbar", "navigation", "menu", "sidebar", "widget", "logo", "avatar", "breadcrumb", "breadcrumbs", "subscribe",
    "popup", "cookie", "banner", "masthead", "footer", "outbrain", "taboola", "trending",
})  # fmt: skip
_CLASS_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_TRACKER = re.compile(r"(?:pixel|tracking|beacon|spacer|blank|transparent|1x1)\.(?:gif|png)|/b\.gif|[?&]utm_",
                      re.IGNORECASE)
# Site furniture by its file name: logos, icons, avatars, sprites, buttons.
_FURNITURE = re.compile(r"[/_.-](?:logo|icons?|avatars?|sprite|badge|btn|button)s?(?:[/_.-]|\d|$)", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpe?g|gif|webp);base64,", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_SIZE_WORD = re.compile(r"[-_.@]?(?:thumb(?:nail)?|small|medium|large|jumbo|superjumbo|videolarge|articlelarge|"
                        r"thumblarge|popup|scaled|full|\d{2,4}x\d{2,4}|\d{2,4}[wx]|[wh]\d{2,4}|\dx)$")
_WIDTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([wx])\s*$", re.IGNORECASE)


@dataclass
class PageImage:
    """One image of the page, as it will stand in the body."""

    src: str
    alt: str
    width: str | None
    height: str | None
    caption: str | None  # its <figcaption>, when the extraction does not hold that text
    element: Any  # the <img> in the page's tree


def resolve_lazy_images(root: Any, base_url: str | None = None) -> None:
    """In place: every `<img>` gets the URL a reader's browser ended up showing.

    A `data-src`-style attribute replaces a missing or placeholder `src`; a `<noscript>` copy of an image
    replaces the placeholder before it (or stands alone when there is none); `<picture>` sources and
    `srcset` are reduced to the best candidate, kept in `src`.
    """
    base = root.find(".//base[@href]")
    if base is not None:  # the document's own base for its relative URLs
        base_url = urljoin(base_url or "", base.get("href").strip()) or base_url
    for noscript in list(root.iter("noscript")):
        _unwrap_noscript_image(noscript)
    for img in root.iter("img"):
        for name in LAZY_SRCSET:
            if img.get(name) and not img.get("srcset"):
                img.set("srcset", img.get(name))
        src = (img.get("src") or "").strip()
        if _placeholder(src):
            lazy = next((img.get(n).strip() for n in LAZY_SRC if (img.get(n) or "").strip()), "")
            if lazy and not _placeholder(lazy):
                src = lazy
        sources = [img.get("srcset") or ""]
        picture = next((a for a in img.iterancestors("picture")), None)
        if picture is not None:
            sources += [s.get("srcset") or s.get("data-srcset") or "" for s in picture.iter("source")
                        if not (s.get("type") or "").endswith(("svg+xml",))]
        best = best_candidate(" , ".join(s for s in sources if s))
        if best and (_placeholder(src) or best != src):
            src = best
        if src:
            img.set("src", urljoin(base_url, src) if base_url and not src.startswith("data:") else src)


def _unwrap_noscript_image(noscript: Any) -> None:
    images = list(noscript.iter("img"))
    if len(images) != 1:
        return
    image = images[0]
    placeholder = noscript.getprevious()
    if placeholder is not None and placeholder.tag != "img":
        placeholder = next(placeholder.iter("img"), None) if isinstance(placeholder.tag, str) else None
    if placeholder is not None and _placeholder(placeholder.get("src") or "") and not placeholder.get("srcset"):
        placeholder.getparent().remove(placeholder) if placeholder.getparent() is not None else None
    elif placeholder is not None and placeholder.tag == "img":
        return  # a real image stands before it: the noscript copy would show it twice
    image.tail = noscript.tail
    noscript.getparent().replace(noscript, image)


def _placeholder(src: str) -> bool:
    """No real image URL: missing, a tiny data: image, or a known blank."""
    if not src:
        return True
    if src.startswith("data:"):
        return len(src) < MIN_DATA_URI or not _DATA_IMAGE.match(src)
    name = src.lower().split("?", 1)[0].rsplit("/", 1)[-1]
    return bool(_TRACKER.search(src)) or "placeholder" in name or name.startswith(("lazyload", "lazy-load"))


def srcset_candidates(srcset: str) -> list[tuple[str, str]]:
    """(URL, descriptor) pairs of a `srcset`: URLs may hold commas (`c_fill,w_80/a.jpg 80w, ...`), so the
    list is read by whitespace-separated words, a descriptor (`480w`, `2x`) closing each candidate."""
    candidates: list[tuple[str, str]] = []
    url = ""
    for word in srcset.split():
        descriptor, _, rest = word.partition(",")
        if url and _WIDTH.match(descriptor):
            candidates.append((url, descriptor))
            url = rest
        else:
            if url:  # a candidate without a descriptor ("a.jpg, b.jpg 2x")
                candidates.append((url.rstrip(","), "1x"))
            url = word
    if url:
        candidates.append((url.rstrip(","), "1x"))
    return [(u, d) for u, d in candidates if u]


def best_candidate(srcset: str) -> str | None:
    """The candidate of a `srcset` to archive: the widest up to 2048 px, else the narrowest above it."""
    sized: list[tuple[float, str]] = []
    for url, descriptor in srcset_candidates(srcset):
        if url.startswith("data:"):
            continue
        size = _WIDTH.match(descriptor)
        if size is None:
            continue
        sized.append((float(size[1]) * (1000 if size[2].lower() == "x" else 1), url))  # 2x: wider than any w
    if not sized:
        return None
    within = [c for c in sized if c[0] <= 2048]
    return max(within)[1] if within else min(sized)[1]


def article_images(root: Any, body_html: str, *, base_url: str | None = None,
                   lead_image: str | None = None) -> str:
    """`body_html` (an extraction of the page `root`) with the article's images put back where they stood.

    Images already in `body_html` are dropped first: the page's own, resolved, are placed instead.
    """
    blocks = _blocks(body_html)
    if not blocks:
        return body_html
    text, ends = _joined(blocks)
    placed = _place(root, text, lead_image=lead_image, base_url=base_url)
    if not placed:
        return "\n".join(etree.tostring(b, encoding="unicode", method="html") for b in blocks)
    out: list[str] = []
    by_block: dict[int, list[PageImage]] = {}
    for position, image in placed:  # position -1: above the article's first block
        index = -1 if position < 0 else next((i for i, end in enumerate(ends) if position <= end), len(ends) - 1)
        by_block.setdefault(index, []).append(image)
    for image in by_block.pop(-1, []):
        out.append(figure_html(image))
    for i, block in enumerate(blocks):
        out.append(etree.tostring(block, encoding="unicode", method="html"))
        out += [figure_html(image) for image in by_block.get(i, [])]
    return "\n".join(out)


def figure_html(image: PageImage) -> str:
    attributes = [f'src="{html_lib.escape(image.src, quote=True)}"', f'alt="{html_lib.escape(image.alt, quote=True)}"']
    for name in ("width", "height"):
        value = getattr(image, name)
        if value and value.isdigit():
            attributes.append(f'{name}="{value}"')
    if image.caption:  # the extractor left the caption out of the text: it stays with the image, as its title
        attributes.append(f'title="{html_lib.escape(image.caption, quote=True)}"')
    return f"<figure><img {' '.join(attributes)}></figure>"


def _blocks(body_html: str) -> list[Any]:
    """The top-level elements of the extraction, without its own images (text runs become paragraphs)."""
    if not body_html.strip():
        return []
    try:
        root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    for img in list(root.iter("img")):
        _drop(img)
    for figure in list(root.iter("figure")):
        if not " ".join(figure.text_content().split()):
            _drop(figure)
    blocks = []
    if (root.text or "").strip():
        paragraph = lxml_html.Element("p")
        paragraph.text = root.text
        blocks.append(paragraph)
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag in BLOCKS or child.tag in ("table",):
            blocks.append(child)
        else:  # an inline run at the top level
            paragraph = lxml_html.Element("p")
            paragraph.append(child)
            blocks.append(paragraph)
    return blocks


def _drop(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _joined(blocks: list[Any]) -> tuple[str, list[int]]:
    """The extraction's text as one string (blocks one space apart) and where each block ends in it."""
    parts, ends, position = [], [], 0
    for block in blocks:
        words = _SPACE.sub(" ", block.text_content()).strip()
        parts.append(words)
        position += len(words) + 1
        ends.append(position)
    return " ".join(parts), ends


@dataclass
class _Event:
    """One step of the page read in document order: a block of text, or an image."""

    element: Any
    text: str = ""  # a block's text (whitespace collapsed)
    position: int = -1  # where the block ends in the extraction's text; -1 when it is not the article's
    image: PageImage | None = None


def _read_page(root: Any, text: str) -> list[_Event]:
    """The page's blocks of text (each looked up in the extraction) and its visible images, in order."""
    body = root.find(".//body") if root.tag != "body" else root
    events: list[_Event] = []
    run: list[str] = []
    owner: list[Any] = [body if body is not None else root]
    cursor = 0
    seen: set[str] = set()

    def flush() -> None:
        nonlocal cursor
        chunk = _SPACE.sub(" ", "".join(run)).strip()
        run.clear()
        if not chunk:
            return
        event = _Event(owner[-1], chunk)
        if len(chunk) >= MIN_ANCHOR_CHARS:
            found = _find(text, chunk, cursor)
            if found >= 0:
                event.position = min(len(text), found + len(chunk))
                cursor = found + 1
        events.append(event)

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""  # "" for comments and processing instructions
        if tag in SKIPPED:
            run.append(element.tail or "")
            return
        block = tag in BLOCKS
        if block:
            flush()
            owner.append(element)
        if tag == "img":
            image = _page_image(element, text)
            if image is not None and image.src not in seen and not _tiny(element):
                seen.add(image.src)
                flush()
                events.append(_Event(element, image=image))
        elif tag:
            run.append(element.text or "")
            for child in element:
                walk(child)
        if block:
            flush()
            owner.pop()
        run.append(element.tail or "")

    walk(owner[0])
    flush()
    return events


def _place(root: Any, text: str, *, lead_image: str | None, base_url: str | None) -> list[tuple[int, PageImage]]:
    """(position in the extraction's text, image) for each image of the article, in page order.

    An image goes with the article block before it, or, before the first one, at the top. It is the
    article's when little other text separates it from the article's blocks, and, above the first
    block, when it stands inside the element that holds the whole article (not the site's header).
    """
    events = _read_page(root, text)
    matched = [i for i, event in enumerate(events) if event.position >= 0]
    if not matched:
        return []
    container = _article_container([events[i] for i in matched])
    lead = _comparable(urljoin(base_url, lead_image) if lead_image and base_url else lead_image)
    placed: list[tuple[int, PageImage]] = []
    # lxml makes a new proxy object for an element no proxy is alive for: hold them so their ids stay theirs.
    around = [container, *container.iterancestors()]
    article = {id(element) for element in around}
    # The lead photo often stands beside the body, before it, in the element around both.
    lead_scope = container.getparent() if container.getparent() is not None else container
    for i, event in enumerate(events):
        if event.image is None or _in_other_box(event.element, article, text):
            continue
        before = next((j for j in range(i - 1, -1, -1) if events[j].position >= 0), None)
        after = next((j for j in range(i + 1, len(events)) if events[j].position >= 0), None)
        gap_before = _gap(events, before, i)
        gap_after = _gap(events, i, after)
        anchor = events[before].position if before is not None else -1
        if lead and _comparable(event.image.src) == lead:
            keep = True
        elif before is None:  # above the article: a lead photo under the headline, not the site's logo
            keep = gap_after <= LEAD_GAP and (_inside(event.element, lead_scope)
                                              or next(event.element.iterancestors("figure"), None) is not None)
        elif after is None:  # below the article: a last figure, not the author's card or the next stories
            keep = gap_before <= TRAILING_GAP and _inside(event.element, container)
        else:  # between two blocks: close to one of them, inside the article (or close to both)
            keep = ((min(gap_before, gap_after) <= IN_FLOW_GAP and _inside(event.element, container))
                    or max(gap_before, gap_after) <= IN_FLOW_GAP)
        if keep:
            placed.append((anchor, event.image))
    return _largest_of_each(placed)[:MAX_IMAGES]


def _largest_of_each(placed: list[tuple[int, PageImage]]) -> list[tuple[int, PageImage]]:
    """One image per file: a blurred preview (`/max/60/a.png`) beside its full size (`/max/1600/a.png`)
    is the same picture twice; the one whose URL names the larger size stays, where the first stood."""
    chosen: dict[str, int] = {}
    kept: list[tuple[int, PageImage] | None] = []
    for anchor, image in placed:
        name = _file_name(image.src)
        index = chosen.get(name)
        if index is not None and _resized(kept[index][1].src, image.src):
            if _size_hint(image.src) > _size_hint(kept[index][1].src):
                kept[index] = (kept[index][0], image)
            continue
        chosen[name] = len(kept)
        kept.append((anchor, image))
    return [item for item in kept if item is not None]


def _file_name(url: str) -> str:
    """The picture a URL names, whatever its size: the file name without extension and size words
    (`a-thumbLarge.jpg`, `a-1024x768.jpg`, `a-videoLarge.jpg` are all `a`)."""
    if url.startswith("data:"):
        return url
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    while (shorter := _SIZE_WORD.sub("", stem)) != stem and shorter:
        stem = shorter
    return stem or name or url


def _resized(first: str, second: str) -> bool:
    """Two URLs of one picture (same `_file_name`) that differ in size: by a size word in the name or a
    number in the path. The same name in two folders with no size told apart is two pictures."""
    def name(url: str) -> str:
        return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()

    return name(first) != name(second) or _size_hint(first) != _size_hint(second)


def _size_hint(url: str) -> int:
    """The largest number in the URL's path (widths such as `/max/1600/`, `w_800`, `-1024x768`)."""
    return max((int(n) for n in re.findall(r"\d{2,5}", url.split("?", 1)[0])), default=0)


def _in_other_box(img: Any, article: set[int], text: str) -> bool:
    """Whether the image stands in navigation, a footer, a box named as not the article, or a teaser card
    (a link to another page with a headline the article does not hold), below the element that holds the
    article (whose own classes, "widget Blog" on Blogger, say nothing of the image)."""
    for ancestor in img.iterancestors():
        if id(ancestor) in article:
            return False
        if ancestor.tag in OUT_OF_ARTICLE or (ancestor.tag not in PAGE_ROOTS and _boilerplate(ancestor)):
            return True
        if ancestor.tag == "a" and _teaser(ancestor, text):
            return True
    return False


def _teaser(link: Any, text: str) -> bool:
    href = (link.get("href") or "").split("?", 1)[0].lower()
    if not href or href.endswith(IMAGE_EXTENSIONS):
        return False
    headline = _SPACE.sub(" ", link.text_content()).strip()
    return len(headline) >= MIN_ANCHOR_CHARS and headline[:NEEDLE_CHARS] not in text


def _boilerplate(element: Any) -> bool:
    """Whether the element's class or id names a box that is not the article."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return any(word.lower() in BOILERPLATE_WORDS for word in _CLASS_WORD.findall(names))


def _gap(events: list[_Event], start: int | None, stop: int | None) -> int:
    """Characters of text that is not the article's between two events (from the page's start, to its end)."""
    first = 0 if start is None else start + 1
    last = len(events) if stop is None else stop
    return sum(len(e.text) for e in events[first:last] if e.image is None and e.position < 0)


def _article_container(blocks: list[_Event], share: float = 0.8) -> Any:
    """The innermost element holding `share` of the article's text: its blocks, a stray one (a footer line
    the extractor took) aside."""
    total = sum(len(block.text) for block in blocks)
    held: dict[int, int] = {}
    elements: dict[int, Any] = {}
    depth: dict[int, int] = {}
    for block in blocks:
        for level, ancestor in enumerate(reversed([block.element, *block.element.iterancestors()])):
            held[id(ancestor)] = held.get(id(ancestor), 0) + len(block.text)
            elements[id(ancestor)], depth[id(ancestor)] = ancestor, level
    enough = [key for key, chars in held.items() if chars >= share * total]
    return elements[max(enough, key=depth.__getitem__)]


def _inside(element: Any, container: Any) -> bool:
    return any(ancestor is container for ancestor in element.iterancestors())


def _find(text: str, chunk: str, cursor: int) -> int:
    """Where `chunk` (a block of the page) starts in the extraction's text, searching from `cursor` on."""
    needle = chunk[:NEEDLE_CHARS]
    position = text.find(needle, cursor)
    if position < 0 and cursor:  # extractors may reorder a little (a caption before its paragraph)
        position = text.find(needle)
    return position


def _page_image(img: Any, text: str) -> PageImage | None:
    src = (img.get("src") or "").strip()
    if _placeholder(src) or not (src.startswith(("http://", "https://")) or _DATA_IMAGE.match(src)):
        return None
    if _FURNITURE.search(src.split("?", 1)[0]):
        return None
    caption = None
    figure = next(img.iterancestors("figure"), None)
    if figure is not None:
        figcaption = next(figure.iter("figcaption"), None)
        if figcaption is not None:
            words = _SPACE.sub(" ", figcaption.text_content()).strip()
            caption = words if words and words[:NEEDLE_CHARS] not in text else None
    alt = _SPACE.sub(" ", img.get("alt") or img.get("data-alt") or "").strip()
    return PageImage(src=src, alt=alt, width=img.get("width"), height=img.get("height"), caption=caption,
                     element=img)


def _tiny(img: Any) -> bool:
    """A tracking pixel: declared 2 px or less in either dimension. (Small icons stay: a table of check marks,
    a flag, an inline formula are the article's.)"""
    sizes = [int(v) for v in ((img.get(n) or "").strip().removesuffix("px") for n in ("width", "height"))
             if v.isdigit()]
    return bool(sizes) and min(sizes) <= 2


def _comparable(url: str | None) -> str | None:
    """A URL without scheme, query and fragment: the same image over http and https, resized by a query."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return f"{parts.netloc.lower()}{parts.path}"
