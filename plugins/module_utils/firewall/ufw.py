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

from .base import Backend, Plan, Rule, Runner, Which, comment_for, port_in, read_file, rules_by_family, shell_quote, spec_covers

_SIMPLE = re.compile(r"^ufw allow (\d+)(?::(\d+))?/(tcp|udp)(?:\s+comment\s+.*)?$")
_FROM = re.compile(r"^ufw allow from (\S+) to any port (\d+)(?::(\d+))? proto (tcp|udp)(?:\s+comment\s+.*)?$")
# Service and application names ufw resolves to 22/tcp (``/etc/services``, the OpenSSH application profile).
_PORT_NAMES = {"ssh": "22", "openssh": "22"}
USER_RULES = ("/etc/ufw/user.rules", "/etc/ufw/user6.rules")


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


def parse_tuples(text: str) -> list[str]:
    """The ``### tuple ###`` lines of ufw's user rules files (``/etc/ufw/user.rules``, ``user6.rules``).

    Each is ``ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIRECTION[_IFACE] [comment=HEX]``, with application
    names already resolved to ports; route rules start with ``route:`` and are skipped.
    """
    out = []
    for line in text.splitlines():
        if line.startswith("### tuple ### "):
            body = line[len("### tuple ### "):].strip()
            if not body.startswith("route:"):
                out.append(body)
    return out


def tuple_allows(body: str, port: int) -> bool:
    """Whether one user rules tuple allows (or rate-limits) inbound ``tcp/port``, from any source."""
    words = [w for w in body.split() if not w.startswith("comment=")]
    if len(words) < 7 or words[0] not in ("allow", "limit") or not words[-1].startswith("in"):
        return False
    return words[1] in ("tcp", "any") and port_in(port, words[2])


def added_allows(line: str, port: int) -> bool:
    """Whether one ``ufw show added`` line allows (or rate-limits) inbound ``tcp/port``, from any source.

    Covers ``ufw allow 22/tcp``, ``ufw limit ssh``, ``ufw allow OpenSSH``, ``ufw allow in on eth0 to any port 22``,
    ``ufw allow from 10.0.0.0/8 to any port 22`` and ``... port 22,2222 proto tcp``.
    """
    words = line.split()
    if " comment " in line:
        words = line.split(" comment ", 1)[0].split()
    if len(words) < 3 or words[0] != "ufw" or words[1] not in ("allow", "limit"):
        return False
    words = words[2:]
    if words and words[0] == "out":
        return False
    if words and words[0] == "in":
        words = words[1:]
    if len(words) >= 2 and words[0] == "on":
        words = words[2:]
    words = [w for w in words if w not in ("log", "log-all")]
    if len(words) == 1:  # simple syntax: PORT[/PROTO], a service or an application name
        spec, _sep, proto = words[0].partition("/")
        spec = _PORT_NAMES.get(spec.lower(), spec)
        return proto in ("", "tcp") and port_in(port, spec)
    proto = "any"
    dport = None
    for i, word in enumerate(words[:-1]):
        if word == "proto":
            proto = words[i + 1]
        elif word == "to":
            rest = words[i + 2:]
            if len(rest) >= 2 and rest[0] == "port":
                dport = rest[1]
            elif len(rest) >= 2 and rest[0] == "app":
                dport = _PORT_NAMES.get(rest[1].strip("'\"").lower())
            else:
                dport = "any"
    if dport is None:
        dport = "any" if "from" in words else ""
    return proto in ("any", "tcp") and port_in(port, dport)


# Application profiles (``ufw app list``) that open 443 or 80.
_APPS = {443: ("https", "nginx full", "nginx https", "apache full", "apache secure", "www full", "www secure"),
         80: ("http", "nginx full", "nginx http", "apache full", "apache", "www full", "www")}
_STATUS_RULE = re.compile(r"^(.+?)\s{2,}(ALLOW|DENY|REJECT|LIMIT)(?:\s+IN)?\s+")


def status_allows(text: str, port: int, proto: str = "tcp") -> dict[str, t.Any]:
    """Whether ``ufw status verbose`` lets inbound ``proto/port`` in: the first rule naming the port (a port, a range,
    an application profile) decides, else the default incoming policy."""
    if "Status: inactive" in text:
        return {"allows": True, "evidence": ["ufw is inactive"]}
    default = re.search(r"Default:\s*(\w+)\s*\(incoming\)", text)
    default_in = default.group(1) if default else "deny"
    names = _APPS.get(port, ())
    for line in text.splitlines():
        match = _STATUS_RULE.match(line.strip() + "  ")
        if not match:
            continue
        target = match.group(1).strip().split(" (v6)")[0]
        spec, _sep, rule_proto = target.partition("/")
        if rule_proto.split(" ")[0] not in ("", proto):
            continue
        if spec.strip().lower() in names or spec_covers(spec.replace(":", "-"), port):
            return {"allows": match.group(2) in ("ALLOW", "LIMIT"), "evidence": [line.strip()]}
    return {"allows": default_in == "allow", "evidence": [f"no rule for {port}/{proto}; default incoming policy {default_in}"]}


def ufw_spec(rule: Rule) -> list[str]:
    if rule.source:
        return ["from", rule.source, "to", "any", "port", rule.port_text(":"), "proto", rule.proto]
    return [f"{rule.port_text(':')}/{rule.proto}"]


class UfwBackend(Backend):
    name = "ufw"

    def __init__(self, runner, options=None, ufw: str = "ufw", user_rules: t.Sequence[str] = USER_RULES) -> None:
        super().__init__(runner, options)
        self.ufw = ufw
        self.user_rules = user_rules

    @classmethod
    def create(cls, runner: Runner, options: dict[str, t.Any], which: Which) -> UfwBackend:
        return cls(runner, options, ufw=which("ufw"))

    @staticmethod
    def detect_active(runner: Runner, which: Which, enable: bool, binaries: t.Sequence[str]) -> str | None:
        ufw = which(binaries[0])
        if ufw:
            rc, out, _err = runner([ufw, "status"])
            if rc == 0 and "Status: active" in out:
                return "ufw is active"
        return None

    def allows(self, port: int, proto: str = "tcp") -> dict[str, t.Any]:
        return status_allows(self.read_once([self.ufw, "status", "verbose"]), port, proto)

    def read_state(self) -> dict[str, t.Any]:
        _rc, status, _err = self.run([self.ufw, "status"])
        active = "Status: active" in status
        _rc, added, _err = self.run([self.ufw, "show", "added"])
        rules, lines = parse_added(added)
        tuples = {}
        for path in self.user_rules:
            text = read_file(path)
            if text is not None:
                tuples[path] = parse_tuples(text)
        return {"active": active, "present": rules, "lines": lines, "tuples": tuples, "rules": rules_by_family(rules)}

    def ssh_rules(self, state: dict[str, t.Any], port: int) -> list[str]:
        """``ufw show added`` lines and user rules tuples (the rules in force once ufw is enabled) allowing the port."""
        found = [line for line in state["lines"] if added_allows(line, port)]
        for path, bodies in state.get("tuples", {}).items():
            if any(tuple_allows(body, port) for body in bodies) and not found:
                found += [f"{path}: {body}" for body in bodies if tuple_allows(body, port)]
        return found

    def plan_wanted(self, state: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> Plan:
        plan = Plan()
        present = set(state["present"])
        enable = bool(self.options.get("enable")) and not state["active"]
        if enable:
            plan.ssh_guard = self.ssh_guard(state, "ufw is inactive and enable=true: the stored rules take effect")
            for ssh in plan.ssh_guard["missing"]:
                ssh_rule = Rule("tcp", ssh, ssh)
                plan.add_step([self.ufw, "allow", f"{ssh}/tcp", "comment", comment_for(ssh_rule, "ssh (anti-lockout)")])
                plan.undo.append(f"{self.ufw} delete allow {ssh}/tcp")
                plan.extra.append(f"allow ssh {ssh}/tcp before enabling ufw (no rule of any scope allows it)")
                plan.added.append(ssh_rule)
                plan.ssh_guard["added"].append(f"ufw allow {ssh}/tcp")
                present.add(ssh_rule)
            if plan.ssh_guard["added"]:
                plan.ssh_guard["action"] = "added"
        for rule, want_open in wanted:
            if want_open and rule not in present:
                plan.add_step([self.ufw, "allow"] + ufw_spec(rule) + ["comment", comment_for(rule, self.rule_comment(rule))])
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
