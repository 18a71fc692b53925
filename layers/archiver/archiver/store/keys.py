"""Every archive bucket key and table key, built in one place.

Archive bucket:
  raw/<sha256[:2]>/<sha256>                                    original bytes, content-addressed
  posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/post.json         normalized post (schema v1)
  posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/index.html        standalone readable page
  posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/versions/000002/{post.json,index.html}
                                                               a version that was already outdated when
                                                               written (a slower writer): kept, never current
  (`undated` replaces <yyyy>/<mm>/<dd> when the post has no date)
  chunks/<sha256[:2]>/<sha256>/context.json                    what every chunk of a fanned-out original
                                                               needs besides its own bytes (see wxr.plan_slices)
  media/<sha256[:2]>/<sha256>.<ext>                            a post's image, content-addressed: stored once
                                                               however many posts and sites show it

Table:
  pk=POST#<id>            sk=LATEST     the current version's metadata (+ GSI keys BySite/ByStory)
  pk=POST#<id>            sk=V#000001   one item per archived version (with its trigger and change summary)
  pk=POST#<id>            sk=RECHECK    a fetched post's re-check schedule and state; while a check is ahead it
                          carries recheck_pk=RECHECK#<0-3>, recheck_sk=<due>#<id>: the ToRecheck GSI
  pk=POST#<id>            sk=EVENT#<at>#<check>#<kind>  what happened to the post upstream without a new version
                          (gone_upstream: its page answered 404/410; back_upstream: it answers again)
  pk=INPUT#<bucket>/<key> sk=<version id | etag | ->   the outcome of one input (first finished one + attempts)
  pk=INPUT#<bucket>/<key> sk=<same>#chunk-000003      the outcome of one chunk of a fanned-out input
                          (unfinished ones also carry retry_pk=RETRY#<0-3>, retry_sk: the ToRetry GSI)
  pk=SIMHASH#<band>       sk=POST#<id>  near-duplicate index: fingerprint bands -> story_id
  pk=MEDIA#<sha256(url)[:40]> sk=URL    an image URL already archived (its media key, type, size), or why not
  pk=INPUT#media/<post id> sk=V#000001  the media of one post version: failed (in ToRetry) until every image is in
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from archiver.ids import slugify

if TYPE_CHECKING:
    from archiver.model import Post

LATEST = "LATEST"
RAW_PREFIX = "raw/"
SLUG_MAX = 80


@dataclass(frozen=True)
class PostKeys:
    """Where one post lives in the archive bucket."""

    prefix: str
    json_key: str
    html_key: str


def raw_key(sha256_hex: str) -> str:
    """Content-addressed key of original bytes."""
    return f"{RAW_PREFIX}{sha256_hex[:2]}/{sha256_hex}"


def chunk_context_key(raw: str) -> str:
    """The key of the chunk context of the original at `raw` (outside raw/: it is not an input)."""
    return f"chunks/{raw.removeprefix(RAW_PREFIX)}/context.json"


def post_keys(post: Post) -> PostKeys:
    """The human-browsable keys of a post: posts/<site>/<yyyy>/<mm>/<dd>/<slug>--<id>/."""
    site = _key_segment(post.site) or "unknown-site"
    day = _date_path(post.published_at)
    slug = _post_slug(post)
    prefix = f"posts/{site}/{day}/{slug}--{post.id}/"
    return PostKeys(prefix=prefix, json_key=prefix + "post.json", html_key=prefix + "index.html")


def version_keys(keys: PostKeys, version: int) -> PostKeys:
    """Immutable keys of one version, for a version that must not replace a newer current one."""
    prefix = f"{keys.prefix}versions/{version:06d}/"
    return PostKeys(prefix=prefix, json_key=prefix + "post.json", html_key=prefix + "index.html")


def stored_keys(item: dict[str, Any]) -> PostKeys | None:
    """The keys a table item (LATEST or V#) names, if it names them."""
    json_key, html_key = item.get("json_key"), item.get("html_key")
    if not (json_key and html_key):
        return None
    return PostKeys(prefix=json_key.rsplit("/", 1)[0] + "/", json_key=json_key, html_key=html_key)


MEDIA_PREFIX = "media/"


def media_key(sha256_hex: str, extension: str) -> str:
    """Content-addressed key of an archived image (`extension` without its dot)."""
    return f"{MEDIA_PREFIX}{sha256_hex[:2]}/{sha256_hex}.{extension}"


def media_url_pk(url: str) -> str:
    """The table key of what is known about one image URL."""
    import hashlib

    return f"MEDIA#{hashlib.sha256(url.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}"


def media_input_pk(post_id: str) -> str:
    """The outcome record of a post's media, listed by `archiver failures` while images are missing."""
    return f"INPUT#media/{post_id}"


def post_pk(post_id: str) -> str:
    return f"POST#{post_id}"


def version_sk(version: int) -> str:
    return f"V#{version:06d}"


RECHECK = "RECHECK"
EVENT_PREFIX = "EVENT#"


def event_sk(at: str, sequence: int, kind: str) -> str:
    """An upstream event's key: in time order, then in the order of the checks that saw them (`sequence`)."""
    return f"{EVENT_PREFIX}{at}#{sequence:06d}#{kind}"


def recheck_index_keys(post_id: str, due: str, shards: int) -> dict[str, str]:
    """The ToRecheck GSI keys of a re-check due at `due` (spread over `shards` partitions by post id)."""
    import hashlib

    shard = hashlib.sha256(post_id.encode()).digest()[0] % shards
    return {"recheck_pk": f"RECHECK#{shard}", "recheck_sk": f"{due}#{post_id}"}


def chunk_sk(input_sk: str, index: int | None) -> str:
    """`<input sk>#chunk-000003`; with no index, the prefix shared by an input's chunks."""
    return f"{input_sk}#chunk-" + ("" if index is None else f"{index:06d}")


def input_pk(bucket: str | None, key: str | None, uri: str | None) -> str:
    if bucket:
        return f"INPUT#{bucket}/{key or ''}"
    return f"INPUT#{uri or key or '-'}"


def _post_slug(post: Post) -> str:
    """The last segment of the post's URL path, else its title, as an ASCII slug."""
    if post.url:
        path = unquote(urlsplit(post.url).path)
        last = next((seg for seg in reversed(path.split("/")) if seg), "")
        last = re.sub(r"\.(html?|php|aspx?|md|markdown)$", "", last, flags=re.IGNORECASE)
        # A bare number (/2024/05/, /archives/123) or a generic name says nothing: use the title.
        if last and not last.isdigit() and last.lower() not in ("index", "post", "entry"):
            slug = slugify(last, SLUG_MAX)
            if slug != "untitled":
                return slug
    return slugify(post.title, SLUG_MAX)


def _date_path(published_at: str | None) -> str:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", published_at or "")
    return "/".join(match.groups()) if match else "undated"


def _key_segment(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.lower()).strip("-.")
