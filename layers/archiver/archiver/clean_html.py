"""Turn a post body as found into clean, safe HTML.

Order matters: shortcodes and template tags are text-level markup, so they go first; then
nh3 (the Ammonia sanitizer) parses the HTML, drops everything not on the allow-list
(scripts, styles, iframes, event handlers, `javascript:` URLs, ids, classes, inline styles,
tool attributes such as `readability="5"`, marker spans) and makes URLs absolute; last,
whitespace left behind (runs of `<br>`, empty paragraphs) is tidied.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3

from archiver.ids import is_absolute_url

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

# WordPress shortcodes: known names only, so that bracketed prose ("[sic]", "[1]") survives.
SHORTCODE_NAMES = (
    r"ad_\d+|caption|wp_caption|gallery|video|audio|playlist|embed|more|nextpage|twitter|tweet|tweet_box|"
    r"youtube|vimeo|soundcloud|instagram|spotify|facebook|googleads|wp_ad_camp_\d+|contact-form(?:-7)?|"
    r"code|sourcecode|include(?::[^\]\s]*)?|adsense|ads?|box|button|quote|pullquote|su_\w+|et_pb_\w+|vc_\w+"
)
# Shortcode names are case-sensitive in WordPress: "[VIDEO]" in a news headline is prose.
_SHORTCODE = re.compile(rf"\[(/?)({SHORTCODE_NAMES})\b([^\]]*)\]")
_CAPTION = re.compile(r"\[(?:wp_)?caption\b([^\]]*)\](.*?)\[/(?:wp_)?caption\]", re.DOTALL)
_CODE = re.compile(r"\[(code|sourcecode)\b[^\]]*\](.*?)\[/\1\]", re.DOTALL)
_EMBED = re.compile(r"\[embed\b[^\]]*\](.*?)\[/embed\]", re.DOTALL)
_MEDIA = re.compile(r"\[(video|audio)\b([^\]]*)\](?:.*?\[/\1\])?", re.DOTALL)
_MEDIA_SRC = re.compile(r"\b(?:src|mp4|m4v|webm|ogv|mp3|ogg|wav|m4a)=[\"']?([^\"'\s\]]+)", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.DOTALL | re.IGNORECASE)
_CAPTION_ATTR = re.compile(r"\bcaption=[\"']([^\"']*)[\"']", re.IGNORECASE)
_CAPTION_MEDIA = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.DOTALL | re.IGNORECASE)

# WordPress.com video/audio shortcodes: `[youtube=URL]`, `[youtube URL]`, `[vimeo 123]`, `[youtube]URL[/youtube]`.
_EMBED_SHORTCODE = re.compile(
    r"\[(youtube|vimeo|dailymotion|soundcloud|spotify|instagram|twitter|tweet|facebook|ted|wpvideo)\b"
    r"([^\]]*)\](?:([^\[]*)\[/\1\])?"
)
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'\]<>]+")
_ID_IN_SHORTCODE = re.compile(r"^[=\s]*(?:id=)?[\"']?([\w-]{4,})[\"']?\s*$")
_VIDEO_BY_ID = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}",
                "dailymotion": "https://www.dailymotion.com/video/{}"}

_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
# Jekyll / Eleventy code blocks; the language may be quoted (`{% highlight "bash" %}`) and take options.
_HIGHLIGHT = re.compile(
    r"\{%-?\s*highlight(?:\s+([\"']?)([\w+#.\-]+)\1)?[^%]*?-?%\}(.*?)\{%-?\s*endhighlight\s*-?%\}", re.DOTALL
)
_NUNJUCKS_COMMENT = re.compile(r"\{#[^{}]*?#\}|\{#-?\s.*?\s-?#\}", re.DOTALL)
# Hugo cross-references: `{{< ref "posts/x.md" >}}`, `{{< relref path="x" >}}`, inside a link or bare.
_HUGO_REF = r"\{\{[<%]\s*(?:rel)?ref\s+(?:path=)?[\"']?((?<=[\"'])[^\"'\n]+|[^\"'\s>%]+)[\"']?[^>%]*?[>%]\}\}"
_HUGO_REF_MARKDOWN_LINK = re.compile(rf"\[([^\]]*)\]\(\s*{_HUGO_REF}\s*\)")
_HUGO_REF_HTML_LINK = re.compile(
    rf"<a\b[^<>]*?\bhref\s*=\s*[\"']?{_HUGO_REF}[\"']?[^<>]*>(.*?)</a>", re.DOTALL | re.IGNORECASE
)
_HUGO_REF_BARE = re.compile(_HUGO_REF)
_LIQUID_TAG = re.compile(r"\{%-?.*?-?%\}", re.DOTALL)
_LIQUID_OUTPUT = re.compile(r"\{\{-?.*?-?\}\}", re.DOTALL)
_HUGO_SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}", re.DOTALL)

_BR_RUN = re.compile(r"(?:<br>\s*){2,}")
_BR_AT_BLOCK_EDGE = re.compile(
    r"(<(?:p|li|td|th|blockquote|figcaption|h[1-6])>)\s*(?:<br>\s*)+|(?:\s*<br>)+\s*(</?(?:p|li|td|th|"
    r"blockquote|figure|figcaption|h[1-6]|ul|ol|table|pre|hr)\b)"
)
_EDGE_BR = re.compile(r"^\s*(?:<br>\s*)+|(?:\s*<br>)+\s*$")
_EMPTY_BLOCK = re.compile(r"<(p|li|h[1-6]|blockquote|figcaption|strong|em|b|i|a)\b[^>]*>((?:\s|&nbsp;|\u00a0)*)</\1>")
_INLINE = {"strong", "em", "b", "i", "a"}
# `<iframe .../>` is not self-closing in HTML: the element would swallow the rest of the body and
# be dropped with it. XHTML-serialized scrapes write these; close them where they stand.
_SELF_CLOSED_DROPPED = re.compile(
    r"<(script|style|iframe|noscript|object|template|title|textarea|select|button)\b([^<>]*?)\s*/>", re.IGNORECASE
)
# Navigation text that WordPress auto-blogs copied from the source site's template.
BOILERPLATE = (
    re.compile(r"Go Back to Top\.\s*Skip To:\s*Start of Article\.?", re.IGNORECASE),
    # Only as the whole text of an element or line: "skip to content that matters" is prose.
    re.compile(r"(?:(?<=>)|^)\s*Skip to (?:main )?content\.?\s*(?=<|$)", re.IGNORECASE | re.MULTILINE),
)
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "blockquote", "pre", "table", "figure",
               "hr"}
_BLOCK_OPENERS = re.compile(
    r"^\s*<(?:p|div|ul|ol|li|h[1-6]|blockquote|pre|table|figure|hr|section|article|dl|form|address)\b", re.I
)


def clean(body: str, *, base_url: str | None = None, template_tags: bool = False,
          autop: bool = False) -> str:
    """The body as clean, sanitized HTML; visible text is never dropped except boilerplate."""
    html = _SELF_CLOSED_DROPPED.sub(r"<\1\2></\1>", strip_shortcodes(body))
    if template_tags:
        html = strip_template_tags(html)
    if autop:
        html = wpautop(html)
    for pattern in BOILERPLATE:
        html = pattern.sub("", html)
    return tidy(wrap_loose_inline(tidy(sanitize(html, base_url))))


def usable_base(base_url: str | None) -> bool:
    """Whether relative links can be resolved against `base_url`: an absolute http(s) URL nh3 accepts."""
    if not is_absolute_url(base_url):
        return False
    try:
        nh3.clean("", url_relative=("rewrite_with_base", base_url))
    except ValueError:  # e.g. a host with spaces: urllib splits it, the URL standard refuses it
        return False
    return True


def sanitize(html: str, base_url: str | None = None) -> str:
    """nh3 with our allow-list; relative URLs resolved against `base_url` when it is usable, else kept."""
    if base_url and not usable_base(base_url):
        base_url = None
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        url_relative=("rewrite_with_base", base_url) if base_url else None,
    )


def tidy(html: str) -> str:
    """Collapse `<br>` runs and drop the empty elements that removed markup leaves behind."""
    html = _BR_RUN.sub("<br>", html)
    previous = None
    while previous != html:  # emptying one element can empty its parent
        previous = html
        html = _EMPTY_BLOCK.sub(_drop_empty, html)
        html = _BR_AT_BLOCK_EDGE.sub(lambda m: m.group(1) or m.group(2), html)
    html = _EDGE_BR.sub("", html)
    html = re.sub(r"\n{3,}", "\n\n", html)
    return html.strip()


def _drop_empty(match: re.Match[str]) -> str:
    # An inline element holding only a space still separates the words around it: keep the space.
    return " " if match.group(1) in _INLINE and match.group(2) else ""


def wrap_loose_inline(html: str) -> str:
    """Put text and inline elements that sit between blocks into paragraphs of their own.

    Unwrapping layout `<div>`s and `<span>`s leaves such runs behind (a trailing "Source" link,
    a dateline); as paragraphs they read, render and extract like the rest of the text.
    """
    from lxml import etree
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")
    if all(child.tag in _BLOCK_TAGS for child in root) and not (root.text or "").strip() and not any(
        (child.tail or "").strip() for child in root
    ):
        return html
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = "".join(run).strip()
        text = re.sub(r"^(?:<br>\s*)+|(?:\s*<br>)+$", "", text)
        if text:
            out.append(f"<p>{text}</p>")
        run.clear()

    run.append(html_lib.escape(root.text or "", quote=False))
    for child in root:
        tail = html_lib.escape(child.tail or "", quote=False)
        child.tail = None
        markup = etree.tostring(child, encoding="unicode", method="html")
        if child.tag in _BLOCK_TAGS:
            flush()
            out.append(markup)
        else:
            run.append(markup)
        run.append(tail)
    flush()
    return "\n".join(out)


def strip_shortcodes(html: str) -> str:
    """Remove WordPress shortcodes; convert the ones that carry content (caption, code, embed, media)."""
    html = _CODE.sub(lambda m: f"<pre><code>{html_lib.escape(html_lib.unescape(m.group(2)))}</code></pre>", html)
    # Code shows brackets as they are (`[button setTitle:...]` is Objective-C, not a shortcode).
    parts = _CODE_SPAN.split(html)
    for i in range(0, len(parts), 2):
        text = _CAPTION.sub(_caption_to_figure, parts[i])
        text = _EMBED.sub(lambda m: _link(m.group(1).strip()), text)
        text = _MEDIA.sub(_media_to_link, text)
        text = _EMBED_SHORTCODE.sub(_embed_to_link, text)
        parts[i] = _SHORTCODE.sub("", text)
    return "".join(parts)


def strip_template_tags(text: str, *, markdown: bool = False) -> str:
    """Remove Liquid / Nunjucks (`{% %}`, `{{ }}`, `{# #}`) and Hugo (`{{< >}}`) tags.

    `{% raw %}` blocks keep their text; `{% highlight %}` blocks become code blocks (fenced in
    Markdown, `<pre><code>` in HTML); Hugo `ref`/`relref` links point to the page's site path when
    it can be derived, else only their text stays.
    """
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00KEEP{len(kept) - 1}\x00"

    def restore(value: str) -> str:
        return re.sub(r"\x00KEEP(\d+)\x00", lambda m: kept[int(m.group(1))], value)

    def code_block(match: re.Match[str]) -> str:
        code = restore(_strip_tags(match.group(3)))  # Liquid inside runs (here: goes), raw text stays
        block = _fenced(code, match.group(2) or "", _indent_at(text, match.start())) if markdown else (
            f"<pre><code>{html_lib.escape(code.strip(chr(10)))}</code></pre>")
        return keep(block)

    text = _LIQUID_RAW.sub(lambda m: keep(m.group(1)), text)
    text = _HIGHLIGHT.sub(code_block, text)
    text = _HUGO_REF_MARKDOWN_LINK.sub(
        lambda m: f"[{m.group(1)}]({path})" if (path := hugo_ref_path(m.group(2))) else m.group(1), text)
    text = _HUGO_REF_HTML_LINK.sub(
        lambda m: f'<a href="{html_lib.escape(path)}">{m.group(2)}</a>' if (path := hugo_ref_path(m.group(1)))
        else m.group(2), text)
    text = _HUGO_REF_BARE.sub(lambda m: hugo_ref_path(m.group(1)) or "", text)
    return restore(_strip_tags(text))


def _strip_tags(text: str) -> str:
    text = _NUNJUCKS_COMMENT.sub("", text)
    text = _HUGO_SHORTCODE.sub("", text)
    text = _LIQUID_TAG.sub("", text)
    return _LIQUID_OUTPUT.sub("", text)


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

    def protect(match: re.Match[str]) -> str:  # blank lines inside <pre> are content, as in WordPress
        preformatted.append(match.group(0))
        return f"\x00PRE{len(preformatted) - 1}\x00"

    text = re.sub(r"<pre\b.*?</pre>", protect, text.replace("\r\n", "\n"), flags=re.DOTALL | re.IGNORECASE)
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


def _caption_to_figure(match: re.Match[str]) -> str:
    attrs, inner = match.group(1), match.group(2).strip()
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


def _media_to_link(match: re.Match[str]) -> str:
    src = _MEDIA_SRC.search(match.group(2))
    return _link(src.group(1), match.group(1).capitalize()) if src else ""


def _link(url: str, label: str | None = None) -> str:
    if not url:
        return ""
    safe = html_lib.escape(url, quote=True)
    return f'<p><a href="{safe}">{html_lib.escape(label or url)}</a></p>'
