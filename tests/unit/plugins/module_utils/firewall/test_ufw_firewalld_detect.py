# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall.base import FirewallError, Rule
from ansible_collections.port443.https.plugins.module_utils.firewall.detect import detect_backend
from ansible_collections.port443.https.plugins.module_utils.firewall.firewalld import FirewalldBackend, list_all_zone
from ansible_collections.port443.https.plugins.module_utils.firewall.ufw import UfwBackend, parse_added

ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw allow 443/tcp comment 'port443.https:tcp/443'
ufw allow from 10.0.0.0/8 to any port 8000:8010 proto tcp
ufw limit 2222/tcp
"""


def test_parse_added():
    rules, lines = parse_added(ADDED)
    assert [r.key for r in rules] == ["tcp/443", "tcp/8000-8010,from=10.0.0.0/8"]
    assert len(lines) == 3


def ufw(fake_runner, active, added=ADDED, **opts):
    runner = fake_runner({("ufw", "status"): (0, "Status: active\n" if active else "Status: inactive\n", ""),
                          ("ufw", "show", "added"): (0, added, "")})
    return UfwBackend(runner, opts, user_rules=()), runner


def test_ufw_idempotent_and_no_reload(fake_runner):
    be, _runner = ufw(fake_runner, True)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443), Rule("tcp", 8000, 8010, "10.0.0.0/8")], True)
    assert not plan.changed


def test_ufw_enable_allows_ssh_first(fake_runner):
    be, _runner = ufw(fake_runner, False, enable=True, ssh_ports=[2222], comment="web")
    plan = be.plan(be.read_state(), [Rule("tcp", 80, 80)], True)
    # 2222 is already allowed (limit), so only the port, then enable
    assert plan.commands == [["ufw", "allow", "80/tcp", "comment", "port443.https:tcp/80 web"], ["ufw", "--force", "enable"]]
    be, _runner = ufw(fake_runner, False, added="", enable=True, ssh_ports=[22])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.commands[0][:3] == ["ufw", "allow", "22/tcp"]
    assert plan.commands[-1] == ["ufw", "--force", "enable"]
    assert plan.undo[0] == "ufw --force disable"


def test_ufw_close_and_source(fake_runner):
    be, _runner = ufw(fake_runner, True)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443), Rule("tcp", 8000, 8010, "10.0.0.0/8")], False)
    assert plan.commands == [["ufw", "delete", "allow", "443/tcp"],
                             ["ufw", "delete", "allow", "from", "10.0.0.0/8", "to", "any", "port", "8000:8010", "proto", "tcp"]]


RICH = 'rule family="ipv4" source address="10.0.0.0/8" port port="443" protocol="tcp" accept\n'


def list_all(ports="", services="", rich=""):
    return (f"public (active)\n  target: default\n  services: {services}\n  ports: {ports}\n  protocols: \n"
            f"  forward: yes\n  rich rules: \n" + "".join(f"\t{r}\n" for r in rich.splitlines()))


def firewalld(fake_runner, running, **opts):
    table = {
        ("firewall-cmd", "--state"): (0, "running\n", "") if running else (252, "not running\n", ""),
        ("firewall-cmd", "--get-default-zone"): (0, "public\n", ""),
        ("firewall-offline-cmd", "--get-default-zone"): (0, "public\n", ""),
        ("firewall-cmd", "--zone=public", "--list-all"): (0, list_all("80/tcp", "ssh", RICH), ""),
        ("firewall-cmd", "--list-all"): (0, list_all("80/tcp", "ssh", RICH), ""),
        ("firewall-cmd", "--permanent", "--zone=public", "--list-all"): (0, list_all("80/tcp 443/tcp", "ssh"), ""),
        ("firewall-cmd", "--zone=nope", "--list-all"): (112, "", "Error: INVALID_ZONE: nope"),
        ("firewall-offline-cmd", "--zone=public", "--list-all"): (0, list_all("", "dhcpv6-client"), ""),
        ("firewall-offline-cmd", "--list-all-zones"): (0, list_all("", "dhcpv6-client").replace("(active)", "(default)"), ""),
    }
    runner = fake_runner(table)
    return FirewalldBackend(runner, opts), runner


def test_firewalld_runtime_and_permanent(fake_runner):
    be, _runner = firewalld(fake_runner, True)
    state = be.read_state()
    plan = be.plan(state, [Rule("tcp", 443, 443), Rule("tcp", 443, 443, "10.0.0.0/8")], True)
    assert plan.commands == [
        ["firewall-cmd", "--zone=public", "--add-port=443/tcp"],
        ["firewall-cmd", "--permanent", "--zone=public",
         '--add-rich-rule=rule family="ipv4" source address="10.0.0.0/8" port port="443" protocol="tcp" accept'],
    ]
    assert [r.key for r in plan.added] == ["tcp/443", "tcp/443,from=10.0.0.0/8"]


def test_firewalld_reads_the_default_zone_in_three_calls(fake_runner):
    be, runner = firewalld(fake_runner, True)
    state = be.read_state()
    assert state["zone"] == "public" and state["runtime"]["rules"] != state["permanent"]["rules"]
    # --list-all names the default zone in its first line: no --get-default-zone, no second runtime read
    assert [argv for argv, _data in runner.calls] == [
        ["firewall-cmd", "--state"], ["firewall-cmd", "--list-all"], ["firewall-cmd", "--permanent", "--zone=public", "--list-all"]]


def test_firewalld_mixed_states_in_one_plan(fake_runner):
    be, _runner = firewalld(fake_runner, True)
    state = be.read_state()
    # runtime has 80, permanent 80 and 443: open 443, close 80
    plan = be.plan_wanted(state, [(Rule("tcp", 443, 443), True), (Rule("tcp", 80, 80), False)])
    assert plan.commands == [
        ["firewall-cmd", "--zone=public", "--remove-port=80/tcp"],
        ["firewall-cmd", "--zone=public", "--add-port=443/tcp"],
        ["firewall-cmd", "--permanent", "--zone=public", "--remove-port=80/tcp"],
    ]
    assert [r.key for r in plan.added] == ["tcp/443"] and [r.key for r in plan.removed] == ["tcp/80"]
    # the undo puts back the start, newest change first
    assert plan.undo[0].endswith("--add-port=80/tcp") and "--remove-port=443/tcp" in plan.undo[1]


def test_list_all_zone():
    assert list_all_zone("public (active)\n  target: default\n") == "public"
    assert list_all_zone("public\n  target: default\n  icmp-block-inversion: no\n") == "public"
    # firewalld 1.3 prints a note first when the connections are in another zone (seen on the lab's Debian 12)
    assert list_all_zone("You're performing an operation over default zone ('public'),\nbut your connections/interfaces"
                         " are in zone 'trusted' (see --get-active-zones)\nYou most likely need to use --zone=trusted"
                         " option.\n\npublic\n  target: default\n") == "public"
    assert list_all_zone("Note that this\n  target: default\n") is None
    assert list_all_zone("  target: default\n") is None
    assert list_all_zone("") is None


def test_firewalld_offline_enable_allows_ssh(fake_runner):
    be, _runner = firewalld(fake_runner, False, enable=True, ssh_ports=[22])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.commands == [["firewall-offline-cmd", "--zone=public", "--add-port=22/tcp", "--add-port=443/tcp"],
                             ["systemctl", "enable", "--now", "firewalld"]]
    assert plan.undo[0] == "systemctl disable --now firewalld"


def test_firewalld_unknown_zone(fake_runner):
    be, _runner = firewalld(fake_runner, True, zone="nope")
    with pytest.raises(FirewallError, match="no zone"):
        be.read_state()


def which_all(name):
    return name


def test_detect_order(fake_runner):
    runner = fake_runner({("firewall-cmd", "--state"): (252, "", ""), ("ufw", "status"): (0, "Status: active", "")})
    assert detect_backend(runner, which_all)[0] == "ufw"
    runner = fake_runner({("firewall-cmd", "--state"): (0, "running", "")})
    assert detect_backend(runner, which_all) == ("firewalld", "firewalld is running")
    native = json.dumps({"nftables": [{"table": {"family": "inet", "name": "filter"}}]})
    runner = fake_runner({("firewall-cmd", "--state"): (252, "", ""), ("ufw", "status"): (0, "Status: inactive", ""),
                          ("nft", "-j", "-a", "list", "ruleset"): (0, native, "")})
    assert detect_backend(runner, which_all)[0] == "nftables"
    assert detect_backend(runner, which_all, enable=True)[0] == "firewalld"
    made = json.dumps({"nftables": [{"table": {"family": "ip", "name": "filter"}},
                                    {"chain": {"family": "ip", "table": "filter", "name": "INPUT"}}]})
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, made, "")})
    assert detect_backend(runner, lambda n: n if n in ("nft", "iptables") else None)[0] == "iptables"
    with pytest.raises(FirewallError):
        detect_backend(runner, lambda n: None)


def test_ufw_mixed_states_and_per_rule_comments(fake_runner):
    be, _runner = ufw(fake_runner, True, comment="https")
    plan = be.plan_wanted(be.read_state(), [(Rule("tcp", 443, 443), True), (Rule("tcp", 80, 80), True),
                                            (Rule("tcp", 8000, 8010, "10.0.0.0/8"), False),
                                            (Rule("udp", 53, 53, comment="dns"), True)])
    assert plan.commands == [
        ["ufw", "allow", "80/tcp", "comment", "port443.https:tcp/80 https"],
        ["ufw", "delete", "allow", "from", "10.0.0.0/8", "to", "any", "port", "8000:8010", "proto", "tcp"],
        ["ufw", "allow", "53/udp", "comment", "port443.https:udp/53 dns"],
    ]


def test_firewalld_ports_and_rich_rules_take_a_command_each(fake_runner):
    # firewall-cmd: "argument --add-rich-rule: not allowed with argument --add-port"
    be, _runner = firewalld(fake_runner, True, persistent=False)
    plan = be.plan_wanted(be.read_state(), [(Rule("tcp", 443, 443), True), (Rule("tcp", 8000, 8010, "10.0.0.0/8"), True),
                                            (Rule("tcp", 80, 80), False)])
    assert plan.commands == [
        ["firewall-cmd", "--zone=public", "--remove-port=80/tcp"],
        ["firewall-cmd", "--zone=public", "--add-port=443/tcp"],
        ["firewall-cmd", "--zone=public",
         '--add-rich-rule=rule family="ipv4" source address="10.0.0.0/8" port port="8000-8010" protocol="tcp" accept'],
    ]
    for argv in plan.commands:
        assert not (any(a.startswith("--add-port") for a in argv) and any(a.startswith("--add-rich-rule") for a in argv))
