"""SSRF: the client refuses private targets at connect time, on every hop, and nothing is fetched from them.

Real HTTP(S) servers on 127.0.0.1; names come from a test resolver, never from DNS; the autouse
`local_network_only` fixture fails any test that reaches beyond 127.0.0.0/8.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from conftest import OutsideNetworkAttempt
from local_http import LocalHTTPServer, Reply

from archiver.fetch.errors import ConnectFailed, UnsafeURL
from archiver.fetch.guard import Guard, GuardedAdapter
from archiver.fetch.http import HttpClient, user_agent

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


class Resolver:
    """Answers per name, in turn (the last one repeats), and counts the calls."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown test host {host}")
        turns = self.answers[host]
        return turns.pop(0) if len(turns) > 1 else turns[0]


@pytest.fixture
def server() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as running:
        running.route("/", Reply(body=b"secret"))
        yield running


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(guard: Guard, **options: float) -> HttpClient:
        settings = dict(connect_timeout=1.0, read_timeout=2.0, retries=2, backoff=0.0)
        settings.update(options)
        client = HttpClient(guard=guard, user_agent=user_agent("https://example.test/contact"), **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def refused(client: HttpClient, url: str) -> UnsafeURL:
    with pytest.raises(UnsafeURL) as caught:
        client.get(url)
    assert caught.value.code == "unsafe_url" and caught.value.stage == "fetch"
    return caught.value


def test_cloud_metadata_address_is_refused_before_any_connection(make_client, local_network_only) -> None:
    client = make_client(Guard())
    error = refused(client, "http://169.254.169.254/latest/meta-data/")
    assert "169.254.169.254" in str(error) and "link-local" in str(error)
    assert client.requests_made == 0
    assert local_network_only.attempts == []


def test_loopback_is_refused_when_the_allow_list_is_off(make_client, server) -> None:
    client = make_client(Guard())
    error = refused(client, server.url("/"))
    assert "loopback" in str(error)
    assert server.log == []
    assert client.requests_made == 0


def test_loopback_is_fetched_when_the_allow_list_names_it(make_client, server) -> None:
    client = make_client(Guard(allow=LOOPBACK))
    response = client.get(server.url("/"))
    assert response.status == 200 and response.body == b"secret"
    assert server.hits("/") == 1


@pytest.mark.parametrize("url", ["http://[::1]/", "http://[::1]:{port}/", "http://[::ffff:10.0.0.1]/",
                                 "http://[::ffff:127.0.0.1]:{port}/", "http://0.0.0.0:{port}/",
                                 "http://100.64.0.1/", "http://[fd00::1]/"])
def test_ip_literals_of_unsafe_addresses_are_refused(make_client, server, url: str) -> None:
    client = make_client(Guard())
    refused(client, url.format(port=server.port))
    assert server.log == []


def test_a_name_resolving_to_a_private_address_is_refused(make_client, server) -> None:
    resolver = Resolver({"intranet.test": [["10.0.0.1"]]})
    client = make_client(Guard(resolver=resolver))
    error = refused(client, f"http://intranet.test:{server.port}/")
    assert "intranet.test" in str(error) and "10.0.0.1" in str(error)
    assert resolver.calls == ["intranet.test"]
    assert server.log == []


def test_rebinding_cannot_slip_in_one_resolution_and_the_socket_goes_to_the_checked_address(
        make_client, local_network_only) -> None:
    # First answer public, every later one private: a client that resolved twice (check, then connect)
    # would connect to 10.0.0.1. Ours resolves once and connects to what it checked.
    resolver = Resolver({"rebind.test": [["93.184.216.34"], ["10.0.0.1"]]})
    client = make_client(Guard(resolver=resolver), retries=0)
    with pytest.raises(OutsideNetworkAttempt):
        client.get("http://rebind.test/feed.xml")
    assert resolver.calls == ["rebind.test"]
    assert local_network_only.take() == [("connect", "93.184.216.34", 80)]


def test_rebinding_to_an_allowed_address_connects_there_with_the_host_name_kept(make_client, server) -> None:
    # Same trick with an allowed first answer: the request reaches the checked address (our server),
    # resolved once, and the Host header still names the host.
    resolver = Resolver({"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]})
    client = make_client(Guard(allow=LOOPBACK, resolver=resolver))
    response = client.get(f"http://rebind.test:{server.port}/")
    assert response.body == b"secret"
    assert resolver.calls == ["rebind.test"]
    assert [request.headers["host"] for request in server.log] == [f"rebind.test:{server.port}"]


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://intranet.test:{port}/", "http://169.254.169.254/",
                                    "http://[::ffff:192.168.0.1]/", "file:///etc/passwd", "gopher://127.0.0.1:70/"])
def test_a_redirect_from_an_allowed_url_to_a_private_one_is_refused(make_client, server, target: str) -> None:
    resolver = Resolver({"intranet.test": [["10.0.0.1"]]})
    # The allow-list opens 127.0.0.0/8 (the fixture server) only: the hop must still be checked.
    client = make_client(Guard(allow=LOOPBACK, resolver=resolver))
    server.route("/go", Reply(302, headers={"Location": target.format(port=server.port)}))
    refused(client, server.url("/go"))
    assert [request.path for request in server.log] == ["/go"]
    assert client.requests_made == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:70/_GET%20/", "ftp://127.0.0.1/",
                                 "http://user:pw@127.0.0.1/"])
def test_other_schemes_and_credentials_are_refused(make_client, url: str) -> None:
    client = make_client(Guard(allow=LOOPBACK))
    refused(client, url)
    assert client.requests_made == 0


# -- HTTPS: connection to the checked address, while SNI and certificate checks use the host name -------------------


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LocalHTTPServer, Path]]:
    cert, key = _self_signed(tmp_path, "guarded.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with LocalHTTPServer(tls=context) as running:
        running.route("/", Reply(body=b"over tls"))
        yield running, cert


def _guarded_session(guard: Guard) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(guard)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def test_https_connects_to_the_checked_address_and_verifies_the_host_name(tls_server) -> None:
    server, cert = tls_server
    resolver = Resolver({"guarded.test": [["127.0.0.1"]]})
    with _guarded_session(Guard(allow=LOOPBACK, resolver=resolver)) as session:
        response = session.get(f"https://guarded.test:{server.port}/", verify=str(cert), timeout=5)
    assert response.status_code == 200 and response.content == b"over tls"
    assert resolver.calls == ["guarded.test"]
    assert server.log[0].headers["host"] == f"guarded.test:{server.port}"


def test_https_certificate_for_another_name_is_refused(tls_server, make_client) -> None:
    server, cert = tls_server
    resolver = Resolver({"other.test": [["127.0.0.1"]]})
    with _guarded_session(Guard(allow=LOOPBACK, resolver=resolver)) as session, \
            pytest.raises(requests.exceptions.SSLError, match=r"other\.test"):
        session.get(f"https://other.test:{server.port}/", verify=str(cert), timeout=5)
    # The client reports it as a connection failure (its trust store does not know this certificate at all).
    client = make_client(Guard(allow=LOOPBACK, resolver=Resolver({"guarded.test": [["127.0.0.1"]]})), retries=0)
    with pytest.raises(ConnectFailed, match="TLS"):
        client.get(f"https://guarded.test:{server.port}/")
    assert server.log == []


def test_https_to_a_private_address_is_refused_before_the_handshake(tls_server) -> None:
    server, cert = tls_server
    resolver = Resolver({"guarded.test": [["127.0.0.1"]]})
    with _guarded_session(Guard(resolver=resolver)) as session, pytest.raises(UnsafeURL):
        session.get(f"https://guarded.test:{server.port}/", verify=str(cert), timeout=5)
    assert server.log == []
