"""Mutual TLS: ``ssl.SSLContext`` builders for both ends, and the peer certificate a server
hands to :meth:`apisig.Verifier.verify_certificate` (or to the middleware's ``mtls=`` modes).

The TLS library checks the chain (the CA bundle); apisig then checks that the certificate is
one *exchanged beforehand*, pinned to a registered client by its SHA-256 fingerprint. With an
:class:`apisig.ocsp.OcspChecker` (the middleware's ``ocsp=``) the CA's OCSP responder is asked
whether the certificate was revoked; CRLs are not checked.

Getting the peer certificate to the application:

* **ASGI**: the standard ``"tls"`` scope extension (``scope["extensions"]["tls"]
  ["client_cert_chain"]``, PEM strings), read by :func:`asgi_peer_certificate`. Servers that
  provide it (Hypercorn, Granian) need nothing more. uvicorn does not: run it with
  ``http=uvicorn_protocol()``, an ``h11`` protocol that adds the extension from the TLS
  connection, and ``ssl_context_factory=`` returning :func:`server_context`'s context::

      ctx = apisig.tls.server_context("server.pem", "server.key", ca="clients-ca.pem")
      uvicorn.Config(app, ssl_context_factory=lambda config, default: ctx,
                     http=apisig.tls.uvicorn_protocol())

* **WSGI**: ``environ["SSL_CLIENT_CERT"]`` (PEM), read by :func:`wsgi_peer_certificate`.
  werkzeug's server sets it when run with ``ssl_context=`` (``make_server(...,
  ssl_context=ctx)`` or ``app.run(ssl_context=ctx)``); Apache mod_wsgi sets it with
  ``SSLOptions +ExportCertData``. Behind a TLS-terminating proxy, have the proxy pass the
  certificate in a header only it can set and read that instead.

With ``require_client_cert=True`` (``CERT_REQUIRED``) a client without a certificate fails the
handshake; in TLS 1.3 the client only notices on its first read (httpx raises a
``TransportError`` such as ``ReadError``). With ``False`` (``CERT_OPTIONAL``) the request
reaches the middleware, which answers 401 ``missing_credential``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, MutableMapping
from functools import cache
from typing import Any

__all__ = [
    "asgi_peer_certificate",
    "client_context",
    "server_context",
    "uvicorn_protocol",
    "wsgi_peer_certificate",
]

PathLike = str | bytes


def server_context(
    certfile: PathLike,
    keyfile: PathLike | None = None,
    *,
    ca: PathLike | None = None,
    cadata: str | bytes | None = None,
    require_client_cert: bool = True,
    password: str | None = None,
) -> ssl.SSLContext:
    """A server context for mutual TLS: the server's certificate chain and key, and the CA
    bundle client certificates must chain to (``ca`` a file, or ``cadata`` PEM/DER). TLS 1.2
    at least."""
    if ca is None and cadata is None:
        raise ValueError("mutual TLS needs the CA bundle client certificates chain to (ca= or cadata=)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile, password)
    ctx.load_verify_locations(cafile=ca, cadata=cadata)
    ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return ctx


def client_context(
    certfile: PathLike | None = None,
    keyfile: PathLike | None = None,
    *,
    ca: PathLike | None = None,
    cadata: str | bytes | None = None,
    password: str | None = None,
) -> ssl.SSLContext:
    """A client context for mutual TLS: the client's certificate chain and key, and the CA
    bundle the server's certificate must chain to (default: the system's). The host name is
    checked. Pass it as ``httpx.Client(verify=ctx)``; with requests use ``cert=(certfile,
    keyfile), verify=ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca, cadata=cadata)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certfile is not None:
        ctx.load_cert_chain(certfile, keyfile, password)
    return ctx


def _der(pem: str | bytes | None) -> bytes | None:
    if not pem:
        return None
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    if "-----BEGIN" not in text:
        return None
    return ssl.PEM_cert_to_DER_cert(text.strip() + "\n")


def asgi_peer_certificate(scope: MutableMapping[str, Any]) -> bytes | None:
    """The client's certificate (DER) from the ASGI ``"tls"`` extension, or ``None``."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or ()
    for pem in chain:
        return _der(pem)
    return None


def wsgi_peer_certificate(environ: MutableMapping[str, Any]) -> bytes | None:
    """The client's certificate (DER) from ``environ["SSL_CLIENT_CERT"]``, or ``None``."""
    return _der(environ.get("SSL_CLIENT_CERT"))


def _tls_extension(ssl_object: Any) -> dict[str, Any]:
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
    }


@cache
def uvicorn_protocol() -> type[Any]:
    """uvicorn's ``h11`` HTTP protocol, adding the ASGI ``"tls"`` extension (the client's
    certificate) to the scope of every request on a TLS connection."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TLSH11Protocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is None:
                return
            tls = _tls_extension(ssl_object)
            app: Callable[..., Any] = self.app

            async def with_tls(scope: Any, receive: Any, send: Any) -> None:
                scope["extensions"] = {**(scope.get("extensions") or {}), "tls": tls}
                await app(scope, receive, send)

            self.app = with_tls

    return TLSH11Protocol
