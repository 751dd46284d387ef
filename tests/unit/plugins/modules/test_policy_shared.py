# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""certificate_file_info and https_endpoint_info reject the same policy values with the same message."""
from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _policy
from ansible_collections.port443.https.plugins.modules import certificate_file_info, https_endpoint_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import FailJson, patch_exit, run_module

pytest.importorskip("cryptography")

BAD_POLICY = [
    ({"warning_days": -5}, "warning_days: -5 is out of range (0-3650)"),
    ({"critical_days": 4000}, "critical_days: 4000 is out of range (0-3650)"),
    ({"min_rsa_bits": -1}, "min_rsa_bits: -1 is out of range (512-16384)"),
    ({"min_rsa_bits": 100000}, "min_rsa_bits: 100000 is out of range (512-16384)"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path: the CA bundle '/nonexistent/ca.pem' does not exist"),
]


@pytest.fixture(autouse=True)
def _patch_exit(monkeypatch):
    patch_exit(monkeypatch)


@pytest.fixture
def cert_file(tmp_path):
    # Parsing is not reached: the policy is checked before any file is read.
    path = tmp_path / "cert.pem"
    path.write_text("not read")
    return str(path)


@pytest.mark.parametrize("extra, needle", BAD_POLICY)
def test_both_modules_reject_the_same_policy(cert_file, extra, needle):
    file_msg = run_module(certificate_file_info.main, {"path": cert_file, **extra}, FailJson)["msg"]
    probe_msg = run_module(https_endpoint_info.main, {"endpoints": [{"host": "a.example"}], **extra}, FailJson)["msg"]
    assert file_msg == probe_msg and file_msg.startswith(needle)


@pytest.mark.parametrize("names, needle", [
    ([""], "names[0]: '' is not a valid host name or IP address"),
    (["www.example.com", "bad host!"], "names[1]: 'bad host!' is not a valid host name or IP address"),
    (["*.example.com"], "names[0]: '*.example.com' is not a valid host name or IP address"),
])
def test_certificate_file_info_rejects_bad_names(cert_file, names, needle):
    assert run_module(certificate_file_info.main, {"path": cert_file, "names": names}, FailJson)["msg"] == needle
    # The endpoint module says the same of the same value given as a host.
    probe_msg = run_module(https_endpoint_info.main, {"endpoints": [{"host": names[-1]}]}, FailJson)["msg"]
    assert probe_msg.split(": ", 1)[1] == needle.split(": ", 1)[1]


@pytest.mark.parametrize("params, needle", [
    ({"warning_days": True}, "warning_days: True is not a whole number"),
    ({"min_rsa_bits": "2048"}, "min_rsa_bits: '2048' is not a whole number"),
])
def test_policy_types(params, needle):
    with pytest.raises(_policy.PolicyInputError, match=needle):
        _policy.check_policy(params)


def test_names_must_be_a_list():
    with pytest.raises(_policy.PolicyInputError, match="names: expected a list of host names, got str"):
        _policy.check_names("www.example.com")
    assert _policy.check_names(None) == []
    assert _policy.check_names(["[::1]", "www.example.com"]) == ["::1", "www.example.com"]
