"""The regex implementation of clean_html's text passes before issue 7, kept as a reference.

It is quadratic on hostile bodies (lazy scans repeated from every opener, whitespace runs matched
from every position, one pass per nesting level); tests/unit/test_linear_clean_html.py checks that
the linear implementation gives the same output on ordinary, small inputs. Not used by the library.
"""

from __future__ import annotations

import html as html_lib
import re

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

_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
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
_BLOCK_OPENERS = re.compile(
    r"^\s*<(?:p|div|ul|ol|li|h[1-6]|blockquote|pre|table|figure|hr|section|article|dl|form|address)\b", re.I
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


def strip_shortcodes(html: str) -> str:
    """Remove WordPress shortcodes; convert the ones that carry content (caption, code, embed, media)."""
    html = _CODE.sub(lambda m: f"<pre><code>{html_lib.escape(html_lib.unescape(m.group(2)))}</code></pre>", html)
    # Code shows brackets as they are (`[button setTitle:...]` is Objective-C, not a shortcode).
    parts = _CODE_SPAN.split(html)
    for i in range(0, len(parts), 2):
        text = _CAPTION.sub(_caption_to_figure, parts[i])
        text = _EMBED.sub(lambda m: _link(m.group(1).strip()), text)
        text = _MEDIA.sub(_media_to_link, text)
        parts[i] = _SHORTCODE.sub("", text)
    return "".join(parts)


def strip_template_tags(text: str) -> str:
    """Remove Liquid (`{% %}`, `{{ }}`) and Hugo (`{{< >}}`) tags; `{% raw %}` blocks keep their text."""
    raw_blocks: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raw_blocks.append(match.group(1))
        return f"\x00RAW{len(raw_blocks) - 1}\x00"

    text = _LIQUID_RAW.sub(keep_raw, text)
    text = _HUGO_SHORTCODE.sub("", text)
    text = _LIQUID_TAG.sub("", text)
    text = _LIQUID_OUTPUT.sub("", text)
    return re.sub(r"\x00RAW(\d+)\x00", lambda m: raw_blocks[int(m.group(1))], text)


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


def _media_to_link(match: re.Match[str]) -> str:
    src = _MEDIA_SRC.search(match.group(2))
    return _link(src.group(1), match.group(1).capitalize()) if src else ""


def _link(url: str, label: str | None = None) -> str:
    if not url:
        return ""
    safe = html_lib.escape(url, quote=True)
    return f'<p><a href="{safe}">{html_lib.escape(label or url)}</a></p>'
