# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The TLS 1.2 ClientHello that asks for SCTs, and reading the extension from a ServerHello (canned bytes)."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _ct, _hello


def server_hello(version: int = 0x0303, extensions: bytes = b"") -> bytes:
    body = version.to_bytes(2, "big") + bytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00" + len(extensions).to_bytes(2, "big") + extensions
    msg = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + len(msg).to_bytes(2, "big") + msg


def test_client_hello_asks_for_scts():
    record = _hello.client_hello("1.2", [0xC02F], [0x0017], "www.example.org", extensions=[(_ct.SCT_EXTENSION, b"")])
    assert record.endswith(b"\x00\x12\x00\x00")
    # Without extensions the cached template is unchanged.
    assert not _hello.client_hello("1.2", [0xC02F], [0x0017], "www.example.org").endswith(b"\x00\x12\x00\x00")


def test_server_hello_extension_bodies_are_kept():
    scts = b"\x00\x04\x00\x02\xab\xcd"
    answer = _hello.parse_bytes(server_hello(extensions=b"\x00\x12" + len(scts).to_bytes(2, "big") + scts + b"\xff\x01\x00\x01\x00"))
    assert answer.kind == "hello" and answer.extension_data[0x0012] == scts and answer.extension_data[0xFF01] == b"\x00"


def _serve(answer: bytes | None) -> socket.socket:
    """A connected socket whose peer answers the ClientHello with `answer` (None: closes without one)."""
    mine, theirs = socket.socketpair()

    def peer():
        theirs.recv(65536)
        if answer:
            theirs.sendall(answer)
        theirs.close()

    threading.Thread(target=peer, daemon=True).start()
    return mine


@pytest.mark.parametrize("answer, state", [
    (server_hello(extensions=b"\x00\x12\x00\x04\x00\x02\x01\x02"), "sent"),
    (server_hello(), "not_sent"),
    (b"\x15\x03\x03\x00\x02\x02\x46", "unreadable"),  # protocol_version: a TLS 1.3-only server
    (None, "unreadable"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "unreadable"),
])
def test_tls_extension_states(answer, state):
    got, body = _ct.tls_extension_scts(_serve(answer), "www.example.org", 2.0)
    assert got == state
    assert (body == b"\x00\x02\x01\x02") if state == "sent" else body is None
