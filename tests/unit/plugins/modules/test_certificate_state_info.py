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
from ansible_collections.port443.https.tests.unit.plugins.action import action_harness
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


def test_exists_reports_the_certificate_file_as_stat_does(tmp_path, monkeypatch):
    params = fixtures._host(tmp_path)
    _dpkg(monkeypatch, "")
    assert run_module(certificate_state_info.main, params)["exists"] is True
    os.remove(params["cert_path"])
    result = run_module(certificate_state_info.main, params)
    assert result["exists"] is False and result["drift"] is True
    # A dangling link is there for ansible.builtin.stat without follow (exists: true), and so for the state step.
    os.symlink(str(tmp_path / "gone.crt"), params["cert_path"])
    assert run_module(certificate_state_info.main, params)["exists"] is True


def _action(args, answers, calls):
    return action_harness.plugin(ActionModule, args, answers, calls)


_ACTION_ARGS = {"source": "selfsigned", "sans": ["DNS:a"], "os_family": "Debian", "cert_path": "/c/a.crt"}


def test_action_exists_per_key_type(monkeypatch):
    monkeypatch.setattr("ansible.plugins.action.ActionBase.run", lambda self, tmp=None, task_vars=None: {})
    calls = []
    args = dict(_ACTION_ARGS, key_types=["ECC", "RSA"],
                alternates=[{"key_type": "RSA", "cert": "/c/a-rsa.crt", "key": "/k/a-rsa.key", "fullchain": "/c/f.crt"}])
    answers = [{"reasons": [], "exists": True}, {"reasons": ["x"], "exists": False}]
    result = _action(args, answers, calls).run(task_vars={})
    assert result["exists"] == [True, False] and [c["cert_path"] for c in calls] == ["/c/a.crt", "/c/a-rsa.crt"]


@pytest.mark.parametrize("args, answers", [
    # The host is not read (a setting that always takes the full path): the role looks for the certificate itself.
    (dict(_ACTION_ARGS, full_path_reasons=["certificate_pool: a pool takes the full path"]), []),
    # A module that answered without it (never a guess).
    (_ACTION_ARGS, [{"reasons": []}]),
])
def test_action_exists_absent_unless_read(monkeypatch, args, answers):
    monkeypatch.setattr("ansible.plugins.action.ActionBase.run", lambda self, tmp=None, task_vars=None: {})
    result = _action(args, answers, []).run(task_vars={})
    assert "exists" not in result and result["drift"] is bool(args.get("full_path_reasons"))


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


# ---- source acme: ARI asked from a real local HTTP server --------------------------------------------------------

class _Ari:
    """A local ACME directory with renewalInfo: WINDOW is the suggested window (None answers 404), STATUS the code."""

    def __init__(self):
        import http.server
        import json
        import threading

        ari = self
        self.window, self.paths, self.with_ari = None, [], True

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server interface
                ari.paths.append(self.path)
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                if self.path == "/dir":
                    body = {"newOrder": base + "/new-order"}
                    if ari.with_ari:
                        body["renewalInfo"] = base + "/renewal-info/"
                elif self.path.startswith("/renewal-info/") and ari.window:
                    body = {"suggestedWindow": {"start": ari.window[0], "end": ari.window[1]}}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ari():
    server = _Ari()
    yield server
    server.close()


def _iso(delta_days):
    import datetime
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=delta_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_acme_ari_from_the_ca(tmp_path, ari):
    params = fixtures._acme_host(tmp_path, acme_directory=ari.url, acme_validate_certs=False, acme_timeout=5)
    with open(params["cert_path"] + ".acme-directory", "w", encoding="utf-8") as handle:
        handle.write(ari.url + "\n")
    ari.window = (_iso(50), _iso(60))
    result = run_module(certificate_state_info.main, params)
    assert result["reasons"] == [] and result["drift"] is False
    assert ari.paths[0] == "/dir" and ari.paths[1].startswith("/renewal-info/") and "." in ari.paths[1]
    ari.window = (_iso(-1), _iso(5))
    result = run_module(certificate_state_info.main, params)
    assert result["drift"] is True and "inside the suggested renewal window" in result["reasons"][0]
    ari.window = (_iso(-5), _iso(-1))
    assert "window ended" in run_module(certificate_state_info.main, params)["reasons"][0]
    ari.window = None  # renewalInfo answers 404: the full path's check would fail; drift, never converged
    assert "renewal information could not be read" in run_module(certificate_state_info.main, params)["reasons"][0]
    ari.with_ari = False  # a directory without renewalInfo: no ARI, as in the full path
    assert run_module(certificate_state_info.main, params)["reasons"] == []


def test_acme_unreachable_ca_is_drift_unless_ari_is_off(tmp_path, ari):
    params = fixtures._acme_host(tmp_path, acme_validate_certs=False, acme_timeout=2)
    url = ari.url
    ari.close()
    params.update(acme_directory=url)
    with open(params["cert_path"] + ".acme-directory", "w", encoding="utf-8") as handle:
        handle.write(url + "\n")
    result = run_module(certificate_state_info.main, params)
    assert result["drift"] is True and "could not be read" in result["reasons"][0]
    assert run_module(certificate_state_info.main, dict(params, acme_use_ari=False))["reasons"] == []
    ari.server = type("Closed", (), {"shutdown": lambda self: None, "server_close": lambda self: None})()


def test_acme_needs_directory_and_account_key(tmp_path):
    params = fixtures._acme_host(tmp_path, acme_directory="")
    assert "acme_directory and acme_account_key" in run_module(certificate_state_info.main, params, FailJson)["msg"]
