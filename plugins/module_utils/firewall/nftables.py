# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""nftables backend.

An accept in a table of its own does not beat a drop in another table's base chain, so the rules go
into the host's own input base chains that drop (policy drop, or an unconditional drop/reject rule):
before that terminal rule, each marked with a comment. When the host has no such chain, the backend
uses a table of its own (``inet port443_https``). Rules are changed in one atomic ``nft -f`` transaction
and deleted by handle; foreign rules are never flushed.

Persistence: an include file loaded at the end of ``/etc/nftables.conf``. At boot the include runs after
the host's own ruleset is built, so its rules must land where they are live: before the chain's final
drop, after everything above it (bans included). The position is computed from the ruleset the host
really loads at boot: ``/etc/nftables.conf`` (without the include) is loaded into a scratch network
namespace (``unshare --net``), the index of the chain's first unconditional drop/reject among the host's
own rules is read there, and the include inserts at that index (``insert rule ... index N``). Before the
include is written, the whole boot path (``nftables.conf`` plus the new include) is loaded once more in a
scratch namespace and the module checks that its rules sit exactly there; the live ruleset is not touched
by either load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
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
    spec_covers,
)

OWN_FAMILY = "inet"
OWN_TABLE = "port443_https"
OWN_CHAIN = "input"
INCLUDE_PATH = "/etc/nftables.d/port443-https.nft"
CONF_PATH = "/etc/nftables.conf"
IPTABLES_TABLES = ("filter", "nat", "mangle", "raw", "security")
IPTABLES_CHAINS = ("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING")


def _is_terminal(expr: list[dict[str, t.Any]]) -> bool:
    """An unconditional drop/reject (optionally counted or logged)."""
    if not expr:
        return False
    last = expr[-1]
    if not isinstance(last, dict) or not ("drop" in last or "reject" in last):
        return False
    return all(isinstance(e, dict) and set(e) <= {"counter", "log"} for e in expr[:-1])


def iptables_made(tables: list[dict[str, t.Any]], chains: list[dict[str, t.Any]]) -> set[tuple[str, str]]:
    """Tables created by iptables-nft (ip/ip6 filter with the upper-case built-in chains)."""
    made = set()
    for ch in chains:
        if ch.get("family") in ("ip", "ip6") and ch.get("table") in IPTABLES_TABLES and ch.get("name") in IPTABLES_CHAINS:
            made.add((ch["family"], ch["table"]))
    return made


def parse_ruleset(text: str) -> dict[str, list[dict[str, t.Any]]]:
    try:
        data = json.loads(text or '{"nftables": []}')
    except ValueError as exc:
        raise FirewallError(f"cannot parse the output of 'nft -j list ruleset': {exc}") from None
    out: dict[str, list[dict[str, t.Any]]] = {"table": [], "chain": [], "rule": []}
    for item in data.get("nftables", []):
        for kind in out:
            if kind in item:
                out[kind].append(item[kind])
    return out


def _dport_covers(right: t.Any, port: int) -> bool | None:
    """Whether the right side of a ``dport`` match holds ``port``; None for what cannot be read (a named set)."""
    if isinstance(right, int):
        return right == port
    if isinstance(right, str):
        return None if right.startswith("@") else port_in(port, right, "-")
    if isinstance(right, dict):
        if "range" in right:
            lo, hi = right["range"]
            return isinstance(lo, int) and isinstance(hi, int) and lo <= port <= hi
        if "set" in right:
            return any(_dport_covers(item, port) for item in right["set"])
    if isinstance(right, list):
        return any(_dport_covers(item, port) for item in right)
    return None


_VERDICTS = ("accept", "drop", "reject")


def _value(right: t.Any) -> str:
    """The right side of a match as nft prints it: ``10.0.0.0/8``, ``{ 22, 8000-9000 }``, ``400-500``."""
    if isinstance(right, dict) and "prefix" in right:
        return f"{right['prefix'].get('addr')}/{right['prefix'].get('len')}"
    if isinstance(right, dict) and "set" in right:
        return "{ " + ", ".join(_value(x) for x in right["set"]) + " }"
    if isinstance(right, dict) and "range" in right:
        return "-".join(_value(x) for x in right["range"])
    return str(right)


def _render(expr: list[dict[str, t.Any]]) -> str:
    """A short text of a rule's matches and verdict, for the result (``ip saddr 10.0.0.0/8 tcp dport 22 accept``)."""
    parts = []
    for e in expr:
        if "match" in e:
            left, right = e["match"].get("left", {}), e["match"].get("right")
            if "payload" in left:
                name = f"{left['payload'].get('protocol', '')} {left['payload'].get('field', '')}"
            elif "meta" in left:
                name = f"meta {left['meta'].get('key', '')}"
            else:
                name = next(iter(left), "?") if isinstance(left, dict) else str(left)
            op = e["match"].get("op", "==")
            parts.append(f"{name} {'' if op in ('==', 'in') else op + ' '}{_value(right)}")
        else:
            parts += [verdict for verdict in _VERDICTS if verdict in e]
            parts += [f"{verdict} {e[verdict].get('target')}" for verdict in ("jump", "goto")
                      if isinstance(e.get(verdict), dict)]
    return " ".join(parts)


def ruleset_ssh_rules(parsed: dict[str, list[dict[str, t.Any]]], port: int) -> list[str]:
    """Accept rules in input-hook or regular chains that let ``tcp/port`` in: a dport match holding the port, or
    only source address matches (everything from a network)."""
    skip = {(c.get("family"), c.get("table"), c.get("name")) for c in parsed["chain"]
            if c.get("hook") not in (None, "input")}
    found = []
    for rule in parsed["rule"]:
        fam, table, chain = rule.get("family"), rule.get("table"), rule.get("chain")
        expr = rule.get("expr", [])
        if fam not in ("inet", "ip", "ip6") or (fam, table, chain) in skip or not expr or "accept" not in expr[-1]:
            continue
        matches = [e["match"] for e in expr if "match" in e]
        others = [e for e in expr[:-1] if "match" not in e and not set(e) <= {"counter", "log"}]
        if others:
            continue
        dports = [m for m in matches if m.get("left", {}).get("payload", {}).get("field") == "dport"]
        sources = [m for m in matches if m.get("left", {}).get("payload", {}).get("field") == "saddr"]
        if dports:
            protos = {m["left"]["payload"].get("protocol") for m in dports}
            if not protos <= {"tcp", "th"} or not all(_dport_covers(m.get("right"), port) for m in dports):
                continue
        elif not sources or len(sources) != len(matches):
            continue
        if any(m.get("op", "==") not in ("==", "in") for m in matches):
            continue
        found.append(f"{fam} {table} {chain}: {_render(expr)}")
    return found


def _port_verdict(expr: list[dict[str, t.Any]], port: int, proto: str) -> str | None:
    """The verdict (drop, reject or accept) of a rule whose destination port match holds ``port``, else None."""
    dports = [e["match"] for e in expr if "match" in e
              and isinstance(e["match"].get("left"), dict) and e["match"]["left"].get("payload", {}).get("field") == "dport"]
    if not dports or any(m["left"]["payload"].get("protocol") == ("tcp" if proto == "udp" else "udp") for m in dports):
        return None
    right = dports[0].get("right")
    if dports[0].get("op", "==") not in ("==", "in") or not (
            _dport_covers(right, port) or isinstance(right, str) and spec_covers(right, port)):
        return None
    return next((verdict for verdict in ("drop", "reject", "accept") if any(verdict in e for e in expr)), None)


def ruleset_allows(parsed: dict[str, list[dict[str, t.Any]]], port: int, proto: str = "tcp") -> dict[str, t.Any]:
    """Whether a ruleset (``nft -j list ruleset``) lets inbound ``proto/port`` in: in each input-hook chain the first rule
    matching the port decides, else the chain's policy; a rule matching it in a regular chain (a jump target, such as
    ufw's or firewalld's) counts too. Every table counts, the collection's own and every other."""
    rules: dict[tuple[str, str, str], list[dict[str, t.Any]]] = {}
    for rule in parsed["rule"]:
        rules.setdefault((rule.get("family"), rule.get("table"), rule.get("chain")), []).append(rule)

    def first_hit(ch: dict[str, t.Any]) -> tuple[str, str] | None:
        for rule in rules.get((ch.get("family"), ch.get("table"), ch.get("name")), []):
            verdict = _port_verdict(rule.get("expr", []), port, proto)
            if verdict:
                return verdict, f"{ch.get('family')} {ch.get('table')} {ch.get('name')}: {_render(rule.get('expr', []))}"
        return None

    inputs = [ch for ch in parsed["chain"] if ch.get("hook") == "input"]
    if not inputs:
        return {"allows": True, "evidence": ["no input chain in the nftables ruleset"]}
    jumped = [hit for hit in (first_hit(ch) for ch in parsed["chain"] if "hook" not in ch) if hit]
    blocking: list[str] = []
    allowing: list[str] = []
    for ch in inputs:
        hit = first_hit(ch)
        policy = ch.get("policy", "accept")
        if hit:
            (allowing if hit[0] == "accept" else blocking).append(hit[1])
        elif policy in ("drop", "reject"):
            accepted = [text for verdict, text in jumped if verdict == "accept"]
            if accepted:
                allowing.append(accepted[0])
            else:
                blocking.append(f"{ch.get('family')} {ch.get('table')} {ch.get('name')}: policy {policy} and no rule "
                                f"accepts {port}/{proto}")
        else:
            allowing.append(f"{ch.get('family')} {ch.get('table')} {ch.get('name')}: policy {policy}")
    blocking += [text for verdict, text in jumped if verdict != "accept"]
    if blocking:
        return {"allows": False, "evidence": blocking}
    return {"allows": True, "evidence": allowing}


def chain_id(family: str, table: str, chain: str) -> str:
    return f"{family} {table} {chain}"


class NftablesBackend(Backend):
    name = "nftables"
    guard_reason = "nftables: the module changes no policy, so it adds no SSH rule; the rules found are reported"

    def __init__(self, runner, options=None, nft: str = "nft", include_path: str = INCLUDE_PATH, conf_path: str = CONF_PATH,
                 unshare: str | None = "unshare") -> None:
        super().__init__(runner, options)
        self.nft = nft
        self.include_path = include_path
        self.conf_path = conf_path
        self.unshare = unshare
        self._boot_expect: dict[str, tuple[list[str], bool]] = {}
        self._boot: tuple[dict[str, list[dict[str, t.Any]]] | None, str] | None = None

    @classmethod
    def create(cls, runner: Runner, options: dict[str, t.Any], which: Which) -> NftablesBackend:
        return cls(runner, options, nft=which("nft"), unshare=which("unshare"))

    @staticmethod
    def detect_native(runner: Runner, which: Which, enable: bool, binaries: t.Sequence[str]) -> str | None:
        nft = which(binaries[0])
        if nft:
            rc, out, _err = runner([nft, "-j", "-a", "list", "ruleset"])  # the argv read_state runs: one call with a read cache
            if rc == 0:
                parsed = parse_ruleset(out)
                made = iptables_made(parsed["table"], parsed["chain"])
                native = [tb for tb in parsed["table"] if (tb.get("family"), tb.get("name")) not in made]
                if native:
                    names = ", ".join(f"{tb.get('family')} {tb.get('name')}" for tb in native[:5])
                    return f"the nftables ruleset has native tables ({names})"
        return None

    def allows(self, port: int, proto: str = "tcp") -> dict[str, t.Any]:
        return ruleset_allows(parse_ruleset(self.read_once([self.nft, "-j", "-a", "list", "ruleset"])), port, proto)

    def persist_paths(self) -> list[str]:
        return [self.include_path, self.conf_path]

    # -- read --------------------------------------------------------------
    def read_state(self) -> dict[str, t.Any]:
        _rc, out, _err = self.run([self.nft, "-j", "-a", "list", "ruleset"])
        parsed = parse_ruleset(out)
        skip = iptables_made(parsed["table"], parsed["chain"])
        chains: dict[str, dict[str, t.Any]] = {}
        for ch in parsed["chain"]:
            fam, table = ch.get("family"), ch.get("table")
            if fam not in ("inet", "ip", "ip6"):
                continue
            cid = chain_id(fam, table, ch["name"])
            own = (fam, table, ch["name"]) == (OWN_FAMILY, OWN_TABLE, OWN_CHAIN)
            if not own and (ch.get("hook") != "input" or ch.get("type") != "filter"):
                continue
            if (fam, table) in skip:
                self.warnings.append(f"nftables: table {fam} {table} belongs to iptables-nft; use backend=iptables for it")
                continue
            if table == "firewalld":
                self.warnings.append("nftables: firewalld's table is left alone; use backend=firewalld")
                continue
            chains[cid] = {
                "family": fam, "table": table, "name": ch["name"], "policy": ch.get("policy", "accept"),
                "prio": ch.get("prio", 0), "own": own, "terminal": None, "managed": {},
            }
        for rule in parsed["rule"]:
            cid = chain_id(rule.get("family"), rule.get("table"), rule.get("chain"))
            ch = chains.get(cid)
            if ch is None:
                continue
            if ch["terminal"] is None and _is_terminal(rule.get("expr", [])):
                ch["terminal"] = rule.get("handle")
            key = key_from_comment(rule.get("comment", ""))
            if key:
                try:
                    Rule.from_key(key)
                except ValueError:
                    continue
                ch["managed"].setdefault(key, []).append({"handle": rule.get("handle"), "comment": rule["comment"]})
        targets = [cid for cid, ch in chains.items() if not ch["own"] and (ch["policy"] == "drop" or ch["terminal"] is not None)]
        own_cid = chain_id(OWN_FAMILY, OWN_TABLE, OWN_CHAIN)
        state = {
            "active": bool(targets),
            "chains": chains,
            "targets": targets or [own_cid],
            "own_exists": own_cid in chains,
            "tables": len(parsed["table"]),
        }
        state["rules"] = self._rules(chains)
        state["parsed"] = parsed
        return state

    def ssh_rules(self, state: dict[str, t.Any], port: int) -> list[str]:
        """The live ruleset, and the persisted one (``/etc/nftables.conf`` loaded into a network namespace of its own,
        which leaves the live ruleset untouched)."""
        found = [f"live: {text}" for text in ruleset_ssh_rules(state["parsed"], port)]
        if "persisted" not in state:
            state["persisted"] = None
            if read_file(self.conf_path) is not None:
                rc, out, err = self.run([self.options.get("unshare") or "unshare", "--net", "sh", "-c",
                                         f'{shell_quote(self.nft)} -f "$1" && {shell_quote(self.nft)} -j list ruleset',
                                         "sh", self.conf_path], check=False)
                if rc == 0:
                    state["persisted"] = parse_ruleset(out)
                else:
                    self.warnings.append(f"nftables: cannot load {self.conf_path} in a scratch network namespace to read "
                                         f"its SSH rules: {(err or out).strip()[:200]}")
        if state["persisted"] is not None:
            found += [f"{self.conf_path}: {text}" for text in ruleset_ssh_rules(state["persisted"], port)]
        return found

    @staticmethod
    def _applies(ch: dict[str, t.Any], rule: Rule) -> bool:
        if ch["family"] == "inet":
            return True
        fam = "ipv4" if ch["family"] == "ip" else "ipv6"
        return rule.family in ("any", fam)

    def _rules(self, chains: dict[str, dict[str, t.Any]]) -> dict[str, list[str]]:
        rules = []
        for ch in chains.values():
            for key in ch["managed"]:
                rule = Rule.from_key(key)
                if ch["family"] == "inet":
                    rules.append(rule)
                else:
                    fam = "ipv4" if ch["family"] == "ip" else "ipv6"
                    if rule.family in ("any", fam):
                        rules.append(rule if rule.family != "any" else _FamilyView(rule, fam))
        return rules_by_family(rules)

    # -- plan --------------------------------------------------------------
    @staticmethod
    def rule_text(ch_family: str, rule: Rule, comment: str) -> str:
        parts = []
        if rule.source:
            parts.append(("ip6" if rule.family == "ipv6" else "ip") + f" saddr {rule.source}")
        parts.append(f"{rule.proto} dport {rule.port_text('-')}")
        parts.append(f'accept comment "{comment}"')
        return " ".join(parts)

    def plan_wanted(self, state: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> Plan:
        plan = Plan()
        script: list[str] = []
        chains = state["chains"]
        opens = [rule for rule, want in wanted if want]
        closes = {rule.key for rule, want in wanted if not want}
        after: dict[str, dict[str, str]] = {cid: {k: v[0]["comment"] for k, v in ch["managed"].items()} for cid, ch in chains.items()}
        # Removals first (by handle; an insert's position is the handle of the final drop, so it does not move).
        if closes:
            for cid, ch in chains.items():
                where = f"{ch['family']} {ch['table']} {ch['name']}"
                for key, entries in ch["managed"].items():
                    if key not in closes:
                        continue
                    for entry in entries:
                        script.append(f"delete rule {where} handle {entry['handle']}")
                        text = self.rule_text(ch["family"], Rule.from_key(key), entry["comment"])
                        # back where it was: before the chain's final drop (a bare insert would put it above the bans)
                        at = f" position {ch['terminal']}" if ch["terminal"] is not None else ""
                        verb = "insert" if ch["terminal"] is not None else "add"
                        plan.undo.append("nft " + shell_quote(f"{verb} rule {where}{at} {text}"))
                    after[cid].pop(key, None)
                    plan.removed.append(Rule.from_key(key))
        if opens:
            for cid in state["targets"]:
                ch = chains.get(cid)
                if ch is None:  # our own table, not there yet
                    ch = {"family": OWN_FAMILY, "table": OWN_TABLE, "name": OWN_CHAIN, "policy": "accept", "prio": 0,
                          "own": True, "terminal": None, "managed": {}}
                    script.append(f"add table {OWN_FAMILY} {OWN_TABLE}")
                    script.append(f"add chain {OWN_FAMILY} {OWN_TABLE} {OWN_CHAIN} {{ type filter hook input priority 0 ; policy accept ; }}")
                    plan.undo.append(f"nft delete table {OWN_FAMILY} {OWN_TABLE}")
                    plan.extra.append(f"create table {OWN_FAMILY} {OWN_TABLE} (no input chain that drops exists)")
                    after[cid] = {}
                for rule in opens:
                    if not self._applies(ch, rule) or rule.key in ch["managed"]:
                        continue
                    comment = comment_for(rule, self.rule_comment(rule))
                    text = self.rule_text(ch["family"], rule, comment)
                    where = f"{ch['family']} {ch['table']} {ch['name']}"
                    if ch["terminal"] is not None:
                        script.append(f"insert rule {where} position {ch['terminal']} {text}")
                    else:
                        script.append(f"add rule {where} {text}")
                    after[cid][rule.key] = comment
                    plan.added.append(rule)
                    plan.undo.append(
                        f"nft -a list chain {where} | grep -F {shell_quote('comment ' + chr(34) + comment + chr(34))}"
                        f" | sed -n 's/.* # handle \\([0-9][0-9]*\\)$/\\1/p' | while read -r h; do nft delete rule {where} handle \"$h\"; done"
                    )
        if script:
            plan.add_step([self.nft, "-f", "-"], "\n".join(script) + "\n")
        plan.undo.reverse()
        # dedupe added/removed (one rule can land in several chains)
        plan.added = list(dict.fromkeys(plan.added))
        plan.removed = list(dict.fromkeys(plan.removed))
        if self.options.get("persistent", True):
            self._plan_persist(plan, state, after)
        return plan

    def _plan_persist(self, plan: Plan, state: dict[str, t.Any], after: dict[str, dict[str, str]]) -> None:
        chains = state["chains"]
        lines = [
            "#!/usr/sbin/nft -f",
            "# Managed by port443.https (module firewall_port): the rules it added to this host's input chains.",
            f"# Loaded by the include at the end of {self.conf_path}. Do not edit: the module rewrites this file.",
        ]
        for cid in sorted(after):
            rules = after[cid]
            ch = chains.get(cid) or {"family": OWN_FAMILY, "table": OWN_TABLE, "name": OWN_CHAIN, "own": True, "terminal": None, "prio": 0}
            if not rules and not ch["own"]:
                continue
            if ch["own"]:
                if not rules:
                    continue
                lines.append(f"table {OWN_FAMILY} {OWN_TABLE}")
                lines.append(f"delete table {OWN_FAMILY} {OWN_TABLE}")
                lines.append(f"table {OWN_FAMILY} {OWN_TABLE} {{")
                lines.append(f"  chain {OWN_CHAIN} {{")
                lines.append("    type filter hook input priority 0; policy accept;")
                lines.append("  }")
                lines.append("}")
            else:
                # Declared without a policy: an existing chain keeps its own, a missing one is created accepting.
                lines.append(f"table {ch['family']} {ch['table']} {{")
                lines.append(f"  chain {ch['name']} {{")
                lines.append(f"    type filter hook input priority {ch.get('prio', 0)};")
                lines.append("  }")
                lines.append("}")
            where = f"{ch['family']} {ch['table']} {ch['name']}"
            index = None if ch["own"] else self._boot_index(cid, ch)
            self._boot_expect[cid] = (list(rules), index is not None)
            for i, key in enumerate(rules):  # live order: each rule was inserted right after the previous one
                text = self.rule_text(ch["family"], Rule.from_key(key), rules[key])
                if index is None:
                    lines.append(f"add rule {where} {text}")
                else:
                    lines.append(f"insert rule {where} index {index + i} {text}")
        content = "\n".join(lines) + "\n"
        if read_file(self.include_path) != content:
            plan.files[self.include_path] = content
        include_line = f'include "{self.include_path}"'
        conf = read_file(self.conf_path)
        if conf is None:
            plan.files[self.conf_path] = f"#!/usr/sbin/nft -f\n{include_line}\n"
        elif include_line not in conf:
            plan.files[self.conf_path] = conf + ("" if conf.endswith("\n") or not conf else "\n") + f"# added by port443.https\n{include_line}\n"

    # -- the ruleset loaded at boot ------------------------------------------
    def boot_ruleset(self, include_text: str | None = None, conf: str | None = None) -> tuple[dict[str, list[dict[str, t.Any]]] | None, str]:
        """Load the boot path into a scratch network namespace: (chains -> rules in order, "") or (None, error).

        ``conf`` defaults to the current ``nftables.conf``; the line including our file is dropped, and
        ``include_text`` (when given) is included at the end instead, as the real include would be.
        """
        if conf is None:
            conf = read_file(self.conf_path)
        include_line = f'include "{self.include_path}"'
        lines = [line for line in (conf or "").splitlines() if line.strip() != include_line]
        if not self.unshare:
            return None, "unshare is not installed"
        tmp = tempfile.mkdtemp(prefix="port443-nft-")
        try:
            if include_text is not None:
                with open(os.path.join(tmp, "include.nft"), "w") as fh:
                    fh.write(include_text)
                lines.append(f'include "{os.path.join(tmp, "include.nft")}"')
            path = os.path.join(tmp, "nftables.conf")
            with open(path, "w") as fh:
                fh.write("\n".join(lines) + "\n")
            rc, out, err = self.runner([self.unshare, "--net", "--", "/bin/sh", "-c", '"$1" -f "$2" && "$1" -j list ruleset',
                                        "sh", self.nft, path])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if rc != 0:
            return None, (err or out).strip().replace(tmp + "/", "") or f"rc={rc}"
        chains: dict[str, list[dict[str, t.Any]]] = {}
        parsed = parse_ruleset(out)
        for ch in parsed["chain"]:
            chains[chain_id(ch.get("family"), ch.get("table"), ch.get("name"))] = []
        for rule in parsed["rule"]:
            chains.setdefault(chain_id(rule.get("family"), rule.get("table"), rule.get("chain")), []).append(rule)
        return chains, ""

    def _boot_index(self, cid: str, ch: dict[str, t.Any]) -> int | None:
        """Where our rules go at boot: the index of the host's first terminal rule in its persisted chain, or None (append)."""
        if self._boot is None:
            self._boot = self.boot_ruleset()
        chains, error = self._boot
        if chains is None:
            if ch["terminal"] is not None:
                raise FirewallError(
                    f"persistent: cannot load {self.conf_path} into a scratch network namespace to find where the rules go at"
                    f" boot in {cid}, whose last rule drops ({error}). Fix that, or use persistent=false.")
            self.warnings.append(f"nftables: {self.conf_path} could not be loaded in a scratch network namespace ({error});"
                                 f" the persisted rules are appended to {cid}, which drops by its policy")
            return None
        if cid not in chains:
            return None
        return _first_terminal(chains[cid])

    def verify_boot(self, plan: Plan) -> None:
        """Load the boot path with the planned include; our rules must sit where they are live. Raises otherwise."""
        conf = plan.files.get(self.conf_path)
        chains, error = self.boot_ruleset(plan.files[self.include_path], conf)
        if chains is None:
            raise FirewallError(f"the planned {self.include_path} does not load with {self.conf_path}: {error}")
        for cid, (keys, before_terminal) in self._boot_expect.items():
            rules = chains.get(cid, [])
            end = _first_terminal(rules) if before_terminal else len(rules)
            found = [key_from_comment(r.get("comment", "")) for r in rules[max(0, (end or 0) - len(keys)):end or 0]]
            if end is None or found != keys:
                raise FirewallError(f"the planned {self.include_path} would not rebuild {cid} as it is live: at boot the rules"
                                    f" {'before its final drop' if before_terminal else 'at its end'} would be {found}, not {keys}")

    def apply(self, plan: Plan) -> None:
        if self.include_path in plan.files:
            if any(before for _keys, before in self._boot_expect.values()) or (self._boot is not None and self._boot[0] is not None):
                # Load the new boot path in a scratch namespace before it can break the next boot.
                self.verify_boot(plan)
            else:
                self.run([self.nft, "-c", "-f", "-"], data=plan.files[self.include_path].replace(f"delete table {OWN_FAMILY} {OWN_TABLE}\n", ""))
        super().apply(plan)


def _first_terminal(rules: list[dict[str, t.Any]]) -> int | None:
    for i, rule in enumerate(rules):
        if _is_terminal(rule.get("expr", [])):
            return i
    return None


class _FamilyView(Rule):
    """A family-less rule seen through an ip or ip6 table: counts for that family only."""

    __slots__ = ()

    def __init__(self, rule: Rule, family: str) -> None:
        super().__init__(rule.proto, rule.port_lo, rule.port_hi, rule.source)
        self.family = family
