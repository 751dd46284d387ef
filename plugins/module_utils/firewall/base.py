# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The shared model of the firewall backends: rules, validation, plans, and the backend interface.

Every backend follows the same three steps: ``read_state()`` (what the host has now),
``plan(state, desired, want_open)`` (the exact commands and the rules they add or remove, computed
without changing anything, so check mode predicts exactly) and ``apply(plan)`` (run the commands).
``allows(port, proto)`` answers, read-only, whether the live ruleset lets a port in (the doctor asks it).
Backends never import Ansible: they receive a ``runner`` callable
``runner(argv, data=None) -> (rc, stdout, stderr)`` so unit tests can feed canned output.
Which backends exist, and what each needs, is listed once, in ``_registry``.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host._run import Runner  # noqa: F401 (re-exported)

Which = t.Callable[[str], t.Optional[str]]
# A detection check of backend=auto: (runner, which, enable, the backend's binaries) -> why this is the backend, or None.
Check = t.Callable[[Runner, Which, bool, t.Sequence[str]], t.Optional[str]]

MARK = "port443.https"
"""Every rule the collection writes carries this marker (in a comment), so it only ever touches its own rules."""


class FirewallError(Exception):
    """A problem the user must see as one clear error message."""


def _failed(argv: list[str], rc: int, out: str, err: str) -> FirewallError:
    return FirewallError(f"{' '.join(argv)} failed (rc={rc}): {(err or out).strip()}")


class Rule:
    """One allow rule: protocol, port or port range, optional source network.

    ``family`` is ``ipv4``, ``ipv6`` or ``any`` (no source: both families). ``comment`` is the free text a new
    rule is written with (None: the backend's ``comment`` option); it is not part of the rule's identity.
    """

    __slots__ = ("proto", "port_lo", "port_hi", "source", "family", "comment")

    def __init__(self, proto: str, port_lo: int, port_hi: int, source: str | None = None,
                 comment: str | None = None) -> None:
        self.proto = proto
        self.port_lo = port_lo
        self.port_hi = port_hi
        self.source = source
        self.comment = comment
        if source is None:
            self.family = "any"
        else:
            self.family = "ipv6" if ipaddress.ip_network(source).version == 6 else "ipv4"

    def port_text(self, sep: str = "-") -> str:
        if self.port_lo == self.port_hi:
            return str(self.port_lo)
        return f"{self.port_lo}{sep}{self.port_hi}"

    @property
    def key(self) -> str:
        """Stable identity without spaces, e.g. ``tcp/443`` or ``tcp/8000-8010,from=10.0.0.0/8``."""
        key = f"{self.proto}/{self.port_text()}"
        if self.source:
            key += f",from={self.source}"
        return key

    def families(self) -> list[str]:
        return ["ipv4", "ipv6"] if self.family == "any" else [self.family]

    def describe(self) -> str:
        return f"allow {self.proto}/{self.port_text()} from {self.source or 'any'}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Rule({self.key})"

    @classmethod
    def from_key(cls, key: str) -> Rule:
        """Parse what ``key`` produced; raises ValueError on foreign text."""
        m = re.match(r"^(tcp|udp)/(\d+)(?:-(\d+))?(?:,from=([0-9a-fA-F.:/]+))?$", key)
        if not m:
            raise ValueError(key)
        lo = int(m.group(2))
        hi = int(m.group(3)) if m.group(3) else lo
        return cls(m.group(1), lo, hi, m.group(4))


def comment_for(rule: Rule, comment: str | None = None) -> str:
    """The comment stored with a rule: marker, key, then the user's free text."""
    text = f"{MARK}:{rule.key}"
    if comment:
        text += " " + comment
    return text


def key_from_comment(comment: str) -> str | None:
    """The rule key inside one of our comments, or None for a foreign comment."""
    if not comment.startswith(MARK + ":"):
        return None
    return comment[len(MARK) + 1:].split(" ", 1)[0]


_COMMENT_OK = re.compile(r"^[A-Za-z0-9 _.,:/@+=-]{0,64}$")


def parse_ports(ports: list[t.Any]) -> list[tuple[int, int]]:
    """Ports as ints, strings, ``"8000-8010"`` or ``"8000:8010"`` ranges; validated, de-duplicated, ordered."""
    result: list[tuple[int, int]] = []
    if not ports:
        raise FirewallError("port: at least one port is required")
    for item in ports:
        text = str(item).strip()
        m = re.match(r"^(\d+)(?:\s*[-:]\s*(\d+))?$", text)
        if not m:
            raise FirewallError(f"port: {item!r} is not a port number or a range like 8000-8010")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        for p in (lo, hi):
            if not 1 <= p <= 65535:
                raise FirewallError(f"port: {p} is out of range (1-65535)")
        if hi < lo:
            raise FirewallError(f"port: range {text!r} ends before it starts")
        if (lo, hi) not in result:
            result.append((lo, hi))
    return result


def parse_sources(sources: list[str] | None) -> list[str | None]:
    """CIDRs (or single addresses) normalised to their network; ``[None]`` means anywhere."""
    if not sources:
        return [None]
    result: list[str | None] = []
    for src in sources:
        try:
            net = ipaddress.ip_network(str(src).strip(), strict=False)
        except ValueError as exc:
            raise FirewallError(f"source: {src!r} is not an IPv4 or IPv6 address or CIDR ({exc})") from None
        text = str(net)
        if text not in result:
            result.append(text)
    return result


def build_rules(ports: list[t.Any], protocol: str, sources: list[str] | None, comment: str | None = None) -> list[Rule]:
    if protocol not in ("tcp", "udp"):
        raise FirewallError(f"protocol: {protocol!r} must be tcp or udp")
    rules = []
    for lo, hi in parse_ports(ports):
        for src in parse_sources(sources):
            rules.append(Rule(protocol, lo, hi, src, comment))
    return rules


def build_wanted(entries: list[dict[str, t.Any]], defaults: dict[str, t.Any]) -> list[tuple[Rule, bool]]:
    """The ``rules`` option: each entry's rules with the state wanted for them, ``[(Rule, want_open), ...]``.

    An entry's missing ``protocol``, ``state``, ``source`` or ``comment`` is taken from ``defaults`` (the
    module's top-level options). A rule asked both open and closed is an error; repeats are merged.
    Errors name the entry (``rules[2].port: ...``).
    """
    if not entries:
        raise FirewallError("rules: at least one entry is required")
    wanted: dict[Rule, bool] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise FirewallError(f"rules[{i}]: each entry must be a dict with port (and protocol, state, source, comment)")
        merged = {k: defaults.get(k) if entry.get(k) is None else entry[k] for k in ("protocol", "state", "source", "comment")}
        if entry.get("port") in (None, "", []):
            raise FirewallError(f"rules[{i}].port: a port or a list of ports is required")
        ports = entry["port"] if isinstance(entry["port"], list) else [entry["port"]]
        if merged["state"] not in ("open", "closed"):
            raise FirewallError(f"rules[{i}].state: {merged['state']!r} must be open or closed")
        try:
            validate_comment(merged["comment"])
            rules = build_rules(ports, merged["protocol"] or "tcp", merged["source"], merged["comment"])
        except FirewallError as exc:
            raise FirewallError(f"rules[{i}].{exc}") from None
        for rule in rules:
            want = merged["state"] == "open"
            if wanted.get(rule, want) != want:
                raise FirewallError(f"rules[{i}]: {rule.key} is asked both open and closed")
            wanted.setdefault(rule, want)
    return list(wanted.items())


def validate_comment(comment: str | None) -> None:
    if comment and not _COMMENT_OK.match(comment):
        raise FirewallError("comment: use at most 64 characters from letters, digits, space and _ . , : / @ + = -")


class Plan:
    """What one run changes: rules added/removed, commands, file writes, service actions."""

    def __init__(self) -> None:
        self.added: list[Rule] = []
        self.removed: list[Rule] = []
        self.commands: list[list[str]] = []
        # (argv, stdin data) pairs; data is None for plain commands.
        self.steps: list[tuple[list[str], str | None]] = []
        self.files: dict[str, str] = {}
        self.saves: dict[str, str] = {}  # path -> save command whose output becomes the file after apply
        self.enable: bool = False
        self.extra: list[str] = []  # human-readable notes (e.g. "enable ufw after allowing ssh 22/tcp")
        self.undo: list[str] = []  # shell lines that revert the live change (rollback)
        self.ssh_guard: dict[str, t.Any] | None = None  # what the lockout guard found and did (enable only)

    def add_step(self, argv: list[str], data: str | None = None) -> None:
        self.steps.append((argv, data))
        self.commands.append(argv)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.steps or self.files or self.saves or self.enable)


class Backend:
    """Interface every firewall backend implements."""

    name = "base"
    # The lockout guard's reason when the backend never enables anything itself (None: "<name> is already active").
    guard_reason: str | None = None

    def __init__(self, runner: Runner, options: dict[str, t.Any] | None = None) -> None:
        self.runner = runner
        self.options = options or {}
        self.warnings: list[str] = []
        self._reads: dict[tuple[str, ...], tuple[int, str, str]] = {}

    @classmethod
    def create(cls, runner: Runner, options: dict[str, t.Any], which: Which) -> Backend:
        """The backend for this host: its tools found with ``which``."""
        return cls(runner, options)

    # Helpers -------------------------------------------------------------
    def run(self, argv: list[str], data: str | None = None, check: bool = True) -> tuple[int, str, str]:
        rc, out, err = self.runner(argv, data=data)
        if check and rc != 0:
            raise _failed(argv, rc, out, err)
        return rc, out, err

    def read_once_answer(self, argv: list[str]) -> tuple[int, str, str]:
        """The whole answer (rc, stdout, stderr) of a read-only command, a failure included, run once for the backend's
        lifetime (``allows`` asks once per port)."""
        key = tuple(argv)
        if key not in self._reads:
            self._reads[key] = self.run(argv, check=False)
        return self._reads[key]

    def read_once(self, argv: list[str]) -> str:
        """The output of a read-only command, run once for the backend's lifetime; FirewallError when it fails."""
        rc, out, err = self.read_once_answer(argv)
        if rc != 0:
            raise _failed(argv, rc, out, err)
        return out

    # Interface -------------------------------------------------------------
    def allows(self, port: int, proto: str = "tcp") -> dict[str, t.Any]:
        """Whether the live ruleset lets inbound ``proto/port`` in, read-only: ``{"allows": bool, "evidence": [...]}``.

        Every rule counts, not only the collection's own. Raises FirewallError when the rules cannot be read.
        """
        raise FirewallError(f"{self.name}: reading whether a port is allowed is not supported")

    def read_state(self) -> dict[str, t.Any]:
        """Return at least ``{"active": bool, "rules": {family: [Rule, ...]}}``."""
        raise NotImplementedError

    def plan(self, state: dict[str, t.Any], desired: list[Rule], want_open: bool) -> Plan:
        """The plan for one state (every rule of ``desired`` open, or every one closed)."""
        return self.plan_wanted(state, [(rule, want_open) for rule in desired])

    def plan_wanted(self, state: dict[str, t.Any], wanted: list[tuple[Rule, bool]]) -> Plan:
        """The plan for rules each with its own state: ``[(Rule, want_open), ...]``, applied in one change."""
        raise NotImplementedError

    def rule_comment(self, rule: Rule) -> str | None:
        """The free text a new rule is written with: its own, else the ``comment`` option."""
        return self.options.get("comment") if rule.comment is None else rule.comment

    def apply(self, plan: Plan) -> None:
        for argv, data in plan.steps:
            self.run(argv, data=data)
        for path, content in plan.files.items():
            write_file(path, content)

    def persist_paths(self) -> list[str]:
        """Files the backend may write; their old content is kept for rollback."""
        return []

    # Lockout guard -----------------------------------------------------------
    def ssh_rules(self, state: dict[str, t.Any], port: int) -> list[str]:
        """The rules, of any scope (source, interface, zone), that allow ``tcp/port`` once the firewall is in force."""
        return []

    def ssh_guard(self, state: dict[str, t.Any], reason: str) -> dict[str, t.Any]:
        """What the lockout guard finds for the SSH ports in ``options["ssh_ports"]``; nothing is added here.

        ``missing`` lists the ports no rule of any scope allows: the only ones a backend may add an allow for.
        """
        ports = [int(p) for p in self.options.get("ssh_ports") or []]
        existing: list[str] = []
        missing = []
        for port in ports:
            found = self.ssh_rules(state, port)
            existing += [text for text in found if text not in existing]
            if not found:
                missing.append(port)
        return {"ports": ports, "port_sources": dict(self.options.get("ssh_port_sources") or {}),
                "existing": existing, "missing": missing, "action": "none", "added": [], "reason": reason}


def port_in(port: int, spec: str, range_sep: str = ":") -> bool:
    """Whether ``port`` is in a port list such as ``22``, ``22,2222``, ``2000:2100`` or ``any``."""
    spec = spec.strip()
    if spec in ("any", "*", ""):
        return spec != ""
    for item in spec.split(","):
        lo, _sep, hi = item.strip().partition(range_sep)
        if lo.isdigit() and (hi or lo).isdigit() and int(lo) <= port <= int(hi or lo):
            return True
    return False


_PORT_NAMES = {"https": 443, "http": 80}


def spec_covers(spec: str, port: int) -> bool:
    """Whether a port list as firewalls print it holds ``port``: ``443``, ``{ 80, 443 }``, ``400-500``, ``https``."""
    spec = spec.strip().strip("{}").strip()
    for part in re.split(r"[,\s]+", spec):
        if _PORT_NAMES.get(part) == port:
            return True
        low, sep, high = part.partition("-")
        high = high if sep else low
        if low.isdigit() and high.isdigit() and int(low) <= port <= int(high):
            return True
    return False


def installed(reason: str) -> Check:
    """A detection check that holds when every binary of the backend is installed."""
    def check(runner: Runner, which: Which, enable: bool, binaries: t.Sequence[str]) -> str | None:
        return reason if all(which(b) for b in binaries) else None
    return check


def installed_if_enable(reason: str) -> Check:
    """A detection check that holds with enable=true when every binary of the backend is installed."""
    def check(runner: Runner, which: Which, enable: bool, binaries: t.Sequence[str]) -> str | None:
        return reason if enable and all(which(b) for b in binaries) else None
    return check


# Read-only commands whose output is the same for the detection and the backend within one run.
CACHED_READS = (("status",), ("--state",), ("-j", "-a", "list", "ruleset"))


def read_cache(runner: Runner) -> tuple[Runner, t.Callable[[], None]]:
    """A runner that runs each read of ``CACHED_READS`` once, and the function that drops what it keeps.

    Drop it before changing anything: a read after a change must see the change.
    """
    cache: dict[tuple[str, ...], tuple[int, str, str]] = {}

    def run(argv: list[str], data: str | None = None) -> tuple[int, str, str]:
        key = tuple(argv)
        if data is None and tuple(argv[1:]) in CACHED_READS:
            if key not in cache:
                cache[key] = runner(argv, data=data)
            return cache[key]
        return runner(argv, data=data)

    return run, cache.clear


def write_file(path: str, content: str, mode: int = 0o644) -> None:
    import os
    import tempfile

    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".port443-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_file(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def rules_by_family(rules: t.Iterable[Rule]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"ipv4": [], "ipv6": []}
    for rule in rules:
        for fam in rule.families():
            text = rule.describe()
            if text not in out[fam]:
                out[fam].append(text)
    return {fam: sorted(v) for fam, v in out.items()}


def render_rules(by_family: dict[str, list[str]]) -> str:
    lines = []
    for fam in ("ipv4", "ipv6"):
        for text in by_family.get(fam, []):
            lines.append(f"{fam}: {text}")
    return "\n".join(lines) + ("\n" if lines else "")


def shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
