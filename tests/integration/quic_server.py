# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""A real QUIC + HTTP/3 server for the integration tests (aioquic): answers every request with 200 and a short body.

    python quic_server.py HOST PORT CERT KEY [VERSIONS]

VERSIONS: comma-separated QUIC versions it speaks (hex; default v1 and v2). Prints "ready" once it listens."""

from __future__ import annotations

import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated


class H3Responder(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._h3: H3Connection | None = None

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self._h3 = H3Connection(self._quic)
        if self._h3 is None:
            return
        for h3_event in self._h3.handle_event(event):
            if isinstance(h3_event, HeadersReceived):
                body = b"hello over HTTP/3\n"
                self._h3.send_headers(h3_event.stream_id, [(b":status", b"200"), (b"content-length", str(len(body)).encode())])
                self._h3.send_data(h3_event.stream_id, body, end_stream=True)
        self.transmit()


async def main(host: str, port: int, cert: str, key: str, versions: list[int] | None) -> None:
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    config.load_cert_chain(cert, key)
    if versions:
        config.supported_versions = versions
    await serve(host, port, configuration=config, create_protocol=H3Responder)
    print("ready", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    args = sys.argv[1:]
    vers = [int(v, 16) for v in args[4].split(",")] if len(args) > 4 else None
    asyncio.run(main(args[0], int(args[1]), args[2], args[3], vers))
