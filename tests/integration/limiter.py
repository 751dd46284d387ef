# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""TCP proxies in front of a real server, for the probe's behaviour behind what stands in front of servers in the
field: a connection limiter (nginx limit_conn, fail2ban, a load balancer) and a server that closes a connection
instead of sending an alert."""

from __future__ import annotations

import socket
import struct
import threading


class LimitingProxy:
    """127.0.0.1:port -> upstream. The first `allow` connections are forwarded; after that each new connection is
    closed once its first bytes are read (mode "close"), reset at once ("reset"), or held open unanswered ("stall"),
    or the listener closes so that connecting is refused ("refuse")."""

    def __init__(self, upstream: tuple[str, int], mode: str, allow: int | None) -> None:
        self.upstream, self.mode, self.allow = upstream, mode, allow
        self.count = 0
        self.held: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.count += 1
            if self._passes():
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()
            elif self.mode in ("reset", "refuse"):  # refuse: only with allow 0, the first connection
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif self.mode == "close":
                threading.Thread(target=self._read_and_close, args=(conn,), daemon=True).start()
            else:
                self.held.append(conn)
            if self.mode == "refuse" and self.allow is not None and self.count >= self.allow:
                # The listener goes away: every further connection is refused (an RST to the SYN, as a firewall's
                # REJECT or a ban by fail2ban answers).
                self.sock.close()
                return

    def _passes(self) -> bool:
        """Whether the connection just accepted (number self.count) is forwarded."""
        return self.allow is None or self.count <= self.allow

    @staticmethod
    def _read_and_close(conn: socket.socket) -> None:
        # Read what the client sent first, so the close is a FIN (closing with unread data would send a reset).
        conn.settimeout(2)
        try:
            conn.recv(65536)
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()

    def _forward(self, conn: socket.socket) -> None:
        try:
            up = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            conn.close()
            return
        if self._first_exchange(conn, up):
            self._pump_both(conn, up)
        else:
            conn.close()
            up.close()

    def _first_exchange(self, conn: socket.socket, up: socket.socket) -> bool:
        """What happens before the plain forwarding of a connection; False ends it (nothing, here)."""
        return True

    @staticmethod
    def _pump_both(conn: socket.socket, up: socket.socket) -> None:
        """Forward both ways until either side ends, then close both."""
        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        other = threading.Thread(target=pump, args=(up, conn), daemon=True)
        other.start()
        pump(conn, up)
        other.join(10)
        conn.close()
        up.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


class RecoveringLimiter(LimitingProxy):
    """A limiter that lets connections through again: connections allow+1 .. allow+window are closed ("close") or
    reset ("reset"), every other one is forwarded (a rate limit whose window passes, a load balancer whose backend
    was busy for a moment)."""

    def __init__(self, upstream: tuple[str, int], mode: str, allow: int, window: int) -> None:
        self.window = window
        super().__init__(upstream, mode, allow)

    def _passes(self) -> bool:
        return not self.allow < self.count <= self.allow + self.window


class AlertsAsCloses(LimitingProxy):
    """127.0.0.1:port -> upstream, forwarding everything, except that a connection whose first answer from upstream
    is a TLS alert record is closed (FIN) instead: a server that declines an offer by closing, as some load balancers
    and embedded TLS stacks do."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream, "close", None)

    def _first_exchange(self, conn: socket.socket, up: socket.socket) -> bool:
        try:
            conn.settimeout(10)
            up.settimeout(10)
            up.sendall(conn.recv(65536))
            first = up.recv(65536)
            if not first or first[0] == 21:
                conn.shutdown(socket.SHUT_RDWR)
                return False
            conn.sendall(first)
            conn.settimeout(None)
            up.settimeout(None)
        except OSError:
            return False
        return True
