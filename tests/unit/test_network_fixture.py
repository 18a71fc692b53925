"""The autouse `local_network_only` fixture: reaching beyond 127.0.0.0/8 fails; loopback and Unix sockets work."""

from __future__ import annotations

import socket

import pytest


def test_connections_outside_loopback_are_refused_and_recorded(local_network_only) -> None:
    with pytest.raises(RuntimeError, match=r"outside 127\.0\.0\.0/8"):
        socket.create_connection(("10.0.0.1", 80), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(RuntimeError):
        sock.connect(("93.184.216.34", 443))
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(RuntimeError):
        sock.connect_ex(("2606:4700::1", 443))
    with pytest.raises(RuntimeError):
        socket.getaddrinfo("example.org", 80)
    assert local_network_only.take() == [
        ("connect", "10.0.0.1", 80), ("connect", "93.184.216.34", 443), ("connect", "2606:4700::1", 443),
        ("resolve", "example.org"),
    ]


def test_loopback_and_unix_sockets_are_allowed(local_network_only, tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname(), timeout=1):
            pass
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
    assert socket.getaddrinfo("localhost", 80)
    assert local_network_only.attempts == []
