# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's verification verdict (module_utils/webserver/_verify.py, the filter
port443.https.webserver_verify_problems): what matches, what does not, and that nothing unknown is a match."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.webserver_verify_problems import FilterModule
from ansible_collections.port443.https.plugins.module_utils.webserver import _verify

VHOST = {"name": "www", "server_names": ["www.example.test", "example.test"], "tls_ready": True,
         "tls_profile": "intermediate", "hsts_max_age": 63072000, "client_ca": "", "client_verify": "required"}


def served(**changes):
    """An endpoint result of https_endpoint_info for www.example.test that serves the intermediate profile."""
    result = {"host": "www.example.test", "port": 443, "tcp": {"state": "open"},
              "tls": {"versions": {"1.0": False, "1.1": False, "1.2": True, "1.3": True}},
              "certificate": {"hostname_match": True},
              "http": {"redirect": {"status": 301, "location": "https://www.example.test/", "ok": True},
                       "hsts": {"present": True, "max_age": 63072000}},
              "ciphers": {"complete": True, "unknown": []}, "reasons": []}
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = result
        for key in parents:
            node = node[key]
        node[leaf] = value
    return result


def results(*endpoints):
    return [{"item": "intermediate", "endpoints": list(endpoints)}]


def problems(vhosts=None, probe=None, ciphers=None, **kwargs):
    return _verify.served_problems([VHOST] if vhosts is None else vhosts, results(served()) if probe is None else probe,
                                   ciphers, **kwargs)


def test_what_matches_has_no_problem():
    assert not problems()


@pytest.mark.parametrize("version, state, words", [
    ("1.0", True, "TLS 1.0 accepted (profile intermediate turns it off)"),
    ("1.1", None, "TLS 1.1 not known to be refused"),
    ("1.2", False, "TLS 1.2 refused (profile intermediate wants 1.2, 1.3)"),
    ("1.3", None, "TLS 1.3 not known to be accepted"),
])
def test_each_version_must_be_known_and_as_the_profile_says(version, state, words):
    found = problems(probe=results(served(**{f"tls__versions__{version}": state})))
    assert len(found) == 1 and words in found[0] and found[0].startswith("www.example.test serves something else")


def test_a_version_missing_from_the_result_is_not_a_match():
    result = served()
    del result["tls"]["versions"]["1.0"]
    assert "TLS 1.0 not known to be refused" in problems(probe=results(result))[0]


def test_port_closed_says_so_and_nothing_else():
    found = problems(probe=results(served(tcp__state="closed")))
    assert found == ["www.example.test serves something else than configured: port 443 is closed."]


@pytest.mark.parametrize("match, words", [(False, "does not name www.example.test"),
                                          (None, "whether the certificate names www.example.test is not known")])
def test_the_certificate_must_name_the_first_server_name(match, words):
    assert words in problems(probe=results(served(certificate__hostname_match=match)))[0]


def test_no_redirect_and_wrong_hsts_are_both_named_with_the_reasons():
    result = served(http__redirect={"status": 200, "location": None, "ok": False}, http__hsts={"present": False},
                    reasons=[{"code": "no_redirect", "message": "HTTP answers 200"}])
    found = problems(probe=results(result))
    assert "no redirect from http:// to https://" in found[0]
    assert "HSTS max-age=63072000 configured" in found[0]
    assert found[0].endswith("; reasons: HTTP answers 200.")


def test_hsts_max_age_zero_is_not_checked_and_another_max_age_is_a_problem():
    result = served(http__hsts={"present": True, "max_age": 300})
    assert not problems(vhosts=[dict(VHOST, hsts_max_age=0)], probe=results(result))
    assert "HSTS max-age=63072000 configured" in problems(probe=results(result))[0]


@pytest.mark.parametrize("code", ["cipher_enumeration_unknown", "profile_mismatch", "weak_cipher", "weak_dh"])
def test_a_profile_failure_of_the_ciphers_check_fails_with_its_fix(code):
    result = served(reasons=[{"code": code, "message": f"{code} here", "fix": "ssl_ciphers X;"}])
    found = problems(probe=results(result))
    assert found == [f"www.example.test does not serve the rendered profile: {code} here Fix: ssl_ciphers X;"]


@pytest.mark.parametrize("section", [None, {"complete": False, "unknown": ["TLS 1.2 suites: no time left"]}, {}])
def test_a_ciphers_check_that_did_not_finish_is_no_match_also_without_its_reason(section):
    # The endpoint's time ran out before the enumeration (deadline_exceeded): no cipher_enumeration_unknown, no match.
    found = problems(probe=results(served(ciphers=section, reasons=[{"code": "deadline_exceeded", "message": "budget"}])))
    assert len(found) == 1 and "the ciphers check did not finish" in found[0]
    assert ("(TLS 1.2 suites: no time left)" in found[0]) == bool(section)


def test_warnings_of_the_ciphers_check_are_no_failure():
    assert not problems(probe=results(served(reasons=[{"code": "no_pq_kex", "message": "no hybrid group"}])))


def test_no_result_at_all_is_a_problem():
    assert problems(probe=[]) == ["No cipher check result for www.example.test: the probe could not run."]
    assert problems(probe=[{"item": "intermediate", "failed": True, "msg": "no cryptography"}]) == \
        ["No cipher check result for www.example.test: the probe could not run."]
    assert problems(probe=results(dict(served(), host="other.test")))[0].startswith("No cipher check result")


def test_where_the_probe_could_not_run_the_ciphers_check_alone_decides():
    alone = {"host": "www.example.test", "tcp": {"state": "open"}, "ciphers": {"complete": True}, "reasons": []}
    assert not problems(probe=[{"failed": True}], ciphers=results(alone))
    alone["reasons"] = [{"code": "cipher_enumeration_unknown", "message": "unfinished"}]
    assert problems(probe=[{"failed": True}], ciphers=results(alone)) == \
        ["www.example.test does not serve the rendered profile: unfinished"]


def test_staff_only_without_a_client_certificate_must_demand_one():
    staff = dict(VHOST, client_ca="/etc/ssl/staff-ca.pem")
    refused = served(certificate__hostname_match=None, http__hsts={"present": False},
                     reasons=[{"code": "client_cert_required", "message": "a client certificate is required"}])
    assert not problems(vhosts=[staff], probe=results(refused))
    found = problems(vhosts=[staff], probe=results(served(http__hsts={"present": False})))
    assert len(found) == 1 and "no client certificate was demanded" in found[0] and "HSTS" not in found[0]
    # optional: not staff-only; with a client certificate: checked as any other virtual host.
    assert "HSTS" in problems(vhosts=[dict(staff, client_verify="optional")], probe=results(refused))[0]
    assert "does not name" not in problems(vhosts=[staff], probe=results(refused), client_cert=True)[0]
    assert "is not known" in problems(vhosts=[staff], probe=results(refused), client_cert=True)[0]


def test_only_virtual_hosts_that_serve_tls_are_checked_each_by_its_own_profile():
    modern = dict(VHOST, name="api", server_names=["api.example.test"], tls_profile="modern")
    api = served(host="api.example.test", tls__versions={"1.0": False, "1.1": False, "1.2": True, "1.3": True})
    found = problems(vhosts=[VHOST, modern, dict(VHOST, name="new", server_names=["new.test"], tls_ready=False)],
                     probe=results(served(), api))
    assert found == ["api.example.test serves something else than configured: TLS 1.2 accepted (profile modern turns it "
                     "off)."]


def test_the_guideline_decides_the_versions():
    # Guideline 6.0 has no "old" profile; 5.7's has TLS 1.0 and 1.1.
    found = problems(vhosts=[dict(VHOST, tls_profile="old")], guideline="5.7")
    assert "TLS 1.0 refused" in found[0] and "TLS 1.1 refused" in found[0]


def test_results_are_not_changed():
    probe = results(served(tcp__state="closed"))
    before = copy.deepcopy(probe)
    problems(probe=probe)
    assert probe == before


@pytest.mark.parametrize("vhosts, probe, words", [
    ("www", [], r"virtual hosts \(a list\)"),
    ([{"name": "x"}], [], "server_names"),
    ([VHOST], {"endpoints": []}, "probe_results must be the list"),
])
def test_bad_input_is_one_clear_error(vhosts, probe, words):
    with pytest.raises(TypeError, match=words):
        _verify.served_problems(vhosts, probe)


def test_the_filter_is_the_core_with_one_error_for_bad_input():
    flt = FilterModule().filters()["webserver_verify_problems"]
    assert flt([VHOST], results(served())) == []
    assert flt([VHOST], [], guideline="6.0") == problems(probe=[])
    with pytest.raises(AnsibleFilterError, match="webserver_verify_problems: client_cert must be true or false"):
        flt([VHOST], [], client_cert="yes")
    with pytest.raises(AnsibleFilterError, match="webserver_verify_problems: TLS profile .nonesuch. is not in Mozilla guideline 6.0"):
        flt([dict(VHOST, tls_profile="nonesuch")], results(served()))
