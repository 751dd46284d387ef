# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import socket

import pytest

from ansible_collections.port443.https.plugins.modules import https_endpoint_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exit, run_module


@pytest.fixture(autouse=True)
def _patch_exit(monkeypatch):
    patch_exit(monkeypatch)


def run(args, expect=ExitJson):
    return run_module(https_endpoint_info.main, args, expect)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize(
    "args, needle",
    [
        ({"endpoints": []}, "endpoints: the list is empty"),
        ({"endpoints": [{"host": "a.example", "port": 0}]}, "endpoints[0].port: 0 is out of range"),
        ({"endpoints": [{"host": "a.example", "port": 70000}]}, "endpoints[0].port: 70000 is out of range"),
        ({"endpoints": [{"host": "a.example"}, {"host": "bad host!"}]}, "endpoints[1].host: 'bad host!' is not a valid host name"),
        ({"endpoints": [{"host": "a.example", "address": "not-an-ip"}]}, "endpoints[0].address: 'not-an-ip' is not an IP address"),
        ({"endpoints": [{"host": "a.example"}], "min_tls_version": "1.5"}, "min_tls_version"),
        ({"endpoints": [{"host": "a.example"}], "fail_on": "sometimes"}, "fail_on"),
        ({"endpoints": [{"host": "a.example"}], "checks": ["tcp", "dns"]}, "checks"),
        ({"endpoints": [{"host": "a.example"}], "ca_path": "/nonexistent/ca.pem"}, "ca_path: the CA bundle '/nonexistent/ca.pem' does not exist"),
        ({"endpoints": [{"host": "a.example"}], "timeout": 0}, "timeout: 0"),
        ({"endpoints": [{"host": "a.example"}], "workers": 0}, "workers: 0"),
    ],
)
def test_bad_input(args, needle):
    result = run(args, FailJson)
    assert needle in result["msg"]
    assert "Traceback" not in result["msg"]


def test_ca_path_not_pem(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("hello")
    result = run({"endpoints": [{"host": "a.example"}], "ca_path": str(bundle)}, FailJson)
    assert "ca_path: cannot use the CA bundle" in result["msg"]


def test_closed_port_check_mode():
    port = closed_port()
    result = run({"endpoints": [{"host": "127.0.0.1", "port": port}], "_ansible_check_mode": True})
    assert result["changed"] is False
    ep = result["endpoints"][0]
    assert ep["tcp"]["state"] == "closed"
    assert ep["status"] == "critical"
    assert [r["code"] for r in ep["reasons"]] == ["closed"]
    assert result["summary"] == {"total": 1, "ok": 0, "warning": 0, "critical": 1, "by_reason": {"closed": 1}}


def test_fail_on_critical_returns_results():
    port = closed_port()
    result = run({"endpoints": [{"host": "127.0.0.1", "port": port}, {"host": "127.0.0.1", "port": closed_port()}], "fail_on": "critical",
                  "checks": ["tcp"], "timeout": 1}, FailJson)
    assert "at or above fail_on=critical" in result["msg"]
    assert f"127.0.0.1:{port} critical (closed)" in result["msg"]
    assert len(result["endpoints"]) == 2


def test_order_and_concurrency():
    ports = [closed_port() for dummy in range(5)]
    result = run({"endpoints": [{"host": "127.0.0.1", "port": p} for p in ports], "workers": 3, "checks": ["tcp"]})
    assert [e["port"] for e in result["endpoints"]] == ports
