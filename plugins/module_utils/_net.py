# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Host name validation, resolution and TCP connects with bounded timeouts (plain Python)."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import time
import typing as t

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$", re.IGNORECASE)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def valid_host(value: t.Any) -> bool:
    """True for an IP literal or a syntactically valid DNS name (labels of letters, digits, '-', '_')."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    if is_ip(value):
        return True
    name = value[:-1] if value.endswith(".") else value
    if not name:
        return False
    labels = name.split(".")
    if labels[0] == "*":
        return False
    if all(label.isdigit() for label in labels):
        return False
    return all(_LABEL.match(label) for label in labels)


def resolve(host: str, port: int) -> tuple[int, tuple[t.Any, ...]] | None:
    """First (family, sockaddr) for host:port, or None when the name does not resolve."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return None
    if not infos:
        return None
    family, _type, _proto, _canon, sockaddr = infos[0]
    return family, sockaddr


def connect(family: int, sockaddr: tuple[t.Any, ...], timeout: float) -> tuple[str, socket.socket | None, float | None, str | None]:
    """TCP connect. Returns (state, socket or None, latency in ms, error text).

    state is open, closed (refused/reset/unreachable host answering with RST or ICMP) or filtered (timeout).
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    start = time.monotonic()
    try:
        sock.connect(sockaddr)
    except (socket.timeout, TimeoutError):
        sock.close()
        return "filtered", None, None, f"no answer within {timeout:g}s"
    except ConnectionRefusedError as exc:
        sock.close()
        return "closed", None, round((time.monotonic() - start) * 1000, 2), str(exc)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            # ICMP unreachable / administratively prohibited: packets are rejected on the path.
            return "filtered", None, None, str(exc)
        return "closed", None, None, str(exc)
    latency = round((time.monotonic() - start) * 1000, 2)
    return "open", sock, latency, None


def tcp_request(family: int, sockaddr: tuple[t.Any, ...], payload: bytes, timeout: float, limit: int = 16384) -> bytes | None:
    """Plain TCP: send payload, read up to limit bytes (until the headers end or the peer closes)."""
    state, sock, _lat, _err = connect(family, sockaddr, timeout)
    if sock is None:
        return None
    try:
        sock.sendall(payload)
        return read_headers(sock, timeout, limit)
    except OSError:
        return None
    finally:
        sock.close()


def read_headers(sock: t.Any, timeout: float, limit: int = 16384) -> bytes:
    """Read from sock until a blank line ends the headers, the peer closes, limit, or the deadline."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < limit and b"\r\n\r\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


class Deadline:
    """A time budget: every blocking step takes min(its own timeout, what is left of the budget)."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def timeout(self, cap: float) -> float:
        """The timeout for the next step: at most cap, never past the deadline (0 once it has passed)."""
        return min(cap, self.remaining())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0
