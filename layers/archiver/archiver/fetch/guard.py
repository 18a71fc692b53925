"""SSRF rules: which URLs may be fetched and which addresses may be connected to.

Checked at connect time, on the addresses the connection then uses: a host is resolved once,
every address it resolves to must be public, and the socket goes to one of those checked
addresses (never to a second resolution), so DNS rebinding cannot slip in between check and
connect. The urllib3 connection classes and the requests adapter that do this live here too;
every redirect hop goes through the same adapter, so each hop is checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import PoolManager
from urllib3.util import connection as urllib3_connection

from archiver.fetch.errors import UnsafeURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")

# Spelled out beside the `is_*` flags because those flags differ between Python patch releases
# (e.g. 192.0.0.0/24 is "global" in 3.11.7) and CGNAT is neither private nor global.
_BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), reason) for net, reason in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MIN_ALLOWED_PREFIX = {4: 8, 6: 32}  # FETCH_UNSAFE_ALLOW_NETWORKS: no network wider than these (loopback aside)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo, TCP), in the resolver's order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64): they reach IPv4 hosts."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if (address in _NAT64 or address in _IPV4_COMPATIBLE) and int(address) > 1:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def unsafe_reason(address: IPAddress) -> str | None:
    """Why connecting to `address` is refused (loopback, private, ...), or None for a public address."""
    for embedded in embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else ():
        reason = unsafe_reason(embedded)
        if reason:
            return f"an IPv6 form of {embedded}, {reason}"
    for network, reason in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    flags = (("loopback", address.is_loopback), ("private", address.is_private),
             ("link-local", address.is_link_local), ("multicast", address.is_multicast),
             ("unspecified", address.is_unspecified), ("reserved", address.is_reserved),
             ("not globally routable", not address.is_global))
    return next((reason for reason, flag in flags if flag), None)


def parse_address(text: str) -> IPAddress | None:
    """An IP literal (brackets and IPv6 zone allowed) as an address, else None (a host name)."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Guard:
    """The SSRF policy: only http(s), only public addresses.

    `allow` lists networks that are reachable despite the rules: for LOCAL TESTING ONLY (a fixture
    server on 127.0.0.1), from the setting FETCH_UNSAFE_ALLOW_NETWORKS; empty by default.
    `resolver` maps (host, port) to addresses; tests pass their own.
    """

    allow: tuple[IPNetwork, ...] = ()
    resolver: Callable[[str, int], list[str]] = system_resolver

    @classmethod
    def from_setting(cls, text: str, *, resolver: Callable[[str, int], list[str]] = system_resolver) -> Guard:
        """A Guard allowing the comma-separated CIDR networks in `text` (FETCH_UNSAFE_ALLOW_NETWORKS).

        Networks wider than a /8 (IPv4) or a /32 (IPv6) are refused, unless they are loopback:
        `0.0.0.0/0` would switch the guard off altogether, which no local test needs.
        """
        try:
            allow = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())
        except ValueError as exc:
            raise ValueError(f"FETCH_UNSAFE_ALLOW_NETWORKS: not a list of CIDR networks: {text!r} ({exc})") from exc
        for network in allow:
            widest = MIN_ALLOWED_PREFIX[network.version]
            if network.prefixlen < widest and not network.is_loopback:
                raise ValueError(f"FETCH_UNSAFE_ALLOW_NETWORKS: {network} is wider than a /{widest}: refused "
                                 f"(it would open the SSRF guard to far more than a local test server)")
        return cls(allow=allow, resolver=resolver)

    def check_url(self, url: str) -> None:
        """Refuse (UnsafeURL) anything but an http(s) URL with a host and no credentials."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
        except ValueError as exc:
            raise UnsafeURL(f"not a valid URL: {url!r} ({exc})") from exc
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise UnsafeURL(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'}: {url!r}")
        if not parts.hostname:
            raise UnsafeURL(f"URL without a host: {url!r}")
        if parts.username is not None or parts.password is not None:
            raise UnsafeURL(f"URL with credentials refused: {parts.scheme}://{parts.hostname}{parts.path}")

    def is_allowed(self, address: IPAddress) -> bool:
        candidates = [address, *(embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else ())]
        return any(c.version == net.version and c in net for c in candidates for net in self.allow)

    def check_address(self, host: str, address: IPAddress) -> None:
        """Refuse (UnsafeURL) connecting to `address` (which `host` resolved to) unless it is public or allowed."""
        if self.is_allowed(address):
            return
        reason = unsafe_reason(address)
        if reason:
            shown = host if host == str(address) else f"{host} (resolves to {address})"
            raise UnsafeURL(f"refused to connect to {shown}: {reason} address")

    def addresses(self, host: str, port: int) -> list[str]:
        """Resolve `host` once and return its addresses, every one checked; UnsafeURL if any is unsafe.

        An IP literal is checked as it is, without resolving. Resolution errors (socket.gaierror)
        propagate; an empty answer is one.
        """
        literal = parse_address(host)
        if literal is not None:
            self.check_address(host, literal)
            return [str(literal)]
        resolved = self.resolver(host, port)
        if not resolved:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} resolves to no address")
        for text in resolved:
            address = parse_address(text)
            if address is None:
                raise socket.gaierror(socket.EAI_FAIL, f"{host} resolved to {text!r}, not an address")
            # ANY unsafe address refuses the host: a name that also points inside is not fetched at all.
            self.check_address(host, address)
        return resolved


class _GuardedConnectionMixin:
    """`_new_conn` connects to an address the guard checked; `host` (Host header, SNI, certificate) stays the name."""

    guard: Guard
    on_request: Callable[[dict[str, str], Any], None] | None

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        try:
            addresses = self.guard.addresses(conn.host, conn.port)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        last_error: OSError | None = None
        for address in addresses:
            try:
                # A numeric address: create_connection's getaddrinfo does not query DNS for it.
                return urllib3_connection.create_connection(
                    (address, conn.port), conn.timeout, source_address=conn.source_address,
                    socket_options=conn.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    conn, f"Connection to {conn.host} ({address}) timed out. (connect timeout={conn.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(conn, f"Failed to establish a new connection to {conn.host}: {last_error}")

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        super().request(method, url, body=body, headers=headers, **kwargs)  # type: ignore[misc]
        if self.on_request is not None:  # counted once written: a refused connection sends nothing
            self.on_request(dict(headers or {}), self)


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    def __init__(self, *args: Any, guard: Guard, on_request: Callable[[dict[str, str], Any], None] | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.on_request = on_request


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    def __init__(self, *args: Any, guard: Guard, on_request: Callable[[dict[str, str], Any], None] | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.on_request = on_request


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedPoolManager(PoolManager):
    """A PoolManager whose pools make guarded connections (the guard reaches them through conn_kw)."""

    def __init__(self, *args: Any, guard: Guard, on_request: Callable[[dict[str, str], Any], None] | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.on_request = on_request
        self.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}

    def _new_pool(self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None) -> Any:
        if scheme not in self.pool_classes_by_scheme:
            raise UnsafeURL(f"only http and https URLs are fetched, not {scheme}")
        pool = super()._new_pool(scheme, host, port, request_context)
        # Not part of the pool key (it is the same for every pool of this manager), so set after creation.
        pool.conn_kw.update(guard=self.guard, on_request=self.on_request)
        return pool


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose every connection, first request and redirect hop alike, is checked by `guard`.

    `on_request(headers, connection)` is called for each request written to the wire (retries included),
    before its response is read: the connection is the one whose socket the response will come from.
    Proxies are refused: a proxy would make the connection, out of the guard's sight.
    """

    def __init__(self, guard: Guard, *, on_request: Callable[[dict[str, str], Any], None] | None = None,
                 **kwargs: Any):
        self.guard = guard
        self.on_request = on_request
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = GuardedPoolManager(num_pools=connections, maxsize=maxsize, block=block,
                                              guard=self.guard, on_request=self.on_request, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise UnsafeURL(f"fetching through a proxy is refused (the guard could not check the target): {proxy}")

