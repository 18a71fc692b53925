"""One typed settings object, read once from environment variables (set by template.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    archive_bucket: str = ""
    table_name: str = ""
    inbox_bucket: str = ""  # known only so that nothing is ever written back into it
    default_timezone: str = "UTC"  # applied to dates written without an offset
    max_input_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            archive_bucket=env.get("ARCHIVE_BUCKET", ""),
            table_name=env.get("TABLE_NAME", ""),
            inbox_bucket=env.get("INBOX_BUCKET", ""),
            default_timezone=env.get("DEFAULT_TIMEZONE", "UTC"),
            max_input_bytes=int(env.get("MAX_INPUT_BYTES", cls.max_input_bytes)),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
