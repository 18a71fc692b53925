"""The SSRF rules alone: which URLs and addresses the guard refuses (no sockets here)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from archiver.fetch.errors import FetchError, UnsafeURL
from archiver.fetch.guard import Guard, embedded_ipv4, unsafe_reason


class Resolver:
    """A test resolver: fixed answers per name, counting the calls."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown test host {host}")
        return self.answers[host]


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "IETF"),
    ("198.18.0.1", "benchmarking"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:10.0.0.1", "10.0.0.1, private"),
    ("::ffff:127.0.0.1", "127.0.0.1, loopback"),
    ("::ffff:169.254.169.254", "169.254.169.254, link-local"),
    ("::10.0.0.1", "10.0.0.1, private"),
    ("2002:a00:1::", "10.0.0.1, private"),
    ("64:ff9b::a9fe:a9fe", "169.254.169.254, link-local"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1, private"),  # Teredo, client 10.0.0.1
])
def test_unsafe_addresses_are_refused_with_their_reason(address: str, reason: str) -> None:
    found = unsafe_reason(ipaddress.ip_address(address))
    assert found is not None
    assert reason in found


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "2a00:1450:4001:830::200e"])
def test_public_addresses_pass(address: str) -> None:
    assert unsafe_reason(ipaddress.ip_address(address)) is None


def test_embedded_ipv4_forms_are_found() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:10.0.0.1")) == [ipaddress.IPv4Address("10.0.0.1")]
    assert ipaddress.IPv4Address("10.0.0.1") in embedded_ipv4(ipaddress.IPv6Address("2002:a00:1::1"))
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700:4700::1111")) == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_GET",
    "ftp://example.org/file",
    "data:text/html,<p>x</p>",
    "javascript:alert(1)",
    "http:///no-host",
    "//example.org/no-scheme",
    "example.org/no-scheme",
    "http://user:secret@example.org/",
    "http://example.org:99999/",
    "http://example.org:port/",
])
def test_check_url_refuses_anything_but_http_with_a_host(url: str) -> None:
    with pytest.raises(UnsafeURL) as caught:
        Guard().check_url(url)
    assert caught.value.code == "unsafe_url"
    assert caught.value.stage == "fetch"
    assert isinstance(caught.value, FetchError)


@pytest.mark.parametrize("url", ["http://example.org/", "https://example.org:8443/feed?x=1", "HTTPS://EXAMPLE.ORG/"])
def test_check_url_accepts_http_and_https(url: str) -> None:
    Guard().check_url(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "::1", "[::ffff:10.0.0.1]", "169.254.169.254", "0.0.0.0"])
def test_ip_literals_are_checked_without_resolving(host: str) -> None:
    resolver = Resolver({})
    with pytest.raises(UnsafeURL, match="refused to connect"):
        Guard(resolver=resolver).addresses(host, 80)
    assert resolver.calls == []


def test_a_name_resolving_to_a_private_address_is_refused_naming_host_and_address() -> None:
    guard = Guard(resolver=Resolver({"intranet.test": ["10.0.0.1"]}))
    with pytest.raises(UnsafeURL, match=r"intranet\.test \(resolves to 10\.0\.0\.1\): private"):
        guard.addresses("intranet.test", 80)


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    guard = Guard(resolver=Resolver({"mixed.test": ["93.184.216.34", "2606:4700::1", "::ffff:192.168.0.1"]}))
    with pytest.raises(UnsafeURL, match=r"192\.168\.0\.1"):
        guard.addresses("mixed.test", 443)


def test_public_addresses_are_returned_as_resolved_once() -> None:
    resolver = Resolver({"example.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})
    guard = Guard(resolver=resolver)
    assert guard.addresses("example.test", 443) == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert resolver.calls == [("example.test", 443)]


def test_unresolvable_names_raise_gaierror_not_unsafe() -> None:
    with pytest.raises(socket.gaierror):
        Guard(resolver=Resolver({})).addresses("nowhere.test", 80)
    with pytest.raises(socket.gaierror):
        Guard(resolver=Resolver({"empty.test": []})).addresses("empty.test", 80)


def test_allow_list_lets_only_its_networks_through() -> None:
    guard = Guard.from_setting("127.0.0.0/8, 10.1.0.0/16", resolver=Resolver({"lab.test": ["10.1.2.3"]}))
    assert guard.allow == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.1.0.0/16"))
    assert guard.addresses("127.0.0.1", 8080) == ["127.0.0.1"]
    mapped = guard.addresses("[::ffff:127.0.0.1]", 8080)
    assert [ipaddress.ip_address(a) for a in mapped] == [ipaddress.ip_address("::ffff:127.0.0.1")]
    assert guard.addresses("lab.test", 80) == ["10.1.2.3"]
    for host in ("10.2.0.1", "169.254.169.254", "[::1]"):
        with pytest.raises(UnsafeURL):
            guard.addresses(host, 80)


def test_allow_list_is_empty_by_default_and_from_an_empty_setting() -> None:
    assert Guard().allow == ()
    assert Guard.from_setting("").allow == ()
    assert Guard.from_setting(" , ").allow == ()


def test_a_bad_allow_list_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="FETCH_UNSAFE_ALLOW_NETWORKS"):
        Guard.from_setting("127.0.0.0/8,localhost")


@pytest.mark.parametrize("setting", ["0.0.0.0/0", "10.0.0.0/7", "::/0", "2001:db8::/31", "127.0.0.0/8,0.0.0.0/1"])
def test_an_allow_list_wider_than_a_slash_8_or_a_slash_32_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="wider than"):
        Guard.from_setting(setting)


@pytest.mark.parametrize("setting", ["127.0.0.0/8", "10.0.0.0/8", "192.168.1.0/24", "::1/128", "fd00:1::/32",
                                     "127.0.0.0/8,::1/128"])
def test_narrow_or_loopback_networks_are_allowed(setting: str) -> None:
    assert Guard.from_setting(setting).allow


def test_the_setting_is_warned_about_whenever_it_is_set() -> None:
    from archiver.config import Settings

    assert Settings.from_env({}).unsafe_fetch_warning() is None
    warning = Settings.from_env({"FETCH_UNSAFE_ALLOW_NETWORKS": "127.0.0.0/8"}).unsafe_fetch_warning()
    assert "127.0.0.0/8" in warning and "local testing only" in warning.lower()
