"""Invariants every archived post of the real-world corpus (../shared/corpus) must keep.

Shared by `tests/corpus/test_corpus_invariants.py` and `scripts/corpus_report.py`, so the test and
the report in docs/corpus.md count the same thing. Each input goes through the path of
`archiver normalize` (`archiver.pipeline.normalize_input`); its raw posts (`archiver.formats.parse`)
are read again for the checks that need the source body.

The source paragraphs are derived here independently of the normalizer: the raw body is parsed
with lxml (Markdown rendered first, as the normalizer renders it), and only what the archive
removes on purpose is taken away: WordPress shortcodes (`clean_html.SHORTCODE_NAMES`), Liquid and
Hugo template tags, the boilerplate of `clean_html.BOILERPLATE`, elements dropped with their
content (`clean_html.DROPPED_WITH_CONTENT`: scripts, styles, iframes ...) and HTML comments. A
paragraph that is UTF-8 decoded twice may be found as ftfy repairs it, as the archive does.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archiver import clean_html, formats
from archiver.errors import ArchiverError
from archiver.model import Input, Origin, Post, RawPost
from archiver.normalize import render_markdown
from archiver.pipeline import normalize_input

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
FOLDERS = ("jekyll", "feeds", "wxr", "wp-json", "articles")
ARTICLE_SAMPLE_STEP = 10  # every 10th article page: the extractor costs ~50 ms a page
PARAGRAPH_FORMATS = {"frontmatter", "wxr", "wp-json", "rss", "atom", "rdf", "jsonfeed", "rss-json"}
INVARIANTS = ("schema", "title", "paragraphs", "unsafe_html", "markup_hole", "date")

# Files that are not posts although nothing in their bytes says so (feeds without entries and
# WordPress user objects are recognised by `holds_posts`): they must fail with a clear error.
NOT_POSTS: dict[str, str] = {
    "test-include_relative__rel_include.html": "an include fragment of Jekyll's test site (`_posts/include_relative/`)",
    "hugo-toml-rustblog-_index.md": "the Zola section page of the Rust blog (`content/_index.md`), not a post",
    "illformed__rss_incomplete_cdata.xml": "its only item is cut off inside `<title><![CD`: no title, no content",
    "test-include_relative__params.html": "an include fragment of Jekyll's test site (`_posts/include_relative/`)",
}
WORDPRESS_INTERNAL_TYPES = {"attachment", "nav_menu_item", "revision", "custom_css", "customize_changeset",
                            "oembed_cache", "wp_block", "wp_template", "wp_template_part", "wp_global_styles"}

# Known exceptions: (file name, invariant) -> why it is accepted. Keep this short and honest.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("test-include_relative__params.html", "not_post"): (
        "a Jekyll include (an HTML fragment with Liquid tags, no front matter) is taken for a saved HTML page by "
        "its `.html` name and archived with the warning 'little or no main content found'; without the site "
        "around it, a template fragment is not told apart from a very short page"
    ),
    ("rsparser__allthis-partial.json", "error"): (
        "a JSON Feed cut off mid-string (an interrupted download); JSON has no partial reading, so the input "
        "is refused with `parse_error` ('truncated JSON') and stays in the inbox instead of being archived "
        "with a silently truncated last post"
    ),
}

_SHORTCODE_TAG = re.compile(rf"\[/?(?:{clean_html.SHORTCODE_NAMES})\b[^\]]*\]")
_SHORTCODE_IN_OUTPUT = re.compile(rf"\[/?(?:{clean_html.SHORTCODE_NAMES})\b")
_LIQUID_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{\{[<%].*?[>%]\}\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_UNSAFE_TAG = re.compile(r"<(script|style|iframe)\b", re.IGNORECASE)
_JAVASCRIPT = re.compile(r"^\s*javascript:", re.IGNORECASE)
_JEKYLL_NAME_DATE = re.compile(r"(?:^|[-_])(\d{4}-\d{1,2}-\d{1,2})-[^/]+$")
_DATE_KEY = re.compile(r"date|published|pubdate|updated|modified|lastmod|created|issued", re.IGNORECASE)
PARAGRAPH_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
# Elements that start a new block of text in the archived `text` (see archiver.text.BLOCK_TAGS).
BLOCK_TAGS = PARAGRAPH_TAGS | {
    "div", "ul", "ol", "pre", "table", "tr", "td", "th", "figure", "figcaption", "hr", "dl", "dt", "dd",
    "section", "article", "header", "footer", "caption", "aside", "nav", "address", "details", "summary",
    "form", "fieldset", "main", "center",
}  # fmt: skip


@dataclass
class PostCheck:
    file: str
    index: int
    failures: dict[str, str] = field(default_factory=dict)  # invariant -> what is wrong
    no_date_in_source: bool = False


@dataclass
class FileResult:
    folder: str
    file: str
    posts: list[PostCheck] = field(default_factory=list)
    error: str | None = None  # "code: message" when the input could not be normalized
    error_code: str | None = None
    not_post: bool = False  # an expected error: the input is not a post

    def failures(self) -> Iterator[tuple[str, str, str]]:
        """(file, invariant, detail) of every failure not in KNOWN_EXCEPTIONS."""
        if self.error and not self.not_post and (self.file, "error") not in KNOWN_EXCEPTIONS:
            yield self.file, "error", self.error
        if self.not_post and not self.error and (self.file, "not_post") not in KNOWN_EXCEPTIONS:
            yield self.file, "not_post", f"listed in NOT_POSTS but gave {len(self.posts)} posts"
        for post in self.posts:
            for invariant, detail in post.failures.items():
                if (self.file, invariant) not in KNOWN_EXCEPTIONS:
                    yield self.file, invariant, f"post {post.index}: {detail}"


@dataclass
class FolderStats:
    folder: str
    files: int = 0
    posts: int = 0
    passing: int = 0
    errors: int = 0  # inputs that are posts but could not be normalized
    not_posts: Counter[str] = field(default_factory=Counter)  # error code -> files
    failures: Counter[str] = field(default_factory=Counter)  # invariant -> posts
    excepted: Counter[str] = field(default_factory=Counter)  # invariant -> posts in KNOWN_EXCEPTIONS
    no_date_in_source: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passing / self.posts if self.posts else 1.0


def corpus_files(folder: str, corpus: Path = CORPUS) -> list[Path]:
    if folder == "articles":
        pages = sorted((corpus / "articles" / "html").glob("*.html.gz"))
        return pages[::ARTICLE_SAMPLE_STEP]
    return sorted(p for p in (corpus / folder).iterdir() if p.is_file())


def check_file(folder: str, path: Path) -> FileResult:
    """Run one corpus file through `archiver normalize`'s path and check every post."""
    data = path.read_bytes()
    name = path.name
    if name.endswith(".gz") and folder == "articles":
        data, name = gzip.decompress(data), name.removesuffix(".gz")
    result = FileResult(folder, path.name)
    item = Input(data=data, name=name, origin=Origin(kind="file", uri=str(path)))
    try:
        posts = normalize_input(item)
        raws = formats.parse(item)
    except ArchiverError as exc:
        result.error, result.error_code = f"{exc.code}: {exc.message}", exc.code
        result.not_post = not holds_posts(path.name, data)
        return result
    result.not_post = path.name in NOT_POSTS
    for index, (post, raw) in enumerate(zip(posts, raws, strict=True)):
        result.posts.append(check_post(path.name, index, post, raw))
    return result


def holds_posts(name: str, data: bytes) -> bool:
    """Whether an input holds at least one post, judged from its bytes without the archiver.

    A feed entry or JSON item is a post when it has a title or some content; WordPress user
    objects are not posts; `NOT_POSTS` names the rest.
    """
    if name in NOT_POSTS:
        return False
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):  # unreadable: does it name a title or content?
            return bool(re.search(rb'"(?:title|content_html|content_text|content)"\s*:\s*["{]\s*[^"\s}]', data))
        objects = doc if isinstance(doc, list) else (doc.get("items") if isinstance(doc, dict) else None)
        if isinstance(doc, dict) and isinstance(doc.get("rss"), dict):
            objects = (doc["rss"].get("channel") or {}).get("item")
        if isinstance(doc, dict) and objects is None:
            objects = [doc]
        objects = objects if isinstance(objects, list) else [objects]
        keys = ("title", "content_html", "content_text", "summary", "content", "description")
        return any(isinstance(o, dict) and any(_has_text(o.get(k)) for k in keys) and not _is_wp_user(o)
                   for o in objects)
    if name.endswith((".xml", ".rss", ".atom", ".rdf")):
        from lxml import etree

        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(data, parser)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            from archiver.formats.feed import decode_head

            return bool(re.search(r"<(?:item|entry)\b", decode_head(data)))
        fields = {"title", "description", "summary", "content", "encoded"}
        for entry in root.iter("{*}item", "{*}entry"):
            children = {etree.QName(c).localname: c for c in entry if isinstance(c.tag, str)}
            post_type = children.get("post_type")  # WXR: WordPress's own item types are not posts
            if post_type is not None and (post_type.text or "").strip() in WORDPRESS_INTERNAL_TYPES:
                continue
            if any(k in fields and "".join(c.itertext()).strip() for k, c in children.items()):
                return True
        return False
    return True


def _is_wp_user(obj: dict) -> bool:
    return "avatar_urls" in obj and "content" not in obj and "title" not in obj


def _has_text(value: object) -> bool:
    if isinstance(value, dict):
        value = value.get("rendered")
    return isinstance(value, str) and bool(value.strip())


def check_post(file: str, index: int, post: Post, raw: RawPost) -> PostCheck:
    check = PostCheck(file, index)
    doc = json.loads(json.dumps(post.to_dict(), ensure_ascii=False))
    if problem := schema_problem(doc):
        check.failures["schema"] = problem
    if not post.title.strip() and not any(w.startswith("no title") for w in post.warnings):
        check.failures["title"] = "empty title and no 'no title' warning"
    if raw.format in PARAGRAPH_FORMATS:
        missing = missing_paragraphs(raw, post.text)
        if missing:
            check.failures["paragraphs"] = f"{len(missing)} missing, first: {missing[0][:120]!r}"
    if problem := unsafe_html(post.content_html):
        check.failures["unsafe_html"] = problem
    if problem := markup_hole(raw, post):
        check.failures["markup_hole"] = problem
    if post.published_at is None:
        if raw.published not in (None, ""):
            if not any("date" in w and "published" in w for w in post.warnings):
                check.failures["date"] = f"published {raw.published!r} not parsed and no warning"
        elif found := source_dates(raw, file):
            check.failures["date"] = f"the source has a date the format ignored: {found}"
        else:
            check.no_date_in_source = True
    return check


_MARKDOWN_LINK_LEFT = re.compile(r"\[[^\[\]\n]+\]\((?:https?:|/)[^()\s]*\)")
# Strong emphasis CommonMark would render (`**Scale:**With` it would not: the closer is not right-flanking).
_BOLD_LEFT = re.compile(r"(?<![\w*])\*\*[^*\s](?:[^*\n]{0,80}[^*\s])?\*\*(?=[\s.,;:!?)]|$)")


def markup_hole(raw: RawPost, post: Post) -> str | None:
    """Markdown or reST the renderer left as text (`[text](url)`, `**bold**`) or whose text it lost (math)."""
    if raw.format not in ("frontmatter", "pelican", "rst"):
        return None
    prose = re.sub(r"<(pre|code)\b.*?</\1>", "", post.content_html, flags=re.DOTALL | re.IGNORECASE)
    if raw.body_format == "markdown" and (match := _MARKDOWN_LINK_LEFT.search(prose) or _BOLD_LEFT.search(prose)):
        return f"Markdown left unrendered: {match.group(0)[:80]!r}"
    if raw.body_format == "markdown" and raw.body.count("$$") > post.text.count("$$"):
        return f"$$ math lost: {raw.body.count('$$')} in the source, {post.text.count('$$')} in the text"
    if raw.format == "rst" and "<math" in raw.body:  # MathML: the sanitizer removes it with its content
        return "reST math rendered as MathML, which the archived text loses"
    return None


def schema_problem(doc: dict) -> str | None:
    from jsonschema import Draft202012Validator

    from archiver.schema import post_schema

    errors = sorted(Draft202012Validator(post_schema()).iter_errors(doc), key=lambda e: list(e.path))
    if not errors:
        return None
    first = errors[0]
    return f"{'/'.join(map(str, first.path)) or '(root)'}: {first.message[:150]}"


def source_dates(raw: RawPost, file: str) -> dict[str, object]:
    """Date-like values in the source's own metadata (front matter, feed entry, export fields), and
    the date of a Jekyll post's file name (Jekyll reads `YYYY-M-D-slug`, zeros optional)."""
    found: dict[str, object] = {}
    if raw.format == "frontmatter" and (match := _JEKYLL_NAME_DATE.search(file)):
        found["file name"] = match.group(1)
    for key, value in raw.front_matter.items():
        if _DATE_KEY.search(key) and value not in (None, "", [], {}) and not isinstance(value, (dict, list, bool)):
            found[key] = value
    return found


def unsafe_html(content_html: str) -> str | None:
    """What must never be in archived HTML: shortcodes, scripts, styles, iframes, handlers, javascript: URLs."""
    from lxml import html as lxml_html

    # Code is shown verbatim: `[button setImage:...]` in an Objective-C sample is code, not a shortcode.
    prose = re.sub(r"<(pre|code)\b.*?</\1>", "", content_html, flags=re.DOTALL | re.IGNORECASE)
    if match := _SHORTCODE_IN_OUTPUT.search(prose):
        return f"shortcode {prose[match.start():match.start() + 40]!r}"
    if match := _UNSAFE_TAG.search(content_html):
        return f"<{match.group(1)}> element"
    if not content_html.strip():
        return None
    root = lxml_html.fragment_fromstring(content_html, create_parent="div")
    for element in root.iter():
        for attribute, value in element.attrib.items():
            if attribute.lower().startswith("on"):
                return f"event handler {attribute}= on <{element.tag}>"
            if _JAVASCRIPT.match("".join(ch for ch in value if ch.isprintable())):
                return f"javascript: URL in {attribute}= on <{element.tag}>"
    return None


def missing_paragraphs(raw: RawPost, text: str) -> list[str]:
    """Source paragraphs whose whitespace-normalized text is not in the archived text, as written or, for
    text that is UTF-8 decoded twice ("donâ€™t"), as its author wrote it (the archive repairs that)."""
    haystack = normalize_space(text)
    return [p for p in source_paragraphs(raw) if p not in haystack and _undoubled(p) not in haystack]


def _undoubled(paragraph: str) -> str:
    import ftfy

    return normalize_space(ftfy.fix_encoding(paragraph))


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def source_paragraphs(raw: RawPost) -> list[str]:
    """The text paragraphs of a raw body, minus only what the archive removes on purpose."""
    body = raw.body.replace("\r\n", "\n")
    if raw.format == "frontmatter":
        body = strip_template_tags(body)
    body = _SHORTCODE_TAG.sub("", body)
    if raw.body_format == "markdown":
        body = render_markdown(body)
    for pattern in clean_html.BOILERPLATE:
        body = pattern.sub("", body)
    body = re.sub(r"<!--.*?(?:-->|$)", "", body, flags=re.DOTALL)  # comments (IE conditionals too)
    if not re.search(r"<p\b", body, re.IGNORECASE):
        # No <p> at all: blank lines separate the paragraphs (WordPress before wpautop, plain text).
        return [seg for chunk in re.split(r"\n\s*\n", body) for seg in _segments(_fragment(chunk), nested=True)]
    root = _fragment(body)
    return [seg for el in root.iter(*PARAGRAPH_TAGS) for seg in _segments(el, nested=False)]


def strip_template_tags(text: str) -> str:
    """Liquid `{% %}`/`{{ }}` and Hugo `{{< >}}` tags out; the text of `{% raw %}` blocks stays."""
    parts = []
    last = 0
    for match in _LIQUID_RAW.finditer(text):
        parts.append(_TEMPLATE_TAG.sub("", text[last:match.start()]))
        parts.append(match.group(1))
        last = match.end()
    parts.append(_TEMPLATE_TAG.sub("", text[last:]))
    return "".join(parts)


def _fragment(html: str):
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(html or "<div></div>", create_parent="div")
    except (etree.ParserError, ValueError):
        root = lxml_html.document_fromstring(html)
    for element in list(root.iter()):
        dropped = not isinstance(element.tag, str) or element.tag in clean_html.DROPPED_WITH_CONTENT
        if dropped and element.getparent() is not None:
            element.drop_tree()  # keeps the tail
    return root


def _segments(element, *, nested: bool) -> list[str]:
    """The text runs of an element, split where a block starts. Nested blocks are read too when
    `nested`; otherwise they are skipped (each paragraph element is read on its own)."""
    runs: list[list[str]] = [[]]

    def walk(el) -> None:
        if el.text:
            runs[-1].append(el.text)
        for child in el:
            if isinstance(child.tag, str) and child.tag in BLOCK_TAGS:
                runs.append([])
                if nested:
                    walk(child)
                    runs.append([])
            elif isinstance(child.tag, str):
                if child.tag == "br":
                    runs[-1].append(" ")
                walk(child)
            if child.tail:
                runs[-1].append(child.tail)

    walk(element)
    return [seg for run in runs if (seg := normalize_space("".join(run)))]


def summarize(results: list[FileResult]) -> dict[str, FolderStats]:
    stats: dict[str, FolderStats] = {}
    for result in results:
        folder = stats.setdefault(result.folder, FolderStats(result.folder))
        folder.files += 1
        if result.not_post and not result.error:  # not a post, yet archived: a known exception or a failure
            folder.excepted["not_post"] += (result.file, "not_post") in KNOWN_EXCEPTIONS
            folder.errors += (result.file, "not_post") not in KNOWN_EXCEPTIONS
            continue
        if result.error:
            if result.not_post:
                folder.not_posts[result.error_code or "error"] += 1
            elif (result.file, "error") in KNOWN_EXCEPTIONS:
                folder.excepted["error"] += 1
            else:
                folder.errors += 1
            continue
        for post in result.posts:
            folder.posts += 1
            folder.no_date_in_source += post.no_date_in_source
            real = [i for i in post.failures if (result.file, i) not in KNOWN_EXCEPTIONS]
            for invariant in post.failures:
                target = folder.failures if invariant in real else folder.excepted
                target[invariant] += 1
            folder.passing += not post.failures
    return stats


def run(folders: tuple[str, ...] = FOLDERS, corpus: Path = CORPUS) -> list[FileResult]:
    return [check_file(folder, path) for folder in folders for path in corpus_files(folder, corpus)]
