# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""tests/tools/https_poll.py: the figures the enable_rerun scenario asserts (failures, longest gap, fewest pool members
serving at any instant), and a real poll of a local TLS server."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "https_poll.py")
_spec = importlib.util.spec_from_file_location("https_poll", TOOL)
poll = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(poll)


def test_parse_target():
    expected = {"name": "web1", "host": "10.0.0.5", "port": 8443, "sni": "pool.test"}
    assert poll.parse_target("web1=10.0.0.5:8443/pool.test") == expected
    assert poll.parse_target("www.example.org") == {"name": "www.example.org", "host": "www.example.org", "port": 443,
                                                    "sni": "www.example.org"}
    for bad in ("web1=:443", "web1=host:https"):
        with pytest.raises(ValueError, match="NAME=HOST:PORT"):
            poll.parse_target(bad)


def test_longest_gap():
    timeline = [[0.0, True, "a"], [0.25, True, "a"], [0.5, False, "refused"], [0.75, False, "refused"],
                [1.0, True, "b"], [1.25, True, "b"]]
    assert poll.longest_gap(timeline, 0.0, 1.3) == 0.75
    # Before the first success and after the last one count too; nothing served: the whole window.
    assert poll.longest_gap([[2.0, True, "a"]], 0.0, 2.1) == 2.0
    assert poll.longest_gap([[0.0, True, "a"]], 0.0, 5.0) == 5.0
    assert poll.longest_gap([[0.0, False, "x"]], 0.0, 3.0) == 3.0


def test_serving_intervals_merge_and_hold_until_the_next_result():
    timeline = [[0.0, True, "a"], [0.25, True, "a"], [0.5, False, "x"], [1.0, True, "b"]]
    assert poll.serving_intervals(timeline, 2.0) == [(0.0, 0.5), (1.0, 2.0)]
    assert poll.serving_intervals([[0.0, False, "x"]], 1.0) == []


def test_min_serving_counts_overlapping_outages_only():
    up = [[t / 4, True, "a"] for t in range(0, 41)]

    def down(start, stop):
        return [[t / 4, not start <= t / 4 < stop, "a"] for t in range(0, 41)]

    # One member at a time down (rolling): never fewer than two of three.
    rolling = {"m1": down(1, 2), "m2": down(3, 4), "m3": down(5, 6)}
    result = poll.min_serving(rolling)
    assert result["min_serving"] == 2 and result["members"] == 3
    assert result["at"] == 1.0 and result["seconds"] == 3.0
    # Two members down together for half a second: one serves.
    together = {"m1": down(1, 2), "m2": down(1.5, 2.5), "m3": up}
    result = poll.min_serving(together)
    assert result["min_serving"] == 1 and result["at"] == 1.5 and result["seconds"] == 0.5
    # Everyone up: all serve; everyone down at once: zero.
    assert poll.min_serving({"m1": up, "m2": up})["min_serving"] == 2
    assert poll.min_serving({"m1": down(2, 3), "m2": down(2.5, 4)})["min_serving"] == 0
    # A handover at one instant (m1 stops exactly when m2 starts) is not a dip to zero.
    handover = {"m1": [[0.0, True, "a"], [1.0, False, "x"]], "m2": [[0.0, False, "x"], [1.0, True, "a"]]}
    assert poll.min_serving(handover, 0.0, 2.0)["min_serving"] == 1
    # A window that starts before a member answered counts it as not serving.
    assert poll.min_serving({"m1": [[0.5, True, "a"]], "m2": [[0.0, True, "a"]]}, 0.0, 2.0)["min_serving"] == 1
    with pytest.raises(ValueError):
        poll.min_serving({"m1": []})
    with pytest.raises(ValueError):
        poll.min_serving({"m1": up}, 5.0, 1.0)


def test_summarize_reports_the_figures_and_refuses_unknown_members():
    report = {"duration": 2.0, "targets": {
        name: {"polls": 3, "failures": f, "longest_gap": g, "fingerprints": ["a"], "last": "a",
               "timeline": [[0.0, True, "a"], [0.5, f == 0, "a" if f == 0 else "timed out"], [1.0, True, "a"]],
               "errors": [] if f == 0 else ["timed out"]}
        for name, f, g in (("m1", 0, 0.5), ("m2", 1, 1.0))}}
    out = poll.summarize(report, ["m1", "m2"])
    # A target with failed polls carries their errors and when they happened; one without, only the figures.
    assert out["targets"]["m1"] == {"polls": 3, "failures": 0, "longest_gap": 0.5, "fingerprints": ["a"], "last": "a"}
    assert out["targets"]["m2"] == {"polls": 3, "failures": 1, "longest_gap": 1.0, "fingerprints": ["a"], "last": "a",
                                    "errors": ["timed out"], "failed_at": [0.5]}
    assert out["serving"]["min_serving"] == 1 and out["serving"]["window"] == [0.0, 2.0]
    with pytest.raises(ValueError, match="m3"):
        poll.summarize(report, ["m1", "m3"])


@pytest.fixture()
def tls_server(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=poll.test", "-addext", "subjectAltName=DNS:poll.test",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(4096)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], str(tmp_path / "cert.pem")
    stop.set()
    thread.join(2)
    listener.close()


def test_serial_of_reads_short_and_long_forms_and_refuses_garbage():
    # SEQUENCE { SEQUENCE { [0] { INTEGER 2 }, INTEGER 0x00ff } }, the outer length in the long form.
    tbs = bytes([0x30, 0x09, 0xA0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x02, 0x00, 0xFF])
    assert poll.serial_of(bytes([0x30, 0x81, len(tbs)]) + tbs) == "ff"
    # No version field (v1 certificate).
    assert poll.serial_of(bytes([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x07])) == "7"
    assert poll.serial_of(b"\x30") == "" and poll.serial_of(bytes([0x30, 0x03, 0x30, 0x01, 0x05])) == ""


def test_polls_a_real_tls_server_and_a_closed_port(tls_server, tmp_path):
    port, ca = tls_server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    out = tmp_path / "poll.json"
    proc = subprocess.run([sys.executable, TOOL, "--out", str(out), "--interval", "0.1", "--timeout", "1",
                           "--max-polls", "4", "--duration", "20", "--ca", ca,
                           "--target", f"up=127.0.0.1:{port}/poll.test", "--target", f"down=127.0.0.1:{closed_port}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["verified"] is True
    up, down = report["targets"]["up"], report["targets"]["down"]
    assert up["polls"] == 4 and up["failures"] == 0 and len(up["fingerprints"]) == 1, up
    assert up["longest_gap"] < 1.0
    # The serial served, as openssl reads it (the renewal scenarios compare it with the CA's log).
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", ca], capture_output=True, text=True,
                            check=True).stdout.strip().split("=", 1)[1]
    assert up["serials"] == [format(int(serial, 16), "x")] and down["serials"] == []
    assert down["polls"] == 4 and down["failures"] == 4 and down["last"] is None
    assert "ConnectionRefusedError" in down["errors"][0]
    # The wrong name under verification is a failure, not a success.
    bad = poll.poll_once({"host": "127.0.0.1", "port": port, "sni": "other.test"}, 1.0,
                         ssl.create_default_context(cafile=ca))
    assert bad[0] is False and "SSLCertVerificationError" in bad[1]


def test_stops_on_the_stop_file(tls_server, tmp_path):
    port, _ca = tls_server
    out, stop = tmp_path / "poll.json", tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, TOOL, "--out", str(out), "--stop-file", str(stop), "--duration", "30",
                             "--target", f"up=127.0.0.1:{port}/poll.test"], stderr=subprocess.PIPE)
    threading.Event().wait(1.2)
    stop.touch()
    assert proc.wait(timeout=10) == 0
    report = json.loads(out.read_text())
    assert report["duration"] < 5 and report["targets"]["up"]["polls"] >= 3
    assert report["targets"]["up"]["failures"] == 0
