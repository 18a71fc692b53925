"""Ghost's stored documents to HTML: Lexical (Ghost 5+) and Mobiledoc (Ghost 1-4).

Used only when an export carries no rendered `html` for a post. Text, marks, headings, lists, quotes,
links and Ghost's common cards (markdown, html, image, gallery, code, embed, bookmark, callout, toggle,
button, media, header) are rendered; an unknown node or card keeps whatever text or HTML it holds and is
named in the warnings, so nothing silently disappears. The output goes through the normalizer's
sanitizer like any other body.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

# Lexical text format bits, outermost tag first.
_FORMATS = ((16, "code"), (1, "strong"), (2, "em"), (4, "s"), (8, "u"), (32, "sub"), (64, "sup"), (128, "mark"))
_MAX_DEPTH = 200  # documents are trees written by an editor; a deeper one is hostile


class _Out:
    def __init__(self) -> None:
        self.unknown: list[str] = []

    def warn(self, what: str) -> None:
        if what not in self.unknown:
            self.unknown.append(what)


def _load(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # invalid, a 5,000-digit integer, or nesting past the decoder's stack
            return None
    return value


def _markdown(text: str) -> str:
    from archiver.normalize import render_markdown  # the same Markdown rendering as every other input

    return render_markdown(text)


def _attr(value: Any) -> str:
    return escape(str(value or ""), quote=True)


def _caption(html: Any) -> str:
    return f"<figcaption>{html}</figcaption>" if html else ""


def card_html(name: str, payload: dict[str, Any], out: _Out) -> str:
    """One Ghost card (the same names and payloads in Mobiledoc and Lexical)."""
    name = name.removeprefix("card-")
    if name == "markdown":
        return _markdown(str(payload.get("markdown") or ""))
    if name in ("html", "email", "email-cta"):
        return str(payload.get("html") or "")
    if name == "image":
        alt, title = _attr(payload.get("alt")), _attr(payload.get("title"))
        img = f'<img src="{_attr(payload.get("src"))}" alt="{alt}" title="{title}">'
        return f"<figure>{img}{_caption(payload.get('caption'))}</figure>"
    if name == "gallery":
        images = "".join(f'<img src="{_attr(i.get("src"))}" alt="{_attr(i.get("alt"))}">'
                         for i in payload.get("images") or [] if isinstance(i, dict))
        return f"<figure>{images}{_caption(payload.get('caption'))}</figure>"
    if name in ("code", "codeblock"):
        language = f' class="language-{_attr(payload.get("language"))}"' if payload.get("language") else ""
        return f"<pre><code{language}>{escape(str(payload.get('code') or ''))}</code></pre>" + _caption(
            payload.get("caption"))
    if name == "embed":
        link = f'<p><a href="{_attr(payload.get("url"))}">{escape(str(payload.get("url") or ""))}</a></p>'
        return f"<figure>{payload.get('html') or ''}{link if payload.get('url') else ''}" \
               f"{_caption(payload.get('caption'))}</figure>"
    if name == "bookmark":
        meta = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
        title = escape(str(meta.get("title") or payload.get("url") or ""))
        description = f"<br>{escape(str(meta['description']))}" if meta.get("description") else ""
        return f'<figure><p><a href="{_attr(payload.get("url"))}">{title}</a>{description}</p>' \
               f"{_caption(payload.get('caption'))}</figure>"
    if name in ("hr", "horizontalrule"):
        return "<hr>"
    if name == "callout":
        return f"<aside>{payload.get('calloutEmoji') or ''} {payload.get('calloutText') or ''}</aside>"
    if name == "toggle":
        return f"<details><summary>{payload.get('heading') or ''}</summary>{payload.get('content') or ''}</details>"
    if name == "button":
        return f'<p><a href="{_attr(payload.get("buttonUrl"))}">{escape(str(payload.get("buttonText") or ""))}</a></p>'
    if name in ("video", "audio", "file"):
        label = payload.get("title") or payload.get("fileTitle") or payload.get("fileName") or payload.get("src")
        return f'<p><a href="{_attr(payload.get("src"))}">{escape(str(label or name))}</a></p>' + _caption(
            payload.get("caption"))
    if name == "header":
        return f"<h2>{payload.get('header') or ''}</h2><p>{payload.get('subheader') or ''}</p>"
    if name in ("paywall", "signup", "preview"):
        return ""  # markers and forms, no content of the post
    out.warn(f"card {name}")
    texts = [str(v) for k, v in payload.items() if isinstance(v, str) and k in ("html", "text", "caption", "title")]
    return "".join(f"<p>{t}</p>" for t in texts)


# ---- Lexical -------------------------------------------------------------------------------------

def _lexical_text(node: dict[str, Any]) -> str:
    html = escape(str(node.get("text") or ""))
    bits = node.get("format") if isinstance(node.get("format"), int) else 0
    for bit, tag in reversed(_FORMATS):
        if bits & bit:
            html = f"<{tag}>{html}</{tag}>"
    return html


def _lexical(node: Any, out: _Out, depth: int = 0) -> str:
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return ""
    kind = str(node.get("type") or "")
    children = "".join(_lexical(c, out, depth + 1) for c in node.get("children") or [])
    if kind in ("text", "extended-text"):
        return _lexical_text(node)
    if kind == "linebreak":
        return "<br>"
    if kind == "tab":
        return "\t"
    if kind in ("root",):
        return children
    if kind == "paragraph":
        return f"<p>{children}</p>"
    if kind in ("heading", "extended-heading"):
        tag = node.get("tag") if node.get("tag") in ("h1", "h2", "h3", "h4", "h5", "h6") else "h2"
        return f"<{tag}>{children}</{tag}>"
    if kind in ("quote", "extended-quote"):
        return f"<blockquote>{children}</blockquote>"
    if kind == "aside":
        return f"<aside>{children}</aside>"
    if kind == "list":
        tag = "ol" if node.get("listType") == "number" or node.get("tag") == "ol" else "ul"
        return f"<{tag}>{children}</{tag}>"
    if kind == "listitem":
        return f"<li>{children}</li>"
    if kind in ("link", "autolink"):
        return f'<a href="{_attr(node.get("url"))}">{children}</a>'
    if kind == "codeblock":
        return card_html("code", node, out)
    if node.get("children") is not None:  # an unknown element node: its children still hold the text
        out.warn(f"node {kind}")
        return children
    return card_html(kind, node, out)


def lexical_to_html(value: Any) -> tuple[str, list[str]]:
    """A Lexical document (JSON text or object) to HTML, with the names of nodes it did not know."""
    doc = _load(value)
    out = _Out()
    html = _lexical(doc.get("root"), out) if isinstance(doc, dict) else ""
    return html, [f"Ghost lexical: unknown {what}, its text kept" for what in out.unknown]


# ---- Mobiledoc -----------------------------------------------------------------------------------

def _markup_open(markup: Any) -> tuple[str, str]:
    if not isinstance(markup, list) or not markup or not isinstance(markup[0], str):
        return "", ""
    tag = markup[0].lower()
    attrs = markup[1] if len(markup) > 1 and isinstance(markup[1], list) else []
    pairs = "".join(f' {escape(str(attrs[i]))}="{_attr(attrs[i + 1])}"' for i in range(0, len(attrs) - 1, 2))
    return f"<{tag}{pairs}>", f"</{tag}>"


def _markers(markers: Any, doc: dict[str, Any], out: _Out) -> str:
    markups = doc.get("markups") or []
    atoms = doc.get("atoms") or []
    html, stack = [], []
    for marker in markers if isinstance(markers, list) else []:
        if not isinstance(marker, list) or len(marker) < 3:
            continue
        if len(marker) == 3:  # Mobiledoc 0.2: [open markups, closed count, text]
            kind, opened, closed, value = 0, marker[0], marker[1], marker[2]
        else:
            kind, opened, closed, value = marker[0], marker[1], marker[2], marker[3]
        for index in opened if isinstance(opened, list) else []:
            start, end = _markup_open(markups[index] if isinstance(index, int) and index < len(markups) else None)
            html.append(start)
            stack.append(end)
        if kind == 1 and isinstance(value, int) and value < len(atoms):
            atom = atoms[value]
            name = atom[0] if isinstance(atom, list) and atom else ""
            html.append("<br>" if name == "soft-return" else escape(str(atom[1] if len(atom) > 1 else "")))
        else:
            html.append(escape(str(value)))
        for _ in range(min(closed if isinstance(closed, int) else 0, len(stack))):
            html.append(stack.pop())
    html.extend(reversed(stack))
    return "".join(html)


def mobiledoc_to_html(value: Any) -> tuple[str, list[str]]:
    """A Mobiledoc document (JSON text or object) to HTML, with the names of cards it did not know."""
    doc = _load(value)
    out = _Out()
    if not isinstance(doc, dict):
        return "", []
    cards = doc.get("cards") or []
    html = []
    for section in doc.get("sections") or []:
        if not isinstance(section, list) or not section:
            continue
        kind = section[0]
        if kind == 1 and len(section) >= 3:
            tag = str(section[1]).lower()
            tag = tag if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "aside", "pull-quote") else "p"
            tag = "blockquote" if tag == "pull-quote" else tag
            html.append(f"<{tag}>{_markers(section[2], doc, out)}</{tag}>")
        elif kind == 2 and len(section) >= 2:
            html.append(f'<figure><img src="{_attr(section[1])}"></figure>')
        elif kind == 3 and len(section) >= 3:
            tag = "ol" if str(section[1]).lower() == "ol" else "ul"
            items = "".join(f"<li>{_markers(item, doc, out)}</li>" for item in section[2] or [])
            html.append(f"<{tag}>{items}</{tag}>")
        elif kind == 10 and len(section) >= 2 and isinstance(section[1], int) and section[1] < len(cards):
            card = cards[section[1]]
            if isinstance(card, list) and card:
                payload = card[1] if len(card) > 1 and isinstance(card[1], dict) else {}
                html.append(card_html(str(card[0]), payload, out))
    return "".join(html), [f"Ghost mobiledoc: unknown {what}, its text kept" for what in out.unknown]
