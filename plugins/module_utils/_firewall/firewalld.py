# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""firewalld backend: ports (any source) or rich rules (with a source) in one zone.

Runtime and permanent configuration are compared separately and fixed in the same run (one
``firewall-cmd`` call each, only for the side that differs). When the daemon is stopped, the permanent
configuration is changed with ``firewall-offline-cmd``; ``enable`` starts the daemon afterwards (after
making sure SSH is allowed in the zone).
"""

from __future__ import annotations

import re
import typing as t

from .base import Backend, FirewallError, Plan, Rule, rules_by_family, shell_quote

_RICH = re.compile(
    r'^rule family="(ipv4|ipv6)" source address="([^"]+)" port port="(\d+)(?:-(\d+))?" protocol="(tcp|udp)" accept$'
)


def rich_rule(rule: Rule) -> str:
    return (f'rule family="{rule.family}" source address="{rule.source}" '
            f'port port="{rule.port_text("-")}" protocol="{rule.proto}" accept')


def parse_ports(text: str) -> list[Rule]:
    rules = []
    for item in text.split():
        m = re.match(r"^(\d+)(?:-(\d+))?/(tcp|udp)$", item)
        if m:
            lo = int(m.group(1))
            rules.append(Rule(m.group(3), lo, int(m.group(2) or lo)))
    return rules


def parse_rich(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        m = _RICH.match(line.strip())
        if m:
            lo = int(m.group(3))
            try:
                rules.append(Rule(m.group(5), lo, int(m.group(4) or lo), m.group(2)))
            except ValueError:
                continue
    return rules


def parse_list_all(text: str) -> dict[str, t.Any]:
    """Ports, rich rules and services from ``--list-all`` of one zone."""
    fields: dict[str, str] = {}
    rich: list[str] = []
    in_rich = False
    for line in text.splitlines():
        stripped = line.strip()
        if in_rich and stripped.startswith("rule "):
            rich.append(stripped)
            continue
        key, sep, value = stripped.partition(":")
        if sep:
            fields[key] = value.strip()
            in_rich = key == "rich rules"
            if in_rich and value.strip().startswith("rule "):
                rich.append(value.strip())
    return {"rules": parse_ports(fields.get("ports", "")) + parse_rich("\n".join(rich)),
            "services": fields.get("services", "").split()}


class FirewalldBackend(Backend):
    name = "firewalld"

    def __init__(self, runner, options=None, cmd: str = "firewall-cmd", offline_cmd: str | None = "firewall-offline-cmd",
                 systemctl: str | None = "systemctl") -> None:
        super().__init__(runner, options)
        self.cmd = cmd
        self.offline_cmd = offline_cmd
        self.systemctl = systemctl

    def _read(self, base: list[str], zone: str) -> dict[str, t.Any]:
        rc, out, err = self.run(base + ["--list-all"], check=False)
        if rc != 0:
            if "INVALID_ZONE" in (err + out):
                raise FirewallError(f"zone: firewalld has no zone {zone!r}")
            raise FirewallError(f"{' '.join(base)} --list-all failed (rc={rc}): {(err or out).strip()}")
        return parse_list_all(out)

    def read_state(self) -> dict[str, t.Any]:
        rc, _out, _err = self.run([self.cmd, "--state"], check=False)
        running = rc == 0
        if running:
            tool = [self.cmd]
        else:
            if not self.offline_cmd:
                raise FirewallError("firewalld is not running and firewall-offline-cmd is not installed")
            tool = [self.offline_cmd]
        zone = self.options.get("zone")
        if not zone:
            _rc, out, _err = self.run(tool + ["--get-default-zone"])
            zone = out.strip()
        state: dict[str, t.Any] = {"active": running, "running": running, "zone": zone}
        if running:
            state["runtime"] = self._read([self.cmd, f"--zone={zone}"], zone)
            state["permanent"] = self._read([self.cmd, "--permanent", f"--zone={zone}"], zone)
        else:
            state["runtime"] = None
            state["permanent"] = self._read([self.offline_cmd, f"--zone={zone}"], zone)
        shown = state["runtime"] if running else state["permanent"]
        state["rules"] = rules_by_family(shown["rules"])
        return state

    @staticmethod
    def _args(rules: list[Rule], verb: str) -> list[str]:
        args = []
        for rule in rules:
            if rule.source:
                args.append(f"--{verb}-rich-rule={rich_rule(rule)}")
            else:
                args.append(f"--{verb}-port={rule.port_text('-')}/{rule.proto}")
        return args

    def _diff(self, have: dict[str, t.Any], desired: list[Rule], want_open: bool) -> list[Rule]:
        present = set(have["rules"])
        return [r for r in desired if (r in present) != want_open]

    def plan(self, state: dict[str, t.Any], desired: list[Rule], want_open: bool) -> Plan:
        plan = Plan()
        zone = state["zone"]
        verb, undo_verb = ("add", "remove") if want_open else ("remove", "add")
        persistent = self.options.get("persistent", True)
        enable = bool(self.options.get("enable")) and not state["running"]
        changed_rules: list[Rule] = []
        if state["running"]:
            todo = self._diff(state["runtime"], desired, want_open)
            if todo:
                plan.add_step([self.cmd, f"--zone={zone}"] + self._args(todo, verb))
                plan.undo.append(" ".join(shell_quote(a) for a in [self.cmd, f"--zone={zone}"] + self._args(todo, undo_verb)))
                changed_rules += todo
            if persistent:
                todo = self._diff(state["permanent"], desired, want_open)
                if todo:
                    plan.add_step([self.cmd, "--permanent", f"--zone={zone}"] + self._args(todo, verb))
                    plan.undo.append(" ".join(shell_quote(a) for a in [self.cmd, "--permanent", f"--zone={zone}"] + self._args(todo, undo_verb)))
                    changed_rules += todo
        else:
            if not persistent and not enable:
                raise FirewallError("firewalld is not running: persistent=false has nothing to change (start firewalld or set enable=true)")
            todo = self._diff(state["permanent"], desired, want_open)
            extra: list[Rule] = []
            if enable:
                ssh = int(self.options.get("ssh_port", 22))
                perm = state["permanent"]
                ssh_rule = Rule("tcp", ssh, ssh)
                if not ((ssh == 22 and "ssh" in perm["services"]) or ssh_rule in perm["rules"] or (want_open and ssh_rule in todo)):
                    extra.append(ssh_rule)
                    plan.extra.append(f"allow ssh {ssh}/tcp in zone {zone} before starting firewalld")
            if todo or extra:
                plan.add_step([self.offline_cmd, f"--zone={zone}"] + self._args(extra, "add") + self._args(todo, verb))
                plan.undo.append(" ".join(shell_quote(a) for a in [self.offline_cmd, f"--zone={zone}"]
                                          + self._args(extra, "remove") + self._args(todo, undo_verb)))
                changed_rules += todo
                plan.added += extra
            if enable:
                plan.add_step([self.systemctl or "systemctl", "enable", "--now", "firewalld"])
                plan.undo.append("systemctl disable --now firewalld")
                plan.enable = True
                plan.extra.append("start and enable firewalld")
            elif todo:
                self.warnings.append("firewalld is not running: only the permanent configuration was changed (offline)")
        unique = list(dict.fromkeys(changed_rules))
        if want_open:
            plan.added += unique
        else:
            plan.removed += unique
        plan.added = list(dict.fromkeys(plan.added))
        plan.undo.reverse()
        return plan
