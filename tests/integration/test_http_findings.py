# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""What the HTTPS answer says, on real local HTTPS servers: a redirect to http:// is https_downgrade (critical),
a 4xx/5xx answer or a status outside http_expected_status is http_error (warning), on the path of http_path
(or the endpoint's own http_path). One table row per case."""

from __future__ import annotations

import re

import pki
import pytest
from conftest import free_port, probe, serve_http

HSTS = "max-age=63072000"

# label -> (behaviour of the HTTPS server, probe options, {code: severity} expected, expected http.status, http.location)
CASES = {
    "ok": ({}, {}, {}, 200, None),
    "forbidden": ({"status": 403}, {}, {"http_error": "warning"}, 403, None),
    "not_found": ({"status": 404}, {}, {"http_error": "warning"}, 404, None),
    "server_error": ({"status": 502}, {}, {"http_error": "warning"}, 502, None),
    "downgrade": ({"status": 301, "location": "http://httpcheck.test/"}, {}, {"https_downgrade": "critical"}, 301, "http://httpcheck.test/"),
    "downgrade_other_host": ({"status": 302, "location": "http://elsewhere.test/login"}, {}, {"https_downgrade": "critical"}, 302,
                             "http://elsewhere.test/login"),
    "relative_redirect": ({"status": 302, "location": "/login"}, {}, {}, 302, "/login"),
    "https_redirect": ({"status": 301, "location": "https://httpcheck.test/"}, {}, {}, 301, "https://httpcheck.test/"),
    "expected_mismatch": ({}, {"http_expected_status": [204]}, {"http_error": "warning"}, 200, None),
    "expected_error_ok": ({"status": 503}, {"http_expected_status": [200, 503]}, {}, 503, None),
    "health_path": ({"status": {"/health": 200, "*": 404}}, {"http_path": "/health"}, {}, 200, None),
    "health_root": ({"status": {"/health": 200, "*": 404}}, {}, {"http_error": "warning"}, 404, None),
    "health_override": ({"status": {"/health": 200, "*": 404}}, {"_endpoint": {"http_path": "/health"}}, {}, 200, None),
    "silent": ({"silent": True}, {}, {"http_error": "warning", "no_hsts": "warning"}, None, None),
    "override_wins": ({"status": {"/health": 200, "*": 404}}, {"http_path": "/nope", "_endpoint": {"http_path": "/health"}}, {}, 200, None),
}


@pytest.fixture(scope="module")
def http_lab(lab):
    """One HTTPS server (HSTS on) and one port-80-style redirecting server per case, under the lab's CA."""
    leaf = pki.issue("httpcheck.test", issuer=lab.inter)
    crt = lab.write("httpcheck.crt", leaf.pem + lab.inter.pem)
    key = lab.write("httpcheck.key", leaf.key_pem)
    for label, (behaviour, _opts, _codes, _status, _loc) in CASES.items():
        tls_port, http_port = free_port(), free_port()
        lab.servers.append(serve_http("127.0.0.1", tls_port, {"hsts": HSTS, **behaviour}, (crt, key)))
        lab.servers.append(serve_http("127.0.0.1", http_port, {"redirect": tls_port}))
        lab.endpoints[f"http_{label}"] = {"host": "127.0.0.1", "port": tls_port, "http_port": http_port, "server_name": "httpcheck.test"}
    return lab


@pytest.mark.parametrize("label", sorted(CASES))
def test_http_answer(http_lab, label):
    _behaviour, options, expected, status, location = CASES[label]
    options = dict(options)
    name = f"http_{label}"
    endpoint = options.pop("_endpoint", None)
    if endpoint:
        http_lab.endpoints[f"{name}_ep"] = {**http_lab.endpoints[name], **endpoint}
        name = f"{name}_ep"
    res = probe(http_lab, [name], checks=["tcp", "certificate", "http"], **options)[name]
    got = {r["code"]: r["severity"] for r in res["reasons"]}
    assert got == expected, res["reasons"]
    assert res["http"]["status"] == status and res["http"]["location"] == location
    assert res["http"]["hsts"]["present"] is (status is not None) and res["http"]["redirect"]["ok"] is True
    assert res["status"] == ("critical" if "critical" in expected.values() else "warning" if expected else "ok")
    for reason in (r for r in res["reasons"] if r["code"] in ("http_error", "https_downgrade")):
        assert f"GET {res['http']['path']}" in reason["message"] and reason["fix"]


def test_http_error_off_without_the_http_check(http_lab):
    res = probe(http_lab, ["http_not_found"], checks=["tcp", "certificate"])["http_not_found"]
    assert res["http"] is None and res["reasons"] == []


def test_report_shows_http_status_redirect_and_hsts(http_lab, tmp_path):
    """The HTML report (rendered by Chromium with its own JavaScript), report.md and report.json show the HTTPS
    answer's status, the port 80 redirect and HSTS per endpoint."""
    from ansible_collections.port443.https.plugins.module_utils.report import _report
    from test_report_html import _run_chromium

    names = ["http_ok", "http_not_found", "http_downgrade", "http_silent"]
    results = probe(http_lab, names, checks=["tcp", "certificate", "http"])
    report = _report.build([results[n] for n in names], title="HTTP answers")
    assert [e["http"]["status"] for e in report["endpoints"]] == [200, 404, 301, None]
    md = _report.render_markdown(report)
    assert "HTTPS answers: 200 x1, 301 x1, 404 x1, no answer x1." in md
    assert "`https_downgrade`" in md and "`http_error`" in md
    page = tmp_path / "report.html"
    page.write_text(_report.render_html(report))
    dom = _run_chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-render-state="done"' in dom.stdout
    rows = {}
    for row in re.findall(r'<tr class="endpoint-row"[^>]*>(.*?)</tr>', dom.stdout, re.S):
        port = re.search(r"<td>127\.0\.0\.1:(\d+) \(httpcheck\.test\)</td>", row).group(1)
        # A cell's text (the page keeps parts such as "max-age=63072000" in spans that do not wrap).
        cells = {k: re.sub(r"<[^>]+>", "", v) for k, v in re.findall(r'<td class="(http|redirect|hsts)[^"]*">(.*?)</td>', row)}
        rows[int(port)] = (cells, re.search(r'<td class="http ([a-z-]+)"', row).group(1))
    by_name = {n: rows[http_lab.endpoints[n]["port"]] for n in names}
    assert by_name["http_ok"] == ({"http": "200 /", "redirect": "yes (301)", "hsts": "max-age=63072000"}, "http-ok")
    assert by_name["http_not_found"][0]["http"] == "404 /" and by_name["http_not_found"][1] == "http-bad"
    assert by_name["http_downgrade"][0]["http"] == "301 / \u2192 http://httpcheck.test/" and by_name["http_downgrade"][1] == "http-bad"
    assert by_name["http_silent"][0] == {"http": "no answer", "redirect": "yes (301)", "hsts": "no"}
