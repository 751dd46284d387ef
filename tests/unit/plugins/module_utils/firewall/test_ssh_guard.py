# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The lockout guard and the SSH port discovery, on the exact output of the tools (captured on Debian 13 hosts)."""
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall.base import Rule, port_in
from ansible_collections.port443.https.plugins.module_utils.firewall.detect import (
    connection_port,
    parse_list_sockets,
    parse_show_sockets,
    parse_ss,
    parse_sshd_t,
    ssh_ports,
)
from ansible_collections.port443.https.plugins.module_utils.firewall.firewalld import FirewalldBackend, parse_zones, rich_allows
from ansible_collections.port443.https.plugins.module_utils.firewall.iptables import IptablesBackend, saved_ssh_rules, spec_allows
from ansible_collections.port443.https.plugins.module_utils.firewall.nftables import NftablesBackend, parse_ruleset, ruleset_ssh_rules
from ansible_collections.port443.https.plugins.module_utils.firewall.ufw import UfwBackend, added_allows, parse_tuples, tuple_allows

# --- ufw ------------------------------------------------------------------------------------------------------------
# `ufw show added` of an inactive ufw after: ufw allow from 10.0.0.0/8 to any port 22; ufw allow OpenSSH;
# ufw allow 2000:2100/tcp; ufw limit ssh; ufw allow proto tcp from 192.0.2.0/24 to any port 22,2222;
# ufw allow in on eth0 to any port 3333 proto tcp
UFW_ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw allow from 10.0.0.0/8 to any port 22
ufw allow OpenSSH
ufw allow 2000:2100/tcp
ufw limit 22/tcp
ufw allow from 192.0.2.0/24 to any port 22,2222 proto tcp
ufw allow in on eth0 to any port 3333 proto tcp
"""
UFW_USER_RULES = """*filter
:ufw-user-input - [0:0]
### RULES ###

### tuple ### allow any 22 0.0.0.0/0 any 10.0.0.0/8 in
-A ufw-user-input -p tcp --dport 22 -s 10.0.0.0/8 -j ACCEPT
-A ufw-user-input -p udp --dport 22 -s 10.0.0.0/8 -j ACCEPT

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in
-A ufw-user-input -p tcp --dport 22 -j ACCEPT -m comment --comment 'dapp_OpenSSH'

### tuple ### allow tcp 2000:2100 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp -m multiport --dports 2000:2100 -j ACCEPT

### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 22,2222 0.0.0.0/0 any 192.0.2.0/24 in
### tuple ### allow tcp 3333 0.0.0.0/0 any 0.0.0.0/0 in_eth0
### tuple ### route:allow tcp 4444 0.0.0.0/0 any 0.0.0.0/0 in
### END RULES ###
COMMIT
"""
# `ufw status verbose` of the same rules once enabled (what the operator sees).
UFW_STATUS_VERBOSE = """Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), deny (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22                         ALLOW IN    10.0.0.0/8
22/tcp (OpenSSH)           ALLOW IN    Anywhere
2000:2100/tcp              ALLOW IN    Anywhere
22/tcp                     LIMIT IN    Anywhere
22,2222/tcp                ALLOW IN    192.0.2.0/24
3333/tcp on eth0           ALLOW IN    Anywhere
"""


@pytest.mark.parametrize("line,port,expected", [
    ("ufw allow from 10.0.0.0/8 to any port 22", 22, True),
    ("ufw allow OpenSSH", 22, True),
    ("ufw allow 2000:2100/tcp", 2050, True),
    ("ufw limit 22/tcp", 22, True),
    ("ufw limit ssh", 22, True),
    ("ufw allow from 192.0.2.0/24 to any port 22,2222 proto tcp", 2222, True),
    ("ufw allow in on eth0 to any port 3333 proto tcp", 3333, True),
    ("ufw allow from 10.0.0.0/8", 2222, True),  # everything from a network
    ("ufw allow 22/udp", 22, False),
    ("ufw allow out 22/tcp", 22, False),
    ("ufw deny 22/tcp", 22, False),
    ("ufw allow 443/tcp comment 'port443.https:tcp/443'", 22, False),
    ("ufw allow from 10.0.0.0/8 to any port 443 proto tcp", 22, False),
])
def test_ufw_show_added_lines(line, port, expected):
    assert added_allows(line, port) is expected


def test_ufw_user_rules_tuples():
    tuples = parse_tuples(UFW_USER_RULES)
    assert len(tuples) == 6  # the route rule is not an inbound rule
    assert tuple_allows("allow any 22 0.0.0.0/0 any 10.0.0.0/8 in", 22)
    assert tuple_allows("allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in", 22)
    assert tuple_allows("allow tcp 22,2222 0.0.0.0/0 any 192.0.2.0/24 in", 2222)
    assert tuple_allows("allow tcp 3333 0.0.0.0/0 any 0.0.0.0/0 in_eth0", 3333)
    assert not tuple_allows("allow udp 22 0.0.0.0/0 any 0.0.0.0/0 in", 22)
    assert not tuple_allows("deny tcp 22 0.0.0.0/0 any 0.0.0.0/0 in", 22)
    assert not tuple_allows("allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 out", 22)


def ufw_backend(fake_runner, tmp_path, added, user_rules="", status="Status: inactive\n", **opts):
    (tmp_path / "user.rules").write_text(user_rules)
    runner = fake_runner({("ufw", "status"): (0, status, ""), ("ufw", "show", "added"): (0, added, ""),
                          ("ufw", "allow"): (0, "", ""), ("ufw", "--force", "enable"): (0, "", "")})
    return UfwBackend(runner, {"enable": True, **opts}, user_rules=[str(tmp_path / "user.rules")])


def test_ufw_inactive_source_restricted_ssh_is_not_widened(fake_runner, tmp_path):
    added = "Added user rules (see 'ufw status' for running firewall):\nufw allow from 10.0.0.0/8 to any port 22\n"
    be = ufw_backend(fake_runner, tmp_path, added, "### tuple ### allow any 22 0.0.0.0/0 any 10.0.0.0/8 in\n",
                     ssh_ports=[22], ssh_port_sources={"22": ["default (nothing else found)"]})
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert [c[:3] for c in plan.commands] == [["ufw", "allow", "443/tcp"], ["ufw", "--force", "enable"]]
    assert plan.ssh_guard["action"] == "none" and plan.ssh_guard["added"] == []
    assert plan.ssh_guard["existing"] == ["ufw allow from 10.0.0.0/8 to any port 22"]
    assert plan.ssh_guard["port_sources"] == {"22": ["default (nothing else found)"]}


def test_ufw_tuples_count_when_show_added_says_nothing(fake_runner, tmp_path):
    be = ufw_backend(fake_runner, tmp_path, "", UFW_USER_RULES, ssh_ports=[2222])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.ssh_guard["existing"] == [f"{tmp_path / 'user.rules'}: allow tcp 22,2222 0.0.0.0/0 any 192.0.2.0/24 in"]
    assert plan.ssh_guard["action"] == "none"


def test_ufw_adds_only_the_ports_nothing_allows(fake_runner, tmp_path):
    be = ufw_backend(fake_runner, tmp_path, UFW_ADDED, UFW_USER_RULES, ssh_ports=[22, 2222, 2200])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.ssh_guard["missing"] == [2200]
    assert plan.ssh_guard["action"] == "added" and plan.ssh_guard["added"] == ["ufw allow 2200/tcp"]
    assert plan.commands[0][:3] == ["ufw", "allow", "2200/tcp"]
    assert plan.commands[-1] == ["ufw", "--force", "enable"]
    assert "ufw allow from 10.0.0.0/8 to any port 22" in plan.ssh_guard["existing"]


def test_ufw_active_reports_without_adding(fake_runner, tmp_path):
    be = ufw_backend(fake_runner, tmp_path, UFW_ADDED, status=UFW_STATUS_VERBOSE, ssh_ports=[22])
    state = be.read_state()
    plan = be.plan(state, [Rule("tcp", 443, 443)], True)
    assert plan.ssh_guard is None and not plan.enable
    guard = be.ssh_guard(state, "ufw is already active")
    assert guard["action"] == "none" and len(guard["existing"]) == 4


# --- firewalld ------------------------------------------------------------------------------------------------------
# `firewall-offline-cmd --list-all-zones` (firewalld 2.3, stopped) after removing the ssh service from public, adding
# a rich rule for SSH from 10.0.0.0/8 and binding 192.0.2.0/24 to the internal zone (abridged to four zones).
ZONES = """block
  target: %%REJECT%%
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces:
  sources:
  services:
  ports:
  protocols:
  forward: yes
  masquerade: no
  forward-ports:
  source-ports:
  icmp-blocks:
  rich rules:

dmz
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces:
  sources:
  services: ssh
  ports:
  protocols:
  forward: yes
  masquerade: no
  forward-ports:
  source-ports:
  icmp-blocks:
  rich rules:

internal
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces:
  sources: 192.0.2.0/24
  services: dhcpv6-client mdns samba-client ssh
  ports:
  protocols:
  forward: yes
  masquerade: no
  forward-ports:
  source-ports:
  icmp-blocks:
  rich rules:

public (default)
  target: default
  ingress-priority: 0
  egress-priority: 0
  icmp-block-inversion: no
  interfaces:
  sources:
  services: dhcpv6-client
  ports:
  protocols:
  forward: yes
  masquerade: no
  forward-ports:
  source-ports:
  icmp-blocks:
  rich rules:
\trule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="tcp" accept
\trule family="ipv6" source address="2001:db8::/32" service name="ssh" accept
"""
# firewall-cmd prints "key: " with a trailing blank for an empty field: put it back (kept out of the source text).
ZONES = re.sub(r":\n", ": \n", ZONES)
PUBLIC = ZONES[ZONES.index("public (default)"):]


def test_parse_zones():
    zones = parse_zones(ZONES)
    assert sorted(zones) == ["block", "dmz", "internal", "public"]
    assert zones["public"]["flags"] == ["default"]
    assert zones["internal"]["sources"] == ["192.0.2.0/24"]
    assert len(zones["public"]["rich"]) == 2
    assert zones["block"]["target"] == "%%REJECT%%"


@pytest.mark.parametrize("rule,expected", [
    ('rule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="tcp" accept', True),
    ('rule family="ipv6" source address="2001:db8::/32" service name="ssh" accept', True),
    ('rule family="ipv4" source address="10.0.0.0/8" accept', True),
    ('rule family="ipv4" source address="10.0.0.0/8" port port="20-30" protocol="tcp" accept', True),
    ('rule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="udp" accept', False),
    ('rule family="ipv4" source address="198.51.100.7" reject', False),
    ('rule family="ipv4" source address="10.0.0.0/8" port port="443" protocol="tcp" accept', False),
    ('rule family="ipv4" source address="10.0.0.0/8" forward-port port="22" protocol="tcp" to-port="2222"', False),
])
def test_rich_rules(rule, expected):
    assert rich_allows(rule, 22) is expected


def firewalld_backend(fake_runner, zones, **opts):
    runner = fake_runner({
        ("firewall-cmd", "--state"): (252, "not running\n", ""),
        ("firewall-offline-cmd", "--get-default-zone"): (0, "public\n", ""),
        ("firewall-offline-cmd", "--zone=public", "--list-all"): (0, PUBLIC, ""),
        ("firewall-offline-cmd", "--list-all-zones"): (0, zones, ""),
    })
    return FirewalldBackend(runner, {"enable": True, **opts})


def test_firewalld_stopped_rich_rule_is_not_widened(fake_runner):
    be = firewalld_backend(fake_runner, ZONES, ssh_ports=[22])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.commands == [["firewall-offline-cmd", "--zone=public", "--add-port=443/tcp"],
                             ["systemctl", "enable", "--now", "firewalld"]]
    assert plan.ssh_guard["action"] == "none"
    # the unbound dmz zone filters nothing; the internal zone bound to a source counts
    assert plan.ssh_guard["existing"] == [
        "zone internal (sources 192.0.2.0/24): service ssh",
        'zone public (target zone, default zone): rich rule rule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="tcp" accept',
        'zone public (target zone, default zone): rich rule rule family="ipv6" source address="2001:db8::/32" service name="ssh" accept',
    ]


def test_firewalld_stopped_nothing_allows_2222(fake_runner):
    be = firewalld_backend(fake_runner, ZONES, ssh_ports=[2222])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.commands[0] == ["firewall-offline-cmd", "--zone=public", "--add-port=2222/tcp", "--add-port=443/tcp"]
    assert plan.ssh_guard["action"] == "added" and plan.ssh_guard["added"] == ["zone public: port 2222/tcp"]


def test_firewalld_zone_bound_by_source_with_ssh_counts(fake_runner):
    zones = ZONES.replace('\trule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="tcp" accept\n', "")
    zones = zones.replace('\trule family="ipv6" source address="2001:db8::/32" service name="ssh" accept\n', "")
    be = firewalld_backend(fake_runner, zones, ssh_ports=[22])
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert plan.ssh_guard["existing"] == ["zone internal (sources 192.0.2.0/24): service ssh"]
    assert plan.ssh_guard["added"] == []


# --- nftables -------------------------------------------------------------------------------------------------------
# `nft -j -a list ruleset` (nftables 1.1.3) of:
#   ct state established,related accept; iif lo accept; ip saddr 10.0.0.0/8 tcp dport 22 accept comment "mgmt ssh";
#   ip6 saddr 2001:db8::/32 tcp dport { 22, 2222 } accept; tcp dport 8000-8010 accept; meta l4proto tcp th dport 443 accept
NFT = '{"nftables": [{"metainfo": {"version": "1.1.3", "release_name": "Commodore Bullmoose #4", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "filter", "handle": 9}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "comment": "mgmt ssh", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.0.0.0", "len": 8}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "2001:db8::", "len": 32}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, 2222]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"range": [8000, 8010]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"accept": null}]}}]}'  # noqa: E501


def test_nft_ruleset_ssh_rules():
    parsed = parse_ruleset(NFT)
    assert ruleset_ssh_rules(parsed, 22) == [
        "inet filter input: ip saddr 10.0.0.0/8 tcp dport 22 accept",
        "inet filter input: ip6 saddr 2001:db8::/32 tcp dport { 22, 2222 } accept",
    ]
    assert ruleset_ssh_rules(parsed, 2222) == ["inet filter input: ip6 saddr 2001:db8::/32 tcp dport { 22, 2222 } accept"]
    assert ruleset_ssh_rules(parsed, 8005) == ["inet filter input: tcp dport 8000-8010 accept"]
    assert ruleset_ssh_rules(parsed, 2200) == []


def test_nft_forward_chain_and_drop_do_not_count():
    data = json.loads(NFT)
    data["nftables"].append({"chain": {"family": "inet", "table": "filter", "name": "fwd", "hook": "forward", "type": "filter"}})
    data["nftables"].append({"rule": {"family": "inet", "table": "filter", "chain": "fwd", "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 2200}}, {"accept": None}]}})
    data["nftables"].append({"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 2200}}, {"drop": None}]}})
    data["nftables"].append({"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
        {"match": {"op": "!=", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 2201}}, {"accept": None}]}})
    assert ruleset_ssh_rules(parse_ruleset(json.dumps(data)), 2200) == []


def test_nft_backend_reads_live_and_persisted(fake_runner, tmp_path):
    conf = tmp_path / "nftables.conf"
    conf.write_text("#!/usr/sbin/nft -f\nflush ruleset\n")
    persisted = json.loads(NFT)
    persisted["nftables"] = [i for i in persisted["nftables"] if i.get("rule", {}).get("handle") != 6]
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, NFT, ""),
                          ("unshare", "--net", "sh", "-c"): (0, json.dumps(persisted), "")})
    be = NftablesBackend(runner, {"ssh_ports": [22, 2222], "persistent": False}, conf_path=str(conf))
    guard = be.ssh_guard(be.read_state(), "reported")
    assert guard["existing"] == [
        "live: inet filter input: ip saddr 10.0.0.0/8 tcp dport 22 accept",
        "live: inet filter input: ip6 saddr 2001:db8::/32 tcp dport { 22, 2222 } accept",
        f"{conf}: inet filter input: ip saddr 10.0.0.0/8 tcp dport 22 accept",
    ]
    assert guard["action"] == "none" and guard["missing"] == []
    unshare = [c for c, _d in runner.calls if c[0] == "unshare"]
    assert len(unshare) == 1 and unshare[0][-1] == str(conf)


# --- iptables -------------------------------------------------------------------------------------------------------
IPTABLES_SAVE = """# Generated by iptables-save v1.8.11 (nf_tables) on Mon Nov 30 08:16:11 2026
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment mgmt-ssh -j ACCEPT
-A INPUT -s 192.0.2.0/24 -p tcp -m multiport --dports 22,2222 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8000:8010 -j ACCEPT
COMMIT
# Completed on Mon Nov 30 08:16:11 2026
"""
IP6TABLES_SAVE = """# Generated by ip6tables-save v1.8.11 (nf_tables) on Mon Nov 30 08:16:11 2026
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
# Completed on Mon Nov 30 08:16:11 2026
"""
IPTABLES_S = """-P INPUT DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment mgmt-ssh -j ACCEPT
-A INPUT -s 192.0.2.0/24 -p tcp -m multiport --dports 22,2222 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8000:8010 -j ACCEPT
"""


@pytest.mark.parametrize("spec,port,expected", [
    ("-s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT", 22, True),
    ("-s 192.0.2.0/24 -p tcp -m multiport --dports 22,2222 -j ACCEPT", 2222, True),
    ("-p tcp -m tcp --dport 8000:8010 -j ACCEPT", 8005, True),
    ("-s 10.0.0.0/8 -j ACCEPT", 22, True),
    ("-i eth0 -p tcp -m tcp --dport 22 -j ACCEPT", 22, True),
    ("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", 22, False),
    ("-i lo -j ACCEPT", 22, False),
    ("-p udp -m udp --dport 22 -j ACCEPT", 22, False),
    ("-p tcp -m tcp --dport 22 -j DROP", 22, False),
    ("-p tcp -m tcp ! --dport 22 -j ACCEPT", 22, False),
    ("-p tcp -m multiport --dports 22,443 -j f2b-sshd", 22, False),
])
def test_iptables_spec_allows(spec, port, expected):
    assert spec_allows(spec.split(), port) is expected


def test_iptables_saved_files():
    assert saved_ssh_rules(IPTABLES_SAVE, 22) == [
        "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment mgmt-ssh -j ACCEPT",
        "-A INPUT -s 192.0.2.0/24 -p tcp -m multiport --dports 22,2222 -j ACCEPT",
    ]
    assert saved_ssh_rules("*nat\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n", 22) == []


def test_iptables_backend_live_and_persisted(fake_runner, tmp_path):
    (tmp_path / "rules.v6").write_text(IP6TABLES_SAVE)
    runner = fake_runner({("iptables", "-w", "-S", "INPUT"): (0, IPTABLES_S, ""),
                          ("ip6tables", "-w", "-S", "INPUT"): (0, "-P INPUT DROP\n", "")})
    be = IptablesBackend(runner, {"ssh_ports": [22]}, paths={"ipv4": str(tmp_path / "rules.v4"), "ipv6": str(tmp_path / "rules.v6")})
    guard = be.ssh_guard(be.read_state(), "reported")
    assert guard["existing"] == [
        "live iptables: -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment mgmt-ssh -j ACCEPT",
        "live iptables: -A INPUT -s 192.0.2.0/24 -p tcp -m multiport --dports 22,2222 -j ACCEPT",
        f"{tmp_path / 'rules.v6'}: -A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -j ACCEPT",
    ]


# --- SSH port discovery ---------------------------------------------------------------------------------------------
# ssh.socket with ListenStream=2222, ssh.service disabled (Debian 13): before and after the first connection.
SS_IDLE = """LISTEN 0      4096   127.0.0.11:34665 0.0.0.0:*
LISTEN 0      4096            *:2222        *:* users:(("systemd",pid=1,fd=37))
"""
SS_SERVING = """LISTEN 0      4096   127.0.0.11:34665 0.0.0.0:*
LISTEN 0      4096            *:2222        *:* users:(("sshd",pid=2079,fd=3),("systemd",pid=1,fd=37))
LISTEN 0      4096      0.0.0.0:631   0.0.0.0:* users:(("systemd",pid=1,fd=40))
"""
SS_DAEMON = """LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=612,fd=3))
LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=612,fd=4))
LISTEN 0      511          0.0.0.0:443       0.0.0.0:*    users:(("nginx",pid=700,fd=6))
"""
SSHD_T = """port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam yes
"""
SHOW = """Id=ssh.socket
Listen=[::]:2222 (Stream)
ActiveState=active

Id=sshd.socket
ActiveState=inactive
"""
LIST_SOCKETS = """[::]:2222                           ssh.socket                      ssh.service
audit 1                             systemd-journald-audit.socket   systemd-journald.service
/run/ssh-unix-local/socket          sshd-unix-local.socket          -
/run/systemd/journal/stdout         systemd-journald.socket         systemd-journald.service
0.0.0.0:631                         cups.socket                     cups.service
"""


def test_parsers():
    assert parse_ss(SS_SERVING) == [(34665, []), (2222, [("sshd", 2079), ("systemd", 1)]), (631, [("systemd", 1)])]
    assert parse_sshd_t(SSHD_T) == [22]
    assert parse_show_sockets(SHOW) == [(2222, "ssh.socket")]
    assert parse_list_sockets(LIST_SOCKETS) == [(2222, "ssh.socket")]
    assert port_in(2222, "22,2222") and port_in(2050, "2000:2100") and port_in(5, "any") and not port_in(22, "")


def host(fake_runner, ss, show=SHOW, sockets=LIST_SOCKETS, sshd=(0, SSHD_T, "")):
    return fake_runner({("systemctl", "list-sockets"): (0, sockets, ""), ("systemctl", "show"): (0, show, ""),
                        ("ss", "-Htlnp"): (0, ss, ""), ("sshd", "-T"): sshd})


def which_all(name):
    return name


def no_proc(tmp_path):
    return {"proc": str(tmp_path / "noproc"), "pid": 1234}


def test_socket_activated_sshd_on_2222_never_22(fake_runner, tmp_path):
    found = ssh_ports({}, host(fake_runner, SS_IDLE), which_all, **no_proc(tmp_path))
    assert found["ports"] == [2222]
    assert found["port_sources"] == {"2222": ["systemd socket unit ssh.socket",
                                              "listening socket of systemd (pid 1) for an ssh socket unit"]}
    assert any("sshd -T names port(s) 22, not used: ssh.socket is active" in n for n in found["notes"])
    # sshd -T failing (no /run/sshd before the first connection) changes nothing
    found = ssh_ports({}, host(fake_runner, SS_SERVING, sshd=(255, "", "Missing privilege separation directory: /run/sshd")),
                      which_all, **no_proc(tmp_path))
    assert found["ports"] == [2222]
    assert "listening socket of sshd" in found["port_sources"]["2222"]


def test_sshd_daemon_and_sshd_t(fake_runner, tmp_path):
    found = ssh_ports({}, host(fake_runner, SS_DAEMON, show="Id=ssh.socket\nActiveState=inactive\n", sockets=""),
                      which_all, **no_proc(tmp_path))
    assert found == {"ports": [22], "port_sources": {"22": ["listening socket of sshd", "sshd -T"]}, "notes": []}


def test_default_only_when_nothing_is_known(fake_runner, tmp_path):
    found = ssh_ports({}, None, None, **no_proc(tmp_path))
    assert found["ports"] == [22] and found["port_sources"] == {"22": ["default (nothing else found)"]}
    found = ssh_ports({}, None, None, explicit=[2222], **no_proc(tmp_path))
    assert found["ports"] == [2222] and found["port_sources"] == {"2222": ["ssh_ports option"]}


def test_every_candidate_is_kept_and_said(fake_runner, tmp_path):
    found = ssh_ports({"SSH_CONNECTION": "192.0.2.5 50000 192.0.2.10 2200"}, host(fake_runner, SS_IDLE), which_all,
                      explicit=[2022], **no_proc(tmp_path))
    assert found["ports"] == [2022, 2200, 2222]
    assert found["port_sources"]["2200"] == ["SSH_CONNECTION"]
    assert any("every one is kept open" in n for n in found["notes"])


def fake_proc(tmp_path, chain):
    """chain: [(pid, ppid, comm, environ dict)], the module's own process first."""
    for pid, ppid, comm, env in chain:
        d = tmp_path / "proc" / str(pid)
        d.mkdir(parents=True)
        (d / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0\n")
        (d / "environ").write_bytes(b"".join(f"{k}={v}".encode() + b"\0" for k, v in env.items()))
    return str(tmp_path / "proc")


def test_connection_port_through_sudo(tmp_path):
    # python3 (root, env reset by sudo) <- sh <- sudo (still the user's environment) <- sh (user) <- sshd-session
    proc = fake_proc(tmp_path, [
        (400, 399, "python3", {"PATH": "/usr/bin", "SUDO_USER": "deploy"}),
        (399, 398, "sh", {"SUDO_USER": "deploy"}),
        (398, 300, "sudo", {"USER": "deploy", "SSH_CONNECTION": "172.18.0.1 40022 172.18.0.6 2222"}),
        (300, 290, "sh", {"SSH_CONNECTION": "172.18.0.1 40022 172.18.0.6 2222"}),
        (290, 1, "sshd-session", {}),
    ])
    assert connection_port({}, proc, 400) == (2222, "SSH_CONNECTION of parent process 398 (sudo)")
    assert connection_port({"SSH_CONNECTION": "a 1 b 2200"}, proc, 400) == (2200, "SSH_CONNECTION")
    assert connection_port({}, proc, 290) is None
    assert connection_port({}, str(tmp_path / "none"), 400) is None
