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

from .base import Backend, FirewallError, Plan, Rule, Runner, Which, port_in, rules_by_family, shell_quote

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
            "services": fields.get("services", "").split(), "rich": rich, "target": fields.get("target", "default")}


def list_all_zone(text: str) -> str | None:
    """The zone a ``--list-all`` output describes: its header line (``public`` or ``public (default, active)``),
    the line right above the indented ``target:`` line. firewall-cmd may print notes before it (``You're performing
    an operation over default zone ...``); None when no such header is found.
    """
    header = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            header = line.strip()
            continue
        if line.strip().startswith("target:"):
            m = re.match(r"^([A-Za-z0-9_+-]+)(?: \([a-z, ]*\))?$", header or "")
            return m.group(1) if m else None
        header = None
    return None


# Services whose ports firewalld's own definitions give as 443/tcp and 80/tcp.
_WEB_SERVICES = {443: "https", 80: "http"}
# Services whose ports firewalld's own definitions give as 22/tcp.
_SSH_SERVICES = {"ssh": "22"}


def parse_zones(text: str) -> dict[str, dict[str, t.Any]]:
    """``--list-all-zones`` (or one zone's ``--list-all``): per zone its header flags and its fields.

    Returns ``{zone: {"flags": [...], "target": str, "sources": [...], "interfaces": [...], "services": [...],
    "ports": [...], "rich": [...]}}``.
    """
    zones: dict[str, dict[str, t.Any]] = {}
    zone: dict[str, t.Any] | None = None
    key = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            name, _sep, flags = line.strip().partition(" ")
            zone = zones[name] = {"flags": flags.strip("()").replace(",", " ").split(), "target": "default",
                                  "sources": [], "interfaces": [], "services": [], "ports": [], "rich": []}
            continue
        if zone is None:
            continue
        stripped = line.strip()
        if key == "rich rules" and stripped.startswith("rule "):
            zone["rich"].append(stripped)
            continue
        key, sep, value = stripped.partition(":")
        if not sep:
            continue
        value = value.strip()
        if key == "target":
            zone["target"] = value
        elif key in ("sources", "interfaces", "services", "ports"):
            zone[key] = value.split()
        elif key == "rich rules" and value.startswith("rule "):
            zone["rich"].append(value)
    return zones


def rich_allows(rule: str, port: int) -> bool:
    """Whether a rich rule accepts ``tcp/port``: a port, an ssh service, or a source with no port at all."""
    if not re.search(r"\saccept(\s|$)", rule) or re.search(r"\s(reject|drop|mark)(\s|$)", rule):
        return False
    m = re.search(r'\sport port="([0-9-]+)" protocol="(tcp|udp)"', rule)
    if m:
        return m.group(2) == "tcp" and port_in(port, m.group(1), "-")
    m = re.search(r'\sservice name="([^"]+)"', rule)
    if m:
        return port_in(port, _SSH_SERVICES.get(m.group(1), ""))
    if re.search(r"\s(forward-port|icmp-block|icmp-type|masquerade|protocol value|source-port)", rule):
        return False
    return " source " in f" {rule} "


def _rich_verdict(rule: str, port: int, proto: str) -> str | None:
    """deny or accept when a rich rule decides ``proto/port`` for every IPv4 source (no source or destination, no rate
    limit, not IPv6 only): a port rule of that protocol covering the port, or a deny with no match at all; None
    otherwise."""
    if re.search(r'\s(source|destination)\s|family="ipv6"|\slimit value|\s(forward-port|icmp-block|icmp-type|masquerade|'
                 r'protocol value|source-port|service name)', f" {rule} "):
        return None
    m = re.search(r'\sport port="([0-9-]+)" protocol="(tcp|udp|sctp|dccp)"', f" {rule} ")
    if m and (m.group(2) != proto or not port_in(port, m.group(1), "-")):
        return None
    if re.search(r"\s(reject|drop)(\s|$)", rule):
        return "deny"
    if m and re.search(r"\saccept(\s|$)", rule):
        return "accept"
    return None


def zone_allows(zone: dict[str, t.Any], port: int) -> list[str]:
    """What in one zone allows ``tcp/port``: the ACCEPT target, a service, a port, a rich rule."""
    found = []
    if zone["target"] == "ACCEPT":
        found.append("target: ACCEPT")
    found += [f"service {s}" for s in zone["services"] if port_in(port, _SSH_SERVICES.get(s, ""))]
    for item in zone["ports"]:
        spec, _sep, proto = item.partition("/")
        if proto == "tcp" and port_in(port, spec, "-"):
            found.append(f"port {item}")
    found += [f"rich rule {r}" for r in zone["rich"] if rich_allows(r, port)]
    return found


class FirewalldBackend(Backend):
    name = "firewalld"

    def __init__(self, runner, options=None, cmd: str = "firewall-cmd", offline_cmd: str | None = "firewall-offline-cmd",
                 systemctl: str | None = "systemctl") -> None:
        super().__init__(runner, options)
        self.cmd = cmd
        self.offline_cmd = offline_cmd
        self.systemctl = systemctl

    @classmethod
    def create(cls, runner: Runner, options: dict[str, t.Any], which: Which) -> FirewalldBackend:
        return cls(runner, options, cmd=which("firewall-cmd"), offline_cmd=which("firewall-offline-cmd"),
                   systemctl=which("systemctl"))

    @staticmethod
    def detect_running(runner: Runner, which: Which, enable: bool, binaries: t.Sequence[str]) -> str | None:
        cmd = which(binaries[0])
        if cmd and runner([cmd, "--state"])[0] == 0:
            return "firewalld is running"
        return None

    def allows(self, port: int, proto: str = "tcp") -> dict[str, t.Any]:
        """The zone's rich rules, services (by the port's usual name: https, http), ports and target, runtime
        configuration, in firewalld's order: a rich rule that drops or rejects the port for every source comes first
        (firewalld's deny rules before its allow rules), then what allows it, then the zone's target."""
        zone = self.options.get("zone")
        info = parse_list_all(self.read_once([self.cmd] + ([f"--zone={zone}"] if zone else []) + ["--list-all"]))
        verdicts = [(_rich_verdict(rule, port, proto), rule) for rule in info.get("rich", [])]
        for wanted, allows in (("deny", False), ("accept", True)):
            decided = [rule for verdict, rule in verdicts if verdict == wanted]
            if decided:
                return {"allows": allows, "evidence": [f"rich rule {decided[0]}"]}
        if info.get("target") == "ACCEPT":
            return {"allows": True, "evidence": ["zone target ACCEPT"]}
        name = _WEB_SERVICES.get(port)
        if name and name in info["services"]:
            return {"allows": True, "evidence": [f"service {name} enabled"]}
        for rule in info["rules"]:
            if not rule.source and rule.proto == proto and rule.port_lo <= port <= rule.port_hi:
                return {"allows": True, "evidence": [f"port {rule.port_text('-')}/{rule.proto} open"]}
        return {"allows": False, "evidence": [f"neither the {name or port} service nor {port}/{proto} is open in the "
                                              f"{f'zone {zone}' if zone else 'default zone'}"]}

    def _read(self, base: list[str], zone: str | None) -> dict[str, t.Any]:
        rc, out, err = self.run(base + ["--list-all"], check=False)
        if rc != 0:
            if "INVALID_ZONE" in (err + out):
                raise FirewallError(f"zone: firewalld has no zone {zone!r}")
            raise FirewallError(f"{' '.join(base)} --list-all failed (rc={rc}): {(err or out).strip()}")
        info = parse_list_all(out)
        info["zone"] = list_all_zone(out)
        return info

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
        runtime = None
        if not zone and running:
            # --list-all without a zone shows the default zone, named in its first line: one call instead of two.
            runtime = self._read([self.cmd], None)
            zone = runtime["zone"]
        if not zone:
            _rc, out, _err = self.run(tool + ["--get-default-zone"])
            zone = out.strip()
            runtime = None
        state: dict[str, t.Any] = {"active": running, "running": running, "zone": zone}
        if running:
            state["runtime"] = runtime or self._read([self.cmd, f"--zone={zone}"], zone)
            state["permanent"] = self._read([self.cmd, "--permanent", f"--zone={zone}"], zone)
        else:
            state["runtime"] = None
            state["permanent"] = self._read([self.offline_cmd, f"--zone={zone}"], zone)
        shown = state["runtime"] if running else state["permanent"]
        state["rules"] = rules_by_family(shown["rules"])
        return state

    def ssh_rules(self, state: dict[str, t.Any], port: int) -> list[str]:
        """The configuration in force (runtime) or that a start loads (permanent, offline): the target zone, the
        default zone and every zone bound to a source or an interface."""
        if "zones" not in state:
            tool = self.cmd if state["running"] else self.offline_cmd
            _rc, out, _err = self.run([tool or "firewall-offline-cmd", "--list-all-zones"])
            state["zones"] = parse_zones(out)
        found = []
        for name, zone in sorted(state["zones"].items()):
            scope = []
            if name == state["zone"]:
                scope.append("target zone")
            if "default" in zone["flags"]:
                scope.append("default zone")
            if zone["sources"]:
                scope.append("sources " + " ".join(zone["sources"]))
            if zone["interfaces"]:
                scope.append("interfaces " + " ".join(zone["interfaces"]))
            if not scope:
                continue  # a zone bound to nothing filters no traffic
            found += [f"zone {name} ({', '.join(scope)}): {what}" for what in zone_allows(zone, port)]
        return found

    @staticmethod
    def _args(rules: list[Rule], verb: str) -> list[str]:
        args = []
        for rule in rules:
            if rule.source:
                args.append(f"--{verb}-rich-rule={rich_rule(rule)}")
            else:
                args.append(f"--{verb}-port={rule.port_text('-')}/{rule.proto}")
        return args

    @staticmethod
    def _diff(have: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> tuple[list[Rule], list[Rule]]:
        """(rules to add, rules to remove) on one side (runtime or permanent)."""
        present = set(have["rules"])
        return ([r for r, want in wanted if want and r not in present],
                [r for r, want in wanted if not want and r in present])

    def _steps(self, plan: Plan, base: list[str], add: list[Rule], remove: list[Rule],
               extra: t.Sequence[Rule] = ()) -> None:
        """One command per verb and kind on one side (``extra``: SSH allows added before anything else).

        firewall-cmd refuses ``--add-rich-rule`` together with ``--add-port`` (and the same for remove), so ports and
        rich rules (the rules with a source) take a command each.
        """
        for verb, undo_verb, rules in (("remove", "add", remove), ("add", "remove", list(extra) + add)):
            for kind in ([r for r in rules if not r.source], [r for r in rules if r.source]):
                if kind:
                    plan.add_step(base + self._args(kind, verb))
                    plan.undo.append(" ".join(shell_quote(a) for a in base + self._args(kind, undo_verb)))

    def plan_wanted(self, state: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> Plan:
        plan = Plan()
        zone = state["zone"]
        persistent = self.options.get("persistent", True)
        enable = bool(self.options.get("enable")) and not state["running"]
        added: list[Rule] = []
        removed: list[Rule] = []
        if state["running"]:
            sides = [[self.cmd, f"--zone={zone}"]] + ([[self.cmd, "--permanent", f"--zone={zone}"]] if persistent else [])
            for base in sides:
                add, remove = self._diff(state["permanent" if "--permanent" in base else "runtime"], wanted)
                self._steps(plan, base, add, remove)
                added += add
                removed += remove
        else:
            if not persistent and not enable:
                raise FirewallError("firewalld is not running: persistent=false has nothing to change (start firewalld or set enable=true)")
            add, remove = self._diff(state["permanent"], wanted)
            extra: list[Rule] = []
            if enable:
                plan.ssh_guard = self.ssh_guard(state, "firewalld is stopped and enable=true: the permanent configuration "
                                                       "takes effect")
                for ssh in plan.ssh_guard["missing"]:
                    ssh_rule = Rule("tcp", ssh, ssh)
                    if ssh_rule in add:
                        continue
                    extra.append(ssh_rule)
                    plan.extra.append(f"allow ssh {ssh}/tcp in zone {zone} before starting firewalld (no rule of any "
                                      "scope allows it)")
                    plan.ssh_guard["added"].append(f"zone {zone}: port {ssh}/tcp")
                if plan.ssh_guard["added"]:
                    plan.ssh_guard["action"] = "added"
            if add or remove or extra:
                self._steps(plan, [self.offline_cmd or "firewall-offline-cmd", f"--zone={zone}"], add, remove, extra)
                added += add
                removed += remove
                plan.added += extra
            if enable:
                plan.add_step([self.systemctl or "systemctl", "enable", "--now", "firewalld"])
                plan.undo.append("systemctl disable --now firewalld")
                plan.enable = True
                plan.extra.append("start and enable firewalld")
            elif add or remove:
                self.warnings.append("firewalld is not running: only the permanent configuration was changed (offline)")
        plan.added += list(dict.fromkeys(added))
        plan.removed += list(dict.fromkeys(removed))
        plan.added = list(dict.fromkeys(plan.added))
        plan.undo.reverse()
        return plan
