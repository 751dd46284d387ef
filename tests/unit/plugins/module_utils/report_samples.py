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
