"""Turn a post body as found into clean, safe HTML.

Order matters: shortcodes and template tags are text-level markup, so they go first; then
nh3 (the Ammonia sanitizer) parses the HTML, drops everything not on the allow-list
(scripts, styles, iframes, event handlers, `javascript:` URLs, ids, classes, inline styles,
tool attributes such as `readability="5"`, marker spans) and makes URLs absolute; last,
whitespace left behind (runs of `<br>`, empty paragraphs) is tidied.

Every step is linear in the body's length, whatever the body: a paired construct (`{% raw %}`
... `{% endraw %}`, `[caption]` ... `[/caption]`, `<pre>` ... `</pre>`) is found by searching
for its opener and then for its closer, remembering where a closer was last found or known to be
absent (`_Finder`), instead of a lazy `.*?` that rescans the rest of the body from every opener;
whitespace runs are matched from their start only; nested empty elements go in one pass.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import nh3

from archiver.ids import is_absolute_url

# Layout containers: kept by the sanitizer (without attributes) only so that `wrap_loose_inline` knows where
# one box of text ends and the next begins; none is left in the output.
CONTAINER_TAGS = frozenset({"div", "section", "article", "header", "footer", "main", "aside", "nav", "center",
                            "address", "hgroup", "details", "summary"})
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
# Removed with their content: code, styling and embedded documents are never article text.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "noscript", "object", "embed", "template", "svg",
                        "math", "select", "textarea", "button", "head", "title"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "cite"}  # of the allowed attributes, those that hold a URL
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))

# WordPress shortcodes: known names only, so that bracketed prose ("[sic]", "[1]") survives.
SHORTCODE_NAMES = (
    r"ad_\d+|caption|wp_caption|gallery|video|audio|playlist|embed|more|nextpage|twitter|tweet|tweet_box|"
    r"youtube|vimeo|soundcloud|instagram|spotify|facebook|googleads|wp_ad_camp_\d+|contact-form(?:-7)?|"
    r"code|sourcecode|include(?::[^\]\s\[]*)?|adsense|ads?|box|button|quote|pullquote|su_\w+|et_pb_\w+|vc_\w+"
)
# Shortcode names are case-sensitive in WordPress: "[VIDEO]" in a news headline is prose.
# Each paired construct is an opener (bounded) followed by what closes it, searched for in turn.
_SHORTCODE = re.compile(rf"\[(/?)({SHORTCODE_NAMES})\b")
_CAPTION = re.compile(r"\[(?:wp_)?caption\b")
_CAPTION_END = re.compile(r"\[/(?:wp_)?caption\]")
_CODE = re.compile(r"\[(code|sourcecode)\b")
_EMBED = re.compile(r"\[embed\b")
_EMBED_END = re.compile(r"\[/embed\]")
_MEDIA = re.compile(r"\[(video|audio)\b")
_BRACKET_END = re.compile(r"\]")
_MEDIA_SRC = re.compile(r"\b(?:src|mp4|m4v|webm|ogv|mp3|ogg|wav|m4a)=[\"']?([^\"'\s\]]+)", re.IGNORECASE)
_CODE_SPAN = re.compile(r"<(pre|code)\b", re.IGNORECASE)
_CAPTION_ATTR = re.compile(r"\bcaption=[\"']([^\"']*)[\"']", re.IGNORECASE)
_CAPTION_MEDIA = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.DOTALL | re.IGNORECASE)

_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}")
_LIQUID_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_LIQUID_TAG = re.compile(r"\{%")
_LIQUID_TAG_END = re.compile(r"%\}")
_LIQUID_OUTPUT = re.compile(r"\{\{")
_LIQUID_OUTPUT_END = re.compile(r"\}\}")
_HUGO_SHORTCODE = re.compile(r"\{\{[<%]")
_HUGO_SHORTCODE_END = re.compile(r"[>%]\}\}")
# Nunjucks comments: `{# note #}`; a `{#id}` attribute list (Kramdown headings) is not one.
_NUNJUCKS_COMMENT = re.compile(r"\{#(?=-?\s|[^{}]*#\})")
_NUNJUCKS_COMMENT_END = re.compile(r"#\}")
# Jekyll / Eleventy code blocks; the language may be quoted (`{% highlight "bash" %}`) and take options.
_HIGHLIGHT = re.compile(r"\{%-?\s*highlight\b")
_HIGHLIGHT_LANGUAGE = re.compile(r"\s+([\"']?)([\w+#.][\w+#.\-]*)\1")
_ENDHIGHLIGHT = re.compile(r"\{%-?\s*endhighlight\s*-?%\}")
# Hugo cross-references: `{{< ref "posts/x.md" >}}`, `{{< relref path="x" >}}`, inside a link or bare.
# Every run is bounded by the next quote, `>`, `%`, bracket or `<a`, so a failed match never rescans the body.
_HUGO_REF = r"\{\{[<%]\s*(?:rel)?ref\s+(?:path=)?[\"']?((?<=[\"'])[^\"'\n]+|[^\"'\s>%]+)[\"']?[^>%]*[>%]\}\}"
_HUGO_REF_MARKDOWN_LINK = re.compile(rf"\[([^\[\]]*)\]\(\s*{_HUGO_REF}\s*\)")
_HUGO_REF_HTML_LINK = re.compile(
    rf"<a\b[^<>]*?\bhref\s*=\s*[\"']?{_HUGO_REF}[\"']?[^<>]*>([^<]*(?:<(?!/?a\b)[^<]*)*)</a>", re.IGNORECASE
)
_HUGO_REF_BARE = re.compile(_HUGO_REF)
_PRE = re.compile(r"<pre\b", re.IGNORECASE)
_PRE_END = re.compile(r"</pre>", re.IGNORECASE)

# WordPress.com video/audio shortcodes: `[youtube=URL]`, `[youtube URL]`, `[vimeo 123]`, `[youtube]URL[/youtube]`.
# No run crosses a `[`: a failed match stops at the next bracket.
_EMBED_SHORTCODE = re.compile(
    r"\[(youtube|vimeo|dailymotion|soundcloud|spotify|instagram|twitter|tweet|facebook|ted|wpvideo)\b"
    r"([^\[\]]*)\](?:([^\[]*)\[/\1\])?"
)
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'\]<>]+")
_ID_IN_SHORTCODE = re.compile(r"^[=\s]*(?:id=)?[\"']?([\w-]{4,})[\"']?\s*$")
_VIDEO_BY_ID = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}",
                "dailymotion": "https://www.dailymotion.com/video/{}"}

# Patterns that start with a literal are searched for it (fast, in C); `(?:<br>\s*){2,}` is not.
_BR_RUN = re.compile(r"<br>\s*(?:<br>\s*)+")
# The lookbehinds make a match start where a run of spaces and breaks starts, never inside it:
# a match attempted from every position of a long run would rescan it each time.
_BR_AT_BLOCK_EDGE = re.compile(
    r"(<(?:p|li|td|th|blockquote|figcaption|h[1-6])>)\s*(?:<br>\s*)+|(?<!\s)(?<!<br>)(?:\s*<br>)+\s*"
    r"(</?(?:p|li|td|th|blockquote|figure|figcaption|h[1-6]|ul|ol|table|pre|hr)\b)"
)
# Every match of _BR_AT_BLOCK_EDGE holds one of these (a break after an opening tag, or a last break
# before a tag), which start with a literal: searching them first skips the passes with nothing to do.
_BR_NEAR_BLOCK = (
    re.compile(r"<(?:p|li|td|th|blockquote|figcaption|h[1-6])>\s*<br>"),
    re.compile(r"<br>\s*</?(?:p|li|td|th|blockquote|figure|figcaption|h[1-6]|ul|ol|table|pre|hr)\b"),
)
_EDGE_BR = re.compile(r"^\s*(?:<br>\s*)+|(?<!\s)(?<!<br>)(?:\s*<br>)+\s*$")
_EMPTY_TAG = re.compile(r"<(/?)(p|li|h[1-6]|blockquote|figcaption|strong|em|b|i|a)\b([^<>]*)>")
_BLANK = re.compile(r"(?:\s|&nbsp;|\u00a0)*")
# An innermost empty candidate, as _EMPTY_TAG and _BLANK see it: without one, nothing is dropped.
_INNERMOST_EMPTY = re.compile(
    r"<(p|li|h[1-6]|blockquote|figcaption|strong|em|b|i|a)\b[^<>]*>(?:\s|&nbsp;|\u00a0)*</\1>"
)
_INLINE = {"strong", "em", "b", "i", "a"}
_ANY_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")
_VOID_TAGS = {"br", "hr", "img", "wbr", "area", "base", "col", "embed", "input", "link", "meta", "source", "track"}
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# An image whose real URL is not (only) in `src`: worth a parse to resolve before the sanitizer drops the rest.
_LAZY_IMAGE_HINT = re.compile(r"\bdata-(?:src|srcset|lazy|original)|\bsrcset=|<picture\b|<noscript\b", re.IGNORECASE)
MAX_NESTING = 64  # elements deeper than this are unwrapped (articles nest a dozen levels at most)
MAX_TIDY_PASSES = 8  # ordinary bodies settle in two or three; a hostile one stops here, still safe
# `<iframe .../>` is not self-closing in HTML: the element would swallow the rest of the body and
# be dropped with it. XHTML-serialized scrapes write these; close them where they stand.
_SELF_CLOSED_DROPPED = re.compile(
    r"<(script|style|iframe|noscript|object|template|title|textarea|select|button)\b([^<>]*)/>", re.IGNORECASE
)
# Navigation text that WordPress auto-blogs copied from the source site's template.
BOILERPLATE = (
    re.compile(r"Go Back to Top\.\s*Skip To:\s*Start of Article\.?", re.IGNORECASE),
    # Only as the whole text of an element or line: "skip to content that matters" is prose.
    # (Spaces before it: any after a tag, only those of its own line after a line start.)
    re.compile(r"(?:(?<=>)\s*|^[ \t]*)Skip to (?:main )?content\.?\s*(?=<|$)", re.IGNORECASE | re.MULTILINE),
)
_LAYOUT_TAGS = CONTAINER_TAGS | {"span", "font", "b", "i", "em", "strong", "a", "small", "u"}
_CONTAINER_TAG = re.compile(r"<(?:div|section|article|header|footer|main|aside|nav|center|address|hgroup|details|"
                            r"summary)\b", re.IGNORECASE)
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "blockquote", "pre", "table", "figure",
               "hr"}
_BLOCK_OPENERS = re.compile(
    r"^\s*<(?:p|div|ul|ol|li|h[1-6]|blockquote|pre|table|figure|hr|section|article|dl|form|address)\b", re.I
)


def clean(body: str, *, base_url: str | None = None, template_tags: bool = False,
          autop: bool = False, root_url: str | None = None) -> str:
    """The body as clean, sanitized HTML; visible text is never dropped except boilerplate.

    Relative links resolve against `base_url`; without one, `root_url` (a site's root) resolves only the
    links from the root (`/img/x.png`), and the others stay as written."""
    body = _CONTROL_CHARS.sub(" ", body)  # never text, and lxml (which reads the result) refuses them
    html = _SELF_CLOSED_DROPPED.sub(lambda m: f"<{m[1]}{m[2].rstrip()}></{m[1]}>", strip_shortcodes(body))
    if template_tags:
        html = strip_template_tags(html)
    if autop:
        html = wpautop(html)
    for pattern in BOILERPLATE:
        html = pattern.sub("", html)
    if _LAZY_IMAGE_HINT.search(html):
        html = resolve_images(html, base_url)
    return tidy(wrap_loose_inline(tidy(limit_nesting(sanitize(html, base_url, root_url=root_url)))))


def resolve_images(html: str, base_url: str | None = None) -> str:
    """The body with each image as a reader saw it: lazy-loading placeholders, `<noscript>` copies, `srcset`
    and `<picture>` resolved to one `src` (see archiver.extract.images); the sanitizer keeps only `src`."""
    from lxml import etree
    from lxml import html as lxml_html

    from archiver.extract.images import resolve_lazy_images

    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    resolve_lazy_images(root, base_url if usable_base(base_url) else None)
    return (root.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)


def usable_base(base_url: str | None) -> bool:
    """Whether relative links can be resolved against `base_url`: an absolute http(s) URL nh3 accepts."""
    if not is_absolute_url(base_url):
        return False
    try:
        nh3.clean("", url_relative=("rewrite_with_base", base_url))
    except ValueError:  # e.g. a host with spaces: urllib splits it, the URL standard refuses it
        return False
    return True


def sanitize(html: str, base_url: str | None = None, *, root_url: str | None = None) -> str:
    """nh3 with our allow-list; relative URLs resolved against `base_url` when it is usable, else kept.

    Every URL attribute is held to the same schemes: nh3 checks `href` and `src` but passes
    `cite` (on blockquote and q) as it is, `javascript:` included, so `_url_attribute` checks them all.
    """
    if base_url and not usable_base(base_url):
        base_url = None
    options = dict(
        tags=ALLOWED_TAGS | CONTAINER_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )
    if base_url:
        try:
            return nh3.clean(html, **options, url_relative=("rewrite_with_base", base_url),
                             attribute_filter=lambda element, attribute, value: _url_attribute(attribute, value,
                                                                                                 base_url))
        except ValueError:  # nh3 refuses a base it cannot parse ("h\x01ttps://..."): keep relative URLs
            pass
    root = root_url if root_url and usable_base(root_url) else None
    return nh3.clean(html, **options,
                     attribute_filter=lambda element, attribute, value: _url_attribute(attribute, value, None, root))


def _url_attribute(attribute: str, value: str, base_url: str | None, root_url: str | None = None) -> str | None:
    """A URL attribute's value when its scheme is allowed (resolved when relative), else None (dropped)."""
    if attribute not in URL_ATTRIBUTES:
        return value
    # As a browser reads it: surrounding spaces and controls ignored, tabs and newlines removed.
    url = _URL_NOISE.sub("", value.strip(_C0_AND_SPACE))
    scheme = _SCHEME.match(url)
    if scheme:
        return value if scheme.group(1).lower() in URL_SCHEMES else None
    if not base_url and root_url and url.startswith("/") and not url.startswith("//"):
        base_url = root_url  # a link from the site's root: the one kind a site URL alone resolves
    try:
        return urljoin(base_url, url) if base_url and url else value
    except ValueError:  # unparseable ("//[x"): not a link anyone can follow
        return None


def limit_nesting(html: str, max_depth: int = MAX_NESTING, *, structure_depth: int | None = None) -> str:
    """Unwrap elements nested deeper than `max_depth`, keeping their text.

    lxml (libxml2) silently drops whatever lies deeper than 256 levels, and no article nests that
    deep: the tags go, the words stay. Expects balanced markup (the sanitizer's output); on a page's raw
    markup, `structure_depth` keeps the tags of elements other than layout containers (paragraphs, lists,
    headings) down to that depth, so that a paragraph under 300 `<div>`s stays a paragraph.
    """
    if html.count("<") <= max_depth:
        return html
    out: list[str] = []
    kept: list[bool] = []  # per open element: were its tags kept?
    depth = 0  # of the kept elements
    pos = 0
    for match in _ANY_TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID_TAGS:
            continue
        out.append(html[pos : match.start()])
        pos = match.end()
        if not closing:
            limit = max_depth if structure_depth is None or name in _LAYOUT_TAGS else structure_depth
            kept.append(depth < limit)
            keep = kept[-1]
            depth += keep
        else:
            keep = kept.pop() if kept else True
            depth -= keep and depth > 0
        if keep:
            out.append(match.group(0))
    out.append(html[pos:])
    return "".join(out)


def tidy(html: str) -> str:
    """Collapse `<br>` runs and drop the empty elements that removed markup leaves behind."""
    breaks = "<br>" in html  # most bodies have none: skip the patterns about them
    if breaks:
        html = _BR_RUN.sub("<br>", html)
    for i in range(MAX_TIDY_PASSES):  # dropping a break can empty an element, emptying one can expose a break
        previous = html
        # One level per pass, as the regex version did, so that a break at the edge of a block is seen
        # (and dropped) before the block is; the last pass takes any deeper nesting at once.
        html = drop_empty_elements(html, cascade=i == MAX_TIDY_PASSES - 1)
        if breaks and any(pattern.search(html) for pattern in _BR_NEAR_BLOCK):
            html = _BR_AT_BLOCK_EDGE.sub(lambda m: m.group(1) or m.group(2), html)
        if html == previous:
            break
    if breaks and (html.lstrip().startswith("<br>") or html.rstrip().endswith("<br>")):  # else no match
        html = _EDGE_BR.sub("", html)
    html = re.sub(r"\n{3,}", "\n\n", html)
    return html.strip()


def drop_empty_elements(html: str, *, cascade: bool = True) -> str:
    """Remove paragraphs, headings, list items, quotes and inline elements holding only whitespace.

    One pass with a stack of the open candidates. With `cascade`, nested empties
    (`<p><em><b></b></em></p>`) go together: an element emptied by removing its children is removed
    in the same pass; without, only the innermost go (an element that had a child removed stays for
    the next pass). An inline element that held a space leaves the space, which keeps the words
    around it apart.
    """
    if not _INNERMOST_EMPTY.search(html):  # most passes: one search instead of rebuilding the same text
        return html
    out: list[str] = []
    stack: list[list] = []  # per open candidate: [name, where it starts in out, has content, has a space]
    pos = 0

    def content(text: str) -> None:
        if text:
            out.append(text)
            if stack:
                stack[-1][2 if not _BLANK.fullmatch(text) else 3] = True

    for match in _EMPTY_TAG.finditer(html):
        content(html[pos : match.start()])
        pos = match.end()
        closing, name, attributes = match.groups()
        if not closing:
            stack.append([name, len(out), False, False])
            out.append(match.group(0))
        elif not stack or stack[-1][0] != name or attributes:
            content(match.group(0))  # closes no open candidate: ordinary markup
        else:
            _, start, has_content, spaced = stack.pop()
            if has_content:
                out.append(match.group(0))
                if stack:
                    stack[-1][2] = True
            else:
                del out[start:]
                content(" " if name in _INLINE and spaced else "")
                if stack and not cascade:
                    stack[-1][2] = True  # the parent held an element this pass: it is judged next pass
    content(html[pos:])
    return "".join(out)


def wrap_loose_inline(html: str) -> str:
    """Put text and inline elements that sit between blocks into paragraphs of their own, and unwrap the
    layout containers the sanitizer let through (`<div>`, `<section>`...) without gluing their texts.

    Each container's loose text becomes a paragraph of its own (two `<div>` cards read as two paragraphs,
    not one run of words); inside a paragraph-like block (a list item, a cell) a container's end is a line
    break. A trailing "Source" link, a dateline, left between blocks, reads, renders and extracts like the
    rest of the text.
    """
    from lxml import etree
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")
    if all(child.tag in _BLOCK_TAGS for child in root) and not (root.text or "").strip() and not any(
        (child.tail or "").strip() for child in root
    ) and ("<" not in html or not _CONTAINER_TAG.search(html)):
        return html
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = "".join(run).strip()
        text = _EDGE_BR.sub("", text)
        if text:
            out.append(f"<p>{text}</p>")
        run.clear()

    def flatten(parent: etree._Element) -> None:
        run.append(html_lib.escape(parent.text or "", quote=False))
        for child in parent:
            tail = html_lib.escape(child.tail or "", quote=False)
            child.tail = None
            if child.tag in CONTAINER_TAGS:
                flush()
                flatten(child)  # as deep as limit_nesting allows
                flush()
            else:
                _unwrap_containers(child)
                markup = etree.tostring(child, encoding="unicode", method="html")
                if child.tag in _BLOCK_TAGS:
                    flush()
                    out.append(markup)
                else:
                    run.append(markup)
            run.append(tail)

    flatten(root)
    flush()
    return "\n".join(out)


def _unwrap_containers(element: Any) -> None:
    """Drop the container tags inside a block or inline element, keeping their content; a container that
    more content follows ends with a line break, so that its words stay apart from the next ones."""
    from lxml import html as lxml_html

    for container in [e for e in element.iterdescendants() if e.tag in CONTAINER_TAGS][::-1]:
        if (container.tail and container.tail.strip()) or container.getnext() is not None:
            container.append(lxml_html.Element("br"))
        container.drop_tag()


def strip_shortcodes(html: str) -> str:
    """Remove WordPress shortcodes; convert the ones that carry content (caption, code, embed, media)."""
    html = _replace(html, _spans(html, _CODE, _BRACKET_END, lambda m: _literal(f"[/{m[1]}]")), _code_block)
    # Code shows brackets as they are (`[button setTitle:...]` is Objective-C, not a shortcode).
    out: list[str] = []
    pos = 0
    for span in _spans(html, _CODE_SPAN, lambda m: _literal(f"</{m[1]}>", re.IGNORECASE)):
        out += [_strip_shortcodes_in_text(html[pos : span.start]), html[span.start : span.end]]
        pos = span.end
    out.append(_strip_shortcodes_in_text(html[pos:]))
    return "".join(out)


def _strip_shortcodes_in_text(text: str) -> str:
    text = _replace(text, _spans(text, _CAPTION, _BRACKET_END, _CAPTION_END), _caption_to_figure)
    text = _replace(text, _spans(text, _EMBED, _BRACKET_END, _EMBED_END),
                    lambda span: _link(span.between(1, 2).strip()))
    text = _replace(text, _spans(text, _MEDIA, _BRACKET_END, lambda m: _literal(f"[/{m[1]}]"), optional_last=True),
                    _media_to_link)
    text = _EMBED_SHORTCODE.sub(_embed_to_link, text)
    return _replace(text, _spans(text, _SHORTCODE, _BRACKET_END), lambda span: "")


def strip_template_tags(text: str, *, markdown: bool = False) -> str:
    """Remove Liquid / Nunjucks (`{% %}`, `{{ }}`, `{# #}`) and Hugo (`{{< >}}`) tags.

    `{% raw %}` blocks keep their text; `{% highlight %}` blocks become code blocks (fenced in
    Markdown, `<pre><code>` in HTML); Hugo `ref`/`relref` links point to the page's site path when
    it can be derived, else only their text stays. Each construct is found as an opener followed by
    its closer (see `_spans`), so the time stays linear in the text.
    """
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00KEEP{len(kept) - 1}\x00"

    def restore(value: str) -> str:
        return re.sub(r"\x00KEEP(\d+)\x00", lambda m: kept[int(m.group(1))], value)

    def code_block(span: _Span) -> str:
        language = _HIGHLIGHT_LANGUAGE.match(span.between(0, 1))
        code = restore(_strip_tags(span.between(1, 2)))  # Liquid inside runs (here: goes), raw text stays
        block = _fenced(code, language.group(2) if language else "", _indent_at(text, span.start)) if markdown else (
            f"<pre><code>{html_lib.escape(code.strip(chr(10)))}</code></pre>")
        return keep(block)

    text = _replace(text, _spans(text, _LIQUID_RAW, _LIQUID_ENDRAW), lambda span: keep(span.between(0, 1)))
    text = _replace(text, _spans(text, _HIGHLIGHT, _LIQUID_TAG_END, _ENDHIGHLIGHT), code_block)
    text = _HUGO_REF_MARKDOWN_LINK.sub(
        lambda m: f"[{m.group(1)}]({path})" if (path := hugo_ref_path(m.group(2))) else m.group(1), text)
    text = _HUGO_REF_HTML_LINK.sub(
        lambda m: f'<a href="{html_lib.escape(path)}">{m.group(2)}</a>' if (path := hugo_ref_path(m.group(1)))
        else m.group(2), text)
    text = _HUGO_REF_BARE.sub(lambda m: hugo_ref_path(m.group(1)) or "", text)
    return restore(_strip_tags(text))


def _strip_tags(text: str) -> str:
    for opener, closer in ((_NUNJUCKS_COMMENT, _NUNJUCKS_COMMENT_END), (_HUGO_SHORTCODE, _HUGO_SHORTCODE_END),
                           (_LIQUID_TAG, _LIQUID_TAG_END), (_LIQUID_OUTPUT, _LIQUID_OUTPUT_END)):
        text = _replace(text, _spans(text, opener, closer), lambda span: "")
    return text


def _indent_at(text: str, position: int) -> str:
    """The whitespace that opens the line at `position` ("" when other text precedes it on the line)."""
    line = text[text.rfind("\n", 0, position) + 1 : position]
    return line if not line.strip() else ""


def _fenced(code: str, language: str, indent: str) -> str:
    code = code.strip("\n")  # code lines keep their own indentation, as Jekyll copies them
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"\n{indent}{fence}{language}\n{code}\n{indent}{fence}\n"


def hugo_ref_path(target: str) -> str | None:
    """The site path Hugo's `ref` gives a content file, when it can be told from the reference alone.

    `/posts/my-post.md` and `posts/my-post/index.md` give `/posts/my-post/` (default permalinks,
    lower case); a bare name (`my-post.md`) is looked up site-wide by Hugo: not derivable here.
    """
    path, _, anchor = target.partition("#")
    if not path:
        return f"#{anchor}" if anchor else None
    if "/" not in path:  # a bare name: Hugo searches the whole site for it
        return None
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:  # the home page
        return "/" + (f"#{anchor}" if anchor else "")
    last = re.sub(r"\.(?:md|markdown|html?|adoc|org|rst)$", "", parts[-1], flags=re.IGNORECASE)
    parts = parts[:-1] if last in ("index", "_index") else [*parts[:-1], last]
    slug = "/" + "/".join(re.sub(r"\s+", "-", p.lower()) for p in parts) + "/"
    return slug + (f"#{anchor}" if anchor else "")


def wpautop(text: str) -> str:
    """WordPress stores bodies without `<p>`: blank lines separate paragraphs, newlines are breaks."""
    if "\n" not in text:
        return text
    preformatted: list[str] = []

    def protect(span: _Span) -> str:  # blank lines inside <pre> are content, as in WordPress
        preformatted.append(span.text)
        return f"\x00PRE{len(preformatted) - 1}\x00"

    text = text.replace("\r\n", "\n")
    text = _replace(text, _spans(text, _PRE, _PRE_END), protect)
    chunks = re.split(r"\n\s*\n", text)
    out = []
    for chunk in chunks:
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_OPENERS.match(chunk) or chunk.startswith("\x00PRE"):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return re.sub(r"\x00PRE(\d+)\x00", lambda m: preformatted[int(m.group(1))], "\n".join(out))


# --- paired constructs in linear time -----------------------------------------------------------


class _Finder:
    """Forward searches for one pattern in one text that never rescan what an earlier search covered.

    Searches come from increasing positions. The last match is reused while it still lies ahead,
    and once a search found nothing from some position, nothing is found from any later one.
    """

    def __init__(self, pattern: re.Pattern[str], text: str):
        self.pattern, self.text = pattern, text
        self.found: re.Match[str] | None = None
        self.searched_from = 0
        self.absent_from: int | None = None

    def search(self, pos: int) -> re.Match[str] | None:
        if self.absent_from is not None and pos >= self.absent_from:
            return None
        if self.found is not None and self.searched_from <= pos <= self.found.start():
            return self.found
        self.searched_from, self.found = pos, self.pattern.search(self.text, pos)
        if self.found is None:
            self.absent_from = pos
        return self.found


class _Span:
    """One paired construct found in `source`: its opener match and the matches of what followed."""

    def __init__(self, source: str, opener: re.Match[str], parts: list[re.Match[str]]):
        self.source, self.opener, self.parts = source, opener, parts
        self.start = opener.start()
        self.end = parts[-1].end() if parts else opener.end()

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def between(self, a: int, b: int) -> str:
        """The text between part `a` and part `b` (part 0 is the opener); "" when `b` is missing."""
        matches = [self.opener, *self.parts]
        return self.source[matches[a].end() : matches[b].start()] if b < len(matches) else ""


def _spans(text: str, opener: re.Pattern[str], *steps: re.Pattern[str] | Callable[[re.Match[str]], re.Pattern[str]],
           optional_last: bool = False) -> Iterator[_Span]:
    """Each opener match followed, in order, by the first match of each step after it.

    A step is a pattern or a function of the opener match giving one (`[/code]` after `[code]`);
    with `optional_last` the last step may be missing (the span ends with what was found). Openers
    never overlap, so the steps of later openers are searched from later positions: a fixed step
    that one opener cannot find, no later opener can, and the scan stops there, as a regex would
    after trying every later opener in vain. Linear: each step pattern has one `_Finder`, which
    answers a repeated search for a missing closer at once.
    """
    finders: dict[tuple[str, int], _Finder] = {}
    pos = 0
    while (head := opener.search(text, pos)) is not None:
        parts: list[re.Match[str]] = []
        for step in steps:
            pattern = step if isinstance(step, re.Pattern) else step(head)
            finder = finders.get((pattern.pattern, pattern.flags))
            if finder is None:
                finder = finders[pattern.pattern, pattern.flags] = _Finder(pattern, text)
            found = finder.search(parts[-1].end() if parts else head.end())
            if found is None:
                break
            parts.append(found)
        if len(parts) < len(steps) - optional_last:
            if isinstance(steps[len(parts)], re.Pattern):
                return  # the same step for every opener: no later opener finds it either
            pos = head.start() + 1  # `[/code]` missing says nothing about `[/sourcecode]`
            continue
        span = _Span(text, head, parts)
        yield span
        pos = span.end


def _replace(text: str, spans: Iterator[_Span], replacement: Callable[[_Span], str]) -> str:
    """The text with each span replaced by `replacement(span)`."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out += [text[pos : span.start], replacement(span)]
        pos = span.end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _literal(text: str, flags: int = 0) -> re.Pattern[str]:
    return _compiled(re.escape(text), flags)


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _code_block(span: _Span) -> str:
    return f"<pre><code>{html_lib.escape(html_lib.unescape(span.between(1, 2)))}</code></pre>"


def _caption_to_figure(span: _Span) -> str:
    attrs, inner = span.between(0, 1), span.between(1, 2).strip()
    caption = _CAPTION_ATTR.search(attrs)
    if caption:
        text = caption.group(1)
        media = inner
    else:  # the caption text (which may hold markup) follows the image inside the shortcode
        split = _CAPTION_MEDIA.match(inner)
        media, text = (split.group(1), split.group(2)) if split else (inner, "")
    figcaption = f"<figcaption>{text.strip()}</figcaption>" if text.strip() else ""
    return f"<figure>{media}{figcaption}</figure>"


def _embed_to_link(match: re.Match[str]) -> str:
    """A WordPress.com embed shortcode as a link to what it embeds; dropped when no URL can be told."""
    name, attributes, inner = match.group(1), match.group(2), match.group(3) or ""
    url = _URL_IN_TEXT.search(attributes) or _URL_IN_TEXT.search(inner)
    if url:
        return _link(html_lib.unescape(url.group(0)).rstrip(".,;"))
    by_id = _ID_IN_SHORTCODE.match(attributes) if name in _VIDEO_BY_ID else None
    return _link(_VIDEO_BY_ID[name].format(by_id.group(1))) if by_id else ""


def _media_to_link(span: _Span) -> str:
    src = _MEDIA_SRC.search(span.between(0, 1))
    return _link(src.group(1), span.opener.group(1).capitalize()) if src else ""


def _link(url: str, label: str | None = None) -> str:
    if not url:
        return ""
    safe = html_lib.escape(url, quote=True)
    return f'<p><a href="{safe}">{html_lib.escape(label or url)}</a></p>'
