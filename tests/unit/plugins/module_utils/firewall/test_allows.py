# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Backend.allows: whether the live ruleset lets a port in, every rule counted (what the doctor reports)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall.base import FirewallError
from ansible_collections.port443.https.plugins.module_utils.firewall.firewalld import FirewalldBackend
from ansible_collections.port443.https.plugins.module_utils.firewall.iptables import IptablesBackend
from ansible_collections.port443.https.plugins.module_utils.firewall.nftables import NftablesBackend
from ansible_collections.port443.https.plugins.module_utils.firewall.ufw import UfwBackend

# Each <name>.json is what `nft -j -a list ruleset` (nftables 1.0.6, Debian 12) printed after `nft -f <name>.nft`.
NFT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "nft")


def nft_ruleset(name):
    with open(os.path.join(NFT, f"{name}.json"), encoding="utf-8") as fh:
        return fh.read()


@pytest.mark.parametrize("name, port, allows, evidence", [
    ("drop_443", 443, False, "inet filter input: tcp dport 443 drop"),
    ("drop_443", 80, True, "inet filter input: policy accept"),
    ("policy_drop_web", 443, True, "inet filter input: tcp dport { 22, 80, 443 } accept"),
    ("policy_drop_ssh_only", 443, False, "inet filter input: policy drop and no rule accepts 443/tcp"),
    ("ufw_jump", 443, True, "ip filter ufw-user-input: tcp dport 443 accept"),
    ("ufw_jump", 80, False, "ip filter INPUT: policy drop and no rule accepts 80/tcp"),
    ("range_reject", 443, False, "inet filter input: tcp dport 400-500 reject"),
    ("range_reject", 80, True, "inet filter input: policy accept"),
    # a jump is no verdict, a named set cannot be read, udp does not count, != does not hold the port
    ("mixed", 443, False, "inet filter input: policy drop and no rule accepts 443/tcp"),
    ("mixed", 80, True, "inet filter input: th dport 80 accept"),
    ("mixed", 8500, False, "ip6 other in6: tcp dport { 22, 8000-9000 } reject"),
    ("mixed", 8443, False, "inet filter web: tcp dport 8443 drop"),
    ("service_names", 80, True, "inet filter input: tcp dport { 80, 8080 } accept"),
])
def test_nftables(fake_runner, name, port, allows, evidence):
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, nft_ruleset(name), "")})
    verdict = NftablesBackend(runner).allows(port)
    assert verdict["allows"] is allows
    assert evidence in verdict["evidence"]


def test_nftables_reads_once_and_fails_clearly(fake_runner):
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, '{"nftables": []}', "")})
    be = NftablesBackend(runner)
    assert be.allows(443) == {"allows": True, "evidence": ["no input chain in the nftables ruleset"]}
    assert be.allows(80)["allows"] is True
    assert len(runner.calls) == 1
    failing = NftablesBackend(fake_runner({("nft",): (1, "", "Operation not permitted")}))
    with pytest.raises(FirewallError, match="Operation not permitted"):
        failing.allows(443)


@pytest.mark.parametrize("text, port, allows", [
    ("-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 443 -j DROP\n", 443, False),
    ("-P INPUT DROP\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n", 443, True),
    ("-P INPUT DROP\n-A INPUT -p tcp --dport 22 -j ACCEPT\n", 443, False),
    ("-P INPUT ACCEPT\n", 443, True),
    ("-P INPUT DROP\n-N web\n-A INPUT -j web\n-A web -p tcp --dport 443 -j ACCEPT\n", 443, True),
    ("-P INPUT ACCEPT\n-A INPUT -p tcp --dport 400:500 -j REJECT\n", 443, False),
    ("-P INPUT ACCEPT\n-A INPUT -p udp --dport 443 -j DROP\n", 443, True),
    ("-P INPUT DROP\n-A INPUT -p tcp --dport 400:500 -j ACCEPT\n", 80, False),
    # Policy ACCEPT with a terminal catch-all DROP or REJECT after the allowed ports: the catch-all decides.
    ("-P INPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j DROP\n", 443, False),
    ("-P INPUT ACCEPT\n-A INPUT -m comment --comment \"default deny\" -j REJECT --reject-with icmp-port-unreachable\n", 443, False),
    ("-P INPUT ACCEPT\n-A INPUT -p tcp -j DROP\n", 443, False),
    ("-P INPUT DROP\n-A INPUT -p tcp -m tcp -j ACCEPT\n", 443, True),
    # Narrowed catch-alls are about something else: established connections, loopback, one source, a negation.
    ("-P INPUT ACCEPT\n-A INPUT -m conntrack --ctstate INVALID -j DROP\n", 443, True),
    ("-P INPUT DROP\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n", 443, False),
    ("-P INPUT ACCEPT\n-A INPUT -s 198.51.100.7/32 -j DROP\n", 443, True),
    ("-P INPUT ACCEPT\n-A INPUT ! -i eth0 -j DROP\n", 443, True),
    # A catch-all for another protocol does not decide this one.
    ("-P INPUT ACCEPT\n-A INPUT -p udp -j DROP\n", 443, True),
    # A comment with spaces and option-like words is one value.
    ("-P INPUT DROP\n-A INPUT -p tcp -m tcp --dport 443 -m comment --comment \"port443.https:tcp/443 -s https\" -j ACCEPT\n", 443, True),
])
def test_iptables(fake_runner, text, port, allows):
    # IPv6 lets everything in: the IPv4 rules decide.
    runner = fake_runner({("iptables", "-w", "-S"): (0, text, ""), ("ip6tables", "-w", "-S"): (0, "-P INPUT ACCEPT\n", "")})
    verdict = IptablesBackend(runner).allows(port)
    assert verdict["allows"] is allows and verdict["evidence"]


@pytest.mark.parametrize("text, allows, evidence", [
    # The iptables scenario's host: policy ACCEPT, TCP ports allowed, a terminal DROP; 443/udp is dropped.
    ("-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n-A INPUT -j DROP\n", False, "-A INPUT -j DROP"),
    ("-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 443 -m comment --comment \"port443.https:udp/443\" -j ACCEPT\n"
     "-A INPUT -j DROP\n", True, "--dport 443"),
    ("-P INPUT DROP\n-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n", False, "-P INPUT DROP"),
])
def test_iptables_udp(fake_runner, text, allows, evidence):
    runner = fake_runner({("iptables", "-w", "-S"): (0, text, ""), ("ip6tables", "-w", "-S"): (0, text, "")})
    verdict = IptablesBackend(runner).allows(443, "udp")
    assert verdict["allows"] is allows and evidence in verdict["evidence"][0]


@pytest.mark.parametrize("v4, v6, allows, first", [
    # Either family dropping the port blocks it; its own rule is the evidence, named by its family.
    ("-P INPUT DROP\n-A INPUT -p tcp --dport 443 -j ACCEPT\n", "-P INPUT DROP\n", False, "ip6tables: -P INPUT DROP"),
    ("-P INPUT DROP\n", "-P INPUT DROP\n-A INPUT -p tcp --dport 443 -j ACCEPT\n", False, "-P INPUT DROP"),
    ("-P INPUT ACCEPT\n", "-P INPUT ACCEPT\n-A INPUT -j REJECT\n", False, "ip6tables: -A INPUT -j REJECT"),
    ("-P INPUT DROP\n-A INPUT -p tcp --dport 443 -j ACCEPT\n", "-P INPUT DROP\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n",
     True, "-A INPUT -p tcp --dport 443 -j ACCEPT"),
])
def test_iptables_both_families(fake_runner, v4, v6, allows, first):
    runner = fake_runner({("iptables", "-w", "-S"): (0, v4, ""), ("ip6tables", "-w", "-S"): (0, v6, "")})
    be = IptablesBackend(runner)
    verdict = be.allows(443)
    assert verdict["allows"] is allows and verdict["evidence"][0] == first, verdict
    assert be.allows(80)["allows"] is False
    assert len(runner.calls) == 2  # each family read once for both ports


@pytest.mark.parametrize("v6, binaries, allows", [
    ((1, "", "ip6tables: Permission denied (you must be root)"), {"ipv4": "iptables", "ipv6": "ip6tables"}, None),
    (None, {"ipv4": "iptables", "ipv6": None}, None),
    ((3, "", "can't initialize ip6tables table `filter': Address family not supported by protocol"),
     {"ipv4": "iptables", "ipv6": "ip6tables"}, True),
])
def test_iptables_ipv6_unread(fake_runner, v6, binaries, allows):
    """IPv6 not read: unknown where IPv4 lets the port in (never a guess of allowed), blocked where IPv4 drops it. A
    kernel without IPv6 receives none: IPv4 decides alone."""
    table = {("iptables", "-w", "-S"): (0, "-P INPUT DROP\n-A INPUT -p tcp --dport 443 -j ACCEPT\n", "")}
    if v6:
        table[("ip6tables", "-w", "-S")] = v6
    be = IptablesBackend(fake_runner(table), binaries=binaries)
    assert be.allows(443)["allows"] is allows
    assert be.allows(80)["allows"] is False


UFW_ACTIVE = """\
Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
443/tcp                    ALLOW IN    Anywhere
Nginx HTTP                 ALLOW IN    Anywhere
8443/udp                   ALLOW IN    Anywhere
22/tcp (v6)                ALLOW IN    Anywhere (v6)
"""


def ufw_allows(fake_runner, text, port, proto="tcp"):
    return UfwBackend(fake_runner({("ufw", "status", "verbose"): (0, text, "")})).allows(port, proto)


def test_ufw(fake_runner):
    assert ufw_allows(fake_runner, "Status: inactive\n", 443) == {"allows": True, "evidence": ["ufw is inactive"]}
    assert ufw_allows(fake_runner, UFW_ACTIVE, 443) == {"allows": True, "evidence": ["443/tcp                    ALLOW IN    Anywhere"]}
    assert ufw_allows(fake_runner, UFW_ACTIVE, 80)["allows"] is True
    # a udp rule does not let tcp in (and the other way round)
    assert ufw_allows(fake_runner, UFW_ACTIVE, 8443) == {
        "allows": False, "evidence": ["no rule for 8443/tcp; default incoming policy deny"]}
    assert ufw_allows(fake_runner, UFW_ACTIVE, 8443, "udp")["allows"] is True
    denied = UFW_ACTIVE.replace("443/tcp                    ALLOW IN", "443/tcp                    DENY IN ")
    assert ufw_allows(fake_runner, denied, 443)["allows"] is False
    assert ufw_allows(fake_runner, UFW_ACTIVE.replace("deny (incoming)", "allow (incoming)"), 9000)["allows"] is True


def list_all(services="ssh dhcpv6-client", ports=""):
    return (f"public (default, active)\n  target: default\n  interfaces: eth0\n  sources: \n  services: {services}\n"
            f"  ports: {ports}\n  protocols: \n  forward: yes\n  masquerade: no\n  rich rules: \n")


@pytest.mark.parametrize("services, ports, port, allows, evidence", [
    ("ssh dhcpv6-client https", "", 443, True, "service https enabled"),
    ("ssh", "8000-9000/tcp", 8443, True, "port 8000-9000/tcp open"),
    ("ssh", "443/udp", 443, False, "neither the https service nor 443/tcp is open in the default zone"),
    ("ssh https", "", 80, False, "neither the http service nor 80/tcp is open in the default zone"),
])
def test_firewalld(fake_runner, services, ports, port, allows, evidence):
    runner = fake_runner({("firewall-cmd", "--list-all"): (0, list_all(services, ports), "")})
    assert FirewalldBackend(runner).allows(port) == {"allows": allows, "evidence": [evidence]}


def rich_list_all(rules, services="ssh https", ports="", target="default"):
    text = list_all(services, ports).replace("target: default", f"target: {target}")
    return text + "".join(f"\t{rule}\n" for rule in rules)


@pytest.mark.parametrize("rules, services, target, port, proto, allows, evidence", [
    # A rich rule that drops or rejects the port for everybody wins over the service (firewalld: deny before allow).
    (['rule family="ipv4" port port="443" protocol="tcp" reject'], "ssh https", "default", 443, "tcp", False,
     'rich rule rule family="ipv4" port port="443" protocol="tcp" reject'),
    (['rule port port="400-500" protocol="udp" drop'], "ssh https", "default", 443, "udp", False,
     'rich rule rule port port="400-500" protocol="udp" drop'),
    (['rule family="ipv4" reject'], "ssh https", "default", 443, "tcp", False, 'rich rule rule family="ipv4" reject'),
    # A rich accept for the port, or the zone's ACCEPT target, allows it without a service or port.
    (['rule family="ipv4" port port="443" protocol="udp" accept'], "ssh", "default", 443, "udp", True,
     'rich rule rule family="ipv4" port port="443" protocol="udp" accept'),
    ([], "ssh", "ACCEPT", 443, "tcp", True, "zone target ACCEPT"),
    # Rules for some sources, for IPv6 only, another protocol or another port do not decide.
    (['rule family="ipv4" source address="198.51.100.7" reject'], "ssh https", "default", 443, "tcp", True, "service https enabled"),
    (['rule family="ipv6" port port="443" protocol="tcp" drop'], "ssh https", "default", 443, "tcp", True, "service https enabled"),
    (['rule port port="443" protocol="udp" drop'], "ssh https", "default", 443, "tcp", True, "service https enabled"),
    (['rule port port="8443" protocol="tcp" reject'], "ssh https", "default", 443, "tcp", True, "service https enabled"),
    (['rule family="ipv4" source address="10.0.0.0/8" port port="443" protocol="udp" accept'], "ssh", "default", 443, "udp",
     False, "neither the https service nor 443/udp is open in the default zone"),
])
def test_firewalld_rich_rules(fake_runner, rules, services, target, port, proto, allows, evidence):
    runner = fake_runner({("firewall-cmd", "--list-all"): (0, rich_list_all(rules, services, target=target), "")})
    assert FirewalldBackend(runner).allows(port, proto) == {"allows": allows, "evidence": [evidence]}


def test_firewalld_zone(fake_runner):
    runner = fake_runner({("firewall-cmd", "--zone=internal", "--list-all"): (0, list_all("ssh"), "")})
    verdict = FirewalldBackend(runner, {"zone": "internal"}).allows(443)
    assert verdict == {"allows": False, "evidence": ["neither the https service nor 443/tcp is open in the zone internal"]}
