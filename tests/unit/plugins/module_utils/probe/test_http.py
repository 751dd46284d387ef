# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""What the HTTPS answer says (canned answers): downgrade redirects, error statuses, expected statuses, input checks."""
from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _http, _probe

URL = "https://www.example.com/app/"


@pytest.mark.parametrize("status, headers, expected, findings", [
    (200, {}, None, []),
    (204, {}, None, []),
    (301, {"location": "https://www.example.com/login"}, None, []),
    (302, {"location": "/login"}, None, []),                        # relative: stays on https
    (302, {"location": "//cdn.example.com/x"}, None, []),           # scheme-relative: stays on https
    (301, {"location": "http://www.example.com/"}, None, ["https_downgrade"]),
    (308, {"location": "HTTP://www.example.com/"}, None, ["https_downgrade"]),
    (302, {"location": " http://other.example/"}, None, ["https_downgrade"]),
    (200, {"location": "http://www.example.com/"}, None, []),       # not a redirect status: no downgrade
    (403, {}, None, ["http_error"]),
    (404, {}, None, ["http_error"]),
    (500, {}, None, ["http_error"]),
    (503, {}, [200, 503], []),
    (200, {}, [204], ["http_error"]),
    (301, {"location": "http://www.example.com/"}, [301], ["https_downgrade"]),
    (302, {"location": "http://www.example.com/"}, [200], ["https_downgrade", "http_error"]),
    (None, {}, None, ["http_error"]),
])
def test_evaluate_answer(status, headers, expected, findings):
    got = _http.evaluate_answer(status, headers, URL, expected)
    assert [code for code, _detail in got] == findings
    for _code, detail in got:
        assert "/app/" in detail


def test_evaluate_answer_details():
    assert _http.evaluate_answer(404, {}, URL) == [("http_error", "GET /app/ answered 404")]
    assert _http.evaluate_answer(200, {}, URL, [204, 301]) == [("http_error", "GET /app/ answered 200, expected 204, 301")]
    assert _http.evaluate_answer(301, {"location": "http://x/"}, URL) == [
        ("https_downgrade", "GET /app/ answered 301 with Location http://x/")]
    assert _http.evaluate_answer(None, {}, URL) == [("http_error", "no HTTP answer over TLS to GET /app/")]


def test_request_uses_the_path():
    assert _http.request_bytes("www.example.com", "GET", "/health?x=1").startswith(b"GET /health?x=1 HTTP/1.1\r\n")


@pytest.mark.parametrize("params, needle", [
    ({"http_path": ""}, "http_path: '' expected a path starting with '/'"),
    ({"http_path": "health"}, "http_path: 'health' must start with a single '/'"),
    ({"http_path": "//evil.example/"}, "http_path: '//evil.example/' must start with a single '/'"),
    ({"http_path": "/a b"}, "http_path: '/a b' must be printable ASCII"),
    ({"http_path": "/a\r\nX-Injected: 1"}, "must be printable ASCII"),
    ({"http_path": "/caf\u00e9"}, "must be printable ASCII"),
    ({"http_path": "/x#frag"}, "must be printable ASCII"),
    ({"http_path": 42}, "http_path: 42 expected a path"),
    ({"http_path": "/" + "a" * 2048}, "is longer than 2048 characters"),
    ({"http_expected_status": []}, "http_expected_status: expected a non-empty list"),
    ({"http_expected_status": [200, 99]}, "http_expected_status: 99 is not an HTTP status code (100-599)"),
    ({"http_expected_status": [600]}, "600 is not an HTTP status code"),
    ({"http_expected_status": [True]}, "True is not an HTTP status code"),
    ({"http_expected_status": "200"}, "http_expected_status: expected a non-empty list"),
    ({"endpoints": [{"host": "a.example", "http_path": "nope"}]}, "endpoints[0].http_path: 'nope' must start with a single '/'"),
])
def test_validate_http_options(params, needle):
    args = {"endpoints": [{"host": "a.example"}], **params}
    with pytest.raises(_probe.ProbeInputError) as err:
        _probe.validate(args)
    assert needle in str(err.value)


def test_validate_http_defaults_and_override():
    endpoints, opts = _probe.validate({"endpoints": [{"host": "a.example"}, {"host": "b.example", "http_path": "/b"}]})
    assert opts["http_path"] == "/" and opts["http_expected_status"] is None
    assert [ep["http_path"] for ep in endpoints] == ["/", "/b"]
    endpoints, opts = _probe.validate({"endpoints": ["a.example"], "http_path": "/status?full=1", "http_expected_status": [200, 204]})
    assert endpoints[0]["http_path"] == "/status?full=1" and opts["http_expected_status"] == [200, 204]
