"""One typed settings object, read once from environment variables (set by template.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from archiver.limits import MAX_POST_BYTES


@dataclass(frozen=True)
class Settings:
    archive_bucket: str = ""
    table_name: str = ""
    inbox_bucket: str = ""  # known only so that nothing is ever written back into it
    default_timezone: str = "UTC"  # applied to dates written without an offset
    max_input_bytes: int = 200 * 1024 * 1024
    max_post_bytes: int = MAX_POST_BYTES  # a larger post is not normalized: failed `post_too_large`, raw kept
    queue_url: str = ""  # the inbox queue: chunks of large inputs are sent to it (fan-out off when empty)
    chunk_posts: int = 250  # a splittable input with more posts is archived in chunks of this many
    chunk_min_seconds: int = 90  # a chunk is started only with this much invocation time left, else requeued
    spool_bytes: int = 8 * 1024 * 1024  # larger inputs are copied to a temporary file, not held in memory
    spool_dir: str = ""  # where those files go (default: the system temp dir, /tmp in Lambda)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            archive_bucket=env.get("ARCHIVE_BUCKET", ""),
            table_name=env.get("TABLE_NAME", ""),
            inbox_bucket=env.get("INBOX_BUCKET", ""),
            default_timezone=env.get("DEFAULT_TIMEZONE", "UTC"),
            max_input_bytes=int(env.get("MAX_INPUT_BYTES", cls.max_input_bytes)),
            max_post_bytes=int(env.get("MAX_POST_BYTES", cls.max_post_bytes)),
            queue_url=env.get("QUEUE_URL", ""),
            chunk_posts=int(env.get("CHUNK_POSTS", cls.chunk_posts)),
            chunk_min_seconds=int(env.get("CHUNK_MIN_SECONDS", cls.chunk_min_seconds)),
            spool_bytes=int(env.get("SPOOL_BYTES", cls.spool_bytes)),
            spool_dir=env.get("SPOOL_DIR", ""),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
