"""Why a request to a server outside (a package registry, OSV) did not get an answer, in
words a person can act on: an untrusted TLS certificate (and ``SSL_CERT_FILE``), a name that
does not resolve, a timeout, a refused connection."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import httpx


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_cause(exc: BaseException, host: str | None = None) -> str:
    """A short phrase for why ``exc`` (an httpx error) happened: what to fix, where known."""
    chain = list(_chain(exc))
    where = f" {host}" if host else ""
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError) or (
            isinstance(link, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(link)
        ):
            return (
                f"the TLS certificate of{where or ' the server'} is not trusted (behind a proxy "
                "or a private CA? set SSL_CERT_FILE to its CA bundle)"
            )
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
