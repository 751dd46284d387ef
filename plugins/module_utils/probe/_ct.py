# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The SCTs a server delivers in the TLS extension signed_certificate_timestamp (RFC 6962 3.3.1): one hand-built
TLS 1.2 ClientHello that asks for them, read up to the ServerHello (plain Python). The probe's chain comes from
Python's ssl, whose ClientHello cannot ask; in TLS 1.3 the extension travels encrypted, so only TLS 1.2 shows it."""

from __future__ import annotations

import socket

from ansible_collections.port443.https.plugins.module_utils.probe import _hello

SCT_EXTENSION = 0x0012
_TLS12_SUITES = tuple(code for code in _hello.SUITES if code not in _hello.TLS13_SUITES)


def tls_extension_scts(sock: socket.socket, server_name: str | None, timeout: float) -> tuple[str, bytes | None]:
    """(state, the extension's body) over a connected socket (closed here). state: sent (the server sent the
    extension), not_sent (a TLS 1.2 ServerHello without it), unreadable (no TLS 1.2 ServerHello: a TLS 1.3-only
    server, a refusal, no answer in time)."""
    hello = _hello.client_hello("1.2", _TLS12_SUITES, _hello.TLS12_GROUPS, server_name, extensions=[(SCT_EXTENSION, b"")])
    answer = _hello.ask(sock, hello, timeout)
    if answer.kind != "hello" or answer.version != "1.2":
        return "unreadable", None
    body = answer.extension_data.get(SCT_EXTENSION)
    return ("sent", body) if body is not None else ("not_sent", None)
