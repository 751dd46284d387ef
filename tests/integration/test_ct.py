# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Certificate Transparency and CRL-only revocation against real `openssl s_server`s.

Certificates are issued the way a public CA issues them under CT (pki.issue_logged: a precertificate with the poison,
SCTs from test logs over its TBS without the poison, the final certificate with the SCT list). The test root stands
for a public root by being the system trust store (SSL_CERT_FILE, no ca_path); with ca_path the same root is a
private CA, which needs no SCT. `openssl x509 -text` reads the same SCTs (the independent oracle)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import Lab, free_port, probe, serve_http, wait_listening

sys.path.insert(0, os.path.dirname(__file__))

import pki  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.port443.https.plugins.module_utils.certificate import _sct, _x509  # noqa: E402
from ansible_collections.port443.https.plugins.module_utils.probe import _revocation, _tls  # noqa: E402

N, D = pki.NOW, pki.DAY


@pytest.fixture(scope="module")
def ct_lab(tmp_path_factory):
    lab = Lab(str(tmp_path_factory.mktemp("ct")))
    root = pki.issue("CT Public Root", key=pki.rsa_key(fresh=True), ca=True, not_after=N + 3650 * D)
    inter = pki.issue("CT Public Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True, not_after=N + 1825 * D)
    logs = [pki.TestLog(f"test log {c}", f"operator {c}") for c in "ABC"]
    lab.ca_path = lab.write("ct-root.pem", root.pem)
    lab.logs = logs
    lab.certs = {}
    crl_port = free_port()
    crl_url = f"http://127.0.0.1:{crl_port}/inter.crl"
    lab.servers.append(serve_http("127.0.0.1", crl_port, {"path": {"/inter.crl": pki.crl(inter, [])}}))
    cases = {
        "two_scts": pki.issue_logged("two-scts.test", inter, logs[:2], days=90),
        "one_sct": pki.issue_logged("one-sct.test", inter, logs[:1], days=90),
        "long_two_scts": pki.issue_logged("long.test", inter, logs[:2], days=398),
        "long_three_scts": pki.issue_logged("long3.test", inter, logs, days=398),
        "future_scts": pki.issue_logged("future.test", inter, logs[:2], future=True),
        "tampered_scts": pki.issue_logged("tampered.test", inter, logs[:2], tamper=True),
        "crl_only": pki.issue_logged("crl-only.test", inter, logs[:2], crl_url=crl_url),
        "crl_only_dead": pki.issue_logged("crl-dead.test", inter, logs[:2], crl_url=f"http://127.0.0.1:{free_port()}/x.crl"),
    }
    for label, (_pre, final) in cases.items():
        lab.certs[label] = final
        lab.s_server(label, final, [inter], server_name=final.cert.subject.get_attributes_for_oid(pki.NameOID.COMMON_NAME)[0].value)
    lab.s_server("no_scts", pki.issue("none.test", issuer=inter), [inter], server_name="none.test")
    # SCTs only in the TLS extension (TLS 1.2 ServerHello), over the X.509 entry of a certificate without any.
    plain = pki.issue("tls-ext.test", issuer=inter)
    lab.certs["tls_ext_scts"] = plain
    der = plain.cert.public_bytes(pki.serialization.Encoding.DER)
    stamp = int((N - D).timestamp() * 1000)
    scts = pki.sct_list([log.sct(len(der).to_bytes(3, "big") + der, stamp, x509_entry=True) for log in logs[:2]])
    info = b"\x00\x12" + len(scts).to_bytes(2, "big") + scts
    pem = b"-----BEGIN SERVERINFO FOR signed_certificate_timestamp-----\n" + base64.encodebytes(info) \
        + b"-----END SERVERINFO FOR signed_certificate_timestamp-----\n"
    lab.s_server("tls_ext_scts", plain, [inter], ["-serverinfo", lab.write("tls-ext.serverinfo", pem)], server_name="tls-ext.test")
    lab.s_server("tls13_only", pki.issue("tls13.test", issuer=inter), [inter], ["-tls1_3"], server_name="tls13.test")
    lab.precert = cases["two_scts"][0]
    lab.inter = inter
    for ep in lab.endpoints.values():
        wait_listening(*ep.pop("_wait"))
    wait_listening("127.0.0.1", crl_port)
    yield lab
    lab.close()


@pytest.fixture()
def public_root(ct_lab, monkeypatch):
    """The lab's root among the public roots (as if Mozilla's program included it)."""
    monkeypatch.setattr(_sct, "PUBLIC_ROOT_SOURCES", (ct_lab.ca_path,))
    return ct_lab


def codes(res):
    return {r["code"] for r in res["reasons"]}


EXPECTED = {"two_scts": None, "one_sct": "too_few_scts", "long_two_scts": "too_few_scts", "long_three_scts": None,
            "future_scts": "too_few_scts", "no_scts": "no_sct", "crl_only": None, "tls_ext_scts": None, "tls13_only": "no_sct"}


def test_public_certificates_need_enough_scts(public_root):
    results = probe(public_root, list(EXPECTED))
    for label, expected in EXPECTED.items():
        res = results[label]
        ct = res["certificate"]["ct"]
        assert res["certificate"]["trusted"] is True, (label, res["reasons"])
        assert ct["publicly_trusted"] is True
        found = codes(res) & {"no_sct", "too_few_scts"}
        assert found == ({expected} if expected else set()), (label, res["reasons"])
        # No log list is carried: a signature is never reported valid.
        assert {s["signature"] for s in ct["scts"]} <= {"not_performed"}
        assert ct["signatures"] == "not_performed"
    assert results["long_two_scts"]["certificate"]["ct"]["required"] == 3
    assert results["two_scts"]["certificate"]["ct"]["required"] == 2
    assert results["future_scts"]["certificate"]["ct"]["future"] == 2
    tls_ext = results["tls_ext_scts"]["certificate"]["ct"]
    assert tls_ext["tls_extension"] == "sent" and tls_ext["counted"] == "tls_extension" and tls_ext["count"] == 2
    assert {s["source"] for s in tls_ext["scts"]} == {"tls_extension"}
    assert results["no_scts"]["certificate"]["ct"]["tls_extension"] == "not_sent"
    # Enough embedded SCTs: the TLS extension cannot change the verdict and is not asked for (no extra connection).
    assert results["two_scts"]["certificate"]["ct"]["tls_extension"] == "not_requested"
    assert results["long_three_scts"]["certificate"]["ct"]["tls_extension"] == "not_requested"
    assert results["tls13_only"]["certificate"]["ct"]["tls_extension"] == "unreadable"


def test_private_ca_needs_no_sct(ct_lab, monkeypatch):
    """A private CA, also when the system store trusts it (as the certificate role's certificate_ca_trust makes it):
    only the roots of the public program count."""
    monkeypatch.setenv("SSL_CERT_FILE", ct_lab.ca_path)
    monkeypatch.setattr(_x509, "_STORE_CACHE", {})
    monkeypatch.setattr(_tls, "_CONTEXTS", {})
    for options in ({}, {"ca_path": None}):
        results = probe(ct_lab, ["no_scts", "one_sct"], **options)
        for res in results.values():
            assert res["certificate"]["trusted"] is True
            assert res["certificate"]["ct"]["publicly_trusted"] is False
            assert res["certificate"]["ct"]["public_roots"] == "/usr/share/ca-certificates/mozilla"
            # Not publicly trusted: the delivered SCTs cannot change the verdict and are not asked for.
            assert res["certificate"]["ct"]["tls_extension"] == "not_requested"
            assert not codes(res) & {"no_sct", "too_few_scts"}


def test_sct_signatures_against_a_log_list(public_root, monkeypatch):
    monkeypatch.setattr(_sct, "LOG_LIST", {log.log_id: log.entry for log in public_root.logs})
    results = probe(public_root, ["two_scts", "tampered_scts", "tls_ext_scts"])
    good, bad = results["two_scts"]["certificate"]["ct"], results["tampered_scts"]["certificate"]["ct"]
    assert [s["signature"] for s in results["tls_ext_scts"]["certificate"]["ct"]["scts"]] == ["valid", "valid"]
    assert [s["signature"] for s in good["scts"]] == ["valid", "valid"]
    assert [s["operator"] for s in good["scts"]] == ["operator A", "operator B"]
    assert [s["signature"] for s in bad["scts"]] == ["invalid", "invalid"]
    assert "too_few_scts" in codes(results["tampered_scts"]) and not codes(results["two_scts"]) & {"too_few_scts", "no_sct"}


def test_poison_removed_precertificate_is_what_the_logs_signed(ct_lab):
    """RFC 6962 3.2: the final certificate's TBS without the SCT list equals the precertificate's TBS without the
    poison (the probe asks cryptography for the first, the lab computes the second from the DER)."""
    final = ct_lab.certs["two_scts"]
    assert _sct.is_precertificate(ct_lab.precert.cert) and not _sct.is_precertificate(final.cert)
    assert final.cert.tbs_precertificate_bytes == pki.tbs_without_poison(ct_lab.precert.cert.tbs_certificate_bytes)
    section = _sct.evaluate(final.cert, ct_lab.inter.cert, logs={log.log_id: log.entry for log in ct_lab.logs})
    assert [s["signature"] for s in section["scts"]] == ["valid", "valid"]
    # Without the issuer the precertificate entry cannot be rebuilt: not performed, never valid.
    section = _sct.evaluate(final.cert, None, logs={log.log_id: log.entry for log in ct_lab.logs})
    assert [s["signature"] for s in section["scts"]] == ["not_performed", "not_performed"]


def test_openssl_reads_the_same_scts(ct_lab):
    for label in ("two_scts", "long_three_scts"):
        cert = ct_lab.certs[label]
        text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=cert.pem, capture_output=True, check=True).stdout.decode()
        ids = ["".join(m.split()).replace(":", "").lower() for m in re.findall(r"Log ID\s*:\s*((?:[0-9A-F:]+\s*)+)", text)]
        section = _sct.evaluate(cert.cert, ct_lab.inter.cert)
        assert ids == [s["log_id"] for s in section["scts"]]
        stamps = re.findall(r"Timestamp : (.+) GMT", text)
        assert len(stamps) == section["count"]


def test_crl_only_certificate(ct_lab):
    results = probe(ct_lab, ["crl_only", "crl_only_dead"], checks=["tcp", "certificate", "revocation"])
    good = results["crl_only"]["revocation"]
    assert good["status"] == "good" and good["source"] == "crl" and good["ocsp"] == "none_by_design"
    assert good["stapled"]["detail"].startswith("no OCSP by design")
    dead = results["crl_only_dead"]["revocation"]
    assert dead["status"] == "unknown" and dead["ocsp"] == "none_by_design"
    assert dead["detail"].startswith("no OCSP by design") and "revocation_unknown" in codes(results["crl_only_dead"])


def test_large_crl_within_the_budget(tmp_path):
    """A CRL of 200,000 entries (about 4.4 MB): downloaded, verified and searched within a 5 s step; one larger than
    the probe reads is an unknown, never a good."""
    issuer = pki.issue("Big CRL CA", key=pki.rsa_key(fresh=True), ca=True)
    started = time.monotonic()
    data = pki.big_crl(issuer, range(1, 200_001))
    built = time.monotonic() - started
    port = free_port()
    server = serve_http("127.0.0.1", port, {"path": {"/big.crl": data}})
    try:
        wait_listening("127.0.0.1", port)
        cert = pki.issue("big-crl.test", issuer=issuer, crl_url=f"http://127.0.0.1:{port}/big.crl").cert
        started = time.monotonic()
        result = _revocation.check_crl(cert, issuer.cert, 5.0)
        elapsed = time.monotonic() - started
        print(f"CRL {len(data)} bytes, 200000 entries: built in {built:.1f}s, checked in {elapsed:.2f}s")
        assert result["status"] == "good" and elapsed < 5.0
        listed = pki.issue("listed.test", issuer=issuer, serial=150_000, crl_url=f"http://127.0.0.1:{port}/big.crl").cert
        assert _revocation.check_crl(listed, issuer.cert, 5.0)["status"] == "revoked"
        # Larger than the probe reads: unknown, with the reason.
        small = _revocation.MAX_BYTES
        try:
            _revocation.MAX_BYTES = len(data) // 2
            too_big = _revocation.check_crl(cert, issuer.cert, 5.0)
        finally:
            _revocation.MAX_BYTES = small
        assert too_big["status"] == "unknown" and "more than" in too_big["errors"][0]
        # No time left: unknown.
        assert _revocation.check_crl(cert, issuer.cert, 0.0005)["status"] == "unknown"
    finally:
        server.shutdown()
        server.server_close()


def test_openssl_validates_the_same_signatures(public_root, monkeypatch):
    """`openssl s_client -ct` with the lab's logs as its CT log list validates the embedded and the delivered SCTs
    (precertificate and X.509 entries): its verdict per SCT equals the probe's. The lab's root counts as public, so
    the probe asks for the delivered SCTs wherever the embedded ones do not meet the rule."""
    ct_lab = public_root
    conf = "enabled_logs = " + ",".join(f"log{i}" for i in range(len(ct_lab.logs))) + "\n" + "".join(
        f"[log{i}]\ndescription = {log.entry['description']}\nkey = {base64.b64encode(log.key_der).decode()}\n"
        for i, log in enumerate(ct_lab.logs))
    logfile = ct_lab.write("ct-logs.cnf", conf.encode())
    monkeypatch.setattr(_sct, "LOG_LIST", {log.log_id: log.entry for log in ct_lab.logs})
    labels = ["two_scts", "long_three_scts", "tampered_scts", "tls_ext_scts"]
    results = probe(ct_lab, labels)
    for label in labels:
        ep = ct_lab.endpoints[label]
        out = subprocess.run(["openssl", "s_client", "-connect", f"{ep['host']}:{ep['port']}", "-servername", ep["server_name"],
                              "-tls1_2", "-ct", "-ctlogfile", logfile, "-CAfile", ct_lab.ca_path],
                             input=b"Q\n", capture_output=True, check=False, timeout=20).stdout.decode()
        openssl = re.findall(r"SCT validation status: (\w+)", out)
        mine = [s["signature"] for s in results[label]["certificate"]["ct"]["scts"]]
        assert openssl and openssl == mine, (label, openssl, mine)
