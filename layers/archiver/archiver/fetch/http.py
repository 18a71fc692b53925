"""The HTTP client: one requests Session, guarded connections, transient retries, caps and conditional GET.

`HttpClient.get(url, validators=...)` returns a `Response` (2xx, or 304 when the validators still
match) or raises a FetchError subclass saying what went wrong; it never returns an error status.
"""

from __future__ import annotations

import codecs
import email.utils
import re
import time
from collections.abc import Callable, Mapping
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
from archiver.fetch.watchdog import Watchdog

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
MAX_RETRY_AFTER = 24 * 3600  # seconds: the longest a server's Retry-After may push a source back


def user_agent(contact: str = DEFAULT_CONTACT_URL, version: str = VERSION) -> str:
    """The User-Agent header: the project's name and version and where to reach its operator."""
    return USER_AGENT_TEMPLATE.format(version=version, contact=contact or DEFAULT_CONTACT_URL)


def requested_retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header (delta-seconds or HTTP-date) asks for, uncapped; None when absent or unreadable.

    Never raises: a number too large for a date or a year-9999 date is just a long wait (inf at worst).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 10**18))  # float() of a 400-digit number would overflow
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # an HTTP-date is GMT; parsedate_to_datetime leaves "-0000" naive
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def parse_retry_after(value: str | None, cap: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds to wait from a Retry-After header, at most `cap` (a day): a server cannot park a source for years."""
    wanted = requested_retry_after(value)
    return None if wanted is None else min(wanted, cap)


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
    """urllib3 Retry that waits out a Retry-After only up to `max_wait`, and never past the request's deadline.

    A longer wait ends the retries at once: the response goes back to the client, which raises
    HttpError with `retry_after` so the caller can push the source's next-due time instead.
    `remaining()` gives the seconds left for the request (None: no request in flight).
    """

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})
    max_wait: float = 10.0
    remaining: Callable[[], float | None] | None = None

    def new(self, **kw: Any) -> _TransientRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        retry.remaining = self.remaining
        return retry

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> _TransientRetry:
        asked = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        if asked is not None and asked > self.max_wait:
            too_long = ResponseError(f"Retry-After {asked:g} s is longer than {self.max_wait:g} s")
            raise MaxRetryError(_pool, url, too_long)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        left = self.remaining() if self.remaining is not None else None
        wait = asked if asked is not None else retry.get_backoff_time()
        if left is not None and wait >= left:  # the retry could not even start before the deadline
            raise MaxRetryError(_pool, url, error or ResponseError(f"no time left to retry after {wait:g} s"))
        return retry


def _release(raw: requests.Response, *, reuse: bool) -> None:
    """Done with a response. When it went well, read a small unread rest (redirect, 304, error page) so
    the kept-alive connection goes back to the pool; the request's watchdog is still armed, so a
    dripping rest is cut at the deadline. After an error, or for a large or unknown rest, close it."""
    declared = raw.headers.get("Content-Length", "").strip()
    if reuse and (raw.status_code == 304 or (declared.isdigit() and int(declared) <= _DRAIN_BYTES)):
        raw.raw.drain_conn()  # urllib3 ignores errors here: at worst the connection is not reused
    raw.close()


def _send_error(url: str, exc: requests.exceptions.RequestException) -> FetchError:
    """The FetchError for a request that got no response."""
    if isinstance(exc, requests.exceptions.Timeout):
        return FetchTimeout(f"timed out fetching {url}: {_said(_reason(exc))}")
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectFailed(f"TLS error fetching {url}: {_said(_reason(exc))}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = _reason(exc)
        if isinstance(reason, ReadTimeoutError | TimeoutError):
            return FetchTimeout(f"timed out fetching {url}: {_said(reason)}")
        return ConnectFailed(f"could not connect to fetch {url}: {_said(reason)}")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema
                  | requests.exceptions.MissingSchema):
        return FetchError(f"not a URL that can be fetched: {url} ({exc})", code="invalid_url")
    return FetchError(f"fetching {url} failed: {_said(_reason(exc))}")


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
    `deadline` bounds one `get` as a whole, from connecting to the last byte and the connection's
    clean-up (see `watchdog`): a server dripping bytes never extends it.
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
        self._watchdog = Watchdog()

        retry = _TransientRetry(
            total=retries, connect=retries, status=retries, read=False, other=False, redirect=False,
            allowed_methods=frozenset({"GET", "HEAD"}), status_forcelist=TRANSIENT_STATUSES,
            backoff_factor=backoff, backoff_max=max_retry_wait, retry_after_max=int(max_retry_wait),
            respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        )
        retry.max_wait = max_retry_wait
        retry.remaining = self._watchdog.remaining
        adapter = GuardedAdapter(guard, on_request=self._on_request, max_retries=retry)
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

    def _on_request(self, headers: dict[str, str], connection: Any) -> None:
        self._watchdog.attach(connection)  # the response is read from this connection: the watchdog guards it
        self.requests_made += 1
        if any(name.lower() in ("if-none-match", "if-modified-since") for name in headers):
            self.conditional_requests += 1

    def get(self, url: str, *, validators: Validators | None = None, accept: str | None = None,
            max_bytes: int | None = None, truncate: bool = False, within: float | None = None) -> Response:
        """GET `url`, following up to `max_redirects` redirects, every hop checked by the guard.

        `validators` make it a conditional GET (a 304 comes back as a Response with an empty body).
        `max_bytes` overrides the client's cap for this call; `truncate` keeps the first `max_bytes`
        instead of raising ResponseTooLarge (robots.txt). `within` (seconds) shortens the request's
        deadline, e.g. to what is left of the invocation. Raises a FetchError subclass otherwise.
        """
        seconds = self.deadline if within is None else min(self.deadline, within)
        caller_limited = within is not None and within < self.deadline
        if seconds <= 0:
            timeout = FetchTimeout(f"no time left to fetch {url}")
            timeout.caller_deadline = True
            raise timeout
        at = time.monotonic() + seconds
        self._watchdog.arm(at)
        try:
            return self._get(url, validators, accept, max_bytes, truncate, seconds)
        except FetchTimeout as exc:
            exc.caller_deadline = caller_limited and time.monotonic() >= at - 0.05
            raise
        finally:
            self._watchdog.disarm()

    def _get(self, url: str, validators: Validators | None, accept: str | None, max_bytes: int | None,
             truncate: bool, seconds: float) -> Response:
        headers = {"Accept": accept} if accept else {}
        if validators:
            headers.update(validators.request_headers())
        hops: list[tuple[int, str]] = []
        current = url
        while True:
            self.guard.check_url(current)
            raw = self._send(current, headers, seconds)
            location = raw.headers.get("Location") if raw.status_code in REDIRECT_STATUSES else None
            if not location:
                break
            _release(raw, reuse=not self._watchdog.expired)
            target = urljoin(current, location.strip())
            hops.append((raw.status_code, target))
            if target == url or any(target == seen for _, seen in hops[:-1]):
                raise TooManyRedirects(f"redirect loop from {url} back to {target}", status=raw.status_code)
            if len(hops) > self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects from {url}", status=raw.status_code)
            current = target
        reuse = False
        try:
            status = raw.status_code
            if status == 304:
                body = b""
            elif not 200 <= status < 300:
                header = raw.headers.get("Retry-After")
                retry_after, asked = parse_retry_after(header), requested_retry_after(header)
                wait = f" (Retry-After {asked:g} s" if asked is not None else ""
                wait += ", capped at a day)" if asked is not None and asked > MAX_RETRY_AFTER else (")" if wait else "")
                reuse = True
                raise HttpError(f"HTTP {status} {raw.reason or 'error'} from {current}{wait}",
                                status=status, retry_after=retry_after,
                                retry_after_capped=asked is not None and asked > MAX_RETRY_AFTER)
            else:
                limit = self.max_bytes if max_bytes is None else max_bytes
                body = self._read_body(raw, current, limit, truncate, seconds)
            reuse = True
        finally:
            _release(raw, reuse=reuse and not self._watchdog.expired)
        response_headers = {name.lower(): value for name, value in raw.headers.items()}
        return Response(url=url, final_url=current, status=status, headers=response_headers, body=body,
                        charset=detect_charset(response_headers.get("content-type"), body) if body else None,
                        redirects=tuple(hops))

    def _timed_out(self, url: str, seconds: float) -> FetchTimeout | None:
        """The error to raise instead of whatever the watchdog's shutdown caused, once it has fired."""
        if self._watchdog.expired:
            return FetchTimeout(f"{url} not fetched within {seconds:g} s (the request's deadline)")
        return None

    def _send(self, url: str, headers: dict[str, str], seconds: float) -> requests.Response:
        remaining = self._watchdog.remaining() or 0.0
        if remaining <= 0:
            raise FetchTimeout(f"no response from {url} within {seconds:g} s")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            return self.session.get(url, headers=headers, stream=True, allow_redirects=False, timeout=timeout)
        except requests.exceptions.RequestException as exc:
            raise (self._timed_out(url, seconds) or _send_error(url, exc)) from exc

    def _read_body(self, raw: requests.Response, url: str, limit: int, truncate: bool, seconds: float) -> bytes:
        declared = raw.headers.get("Content-Length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"{url} is {int(declared)} bytes, more than the {limit}-byte cap", status=200)
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                # read1: returns what has arrived (within one read timeout); the watchdog cuts a dripping body
                # at the deadline. Sizes count decoded bytes, so a small gzip bomb is stopped as it inflates.
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
            raise (self._timed_out(url, seconds) or FetchTimeout(f"timed out reading {url}: {exc}")) from exc
        except DecodeError as exc:
            raise (self._timed_out(url, seconds) or FetchError(
                f"could not decode the {raw.headers.get('Content-Encoding')} body of {url}: {exc}",
                code="bad_encoding", status=raw.status_code)) from exc
        except (ProtocolError, OSError) as exc:
            raise (self._timed_out(url, seconds) or ConnectFailed(
                f"connection broken while reading {url}: {exc}", status=raw.status_code)) from exc
        timed_out = self._timed_out(url, seconds)  # the shutdown reads as the end of the body: not a short body
        if timed_out:
            raise timed_out
        return b"".join(parts)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
