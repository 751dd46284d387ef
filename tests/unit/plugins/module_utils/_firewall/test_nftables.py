# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json

from ansible_collections.port443.https.plugins.module_utils._firewall.base import Rule
from ansible_collections.port443.https.plugins.module_utils._firewall.nftables import NftablesBackend


def ruleset(policy="drop", terminal=False, ours=True, extra=()):
    items = [
        {"metainfo": {"version": "1.0.6"}},
        {"table": {"family": "inet", "name": "filter", "handle": 1}},
        {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter",
                   "hook": "input", "prio": 0, "policy": policy}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "comment": "f2b-style ban",
                  "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                      "right": "198.51.100.7"}}, {"drop": None}]}},
    ]
    if ours:
        items.append({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7,
                               "comment": "port443.https:tcp/443 https", "expr": [{"accept": None}]}})
    if terminal:
        items.append({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 9,
                               "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"reject": {"type": "icmpx"}}]}})
    # iptables-nft made tables are left to the iptables backend
    items.append({"table": {"family": "ip", "name": "filter", "handle": 2}})
    items.append({"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter",
                            "hook": "input", "prio": 0, "policy": "drop"}})
    items.extend(extra)
    return json.dumps({"nftables": items})


def backend(fake_runner, tmp_path, text, **opts):
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, text, ""), ("nft", "-c", "-f", "-"): (0, "", ""),
                          ("nft", "-f", "-"): (0, "", "")})
    conf = tmp_path / "nftables.conf"
    conf.write_text("#!/usr/sbin/nft -f\nflush ruleset\n")
    return NftablesBackend(runner, {"persistent": True, **opts}, include_path=str(tmp_path / "d" / "p.nft"),
                           conf_path=str(conf)), runner


def test_present_rule_needs_only_persistence(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, ruleset())
    state = be.read_state()
    assert state["targets"] == ["inet filter input"]
    assert state["rules"]["ipv4"] == ["allow tcp/443 from any"]
    assert any("iptables-nft" in w for w in be.warnings)
    plan = be.plan(state, [Rule("tcp", 443, 443)], True)
    assert plan.steps == [] and plan.added == []
    assert set(plan.files) == {str(tmp_path / "d" / "p.nft"), str(tmp_path / "nftables.conf")}
    assert 'add rule inet filter input tcp dport 443 accept comment "port443.https:tcp/443 https"' in plan.files[str(tmp_path / "d" / "p.nft")]
    assert plan.files[str(tmp_path / "nftables.conf")].endswith(f'include "{tmp_path / "d" / "p.nft"}"\n')
    # once written, the next run is a no-op
    be.apply(plan)
    plan2 = be.plan(be.read_state(), [Rule("tcp", 443, 443)], True)
    assert not plan2.changed


def test_add_appends_to_policy_drop_chain(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, ruleset(), persistent=False, comment="web")
    plan = be.plan(be.read_state(), [Rule("tcp", 8443, 8443), Rule("tcp", 8000, 8010, "2001:db8::/32")], True)
    argv, data = plan.steps[0]
    assert argv == ["nft", "-f", "-"]
    assert data.splitlines() == [
        'add rule inet filter input tcp dport 8443 accept comment "port443.https:tcp/8443 web"',
        'add rule inet filter input ip6 saddr 2001:db8::/32 tcp dport 8000-8010 accept comment "port443.https:tcp/8000-8010,from=2001:db8::/32 web"',
    ]
    assert [r.key for r in plan.added] == ["tcp/8443", "tcp/8000-8010,from=2001:db8::/32"]
    assert plan.files == {}
    assert "nft delete rule inet filter input handle" in plan.undo[0]


def test_insert_before_terminal_reject(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, ruleset(policy="accept", terminal=True), persistent=False)
    plan = be.plan(be.read_state(), [Rule("tcp", 80, 80)], True)
    assert plan.steps[0][1].startswith("insert rule inet filter input position 9 tcp dport 80 accept")


def test_close_deletes_by_handle_only_ours(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, ruleset(), persistent=False)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443), Rule("tcp", 80, 80)], False)
    assert plan.steps[0][1] == "delete rule inet filter input handle 7\n"
    assert [r.key for r in plan.removed] == ["tcp/443"]


def test_own_table_when_nothing_drops(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, json.dumps({"nftables": []}))
    state = be.read_state()
    assert state["active"] is False
    plan = be.plan(state, [Rule("tcp", 443, 443)], True)
    script = plan.steps[0][1].splitlines()
    assert script[0] == "add table inet port443_https"
    assert script[2].startswith("add rule inet port443_https input tcp dport 443 accept")
    assert "delete table inet port443_https" in plan.files[str(tmp_path / "d" / "p.nft")]
    assert plan.undo[-1] == "nft delete table inet port443_https"


def test_ip_family_table_gets_only_its_family(fake_runner, tmp_path):
    extra = [{"table": {"family": "ip6", "name": "fw6", "handle": 5}},
             {"chain": {"family": "ip6", "table": "fw6", "name": "in", "handle": 1, "type": "filter",
                        "hook": "input", "prio": 0, "policy": "drop"}}]
    be, _runner = backend(fake_runner, tmp_path, ruleset(extra=extra), persistent=False)
    plan = be.plan(be.read_state(), [Rule("tcp", 22, 22, "10.0.0.0/8"), Rule("tcp", 22, 22, "2001:db8::/32")], True)
    lines = plan.steps[0][1].splitlines()
    assert sum("ip6 fw6 in" in line for line in lines) == 1
    assert sum("inet filter input" in line for line in lines) == 2
