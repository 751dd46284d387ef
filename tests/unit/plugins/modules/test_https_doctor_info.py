# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.port443.https.plugins.modules import https_doctor_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exit, run_module
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import endpoint


SS_LOOPBACK = ('LISTEN 0 511 127.0.0.1:443 0.0.0.0:* users:(("nginx",pid=812,fd=7))\n'
               'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=812,fd=6))\n')
SHOW = ("Id=nginx.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n"
        "Id=caddy.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n")
# nft -j -a list ruleset of: table inet filter { chain input { type filter hook input priority filter; policy accept; tcp dport 443 drop } }
NFT = ('{"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}}, {"chain": {"family": "inet", "table": "filter", '
       '"name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", '
       '"table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", '
       '"field": "dport"}}, "right": 443}}, {"drop": null}]}}]}')


def fake(outputs, bins):
    calls = []

    def run_command(self, args, **kwargs):
        calls.append(args)
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        for key, value in outputs.items():
            if key in " ".join(args):
                return value
        return 1, "", "unexpected"

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return f"/usr/sbin/{name}" if name in bins else None

    return run_command, get_bin_path, calls


@pytest.fixture
def module_env(monkeypatch):
    patch_exit(monkeypatch)

    def setup(outputs, bins):
        run_command, get_bin_path, calls = fake(outputs, bins)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
        return calls

    return setup


def run(args, expect=ExitJson):
    return run_module(https_doctor_info.main, args, expect)


def test_localhost_only_with_outside(module_env):
    calls = module_env({"ss -H -ltnp": (0, SS_LOOPBACK, ""), "systemctl show": (0, SHOW, ""), "nft -j -a list ruleset": (0, '{"nftables": []}', "")},
                       {"ss", "systemctl", "nft"})
    closed = endpoint("web1", "critical", [{"code": "closed", "severity": "critical", "message": "refused", "fix": "f"}], tcp="closed")
    res = run({"outside": closed, "_ansible_check_mode": True})
    assert res["changed"] is False
    assert res["diagnosis"]["code"] == "localhost_only"
    assert res["listen"]["443"]["scope"] == "loopback" and res["listen"]["80"]["scope"] == "all"
    assert [s["unit"] for s in res["services"]] == ["nginx.service"]
    assert res["firewall"] == {"backend": "nftables", "allows": True, "allows_http": True, "evidence": ["no input chain in the nftables ruleset"]}
    assert ["/usr/sbin/ss", "-H", "-ltnp"] in calls
    assert res["commands"][0] == "/usr/sbin/ss -H -ltnp"


def test_firewall_drop(module_env):
    module_env({"ss -H -ltnp": (0, SS_LOOPBACK.replace("127.0.0.1:443", "0.0.0.0:443"), ""), "systemctl show": (0, SHOW, ""),
                "nft -j -a list ruleset": (0, NFT, "")}, {"ss", "systemctl", "nft"})
    filtered = endpoint("web1", "critical", [{"code": "filtered", "severity": "critical", "message": "timeout", "fix": "f"}], tcp="filtered")
    res = run({"outside": filtered})
    assert res["firewall"]["allows"] is False and res["firewall"]["allows_http"] is True
    assert res["diagnosis"]["cause"] == "firewall drops 443 (timeout)"


def test_ufw_preferred_and_no_firewall(module_env):
    module_env({"ss -H -ltnp": (0, "", ""), "ufw status": (0, "Status: active\nDefault: deny (incoming), allow (outgoing)\n", ""),
                "systemctl show": (0, "", "")}, {"ss", "ufw", "nft", "systemctl"})
    res = run({})
    assert res["firewall"]["backend"] == "ufw" and res["firewall"]["allows"] is False
    assert res["diagnosis"]["code"] == "nothing_listening"


def test_unknown_firewall_and_iptables(module_env):
    module_env({"ss -H -ltnp": (0, "", "")}, {"ss"})
    res = run({"services": []})
    assert res["firewall"]["allows"] is None and res["firewall"]["backend"] is None
    assert res["services"] == []


def test_firewalld(module_env):
    zone = "public (default, active)\n  target: default\n  services: ssh https\n  ports: \n"
    module_env({"ss -H -ltnp": (0, "", ""), "--state": (0, "running\n", ""), "--list-all": (0, zone, "")}, {"ss", "firewall-cmd"})
    res = run({"services": []})
    assert res["firewall"]["backend"] == "firewalld" and res["firewall"]["allows"] is True and res["firewall"]["allows_http"] is False


IPT_443 = "-P INPUT DROP\n-A INPUT -p tcp --dport 443 -j ACCEPT\n"


@pytest.mark.parametrize("v6, bins, allows, evidence", [
    # Both families let 443 in; IPv6 drops it (a rule of its own, or its policy); ip6tables missing or failing.
    ((0, IPT_443, ""), {"ip6tables"}, True, "-A INPUT -p tcp --dport 443 -j ACCEPT"),
    ((0, "-P INPUT ACCEPT\n-A INPUT -p tcp --dport 443 -j DROP\n", ""), {"ip6tables"}, False, "ip6tables: -A INPUT -p tcp --dport 443 -j DROP"),
    ((0, "-P INPUT DROP\n", ""), {"ip6tables"}, False, "ip6tables: -P INPUT DROP"),
    (None, set(), None, "ip6tables: not found, so the IPv6 rules could not be read"),
    ((4, "", "ip6tables: Permission denied"), {"ip6tables"}, None, "ip6tables -S failed (ip6tables: Permission denied)"),
    ((3, "", "ip6tables v1.8.9 (legacy): can't initialize ip6tables table `filter': Address family not supported by protocol"),
     {"ip6tables"}, True, "ip6tables: this host has no IPv6"),
])
def test_iptables(module_env, v6, bins, allows, evidence):
    answers = {"ss -H -ltnp": (0, "", ""), "iptables -w -S": (0, IPT_443, "")}
    if v6 is not None:
        answers["ip6tables -w -S"] = v6
    module_env(answers, {"ss", "iptables"} | bins)
    res = run({"services": []})
    assert res["firewall"]["backend"] == "iptables" and res["firewall"]["allows"] is allows, res["firewall"]
    assert res["firewall"]["allows_http"] is False
    assert any(e.startswith(evidence) for e in res["firewall"]["evidence"]), res["firewall"]["evidence"]
    if allows is False:
        assert res["firewall"]["evidence"][0].startswith("ip6tables: ")


def test_errors(module_env):
    module_env({}, set())
    assert "ss (package iproute2)" in run({}, FailJson)["msg"]
    module_env({"ss -H -ltnp": (1, "", "boom")}, {"ss"})
    assert "boom" in run({}, FailJson)["msg"]
    assert "port: 0 is out of range" in run({"port": 0}, FailJson)["msg"]


def test_certificates_unreadable(module_env, tmp_path):
    module_env({"ss -H -ltnp": (0, "", "")}, {"ss"})
    res = run({"services": [], "certificates": [{"cert": str(tmp_path / "missing.pem")}]})
    assert res["certificates"][0]["ok"] is False
    assert res["certificates"][0]["problems"][0] == f"certificates[0].cert: {str(tmp_path / 'missing.pem')!r} does not exist"


@pytest.mark.parametrize("outside, needle", [
    ({"host": "web1", "tcp": "open"}, "outside: tcp: expected a dict with state"),
    ({"host": "web1", "tcp": {"state": 1}}, "outside: tcp.state: expected a string, got int"),
    ({"host": "web1", "reasons": "closed"}, "outside: reasons: expected a list of dicts"),
    ({"host": "web1", "reasons": ["closed"]}, "outside: reasons[0]: expected a dict with code"),
    ({"host": "web1", "reasons": [{"code": 5}]}, "outside: reasons[0].code: expected a string, got int"),
    ({"host": ["web1"]}, "outside: host: expected a string, got list"),
    ({"host": "web1", "status": {"x": 1}}, "outside: status: expected a string, got dict"),
])
def test_wrongly_typed_outside(module_env, outside, needle):
    calls = module_env({"ss -H -ltnp": (0, "", "")}, {"ss"})
    res = run({"outside": outside}, FailJson)
    assert res["msg"].startswith(needle), res["msg"]
    assert "Traceback" not in res["msg"] and calls == []  # rejected before any command ran
