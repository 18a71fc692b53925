"""Errors of fetching, each with a code recorded on the source (stage `fetch`)."""

from __future__ import annotations

from archiver.errors import ArchiverError


class FetchError(ArchiverError):
    code = "fetch_failed"
    stage = "fetch"
    status: int | None = None


class UnsafeURL(FetchError):
    code = "unsafe_url"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class ResponseTooLarge(FetchError):
    code = "too_large"


class FetchTimeout(FetchError):
    code = "timeout"


class ConnectFailed(FetchError):
    code = "connect_error"


class RobotsDisallowed(FetchError):
    code = "robots_disallowed"


class HttpError(FetchError):
    code = "http_error"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def gone(self) -> bool:
        return self.status == 410
