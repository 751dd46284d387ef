# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Reachability of many endpoints at once: name resolution (daemon threads, bounded wait), then every address
in turn over non-blocking sockets in the probe's event loop (_reactor), optionally checking that something answers
a TLS ClientHello. Only endpoints that answered go on to the (bounded) TLS worker pool, so dead endpoints cost about
one timeout in total, whatever their number (plain Python)."""

from __future__ import annotations

import collections
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.probe import _reactor

# A TLS 1.2 ClientHello that offers only TLS_NULL_WITH_NULL_NULL and no extensions. Any TLS server answers it
# at once and cheaply (a handshake_failure or protocol_version alert, or a close), without computing a key
# exchange or a signature; a plain HTTP server answers "400 Bad Request". A tarpit or a stuck proxy answers
# nothing: that is what this probe is for. Whether the server really accepts TLS is left to the real handshakes.
# The blank line after the record makes line-reading servers (plain HTTP) answer instead of waiting for one;
# a TLS server answers the record before it reads them.
_HELLO_BODY = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x00\x00" + b"\x01\x00"
HELLO = (b"\x16\x03\x01" + (len(_HELLO_BODY) + 4).to_bytes(2, "big") + b"\x01" + len(_HELLO_BODY).to_bytes(3, "big")
         + _HELLO_BODY + b"\r\n\r\n")

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
    """Outcome of the reachability phase for one endpoint. Its budget is the endpoint's: it runs while the name is
    looked up and while addresses are tried, not while the endpoint waits for a free slot."""

    __slots__ = ("index", "ep", "budget", "state", "addresses", "attempts", "family", "sockaddr", "latency_ms", "error", "answered")

    def __init__(self, index: int, ep: dict[str, t.Any], budget: _net.Budget) -> None:
        self.index = index
        self.ep = ep
        self.budget = budget
        self.state: str | None = None  # open, closed, filtered, unresolvable, dns_timeout
        self.addresses: list[tuple[int, tuple[t.Any, ...]]] = []
        self.attempts: list[dict[str, t.Any]] = []
        self.family: int | None = None
        self.sockaddr: tuple[t.Any, ...] | None = None
        self.latency_ms: float | None = None
        self.error: str | None = None
        self.answered: bool | None = None  # something answered the ClientHello (None: not asked)


class _Attempt(_reactor.Exchange):
    """One address: connect, and with `hello` send HELLO and wait for anything at all (bytes, a close, a reset)."""

    __slots__ = ("state", "error", "answered")

    RESET = False
    FRESH_STEP = True  # the ClientHello answer gets a step of its own after the connect

    def __init__(self, budget: _net.Budget, family: int, sockaddr: tuple[t.Any, ...], hello: bool) -> None:
        super().__init__(budget, family, sockaddr, out=HELLO if hello else b"")
        self.state = "open"
        self.error: str | None = None
        self.answered: bool | None = None

    def connected(self) -> _Attempt | None:
        return None if self.out else self  # without the ClientHello, the connect is the answer

    def readable(self) -> _Attempt:
        self.answered = True  # something speaks on the port: whether it is TLS is for the handshakes to say
        return self

    def failed(self, phase: str, error: OSError) -> _Attempt:
        if phase == "send":
            self.answered, self.error = True, f"the server closed the connection: {error}"
            return self
        self.state, self.error = _net.error_state(error), error.strerror
        if phase == "connect" and self.state == "closed":
            self.latency_ms = round(self.elapsed() * 1000, 2)
        return self

    def timed_out(self, phase: str) -> _Attempt:
        if phase == "connect":
            self.state, self.error = "filtered", f"no answer within {self.elapsed():.3g}s"
        else:
            self.answered, self.error = False, f"connected, but nothing answered a TLS ClientHello within {self.elapsed():.3g}s"
        return self


def _name(r: Reach) -> str:
    return (r.ep.get("address") or r.ep["host"]).strip("[]")


class _Lookup:
    """One name being resolved, for every endpoint that has it."""

    __slots__ = ("name", "reaches", "lookup", "wait", "timer", "threaded", "over")

    def __init__(self, name: str, reaches: list[Reach]) -> None:
        self.name, self.reaches = name, reaches
        self.lookup: _net.Lookup | None = None
        self.wait = 0.0
        self.timer: _reactor.Timer | None = None
        self.threaded = not _net.is_ip(name)
        self.over = False


def reach_all(reaches: list[Reach], hello: bool, max_inflight: int, on_done: t.Callable[[Reach], None],
              reactor: _reactor.Reactor | None = None) -> None:
    """Find out for every endpoint whether it can be reached; on_done(reach) as soon as that is known for one
    (not in input order), in the calling thread.

    reactor: the loop to run it in (the caller may give it more work, and keep it running with a timer until that
    work is handed over); by default a loop of its own with max_inflight tasks.

    Each step (lookup, connect to one address, wait for the ClientHello answer) takes at most the budget's step and
    never more than what is left of it. Addresses are tried in the resolver's order until one answers; at most
    max_inflight endpoints are connecting at once (the others wait for a slot, their clock stopped).
    """
    reactor = reactor or _reactor.Reactor(max_inflight)
    call_soon_threadsafe = reactor.wakeup()
    by_name: dict[str, list[Reach]] = {}
    for r in reaches:
        by_name.setdefault(_name(r), []).append(r)
    names = collections.deque(by_name)
    threads = 0  # lookups running in a thread, not yet collected nor abandoned

    def start_lookups() -> None:
        nonlocal threads
        while names and threads < _MAX_LOOKUP_THREADS:
            item = _Lookup(names.popleft(), [])
            item.reaches = by_name.pop(item.name)
            threads += item.threaded
            # Literals answer at once (no thread, no wake-up); names call back from their thread.
            notify = (lambda item=item: call_soon_threadsafe(lambda: collect(item))) if item.threaded else None
            item.lookup = _net.Lookup(item.name, notify)
            budget = item.reaches[0].budget
            item.wait = min(budget.cap, budget.total)
            for r in item.reaches:
                r.budget.resume(at=item.lookup.started)
            if item.lookup.done():
                resolved(item)
            else:
                item.timer = reactor.call_at(item.lookup.started + item.wait, lambda item=item: expire(item))

    def resolved(item: _Lookup) -> None:
        nonlocal threads
        item.over = True
        threads -= item.threaded
        addresses = t.cast(_net.Lookup, item.lookup).addresses
        for r in item.reaches:
            # Its clock stops while it waits for a socket slot, and goes on from there.
            r.budget.pause()
            if not addresses:
                r.state, r.error = "unresolvable", f"{item.name} does not resolve"
                on_done(r)
            else:
                r.addresses = [(f, _net.with_port(sa, r.ep["port"])) for f, sa in addresses]
                reactor.submit(_try_addresses(r, hello, on_done))
        item.reaches = []

    def collect(item: _Lookup) -> None:
        if item.over:
            return  # abandoned after its timeout
        reactor.cancel(t.cast(_reactor.Timer, item.timer))
        resolved(item)
        start_lookups()

    def expire(item: _Lookup) -> None:
        nonlocal threads
        if item.over:
            return
        item.over = True
        threads -= item.threaded  # an overdue thread is abandoned: a daemon, it no longer counts
        for r in item.reaches:
            r.budget.pause()
            r.state, r.error = "dns_timeout", f"{item.name} did not resolve within {item.wait:g}s"
            on_done(r)
        item.reaches = []
        start_lookups()

    start_lookups()
    reactor.run()


def _try_addresses(r: Reach, hello: bool, on_done: t.Callable[[Reach], None]) -> _reactor.Task:
    """The task of one endpoint: its addresses in turn, until one answers or its budget is spent."""
    r.budget.resume()
    for family, sockaddr in r.addresses:
        if r.budget.expired:
            break
        attempt: _Attempt = yield _Attempt(r.budget, family, sockaddr, hello)
        r.attempts.append({"address": sockaddr[0], "state": attempt.state, "latency_ms": attempt.latency_ms, "error": attempt.error})
        if attempt.state == "open" and attempt.answered is not False:
            r.state, r.family, r.sockaddr, r.latency_ms, r.answered, r.error = "open", family, sockaddr, attempt.latency_ms, attempt.answered, None
            break
    r.budget.pause()
    _conclude(r)
    on_done(r)


def _conclude(r: Reach) -> None:
    """No address answered (or there is no time left): the endpoint's state from its attempts."""
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
