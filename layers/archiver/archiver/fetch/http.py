"""The HTTP client: one requests Session, guarded connections, transient retries, caps and conditional GET.

`HttpClient.get(url, validators=...)` returns a `Response` (2xx, or 304 when the validators still
match) or raises a FetchError subclass saying what went wrong; it never returns an error status.
"""

from __future__ import annotations

import codecs
import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests
from urllib3.exceptions import DecodeError, MaxRetryError, ProtocolError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from archiver.decoding import bom_encoding
from archiver.fetch.errors import (
    ConnectFailed,
    FetchError,
    FetchTimeout,
    HttpError,
    ResponseTooLarge,
    TooManyRedirects,
)
from archiver.fetch.guard import Guard, GuardedAdapter

if TYPE_CHECKING:
    from archiver.config import Settings

USER_AGENT_TEMPLATE = "PostArchiver/{version} (+{contact})"
DEFAULT_CONTACT_URL = "https://github.com/post-archiver/post-archiver"
VERSION = "0.1.0"  # the project's version (pyproject.toml); the layer ships no package metadata to read it from

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_READ_CHUNK = 64 * 1024
_SNIFF_BYTES = 2048
_DRAIN_BYTES = 64 * 1024  # an unread rest up to this size is read to keep the connection, a larger one closes it


def user_agent(contact: str = DEFAULT_CONTACT_URL, version: str = VERSION) -> str:
    """The User-Agent header: the project's name and version and where to reach its operator."""
    return USER_AGENT_TEMPLATE.format(version=version, contact=contact or DEFAULT_CONTACT_URL)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; parsedate_to_datetime leaves "-0000" naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


# -- charsets --------------------------------------------------------------------------------------------------------

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.IGNORECASE)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x"> alike.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _codec_name(label: str | bytes | None) -> str | None:
    if not label:
        return None
    text = label.decode("ascii", "replace") if isinstance(label, bytes) else label
    try:
        return codecs.lookup(text.strip().lower()).name
    except LookupError:
        return None


def detect_charset(content_type: str | None, body: bytes) -> str | None:
    """The body's character encoding as a Python codec name, or None when nothing declares one.

    Follows WHATWG's order of precedence: a byte order mark wins over the Content-Type header's
    charset, which wins over what the document says in its first 2 KB (`<meta charset>`,
    `<meta http-equiv="Content-Type">`, or an XML declaration). Unknown labels are skipped.
    """
    marked = bom_encoding(body)
    if marked:
        return marked[0]
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        name = _codec_name(match.group(1)) if match else None
        if name:
            return name
    head = body[:_SNIFF_BYTES]
    for pattern in (_XML_DECLARATION, _META_CHARSET):
        match = pattern.search(head)
        name = _codec_name(match.group(1)) if match else None
        if name:
            # WHATWG: a UTF-16 label read from ASCII-compatible bytes cannot be true; the bytes are UTF-8.
            return "utf-8" if name.startswith("utf-16") else name
    return None


# -- values ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validators:
    """What a server said identifies its representation (ETag, Last-Modified), kept per URL for conditional GETs."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def to_dict(self) -> dict[str, str]:
        return {key: value for key, value in (("etag", self.etag), ("last_modified", self.last_modified)) if value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Validators:
        data = data or {}
        return cls(etag=data.get("etag") or None, last_modified=data.get("last_modified") or None)


@dataclass(frozen=True)
class Response:
    """A fetched response: 2xx with its (decoded, capped) body, or 304 with an empty body."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    charset: str | None
    redirects: tuple[tuple[int, str], ...] = ()  # (status, target URL) per hop

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.headers.get("etag"), last_modified=self.headers.get("last-modified"))

    @property
    def permanent_url(self) -> str | None:
        """The final URL when every hop was a permanent redirect (301/308): the source should move there."""
        if self.redirects and all(status in PERMANENT_REDIRECTS for status, _ in self.redirects):
            return self.final_url
        return None

    @property
    def content_type(self) -> str | None:
        """The media type without parameters, lower-case (e.g. "application/rss+xml")."""
        value = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return value or None

    def text(self) -> str:
        """The body as text: its charset, else UTF-8; undecodable bytes become U+FFFD, nothing is lost silently."""
        text = self.body.decode(self.charset or "utf-8", errors="replace")
        return text.removeprefix("\ufeff")


# -- the client ------------------------------------------------------------------------------------------------------


class _TransientRetry(Retry):
    """urllib3 Retry that waits out a Retry-After only up to `max_wait`.

    A longer Retry-After ends the retries at once: the response goes back to the client, which
    raises HttpError with `retry_after` so the caller can push the source's next-due time instead.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})
    max_wait: float = 10.0

    def new(self, **kw: Any) -> _TransientRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> _TransientRetry:
        if response is not None:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.max_wait:
                too_long = ResponseError(f"Retry-After {wait:g} s is longer than {self.max_wait:g} s")
                raise MaxRetryError(_pool, url, too_long)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _discard(raw: requests.Response) -> None:
    """Done with a response: read a small unread rest (redirect, 304, error page) so the kept-alive
    connection goes back to the pool; close the connection when the rest is large or of unknown size."""
    declared = raw.headers.get("Content-Length", "").strip()
    if raw.status_code == 304 or (declared.isdigit() and int(declared) <= _DRAIN_BYTES):
        raw.raw.drain_conn()  # urllib3 ignores errors here: at worst the connection is not reused
    raw.close()


def _reason(exc: BaseException) -> BaseException:
    """The urllib3 error under a requests exception (requests wraps it, sometimes in a MaxRetryError)."""
    inner: Any = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return getattr(inner, "reason", None) or inner


def _said(error: BaseException) -> str:
    """An error's text without urllib3's "XConnection(host=..., port=...): " prefix (the URL is said already)."""
    return _CONNECTION_PREFIX.sub("", str(error))


_CONNECTION_PREFIX = re.compile(r"^\w*Connection\(host=[^)]*\): ")


class HttpClient:
    """Fetches URLs politely and safely; one per worker (one Session, one connection pool), not shared by threads.

    `requests_made` counts requests written to the wire (retries and redirect hops included),
    `conditional_requests` those that carried If-None-Match or If-Modified-Since.
    `deadline` bounds one `get` as a whole (a server dripping bytes never trips the per-read timeout).
    """

    def __init__(self, *, guard: Guard, user_agent: str, connect_timeout: float = 5.0, read_timeout: float = 20.0,
                 max_bytes: int = 20 * 1024 * 1024, max_redirects: int = 5, retries: int = 2, backoff: float = 0.5,
                 max_retry_wait: float = 10.0, deadline: float = 60.0):
        self.guard = guard
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.deadline = deadline
        self.requests_made = 0
        self.conditional_requests = 0

        retry = _TransientRetry(
            total=retries, connect=retries, status=retries, read=False, other=False, redirect=False,
            allowed_methods=frozenset({"GET", "HEAD"}), status_forcelist=TRANSIENT_STATUSES,
            backoff_factor=backoff, backoff_max=max_retry_wait, retry_after_max=int(max_retry_wait),
            respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        )
        retry.max_wait = max_retry_wait
        adapter = GuardedAdapter(guard, on_request=self._count_request, max_retries=retry)
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc from the environment: the guard must see every connection
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"})

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> HttpClient:
        """A client configured from the settings (FETCH_* variables)."""
        options: dict[str, Any] = dict(
            guard=Guard.from_setting(settings.fetch_allow_networks),
            user_agent=user_agent(settings.fetch_contact_url),
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            max_bytes=settings.fetch_max_bytes,
            deadline=settings.fetch_deadline,
        )
        options.update(overrides)
        return cls(**options)

    def _count_request(self, headers: dict[str, str]) -> None:
        self.requests_made += 1
        if any(name.lower() in ("if-none-match", "if-modified-since") for name in headers):
            self.conditional_requests += 1

    def get(self, url: str, *, validators: Validators | None = None, accept: str | None = None,
            max_bytes: int | None = None, truncate: bool = False) -> Response:
        """GET `url`, following up to `max_redirects` redirects, every hop checked by the guard.

        `validators` make it a conditional GET (a 304 comes back as a Response with an empty body).
        `max_bytes` overrides the client's cap for this call; `truncate` keeps the first `max_bytes`
        instead of raising ResponseTooLarge (robots.txt). Raises a FetchError subclass otherwise.
        """
        deadline = time.monotonic() + self.deadline
        headers = {"Accept": accept} if accept else {}
        if validators:
            headers.update(validators.request_headers())
        hops: list[tuple[int, str]] = []
        current = url
        while True:
            self.guard.check_url(current)
            raw = self._send(current, headers, deadline)
            location = raw.headers.get("Location") if raw.status_code in REDIRECT_STATUSES else None
            if not location:
                break
            _discard(raw)
            target = urljoin(current, location.strip())
            hops.append((raw.status_code, target))
            if target == url or any(target == seen for _, seen in hops[:-1]):
                raise TooManyRedirects(f"redirect loop from {url} back to {target}", status=raw.status_code)
            if len(hops) > self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects from {url}", status=raw.status_code)
            current = target
        try:
            status = raw.status_code
            if status == 304:
                body = b""
            elif not 200 <= status < 300:
                retry_after = parse_retry_after(raw.headers.get("Retry-After"))
                wait = f" (Retry-After {retry_after:g} s)" if retry_after is not None else ""
                raise HttpError(f"HTTP {status} {raw.reason or 'error'} from {current}{wait}",
                                status=status, retry_after=retry_after)
            else:
                limit = self.max_bytes if max_bytes is None else max_bytes
                body = self._read_body(raw, current, limit, truncate, deadline)
        finally:
            _discard(raw)
        response_headers = {name.lower(): value for name, value in raw.headers.items()}
        return Response(url=url, final_url=current, status=status, headers=response_headers, body=body,
                        charset=detect_charset(response_headers.get("content-type"), body) if body else None,
                        redirects=tuple(hops))

    def _send(self, url: str, headers: dict[str, str], deadline: float) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout(f"no response from {url} within {self.deadline:g} s")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            return self.session.get(url, headers=headers, stream=True, allow_redirects=False, timeout=timeout)
        except requests.exceptions.Timeout as exc:
            raise FetchTimeout(f"timed out fetching {url}: {_said(_reason(exc))}") from exc
        except requests.exceptions.SSLError as exc:
            raise ConnectFailed(f"TLS error fetching {url}: {_said(_reason(exc))}") from exc
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            if isinstance(reason, ReadTimeoutError | TimeoutError):
                raise FetchTimeout(f"timed out fetching {url}: {_said(reason)}") from exc
            raise ConnectFailed(f"could not connect to fetch {url}: {_said(reason)}") from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as exc:
            raise FetchError(f"not a URL that can be fetched: {url} ({exc})", code="invalid_url") from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"fetching {url} failed: {_said(_reason(exc))}") from exc

    def _read_body(self, raw: requests.Response, url: str, limit: int, truncate: bool, deadline: float) -> bytes:
        declared = raw.headers.get("Content-Length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"{url} is {int(declared)} bytes, more than the {limit}-byte cap", status=200)
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise FetchTimeout(f"{url} still sending after {self.deadline:g} s")
                # read1: returns what has arrived (≤ one read timeout), so the deadline is checked between reads;
                # sizes count decoded bytes, so a small gzip bomb is stopped as it inflates.
                chunk = raw.raw.read1(_READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    if truncate:
                        parts.append(chunk[: len(chunk) - (size - limit)])
                        break
                    raise ResponseTooLarge(f"{url} sent more than the {limit}-byte cap", status=raw.status_code)
                parts.append(chunk)
        except ReadTimeoutError as exc:
            raise FetchTimeout(f"timed out reading {url}: {exc}") from exc
        except DecodeError as exc:
            raise FetchError(f"could not decode the {raw.headers.get('Content-Encoding')} body of {url}: {exc}",
                             code="bad_encoding", status=raw.status_code) from exc
        except (ProtocolError, OSError) as exc:
            raise ConnectFailed(f"connection broken while reading {url}: {exc}", status=raw.status_code) from exc
        return b"".join(parts)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
