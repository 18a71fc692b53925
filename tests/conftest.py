"""Shared fixtures: the repository root, the shared seed files, and the embedded local AWS.

The local AWS is moto's server on 127.0.0.1 with the resources of template.yaml (see
archiver.local.stack): integration tests talk to it over HTTP with ordinary boto3 clients.
moto keeps its state per process, so one stack serves the whole session; tests that need an
empty stack ask for `clean_aws`, the others use fresh keys and ids. Note that moto's in-process
`mock_aws` also resets that process-wide state: do not mix it with these fixtures in one test.

No test reaches the network: `local_network_only` (autouse) refuses every connection and name
lookup outside 127.0.0.0/8 and fails the test that tried.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[1]
# Posts' images are not fetched from the web in tests (no test reaches beyond 127.0.0.1): media jobs archive
# only what dropped bundles hold. The media tests turn it on for their own local servers.
os.environ["REMOTE_MEDIA"] = "false"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root directory (where template.yaml lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def seed_dir(repo_root: Path) -> Path:
    """../shared/seed beside the checkout; the test is skipped when it is absent (e.g. a bare clone)."""
    path = repo_root.parent / "shared" / "seed"
    if not path.is_dir():
        pytest.skip(f"no seed files: {path} is absent")
    return path


@pytest.fixture(scope="session")
def local_aws(repo_root: Path) -> Iterator[LocalAWS]:
    """A started LocalAWS with template.yaml's resources created, shared by the whole session.

    `local_aws.resources` has the bucket, table and queue names and the function's environment;
    `local_aws.endpoint_url` is the server's http://127.0.0.1:PORT. While it runs, os.environ
    points boto3 at it (AWS_ENDPOINT_URL, dummy credentials, us-east-1); restored at session end.
    """
    with LocalAWS(repo_root / "template.yaml") as aws:
        aws.create_resources()
        yield aws


@pytest.fixture
def clean_aws(local_aws: LocalAWS) -> LocalAWS:
    """The session's LocalAWS, emptied and its resources created again for this test (~0.5 s)."""
    local_aws.reset()
    return local_aws


class OutsideNetworkAttempt(RuntimeError):
    """Raised where a test tried to reach beyond 127.0.0.0/8 (not an OSError: no retry loop may swallow it)."""


class NetworkAttempts:
    """What the tests tried to reach outside 127.0.0.0/8: ("connect", host, port) or ("resolve", name)."""

    def __init__(self) -> None:
        self.attempts: list[tuple[Any, ...]] = []

    def take(self) -> list[tuple[Any, ...]]:
        """The attempts so far, forgotten: a test that provokes one on purpose takes it and asserts on it."""
        taken, self.attempts = self.attempts, []
        return taken

    def refuse(self, attempt: tuple[Any, ...]) -> None:
        self.attempts.append(attempt)
        raise OutsideNetworkAttempt(f"test tried to reach the network outside 127.0.0.0/8: {attempt}")


def _address(host: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((host.decode() if isinstance(host, bytes) else str(host)).split("%", 1)[0])
    except ValueError:
        return None


def _is_local(host: Any) -> bool:
    if host in (None, "localhost", b"localhost"):
        return True
    address = _address(host)
    return address is not None and address.version == 4 and address in ipaddress.ip_network("127.0.0.0/8")


@pytest.fixture(autouse=True)
def local_network_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkAttempts]:
    """Make any connection (or DNS lookup) beyond 127.0.0.0/8 fail the test; Unix sockets are fine.

    The attempt raises OutsideNetworkAttempt where it happens and is recorded; a test that
    recorded one fails at teardown even if the code under test swallowed the error, unless the
    test took it (`local_network_only.take()`) to assert on it.
    """
    recorder = NetworkAttempts()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            recorder.refuse(("connect", address[0], address[1]))

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _is_local(address[0]):
            recorder.refuse(("connect", address[0], address[1]))
        return real_create_connection(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # A numeric address needs no DNS (its connect is checked above); any other name but localhost would.
        if not _is_local(host) and _address(host) is None:
            recorder.refuse(("resolve", host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield recorder
    if recorder.attempts:
        pytest.fail(f"the test tried to reach the network outside 127.0.0.0/8: {recorder.attempts}")
