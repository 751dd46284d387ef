# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The probe's event loop on loopback sockets: connect, send, read until the parser is done; a timeout is its own
verdict; bounded concurrency with budgets that start at the slot; timers and wake-ups from other threads; one
exchange on a caller's socket."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.probe import _reactor


class Line(_reactor.Exchange):
    """Send `out`, read until a newline: the line; an end, an error or a timeout says which."""

    __slots__ = ("data", "events")

    def __init__(self, budget, sockaddr=None, out=b"", sock=None):
        super().__init__(budget, socket.AF_INET, sockaddr or (), out=out, sock=sock)
        self.data = b""
        self.events = []

    def connected(self):
        self.events.append("connected")

    def readable(self):
        chunk = self.sock.recv(4096)
        if not chunk:
            return ("closed", self.data)
        self.data += chunk
        return ("line", self.data) if b"\n" in self.data else None

    def failed(self, phase, error):
        return ("failed", phase, error.errno)

    def timed_out(self, phase):
        return ("timeout", phase)


class Server:
    """A loopback listener; behaviour(conn) runs in a thread per connection."""

    def __init__(self, behaviour, backlog=16):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.addr = self.sock.getsockname()
        self.behaviour = behaviour
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def echo_line(conn):
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    conn.sendall(data.upper())


def run_tasks(tasks, max_tasks=8):
    reactor = _reactor.Reactor(max_tasks)
    for task in tasks:
        reactor.submit(task)
    reactor.run()


def one(exchange):
    out = []

    def task():
        out.append((yield exchange))
    run_tasks([task()])
    return out[0], exchange


@pytest.fixture
def server(request):
    srv = Server(request.param)
    yield srv
    srv.close()


@pytest.mark.parametrize("server", [echo_line], indirect=True)
def test_connect_send_and_read_until_the_parser_is_done(server):
    result, ex = one(Line(_net.Budget(2), server.addr, b"hello" * 100000 + b"\n"))  # more than one send takes
    assert result == ("line", b"HELLO" * 100000 + b"\n")
    assert ex.events == ["connected"] and ex.latency_ms is not None and ex.sock is None and ex.phase == "done"


@pytest.mark.parametrize("server", [lambda conn: time.sleep(1)], indirect=True)
def test_a_silent_server_times_out_within_the_step_and_is_never_an_answer(server):
    start = time.monotonic()
    result, _ex = one(Line(_net.Budget(10, 0.2), server.addr, b"hi\n"))
    assert result == ("timeout", "read") and 0.15 <= time.monotonic() - start < 0.8


@pytest.mark.parametrize("server", [lambda conn: conn.recv(10)], indirect=True)
def test_a_close_is_read_as_the_end(server):
    assert one(Line(_net.Budget(2), server.addr, b"x\n"))[0] == ("closed", b"")


def test_a_refused_connect_is_a_failure_of_the_connect():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    addr = sock.getsockname()
    sock.close()
    result, _ex = one(Line(_net.Budget(2), addr, b"x\n"))
    assert result[0] == "failed" and result[1] in ("start", "connect") and result[2] == 111


def test_a_spent_budget_still_gives_each_exchange_a_moment_and_a_verdict():
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(0)
    filler = socket.create_connection(sink.getsockname(), 2)  # the accept queue is full: SYNs are dropped
    try:
        result, _ex = one(Line(_net.Budget(0), sink.getsockname(), b"x\n"))
    finally:
        filler.close()
        sink.close()
    assert result == ("timeout", "connect")


@pytest.mark.parametrize("server", [lambda conn: (time.sleep(0.2), echo_line(conn))], indirect=True)
def test_bounded_concurrency_and_budgets_that_start_at_the_slot(server):
    """Two slots, six tasks of one 0.2 s exchange each: three rounds; no task's budget counts its wait for a slot."""
    seen = []

    def task(i):
        budget = _net.Budget(0.5, running=False)
        budget.resume()  # a task's code before its first yield runs when it gets its slot
        result = yield Line(budget, server.addr, f"{i}\n".encode())
        budget.pause()
        seen.append((i, result, budget.remaining()))

    start = time.monotonic()
    run_tasks([task(i) for i in range(6)], max_tasks=2)
    elapsed = time.monotonic() - start
    assert sorted(i for i, _r, _left in seen) == list(range(6))
    assert all(r == ("line", f"{i}\n".encode()) for i, r, _left in seen)
    assert all(left > 0.1 for _i, _r, left in seen)  # each spent about 0.2 s of its 0.5 s
    assert 0.55 <= elapsed < 2.0, elapsed


def test_timers_and_calls_from_other_threads_keep_the_loop_running_until_done():
    reactor = _reactor.Reactor(1)
    call_soon = reactor.wakeup()
    events = []
    timer = reactor.call_at(time.monotonic() + 5, lambda: events.append("too late"))

    def done():
        events.append("called")
        reactor.cancel(timer)

    reactor.call_at(time.monotonic() + 0.05, lambda: events.append("timer"))
    threading.Timer(0.1, lambda: call_soon(done)).start()
    start = time.monotonic()
    reactor.run()
    assert events == ["timer", "called"] and time.monotonic() - start < 1
    call_soon(lambda: None)  # after the loop: ignored, no error


def test_one_exchange_on_the_callers_socket_leaves_it_open():
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        threading.Timer(0.05, lambda: b.sendall(b"verdict\n")).start()
        result = _reactor.run_one(Line(_net.Budget(2), sock=a))
        assert result == ("line", b"verdict\n") and a.fileno() >= 0
        assert _reactor.run_one(Line(_net.Budget(0.1), sock=a)) == ("timeout", "read")
    finally:
        a.close()
        b.close()


def test_an_error_in_a_task_closes_every_socket():
    srv = Server(lambda conn: time.sleep(1))
    exchanges = []

    def task():
        ex = Line(_net.Budget(2), srv.addr, b"x\n")
        exchanges.append(ex)
        yield ex

    def broken():
        yield Line(_net.Budget(2), ("127.0.0.1", 1), b"x\n")
        raise RuntimeError("bug")

    try:
        with pytest.raises(RuntimeError):
            run_tasks([task(), broken()])
    finally:
        srv.close()
    assert exchanges[0].sock is None and exchanges[0].phase == "done"


@pytest.mark.parametrize("server", [lambda conn: (time.sleep(0.1), echo_line(conn))], indirect=True)
def test_tasks_of_one_key_take_at_most_its_slots_and_keys_take_turns(server):
    """Eight slots in all, two per key: six tasks of key a and two of key b run a, a, b, b first; no key ever has more
    than two in flight, and key b does not wait behind all of a."""
    running = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}
    order = []

    def task(key, i):
        running[key] += 1
        peak[key] = max(peak[key], running[key])
        order.append(key)
        yield Line(_net.Budget(2), server.addr, f"{i}\n".encode())
        running[key] -= 1

    reactor = _reactor.Reactor(8, per_key=2)
    for i in range(6):
        reactor.submit(task("a", i), "a")
    for i in range(2):
        reactor.submit(task("b", i), "b")
    reactor.run()
    assert peak == {"a": 2, "b": 2} and sorted(order) == ["a"] * 6 + ["b"] * 2
    assert set(order[:4]) == {"a", "b"}


def test_destination_keys_an_address_and_port():
    assert _reactor.destination(socket.AF_INET, ("192.0.2.1", 443)) == _reactor.destination(socket.AF_INET, ("192.0.2.1", 443))
    assert _reactor.destination(socket.AF_INET, ("192.0.2.1", 443)) != _reactor.destination(socket.AF_INET, ("192.0.2.1", 8443))
    assert _reactor.destination(socket.AF_INET6, ("fe80::1", 443, 0, 2)) != _reactor.destination(socket.AF_INET6, ("fe80::1", 443, 0, 3))
