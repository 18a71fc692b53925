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
    # Work on an input stops this long before the function's timeout, to record a `timeout` outcome.
    deadline_margin_seconds: int = 20
    # An inbox object is started only with the margin plus this much time left, else requeued.
    input_min_seconds: int = 5
    spool_bytes: int = 8 * 1024 * 1024  # larger inputs are copied to a temporary file, not held in memory
    spool_dir: str = ""  # where those files go (default: the system temp dir, /tmp in Lambda)
    # Fetching. FETCH_UNSAFE_ALLOW_NETWORKS (CIDRs, comma-separated) lets the fetcher reach private
    # addresses: for LOCAL TESTING ONLY (a fixture server on 127.0.0.1); empty, the SSRF guard refuses them.
    fetch_allow_networks: str = ""
    fetch_contact_url: str = "https://github.com/post-archiver/post-archiver"  # in the User-Agent
    fetch_max_bytes: int = 20 * 1024 * 1024  # cap on one response body (decoded)
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 20.0  # per read
    fetch_deadline: float = 60.0  # one request as a whole, redirects included
    fetch_queue_url: str = ""  # the FIFO fetch queue: one job per host (message group = host)
    fetch_host_delay: float = 1.0  # seconds between two requests to one host (robots.txt Crawl-delay may ask more)
    fetch_lease_seconds: int = 1800  # a queued source is not queued again for this long
    fetch_margin_seconds: int = 30  # a fetch job stops and re-queues its rest with this much time left
    # Archive posts' images from the web (media jobs); off, only images inside dropped bundles are archived.
    remote_media: bool = True
    media_max_bytes: int = 20 * 1024 * 1024  # one image; a post's images together: 100 MiB
    fetch_pages_per_run: int = 200  # pages fetched per source and run (sitemap pages, full articles); the rest next run
    fetch_cli_seconds: float = 900.0  # `archiver fetch` / `sources fetch` stop after this long, progress kept
    recheck_per_run: int = 500  # archived posts re-checked per scheduled run at most; the rest at the next run

    def unsafe_fetch_warning(self) -> str | None:
        """What to log at start when FETCH_UNSAFE_ALLOW_NETWORKS is set (None when it is not)."""
        if not self.fetch_allow_networks.strip():
            return None
        return (f"FETCH_UNSAFE_ALLOW_NETWORKS is set ({self.fetch_allow_networks.strip()}): the SSRF guard lets "
                f"the fetcher reach these private networks. For local testing only; never in a deployed stack.")

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
            deadline_margin_seconds=int(env.get("DEADLINE_MARGIN_SECONDS", cls.deadline_margin_seconds)),
            input_min_seconds=int(env.get("INPUT_MIN_SECONDS", cls.input_min_seconds)),
            spool_bytes=int(env.get("SPOOL_BYTES", cls.spool_bytes)),
            spool_dir=env.get("SPOOL_DIR", ""),
            fetch_allow_networks=env.get("FETCH_UNSAFE_ALLOW_NETWORKS", ""),
            fetch_contact_url=env.get("FETCH_CONTACT_URL") or cls.fetch_contact_url,
            fetch_max_bytes=int(env.get("FETCH_MAX_BYTES", cls.fetch_max_bytes)),
            fetch_connect_timeout=float(env.get("FETCH_CONNECT_TIMEOUT", cls.fetch_connect_timeout)),
            fetch_read_timeout=float(env.get("FETCH_READ_TIMEOUT", cls.fetch_read_timeout)),
            fetch_deadline=float(env.get("FETCH_DEADLINE", cls.fetch_deadline)),
            fetch_queue_url=env.get("FETCH_QUEUE_URL", ""),
            fetch_host_delay=float(env.get("FETCH_HOST_DELAY", cls.fetch_host_delay)),
            fetch_lease_seconds=int(env.get("FETCH_LEASE_SECONDS", cls.fetch_lease_seconds)),
            fetch_margin_seconds=int(env.get("FETCH_MARGIN_SECONDS", cls.fetch_margin_seconds)),
            remote_media=env.get("REMOTE_MEDIA", "true").strip().lower() not in ("false", "0", "no", "off"),
            media_max_bytes=int(env.get("MEDIA_MAX_BYTES", cls.media_max_bytes)),
            fetch_pages_per_run=int(env.get("FETCH_PAGES_PER_RUN", cls.fetch_pages_per_run)),
            fetch_cli_seconds=float(env.get("FETCH_CLI_SECONDS", cls.fetch_cli_seconds)),
            recheck_per_run=int(env.get("RECHECK_PER_RUN", cls.recheck_per_run)),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
