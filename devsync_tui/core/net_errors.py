"""Why a request to a server outside (a package registry, OSV, Supabase) did not get an answer,
in words a person can act on: an untrusted TLS certificate (and ``SSL_CERT_FILE``), a name that
does not resolve, a timeout, a refused connection.

httpx reads the environment when a client is made (``trust_env``): the CA bundle in
``SSL_CERT_FILE`` (else the folder in ``SSL_CERT_DIR``) and the proxies in ``HTTPS_PROXY``,
``HTTP_PROXY`` and ``ALL_PROXY``. One it cannot use fails there, before any request, with an
OpenSSL or URL message that names nothing. :func:`http_client` makes every client DevSync uses
and turns that into :class:`NetworkSettingError`, one sentence naming the variable.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx

from devsync_tui.core.urls import without_credentials

#: The CA bundle httpx trusts instead of certifi's, and the folder it reads when no bundle is set.
CA_FILE_VAR = "SSL_CERT_FILE"
CA_DIR_VAR = "SSL_CERT_DIR"


class NetworkSettingError(httpx.TransportError):
    """A variable of the environment that every request goes through (``SSL_CERT_FILE``, a
    proxy) cannot be used, found when the client was made: nothing was sent. The message is one
    sentence naming the variable and what is wrong with it. A ``TransportError``, so that every
    caller that keeps the last known state for a server it cannot reach does so here too."""


def http_client(**options: Any) -> httpx.AsyncClient:
    """``httpx.AsyncClient(**options)``; a TLS or proxy setting it cannot use raises
    :class:`NetworkSettingError` naming the variable (anything else is raised as it is)."""
    try:
        return httpx.AsyncClient(**options)
    except (OSError, ValueError, ImportError, httpx.InvalidURL) as exc:
        problem = setting_problem()
        if problem is None:
            raise
        raise NetworkSettingError(problem) from exc


def setting_problem() -> str | None:
    """What makes an HTTP client impossible to set up from the environment, as httpx reads
    it, in one sentence naming the variable (``SSL_CERT_FILE names /x.pem, which does not
    exist``); None when every setting can be used."""
    cafile = os.environ.get(CA_FILE_VAR)
    if cafile:
        problem = _ca_file_problem(cafile)
        if problem is not None:
            return f"{CA_FILE_VAR} names {cafile}, {problem}"
    for name, value in _proxy_settings():
        problem = _proxy_problem(value)
        if problem is not None:
            return f"{name} names {_shown_proxy(value)}, {problem}"
    return None


def _ca_file_problem(path: str) -> str | None:
    """Why ``path`` is no CA bundle OpenSSL can load, as a relative clause; None if it is."""
    try:
        if os.path.isdir(path):
            return "which is a folder, not a CA bundle file"
        ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        if exc.reason == "NO_CERTIFICATE_OR_CRL_FOUND":
            return "which holds no certificate"
        return f"which is not a CA bundle OpenSSL can read ({exc.reason or exc.strerror or exc})"
    except FileNotFoundError:
        return "which does not exist"
    except PermissionError:
        return "which you may not read"
    except OSError as exc:
        return f"which cannot be read ({exc.strerror or exc})"
    return None


def _proxy_settings() -> Iterator[tuple[str, str]]:
    """(variable, value) of each proxy httpx takes from the environment (``http``, ``https``
    and ``all``, read by urllib: a lowercase variable wins over its uppercase one)."""
    found = urllib.request.getproxies_environment()
    if "*" in (host.strip() for host in found.get("no", "").split(",")):
        return  # NO_PROXY=*: httpx takes no proxy at all
    for scheme in ("https", "http", "all"):
        value = found.get(scheme)
        if value:
            lower = f"{scheme}_proxy"
            spelt = [k for k in os.environ if k.lower() == lower and os.environ[k] == value]
            yield (lower if lower in spelt else spelt[0] if spelt else lower.upper()), value


def _proxy_problem(value: str) -> str | None:
    """Why httpx cannot use ``value`` as a proxy, as a relative clause; None if it can."""
    url = value if "://" in value else f"http://{value}"
    try:
        proxy = httpx.Proxy(url)
    except (ValueError, httpx.InvalidURL):
        return "which is not a proxy URL like http://host:port"
    if proxy.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        return "a SOCKS proxy, which DevSync cannot use without the socksio package"
    return None


def _shown_proxy(value: str) -> str:
    """A proxy setting as it may be shown: without the user and password it may carry."""
    if "://" in value:
        return without_credentials(value)
    return without_credentials(f"http://{value}").removeprefix("http://")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_cause(exc: BaseException, host: str | None = None) -> str:
    """A short phrase for why ``exc`` (an httpx error) happened: what to fix, where known."""
    if isinstance(exc, NetworkSettingError):
        return str(exc)
    chain = list(_chain(exc))
    where = f" {host}" if host else ""
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError) or (
            isinstance(link, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(link)
        ):
            return _untrusted(where or " the server")
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return "the TLS handshake failed"
    for link in chain:
        if (
            isinstance(link, socket.gaierror)
            or "Name or service not known" in str(link)
            or ("Temporary failure in name resolution" in str(link))
        ):
            return f"the name{where} does not resolve (DNS)"
    if any(isinstance(link, httpx.TimeoutException | TimeoutError) for link in chain):
        return "no answer in time (timeout)"
    if any(isinstance(link, ConnectionRefusedError) for link in chain) or any(
        "Connection refused" in str(link) for link in chain
    ):
        return "the connection was refused"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return "the connection failed"


def _untrusted(server: str) -> str:
    """Why the certificate of ``server`` is not trusted, naming the CA setting that was used."""
    cafile = os.environ.get(CA_FILE_VAR)
    if cafile:
        return (
            f"the TLS certificate of{server} is not trusted by the CA bundle in {CA_FILE_VAR} "
            f"({cafile}; behind a proxy or a private CA? that bundle needs its certificate)"
        )
    capath = os.environ.get(CA_DIR_VAR)
    folders = [d for d in (capath or "").split(os.pathsep) if d]
    if folders and not any(os.path.isdir(d) for d in folders):
        exists = any(os.path.exists(d) for d in folders)
        what = "which is not a folder" if exists else "which does not exist"
        return (
            f"the TLS certificate of{server} cannot be checked: {CA_DIR_VAR} names {capath}, {what}"
        )
    return (
        f"the TLS certificate of{server} is not trusted (behind a proxy or a private CA? set "
        f"{CA_FILE_VAR} to its CA bundle)"
    )
