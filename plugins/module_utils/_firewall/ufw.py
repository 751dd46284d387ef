# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""ufw backend: add or delete exactly the rules needed (``ufw allow`` / ``ufw delete allow``).

Never ``ufw reset``, never a reload: ufw applies single rule changes live and persists them itself.
Enabling an inactive ufw (only when asked) first allows the SSH port in use.
"""

from __future__ import annotations

import re
import typing as t

from .base import Backend, Plan, Rule, comment_for, rules_by_family, shell_quote

_SIMPLE = re.compile(r"^ufw allow (\d+)(?::(\d+))?/(tcp|udp)(?:\s+comment\s+.*)?$")
_FROM = re.compile(r"^ufw allow from (\S+) to any port (\d+)(?::(\d+))? proto (tcp|udp)(?:\s+comment\s+.*)?$")
_SSH_NAMES = ("ssh", "openssh", "22", "22/tcp")


def parse_added(text: str) -> tuple[list[Rule], list[str]]:
    """Rules from ``ufw show added``; also returns every line (for the SSH check)."""
    rules: list[Rule] = []
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("ufw "):
            continue
        lines.append(line)
        m = _SIMPLE.match(line)
        if m:
            lo = int(m.group(1))
            rules.append(Rule(m.group(3), lo, int(m.group(2) or lo)))
            continue
        m = _FROM.match(line)
        if m:
            lo = int(m.group(2))
            try:
                rules.append(Rule(m.group(4), lo, int(m.group(3) or lo), m.group(1)))
            except ValueError:
                continue
    return rules, lines


def ufw_spec(rule: Rule) -> list[str]:
    if rule.source:
        return ["from", rule.source, "to", "any", "port", rule.port_text(":"), "proto", rule.proto]
    return [f"{rule.port_text(':')}/{rule.proto}"]


class UfwBackend(Backend):
    name = "ufw"

    def __init__(self, runner, options=None, ufw: str = "ufw") -> None:
        super().__init__(runner, options)
        self.ufw = ufw

    def read_state(self) -> dict[str, t.Any]:
        _rc, status, _err = self.run([self.ufw, "status"])
        active = "Status: active" in status
        _rc, added, _err = self.run([self.ufw, "show", "added"])
        rules, lines = parse_added(added)
        return {"active": active, "present": rules, "lines": lines, "rules": rules_by_family(rules)}

    def ssh_allowed(self, state: dict[str, t.Any], port: int) -> bool:
        for line in state["lines"]:
            words = line.split()
            if len(words) >= 3 and words[1] in ("allow", "limit") and words[2].lower() in (str(port), f"{port}/tcp") + (
                    _SSH_NAMES if port == 22 else ()):
                return True
        return Rule("tcp", port, port) in state["present"]

    def plan(self, state: dict[str, t.Any], desired: list[Rule], want_open: bool) -> Plan:
        plan = Plan()
        user_comment = self.options.get("comment")
        present = set(state["present"])
        enable = bool(self.options.get("enable")) and not state["active"]
        if enable:
            ssh = int(self.options.get("ssh_port", 22))
            if not self.ssh_allowed(state, ssh):
                ssh_rule = Rule("tcp", ssh, ssh)
                plan.add_step([self.ufw, "allow", f"{ssh}/tcp", "comment", comment_for(ssh_rule, "ssh (anti-lockout)")])
                plan.undo.append(f"{self.ufw} delete allow {ssh}/tcp")
                plan.extra.append(f"allow ssh {ssh}/tcp before enabling ufw")
                plan.added.append(ssh_rule)
                present.add(ssh_rule)
        for rule in desired:
            if want_open and rule not in present:
                plan.add_step([self.ufw, "allow"] + ufw_spec(rule) + ["comment", comment_for(rule, user_comment)])
                plan.undo.append(" ".join(shell_quote(a) for a in [self.ufw, "delete", "allow"] + ufw_spec(rule)))
                plan.added.append(rule)
            elif not want_open and rule in present:
                plan.add_step([self.ufw, "delete", "allow"] + ufw_spec(rule))
                plan.undo.append(" ".join(shell_quote(a) for a in [self.ufw, "allow"] + ufw_spec(rule)))
                plan.removed.append(rule)
        if enable:
            plan.add_step([self.ufw, "--force", "enable"])
            plan.undo.append(f"{self.ufw} --force disable")
            plan.enable = True
            plan.extra.append("enable ufw")
        elif not state["active"] and plan.changed:
            self.warnings.append("ufw is inactive: the rules are stored and take effect when ufw is enabled (enable=true)")
        plan.added = list(dict.fromkeys(plan.added))
        plan.undo.reverse()
        return plan
