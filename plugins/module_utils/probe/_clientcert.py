# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Client certificates in probe handshakes (plain Python): did the server ask for one (CertificateRequest), and
did it refuse the handshake because none, or one it does not accept, was presented.

TLS 1.2: the server sends CertificateRequest before the client's Finished, and a refusal is an alert inside the
handshake (handshake_failure without a certificate, unknown_ca, bad_certificate, ... with one).
TLS 1.3: the client's handshake is complete before the server has judged the client's certificate; the verdict is
the next record the server sends: an alert (certificate_required(116) without a certificate, unknown_ca, ...) or a
session ticket / data (accepted). settle() reads that record.

Seeing CertificateRequest uses the ssl module's message callback (SSLContext._msg_callback, present since Python
3.8). Where it is missing, "requested" is None (unknown), and only alerts that name a client certificate on their
own are taken as a refusal; nothing is ever taken as accepted without a verdict from the server.
"""

from __future__ import annotations

import ssl
import threading
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _files, _net
from ansible_collections.port443.https.plugins.module_utils.probe import _reactor

_HANDSHAKE = 22
_CERTIFICATE_REQUEST = 13
_NEW_SESSION_TICKET = 4

# OpenSSL reasons of alerts that only a client certificate explains: certificate_required (TLS 1.3, RFC 8446 section
# 4.4.2.4) and, when the client presented one, the alerts about a certificate the server received.
REQUIRED_ALERTS = ("TLSV13_ALERT_CERTIFICATE_REQUIRED",)
REFUSED_ALERTS = ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
                  "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED", "SSLV3_ALERT_CERTIFICATE_REVOKED",
                  "TLSV1_ALERT_ACCESS_DENIED", "TLSV1_ALERT_DECRYPT_ERROR")
# After a CertificateRequest, a bare handshake_failure alert is how TLS 1.2 servers refuse a client without one.
AFTER_REQUEST_ALERTS = ("SSLV3_ALERT_HANDSHAKE_FAILURE",)

_SEEN = threading.local()


def _callback(_conn: t.Any, direction: str, _version: t.Any, content_type: t.Any, msg_type: t.Any, _data: t.Any) -> None:
    if direction != "read" or int(content_type) != _HANDSHAKE:
        return
    if int(msg_type) == _CERTIFICATE_REQUEST:
        _SEEN.request = True
    elif int(msg_type) == _NEW_SESSION_TICKET:
        _SEEN.ticket = True


def watch(ctx: ssl.SSLContext) -> bool:
    """Record CertificateRequest and NewSessionTicket messages of handshakes made with ctx (False: not possible)."""
    try:
        setattr(ctx, "_msg_callback", _callback)
    except (AttributeError, TypeError):  # pragma: no cover - Python without the message callback
        return False
    return True


def begin(watched: bool) -> None:
    """Start watching one handshake in this thread."""
    _SEEN.watched = watched
    _SEEN.request = False
    _SEEN.ticket = False


def requested() -> bool | None:
    """Did the server of this thread's last handshake send a CertificateRequest (None: unknown)."""
    if not getattr(_SEEN, "watched", False):
        return None
    return bool(getattr(_SEEN, "request", False))


def refusal(exc: BaseException, cert_requested: bool | None, presented: bool) -> str | None:
    """The text of a client certificate refusal, or None when exc is about something else."""
    reason = getattr(exc, "reason", None) or ""
    if not isinstance(exc, ssl.SSLError) or not reason:
        return None
    alert = reason.split("ALERT_", 1)[-1].lower()
    if reason in REQUIRED_ALERTS:
        return "the server requires a client certificate and ended the handshake with alert certificate_required" + (
            " although one was presented" if presented else "; none was presented")
    if reason in REFUSED_ALERTS and (presented or cert_requested):
        if presented:
            return f"the server refused the presented client certificate with alert {alert}"
        return f"the server asked for a client certificate and ended the handshake with alert {alert}; none was presented"
    if reason in AFTER_REQUEST_ALERTS and cert_requested:
        if presented:
            return f"the server asked for a client certificate and refused the presented one with alert {alert}"
        return f"the server asked for a client certificate and ended the handshake with alert {alert}; none was presented"
    return None


def http_refusal(presented: bool) -> str:
    """The text for a server that completed the handshake after a CertificateRequest and answered HTTP 400."""
    if presented:
        return ("the server asked for a client certificate and answered HTTP 400 to the request with the presented one "
                "(nginx: ssl_verify_client on, the certificate is not from its ssl_client_certificate CA or not valid)")
    return ("the server asked for a client certificate and answered HTTP 400 without one "
            "(nginx: ssl_verify_client on completes the handshake and refuses the request); none was presented")


class _Verdict(_reactor.Exchange):
    """After a TLS 1.3 handshake: the server's next record, on the caller's connection (left open)."""

    __slots__ = ()

    def readable(self) -> BaseException | bool | None:
        try:
            self.sock.recv(1)  # a server that speaks first (not HTTP): it accepted the client
            return False
        except ssl.SSLWantReadError:
            if getattr(_SEEN, "ticket", False) or not getattr(_SEEN, "watched", False):
                return False
            return None  # a record without a verdict yet: read on
        except ssl.SSLError as exc:
            return exc
        except OSError:
            return False

    def timed_out(self, phase: str) -> bool:
        return False


def settle(tls: ssl.SSLSocket, timeout: float) -> BaseException | None:
    """TLS 1.3 after a CertificateRequest: wait (at most timeout) for the server's verdict on the client's certificate.

    Returns the alert (an SSLError) when the server refused, None when it went on (a session ticket or data arrived,
    or nothing at all within timeout: a server that refuses says so at once, without waiting for a request).
    """
    previous = tls.gettimeout()
    tls.setblocking(False)
    try:
        refused = _reactor.run_one(_Verdict(_net.Budget(timeout), sock=tls))
    finally:
        tls.settimeout(previous)
    return refused or None


def load(ctx: ssl.SSLContext, pair: tuple[str, str]) -> None:
    """Present pair (certificate, key) on ctx; an encrypted key fails instead of prompting on the terminal."""
    ctx.load_cert_chain(pair[0], pair[1], password=lambda: b"")


def check_files(cert: str | None, key: str | None) -> str | None:
    """An error text naming the option when client_cert/client_key are unusable, else None."""
    if not cert and not key:
        return None
    if not cert or not key:
        return "client_cert and client_key: give both (the certificate and its private key) or neither"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for option, path in (("client_cert", cert), ("client_key", key)):
        try:
            _files.read_bytes(option, path)
        except _files.FileReadError as exc:
            return str(exc)
    try:
        load(ctx, (cert, key))
    except ssl.SSLError as exc:
        return f"client_cert, client_key: {cert!r} and {key!r} are not a PEM certificate and its matching unencrypted private key ({exc.reason or exc})"
    except OSError as exc:
        return f"client_key: {key!r} cannot be used ({exc})"
    return None
