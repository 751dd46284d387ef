# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.certificate_facts import FilterModule as FactsFilters
from ansible_collections.port443.https.plugins.filter.days_left import FilterModule as DaysFilters
from ansible_collections.port443.https.plugins.filter.endpoint_summary import FilterModule as SummaryFilters
from ansible_collections.port443.https.plugins.filter.reason_explain import FilterModule as ExplainFilters
from ansible_collections.port443.https.plugins.filter.tls_version_compare import FilterModule as CompareFilters
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.test.expiring_within import TestModule as ExpiringTests
from ansible_collections.port443.https.plugins.test.profile_failure import TestModule as ProfileFailureTests
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


def test_profile_failure():
    failure = tst(ProfileFailureTests, "profile_failure")
    assert [code for code in _classify.REASONS if failure(code)] == [
        "weak_cipher", "weak_dh", "profile_mismatch", "cipher_enumeration_unknown"]
    assert failure("cbc_only") is False and failure("no_pq_kex") is False and failure("closed") is False


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


# Every filter and test fed the wrong type: one AnsibleFilterError (an AnsibleError) naming the plugin and what it
# expected, never a bare Python exception message.
@pytest.mark.parametrize("plugin, args, needle", [
    ((FactsFilters, "certificate_facts"), (None,), "certificate_facts: expected PEM text with a certificate (a string), got NoneType"),
    ((FactsFilters, "certificate_facts"), (42,), "certificate_facts: expected PEM text with a certificate (a string), got int"),
    ((FactsFilters, "certificate_facts"), ({"a": 1},), "certificate_facts: expected PEM text with a certificate (a string), got dict"),
    ((FactsFilters, "certificate_facts"), (b"\xff",), "certificate_facts: expected PEM text with a certificate as text, got bytes"),
    ((DaysFilters, "days_left"), (None,), "days_left: expected a PEM certificate, certificate facts or a date string, got NoneType"),
    ((DaysFilters, "days_left"), ({"not_after": 5},), "days_left: expected a PEM certificate"),
    ((DaysFilters, "days_left"), (b"\xff",), "days_left: expected a PEM certificate or a date as text"),
    ((SummaryFilters, "endpoint_summary"), ({"host": "a"},), "endpoint_summary: expected a list of endpoint results, got dict"),
    ((SummaryFilters, "endpoint_summary"), (["a"],), "endpoint_summary: expected endpoint results (dicts), got str at [0]"),
    ((SummaryFilters, "endpoint_summary"), ([{"status": "ok", "reasons": "closed"}],), "endpoint_summary: [0].reasons: expected a list of dicts"),
    ((SummaryFilters, "endpoint_summary"), ([{"status": "ok", "reasons": ["closed"]}],), "endpoint_summary: [0].reasons: expected a list of dicts"),
    ((ExplainFilters, "reason_explain"), (["closed"],), "reason_explain: expected a reason code (a string such as 'filtered'), got list"),
    ((ExplainFilters, "reason_explain"), ({"code": "closed"},), "reason_explain: expected a reason code (a string such as 'filtered'), got dict"),
    ((CompareFilters, "tls_version_compare"), ({"v": 1}, "1.2"), "tls_version_compare: {'v': 1} is not a TLS version"),
    ((CompareFilters, "tls_version_compare"), ("1.2", None), "tls_version_compare: None is not a TLS version"),
])
def test_filters_reject_wrong_types(plugin, args, needle):
    with pytest.raises(AnsibleFilterError) as err:
        flt(*plugin)(*args)
    assert str(err.value).startswith(needle), str(err.value)


@pytest.mark.parametrize("plugin, args, needle", [
    ((ExpiringTests, "expiring_within"), (None, 30), "expiring_within: expected a PEM certificate, certificate facts or a date string, got NoneType"),
    ((ExpiringTests, "expiring_within"), ("2030-01-01", None), "expiring_within: days: expected a whole number, got NoneType"),
    ((ExpiringTests, "expiring_within"), ("2030-01-01", [30]), "expiring_within: days: expected a whole number, got list"),
    ((ExpiringTests, "expiring_within"), ("2030-01-01", True), "expiring_within: days: expected a whole number, got bool"),
    ((ExpiringTests, "expiring_within"), ("2030-01-01", "soon"), "expiring_within: days: expected a whole number, got 'soon'"),
    ((AtLeastTests, "tls_at_least"), (["1.2"], "1.2"), "tls_at_least: ['1.2'] is not a TLS version"),
    ((ProfileFailureTests, "profile_failure"), ({"code": "weak_dh"},),
     "profile_failure: expected a reason code (a string such as 'profile_mismatch'), got dict"),
    ((AtLeastTests, "tls_at_least"), ("1.3", {"min": "1.2"}), "tls_at_least: {'min': '1.2'} is not a TLS version"),
])
def test_tests_reject_wrong_types(plugin, args, needle):
    with pytest.raises(AnsibleError) as err:
        tst(*plugin)(*args)
    assert str(err.value).startswith(needle), str(err.value)


def test_unexpected_exception_becomes_one_clear_error():
    from ansible_collections.port443.https.plugins.plugin_utils._filters import wrap

    def broken(value):
        return value.no_such_attribute

    with pytest.raises(AnsibleFilterError, match=r"^demo: cannot use this input \(got int\): "):
        wrap("demo", broken)(42)
