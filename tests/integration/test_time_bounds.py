# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Hard time bounds of the endpoint probe, on real local endpoints: a slow-but-alive server, a drip-feeding
server, version probes that get no answer, a resolver that never answers, a name with two addresses, and
hundreds of dead endpoints that must cost about one timeout in total."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import codes, wait_listening

import pki

from ansible_collections.port443.https.plugins.module_utils.probe import _probe

SLACK = 0.75  # seconds over the bound for thread scheduling on a shared 2-core machine


class Shaper:
    """A TCP proxy in front of a lab server that changes only the timing of what the server sends.

    delay: the server's first bytes on each connection wait this long; drip: then every byte is sent on its own,
    this many seconds apart; stall_after: connections after the first N are accepted and never answered.
    """

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0, drip: float | None = None, stall_after: int | None = None):
        self.upstream, self.delay, self.drip, self.stall_after = upstream, delay, drip, stall_after
        self.count = 0
        self.closed = False
        self.open: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _addr = self.sock.accept()
            except OSError:
                return
            self.count += 1
            self.open.append(client)
            threading.Thread(target=self._serve, args=(client, self.count), daemon=True).start()

    def _serve(self, client: socket.socket, number: int) -> None:
        if self.stall_after is not None and number > self.stall_after:
            _pump(client, None)  # read and discard: a stuck proxy
            client.close()
            return
        try:
            upstream = socket.create_connection(self.upstream, 5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self.open.append(upstream)
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        first = True
        try:
            while True:
                data = upstream.recv(4096)
                if not data:
                    break
                if first and self.delay:
                    time.sleep(self.delay)
                first = False
                if self.drip:
                    for byte in data:
                        client.sendall(bytes([byte]))
                        time.sleep(self.drip)
                else:
                    client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        """Stop, and end every connection (the lab's s_server serves one connection at a time)."""
        self.closed = True
        self.sock.close()
        for sock in self.open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def _pump(src: socket.socket, dst: socket.socket | None) -> None:
    try:
        while True:
            data = src.recv(4096)
            if not data:
                break
            if dst is not None:
                dst.sendall(data)
    except OSError:
        pass


def timed_probe(lab, endpoints: dict[str, dict], **options) -> tuple[float, dict[str, dict]]:
    """Probe endpoints (by label) through the module's core; (wall seconds, results by label)."""
    params = {"endpoints": list(endpoints.values()), "ca_path": lab.ca_path, "workers": 64, "min_tls_version": "1.2",
              "warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048, "checks": ["tcp", "tls_versions", "certificate"]}
    params.update(options)
    start = time.monotonic()
    outcome = _probe.probe(params)
    return time.monotonic() - start, dict(zip(endpoints, outcome["endpoints"]))


# label -> (shaper settings, timeout, checks on the result). Each row is one kind of slow server.
SLOW = {
    # Every server flight arrives 0.8 s late: the main handshake still completes, the version probes no longer fit.
    "slow_alive": (dict(delay=0.8), 1.0, lambda r: "deadline_exceeded" in codes(r) and r["tls"]["negotiated"] == "1.3"
                   and None in r["tls"]["versions"].values()),
    # One byte every 50 ms: it answers at once, but a handshake would take minutes.
    "drip_feed": (dict(drip=0.05), 1.0, lambda r: codes(r) == ["no_tls_response"] and r["tls"]["negotiated"] is None
                  and set(r["tls"]["versions"].values()) == {None}),
    # The default handshake works, every pinned-version probe after it gets no answer: unknown, not refused.
    "version_stall": (dict(stall_after=2), 1.0, lambda r: "tls_version_unknown" in codes(r) and r["tls"]["versions"]["1.0"] is None
                      and r["tls"]["versions"]["1.3"] is True and False not in r["tls"]["versions"].values()),
}


@pytest.mark.parametrize("label", sorted(SLOW))
def test_slow_server_is_bounded(lab, label):
    settings, timeout, check = SLOW[label]
    upstream = lab.endpoints["all_versions"]
    shaper = Shaper((upstream["host"], upstream["port"]), **settings)
    try:
        elapsed, results = timed_probe(lab, {label: {"host": "127.0.0.1", "port": shaper.port, "server_name": "modern.test"}},
                                       timeout=timeout)
    finally:
        shaper.close()
    res = results[label]
    assert elapsed <= 2 * timeout + SLACK, (elapsed, res)
    assert res["status"] != "ok", res
    assert check(res), json.dumps(res)


def test_many_dead_endpoints_cost_about_one_timeout(lab):
    """150 tarpits (connect, never answer) + 150 blackholes (SYNs dropped) + live servers, 8 workers: ~1 timeout."""
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(1024)
    # A listener whose accept queue is full drops every further SYN: a blackhole without a firewall.
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(0)
    filler = socket.create_connection(sink.getsockname(), 2)
    endpoints = {}
    for i in range(150):
        endpoints[f"tarpit_{i}"] = {"host": "127.0.0.1", "port": tarpit.getsockname()[1], "server_name": "tarpit.test"}
        endpoints[f"sink_{i}"] = {"host": "127.0.0.1", "port": sink.getsockname()[1], "server_name": "sink.test"}
    for name in ("good", "ecdsa", "tls12_only", "expired"):
        endpoints[f"live_{name}"] = lab.endpoints[name]
    try:
        elapsed, results = timed_probe(lab, endpoints, timeout=1, workers=8)
    finally:
        for sock in (filler, sink, tarpit):
            sock.close()
    assert elapsed <= 2 * 1 + SLACK, elapsed
    for label, res in results.items():
        if label.startswith("tarpit_"):
            assert (res["tcp"]["state"], codes(res)) == ("open", ["no_tls_response"]), res
            assert set(res["tls"]["versions"].values()) == {None}, res
        elif label.startswith("sink_"):
            assert (res["tcp"]["state"], codes(res)) == ("filtered", ["filtered"]), res
    assert results["live_good"]["status"] == "ok", results["live_good"]
    assert results["live_tls12_only"]["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": True, "1.3": False}
    assert "expired" in codes(results["live_expired"])


# ---- name resolution and addresses: the probe runs in a subprocess with its own /etc/hosts and resolv.conf -------

CHILD = """
import json, sys, time
from ansible_collections.port443.https.plugins.module_utils.probe import _probe
params = json.load(open(sys.argv[1]))
start = time.monotonic()
out = _probe.probe(params)
print(json.dumps({"elapsed": time.monotonic() - start, "endpoints": out["endpoints"]}))
"""


def _can_unshare() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0


needs_ns = pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m (a private mount namespace)")


def run_in_namespace(tmp_path, hosts: str, nameserver: str, params: dict) -> tuple[float, dict]:
    """Run the probe in a child process whose /etc/hosts and /etc/resolv.conf are ours (mount namespace)."""
    files = {"hosts": hosts, "resolv.conf": f"nameserver {nameserver}\noptions timeout:10 attempts:3\n", "host.conf": "multi on\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "params.json").write_text(json.dumps(params))
    (tmp_path / "child.py").write_text(CHILD)
    mounts = " && ".join(f"mount --bind {tmp_path / name} /etc/{name}" for name in files)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    start = time.monotonic()
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f'{mounts} && exec "$0" "$1" "$2"', sys.executable,
                           str(tmp_path / "child.py"), str(tmp_path / "params.json")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


@needs_ns
def test_hanging_resolver_is_bounded(lab, tmp_path):
    """A name sent to a DNS server that never answers: dns_timeout within the timeout; the process exits at once."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        silent.bind(("127.0.0.153", 53))
    except OSError as exc:
        silent.close()
        pytest.skip(f"cannot bind a silent DNS server on 127.0.0.153:53: {exc}")
    good = lab.endpoints["good"]
    params = {"endpoints": [{"host": "hangs.example", "port": 443}, {"host": "good.test", "port": good["port"]}],
              "timeout": 1, "workers": 4, "ca_path": lab.ca_path, "checks": ["tcp", "tls_versions", "certificate"]}
    try:
        wall, out = run_in_namespace(tmp_path, "127.0.0.1 localhost\n127.0.0.1 good.test\n", "127.0.0.153", params)
    finally:
        silent.close()
    hang, ok = out["endpoints"]
    assert hang["tcp"]["state"] == "dns_timeout" and [r["code"] for r in hang["reasons"]] == ["dns_timeout"], hang
    assert hang["status"] == "critical"
    assert ok["status"] == "ok" and ok["address"] == "127.0.0.1", ok
    assert out["elapsed"] <= 2 * 1 + SLACK, out["elapsed"]
    # The abandoned lookup thread must not hold the interpreter at exit (resolv.conf would let it hang ~30 s).
    assert wall <= out["elapsed"] + 5, wall


SERVED: dict[str, dict] = {}
# What the name's first address (127.0.0.2) does -> its expected state; the second address (127.0.0.3) serves.
# Same /24 for both, so the resolver keeps the /etc/hosts order (RFC 6724 sorting would rank by prefix).
FIRST_ADDRESS = {"refuses": "closed", "drops": "filtered"}


@needs_ns
@pytest.mark.parametrize("first", sorted(FIRST_ADDRESS))
def test_every_address_tried_in_turn(lab, tmp_path, first):
    if "two_addr" not in SERVED:
        # Served on 127.0.0.3 only; the same port on 127.0.0.2 refuses, or drops SYNs (a full accept queue).
        lab.s_server("two_addr", pki.issue("two.test", issuer=lab.inter), [lab.inter], host="127.0.0.3", server_name="two.test")
        SERVED["two_addr"] = lab.endpoints.pop("two_addr")
        wait_listening(*SERVED["two_addr"].pop("_wait"))
    port = SERVED["two_addr"]["port"]
    socks = []
    if first == "drops":
        sink = socket.socket()
        sink.bind(("127.0.0.2", port))
        sink.listen(0)
        socks = [sink, socket.create_connection(("127.0.0.2", port), 2)]
    params = {"endpoints": [{"host": "two.test", "port": port}], "timeout": 1, "workers": 4, "ca_path": lab.ca_path,
              "checks": ["tcp", "tls_versions", "certificate"]}
    try:
        _wall, out = run_in_namespace(tmp_path, "127.0.0.2 two.test\n127.0.0.3 two.test\n", "127.0.0.153", params)
    finally:
        for sock in socks:
            sock.close()
    res = out["endpoints"][0]
    assert res["address"] == "127.0.0.3" and res["tcp"]["state"] == "open", res
    assert [(a["address"], a["state"]) for a in res["tcp"]["attempts"]] == [("127.0.0.2", FIRST_ADDRESS[first]), ("127.0.0.3", "open")]
    assert res["status"] == "ok", res["reasons"]
    assert out["elapsed"] <= 2 * 1 + SLACK
