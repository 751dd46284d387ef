# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.probe import _http
from ansible_collections.port443.https.plugins.module_utils.host import _net


def test_every_reason_has_text():
    for code, (severity, message, fix, dummy_check) in _classify.REASONS.items():
        assert severity in ("warning", "critical"), code
        assert message.endswith(".") and fix


def test_reason_and_status():
    r = _classify.reason("expiring_soon", "3 day(s) left", "critical")
    assert r["severity"] == "critical" and "3 day(s) left" in r["message"]
    assert _classify.status_of([]) == "ok"
    assert _classify.status_of([_classify.reason("no_hsts"), _classify.reason("closed")]) == "critical"
    assert _classify.status_of([_classify.reason("no_hsts")]) == "warning"


def test_summary():
    results = [
        {"status": "ok", "reasons": []},
        {"status": "warning", "reasons": [_classify.reason("no_hsts")]},
        {"status": "critical", "reasons": [_classify.reason("expired"), _classify.reason("no_hsts")]},
    ]
    assert _classify.summarize(results) == {"total": 3, "ok": 1, "warning": 1, "critical": 1,
                                            "by_reason": {"no_hsts": 2, "expired": 1}}
    assert len(_classify.failing(results, "warning")) == 2
    assert len(_classify.failing(results, "critical")) == 1
    assert _classify.failing(results, "never") == []


@pytest.mark.parametrize("value, expected", [("TLSv1.2", "1.2"), ("tls1_3", "1.3"), ("1", "1.0"), (1.1, "1.1"), ("TLSv1", "1.0")])
def test_normalize(value, expected):
    assert _classify.normalize_tls_version(value) == expected


def test_compare():
    assert _classify.compare_tls_versions("1.3", "TLSv1.2") == 1
    assert _classify.compare_tls_versions("1.2", "1.2") == 0
    assert _classify.compare_tls_versions("1.0", "1.2") == -1
    with pytest.raises(ValueError):
        _classify.normalize_tls_version("SSLv3")


@pytest.mark.parametrize("host, ok", [("example.com", True), ("a-b.example.com.", True), ("::1", True), ("127.0.0.1", True),
                                      ("bad host", False), ("-a.example", False), ("", False), ("a..b", False),
                                      ("*.example.com", False), ("1.2.3", False), ("x" * 64 + ".com", False)])
def test_valid_host(host, ok):
    assert _net.valid_host(host) is ok


def test_hsts_parse():
    assert _http.parse_hsts("max-age=31536000; includeSubDomains; preload") == {
        "present": True, "max_age": 31536000, "include_subdomains": True, "preload": True}
    assert _http.parse_hsts(None)["present"] is False
    assert _http.parse_hsts("max-age=0")["present"] is False


def test_redirect_eval():
    ok = _http.evaluate_redirect(301, {"location": "https://www.example.com/"}, "www.example.com", 443)
    assert ok["ok"] is True
    assert _http.evaluate_redirect(301, {"location": "https://www.example.com:8443/"}, "www.example.com", 8443)["ok"]
    assert not _http.evaluate_redirect(301, {"location": "http://www.example.com/"}, "www.example.com", 443)["ok"]
    assert not _http.evaluate_redirect(200, {}, "www.example.com", 443)["ok"]
    assert not _http.evaluate_redirect(302, {"location": "https://evil.example/"}, "www.example.com", 443)["ok"]


def test_parse_response():
    status, headers = _http.parse_response(b"HTTP/1.1 301 Moved\r\nLocation: https://x/\r\nX: 1\r\n\r\nbody")
    assert status == 301 and headers["location"] == "https://x/"
    assert _http.parse_response(b"\x15\x03\x01") == (None, {})


def test_registry_is_complete():
    """One registry: every reason code has a severity, a text, a fix and a section the reports know."""
    for code, entry in _classify.REASONS.items():
        assert entry.severity in _classify.SEVERITIES and entry.message and entry.fix, code
        assert entry.check in _classify.SECTIONS + ("other",), code
        assert _classify.check_of(code) == entry.check
    assert _classify.check_of("no_such_code") == "other"
    # The groups of codes named once here are codes of the registry, of the section they speak of.
    assert {_classify.REASONS[code].check for code in _classify.TLS_FAILURES} == {"tls"}
    assert {_classify.REASONS[code].check for code in _classify.PROFILE_FAILURES} == {"ciphers"}


def test_failure_message_says_why():
    bad = [
        {"host": "web", "port": 443, "status": "critical", "reasons": [_classify.reason("filtered")]},
        {"host": "web", "port": 80, "status": "critical", "reasons": [_classify.reason("closed")]},
        {"host": "web2", "port": 443, "status": "critical", "reasons": [_classify.reason("filtered")]},
    ]
    msg = _classify.failure_message(bad, 4, "critical")
    assert msg.startswith("3 of 4 endpoint(s) at or above fail_on=critical: web:443 critical (filtered)")
    # each failing code is explained once, from the registry: filtered = dropped on the way, closed = nothing listens
    assert msg.count(_classify.REASONS["filtered"].message) == 1
    assert "filtered: The connection timed out" in msg and "closed: The connection was refused" in msg
    assert "Why" not in _classify.failure_message([{"host": "x", "port": 1, "status": "critical", "reasons": []}], 1, "critical")
