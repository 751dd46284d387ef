# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The probe's one event loop (plain Python): many short exchanges over non-blocking sockets at once, each a
connect -> send -> read-until-its-parser-has-the-answer cycle within its own deadline, in one selector.

Work comes as tasks: a task is a generator that yields one Exchange at a time and is sent back what the exchange
found (its result); it holds one of the loop's `max_tasks` slots from its first exchange to its end, and tasks
beyond that wait for a slot in the order they came. A task submitted with a key (its destination, see
destination()) also holds one of that key's `per_key` slots: many names behind one server (virtual hosting, a load
balancer) are not all asked at once, and waiting keys take turns. The reachability check, the cipher enumeration and the
client-certificate verdict (_reach, _ciphers, _clientcert) are each an Exchange subclass saying what the bytes
mean, and a task saying what to ask next.

Each exchange takes at most its budget's step() (see _net.Budget), from its start, or for FRESH_STEP exchanges
from its start and again from the completed connect. Its timeout is a verdict of its own (timed_out), never a
refusal: what a timeout means is the subclass's to say, and the probe's is always "unknown".
"""

from __future__ import annotations

import collections
import errno
import heapq
import itertools
import os
import selectors
import socket
import time
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _net

_IN_PROGRESS = (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY)

Task = t.Generator["Exchange", t.Any, None]

# At most this many endpoints of one destination (address and port) at a time: in the TLS phase (their handshakes)
# and in the cipher enumeration (one connection each). Many names are often one server; asking it for all of them at
# once makes every answer slow (each TLS 1.2 ClientHello it accepts costs it a signature), and the names' budgets run
# out while they wait in its queue. Waiting for a destination's slot does not count against a budget.
PER_DESTINATION = 8


def destination(family: int, sockaddr: tuple[t.Any, ...]) -> tuple[t.Any, ...]:
    """The key of the server an address reaches: family, address and port (and the IPv6 scope)."""
    return (family, sockaddr[0], sockaddr[1]) + tuple(sockaddr[3:4])


class Exchange:
    """One connect -> send -> read cycle. Subclasses say what happens: connected(), readable(), failed() and
    timed_out() return the exchange's result, or None (from connected and readable) to go on.

    Phases: "start" (creating the socket and calling connect), "connect" (waiting for it), "send", "read", "done".
    Given a connected non-blocking `sock`, the exchange starts at "send" (or "read" when there is nothing to send)
    and leaves the socket open; otherwise it opens its own socket and closes it at the end (with a reset when RESET:
    neither side keeps the connection in TIME_WAIT).
    """

    __slots__ = ("budget", "family", "sockaddr", "sock", "owned", "out", "phase", "started", "latency_ms", "task", "entry")

    RESET = True
    FRESH_STEP = False  # the read phase gets a step of its own after the connect

    def __init__(self, budget: _net.Budget, family: int = 0, sockaddr: tuple[t.Any, ...] = (), out: bytes = b"",
                 sock: t.Any = None) -> None:
        self.budget = budget
        self.family, self.sockaddr = family, sockaddr
        self.sock = sock
        self.owned = False
        self.out = out
        self.phase = "start"
        self.started = 0.0
        self.latency_ms: float | None = None
        self.task: Task | None = None
        self.entry: list[Exchange | None] = [None]  # its place in the loop's timer heap (emptied when it ends)

    def connected(self) -> t.Any:
        """The connect completed (latency_ms is set): None to go on with sending and reading."""
        return None

    def readable(self) -> t.Any:
        """The socket has something to read (bytes, an end or an error): read it; the result, or None for more."""
        raise NotImplementedError

    def failed(self, phase: str, error: OSError) -> t.Any:
        """Connect ("start" at once, or "connect") or send failed: the result."""
        raise NotImplementedError

    def timed_out(self, phase: str) -> t.Any:
        """No result within the step: the result."""
        raise NotImplementedError

    def elapsed(self) -> float:
        """Seconds since the exchange started."""
        return time.monotonic() - self.started

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is None or not self.owned:
            return
        if self.RESET:
            _net.close_with_reset(sock)
        else:
            sock.close()


class Timer:
    """A callback at a moment (Reactor.call_at); it keeps the loop running until it fires or is cancelled."""

    __slots__ = ("fn", "live")

    def __init__(self, fn: t.Callable[[], None]) -> None:
        self.fn, self.live = fn, True


class Reactor:
    """The loop: run() returns when no task runs or waits and no timer is pending."""

    def __init__(self, max_tasks: int, per_key: int = PER_DESTINATION) -> None:
        self.max_tasks = max(1, max_tasks)
        self.per_key = max(1, per_key)
        self._sel = selectors.DefaultSelector()
        self._waiting: collections.deque[Task] = collections.deque()
        self._active = 0
        # Tasks with a key: waiting per key, running per key, the keys that may have a task to start (checked when
        # taken), and the key of each running task.
        self._queues: dict[t.Any, collections.deque[Task]] = {}
        self._running: dict[t.Any, int] = {}
        self._turns: collections.deque[t.Any] = collections.deque()
        self._key_of: dict[Task, t.Any] = {}
        # (due, seq, Timer or [Exchange]): an exchange's entry is emptied when it ends or gets a new step, so the
        # entries left behind until they are due hold nothing.
        self._heap: list[tuple[float, int, t.Any]] = []
        self._seq = itertools.count()
        self._timers = 0  # live Timers
        self._calls: collections.deque[t.Callable[[], None]] = collections.deque()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    # ---- what the loop is given -------------------------------------------------------------------------------------

    def submit(self, task: Task, key: t.Any = None) -> None:
        """Run task once a slot is free (in the order submitted), and with a key once one of that key's slots is free
        as well (keys take turns). May be called while the loop runs (from a task)."""
        if key is None:
            self._waiting.append(task)
            return
        self._queues.setdefault(key, collections.deque()).append(task)
        self._turns.append(key)

    def _next_task(self) -> Task | None:
        """The next task that may start: unkeyed ones first, then the next key with a free slot."""
        if self._waiting:
            return self._waiting.popleft()
        while self._turns:
            key = self._turns.popleft()
            queue = self._queues.get(key)
            if not queue or self._running.get(key, 0) >= self.per_key:
                continue  # a task of this key ending gives it its turn again
            task = queue.popleft()
            if not queue:
                del self._queues[key]
            else:
                self._turns.append(key)
            self._running[key] = self._running.get(key, 0) + 1
            self._key_of[task] = key
            return task
        return None

    def call_at(self, due: float, fn: t.Callable[[], None]) -> Timer:
        timer = Timer(fn)
        self._timers += 1
        heapq.heappush(self._heap, (due, next(self._seq), timer))
        return timer

    def cancel(self, timer: Timer) -> None:
        """The timer will not fire (no effect when it has fired already)."""
        if timer.live:
            timer.live = False
            self._timers -= 1

    def wakeup(self) -> t.Callable[[t.Callable[[], None]], None]:
        """A function other threads call with a callback to run in the loop (it wakes the loop up)."""
        if self._wake_r is None:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        wake_w = self._wake_w

        def call_soon_threadsafe(fn: t.Callable[[], None]) -> None:
            self._calls.append(fn)
            try:
                wake_w.send(b"\0")
            except OSError:  # full (the loop is awake anyway) or closed (the loop is over)
                pass
        return call_soon_threadsafe

    # ---- the loop ---------------------------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            while True:
                while self._calls:
                    self._calls.popleft()()
                while self._active < self.max_tasks:
                    task = self._next_task()
                    if task is None:
                        break
                    self._active += 1
                    self._advance(task, None)
                if not (self._active or self._waiting or self._queues or self._timers or self._calls):
                    return
                wait = 1.0
                if self._heap:
                    wait = min(wait, max(0.0, self._heap[0][0] - time.monotonic()))
                for key, _mask in self._sel.select(wait):
                    ex = key.data
                    if ex is None:
                        self._drain_wakeups()
                    elif ex.phase != "done":
                        self._event(ex)
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _due, _n, item = heapq.heappop(self._heap)
                    if isinstance(item, Timer):
                        if item.live:
                            self.cancel(item)
                            item.fn()
                    elif item[0] is not None:
                        ex = item[0]
                        self._finish(ex, ex.timed_out(ex.phase))
        finally:
            self.close()

    def close(self) -> None:
        """Close every socket the loop still holds (after an error, or when run() ends)."""
        for key in list(self._sel.get_map().values()):
            if key.data is not None:
                self._sel.unregister(key.fileobj)
                key.data.phase = "done"
                key.data.close()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._sel.close()

    def _drain_wakeups(self) -> None:
        try:
            while t.cast(socket.socket, self._wake_r).recv(4096):
                pass
        except OSError:
            pass

    def _advance(self, task: Task, value: t.Any) -> None:
        """Send task the result of its last exchange and start its next one, until one is in flight or it ends."""
        while True:
            try:
                ex = task.send(value)
            except StopIteration:
                self._active -= 1
                if self._key_of:
                    self._ended(task)
                return
            ex.task = task
            value = self._start(ex)
            if ex.phase != "done":
                return

    def _ended(self, task: Task) -> None:
        """A keyed task ended: its slot of the key is free, and a waiting task of that key gets its turn."""
        key = self._key_of.pop(task, None)
        if key is None:
            return
        self._running[key] -= 1
        if not self._running[key]:
            del self._running[key]
        if key in self._queues:
            self._turns.append(key)

    def _deadline(self, ex: Exchange, due: float) -> None:
        ex.entry[0] = None
        ex.entry = [ex]
        heapq.heappush(self._heap, (due, next(self._seq), ex.entry))

    def _start(self, ex: Exchange) -> t.Any:
        ex.started = time.monotonic()
        if ex.sock is None:
            try:
                sock = socket.socket(ex.family, socket.SOCK_STREAM)
            except OSError as exc:
                ex.phase = "done"
                return ex.failed("start", exc)
            sock.setblocking(False)
            ex.sock, ex.owned = sock, True
            err = sock.connect_ex(ex.sockaddr)
            if err not in _IN_PROGRESS:
                ex.phase = "done"
                ex.close()
                return ex.failed("start", OSError(err, os.strerror(err)))
            ex.phase = "connect"
            self._sel.register(sock, selectors.EVENT_WRITE, ex)
        elif ex.out:
            ex.phase = "send"
            self._sel.register(ex.sock, selectors.EVENT_WRITE, ex)
        else:
            ex.phase = "read"
            self._sel.register(ex.sock, selectors.EVENT_READ, ex)
        self._deadline(ex, ex.started + ex.budget.step())
        return None

    def _event(self, ex: Exchange) -> None:
        sock = ex.sock
        if ex.phase == "connect":
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._finish(ex, ex.failed("connect", OSError(err, os.strerror(err))))
                return
            ex.latency_ms = round((time.monotonic() - ex.started) * 1000, 2)
            result = ex.connected()
            if result is not None:
                self._finish(ex, result)
                return
            if ex.FRESH_STEP:
                self._deadline(ex, time.monotonic() + ex.budget.step())
            if not ex.out:
                ex.phase = "read"
                self._sel.modify(sock, selectors.EVENT_READ, ex)
                return
            ex.phase = "send"
        if ex.phase == "send":
            try:
                sent = sock.send(ex.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._finish(ex, ex.failed("send", exc))
                return
            ex.out = ex.out[sent:]
            if not ex.out:
                ex.phase = "read"
                self._sel.modify(sock, selectors.EVENT_READ, ex)
            return
        result = ex.readable()
        if result is not None:
            self._finish(ex, result)

    def _finish(self, ex: Exchange, result: t.Any) -> None:
        if ex.sock is not None:
            self._sel.unregister(ex.sock)
        ex.phase = "done"
        ex.entry[0] = None
        ex.close()
        task, ex.task = ex.task, None
        self._advance(t.cast(Task, task), result)


def run_one(exchange: Exchange) -> t.Any:
    """One exchange in the calling thread (a loop of its own); its result."""
    out: list[t.Any] = []

    def task() -> Task:
        out.append((yield exchange))

    reactor = Reactor(1)
    reactor.submit(task())
    reactor.run()
    return out[0]
