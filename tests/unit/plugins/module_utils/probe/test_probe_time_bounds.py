# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Unit tests of the time-bound parts of the probe: the time budget, connect error states, the liveness ClientHello,
how the reachability check concludes, and version-probe verdicts from canned handshakes."""
from __future__ import annotations

import datetime
import errno
import socket
import threading
import time

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _chain, _x509
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers, _hello, _probe, _reach


def test_budget_never_gives_a_zero_socket_timeout():
    b = _net.Budget(0.2, 5)
    assert 0 < b.step() <= 0.2 and _net.Budget(10, 0.05).step() == 0.05
    b = _net.Budget(-1, 5)
    assert b.expired and b.step() == 0.001  # settimeout(0) would mean non-blocking


def test_budget_is_spent_only_while_it_runs():
    b = _net.Budget(10, 5, running=False)
    time.sleep(0.05)
    assert b.remaining() == 10 and b.step() == 5  # waiting for a slot costs nothing
    b.resume(at=time.monotonic() - 4)
    assert 5.9 < b.remaining() <= 6
    b.pause()
    left = b.remaining()
    time.sleep(0.05)
    assert b.remaining() == left and b.step() == 5
    b.resume()
    b.resume(at=time.monotonic() - 100)  # already running: no effect
    assert not b.expired and 0 < left - b.remaining() < 1


@pytest.mark.parametrize("error, state", [
    (errno.ECONNREFUSED, "closed"), (errno.ECONNRESET, "closed"), (errno.ETIMEDOUT, "filtered"),
    (errno.EHOSTUNREACH, "filtered"), (errno.ENETUNREACH, "filtered"), (errno.EACCES, "filtered"),
    (socket.timeout(), "filtered"), (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "closed"),
])
def test_connect_error_states(error, state):
    assert _net.error_state(error) == state


def test_hello_is_one_well_formed_client_hello_then_a_blank_line():
    hello = _reach.HELLO
    assert hello.endswith(b"\r\n\r\n")
    record = hello[:-4]
    assert record[0] == 0x16 and int.from_bytes(record[3:5], "big") == len(record) - 5
    body = record[5:]
    assert body[0] == 1 and int.from_bytes(body[1:4], "big") == len(body) - 4
    # client_version 1.2, 32-byte random, empty session id, one cipher suite: TLS_NULL_WITH_NULL_NULL.
    assert body[4:6] == b"\x03\x03" and body[38] == 0 and body[39:43] == b"\x00\x02\x00\x00"


def test_literal_lookup_needs_no_thread():
    before = threading.active_count()
    lookup = _net.Lookup("[::1]")
    assert lookup.done() and lookup.addresses and lookup.addresses[0][1][0] == "::1"
    assert threading.active_count() == before
    assert _net.resolve_all("127.0.0.1", 8443, 1) == ("ok", [(socket.AF_INET, ("127.0.0.1", 8443))])


def _reach_with(attempts):
    r = _reach.Reach(0, {"host": "h", "port": 443}, _net.Budget(10, 5))
    r.addresses = [(socket.AF_INET, (a["address"], 443)) for a in attempts]
    r.attempts = [dict(a, latency_ms=None) for a in attempts]
    _reach._conclude(r)  # pylint: disable=protected-access
    return r


@pytest.mark.parametrize("states, expected", [
    (["closed", "filtered"], ("filtered", "10.0.0.2", None)),
    (["closed", "closed"], ("closed", "10.0.0.1", None)),
    (["filtered", "open"], ("open", "10.0.0.2", False)),  # connected but silent: no TLS answer on any address
])
def test_conclusion_from_attempts(states, expected):
    r = _reach_with([{"address": f"10.0.0.{i + 1}", "state": s, "error": s} for i, s in enumerate(states)])
    assert (r.state, r.sockaddr[0], r.answered) == expected


def _sink():
    """A loopback listener whose accept queue is full: further SYNs are dropped (connects time out)."""
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(0)
    filler = socket.create_connection(sink.getsockname(), 2)
    return sink, filler


def _reach_all(eps, timeout, hello, max_inflight):
    """reach_all over endpoints with a budget of 2 x timeout each; the reaches in the order they were done."""
    done = []
    reaches = [_reach.Reach(i, ep, _net.Budget(2 * timeout, timeout, running=False)) for i, ep in enumerate(eps)]
    _reach.reach_all(reaches, hello=hello, max_inflight=max_inflight, on_done=done.append)
    return done


@pytest.mark.parametrize("cap, low, high", [(100, 0.25, 0.9), (1, 0.75, 2.5)])
def test_reach_all_dead_endpoints_in_parallel_up_to_the_cap(cap, low, high):
    sink, filler = _sink()
    try:
        eps = [{"host": "127.0.0.1", "port": sink.getsockname()[1]} for dummy in range(3)]
        start = time.monotonic()
        out = _reach_all(eps, 0.25, hello=False, max_inflight=cap)
        elapsed = time.monotonic() - start
    finally:
        filler.close()
        sink.close()
    assert sorted(r.index for r in out) == [0, 1, 2]
    assert all(r.state == "filtered" for r in out)
    assert low <= elapsed <= high, elapsed


def test_reach_all_open_closed_and_silent():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        eps = [{"host": "127.0.0.1", "port": listener.getsockname()[1]}, {"host": "127.0.0.1", "port": closed_port}]
        tcp_only = {r.index: r for r in _reach_all(eps, 0.3, hello=False, max_inflight=10)}
        with_hello = {r.index: r for r in _reach_all(eps, 0.3, hello=True, max_inflight=10)}
    finally:
        listener.close()
    assert (tcp_only[0].state, tcp_only[0].answered) == ("open", None)
    assert tcp_only[1].state == "closed" and tcp_only[1].attempts[0]["state"] == "closed"
    # The listener never reads nor answers: open, but silent.
    assert (with_hello[0].state, with_hello[0].answered) == ("open", False)


def test_raise_nofile_and_cap():
    soft = _reach.raise_nofile()
    assert soft >= 256
    assert 16 <= _reach.inflight_cap(64) <= max(16, soft - 64)


# ---- version probes from canned handshakes ------------------------------------------------------------------


class FakeHs:
    def __init__(self, ok=False, version=None, kind=None):
        self.ok, self.version, self.kind = ok, version, kind


def _run(budget=10, opts=None):
    """An endpoint run past its reachability check (127.0.0.1:443 answered), with `budget` seconds left."""
    opts = {"checks": ["tcp", "tls_versions"], "min_tls_version": "1.2", "timeout": 5, **(opts or {})}
    run = _probe.EndpointRun(0, {"host": "h", "port": 443, "server_name": "h", "address": None}, _probe.Settings(opts))
    run.budget = _net.Budget(budget, 5)
    run.reach, run.family, run.sockaddr = None, socket.AF_INET, ("127.0.0.1", 443)
    run.result = _probe._empty_result(run.ep)  # pylint: disable=protected-access
    return run


def _answer(kind, version=None, alert=None):
    answer = _hello.Answer(kind, f"canned {kind}")
    answer.version, answer.alert = version, alert
    return answer


HELLO = {"1.0": _answer("hello", "1.0"), "1.1": _answer("hello", "1.1"), "1.2": _answer("hello", "1.2"),
         "1.3": _answer("hrr", "1.3")}
REFUSED = _answer("alert", alert=70)  # protocol_version
CLOSED = _answer("closed")


def _serve(monkeypatch, answers):
    """Canned answers to the hand-built version ClientHellos: answers[version] is one Answer or a list of them (one
    per ClientHello of that version, in order). Returns the versions asked, in order."""
    asked = []
    queues = {v: list(a) if isinstance(a, list) else a for v, a in answers.items()}
    monkeypatch.setattr(_ciphers, "hello_bytes", lambda request, server_name: request[0].encode())

    def answer(exchange):
        version = exchange.out.decode()
        asked.append(version)
        found = queues[version]
        return found.pop(0) if isinstance(found, list) else found
    return asked, answer


def _versions(run, hs, answer):
    """The TLS phase's part (what the handshake tells) and the versions phase, its exchanges answered by `answer`."""
    run._versions_from_handshake(hs)  # pylint: disable=protected-access
    if run.versions_asked is None:
        return
    task = run.versions_task()
    try:
        exchange = next(task)
        while True:
            exchange = task.send(answer(exchange))
    except StopIteration:
        pass


@pytest.mark.parametrize("answers, budget, versions, codes", [
    # 1.2 negotiated by the default handshake; 1.0 refused, 1.1 timed out: unknown, with a reason.
    ({"1.0": REFUSED, "1.1": _answer("timeout")}, 10,
     {"1.0": False, "1.1": None, "1.2": True, "1.3": False}, ["tls_version_unknown"]),
    # Every version accepted: legacy versions reported.
    ({"1.0": HELLO["1.0"], "1.1": HELLO["1.1"]}, 10,
     {"1.0": True, "1.1": True, "1.2": True, "1.3": False}, ["legacy_tls_enabled"]),
    # A ServerHello of another version is no acceptance of the one offered.
    ({"1.0": HELLO["1.2"], "1.1": HELLO["1.2"]}, 10, {"1.0": False, "1.1": False, "1.2": True, "1.3": False}, []),
    # An alert that declines nothing (unrecognized_name) is no verdict.
    ({"1.0": REFUSED, "1.1": _answer("alert", alert=112)}, 10,
     {"1.0": False, "1.1": None, "1.2": True, "1.3": False}, ["tls_version_unknown"]),
    # No time left: no verdict, and the deadline is what the reason says.
    ({}, 0, {"1.0": None, "1.1": None, "1.2": True, "1.3": False}, ["deadline_exceeded"]),
])
def test_version_probes(monkeypatch, answers, budget, versions, codes):
    _asked, answer = _serve(monkeypatch, answers)
    run = _run(budget)
    _versions(run, FakeHs(True, "1.2"), answer)
    assert run.result["tls"]["versions"] == versions
    assert [r["code"] for r in run.result["reasons"]] == codes
    assert run.unfinished == ([] if budget else ["TLS 1.0, 1.1"])
    if not budget:
        assert "no verdict for TLS 1.0, 1.1 within" in run.result["reasons"][0]["message"]


def test_a_close_is_a_refusal_only_when_an_answered_offer_confirms_it(monkeypatch):
    """1.1 is closed twice while the offer of the negotiated version (1.2) is answered in between: refused. 1.0 is
    closed, and so is the control after it: a limiter, or the server stopped answering; 1.0 is unknown, never
    refused, and nothing more is asked."""
    asked, answer = _serve(monkeypatch, {"1.2": [HELLO["1.2"], CLOSED], "1.1": [CLOSED, CLOSED], "1.0": [CLOSED]})
    run = _run()
    _versions(run, FakeHs(True, "1.2"), answer)
    assert asked == ["1.1", "1.2", "1.1", "1.0", "1.2"]
    assert run.result["tls"]["versions"] == {"1.0": None, "1.1": False, "1.2": True, "1.3": False}
    reasons = run.result["reasons"]
    assert [r["code"] for r in reasons] == ["tls_version_unknown"] and "TLS 1.0 (" in reasons[0]["message"]


def test_without_a_handshake_every_version_is_asked_and_a_close_is_no_refusal(monkeypatch):
    """The default handshake failed (no version known): all four are asked, TLS 1.3 first; a close before any offer
    was answered cannot be told from a limiter, so it is unknown; a HelloRetryRequest is an acceptance of TLS 1.3."""
    asked, answer = _serve(monkeypatch, {"1.3": HELLO["1.3"], "1.2": REFUSED, "1.1": [CLOSED, CLOSED], "1.0": REFUSED})
    run = _run()
    _versions(run, FakeHs(False), answer)
    assert asked == ["1.3", "1.2", "1.1", "1.3", "1.1", "1.0"]
    assert run.result["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": False, "1.3": True}
    _asked, answer = _serve(monkeypatch, {"1.3": CLOSED, "1.2": CLOSED, "1.1": CLOSED, "1.0": CLOSED})
    run = _run()
    _versions(run, FakeHs(False), answer)
    assert run.result["tls"]["versions"] == {"1.0": None, "1.1": None, "1.2": None, "1.3": None}
    assert [r["code"] for r in run.result["reasons"]] == ["tls_version_unknown"]


def test_unfinished_checks_become_deadline_exceeded():
    run = _run(0, {"checks": ["tcp", "tls_versions", "certificate", "http"]})
    run.tls_phase()
    assert [r["code"] for r in run.result["reasons"]] == ["deadline_exceeded"]
    assert run.result["status"] == _classify.REASONS["deadline_exceeded"].severity != "ok"


def test_a_run_holds_no_private_keys_in_options_or_results(tmp_path):
    """The client certificate pair and the command runner live in the run's settings, never in the options dict."""
    endpoints, opts = _probe.validate({"endpoints": ["example.com"]})
    settings = _probe.Settings(opts, run_command=lambda argv: (0, ""))
    assert not [k for k in opts if k.startswith("_")] and settings.client_cert is None and settings.verify_ca == ""
    run = _probe.EndpointRun(0, endpoints[0], settings)
    run.reach.state = "unresolvable"
    assert run.reached() is False and run.reach is None
    assert not [k for k in run.result if k.startswith("_")] and run.result["reasons"][0]["code"] == "unresolvable"


def test_endpoints_of_one_chain_and_name_share_one_certificate_evaluation(monkeypatch):
    """Within one second, the same chain under the same name with the same validator answer is judged once; each
    caller gets a top-level dict of its own (the CT step adds a key to it). Another name, another validator answer,
    a download (AIA) or another second: judged again."""
    calls = []

    def evaluate(chain_der, server_name, store, policy, verification, now=None, fetch=None, chain_complete=True):
        calls.append(server_name)
        if server_name == "aia.test":
            fetch("http://aia.test/issuer.der")
        return {"name": server_name}, [("expiring_soon", "10 days", "warning", None)]

    monkeypatch.setattr(_chain, "evaluate", evaluate)
    second = [datetime.datetime(2026, 12, 6, 12, 0, 0, 100)]
    monkeypatch.setattr(_x509, "utcnow", lambda: second[0])
    evaluations = _probe.Evaluations()
    hs = FakeHs(True, "1.3")
    hs.chain_der, hs.verified, hs.verify_code, hs.verify_message, hs.chain_complete_known = [b"leaf", b"inter"], True, None, None, True
    first = evaluations.evaluate(hs, "a.test", object(), {}, None)[0]
    first["ct"] = {"count": 0}
    again, findings = evaluations.evaluate(hs, "a.test", object(), {}, None)
    assert calls == ["a.test"] and again == {"name": "a.test"} and findings == [("expiring_soon", "10 days", "warning", None)]
    evaluations.evaluate(hs, "b.test", object(), {}, None)
    hs.verified, hs.verify_code, hs.verify_message = False, 20, "unable to get local issuer certificate"
    evaluations.evaluate(hs, "a.test", object(), {}, None)
    assert calls == ["a.test", "b.test", "a.test"]
    for dummy in range(2):
        evaluations.evaluate(hs, "aia.test", object(), {}, lambda url: b"")
    assert calls[-2:] == ["aia.test", "aia.test"]
    second[0] = datetime.datetime(2026, 12, 6, 12, 0, 1)
    evaluations.evaluate(hs, "a.test", object(), {}, None)
    assert calls[-1] == "a.test" and len(calls) == 6
