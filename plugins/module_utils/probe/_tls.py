# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""TLS handshakes for probing: one SSLContext per pinned version, security level 0 on the probe's own
contexts only (so TLS 1.0/1.1 servers can be detected with OpenSSL 3), and error classification (plain Python)."""

from __future__ import annotations

import socket
import ssl
import threading
import typing as t
import warnings

from ansible_collections.port443.https.plugins.module_utils.probe import _clientcert

VERSION_MAP = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
PROTOCOL_NAMES = {"TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}

# Server errors that mean "this is not TLS at all" (plain HTTP or another protocol answered).
_NOT_TLS_MARKERS = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "PACKET_LENGTH_TOO_LONG",
                    "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE", "record layer failure", "wrong version number",
                    "packet length too long", "BAD_RECORD_TYPE", "UNEXPECTED_RECORD")

# A served certificate list larger than OpenSSL's client limit (100 KiB): the server did answer (and chose a version).
_TOO_LARGE_MARKERS = ("EXCESSIVE_MESSAGE_SIZE", "excessive message size")

_CONTEXTS: dict[tuple[t.Any, ...], ssl.SSLContext] = {}
_WATCHED: dict[int, bool] = {}
_LOCK = threading.Lock()


def context(version: str | None = None, alpn: tuple[str, ...] = (), verify_ca: str | None = None,
            client_cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    """A cached client context, pinned to one version (or 1.0-1.3 when None).

    verify_ca None: no verification (observe whatever the server sends). verify_ca "" (system trust store) or a
    PEM bundle path: OpenSSL verifies the served chain for a TLS server (purpose sslserver) during the handshake,
    without the host name (checked separately), at security level 0 (weak keys and digests are findings of their
    own, not handshake failures), with every certificate of the store an anchor (partial chains, as curl does).
    client_cert (certificate path, key path): presented when the server asks for a client certificate.
    Every context records CertificateRequest messages (_clientcert.watch).
    """
    key = (version, alpn, verify_ca, client_cert)
    with _LOCK:
        ctx = _CONTEXTS.get(key)
        if ctx is not None:
            return ctx
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if verify_ca is None:
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.verify_mode = ssl.CERT_REQUIRED
            if verify_ca:
                ctx.load_verify_locations(cafile=verify_ca)
            else:
                ctx.set_default_verify_paths()
            # Any certificate of the trust store is an anchor, as for curl and Python 3.13's default context.
            ctx.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0x80000)
        try:
            # Accept every cipher and legacy signature algorithm: we observe servers, we don't protect data.
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:  # pragma: no cover - LibreSSL and very old OpenSSL
            ctx.set_ciphers("ALL")
        ctx.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0)
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0/1.1 constants; pinning them is the whole point of a version probe.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                if version is None:
                    ctx.minimum_version = ssl.TLSVersion.TLSv1
                    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
                else:
                    ctx.minimum_version = VERSION_MAP[version]
                    ctx.maximum_version = VERSION_MAP[version]
            except (ValueError, ssl.SSLError):  # pragma: no cover - version compiled out of OpenSSL
                pass
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        if client_cert:
            _clientcert.load(ctx, client_cert)
        _WATCHED[id(ctx)] = _clientcert.watch(ctx)
        _CONTEXTS[key] = ctx
        return ctx


def supported_versions() -> dict[str, bool]:
    """Which versions the local OpenSSL can offer at all (compiled in)."""
    out = {}
    for name, attr in (("1.0", "HAS_TLSv1"), ("1.1", "HAS_TLSv1_1"), ("1.2", "HAS_TLSv1_2"), ("1.3", "HAS_TLSv1_3")):
        out[name] = bool(getattr(ssl, attr, False))
    return out


class Handshake:
    """Outcome of one handshake attempt."""

    def __init__(self) -> None:
        self.ok = False
        self.kind: str | None = None  # on failure: timeout, not_tls, rejected, eof, error
        self.error: str | None = None
        self.version: str | None = None
        self.cipher: str | None = None
        self.alpn: str | None = None
        self.chain_der: list[bytes] = []
        self.chain_complete_known = False
        self.sock: ssl.SSLSocket | None = None
        # Verification by OpenSSL (a verifying handshake): True, False (with code and message) or None (not asked).
        self.verified: bool | None = None
        self.verify_code: int | None = None
        self.verify_message: str | None = None
        # Did the server ask for a client certificate (CertificateRequest): True, False or None (unknown).
        self.cert_requested: bool | None = None


def classify_error(exc: BaseException) -> tuple[str, str]:
    """Map a handshake exception to (kind, text)."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout", "no TLS answer before the timeout"
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "verify_failed", text
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or ""
        if any(marker in reason or marker in text for marker in _TOO_LARGE_MARKERS):
            return "too_large", "the server's certificate list exceeds the 100 KiB that OpenSSL clients accept"
        if any(marker in reason or marker in text for marker in _NOT_TLS_MARKERS):
            return "not_tls", text
        if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or "EOF" in text:
            return "eof", "the server closed the connection during the handshake"
        return "rejected", text
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "eof", "the server reset the connection during the handshake"
    return "error", text


def handshake(sock: socket.socket, server_name: str | None, timeout: float, version: str | None = None,
              alpn: tuple[str, ...] = (), keep: bool = False, want_chain: bool = False,
              verify_ca: str | None = None, client_cert: tuple[str, str] | None = None) -> Handshake:
    """TLS handshake on an already connected TCP socket (consumed: closed unless keep=True).

    With verify_ca set (see context()) OpenSSL verifies the chain: a rejected chain ends the handshake with
    kind "verify_failed" and verify_code/verify_message set; the caller probes again without verification to see
    what is served. A server that refuses the handshake for want of an acceptable client certificate ends it with
    kind "client_cert" (TLS 1.3: judged from the server's next record, see _clientcert.settle).
    """
    result = Handshake()
    sni = server_name if server_name and not _is_ip(server_name) else None
    sock.settimeout(timeout)
    try:
        ctx = context(version, alpn, verify_ca, client_cert)
        tls = ctx.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
    except (ssl.SSLError, OSError, ValueError) as exc:
        sock.close()
        result.kind, result.error = classify_error(exc)
        return result
    _clientcert.begin(_WATCHED.get(id(ctx), False))
    try:
        tls.do_handshake()
        result.cert_requested = _clientcert.requested()
        if tls.version() == "TLSv1.3" and result.cert_requested is not False:
            refused = _clientcert.settle(tls, timeout)
            if refused is not None:
                raise refused
    except (ssl.SSLError, OSError) as exc:
        result.cert_requested = _clientcert.requested()
        result.kind, result.error = classify_error(exc)
        refusal = _clientcert.refusal(exc, result.cert_requested, bool(client_cert))
        if refusal is not None:
            result.kind, result.error = "client_cert", f"{refusal} ({result.error})"
        if isinstance(exc, ssl.SSLCertVerificationError):
            result.verified = False
            result.verify_code = getattr(exc, "verify_code", None)
            result.verify_message = getattr(exc, "verify_message", None) or result.error
        tls.close()
        return result
    result.ok = True
    if verify_ca is not None:
        result.verified = True
    result.version = PROTOCOL_NAMES.get(tls.version() or "", tls.version())
    cipher = tls.cipher()
    result.cipher = cipher[0] if cipher else None
    result.alpn = tls.selected_alpn_protocol()
    if want_chain:
        result.chain_der = served_chain(tls)
        result.chain_complete_known = bool(result.chain_der)
        if not result.chain_der:
            leaf = tls.getpeercert(binary_form=True)
            result.chain_der = [leaf] if leaf else []
    if keep:
        result.sock = tls
    else:
        tls.close()
    return result


def served_chain(tls: t.Any) -> list[bytes]:
    """The certificates the server sent, in its order, as DER (empty when this Python cannot read them: 3.9).

    Public API from Python 3.13; from 3.10 the same method exists on the C-level object (_sslobj)."""
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        return []
    try:
        chain = getter() or []
    except (ssl.SSLError, ValueError, AttributeError):
        return []
    der = getattr(ssl._ssl, "ENCODING_DER", 2)  # type: ignore[attr-defined]
    return [c if isinstance(c, bytes) else c.public_bytes(der) for c in chain]


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True
