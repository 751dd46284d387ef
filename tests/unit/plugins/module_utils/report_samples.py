# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Probe results shaped like port443.https.https_endpoint_info's `endpoints`, for report and doctor tests."""
from __future__ import annotations

import copy


def _reason(code, severity, message, fix="Fix it."):
    return {"code": code, "severity": severity, "message": message, "fix": fix}


def endpoint(host, status="ok", reasons=None, tcp="open", versions=None, days=90, port=443, server_name=None, **extra):
    versions = versions or {"1.0": False, "1.1": False, "1.2": True, "1.3": True}
    res = {
        "host": host, "port": port, "server_name": server_name or host, "address": "192.0.2.10",
        "status": status, "reasons": reasons or [],
        "tcp": {"state": tcp, "latency_ms": 0.42, "error": None},
        "tls": {"versions": versions if tcp == "open" else {v: None for v in versions}, "negotiated": "1.3" if tcp == "open" else None,
                "cipher": "TLS_AES_256_GCM_SHA384" if tcp == "open" else None, "alpn": "http/1.1", "error": None},
        "certificate": None if tcp != "open" or days is None else {
            "subject": f"CN={host}", "issuer": "CN=Lab Intermediate CA", "days_left": days, "not_after": "2027-01-01T00:00:00Z",
            "sans": [host], "trusted": True, "hostname_match": True, "verification": "trusted"},
        "revocation": None,
        "http": None if tcp != "open" else {"redirect": {"status": 301, "location": f"https://{host}/", "ok": True},
                                            "hsts": {"present": True, "max_age": 31536000}},
    }
    res.update(extra)
    return res


def fleet():
    return copy.deepcopy([
        endpoint("good.example", days=200),
        endpoint("soon.example", "warning",
                 [_reason("expiring_soon", "warning", "The server certificate expires soon. (12 day(s) left)", "Renew the certificate now.")],
                 days=12),
        endpoint("legacy.example", "warning", [_reason("legacy_tls_enabled", "warning", "Accepts TLS 1.0", "Disable obsolete protocols.")],
                 versions={"1.0": True, "1.1": True, "1.2": True, "1.3": False}, days=300),
        endpoint("expired.example", "critical",
                 [_reason("expired", "critical", "The server certificate has expired. (notAfter 2024-01-01)", "Renew the certificate.")],
                 days=-30),
        endpoint("dropped.example", "critical", [_reason("filtered", "critical", "The connection timed out.", "Allow inbound TCP 443.")],
                 tcp="filtered"),
        endpoint("evil.example", "critical",
                 [_reason("hostname_mismatch", "critical", 'evil "name" </script><script>alert(1)</script> & <b>x</b>',
                          "Fix \\ the \"name\"\nnow | please")],
                 server_name='evil.example', days=45),
    ])


def _cert_times(endpoint_result, hours_left):
    """Set a result's certificate times from the hours it has left (at a fixed probe time, so samples never change)."""
    import datetime

    probed = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
    not_after = probed + datetime.timedelta(hours=hours_left)
    cert = endpoint_result["certificate"]
    cert["not_after"] = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    cert["days_left"] = hours_left // 24
    cert["hours_left"] = hours_left
    return endpoint_result


def short_lived_fleet():
    """Six-day certificates renewed every few days: hours to six days left, two of them expiring within the day."""
    from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

    out = []
    for idx, hours in enumerate((3, 11, 20, 30, 41, 52, 66, 80, 95, 110, 122, 133, 140, 143)):
        host = f"edge{idx + 1:02d}.short.example"
        # The thresholds of such a fleet: warning_days 2, critical_days 1.
        if hours < 48:
            res = endpoint(host, "critical", [_classify.reason("expiring_soon", f"{hours} hour(s) left", "critical")])
        elif hours < 72:
            res = endpoint(host, "warning", [_classify.reason("expiring_soon", f"{hours // 24} day(s) left")])
        else:
            res = endpoint(host)
        out.append(_cert_times(res, hours))
    return out


def large_fleet(count=200):
    """A fleet of COUNT hosts: most fine, some with one to four findings whose messages and fixes are the real ones."""
    from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

    r = _classify.reason
    shapes = [
        ("ok", [], {}),
        ("warning", [r("no_hsts")], {}),
        ("ok", [], {}),
        ("warning", [r("expiring_soon", "12 day(s) left")], {"days": 12}),
        ("critical", [r("expired", "notAfter 2026-02-01T00:00:00Z"), r("no_hsts")], {"days": -28}),
        ("ok", [], {}),
        ("critical", [r("hostname_mismatch", "www.example not in api.example"), r("incomplete_chain"), r("no_hsts"),
                      r("legacy_tls_enabled", "TLS 1.0, TLS 1.1")],
         {"versions": {"1.0": True, "1.1": True, "1.2": True, "1.3": False}, "days": 45}),
        ("critical", [r("filtered", "timed out after 5 s")], {"tcp": "filtered"}),
        ("ok", [], {}),
        ("warning", [r("legacy_tls_enabled", "TLS 1.0"), r("no_redirect")], {"versions": {"1.0": True, "1.1": False, "1.2": True, "1.3": True}}),
    ]
    out = []
    for idx in range(count):
        status, reasons, extra = shapes[idx % len(shapes)]
        extra = dict(extra)
        extra.setdefault("days", 20 + (idx * 37) % 340)
        out.append(endpoint(f"web{idx + 1:03d}.fleet.example", status, copy.deepcopy(reasons), **extra))
    return out


def two_vantages():
    """Results merged from two vantage points: one endpoint filtered from outside, one trusted only from inside (its
    own CA bundle there), one alike from both."""
    from ansible_collections.port443.https.plugins.module_utils.report import _vantage
    from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

    r = _classify.reason
    plan = _vantage.plan([{"host": "a.test"}, {"host": "b.test"}, {"host": "c.test"}], ["controller", "inside"], ["w1", "w2"])
    outside = [endpoint("a.test", "critical", [r("filtered")], tcp="filtered"),
               endpoint("b.test", "warning", [r("no_hsts")]), endpoint("c.test")]
    inside = [endpoint("a.test"), endpoint("b.test", "critical", [r("no_hsts"), r("untrusted_root")]), endpoint("c.test")]
    return _vantage.merge([{"item": "controller", "endpoints": outside}, {"item": "inside", "endpoints": inside}], plan)["endpoints"]


def preview_reports():
    """{name: report} of the sample fleets, for looking at the HTML page (tests/tools/report_template.py --preview)."""
    from ansible_collections.port443.https.plugins.module_utils.report import _report

    return {
        "short-lived": _report.build(short_lived_fleet(), title="Short-lived certificates (six days)",
                                     thresholds={"warning_days": 2, "critical_days": 1}),
        "fleet-200": _report.build(large_fleet(), title="Fleet of 200 hosts"),
        "vantages": _report.build(two_vantages(), title="Two vantage points"),
    }
