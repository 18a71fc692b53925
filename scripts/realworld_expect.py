#!/usr/bin/env python3
"""Draft the expected answer for each real-world file (tests/realworld/sources.json) from the file itself.

The draft is read straight from the source's own structure, without the archiver's code: XML elements
with lxml (`item`/`entry`, Blogger kinds, WXR post types), front matter with PyYAML/tomllib, Pelican
headers line by line, reST with docutils' doctree, JSON keys, Medium's h-entry classes, Substack's CSV.
Body paragraphs are the text of the source's block elements (Markdown rendered by markdown-it first).
The draft is then reviewed by reading each file; corrections are made in tests/realworld/expected.json
by hand, each with a `review` note, and survive a re-draft (`--merge` keeps reviewed entries).

    .venv/bin/python scripts/realworld_expect.py --local out/realworld-local [--merge]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import io
import json
import re
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT / "tests" / "realworld"
SNIPPETS = 6  # body paragraphs kept per post: first, last and evenly between
SNIPPET_CHARS = 160
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "td", "figcaption")
_TEMPLATE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)


def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def text_of(elem: Any) -> str:
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def plain(value: str | None) -> str | None:
    """Markup-free, entity-decoded, whitespace-collapsed text."""
    if value is None:
        return None
    if "<" in value and re.search(r"<[a-zA-Z/!]", value):
        with contextlib.suppress(etree.ParserError, ValueError):
            value = lxml_html.fromstring(f"<div>{value}</div>").text_content()
    return " ".join(html.unescape(value).split()) or None


def paragraphs(body_html: str) -> list[str]:
    """Text of each block element of an HTML body (outermost blocks only; bodies without blocks: lines)."""
    if not body_html or not body_html.strip():
        return []
    try:
        tree = lxml_html.fromstring(f"<div>{body_html}</div>")
    except (etree.ParserError, ValueError):
        return []
    for br in tree.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for bad in tree.xpath("//script|//style|//iframe|//noscript|//object|//embed|//template|//svg|//button"):
        bad.drop_tree()
    found = []
    for elem in tree.iter(*_BLOCKS):
        if any(a.tag in _BLOCKS for a in elem.iterancestors()):
            continue
        text = " ".join(elem.text_content().split())
        if text:
            found.append(text)
    if not found:
        chunks = re.split(r"\n\s*\n", tree.text_content())
        found = [" ".join(chunk.split()) for chunk in chunks if chunk.strip()]
    return found


def sample(paras: list[str]) -> list[str]:
    """Up to SNIPPETS paragraphs with at least 3 words, each cut at a word boundary."""
    paras = [p for p in paras if len(p.split()) >= 3 and not _TEMPLATE.fullmatch(p.strip())]
    if len(paras) > SNIPPETS:
        step = (len(paras) - 1) / (SNIPPETS - 1)
        paras = [paras[round(i * step)] for i in range(SNIPPETS)]
    out = []
    for p in paras:
        if len(p) > SNIPPET_CHARS:
            p = p[:SNIPPET_CHARS].rsplit(" ", 1)[0]
        out.append(p)
    return out


def iso_date(raw: Any) -> tuple[str | None, bool]:
    """(ISO 8601 text, understood): aware when the source names a zone, naive or date-only when it does not."""
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    if raw in (None, ""):
        return None, True
    text = " ".join(str(raw).split())
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text, True
    candidate = re.sub(r"\s*(?:UTC|GMT|Z)$", "+00:00", text, flags=re.I)
    candidate = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", candidate)
    candidate = re.sub(r"^(\d{4}-\d{2}-\d{2}) (\d)", r"\1T\2", candidate)
    candidate = re.sub(r"T(\d):", r"T0\1:", candidate)
    try:
        return datetime.fromisoformat(candidate).isoformat(), True
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None, False
    return parsed.isoformat(), True


def item(title: str | None, published: Any, body_html: str, **extra: Any) -> dict[str, Any]:
    date, understood = iso_date(published)
    found = {"title": plain(title), "published": date, "body": sample(paragraphs(body_html)), **extra}
    if not understood:
        found["published_raw"] = str(published)  # for the reviewer: decide the date by reading it
    return found


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    text = _TEMPLATE.sub("", text)
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


# ---- XML: feeds, WXR, Blogger ------------------------------------------------------------------

def xml_tree(data: bytes) -> Any:
    if re.match(rb"\s+<\?xml", data):  # blank lines before the declaration: still the same document
        data = data.lstrip()
    declared = re.match(rb"\s*<\?xml[^>]*encoding=", data[:300])
    if not declared and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:  # undeclared and not UTF-8: the publisher wrote windows-1252 / latin-1
            data = data.decode("cp1252", "replace").encode("utf-8")
    parser = etree.XMLParser(recover=True, no_network=True, huge_tree=True)  # files reviewed by hand: entities expanded
    return etree.fromstring(data, parser)


_ATOM_NS = ("", "http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RSS_NS = ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/", "http://backend.userland.com/rss2")


def namespace(tag: Any) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def child(elem: Any, name: str, namespaces: tuple[str, ...] | None = None) -> Any:
    for c in elem:
        if local(c.tag) == name and (namespaces is None or namespace(c.tag) in namespaces):
            return c
    return None


def atom_text(elem: Any) -> str:
    if elem is None:
        return ""
    if elem.get("type") in ("xhtml", "application/xhtml+xml"):
        return "".join(etree.tostring(c, encoding="unicode") for c in elem)
    if elem.get("mode") == "base64":
        import base64

        return base64.b64decode("".join(elem.itertext()) or b"").decode("utf-8", "replace")
    return "".join(elem.itertext())


def feed_items(root: Any) -> list[dict[str, Any]]:
    items = []
    for elem in root.iter():
        name = local(elem.tag)
        if name not in ("item", "entry"):
            continue
        title_el = child(elem, "title", _ATOM_NS + _RSS_NS)
        title = atom_text(title_el) if title_el is not None else None
        if title_el is not None and title_el.get("type") in (None, "text") and title_el.get("mode") != "base64" \
                and name == "entry":
            title = "".join(title_el.itertext())
        date = None
        for key in ("pubdate", "published", "issued", "date", "created", "modified", "updated"):
            found = child(elem, key)
            if found is not None and text_of(found):
                date = text_of(found)
                break
        body = ""
        for key, ns in (("encoded", ("http://purl.org/rss/1.0/modules/content/",)), ("content", _ATOM_NS),
                        ("description", _RSS_NS), ("summary", _ATOM_NS)):
            found = child(elem, key, ns)
            if found is not None and atom_text(found).strip():
                body = atom_text(found)
                break
        if not plain(title) and not body.strip():
            continue
        items.append(item(title, date, body))
    return items


def wxr_items(root: Any) -> list[dict[str, Any]]:
    internal = {"attachment", "nav_menu_item", "revision", "custom_css", "customize_changeset", "oembed_cache",
                "user_request", "wp_block", "wp_template", "wp_template_part", "wp_global_styles", "wp_navigation"}
    items = []
    for elem in root.iter("item"):
        fields = {(namespace(c.tag), local(c.tag)): c for c in elem if isinstance(c.tag, str)}
        get = {k[1] if not k[0] else f"{'wp' if 'wordpress.org/export' in k[0] else k[0]}:{k[1]}": v
               for k, v in fields.items()}
        post_type = text_of(get.get("wp:post_type")) or "post"
        status = text_of(get.get("wp:status")) or "publish"
        if post_type in internal or status == "auto-draft":
            continue
        content = next((v for k, v in fields.items() if k[1] == "encoded" and "content" in k[0]), None)
        date = text_of(get.get("wp:post_date_gmt"))
        date = date + "Z" if date and not date.startswith("0000") else text_of(get.get("wp:post_date")) or None
        items.append(item("".join(get["title"].itertext()) if get.get("title") is not None else None,
                          date if date and not date.startswith("0000") else None,
                          wpautop("".join(content.itertext()) if content is not None else "")))
    return items


def wpautop(text: str) -> str:
    if re.search(r"<p[\s>]", text):
        return text
    return "".join(f"<p>{chunk}</p>" for chunk in re.split(r"\n\s*\n", text) if chunk.strip())


def blogger_items(root: Any) -> list[dict[str, Any]]:
    items = []
    for elem in root.iter("{http://www.w3.org/2005/Atom}entry"):
        kind = ""
        typed = elem.find("{http://schemas.google.com/blogger/2018}type")
        if typed is not None:
            kind = text_of(typed).lower()
        for cat in elem.iter("{http://www.w3.org/2005/Atom}category"):
            if cat.get("scheme") == "http://schemas.google.com/g/2005#kind":
                kind = (cat.get("term") or "").rsplit("#", 1)[-1]
        if kind not in ("post", "page", ""):
            continue
        items.append(item(atom_text(elem.find("{http://www.w3.org/2005/Atom}title")),
                          text_of(elem.find("{http://www.w3.org/2005/Atom}published")),
                          atom_text(elem.find("{http://www.w3.org/2005/Atom}content"))))
    return items


# ---- text formats ------------------------------------------------------------------------------

def front_matter(text: str) -> tuple[dict[str, Any], str] | None:
    text = text.lstrip("\ufeff")
    m = re.match(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", text, re.S)
    if m:
        meta = yaml.load(m.group(1), Loader=yaml.BaseLoader) or {}
        return (meta if isinstance(meta, dict) else {}), text[m.end():]
    m = re.match(r"\A\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", text, re.S)
    if m:
        return tomllib.loads(m.group(1)), text[m.end():]
    return None


def header(text: str) -> tuple[dict[str, str], str] | None:
    lines = text.lstrip("\ufeff").split("\n")
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line.strip():
            return (meta, "\n".join(lines[i + 1:])) if meta else None
        m = re.match(r"^([A-Za-z0-9][\w -]*):\s*(.*)$", line)
        if m:
            meta[m.group(1).strip().lower()] = m.group(2).strip()
        elif line.startswith(("    ", "\t")) and meta:
            continue
        else:
            return None
    return (meta, "") if meta else None


def text_post(name: str, data: bytes) -> list[dict[str, Any]]:
    text = data.decode("utf-8-sig", "replace").replace("\r\n", "\n")
    suffix = Path(name).suffix.lower()
    fm = front_matter(text)
    file_date = re.search(r"(\d{4}-\d{2}-\d{2})", Path(name).name)
    if fm is not None:
        meta, body = fm
        meta = {str(k).lower(): v for k, v in meta.items()}  # `Title:` in a YAML header means the title too
        body_html = body if suffix in (".html", ".htm") else markdown_html(body)
        date = meta.get("date") or (file_date.group(1) if file_date else None)
        return [item(str(meta.get("title")) if meta.get("title") is not None else None, date, body_html)]
    if suffix in (".rst", ".rest"):
        return [rst_post(text, file_date)]
    hd = header(text)
    if hd is not None and "title" in hd[0]:
        meta, body = hd
        return [item(meta.get("title"), meta.get("date") or (file_date.group(1) if file_date else None),
                     markdown_html(body))]
    return [item(None, file_date.group(1) if file_date else None, markdown_html(text))]


def rst_post(text: str, file_date: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.core import publish_doctree

    doctree = publish_doctree(text, settings_overrides={"report_level": 5, "file_insertion_enabled": False,
                                                        "_disable_config": True, "warning_stream": io.StringIO()})
    meta: dict[str, str] = {}
    for info in doctree.findall(nodes.docinfo):
        for f in info.children:
            if isinstance(f, nodes.field):
                meta[f[0].astext().lower()] = f[1].astext()
            else:
                meta[f.tagname] = f.astext()
    paras = [" ".join(p.astext().split()) for p in doctree.findall(nodes.paragraph)
             if not any(isinstance(a, (nodes.docinfo, nodes.system_message)) for a in _ancestors(p))]
    date = meta.get("date") or (file_date.group(1) if file_date else None)
    found = item(doctree.get("title") or meta.get("title"), date, "")
    found["body"] = sample(paras)
    return found


def _ancestors(node: Any) -> list[Any]:
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return out


# ---- JSON and HTML exports ---------------------------------------------------------------------

def json_items(data: bytes) -> list[dict[str, Any]] | None:
    doc = json.loads(data.decode("utf-8-sig"))
    if isinstance(doc, dict) and "items" in doc and "version" in doc:  # JSON Feed
        return [item(i.get("title"), i.get("date_published"), i.get("content_html") or html.escape(
            i.get("content_text") or "")) for i in doc["items"] if i.get("title") or i.get("content_html")
            or i.get("content_text")]
    if isinstance(doc, dict) and "db" in doc:  # Ghost export
        posts = doc["db"][0]["data"].get("posts", [])
        return [item(p.get("title"), p.get("published_at"), p.get("html") or "") for p in posts]
    if isinstance(doc, dict) and isinstance(doc.get("posts"), list):  # Ghost API response
        return [item(p.get("title"), p.get("published_at"), p.get("html") or "") for p in doc["posts"]]
    objects = doc if isinstance(doc, list) else [doc]
    if objects and isinstance(objects[0], dict) and isinstance(objects[0].get("title"), dict):  # WordPress REST
        return [item(o["title"].get("rendered"), (o.get("date_gmt") + "Z") if o.get("date_gmt") else o.get("date"),
                     (o.get("content") or {}).get("rendered", "")) for o in objects]
    return None


def h_entry(data: bytes) -> dict[str, Any] | None:
    tree = lxml_html.fromstring(data)

    def cls(root: Any, name: str) -> list[Any]:
        return root.xpath(f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]")

    entries = cls(tree, "h-entry")
    if not entries:
        return None
    entry = entries[0]
    title = cls(entry, "p-name")
    published = cls(entry, "dt-published")
    content = cls(entry, "e-content")
    body = etree.tostring(content[0], encoding="unicode") if content else ""
    return item(title[0].text_content() if title else None, published[0].get("datetime") if published else None, body)


def zip_items(data: bytes) -> list[dict[str, Any]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        if "posts.csv" in names:  # Substack
            rows = list(csv.DictReader(io.StringIO(zf.read("posts.csv").decode("utf-8-sig"))))
            out = []
            for row in rows:
                body_name = f"posts/{row['post_id']}.html"
                body = zf.read(body_name).decode("utf-8", "replace") if body_name in names else ""
                out.append(item(row.get("title"), row.get("post_date"), body))
            return out
        return [e for n in sorted(names) if re.match(r"posts/[^/]+\.html$", n) and (e := h_entry(zf.read(n)))]


def draft(name: str, data: bytes) -> dict[str, Any]:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = Path(name).suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return {"kind": "export-zip", "items": zip_items(data)}
    if head.startswith((b"{", b"[")):
        found = json_items(data)
        return {"kind": "json", "items": found} if found is not None else {"kind": "json", "items": [],
                                                                          "not_posts": True}
    if suffix in (".html", ".htm") and b"h-entry" in data and b"---" not in data[:4]:
        found = h_entry(data)
        if found:
            return {"kind": "medium", "items": [found]}
    xmlish = head.startswith(b"<") or data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:2] in (b"<\x00", b"\x00<")
    if xmlish and suffix not in (".html", ".htm", ".md"):
        root = xml_tree(data)
        if root is None:
            return {"kind": "xml", "items": [], "not_posts": True}
        if b"wordpress.org/export" in data[:8192]:
            return {"kind": "wxr", "items": wxr_items(root)}
        if re.search(rb"schemas\.google\.com/blogger/(?:2008/kind#|2018)", data[:8192]):
            return {"kind": "blogger", "items": blogger_items(root)}
        if local(root.tag) in ("rss", "feed", "rdf"):
            return {"kind": "feed", "items": feed_items(root)}
        return {"kind": "xml", "items": [], "not_posts": True}
    return {"kind": "text", "items": text_post(name, data)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", type=Path, help="folder of the files that are not committed")
    parser.add_argument("--merge", action="store_true", help="keep entries of expected.json that carry a review note")
    args = parser.parse_args()
    sources = json.loads((REALWORLD / "sources.json").read_text())
    out_path = REALWORLD / "expected.json"
    previous = json.loads(out_path.read_text()) if args.merge and out_path.exists() else {}
    expected: dict[str, Any] = {}
    for source in sources:
        folder = REALWORLD / "files" if source["committed"] else args.local
        if folder is None:
            print(f"skipped (no --local): {source['file']}", file=sys.stderr)
            continue
        key = source["file"]
        if key in previous and previous[key].get("review"):
            expected[key] = previous[key]
            continue
        data = (folder / key).read_bytes()
        try:
            expected[key] = draft(key, data)
        except Exception as exc:  # a draft is a starting point: say what failed, review it by hand
            expected[key] = {"kind": "unknown", "items": [], "draft_error": f"{type(exc).__name__}: {exc}"}
    out_path.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(expected)} files, {sum(len(e['items']) for e in expected.values())} posts -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
