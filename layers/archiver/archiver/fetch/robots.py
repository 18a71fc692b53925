"""robots.txt (RFC 9309), parsed by protego and cached per origin for the life of one cache (one job).

Three corrections go before protego, where it differs from RFC 9309 (and from Google's reference
parser, google/robotstxt): the file is decoded as UTF-8 with its byte order mark dropped (2.3: UTF-8;
a BOM otherwise glues itself to the first line's field, and `\ufeffUser-Agent` is no user-agent);
a line whose field is no known record is dropped, so that it cannot end a group (2.2.4: other
records MUST NOT interfere with the parsing of the defined ones: `User-agent: A`, an unknown line,
`User-agent: *` make one group of A and *); a user-agent value is read up to its first space,
case-insensitively (2.2.1: a product token has no spaces; `User-Agent: FOO BAR` is the group of Foo).

Fetched with the same HttpClient (guarded, capped, redirects followed up to its cap):
4xx means no rules (allow all), 5xx or an unreachable server means disallow all for this run,
a body over 500 KiB is cut at the last full line, and UnsafeURL is raised, not turned into a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from archiver.fetch.errors import FetchError, FetchTimeout, HttpError, RobotsDisallowed, TooManyRedirects, UnsafeURL
from archiver.fetch.http import HttpClient

AGENT = "PostArchiver"
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """scheme://host[:port] of `url`, lower-case, default port left out: the key robots.txt rules apply to."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class Robots:
    """The robots.txt rules of one origin as they apply to `agent`."""

    agent: str = AGENT
    parser: Protego | None = None  # None: no rules
    disallow_all: bool = False
    reason: str = ""  # how the rules were obtained, e.g. "robots.txt answered 404: no rules"
    text: str | None = None  # the robots.txt as fetched ("" for no file): what a RobotsStore keeps

    @classmethod
    def from_text(cls, text: str, agent: str = AGENT, reason: str = "") -> Robots:
        return cls(agent, parser=Protego.parse(rfc9309_records(text)) if text else None, reason=reason, text=text)

    def allowed(self, url: str) -> bool:
        if urlsplit(url).path == "/robots.txt":
            return True  # RFC 9309 2.2.2: implicitly allowed
        if self.disallow_all:
            return False
        return self.parser is None or self.parser.can_fetch(url, self.agent)

    @property
    def crawl_delay(self) -> float | None:
        """Seconds to wait between requests: Crawl-delay, or Request-rate (n/Ts -> T/n s), the longer of the two."""
        if self.parser is None:
            return None
        delays = []
        delay = self.parser.crawl_delay(self.agent)
        if delay is not None:
            delays.append(float(delay))
        rate = self.parser.request_rate(self.agent)
        if rate is not None and rate.requests:
            delays.append(rate.seconds / rate.requests)
        return max(delays) if delays else None


class RobotsStore(Protocol):
    """Where fetched robots.txt files outlive a job: the archive table (see SourceStore)."""

    def load_robots(self, origin: str, max_age: float) -> tuple[str, str] | None: ...

    def save_robots(self, origin: str, text: str, reason: str) -> None: ...


class RobotsCache:
    """robots.txt rules per origin, each fetched at most once in the cache's life (make one per job).

    With a `store`, a robots.txt fetched by any worker within `max_age` seconds (a day, as RFC 9309
    allows) is reused instead of fetched again; rules that only hold for one run (disallow all after
    a 5xx or an unreachable server) are never stored.
    """

    def __init__(self, client: HttpClient, agent: str = AGENT, *, store: RobotsStore | None = None,
                 max_age: float = 24 * 3600):
        self.client = client
        self.agent = agent
        self.store = store
        self.max_age = max_age
        self._rules: dict[str, Robots] = {}

    def rules(self, url: str, *, within: float | None = None) -> Robots:
        """The rules for `url`'s origin (fetched now if not yet); UnsafeURL when the origin may not be reached.

        `within`: the caller's time left; a fetch it cuts short raises its FetchTimeout (nothing cached).
        """
        origin = origin_of(url)
        if origin not in self._rules:
            stored = self.store.load_robots(origin, self.max_age) if self.store else None
            if stored is not None:
                self._rules[origin] = Robots.from_text(stored[0], self.agent, reason=stored[1])
            else:
                robots = self._rules[origin] = self._fetch(origin, within)
                if self.store and robots.text is not None:
                    self.store.save_robots(origin, robots.text, robots.reason)
        return self._rules[origin]

    def ensure_allowed(self, url: str, *, within: float | None = None) -> Robots:
        """The rules for `url`, or RobotsDisallowed when they forbid fetching it."""
        robots = self.rules(url, within=within)
        if not robots.allowed(url):
            reason = f" ({robots.reason})" if robots.reason else ""
            raise RobotsDisallowed(f"robots.txt of {origin_of(url)} disallows {url} for {self.agent}{reason}")
        return robots

    def _fetch(self, origin: str, within: float | None = None) -> Robots:
        robots_url = f"{origin}/robots.txt"
        try:
            response = self.client.get(robots_url, accept="text/plain, */*;q=0.1", max_bytes=MAX_ROBOTS_BYTES,
                                       truncate=True, within=within)
        except UnsafeURL:
            raise
        except FetchTimeout as exc:
            if exc.caller_deadline:  # the caller's time is up: no verdict on the host
                raise
            return Robots(self.agent, disallow_all=True,
                          reason=f"robots.txt unreachable ({exc.code}): nothing allowed in this run")
        except HttpError as exc:
            # 429 is a 4xx but says "too fast", not "no file": treated like 5xx, as the big crawlers do.
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return Robots(self.agent, reason=f"robots.txt answered {exc.status}: no rules", text="")
            return Robots(self.agent, disallow_all=True,
                          reason=f"robots.txt answered {exc.status}: nothing allowed in this run")
        except TooManyRedirects:
            return Robots(self.agent, reason="robots.txt redirects too often: treated as unavailable, no rules")
        except FetchError as exc:
            return Robots(self.agent, disallow_all=True,
                          reason=f"robots.txt unreachable ({exc.code}): nothing allowed in this run")
        body = response.body
        if len(body) >= MAX_ROBOTS_BYTES and b"\n" in body:
            body = body[: body.rindex(b"\n") + 1]  # never half a rule
        return Robots.from_text(body.decode("utf-8-sig", errors="replace"), self.agent,
                                reason=f"robots.txt from {response.final_url}")


# Every field protego reads (its spellings and misspellings included); a line with another field is dropped.
KNOWN_FIELDS = frozenset((
    "user-agent", "useragent", "user agent", "allow", "disallow", "dissallow", "dissalow", "disalow", "diasllow",
    "disallaw", "sitemap", "sitemaps", "site-map", "crawl-delay", "crawl delay", "request-rate", "request rate",
    "visit-time", "visit time", "host",
))
_USER_AGENT_FIELDS = frozenset(("user-agent", "useragent", "user agent"))


def rfc9309_records(text: str) -> str:
    """robots.txt as protego should read it under RFC 9309: no BOM, no unknown records, product tokens only."""
    lines = []
    for line in text.removeprefix("\ufeff").splitlines():
        record = line.split("#", 1)[0]
        if ":" in record:
            field, value = (part.strip() for part in record.split(":", 1))
            field = field.lower()
            if field not in KNOWN_FIELDS:
                continue  # an unknown record: it must not end the group it stands in
            if field in _USER_AGENT_FIELDS and value:
                line = f"User-agent: {value.split()[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"
