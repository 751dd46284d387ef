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
import struct
import threading
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
    """First (family, sockaddr) for host:port, or None when the name does not resolve (no time bound: see Lookup)."""
    addrs = _getaddrinfo(host, port)
    return addrs[0] if addrs else None


def _getaddrinfo(host: str, port: int | None, flags: int = 0) -> list[tuple[int, tuple[t.Any, ...]]]:
    """Every (family, sockaddr) of host, in the resolver's order, without duplicates ([] when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=flags)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    out: list[tuple[int, tuple[t.Any, ...]]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if (family, sockaddr) not in out:
            out.append((family, sockaddr))
    return out


def with_port(sockaddr: tuple[t.Any, ...], port: int) -> tuple[t.Any, ...]:
    return (sockaddr[0], port) + tuple(sockaddr[2:])


class Lookup:
    """One name resolution in a daemon thread.

    getaddrinfo blocks and cannot be cancelled: the thread is a daemon (it never holds the interpreter at exit) and a
    caller that stops waiting simply abandons it. done() / result() poll; wait(timeout) blocks at most timeout.
    """

    def __init__(self, host: str, notify: t.Callable[[], None] | None = None) -> None:
        self.host = host.strip("[]")
        self.started = time.monotonic()
        self.addresses: list[tuple[int, tuple[t.Any, ...]]] | None = None
        self._event = threading.Event()
        self._notify = notify
        if is_ip(self.host):
            # A literal needs no resolver: answered at once, without a thread.
            self._finish(_getaddrinfo(self.host, None, socket.AI_NUMERICHOST))
        else:
            threading.Thread(target=self._run, name=f"resolve {self.host}", daemon=True).start()

    def _run(self) -> None:
        self._finish(_getaddrinfo(self.host, None))

    def _finish(self, addresses: list[tuple[int, tuple[t.Any, ...]]]) -> None:
        self.addresses = addresses
        self._event.set()
        if self._notify is not None:
            self._notify()

    def done(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(max(0.0, timeout))


def resolve_all(host: str, port: int, timeout: float) -> tuple[str, list[tuple[int, tuple[t.Any, ...]]]]:
    """Every address of host:port within timeout: ("ok", addresses), ("unresolvable", []) or ("timeout", [])."""
    lookup = Lookup(host)
    if not lookup.wait(timeout):
        return "timeout", []
    if not lookup.addresses:
        return "unresolvable", []
    return "ok", [(family, with_port(sockaddr, port)) for family, sockaddr in lookup.addresses]


_FILTERED_ERRNOS = (errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM)


def error_state(exc: BaseException | int) -> str:
    """closed (refused, reset: the host answered) or filtered (timeout, ICMP unreachable / prohibited) for a connect error."""
    code = exc if isinstance(exc, int) else getattr(exc, "errno", None)
    if isinstance(exc, (socket.timeout, TimeoutError)) or code in _FILTERED_ERRNOS:
        # No answer, or packets rejected on the path (ICMP unreachable / administratively prohibited).
        return "filtered"
    return "closed"


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
    except OSError as exc:
        sock.close()
        state = error_state(exc)
        return state, None, round((time.monotonic() - start) * 1000, 2) if state == "closed" else None, str(exc)
    latency = round((time.monotonic() - start) * 1000, 2)
    return "open", sock, latency, None


_LINGER_RESET = struct.pack("ii", 1, 0)


def close_with_reset(sock: socket.socket) -> None:
    """Close a socket with a reset (SO_LINGER 0): nothing more is said, and no TIME_WAIT is left behind on either
    side (thousands of probe connections would otherwise hold as many ports)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass
    sock.close()


def tcp_request(family: int, sockaddr: tuple[t.Any, ...], payload: bytes, timeout: float, limit: int = 16384) -> bytes | None:
    """Plain TCP: send payload, read up to limit bytes (until the headers end or the peer closes).

    The whole exchange (connect, send, read) takes at most timeout.
    """
    budget = Budget(timeout)
    state, sock, _lat, _err = connect(family, sockaddr, budget.step())
    if sock is None:
        return None
    try:
        sock.settimeout(budget.step())
        sock.sendall(payload)
        return read_headers(sock, budget.step(), limit)
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


class Budget:
    """One time budget: the total seconds a piece of work may spend, and the cap of each blocking step in it (the
    `timeout` option). It is spent only while running: pause() stops the clock (an endpoint waiting for a free slot
    or worker), resume() starts it again. Every step takes step() seconds at most: the cap, never past the budget."""

    __slots__ = ("total", "cap", "_spent", "_since")

    def __init__(self, total: float, cap: float | None = None, running: bool = True) -> None:
        self.total = total
        self.cap = total if cap is None else cap
        self._spent = 0.0
        self._since: float | None = time.monotonic() if running else None

    def resume(self, at: float | None = None) -> None:
        """Start the clock (at a past moment when given); no effect while it runs."""
        if self._since is None:
            self._since = time.monotonic() if at is None else at

    def pause(self) -> None:
        """Stop the clock: what was spent so far stays spent."""
        if self._since is not None:
            self._spent += time.monotonic() - self._since
            self._since = None

    def remaining(self) -> float:
        spent = self._spent if self._since is None else self._spent + time.monotonic() - self._since
        return max(0.0, self.total - spent)

    def step(self) -> float:
        """The timeout for the next step: at most the cap, never past the budget.

        Never 0 (a socket timeout of 0 means non-blocking, not "no time left"): 1 ms once the budget is spent;
        check `expired` before starting a step.
        """
        return max(0.001, min(self.cap, self.remaining()))

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0
