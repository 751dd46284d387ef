# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall.base import FirewallError, Rule
from ansible_collections.port443.https.plugins.module_utils.firewall.nftables import NftablesBackend


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
    # no scratch namespace here: chains that drop by policy get their rules appended at boot
    runner = fake_runner({("nft", "-j", "-a", "list", "ruleset"): (0, text, ""), ("nft", "-c", "-f", "-"): (0, "", ""),
                          ("nft", "-f", "-"): (0, "", ""),
                          ("unshare",): (1, "", "unshare: unshare failed: Operation not permitted")})
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
    assert any("appended to inet filter input, which drops by its policy" in w for w in be.warnings)
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


# --- the boot ruleset -------------------------------------------------------------------------------------------
# `nft -j -a list ruleset` (nftables 1.0.6) of a host whose chain ends with an explicit drop rule, with a ban above
# the SSH accept; the module's 443 accept sits before the drop (handle 6). Printed on a Debian 12 lab host.
LIVE_DROP_TERMINATED = json.dumps({"nftables": [
    {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
    {"table": {"family": "inet", "name": "filter", "handle": 1}},
    {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input",
               "prio": 0, "policy": "drop"}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2, "comment": "ban",
              "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "198.51.100.7"}},
                       {"drop": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3,
              "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}},
                       {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "comment": "ssh",
              "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}},
                       {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 6, "comment": "port443.https:tcp/443 https",
              "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}},
                       {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 5,
              "expr": [{"counter": {"packets": 12, "bytes": 720}}, {"drop": None}]}},
]})
CONF = """#!/usr/sbin/nft -f
flush ruleset
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    ip saddr 198.51.100.7 drop comment "ban"
    ct state established,related accept
    tcp dport 22 accept comment "ssh"
    counter drop
  }
}
"""


def boot_rules(conf_path):
    """What nft builds from a temporary nftables.conf: the CONF chain, then the include's commands, as nft does
    (``insert ... index N`` before the rule at index N, ``insert`` without a position first, ``add`` last)."""
    with open(conf_path) as fh:
        conf = fh.read()
    rules = [{"comment": "ban", "expr": [{"match": {}}, {"drop": None}]}, {"expr": [{"match": {}}, {"accept": None}]},
             {"comment": "ssh", "expr": [{"match": {}}, {"accept": None}]}, {"expr": [{"counter": None}, {"drop": None}]}]
    m = re.search(r'^include "(/[^"]*include.nft)"$', conf, re.M)
    if m:
        with open(m.group(1)) as fh:
            for line in fh:
                cmd = re.match(r'^(add|insert) rule inet filter input (?:index (\d+) )?.*comment "([^"]*)"$', line.strip())
                if not cmd:
                    continue
                rule = {"comment": cmd.group(3), "expr": [{"match": {}}, {"accept": None}]}
                if cmd.group(1) == "add":
                    rules.append(rule)
                else:
                    rules.insert(int(cmd.group(2) or 0), rule)
    items = [{"chain": {"family": "inet", "table": "filter", "name": "input"}}]
    items += [{"rule": dict(r, family="inet", table="filter", chain="input")} for r in rules]
    return json.dumps({"nftables": items})


class BootRunner:
    """Live answers from a table; the scratch-namespace load answers from the temporary files it is given."""

    def __init__(self, live, scratch=boot_rules):
        self.live = live
        self.scratch = scratch
        self.calls = []

    def __call__(self, argv, data=None):
        self.calls.append((list(argv), data))
        if argv[:3] == ["unshare", "--net", "--"]:
            return self.scratch(argv[-1])
        if argv[:5] == ["nft", "-j", "-a", "list", "ruleset"]:
            return 0, self.live, ""
        return 0, "", ""


def boot_backend(tmp_path, runner, **opts):
    conf = tmp_path / "nftables.conf"
    conf.write_text(CONF)
    return NftablesBackend(lambda argv, data=None: runner(argv, data), {"persistent": True, **opts},
                           include_path=str(tmp_path / "d" / "p.nft"), conf_path=str(conf))


def test_persisted_rules_rebuild_the_live_order_before_the_final_drop(tmp_path):
    runner = BootRunner(LIVE_DROP_TERMINATED, scratch=lambda path: (0, boot_rules(path), ""))
    be = boot_backend(tmp_path, runner)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443), Rule("tcp", 80, 80)], True)
    # live: before the drop (handle 5), after the ban, the SSH accept and the earlier 443 accept
    assert plan.steps[0][1] == 'insert rule inet filter input position 5 tcp dport 80 accept comment "port443.https:tcp/80"\n'
    include = plan.files[str(tmp_path / "d" / "p.nft")].splitlines()
    # boot: the host's chain holds ban, ct, ssh, drop (index 3); ours go at 3 and 4, in their live order
    assert include[-2:] == [
        'insert rule inet filter input index 3 tcp dport 443 accept comment "port443.https:tcp/443 https"',
        'insert rule inet filter input index 4 tcp dport 80 accept comment "port443.https:tcp/80"',
    ]
    be.apply(plan)
    # the scratch load of the boot path with the new include reproduced the live order
    loaded = json.loads(boot_rules(_last_scratch_conf(runner, tmp_path)))
    assert [r["rule"].get("comment") for r in loaded["nftables"][1:]] == [
        "ban", None, "ssh", "port443.https:tcp/443 https", "port443.https:tcp/80", None]
    assert (tmp_path / "d" / "p.nft").read_text() == plan.files[str(tmp_path / "d" / "p.nft")]


def _last_scratch_conf(runner, tmp_path):
    """Rebuild the boot path the last scratch load was given (its temporary files are gone by now)."""
    path = tmp_path / "replay.conf"
    inc = tmp_path / "include.nft"
    inc.write_text((tmp_path / "d" / "p.nft").read_text())
    path.write_text(CONF + f'include "{inc}"\n')
    return str(path)


def test_a_bare_insert_would_be_caught_before_anything_changes(tmp_path):
    # A boot path that puts the accept first (what `insert rule` without a position did) fails the check.
    def first(path):
        rules = json.loads(boot_rules(path))["nftables"]
        ours = [i for i in rules if i.get("rule", {}).get("comment", "").startswith("port443.https:")]
        rest = [i for i in rules if i not in ours]
        return 0, json.dumps({"nftables": rest[:1] + ours + rest[1:]}), ""

    runner = BootRunner(LIVE_DROP_TERMINATED, scratch=lambda path: (0, boot_rules(path), ""))
    be = boot_backend(tmp_path, runner)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443), Rule("tcp", 80, 80)], True)
    runner.scratch = first
    with pytest.raises(FirewallError, match="would not rebuild inet filter input as it is live"):
        be.apply(plan)
    assert not (tmp_path / "d" / "p.nft").exists()
    assert not [argv for argv, _data in runner.calls if argv[:2] == ["nft", "-f"]]


def test_no_scratch_namespace_refuses_to_guess_the_boot_position(tmp_path):
    runner = BootRunner(LIVE_DROP_TERMINATED, scratch=lambda path: (1, "", "unshare: unshare failed: Operation not permitted"))
    be = boot_backend(tmp_path, runner)
    with pytest.raises(FirewallError, match="persistent: cannot load .* Operation not permitted"):
        be.plan(be.read_state(), [Rule("tcp", 80, 80)], True)
    # without persistence the live change needs no scratch load
    be = boot_backend(tmp_path, runner, persistent=False)
    assert be.plan(be.read_state(), [Rule("tcp", 80, 80)], True).steps


def test_undo_of_a_removal_goes_back_before_the_drop(tmp_path):
    runner = BootRunner(LIVE_DROP_TERMINATED, scratch=lambda path: (0, boot_rules(path), ""))
    be = boot_backend(tmp_path, runner)
    plan = be.plan(be.read_state(), [Rule("tcp", 443, 443)], False)
    assert plan.steps[0][1] == "delete rule inet filter input handle 6\n"
    assert plan.undo == ["nft 'insert rule inet filter input position 5 tcp dport 443 accept comment \"port443.https:tcp/443 https\"'"]


def test_mixed_states_in_one_transaction(fake_runner, tmp_path):
    be, _runner = backend(fake_runner, tmp_path, ruleset(policy="accept", terminal=True), persistent=False, comment="web")
    plan = be.plan_wanted(be.read_state(), [(Rule("tcp", 8443, 8443, comment="admin"), True), (Rule("tcp", 443, 443), False)])
    assert len(plan.steps) == 1
    assert plan.steps[0][1].splitlines() == [
        "delete rule inet filter input handle 7",
        'insert rule inet filter input position 9 tcp dport 8443 accept comment "port443.https:tcp/8443 admin"',
    ]
    assert [r.key for r in plan.added] == ["tcp/8443"] and [r.key for r in plan.removed] == ["tcp/443"]
    # undo: newest first - take 8443 away, then put 443 back before the final reject
    assert "delete rule inet filter input handle" in plan.undo[0] and "insert rule inet filter input position 9" in plan.undo[1]
