"""Page metadata from embedded markup: JSON-LD, OpenGraph/article:* properties, <meta>, <link>.

`collect` gathers everything (JSON-serialisable, kept as the post's front matter); `Metadata`
picks each field from the most trustworthy source: JSON-LD `Article`, then OpenGraph, then
plain <meta> tags, then the document's own markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Posting|Report|Review)$", re.IGNORECASE)
# <meta> properties that may repeat (kept as lists)
MULTI = frozenset(("article:tag", "article:author", "og:image", "article:section", "og:locale:alternate"))
AUTHOR_METAS = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator", "byl")
PUBLISHED_METAS = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate", "publishdate",
    "publish-date", "dc.date", "dc.date.issued", "dcterms.created", "dcterms.date", "parsely-pub-date",
    "sailthru.date", "article.published", "published_time", "citation_publication_date",
)  # fmt: skip
# <meta name="title"> is how Nikola's HTML posts (and Dublin Core pages) name the post.
TITLE_METAS = ("title", "dc.title", "dcterms.title", "citation_title")
_CDATA = re.compile(r"^\s*(?://|/\*)?\s*<!\[CDATA\[\s*(?:\*/)?|(?://|/\*)?\s*\]\]>\s*(?:\*/)?\s*$")
_ITEMPROP_AUTHOR = './/*[@itemprop="author"]'
_REL_AUTHOR = './/a[contains(concat(" ", normalize-space(@rel), " "), " author ")]'
_BYLINE = ('.//*[contains(concat(" ", normalize-space(@class), " "), " byline ") or '
           'contains(concat(" ", normalize-space(@class), " "), " author ") or '
           'contains(concat(" ", normalize-space(@class), " "), " by-author ")]')
_BY = re.compile(r"^\s*(?:by|von|par|por|door|di):?\s+", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"[0-9@/]|https?:")  # a date, an address or a URL beside the name: not a name
_IN_COMMENTS = ('ancestor-or-self::*[contains(translate(@class, "COMENT", "coment"), "comment") or '
                'contains(translate(@id, "COMENT", "coment"), "comment")]')
UPDATED_METAS = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified")


@dataclass
class Metadata:
    """The fields a post needs, each from the first source that has it."""

    title: str | None = None
    canonical_url: str | None = None
    url: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    description: str | None = None
    language: str | None = None
    image: str | None = None
    site_name: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    article_body: str | None = None  # JSON-LD articleBody, a last-resort body
    raw: dict[str, Any] = field(default_factory=dict)  # everything found, for front_matter
    warnings: list[str] = field(default_factory=list)


def _clean(value: Any) -> str | None:
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        text = _clean(value)
        if text:
            return text
    return None


def _dedupe(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}  # casefolded -> first spelling, in order
    for item in items:
        if item:
            seen.setdefault(item.casefold(), item)
    return list(seen.values())


def _json_ld_objects(data: Any) -> list[dict[str, Any]]:
    """Flatten JSON-LD: top-level lists and `@graph` arrays into one list of objects."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[0:0] = item
        elif isinstance(item, dict):
            found.append(item)
            if isinstance(item.get("@graph"), list):
                stack[0:0] = item["@graph"]
    return found


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)]


def _names(value: Any) -> list[str]:
    """Person/organisation names from a JSON-LD value: a string, an object with `name`, or a list."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = _clean(item.get("name")) if isinstance(item, dict) else _clean(item)
        if name and not name.startswith(("http://", "https://")):
            names.append(name)
    return names


def _resolve(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    """JSON-LD references (`{"@id": ...}`, as Yoast's @graph writes authors) replaced by the objects they name."""
    if isinstance(value, list):
        return [_resolve(item, by_id) for item in value]
    if isinstance(value, dict) and "name" not in value and value.get("@id") in by_id:
        return by_id[value["@id"]]
    return value


def _byline_authors(tree: Any) -> list[str]:
    """Names from the page's markup: itemprop=author, a rel=author link, a byline element ("By Ana Ruiz");
    never from the comments (their authors are not the post's)."""
    for path, most in ((_ITEMPROP_AUTHOR, 5), (_REL_AUTHOR, 5), (_BYLINE, 1)):
        names = []
        for el in [el for el in tree.xpath(path) if not el.xpath(_IN_COMMENTS)][:most]:
            named = el.xpath('.//*[@itemprop="name"]')
            chunks = [c.strip() for c in (named[0] if named else el).itertext() if c.strip()]
            chunks = [c for c in chunks if not _BY.fullmatch(c + " ")]  # "By" alone, before the name's link
            text = _BY.sub("", chunks[0]).strip(" ,|·-") if chunks else ""
            if text and len(text) <= 80 and len(text.split()) <= 6 and not _NOT_A_NAME.search(text):
                names.append(text)
        if names:
            return _dedupe(names)
    return []


def _url_of(value: Any) -> str | None:
    """A URL from a JSON-LD image/url value: a string, an ImageObject, or a list of either."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl") or item.get("@id")
        text = _clean(item)
        if text:
            return text
    return None


def _keywords(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    words: list[str] = []
    for item in items:
        text = _clean(item)
        if text:
            words += [w.strip() for w in text.split(",") if w.strip()]
    return words


def collect(tree: Any) -> tuple[dict[str, Any], list[str]]:
    """Everything the page declares about itself, as a JSON-serialisable dict, plus warnings."""
    warnings: list[str] = []
    json_ld: list[Any] = []
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        source = _CDATA.sub("", (script.text or "").strip()).strip()  # `//<![CDATA[ ... //]]>` wrappers
        if source.startswith("<!--"):
            source = source[4:].rsplit("-->", 1)[0]
        if not source:
            continue
        try:
            json_ld.append(json.loads(source, strict=False))
        except ValueError as exc:
            warnings.append(f"invalid JSON-LD block skipped: {exc}")

    opengraph: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for el in tree.iterfind(".//meta"):
        content = el.get("content")
        if content is None:
            continue
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or ""
        key = key.strip().lower()
        if not key:
            continue
        target = opengraph if key.startswith(("og:", "article:", "twitter:", "fb:", "book:", "profile:")) else meta
        if key in MULTI:
            target.setdefault(key, []).append(content.strip())
        elif key not in target:
            target[key] = content.strip()

    links: dict[str, str] = {}
    for el in tree.iterfind(".//link"):
        rel = (el.get("rel") or "").strip().lower()
        href = (el.get("href") or "").strip()
        if rel and href and rel not in links and rel in ("canonical", "amphtml", "shortlink", "author"):
            links[rel] = href

    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    title_el = root.find(".//title")
    raw = {
        "json_ld": json_ld,
        "opengraph": opengraph,
        "meta": meta,
        "links": links,
        "lang": _clean(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")),
        "title": _clean(title_el.text_content()) if title_el is not None else None,
    }
    return raw, warnings


def _article(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-LD object describing the article (else a WebPage), or an empty dict."""
    for wanted in (ARTICLE_TYPES, re.compile(r"WebPage$")):
        for obj in objects:
            if any(wanted.search(kind) for kind in _types(obj)):
                return obj
    return {}


def _heading(tree: Any) -> str | None:
    headings = tree.xpath(".//h1")
    return _clean(headings[0].text_content()) if len(headings) == 1 else None


def _time_element(tree: Any) -> str | None:
    for el in tree.xpath(".//*[@itemprop='datePublished'] | .//time[@datetime]")[:1]:
        return _clean(el.get("datetime") or el.get("content") or el.text_content())
    return None


def extract_metadata(tree: Any) -> Metadata:
    """Pick each post field from the page's JSON-LD, OpenGraph, <meta> tags and markup."""
    raw, warnings = collect(tree)
    article = _article([o for block in raw["json_ld"] for o in _json_ld_objects(block)])
    og, meta, links = raw["opengraph"], raw["meta"], raw["links"]

    def metas(*names: str) -> list[Any]:
        return [og.get(n) or meta.get(n) for n in names]

    by_id = {o["@id"]: o for block in raw["json_ld"] for o in _json_ld_objects(block) if isinstance(o.get("@id"), str)}
    authors = _names(_resolve(article.get("author") or article.get("creator"), by_id))
    if not authors:
        for value in metas(*AUTHOR_METAS):
            authors = [a for a in _names(value) if a]
            if authors:
                break
    if not authors:
        authors = _byline_authors(tree)
    authors = _dedupe([part.strip() for a in authors for part in re.split(r"\s*;\s*|\s+and\s+", a) if part])

    publisher = article.get("publisher")
    main_entity = article.get("mainEntityOfPage")
    canonical = _first(links.get("canonical"), og.get("og:url"))
    sections = og.get("article:section") or []
    categories = _dedupe([*_keywords(article.get("articleSection")), *[s for s in sections if s]])
    tags = _dedupe([*(og.get("article:tag") or []), *_keywords(article.get("keywords"))])
    if not tags:
        tags = _dedupe(_keywords(meta.get("news_keywords") or meta.get("tags")))
    language = _first(raw["lang"], meta.get("content-language"), meta.get("language"), article.get("inLanguage"))
    if not language and og.get("og:locale"):
        language = _clean(og["og:locale"].replace("_", "-"))

    return Metadata(
        title=_first(
            article.get("headline"), og.get("og:title"), og.get("twitter:title"), *metas(*TITLE_METAS), _heading(tree),
            raw["title"],
        ),
        canonical_url=canonical,
        url=_first(
            canonical, article.get("url"), main_entity.get("@id") if isinstance(main_entity, dict) else main_entity
        ),
        authors=authors,
        published=_first(
            article.get("datePublished"), *metas(*PUBLISHED_METAS), article.get("dateCreated"), _time_element(tree)
        ),
        updated=_first(article.get("dateModified"), *metas(*UPDATED_METAS)),
        description=_first(
            meta.get("description"), og.get("og:description"), og.get("twitter:description"), article.get("description")
        ),
        language=language,
        image=_first(
            og.get("og:image"),
            og.get("twitter:image"),
            og.get("twitter:image:src"),
            _url_of(article.get("image")),
            _url_of(article.get("thumbnailUrl")),
        ),
        site_name=_first(og.get("og:site_name"), *_names(publisher)[:1], meta.get("application-name")),
        categories=categories,
        tags=tags,
        article_body=article.get("articleBody") if isinstance(article.get("articleBody"), str) else None,
        raw=raw,
        warnings=warnings,
    )
