"""Unreachable registries name the cause (issue 15, "Honest status"): a TLS certificate that is
not trusted (and SSL_CERT_FILE), a name that does not resolve, a timeout, a refused
connection — seen through real connections on loopback."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devsync_tui.core.models import PackageManager
from devsync_tui.core.net_errors import network_cause
from devsync_tui.core.registry import RegistryClient

NPM = PackageManager.NPM


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server on loopback with a self-signed certificate (no client trusts it)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(2)
        listener.close()


async def _error(url: str, wait: float = 3.0) -> httpx.HTTPError:
    async with httpx.AsyncClient(timeout=wait) as client:
        with pytest.raises(httpx.HTTPError) as raised:
            await client.get(url)
    return raised.value


async def test_an_untrusted_certificate_names_ssl_cert_file(tls_server: int) -> None:
    exc = await _error(f"https://127.0.0.1:{tls_server}/")
    cause = network_cause(exc, "127.0.0.1")
    assert "TLS certificate of 127.0.0.1 is not trusted" in cause
    assert "SSL_CERT_FILE" in cause


async def test_the_registry_note_carries_the_cause(tls_server: int, tmp_path: Path) -> None:
    urls = dict.fromkeys(PackageManager, f"https://127.0.0.1:{tls_server}")
    result = await RegistryClient(tmp_path / "r.json", urls=urls, timeout=3).lookup(
        [(NPM, "lodash")]
    )
    assert not result.online
    assert result.note is not None
    assert "not trusted" in result.note
    assert "SSL_CERT_FILE" in result.note


async def test_a_name_that_does_not_resolve_says_dns() -> None:
    exc = await _error("http://registry.devsync-test.invalid/")
    assert network_cause(exc, "registry.devsync-test.invalid") == (
        "the name registry.devsync-test.invalid does not resolve (DNS)"
    )


async def test_a_refused_connection_and_a_timeout() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    assert network_cause(await _error(f"http://127.0.0.1:{port}/")) == (
        "the connection was refused"
    )
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        exc = await _error(f"http://127.0.0.1:{silent.getsockname()[1]}/", wait=0.3)
        assert network_cause(exc) == "no answer in time (timeout)"
    finally:
        silent.close()
    await asyncio.sleep(0)
