# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""acme_preflight_info's profile check against a real local HTTP server serving ACME directories."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

from ansible_collections.port443.https.plugins.modules import acme_preflight_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import FailJson, patch_exit, run_module

DIRECTORIES = {
    "/le": {"meta": {"profiles": {"classic": "default", "shortlived": "six days"}}},
    "/pebble": {"meta": {"externalAccountRequired": False}},
}


@pytest.fixture(name="ca")
def fixture_ca():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            body = DIRECTORIES.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _args(base, path, profile):
    return {"names": ["www.lab.test", "192.0.2.10"], "lookups": False, "profile": profile,
            "acme_directories": [base + path]}


def test_profile_offered(monkeypatch, ca):
    patch_exit(monkeypatch)
    result = run_module(acme_preflight_info.main, _args(ca, "/le", "shortlived"))
    assert result["profiles"] == {ca + "/le": {"classic": "default", "shortlived": "six days"}}


def test_ca_without_profiles(monkeypatch, ca):
    patch_exit(monkeypatch)
    result = run_module(acme_preflight_info.main, _args(ca, "/pebble", "shortlived"), expect=FailJson)
    assert result["msg"].startswith(f"the CA at {ca}/pebble advertises no ACME profiles")


def test_profile_not_offered_and_unreadable_directory(monkeypatch, ca):
    patch_exit(monkeypatch)
    args = _args(ca, "/le", "tlsserver")
    args["acme_directories"].append(ca + "/missing")
    result = run_module(acme_preflight_info.main, args, expect=FailJson)
    assert result["problems"][0] == f"the CA at {ca}/le does not offer the ACME profile 'tlsserver' (profile); it offers classic, shortlived"
    assert result["problems"][1].startswith(f"the ACME directory {ca}/missing could not be read (404")


def test_no_profile_reads_nothing(monkeypatch):
    patch_exit(monkeypatch)
    result = run_module(acme_preflight_info.main, {"names": ["www.lab.test"], "lookups": False,
                                                   "acme_directories": ["http://127.0.0.1:9/never"]})
    assert result["profiles"] == {}


def test_ip_address_with_dns01_is_refused(monkeypatch):
    patch_exit(monkeypatch)
    result = run_module(acme_preflight_info.main, {"names": ["192.0.2.10"], "lookups": False, "challenge": "dns-01"},
                        expect=FailJson)
    assert "192.0.2.10" in result["msg"]
