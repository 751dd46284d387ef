# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""iptables/ip6tables backend.

Rules go into INPUT before the first unconditional DROP/REJECT (appended when the policy does the
dropping), both families, each with a ``-m comment`` marker; they are deleted by their exact spec, so
foreign rules (Docker, fail2ban) are never touched. Persistence edits only the marked lines of
``/etc/iptables/rules.v4`` and ``rules.v6`` (what netfilter-persistent restores at boot). When a file is
missing, it is created with the marked rules only (``*filter``, no policy set): the live ruleset is never
saved wholesale, so runtime chains of other tools (Docker's ``DOCKER-USER`` and DNS ``nat`` chains,
fail2ban's ``f2b-*``) never end up in the boot ruleset.
"""

from __future__ import annotations

import shlex
import typing as t

from .base import (
    Backend,
    FirewallError,
    Plan,
    Rule,
    Runner,
    Which,
    comment_for,
    key_from_comment,
    port_in,
    read_file,
    rules_by_family,
    shell_quote,
)

FAMILIES = {"ipv4": ("iptables", "/etc/iptables/rules.v4"), "ipv6": ("ip6tables", "/etc/iptables/rules.v6")}
# What ip6tables says where the kernel has no IPv6 (ipv6.disable=1): no IPv6 packet can arrive, IPv4 decides alone.
NO_IPV6 = "Address family not supported by protocol"


def parse_spec(lines: str) -> dict[str, t.Any]:
    """Parse ``iptables -S INPUT``: policy, rules (token lists after ``-A INPUT``), first terminal position."""
    policy = "ACCEPT"
    rules: list[list[str]] = []
    terminal = None
    for line in lines.splitlines():
        if line.startswith("-P INPUT "):
            policy = line.split()[2]
        elif line.startswith("-A INPUT "):
            tokens = shlex.split(line)[2:]
            rules.append(tokens)
            if terminal is None and is_terminal(tokens):
                terminal = len(rules)
    return {"policy": policy, "rules": rules, "terminal": terminal}


def is_terminal(tokens: list[str]) -> bool:
    if len(tokens) < 2 or tokens[0] != "-j":
        return False
    if tokens[1] == "DROP":
        return len(tokens) == 2
    if tokens[1] == "REJECT":
        return len(tokens) == 2 or (len(tokens) == 4 and tokens[2] == "--reject-with")
    return False


def comment_of(tokens: list[str]) -> str | None:
    for i, tok in enumerate(tokens[:-1]):
        if tok == "--comment":
            return tokens[i + 1]
    return None


# Match options that keep an ACCEPT from counting as "lets SSH in" (loopback, connection state, ICMP...).
_NARROWING = ("-i", "--in-interface", "-m", "-p", "--protocol", "-s", "--source", "--dport", "--destination-port",
              "--dports", "--destination-ports", "--comment")


def spec_allows(tokens: list[str], port: int) -> bool:
    """Whether one ``-A CHAIN`` rule (tokens after the chain) accepts ``tcp/port``: a tcp dport/dports match holding
    it, or only a source match (everything from a network)."""
    if len(tokens) < 2 or tokens[-2:] != ["-j", "ACCEPT"]:
        return False
    opts = tokens[:-2]
    proto = None
    ports = None
    has_source = False
    i = 0
    while i < len(opts):
        opt = opts[i]
        if opt == "!":
            return False
        val = opts[i + 1] if i + 1 < len(opts) else ""
        if opt not in _NARROWING:
            return False
        if opt == "-m" and val not in ("tcp", "multiport", "comment"):
            return False
        if opt in ("-i", "--in-interface") and val == "lo":
            return False
        if opt in ("-p", "--protocol"):
            proto = val
        elif opt in ("--dport", "--destination-port", "--dports", "--destination-ports"):
            ports = val
        elif opt in ("-s", "--source"):
            has_source = True
        i += 2
    if ports is not None:
        return proto == "tcp" and port_in(port, ports)
    return proto in (None, "tcp", "all") and has_source


def saved_ssh_rules(content: str, port: int) -> list[str]:
    """``-A INPUT`` lines of the ``*filter`` table of an iptables-save file that accept ``tcp/port``."""
    found = []
    in_filter = False
    for line in content.splitlines():
        if line.startswith("*"):
            in_filter = line.strip() == "*filter"
        elif in_filter and line.startswith("-A INPUT "):
            try:
                tokens = shlex.split(line)[2:]
            except ValueError:
                continue
            if spec_allows(tokens, port):
                found.append(line)
    return found


# Match options that do not narrow a rule beyond its protocol and port: the protocol's own match module, a comment.
_NEUTRAL_MATCHES = ("tcp", "udp", "multiport", "comment")
_TERMINAL = ("ACCEPT", "DROP", "REJECT")


def _parse_rule(rule: str) -> tuple[str | None, str | None, str | None, bool]:
    """(protocol, destination ports, target, narrowed) of one ``iptables -S`` rule line; narrowed: the rule matches
    on something besides protocol and port (a source, an interface, a connection state, a negation, another match
    module), so it is not about every packet of its protocol and port."""
    try:
        words = shlex.split(rule)
    except ValueError:
        words = rule.split()
    proto = dport = target = None
    narrowed = False
    i = 2  # after "-A CHAIN"
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        if word in ("-j", "--jump"):
            target = value
            break  # what follows are the target's own options (--reject-with, --log-prefix)
        if word in ("-p", "--protocol"):
            proto = value
        elif word in ("--dport", "--dports", "--destination-port", "--destination-ports"):
            dport = value
        elif word in ("-m", "--match"):
            narrowed = narrowed or value not in _NEUTRAL_MATCHES
        elif word == "--comment":
            pass
        else:
            narrowed = True  # -s, -d, -i, --ctstate, "!", -g, ...: every other option narrows the rule
            i += 1 if word == "!" or value is None or value.startswith("-") else 2
            continue
        i += 2
    return proto, dport, target, narrowed


def input_allows(text: str, port: int, proto: str = "tcp") -> dict[str, t.Any]:
    """Whether ``iptables -S`` (every chain of the filter table) lets inbound ``proto/port`` in: the first rule of INPUT,
    or of a chain it jumps to, that names the port decides; so does a rule for every packet of the protocol (no port,
    nothing else narrowing it: a terminal ``-A INPUT -j DROP`` after the allowed ports); else the policy of INPUT."""
    policy = "ACCEPT"
    rules: dict[str, list[str]] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "-P" and words[1] == "INPUT":
            policy = words[2]
        elif len(words) >= 2 and words[0] == "-A":
            rules.setdefault(words[1], []).append(line)
    protos = ("tcp", "6") if proto == "tcp" else (proto, "17") if proto == "udp" else (proto,)

    def walk(chain: str, depth: int = 0) -> tuple[str, str] | None:
        if depth > 8:
            return None
        for rule in rules.get(chain, []):
            rule_proto, dport, target, narrowed = _parse_rule(rule)
            if dport is not None and not port_in(port, dport):
                continue
            if rule_proto is not None and rule_proto not in protos and rule_proto != "all":
                continue
            if target in _TERMINAL:
                if dport is not None or not narrowed:
                    return target, rule
                continue  # a rule for something else (state, interface, source): not about this port
            if target and target in rules:
                found = walk(target, depth + 1)
                if found:
                    return found
        return None

    found = walk("INPUT")
    if found:
        return {"allows": found[0] == "ACCEPT", "evidence": [found[1]]}
    return {"allows": policy == "ACCEPT", "evidence": [f"-P INPUT {policy}"]}


def rule_spec(rule: Rule, comment: str) -> list[str]:
    spec = []
    if rule.source:
        spec += ["-s", rule.source]
    spec += ["-p", rule.proto, "-m", rule.proto, "--dport", rule.port_text(":"), "-m", "comment", "--comment", comment, "-j", "ACCEPT"]
    return spec


def save_line(spec: list[str]) -> str:
    out = []
    for i, tok in enumerate(spec):
        if i > 0 and spec[i - 1] == "--comment":
            out.append('"' + tok + '"')
        else:
            out.append(tok)
    return "-A INPUT " + " ".join(out)


NEW_FILE_HEADER = (
    "# Created by port443.https (module firewall_port): no saved rules existed, so this file holds only the rules\n"
    "# the collection manages. Rules of your own can be added; the module rewrites only its marked lines.\n"
)


def edit_saved(content: str | None, lines: list[str]) -> str:
    """Replace our marked lines in the ``*filter`` table of an iptables-save file, keep the rest as is.

    Without a ``*filter`` table (or without a file) one is added holding only our lines; its ``INPUT`` is
    declared with ``-`` (no policy): the policy belongs to whoever set it, the collection never persists it.
    """
    if content is None:
        content = NEW_FILE_HEADER
    src = content.splitlines()
    out: list[str] = []
    in_filter = False
    done = False
    insert_at = None
    for line in src:
        if line.startswith("*"):
            in_filter = line.strip() == "*filter"
        if in_filter and line.startswith("-A INPUT ") and "--comment" in line:
            tokens = shlex.split(line)[2:]
            if key_from_comment(comment_of(tokens) or ""):
                continue
        if in_filter and insert_at is None and line.startswith("-A INPUT ") and is_terminal(shlex.split(line)[2:]):
            insert_at = len(out)
        if in_filter and line.strip() == "COMMIT":
            if insert_at is None:
                insert_at = len(out)
            out[insert_at:insert_at] = lines
            in_filter = False
            done = True
        out.append(line)
    if not done:
        out += ["*filter", ":INPUT - [0:0]"] + lines + ["COMMIT"]
    return "\n".join(out) + "\n"


class IptablesBackend(Backend):
    name = "iptables"
    guard_reason = "iptables: the module changes no policy, so it adds no SSH rule; the rules found are reported"

    def __init__(self, runner, options=None, binaries: dict[str, str | None] | None = None, paths: dict[str, str] | None = None) -> None:
        super().__init__(runner, options)
        self.binaries = binaries or {fam: b for fam, (b, _p) in FAMILIES.items()}
        self.paths = paths or {fam: p for fam, (_b, p) in FAMILIES.items()}

    @classmethod
    def create(cls, runner: Runner, options: dict[str, t.Any], which: Which) -> IptablesBackend:
        return cls(runner, options, binaries={"ipv4": which("iptables"), "ipv6": which("ip6tables")})

    def allows(self, port: int, proto: str = "tcp") -> dict[str, t.Any]:
        """Both families: ``iptables -S`` and ``ip6tables -S``. The port is allowed only when both let it in, blocked
        when either drops it; unknown (None) when IPv4 lets it in and IPv6 cannot be read (ip6tables missing or
        failing), except on a host without IPv6 (the kernel refuses the address family), where IPv4 decides alone."""
        v4 = input_allows(self.read_once([self.binaries.get("ipv4") or "iptables", "-w", "-S"]), port, proto)
        v6 = self._allows_ipv6(port, proto)
        if v4["allows"] is False:
            return v4
        if v6["allows"] is False:
            return {"allows": False, "evidence": v6["evidence"] + v4["evidence"]}
        return {"allows": v6["allows"], "evidence": v4["evidence"] + v6["evidence"]}

    def _allows_ipv6(self, port: int, proto: str) -> dict[str, t.Any]:
        binary = self.binaries.get("ipv6")
        if not binary:
            return {"allows": None, "evidence": ["ip6tables: not found, so the IPv6 rules could not be read"]}
        rc, out, err = self.read_once_answer([binary, "-w", "-S"])
        if rc != 0:
            why = (err or out).strip()
            if NO_IPV6 in why:
                return {"allows": True, "evidence": [f"ip6tables: this host has no IPv6 ({why})"]}
            return {"allows": None, "evidence": [f"ip6tables -S failed ({why}), so the IPv6 rules could not be read"]}
        found = input_allows(out, port, proto)
        return {"allows": found["allows"], "evidence": [f"ip6tables: {e}" for e in found["evidence"]]}

    def persist_paths(self) -> list[str]:
        return list(self.paths.values())

    def read_state(self) -> dict[str, t.Any]:
        fams: dict[str, dict[str, t.Any]] = {}
        for fam in ("ipv4", "ipv6"):
            binary = self.binaries.get(fam)
            if not binary:
                if fam == "ipv4":
                    raise FirewallError("iptables is not installed")
                self.warnings.append("ip6tables not found: IPv6 rules are skipped")
                continue
            rc, out, err = self.run([binary, "-w", "-S", "INPUT"], check=False)
            if rc != 0:
                if fam == "ipv4":
                    raise FirewallError(f"iptables -S INPUT failed: {(err or out).strip()}")
                self.warnings.append(f"ip6tables does not work here ({(err or out).strip()}): IPv6 rules are skipped")
                continue
            parsed = parse_spec(out)
            managed: dict[str, list[str]] = {}
            for tokens in parsed["rules"]:
                key = key_from_comment(comment_of(tokens) or "")
                if key:
                    try:
                        Rule.from_key(key)
                    except ValueError:
                        continue
                    managed.setdefault(key, tokens)
            parsed["managed"] = managed
            fams[fam] = parsed
        active = any(p["policy"] in ("DROP", "REJECT") or p["terminal"] for p in fams.values())
        rules = []
        for fam, parsed in fams.items():
            for key in parsed["managed"]:
                rule = Rule.from_key(key)
                rules.append(_one_family(rule, fam))
        return {"active": active, "families": fams, "rules": rules_by_family(rules)}

    def ssh_rules(self, state: dict[str, t.Any], port: int) -> list[str]:
        """INPUT of the live ruleset and of the persisted files (``rules.v4``/``rules.v6``), both families."""
        found = []
        for fam, parsed in state["families"].items():
            found += [f"live {self.binaries[fam]}: -A INPUT {' '.join(shell_quote(x) for x in tokens)}"
                      for tokens in parsed["rules"] if spec_allows(tokens, port)]
        for path in self.paths.values():
            content = read_file(path)
            if content is not None:
                found += [f"{path}: {line}" for line in saved_ssh_rules(content, port)]
        return found

    def plan_wanted(self, state: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> Plan:
        plan = Plan()
        after: dict[str, dict[str, list[str]]] = {}
        # Removals first: each one above the terminal rule moves the insert position up by one.
        wanted = sorted(wanted, key=lambda item: item[1])
        for fam, parsed in state["families"].items():
            binary = self.binaries[fam]
            managed = dict(parsed["managed"])
            offset = 0
            for rule, want_open in wanted:
                if fam not in rule.families():
                    continue
                present = rule.key in managed
                if want_open and not present:
                    spec = rule_spec(rule, comment_for(rule, self.rule_comment(rule)))
                    if parsed["terminal"]:
                        argv = [binary, "-w", "-I", "INPUT", str(parsed["terminal"] + offset)] + spec
                        offset += 1
                    else:
                        argv = [binary, "-w", "-A", "INPUT"] + spec
                    plan.add_step(argv)
                    plan.undo.append(" ".join(shell_quote(a) for a in [binary, "-w", "-D", "INPUT"] + spec))
                    managed[rule.key] = spec
                    plan.added.append(rule)
                elif not want_open and present:
                    tokens = managed.pop(rule.key)
                    if parsed["terminal"] and tokens in parsed["rules"][:parsed["terminal"] - 1]:
                        offset -= 1
                    plan.add_step([binary, "-w", "-D", "INPUT"] + tokens)
                    plan.undo.append(" ".join(shell_quote(a) for a in [binary, "-w", "-I", "INPUT", "1"] + tokens))
                    plan.removed.append(rule)
            after[fam] = managed
            if self.options.get("persistent", True):
                path = self.paths[fam]
                lines = [save_line(rule_spec(Rule.from_key(k), comment_of(v) or comment_for(Rule.from_key(k))))
                         for k, v in sorted(managed.items())]
                current = read_file(path)
                if current is None and not lines:
                    continue
                new = edit_saved(current, lines)
                if new != current:
                    plan.files[path] = new
                    if current is None:
                        plan.extra.append(f"{path} did not exist: it is created with only the rules this module manages")
        plan.undo.reverse()
        plan.added = list(dict.fromkeys(plan.added))
        plan.removed = list(dict.fromkeys(plan.removed))
        return plan


def _one_family(rule: Rule, fam: str) -> Rule:
    if rule.family == fam:
        return rule
    view = Rule(rule.proto, rule.port_lo, rule.port_hi, rule.source)
    view.family = fam
    return view
