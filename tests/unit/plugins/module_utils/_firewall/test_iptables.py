# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

from ansible_collections.port443.https.plugins.module_utils._firewall.base import Rule
from ansible_collections.port443.https.plugins.module_utils._firewall.iptables import IptablesBackend, edit_saved, parse_spec

V4 = """-P INPUT ACCEPT
-A INPUT -j DOCKER-USER
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -m comment --comment "port443.https:tcp/443 https" -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-port-unreachable
"""
V6 = """-P INPUT DROP
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
"""


def backend(fake_runner, tmp_path, persistent=True):
    runner = fake_runner({("iptables", "-w", "-S", "INPUT"): (0, V4, ""), ("ip6tables", "-w", "-S", "INPUT"): (0, V6, ""),
                          ("iptables-save",): (0, "*filter\nCOMMIT\n", ""), ("ip6tables-save",): (0, "*filter\n:INPUT DROP [0:0]\nCOMMIT\n", ""),
                          **{(b, "-w", op): (0, "", "") for b in ("iptables", "ip6tables") for op in ("-I", "-A", "-D")}})
    paths = {"ipv4": str(tmp_path / "rules.v4"), "ipv6": str(tmp_path / "rules.v6")}
    return IptablesBackend(runner, {"persistent": persistent}, paths=paths), runner


def test_parse_spec_terminal():
    parsed = parse_spec(V4)
    assert parsed["policy"] == "ACCEPT" and parsed["terminal"] == 4 and len(parsed["rules"]) == 4


def test_plan_inserts_before_reject_and_appends_on_policy_drop(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, persistent=False)
    state = be.read_state()
    assert state["active"]
    assert state["rules"] == {"ipv4": ["allow tcp/443 from any"], "ipv6": []}
    plan = be.plan(state, [Rule("tcp", 443, 443), Rule("tcp", 80, 80)], True)
    assert plan.commands == [
        ["iptables", "-w", "-I", "INPUT", "4", "-p", "tcp", "-m", "tcp", "--dport", "80", "-m", "comment", "--comment",
         "port443.https:tcp/80", "-j", "ACCEPT"],
        ["ip6tables", "-w", "-A", "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "443", "-m", "comment", "--comment",
         "port443.https:tcp/443", "-j", "ACCEPT"],
        ["ip6tables", "-w", "-A", "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "80", "-m", "comment", "--comment",
         "port443.https:tcp/80", "-j", "ACCEPT"],
    ]
    assert [r.key for r in plan.added] == ["tcp/80", "tcp/443"]


def test_close_deletes_exact_spec(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, persistent=False)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], False)
    assert plan.commands == [["iptables", "-w", "-D", "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "443", "-m", "comment",
                              "--comment", "port443.https:tcp/443 https", "-j", "ACCEPT"]]


def test_source_rule_only_in_its_family(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, persistent=False)
    plan = be.plan(be.read_state(), [Rule("tcp", 22, 22, "2001:db8::/32")], True)
    assert len(plan.commands) == 1 and plan.commands[0][0] == "ip6tables" and "2001:db8::/32" in plan.commands[0]


def test_persist_edits_only_marked_lines(fake_runner, tmp_path):
    (tmp_path / "rules.v4").write_text("*nat\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 198.51.100.7/32 -j DROP\n"
                                       "-A INPUT -p tcp -m tcp --dport 9 -m comment --comment \"port443.https:tcp/9\" -j ACCEPT\n"
                                       "-A INPUT -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n")
    be, runner = backend(fake_runner, tmp_path)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.files[str(tmp_path / "rules.v4")] == (
        "*nat\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 198.51.100.7/32 -j DROP\n"
        "-A INPUT -p tcp -m tcp --dport 443 -m comment --comment \"port443.https:tcp/443 https\" -j ACCEPT\n"
        "-A INPUT -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n")
    # rules.v6 does not exist: saved from ip6tables-save after the change
    assert plan.saves == {str(tmp_path / "rules.v6"): "ip6tables-save"}
    be.apply(plan)
    assert (tmp_path / "rules.v6").read_text().startswith("*filter")


def test_edit_saved_without_filter_table():
    expected = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"
    assert edit_saved("*nat\nCOMMIT\n", ["-A INPUT -j ACCEPT"], "DROP").endswith(expected)
