"""Unreachable registries name the cause (issue 15, "Honest status"): a TLS certificate that is
not trusted (and SSL_CERT_FILE), a name that does not resolve, a timeout, a refused
connection — seen through real connections on loopback. A TLS or proxy setting httpx cannot use
(SSL_CERT_FILE naming no CA bundle, a proxy URL it cannot take) is one sentence naming the
variable, and the server counts as unreachable (the last known state is kept)."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devsync_tui.core.advisories import AdvisoryDetails
from devsync_tui.core.models import PackageManager
from devsync_tui.core.net_errors import (
    NetworkSettingError,
    http_client,
    network_cause,
    setting_problem,
)
from devsync_tui.core.osv import OsvClient
from devsync_tui.core.registry import RegistryClient
from devsync_tui.core.wanted import lookup_wanted

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


# -- settings of the environment that httpx reads when a client is made ----------------------
#: Every proxy variable httpx reads (through urllib), cleared so the machine's own do not count.
_PROXY_VARS = [f"{s}_proxy" for s in ("http", "https", "all", "no")]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*_PROXY_VARS, *(v.upper() for v in _PROXY_VARS), "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _bad_ca_files(tmp_path: Path) -> list[tuple[str, str]]:
    not_a_certificate = tmp_path / "notes.pem"
    not_a_certificate.write_text("hello\n")
    return [
        ("/nonexistent.pem", "SSL_CERT_FILE names /nonexistent.pem, which does not exist"),
        (
            str(not_a_certificate),
            f"SSL_CERT_FILE names {not_a_certificate}, which holds no certificate",
        ),
        (str(tmp_path), f"SSL_CERT_FILE names {tmp_path}, which is a folder, not a CA bundle file"),
    ]


def test_a_ca_bundle_that_cannot_be_loaded_is_named(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # httpx loads it when the client is made: OpenSSL's "[X509: NO_CERTIFICATE_OR_CRL_FOUND]"
    # or a bare "No such file or directory" named nothing.
    for value, sentence in _bad_ca_files(tmp_path):
        clean_env.setenv("SSL_CERT_FILE", value)
        assert setting_problem() == sentence
        with pytest.raises(NetworkSettingError) as raised:
            http_client()
        assert str(raised.value) == sentence
        assert network_cause(raised.value, "registry.npmjs.org") == sentence
    clean_env.setenv("SSL_CERT_FILE", ssl.get_default_verify_paths().openssl_cafile)
    if Path(ssl.get_default_verify_paths().openssl_cafile).is_file():
        assert setting_problem() is None


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        (
            "HTTPS_PROXY",
            "ftp://proxy.example:21",
            "HTTPS_PROXY names ftp://proxy.example:21, which is not a proxy URL like "
            "http://host:port",
        ),
        (
            "https_proxy",
            "http://me:hunter2@proxy.example:::",
            "https_proxy names http://proxy.example:::, which is not a proxy URL like "
            "http://host:port",
        ),
        (
            "ALL_PROXY",
            "socks5://proxy.example:1080",
            "ALL_PROXY names socks5://proxy.example:1080, a SOCKS proxy, which DevSync cannot use "
            "without the socksio package",
        ),
    ],
)
def test_a_proxy_that_cannot_be_used_is_named_without_its_password(
    clean_env: pytest.MonkeyPatch, name: str, value: str, sentence: str
) -> None:
    if name == "ALL_PROXY" and importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed: a SOCKS proxy can be used")
    clean_env.setenv(name, value)
    with pytest.raises(NetworkSettingError) as raised:
        http_client()
    assert str(raised.value) == sentence
    assert "hunter2" not in str(raised.value)


async def test_osv_and_the_registries_keep_the_last_known_state_and_say_why(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("SSL_CERT_FILE", "/nonexistent.pem")
    why = "SSL_CERT_FILE names /nonexistent.pem, which does not exist"
    osv = await OsvClient(tmp_path / "osv.json", url="https://osv.example/v1/querybatch").lookup(
        [(NPM, "lodash", "4.17.20")]
    )
    assert not osv.online
    assert osv.note == (
        f"OSV is unreachable ({why}); kept the last known state (0 of 1 packages from the "
        "local cache)."
    )
    urls = dict.fromkeys(PackageManager, "https://registry.example")
    registry = await RegistryClient(tmp_path / "r.json", urls=urls).lookup(
        [(NPM, "lodash"), (PackageManager.PIP, "requests")]
    )
    assert not registry.online
    assert registry.note == (
        f"Could not reach the npm registry (https://registry.example): {why}; and PyPI "
        f"(https://registry.example): {why}; keeping the last known state (0 of 2 packages "
        "from the local cache)."
    )
    wanted = await lookup_wanted([(NPM, "lodash", "^4.17.0")])
    assert wanted.wanted == {}
    assert wanted.note == (
        f"Could not read the releases on the npm registry ({why}); wanted versions kept as "
        "last known."
    )
    details = await AdvisoryDetails(
        tmp_path / "a.json", url="https://osv.example/v1/vulns/"
    ).lookup(["GHSA-35jh-r3h4-6jhm"])
    assert details.note == f"OSV is unreachable ({why}); advisory details are from the local cache."


async def test_a_missing_ca_folder_is_named_when_a_certificate_cannot_be_checked(
    clean_env: pytest.MonkeyPatch, tls_server: int
) -> None:
    # SSL_CERT_DIR is read at the handshake (OpenSSL skips a folder that is not there).
    clean_env.setenv("SSL_CERT_DIR", "/nonexistent")
    exc = await _error(f"https://127.0.0.1:{tls_server}/")
    assert network_cause(exc, "127.0.0.1") == (
        "the TLS certificate of 127.0.0.1 cannot be checked: SSL_CERT_DIR names /nonexistent, "
        "which does not exist"
    )


async def test_the_supabase_transports_say_it_as_unreachable(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from devsync_tui.backend.errors import Unavailable
    from devsync_tui.backend.supabase import auth
    from devsync_tui.backend.supabase.machine import SupabaseMachineCalls
    from devsync_tui.backend.supabase.session import SessionStorage
    from devsync_tui.core.machine_token import MachineToken

    clean_env.setenv("SSL_CERT_FILE", "/nonexistent.pem")
    sentence = (
        "The Supabase project cannot be reached: SSL_CERT_FILE names /nonexistent.pem, which "
        "does not exist."
    )
    calls = SupabaseMachineCalls("https://x.supabase.co", "anon", MachineToken("dsm_x", "test"))
    with pytest.raises(Unavailable) as raised:
        await calls.open()
    assert str(raised.value) == sentence
    storage = SessionStorage("https://x.supabase.co", use_keyring=False, path=tmp_path / "s.json")
    with pytest.raises(Unavailable) as raised:
        await auth.create_client("https://x.supabase.co", "anon", storage)
    assert str(raised.value) == sentence
