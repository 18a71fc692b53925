"""What one fetch of a source did: kept on the source as its `last` health, logged and counted by the handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archiver.model import Failure


@dataclass
class FetchReport:
    """What one fetch of a source did (also kept on the source as its `last` health)."""

    source_id: str
    url: str
    # archived | unchanged | not_modified | failed | deferred (out of time: queued again)
    # | partial (the run's share spent: due again at the next scheduled run)
    status: str = "unchanged"
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    post_ids: list[str] = field(default_factory=list)
    error: Failure | None = None
    at: str = ""
    pages: int = 0  # pages fetched for entries this run (sitemap pages, full articles): capped per run
    retry_after: float | None = None  # the server's Retry-After, at most a day
    retry_after_capped: bool = False  # the server asked for longer than that

    def to_dict(self) -> dict[str, Any]:
        data = {"at": self.at, "status": self.status, "http_status": self.http_status, "url": self.url,
                "new": self.new, "updated": self.updated, "unchanged": self.unchanged}
        if self.pages:
            data["pages"] = self.pages
        if self.retry_after is not None:
            data["retry_after"] = int(self.retry_after)
            data["retry_after_capped"] = self.retry_after_capped
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data
