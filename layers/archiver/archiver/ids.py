"""Stable identifiers, site names and slugs: the naming contracts of the archive."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

ID_LENGTH = 20  # base32 characters: 100 bits, short enough for keys and URLs
# A site is one segment of every post's S3 key and a folder name when the archive is exported:
# DNS names stop at 253 bytes, file names at 255, S3 keys at 1,024 (with the slug at 80 bytes and
# the rest of the key at ~60, a post's key stays under 350).
MAX_SITE_BYTES = 200
# Letters that Unicode does not decompose into an ASCII base letter.
_TRANSLITERATION = str.maketrans({"ß": "ss", "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae",
                                  "Œ": "OE", "œ": "oe", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "\u0131": "i"})
# Fields of a post document that differ between two runs of the same normalizer on the same bytes.
VOLATILE_FIELDS = frozenset({"archived_at", "version", "normalizer_version"})
_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$)")


def short_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:ID_LENGTH]


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def is_absolute_url(value: str | None) -> bool:
    if not value:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # "https://[host" (an unclosed IPv6 bracket), "http://a:b/"
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def normalize_url(url: str) -> str:
    """The form of a URL used for identity: lower-case host, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING_PARAMS.match(k)])
    # One spelling per path: /café, /caf%C3%A9 and /caf%c3%a9 are the same resource.
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~").rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def post_id(*, url: str | None, site: str | None, original_id: str | None, content_sha256: str) -> str:
    """A post's stable id: from its own URL, else its site + original id, else its content.

    The same post dropped under two inbox keys gets one id; two sites republishing one story
    get two ids (they share a `story_id` instead).
    """
    if is_absolute_url(url):
        return short_hash("url:" + normalize_url(url))
    if site and original_id:
        return short_hash(f"site:{site}#{original_id}")
    return short_hash("content:" + content_sha256)


def story_id(*, canonical_url: str | None, url: str | None, content_sha256: str) -> str:
    """The id shared by every copy of one story: from the original publisher's URL."""
    for candidate in (canonical_url, url):
        if is_absolute_url(candidate):
            return short_hash("story:" + normalize_url(candidate))
    return short_hash("story-content:" + content_sha256)


def site_of(url: str | None, source: dict | None = None) -> str:
    """The site a post belongs to, as a key-safe name: the host without `www.`, at most MAX_SITE_BYTES."""
    if is_absolute_url(url):
        host = (urlsplit(url).hostname or "").lower()
        return bounded(host.removeprefix("www."), MAX_SITE_BYTES)
    name = (source or {}).get("site_name")
    return slugify(name) if name else "unknown-site"


def bounded(name: str, max_bytes: int) -> str:
    """The name if its UTF-8 form fits in `max_bytes`; else its start and a short hash of the whole."""
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return name
    start = data[: max_bytes - 9].decode("utf-8", "ignore")  # never a cut character
    return f"{start}-{short_hash(name)[:8]}"


def slugify(text: str | None, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphenated; empty input gives "untitled"."""
    text = re.sub(r"['\u2019]", "", text or "").translate(_TRANSLITERATION)  # straight and curly apostrophes alike
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "untitled"


def output_sha256(document: dict) -> str:
    """Digest of a post document's normalized output (without VOLATILE_FIELDS): equal digests, equal output.

    Kept on the post's records, so that re-processing compares a new run with the stored one without
    reading post.json.
    """
    import json

    # Neither what the media job adds nor the change record (what the store compares) is the normalizer's output.
    stable = {k: v for k, v in document.items() if k not in VOLATILE_FIELDS and k not in ("media", "changes")}
    if isinstance(stable.get("images"), list):  # what the media job added to each image is not the normalizer's
        stable["images"] = [{k: image.get(k) for k in ("src", "alt") if k in image} if isinstance(image, dict)
                            else image for image in stable["images"]]
    return sha256_hex(json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str))
