# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Every reason code fires on a real local bad endpoint and stays quiet on the good ones."""

from __future__ import annotations

import time

import pytest
from conftest import codes, probe

# code -> (bad endpoints and the severity expected there, good endpoints where the code must not appear)
CASES = {
    "closed": ({"closed": "critical"}, ["good", "tarpit"]),
    "filtered": ({"blackhole": "critical"}, ["good", "closed", "tarpit"]),
    "unresolvable": ({"unresolvable": "critical"}, ["good", "closed"]),
    "no_tls_response": ({"tarpit": "critical"}, ["good", "plain_http", "closed"]),
    "not_tls": ({"plain_http": "critical"}, ["good", "tarpit", "client_cert_required"]),
    "handshake_failure": ({"no_shared_cipher": "critical"}, ["good", "plain_http", "tarpit", "tls10_only", "client_cert_required"]),
    "client_cert_required": ({"client_cert_required": "warning"}, ["good", "no_shared_cipher", "tls12_only", "tls13_only"]),
    "legacy_tls_enabled": ({"tls10_only": "critical", "tls11_only": "critical", "all_versions": "warning", "rsa1024": "warning"},
                           ["good", "tls12_only", "tls13_only", "ecdsa"]),
    "expired": ({"expired": "critical"}, ["good", "expired_inter", "expiring_crit"]),
    "not_yet_valid": ({"notyet": "critical"}, ["good", "expired"]),
    "expiring_soon": ({"expiring_warn": "warning", "expiring_crit": "critical"}, ["good", "expired"]),
    "hostname_mismatch": ({"wronghost": "critical", "wildcard_deep": "critical"}, ["good", "wildcard", "ip_san", "ipv6", "cnonly"]),
    "cn_only": ({"cnonly": "critical"}, ["good", "wronghost"]),
    "self_signed": ({"selfsigned": "critical"}, ["good", "untrusted", "missing_inter"]),
    "untrusted_root": ({"untrusted": "critical"}, ["good", "selfsigned", "missing_inter"]),
    "incomplete_chain": ({"missing_inter": "critical"}, ["good", "untrusted", "selfsigned", "ecdsa"]),
    "expired_intermediate": ({"expired_inter": "critical"}, ["good", "expired"]),
    "weak_key": ({"rsa1024": "critical"}, ["good", "ecdsa", "sha1"]),
    "weak_signature": ({"sha1": "critical"}, ["good", "rsa1024", "ecdsa"]),
}


def _severity(result, code):
    return [r["severity"] for r in result["reasons"] if r["code"] == code]


@pytest.mark.parametrize("code", sorted(CASES))
def test_reason_fires_and_stays_quiet(core_results, code):
    bad, good = CASES[code]
    if code == "filtered" and "blackhole" not in core_results:
        pytest.skip("could not create the blackhole network namespace (needs root and ip netns)")
    for name, severity in bad.items():
        res = core_results[name]
        assert _severity(res, code) == [severity], (name, res["reasons"])
        reason = next(r for r in res["reasons"] if r["code"] == code)
        assert reason["message"] and reason["fix"]
        assert res["status"] == ("critical" if any(r["severity"] == "critical" for r in res["reasons"]) else severity)
    for name in good:
        assert code not in codes(core_results[name]), (name, core_results[name]["reasons"])


def test_good_endpoint_is_clean(core_results):
    res = core_results["good"]
    assert res["status"] == "ok" and res["reasons"] == []
    assert res["tcp"]["state"] == "open" and res["tcp"]["latency_ms"] is not None
    assert res["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": True, "1.3": True}
    assert res["tls"]["negotiated"] == "1.3" and res["tls"]["cipher"]
    cert = res["certificate"]
    assert cert["trusted"] is True and cert["hostname_match"] is True and cert["verification"] == "trusted"
    assert cert["sans"] == ["good.test"] and cert["days_left"] >= 360
    assert [c["subject"] for c in cert["chain"]] == ["CN=good.test,O=port443 test", "CN=port443 Test Intermediate,O=port443 test"]
    assert cert["path"][-1] == "CN=port443 Test Root,O=port443 test"


@pytest.mark.parametrize("name, versions", [
    ("tls10_only", {"1.0": True, "1.1": False, "1.2": False, "1.3": False}),
    ("tls11_only", {"1.0": False, "1.1": True, "1.2": False, "1.3": False}),
    ("tls12_only", {"1.0": False, "1.1": False, "1.2": True, "1.3": False}),
    ("tls13_only", {"1.0": False, "1.1": False, "1.2": False, "1.3": True}),
    ("all_versions", {"1.0": True, "1.1": True, "1.2": True, "1.3": True}),
])
def test_tls_versions_pinned(core_results, name, versions):
    res = core_results[name]
    assert res["tls"]["versions"] == versions
    assert res["tls"]["negotiated"] == max(v for v, on in versions.items() if on)


def test_alpn_reported(core_results):
    assert core_results["alpn_h2"]["tls"]["alpn"] == "h2"
    assert core_results["good"]["tls"]["alpn"] is None


def test_wildcard_ip_and_ipv6(core_results):
    assert core_results["wildcard"]["certificate"]["hostname_match"] is True
    assert core_results["wildcard_deep"]["certificate"]["hostname_match"] is False
    assert core_results["ip_san"]["status"] == "ok"
    assert core_results["ipv6"]["status"] == "ok" and core_results["ipv6"]["address"] == "::1"


def test_tcp_states(core_results):
    assert core_results["closed"]["tcp"]["state"] == "closed"
    assert core_results["unresolvable"]["tcp"]["state"] == "unresolvable"
    assert core_results["tarpit"]["tcp"]["state"] == "open"
    if "blackhole" in core_results:
        assert core_results["blackhole"]["tcp"]["state"] == "filtered"


def test_dead_endpoints_cost_one_timeout(lab):
    """A tarpit and a blackhole among many endpoints add about one timeout in total, not one each."""
    names = ["tarpit"] + (["blackhole"] if "blackhole" in lab.endpoints else []) + ["good", "ecdsa", "tls12_only", "closed"] * 3
    lab.endpoints.update({f"tarpit{i}": lab.endpoints["tarpit"] for i in range(5)})
    names += [f"tarpit{i}" for i in range(5)]
    start = time.monotonic()
    results = probe(lab, names, timeout=1.5)
    elapsed = time.monotonic() - start
    assert all(results[n]["status"] == "critical" for n in names if n.startswith("tarpit"))
    assert elapsed < 1.5 * 2 + 1.5, elapsed


def test_revocation(lab):
    names = ["revoked_crl", "good_crl", "revoked_ocsp", "good_ocsp", "unknown_rev", "good"]
    results = probe(lab, names, checks=["tcp", "certificate", "revocation"])
    assert results["revoked_crl"]["revocation"]["status"] == "revoked"
    assert results["revoked_crl"]["revocation"]["source"] == "crl"
    assert results["revoked_ocsp"]["revocation"]["status"] == "revoked"
    assert results["revoked_ocsp"]["revocation"]["source"] == "ocsp"
    for name in ("revoked_crl", "revoked_ocsp"):
        assert [r["severity"] for r in results[name]["reasons"] if r["code"] == "revoked"] == ["critical"]
    assert results["good_crl"]["revocation"]["status"] == "good"
    assert results["good_ocsp"]["revocation"]["status"] == "good"
    # No source answers: unknown, never a false good, and said so (a warning, never ok).
    assert results["unknown_rev"]["revocation"]["status"] == "unknown"
    assert results["good"]["revocation"]["status"] == "unknown"
    for name in ("good_crl", "good_ocsp", "unknown_rev", "good"):
        assert "revoked" not in codes(results[name])
        assert results[name]["revocation"]["stapled"]["present"] is False
    for name in ("unknown_rev", "good"):
        assert [(r["code"], r["severity"]) for r in results[name]["reasons"]] == [("revocation_unknown", "warning")]
        assert results[name]["status"] == "warning"
    for name in ("good_crl", "good_ocsp"):
        assert results[name]["reasons"] == [] and results[name]["status"] == "ok"


def test_stapled_ocsp(lab):
    results = probe(lab, ["stapled_good", "stapled_revoked"], checks=["tcp", "certificate", "revocation"])
    good, bad = results["stapled_good"], results["stapled_revoked"]
    assert good["revocation"]["stapled"]["present"] is True and good["revocation"]["stapled"]["status"] == "good"
    # An unverified staple never makes a good: the certificate names no CRL/OCSP source, so the status stays unknown.
    assert good["revocation"]["status"] == "unknown" and codes(good) == ["revocation_unknown"]
    assert bad["revocation"]["stapled"]["status"] == "revoked"
    assert bad["revocation"]["status"] == "revoked" and bad["revocation"]["source"] == "stapled"
    assert "revoked" in codes(bad)


def test_http_redirect_and_hsts(lab):
    results = probe(lab, ["web_good", "web_bad"], checks=["tcp", "tls_versions", "certificate", "http"])
    good, bad = results["web_good"], results["web_bad"]
    assert good["status"] == "ok", good["reasons"]
    assert good["http"]["redirect"] == {"status": 301, "location": f"https://web.test:{good['port']}/", "ok": True}
    assert good["http"]["hsts"] == {"present": True, "max_age": 63072000, "include_subdomains": True, "preload": True}
    assert sorted(codes(bad)) == ["no_hsts", "no_redirect"]
    assert bad["http"]["redirect"]["status"] == 200 and bad["http"]["hsts"]["present"] is False
    assert bad["status"] == "warning"
    strict = probe(lab, ["web_bad"], checks=["tcp", "http"], require_hsts=True, require_redirect=True)["web_bad"]
    assert {r["code"]: r["severity"] for r in strict["reasons"]} == {"no_hsts": "critical", "no_redirect": "critical"}
