"""The story index: which archived posts are copies of one story (SimHash bands and the ByStory GSI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver import stories
from archiver.store.aws import Table, serialize
from archiver.store.keys import post_pk

if TYPE_CHECKING:
    from archiver.model import Post

MAX_STORY_CANDIDATES = 100  # per fingerprint band: a lookup stays a few small reads
_BAND_PREFIX = "SIMHASH#"  # near-duplicate index: pk=SIMHASH#<band>:<value>, sk=POST#<id>


def band_items(post: Post) -> list[dict[str, Any]]:
    """The index items that make a post findable by its fingerprint bands (none without a fingerprint)."""
    if not post.fingerprint:
        return []
    return [{"pk": f"{_BAND_PREFIX}{band}", "sk": post_pk(post.id), "post_id": post.id,
             "fingerprint": post.fingerprint, "story_id": post.story_id} for band in stories.bands(post.fingerprint)]


class StoryIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def find_story(self, post: Post) -> str | None:
        """The story_id of an archived post whose text is near-identical to this one's, if any.

        A few exact-key queries on the fingerprint bands (see archiver.stories), never a scan.
        """
        if not post.fingerprint:
            return None
        for band in stories.bands(post.fingerprint):
            for item in self._table.query(
                limit=MAX_STORY_CANDIDATES,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=serialize({":pk": f"{_BAND_PREFIX}{band}"}),
                ProjectionExpression="post_id, fingerprint, story_id",
            ):
                if item["post_id"] != post.id and stories.are_copies(post.fingerprint, item["fingerprint"]):
                    return item["story_id"]
        return None

    def index_story(self, post: Post) -> None:
        """Make this post findable by later near-identical copies: one BatchWriteItem of its band items.

        `save_post` writes these items with the post's V# item; this is for posts stored otherwise.
        """
        self._table.batch_put(band_items(post), f"index story of post {post.id}")

    def list_story_copies(self, story_id: str) -> list[dict[str, Any]]:
        """Every post (LATEST item) that is a copy of one story, oldest first, via ByStory."""
        return self._table.query(
            IndexName="ByStory",
            KeyConditionExpression="story_pk = :pk",
            ExpressionAttributeValues=serialize({":pk": f"STORY#{story_id}"}),
        )
