"""What can go wrong while fetching: each a FetchError with its own code, stage "fetch"."""

from __future__ import annotations

from archiver.errors import ArchiverError


class FetchError(ArchiverError):
    """A URL could not be fetched; `status` is the HTTP status when a response was received."""

    code = "fetch_failed"
    stage = "fetch"
    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 stage: str | None = None):
        super().__init__(message, code=code, stage=stage)
        if status is not None:
            self.status = status


class UnsafeURL(FetchError):
    """Not an http(s) URL, or its host resolves to an address that must not be reached (SSRF)."""

    code = "unsafe_url"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class ResponseTooLarge(FetchError):
    code = "too_large"


class FetchTimeout(FetchError):
    code = "timeout"
    caller_deadline = False  # True when the caller's time ran out (`within`), not the request's own deadline


class ConnectFailed(FetchError):
    code = "connect_error"


class HttpError(FetchError):
    """The server answered with an error status; `retry_after` (seconds) when it said when to come back."""

    code = "http_error"

    def __init__(self, message: str, *, status: int, retry_after: float | None = None,
                 retry_after_capped: bool = False):
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.retry_after_capped = retry_after_capped  # the server asked for longer than the cap (a day)

    @property
    def gone(self) -> bool:
        """410 Gone: the resource was removed for good (the source is disabled, not retried)."""
        return self.status == 410


class RobotsDisallowed(FetchError):
    code = "robots_disallowed"
