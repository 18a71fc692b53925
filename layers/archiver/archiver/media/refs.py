"""Which images a post shows, and where each can be had: its URL on the web, and, for a post that came in a
bundle (a zip or tar of a site), the files of the bundle that the URL names.

A Hugo post `content/post/a.md` showing `/img/x.png` means `static/img/x.png` of the same site; Jekyll
serves its root as is (`img/x.png`, `assets/...`); a page bundle's `x.png` sits beside its `index.md`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

MAX_IMAGES = 200  # per post: more is a gallery index; the rest are recorded as not archived
# Folders a static site generator serves at the site's root.
SITE_ROOTS = ("static", "assets", "public", "", "source", "_site", "images", "img")


@dataclass(frozen=True)
class ImageRef:
    """One image of a post: as written in its body (`src`), and where to get it."""

    src: str
    url: str | None  # absolute http(s) URL, when the post gives one
    bundle_paths: tuple[str, ...] = ()  # paths inside the post's bundle that may hold it, first match wins

    @property
    def host(self) -> str:
        return (urlsplit(self.url).netloc or "").lower() if self.url else ""


def image_refs(document: dict[str, Any]) -> list[ImageRef]:
    """The images of a post document (post.json), in order, each once: its body's, then its lead image."""
    sources = [image.get("src") for image in document.get("images") or [] if isinstance(image, dict)]
    if document.get("image"):
        sources.append(document["image"])
    entry = (document.get("extra") or {}).get("bundle_entry")
    refs: dict[str, ImageRef] = {}
    for src in sources:
        if not isinstance(src, str) or not src.strip() or src in refs or src.startswith("data:"):
            continue
        refs[src] = ImageRef(src, src if _is_http(src) else None, bundle_paths(src, entry) if entry else ())
    return list(refs.values())[:MAX_IMAGES]


def bundle_paths(src: str, entry: str) -> tuple[str, ...]:
    """The paths inside a bundle that an image URL may name, for the post at bundle path `entry`, nearest first.

    A relative URL is the post's folder's (a page bundle); a site-absolute one (`/img/x.png`), or an
    absolute one on any host, is looked for under each folder a generator serves at the root, in each
    folder above the post (the site may sit in a folder of the zip).
    """
    parts = urlsplit(src)
    path = unquote(parts.path)
    if not path or path.endswith("/"):
        return ()
    here = posixpath.dirname(entry)
    found: list[str] = []
    if not path.startswith("/") and not parts.netloc:
        found.append(posixpath.normpath(posixpath.join(here, path)))
    site_path = path.lstrip("/")
    folders = [here]
    while folders[-1]:
        folders.append(posixpath.dirname(folders[-1]))
    for folder in folders:
        for root in SITE_ROOTS:
            found.append(posixpath.normpath(posixpath.join(folder, root, site_path)))
    return tuple(p for p in dict.fromkeys(found) if not p.startswith(".."))


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
