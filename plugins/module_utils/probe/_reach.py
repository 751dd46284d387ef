# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Reachability of many endpoints at once: name resolution (daemon threads, bounded wait), then every address
in turn over non-blocking sockets in one selector loop, optionally checking that something answers a TLS
ClientHello. Only endpoints that answered go on to the (bounded) TLS worker pool, so dead endpoints cost about
one timeout in total, whatever their number (plain Python)."""

from __future__ import annotations

import errno
import heapq
import itertools
import os
import selectors
import socket
import time
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _net

# A TLS 1.2 ClientHello that offers only TLS_NULL_WITH_NULL_NULL and no extensions. Any TLS server answers it
# at once and cheaply (a handshake_failure or protocol_version alert, or a close), without computing a key
# exchange or a signature; a plain HTTP server answers "400 Bad Request". A tarpit or a stuck proxy answers
# nothing: that is what this probe is for. Whether the server really accepts TLS is left to the real handshakes.
# The blank line after the record makes line-reading servers (plain HTTP) answer instead of waiting for one;
# a TLS server answers the record before it reads them.
_HELLO_BODY = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x00\x00" + b"\x01\x00"
HELLO = (b"\x16\x03\x01" + (len(_HELLO_BODY) + 4).to_bytes(2, "big") + b"\x01" + len(_HELLO_BODY).to_bytes(3, "big")
         + _HELLO_BODY + b"\r\n\r\n")

_IN_PROGRESS = (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, getattr(errno, "WSAEWOULDBLOCK", -1))
_MAX_LOOKUP_THREADS = 64


def raise_nofile() -> int:
    """Raise the soft open-files limit to the hard one (when allowed); return the soft limit now in force."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft == resource.RLIM_INFINITY:
        return 65536
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft


# At most this many connections of the reachability loop at once. Many endpoints are often one server (vhosts behind
# one load balancer): thousands of simultaneous connections exhaust its connection slots (nginx worker_connections),
# and endpoints it cannot answer in time would be reported dead. 1,024 keeps dead endpoints cheap (2,000 of them cost
# two timeouts) without flooding one server.
MAX_INFLIGHT = 1024


def inflight_cap(workers: int) -> int:
    """Sockets the loop may hold at once: MAX_INFLIGHT, and well below the open-files limit (room for the workers' own sockets)."""
    soft = raise_nofile()
    return max(16, min(MAX_INFLIGHT, soft - 64 - 4 * workers))


class Reach:
    """Outcome of the reachability phase for one endpoint."""

    def __init__(self, index: int, ep: dict[str, t.Any], budget: float) -> None:
        self.index = index
        self.ep = ep
        self.budget = budget  # seconds this endpoint may spend in total (both phases)
        self.start: float | None = None  # when work for it began (waiting for a free socket slot does not count)
        self.dns_spent = 0.0
        self.end: float | None = None  # when this phase ended for it
        self.state: str | None = None  # open, closed, filtered, unresolvable, dns_timeout
        self.addresses: list[tuple[int, tuple[t.Any, ...]]] = []
        self.next_address = 0
        self.attempts: list[dict[str, t.Any]] = []
        self.family: int | None = None
        self.sockaddr: tuple[t.Any, ...] | None = None
        self.latency_ms: float | None = None
        self.error: str | None = None
        self.answered: bool | None = None  # something answered the ClientHello (None: not asked)

    @property
    def spent(self) -> float:
        if self.start is None:
            return 0.0
        return (self.end or time.monotonic()) - self.start

    def left(self) -> float:
        return max(0.0, self.budget - self.spent)


class _Conn:
    __slots__ = ("reach", "sock", "phase", "started", "due", "family", "sockaddr", "latency_ms")

    def __init__(self, reach: Reach, sock: socket.socket, family: int, sockaddr: tuple[t.Any, ...], due: float) -> None:
        self.reach = reach
        self.sock = sock
        self.phase = "connect"
        self.started = time.monotonic()
        self.due = due
        self.family = family
        self.sockaddr = sockaddr
        self.latency_ms: float | None = None


def reach_all(endpoints: list[dict[str, t.Any]], timeout: float, budget: float, hello: bool,
              max_inflight: int) -> t.Iterator[Reach]:
    """Yield a Reach for every endpoint as soon as its reachability is known (not in input order).

    Each step (lookup, connect to one address, wait for the ClientHello answer) takes at most timeout and never
    more than what is left of the endpoint's budget. Addresses are tried in the resolver's order until one answers.
    """
    sel = selectors.DefaultSelector()
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)

    def notify() -> None:
        try:
            wake_w.send(b"\0")
        except OSError:
            pass

    sel.register(wake_r, selectors.EVENT_READ, None)
    reaches = [Reach(i, ep, budget) for i, ep in enumerate(endpoints)]
    by_name: dict[str, list[Reach]] = {}
    for r in reaches:
        by_name.setdefault((r.ep.get("address") or r.ep["host"]).strip("[]"), []).append(r)
    names = list(by_name)
    lookups: dict[str, _net.Lookup] = {}
    waiting_lookup: list[tuple[float, str]] = []  # heap of (due, name)
    ready: list[Reach] = []  # resolved, waiting for a socket slot (FIFO, appended in input order)
    ready_pos = 0
    timers: list[tuple[float, int, _Conn]] = []  # heap of (due, seq, conn)
    seq = itertools.count()
    conns: dict[int, _Conn] = {}
    name_pos = 0
    threads = 0  # lookups running in a thread and not yet collected
    try:
        while True:
            now = time.monotonic()
            # Start lookups: literals answer at once; names take a daemon thread each, a bounded number at a time.
            while name_pos < len(names) and threads < _MAX_LOOKUP_THREADS:
                name = names[name_pos]
                name_pos += 1
                lookup = _net.Lookup(name, notify)
                threads += not _net.is_ip(name)
                lookups[name] = lookup
                for r in by_name[name]:
                    r.start = lookup.started
                heapq.heappush(waiting_lookup, (lookup.started + min(timeout, budget), name))
            # Collect finished or overdue lookups (an overdue thread is abandoned: a daemon, it no longer counts).
            still = []
            while waiting_lookup:
                due, name = heapq.heappop(waiting_lookup)
                lookup = lookups.pop(name)
                threads -= not _net.is_ip(name) and (lookup.done() or due <= now)
                if lookup.done():
                    for r in by_name.pop(name):
                        if not lookup.addresses:
                            r.state, r.error = "unresolvable", f"{name} does not resolve"
                            r.end = time.monotonic()
                            yield r
                        else:
                            r.addresses = [(f, _net.with_port(sa, r.ep["port"])) for f, sa in lookup.addresses]
                            # Its clock pauses while it waits for a socket slot, and goes on from there.
                            r.dns_spent, r.start = time.monotonic() - lookup.started, None
                            ready.append(r)
                elif due <= now:
                    for r in by_name.pop(name):
                        r.state, r.error = "dns_timeout", f"{name} did not resolve within {min(timeout, budget):g}s"
                        r.end = time.monotonic()
                        yield r
                else:
                    lookups[name] = lookup
                    still.append((due, name))
            for item in still:
                heapq.heappush(waiting_lookup, item)
            # Start connects while sockets are available.
            while ready_pos < len(ready) and len(conns) < max_inflight:
                r = ready[ready_pos]
                ready_pos += 1
                done = _start_next(r, timeout, sel, conns, timers, seq)
                if done:
                    yield r
            if ready_pos > 4096:  # keep the FIFO small
                del ready[:ready_pos]
                ready_pos = 0
            if not conns and not waiting_lookup and name_pos >= len(names) and ready_pos >= len(ready):
                return
            # Wait for events, at most until the next timer or lookup is due.
            dues = [d for d in (timers[0][0] if timers else None, waiting_lookup[0][0] if waiting_lookup else None) if d is not None]
            wait = max(0.0, min(dues) - time.monotonic()) if dues else 1.0
            for key, _mask in sel.select(min(wait, 1.0)):
                if key.data is None:
                    try:
                        while wake_r.recv(4096):
                            pass
                    except OSError:
                        pass
                    continue
                conn = key.data
                if conns.get(conn.sock.fileno()) is not conn:
                    continue
                finished = _on_event(conn, hello, timeout, sel, conns, timers, seq)
                if finished:
                    yield conn.reach
            # Timers: steps that got no answer in time.
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                _due, _n, conn = heapq.heappop(timers)
                if conns.get(conn.sock.fileno() if conn.sock.fileno() >= 0 else -1) is not conn:
                    continue  # already finished
                finished = _on_timeout(conn, hello, timeout, sel, conns, timers, seq)
                if finished:
                    yield conn.reach
    finally:
        for conn in list(conns.values()):
            _close(conn, sel, conns)
        sel.close()
        wake_r.close()
        wake_w.close()


def _close(conn: _Conn, sel: selectors.BaseSelector, conns: dict[int, _Conn]) -> None:
    fd = conn.sock.fileno()
    if fd >= 0 and conns.get(fd) is conn:
        del conns[fd]
        try:
            sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
    conn.sock.close()


def _attempt(r: Reach, conn: _Conn, state: str, error: str | None) -> None:
    r.attempts.append({"address": conn.sockaddr[0], "state": state, "latency_ms": conn.latency_ms, "error": error})


def _start_next(r: Reach, timeout: float, sel, conns, timers, seq) -> bool:
    """Connect to r's next address; True when r is finished (no address or no time left)."""
    if r.start is None:
        r.start = time.monotonic() - r.dns_spent
    while r.next_address < len(r.addresses):
        step = min(timeout, r.left())
        if step <= 0:
            break
        family, sockaddr = r.addresses[r.next_address]
        r.next_address += 1
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        conn = _Conn(r, sock, family, sockaddr, time.monotonic() + step)
        err = sock.connect_ex(sockaddr)
        if err not in _IN_PROGRESS:
            sock.close()
            state = _net.error_state(err)
            _attempt(r, conn, state, os.strerror(err))
            continue
        conns[sock.fileno()] = conn
        sel.register(sock, selectors.EVENT_WRITE, conn)
        heapq.heappush(timers, (conn.due, next(seq), conn))
        return False
    _conclude(r)
    return True


def _conclude(r: Reach) -> None:
    """No address answered (or there is no time left): the endpoint's state from its attempts."""
    r.end = time.monotonic()
    if r.state == "open":
        return
    states = [a["state"] for a in r.attempts]
    if not states:
        r.state, r.error = "filtered", "no time left to connect"
        return
    for wanted in ("open", "filtered", "closed"):
        if wanted in states:
            first = next(a for a in r.attempts if a["state"] == wanted)
            r.state, r.error, r.latency_ms = wanted, first["error"], first.get("latency_ms")
            r.family, r.sockaddr = next((f, sa) for f, sa in r.addresses if sa[0] == first["address"])
            if wanted == "open":
                r.answered = False
            return


def _on_event(conn: _Conn, hello: bool, timeout: float, sel, conns, timers, seq) -> bool:
    r = conn.reach
    if conn.phase == "connect":
        err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            _close(conn, sel, conns)
            state = _net.error_state(err)
            if state == "closed":
                conn.latency_ms = round((time.monotonic() - conn.started) * 1000, 2)
            _attempt(r, conn, state, os.strerror(err))
            return _start_next(r, timeout, sel, conns, timers, seq)
        conn.latency_ms = round((time.monotonic() - conn.started) * 1000, 2)
        if not hello:
            _close(conn, sel, conns)
            _success(r, conn, None)
            return True
        try:
            conn.sock.send(HELLO)
        except OSError as exc:
            _close(conn, sel, conns)
            _success(r, conn, True, f"the server closed the connection: {exc}")
            return True
        conn.phase = "hello"
        sel.modify(conn.sock, selectors.EVENT_READ, conn)
        conn.due = time.monotonic() + min(timeout, r.left())
        heapq.heappush(timers, (conn.due, next(seq), conn))
        return False
    # hello phase: anything (bytes, a close, a reset) means something speaks on the port.
    _close(conn, sel, conns)
    _success(r, conn, True)
    return True


def _success(r: Reach, conn: _Conn, answered: bool | None, error: str | None = None) -> None:
    _attempt(r, conn, "open", error)
    r.state, r.family, r.sockaddr, r.latency_ms, r.answered, r.error = "open", conn.family, conn.sockaddr, conn.latency_ms, answered, None
    r.end = time.monotonic()


def _on_timeout(conn: _Conn, hello: bool, timeout: float, sel, conns, timers, seq) -> bool:
    if time.monotonic() < conn.due:
        return False  # an older timer of a connection that moved on to its next step
    r = conn.reach
    _close(conn, sel, conns)
    waited = time.monotonic() - conn.started
    if conn.phase == "connect":
        _attempt(r, conn, "filtered", f"no answer within {waited:.3g}s")
    else:
        _attempt(r, conn, "open", f"connected, but nothing answered a TLS ClientHello within {waited:.3g}s")
    return _start_next(r, timeout, sel, conns, timers, seq)
