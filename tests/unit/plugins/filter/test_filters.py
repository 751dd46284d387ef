# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.certificate_facts import FilterModule as FactsFilters
from ansible_collections.port443.https.plugins.filter.days_left import FilterModule as DaysFilters
from ansible_collections.port443.https.plugins.filter.endpoint_summary import FilterModule as SummaryFilters
from ansible_collections.port443.https.plugins.filter.reason_explain import FilterModule as ExplainFilters
from ansible_collections.port443.https.plugins.filter.tls_version_compare import FilterModule as CompareFilters
from ansible_collections.port443.https.plugins.test.expiring_within import TestModule as ExpiringTests
from ansible_collections.port443.https.plugins.test.tls_at_least import TestModule as AtLeastTests

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module")
def pem():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=20, hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def flt(module, name):
    return module().filters()[name]


def tst(module, name):
    return module().tests()[name]


def test_certificate_facts(pem):
    facts = flt(FactsFilters, "certificate_facts")(pem)
    assert facts["subject"] == "CN=www.example.test" and facts["serial"] == "7" and facts["days_left"] == 20
    assert facts["self_signed"] is True and len(facts["chain"]) == 1
    with pytest.raises(AnsibleFilterError, match="certificate_facts: no PEM certificate"):
        flt(FactsFilters, "certificate_facts")("hello")


def test_days_left(pem):
    days_left = flt(DaysFilters, "days_left")
    assert days_left(pem) == 20
    assert days_left({"not_after": (NOW + datetime.timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}) == 3
    assert days_left((NOW - datetime.timedelta(days=2, hours=-1)).strftime("%Y%m%d%H%M%SZ")) == -2
    for bad, needle in ((42, "expected a PEM"), ("soon", "cannot read"), ({"x": 1}, "no not_after")):
        with pytest.raises(AnsibleFilterError, match=needle):
            days_left(bad)


def test_tls_compare_and_test():
    compare = flt(CompareFilters, "tls_version_compare")
    assert compare("TLSv1.3", "1.2") == 1 and compare("1.2", "tls1_2") == 0 and compare("TLSv1", "1.1") == -1
    with pytest.raises(AnsibleFilterError, match="tls_version_compare"):
        compare("SSLv3", "1.2")
    at_least = tst(AtLeastTests, "tls_at_least")
    assert at_least("1.3", "1.2") is True and at_least("TLSv1.1", "1.2") is False


def test_expiring_within(pem):
    within = tst(ExpiringTests, "expiring_within")
    assert within(pem, 30) is True and within(pem, 10) is False
    with pytest.raises(AnsibleFilterError):
        within(None, 3)


def test_summary_and_explain():
    summary = flt(SummaryFilters, "endpoint_summary")
    assert summary([{"status": "ok", "reasons": []}, {"status": "critical", "reasons": [{"code": "closed"}]}]) == {
        "total": 2, "ok": 1, "warning": 0, "critical": 1, "by_reason": {"closed": 1}}
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        summary("x")
    explain = flt(ExplainFilters, "reason_explain")
    assert explain("filtered")["severity"] == "critical" and "firewall" in explain("filtered")["fix"]
    with pytest.raises(AnsibleFilterError, match="unknown reason code"):
        explain("nope")
