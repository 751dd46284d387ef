# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""certificate_state_info: the module on real files (dpkg-query canned), and the action's input checks."""
from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic

from ansible_collections.port443.https.plugins.action.certificate_state_info import ActionModule
from ansible_collections.port443.https.plugins.module_utils.certificate import _certstate
from ansible_collections.port443.https.plugins.modules import certificate_state_info
from ansible_collections.port443.https.tests.unit.plugins.module_utils.certificate import test_certstate as fixtures
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import FailJson, patch_exit, run_module


@pytest.fixture(autouse=True)
def _patch(monkeypatch):
    patch_exit(monkeypatch)
    monkeypatch.setattr(_certstate, "ROOT_UID", os.getuid())
    monkeypatch.setattr(_certstate, "ROOT_GID", os.getgid())


def _dpkg(monkeypatch, out):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **k: (0, out, ""))


def test_converged_and_package_missing(tmp_path, monkeypatch):
    params = fixtures._host(tmp_path, packages=["openssl", "ca-certificates"])
    _dpkg(monkeypatch, "openssl hi \nca-certificates ii \n")
    result = run_module(certificate_state_info.main, params)
    assert result["drift"] is False and result["reasons"] == [] and result["changed"] is False
    _dpkg(monkeypatch, "openssl ii \nca-certificates rc \n")
    result = run_module(certificate_state_info.main, params)
    assert result["drift"] is True and result["reasons"] == ["package ca-certificates: not installed"]


def test_without_dpkg_every_package_is_missing(tmp_path, monkeypatch):
    params = fixtures._host(tmp_path, packages=["openssl"])
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    result = run_module(certificate_state_info.main, params)
    assert result["drift"] is True and result["reasons"] == ["package openssl: not installed"]


def test_empty_sans_is_refused(tmp_path):
    params = fixtures._host(tmp_path, sans=[])
    assert "sans: must not be empty" in run_module(certificate_state_info.main, params, FailJson)["msg"]


@pytest.mark.parametrize("args, needle", [
    ({"source": "selfsigned", "sans": []}, "certificate_sans must not be empty"),
    ({"source": "other", "sans": ["DNS:a"]}, "certificate_source must be one of"),
    ({"source": "selfsigned", "sans": ["DNS:a"], "key_type": "DSA"}, "certificate_key_type must be ECC or RSA"),
    ({"source": "provided", "sans": ["DNS:a"], "provided_complete": "False"}, "needs certificate_provided_cert"),
    ({"source": "selfsigned", "sans": ["DNS:a"], "key_types": ["ECC", "ECC"]}, "certificate_key_types must list ECC and RSA, each at most once"),
    ({"source": "selfsigned", "sans": ["DNS:a"], "key_types": ["ECC", "DSA"]}, "certificate_key_types must list"),
    ({"source": "provided", "sans": ["DNS:a"], "key_types": ["ECC", "RSA"]}, "needs certificate_source selfsigned, internal_ca or acme"),
    ({"source": "acme", "sans": ["DNS:a"], "host_renewal_server": "lighttpd"},
     "certificate_host_renewal_server must be one of nginx, apache, caddy, haproxy"),
    ({"source": "acme", "sans": ["DNS:a"], "key_types": ["ECC", "RSA"], "host_renewal_server": "haproxy"},
     "certificate_renewal: host renews one certificate, not dual certificates"),
])
def test_action_settings(args, needle):
    with pytest.raises(AnsibleActionFail, match=needle):
        ActionModule._check_settings(args)


def test_action_settings_accept_good_input():
    ActionModule._check_settings({"source": "provided", "sans": ["DNS:a"], "provided_complete": True})
    ActionModule._check_settings({"source": "acme", "sans": ["DNS:a"], "key_types": ["RSA", "ECC"]})
    ActionModule._check_settings({"source": "provided", "sans": ["DNS:a"], "key_types": ["RSA"]})
    ActionModule._check_settings({"source": "acme", "sans": ["DNS:a"], "key_types": ["RSA"], "host_renewal_server": "haproxy"})
