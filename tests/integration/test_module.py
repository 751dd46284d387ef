# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The real module, run by ansible-playbook (check mode, fail_on) and ansible ad hoc (bad input)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import yaml


def _env():
    env = dict(os.environ)
    # A test-only stdout callback beside this file: plain ansible-core needs no other collection for JSON output.
    env.update(ANSIBLE_STDOUT_CALLBACK="results_json", ANSIBLE_CALLBACK_PLUGINS=os.path.join(os.path.dirname(__file__), "callback_plugins"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_HOST_KEY_CHECKING="0")
    return env


def run_playbook(tmp_path, tasks, check=False, module_defaults=None, extra_vars=None):
    play = [{"name": "probe", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
    if module_defaults:
        play[0]["module_defaults"] = module_defaults
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    cmd = [shutil.which("ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)] + (["--check"] if check else [])
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=120, check=False)
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    return [task["hosts"]["localhost"] for task in out["plays"][0]["tasks"]]


def test_module_check_mode_fail_on_critical(lab, tmp_path):
    names = ["good", "expired", "closed", "tarpit", "tls10_only", "missing_inter"]
    eps = []
    for name in names:
        ep = dict(lab.endpoints[name])
        eps.append(ep)
    tasks = [
        {"name": "audit", "port443.https.https_endpoint_info": {
            "endpoints": eps, "ca_path": lab.ca_path, "timeout": 2, "fail_on": "critical",
            "checks": ["tcp", "tls_versions", "certificate"]}, "ignore_errors": True},
        {"name": "audit ok only", "port443.https.https_endpoint_info": {
            "endpoints": [lab.endpoints["good"]], "ca_path": lab.ca_path, "checks": ["tcp", "tls_versions", "certificate"],
            "fail_on": "warning"}},
        {"name": "revocation", "port443.https.https_endpoint_info": {
            "endpoints": [lab.endpoints["revoked_crl"], lab.endpoints["stapled_revoked"]], "ca_path": lab.ca_path,
            "checks": ["tcp", "certificate", "revocation"]}},
    ]
    audit, clean, revocation = run_playbook(tmp_path, tasks, check=True)
    assert [e["revocation"]["source"] for e in revocation["endpoints"]] == ["crl", "stapled"]
    assert revocation["endpoints"][1]["revocation"]["stapled"]["status"] == "revoked"
    assert revocation["summary"]["by_reason"] == {"revoked": 2}
    assert audit["failed"] is True and audit["changed"] is False
    assert "5 of 6 endpoint(s) at or above fail_on=critical" in audit["msg"]
    by_name = dict(zip(names, audit["endpoints"]))
    assert by_name["good"]["status"] == "ok"
    assert by_name["expired"]["reasons"][0]["code"] == "expired"
    assert by_name["closed"]["tcp"]["state"] == "closed"
    assert by_name["tarpit"]["reasons"][0]["code"] == "no_tls_response"
    assert by_name["tls10_only"]["tls"]["versions"]["1.0"] is True
    assert by_name["missing_inter"]["certificate"]["verification"] == "incomplete_chain"
    assert audit["summary"]["critical"] == 5 and audit["summary"]["ok"] == 1
    assert clean.get("failed", False) is False and clean["changed"] is False
    assert clean["summary"] == {"total": 1, "ok": 1, "warning": 0, "critical": 0, "by_reason": {}}


BAD_INPUT = [
    ({"endpoints": []}, "endpoints: the list is empty"),
    ({"endpoints": [{"host": "x.test", "port": 70000}]}, "endpoints[0].port: 70000 is out of range"),
    ({"endpoints": [{"host": "x.test", "port": 0}]}, "endpoints[0].port: 0 is out of range"),
    ({"endpoints": [{"host": "bad_host name"}]}, "endpoints[0].host: 'bad_host name' is not a valid host name"),
    ({"endpoints": [{"host": "x.test"}], "min_tls_version": "1.4"}, "min_tls_version"),
    ({"endpoints": [{"host": "x.test"}], "fail_on": "always"}, "fail_on"),
    ({"endpoints": [{"host": "x.test"}], "ca_path": "/nonexistent.pem"}, "ca_path: the CA bundle '/nonexistent.pem' does not exist"),
]


def test_module_bad_input(tmp_path):
    tasks = [{"name": f"bad {idx}", "port443.https.https_endpoint_info": args, "ignore_errors": True}
             for idx, (args, dummy) in enumerate(BAD_INPUT)]
    results = run_playbook(tmp_path, tasks)
    for result, (args, needle) in zip(results, BAD_INPUT):
        assert result["failed"] is True, args
        assert needle in result["msg"], (args, result["msg"])
        assert "Traceback" not in json.dumps(result)


def _audit_play(lab, tmp_path, names):
    play = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "audit_endpoints.yml")
    extra = {"audit_endpoints": [lab.endpoints[n] for n in names], "audit_ca_path": lab.ca_path,
             "ansible_python_interpreter": sys.executable}
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    cmd = [shutil.which("ansible-playbook"), "-i", "localhost,", "-c", "local", "--check", play, "-e", json.dumps(extra)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_docs_audit_play(lab, tmp_path):
    """docs/audit_endpoints.yml: passes under --check on good endpoints, fails on a critical one."""
    good = _audit_play(lab, tmp_path, ["good", "ecdsa"])
    assert good.returncode == 0, good.stdout + good.stderr
    assert "No critical findings in 2 endpoint(s)" in good.stdout
    bad = _audit_play(lab, tmp_path, ["good", "expired"])
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "1 endpoint(s) critical" in bad.stdout and "expired" in bad.stdout


def test_certificate_file_info_module(lab, tmp_path):
    """certificate_file_info on the files the lab's servers use: good files pass, a foreign key and a name fail."""
    files = {name: os.path.join(lab.tmp, name) for name in ("good.crt", "good-chain.crt", "good.key", "ecdsa.key")}
    tasks = [
        {"name": "good", "port443.https.certificate_file_info": {
            "path": files["good.crt"], "chain_path": files["good-chain.crt"], "key_path": files["good.key"],
            "ca_path": lab.ca_path, "names": ["good.test"]}},
        {"name": "bad", "port443.https.certificate_file_info": {
            "path": files["good.crt"], "key_path": files["ecdsa.key"], "ca_path": lab.ca_path, "names": ["other.test"]}},
    ]
    good, bad = run_playbook(tmp_path, tasks, check=True)
    assert good["status"] == "ok" and good["changed"] is False, good.get("reasons")
    assert good["certificate"]["key_matches"] is True and good["certificate"]["trusted"] is True
    assert sorted(r["code"] for r in bad["reasons"]) == ["hostname_mismatch", "incomplete_chain", "key_mismatch"]
