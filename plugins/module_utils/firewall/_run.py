# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""One run of the firewall_port module, without Ansible: options in, result out.

The order is the safety: validate every option before touching anything; check the backend's packages (change
nothing when one is missing); take the run lock and settle the rollback an earlier run left; choose the backend;
read, plan (with the boot service and the lockout guard); refuse a change an earlier pending rollback would undo;
arm the rollback, apply, then restart its timer so the window counts from the end of the change.
The ``observe`` rules are only read: for each, whether opening it and whether closing it would change anything,
from a fresh read after the change in a real run that changed something (else from the run's own read).
"""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _packages as packages

from . import rollback
from .base import Backend, FirewallError, Plan, Rule, Runner, Which, build_rules, build_wanted, read_cache, render_rules, validate_comment
from .detect import detect_backend, ssh_ports
from ._registry import create, get, require


class RunFailed(Exception):
    """The run stops with one clear message; ``result`` holds what is known so far (returned with the failure)."""

    def __init__(self, msg: str, **result: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


def rule_dict(rule: Rule) -> dict[str, t.Any]:
    return {"protocol": rule.proto, "port": rule.port_text("-"), "source": rule.source, "families": rule.families()}


class FirewallRun:
    """The module's options (``params``, as the argument spec fills them), the host's commands and tools."""

    def __init__(self, params: dict[str, t.Any], run_command: Runner, which: Which, check_mode: bool = False,
                 diff: bool = False, environ: t.Mapping[str, str] | None = None) -> None:
        self.p = params
        self.run_command = run_command
        # The backend detection and the backend read the same status once (ufw status, firewall-cmd --state, nft -j -a
        # list ruleset); the cache is dropped before anything changes.
        self.runner, self.drop_cache = read_cache(run_command)
        self.which = which
        self.check_mode = check_mode
        self.diff = diff
        self.environ = environ or {}
        self.warnings: list[str] = []
        self.observe: list[tuple[dict[str, t.Any], list[Rule]]] = []
        # The backend's options as plan() built them: the read after the change uses the same.
        self.options: dict[str, t.Any] = {}

    def execute(self) -> dict[str, t.Any]:
        """The module's result; raises RunFailed. ``warnings`` holds what the module must warn about either way."""
        if self.p["confirm"]:
            return self.confirm()
        wanted = self.validate()
        # The backend's packages: when one is missing, change nothing and say which (the caller installs them first).
        names = list(self.p["packages"] or []) + (list(get(self.p["backend"]).packages) if self.p.get("check_packages") else [])
        absent = packages.missing(self.run_command, list(dict.fromkeys(names)))
        if absent:
            return {"changed": False, "missing_packages": absent, **self.nothing()}
        earlier = self.settle()
        name, reason = self.choose()
        result: dict[str, t.Any] = {"backend": name, "backend_reason": reason}
        backend, state, plan = self.plan(name, wanted, result)
        self.report(name, state, plan, earlier, result)
        self.drop_cache()
        if plan.changed and not self.check_mode:
            self.apply(backend, plan, result)
            if self.observe:
                self.observe_after(name, result)
        elif plan.changed and self.p["rollback_timeout"]:
            result["rollback"]["would_arm"] = True
        self.warnings += backend.warnings
        return result

    def nothing(self) -> dict[str, t.Any]:
        return {"backend": self.p["backend"], "rules_added": [], "rules_removed": [], "commands": [], "files": []}

    # 1. Validate everything before touching anything.
    def validate(self) -> list[tuple[Rule, bool]]:
        p = self.p
        try:
            validate_comment(p["comment"])
            self.observe = self.observed_rules()
            if p["rules"] is not None:
                wanted = build_wanted(p["rules"], p)
            else:
                wanted = [(rule, p["state"] == "open") for rule in build_rules(p["port"], p["protocol"], p["source"])]
            if p["rollback_timeout"] is not None and not 1 <= p["rollback_timeout"] <= 86400:
                raise FirewallError("rollback_timeout: use 1 to 86400 seconds")
            for port in p["ssh_ports"] or []:
                if not 1 <= port <= 65535:
                    raise FirewallError(f"ssh_ports: {port} is out of range (1-65535)")
            if p.get("check_packages") and p["backend"] == "auto":
                raise FirewallError("check_packages: needs a backend other than auto (the packages are those of the backend)")
        except FirewallError as exc:
            raise RunFailed(str(exc)) from None
        return wanted

    def observed_rules(self) -> list[tuple[dict[str, t.Any], list[Rule]]]:
        """The ``observe`` option: each entry with its rules, built as ``rules`` builds them (same defaults)."""
        found = []
        for i, entry in enumerate(self.p.get("observe") or []):
            if not isinstance(entry, dict) or entry.get("state") is not None:
                raise FirewallError(f"observe[{i}]: each entry is a dict with port (and protocol, source, comment), no state")
            try:
                rules = [rule for rule, dummy in build_wanted([dict(entry, state="open")], self.p)]
            except FirewallError as exc:
                raise FirewallError(f"observe[{i}]" + str(exc)[len("rules[0]"):]) from None
            found.append((entry, rules))
        return found

    def observations(self, backend: Backend, state: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        """For each ``observe`` entry: whether a run opening it (``open``) or closing it (``closed``) would change nothing."""
        out = []
        for entry, rules in self.observe:
            first = rules[0]
            out.append({
                "port": [str(port) for port in entry["port"]] if isinstance(entry["port"], list) else [str(entry["port"])],
                "protocol": first.proto,
                "source": self.p["source"] if entry.get("source") is None else entry["source"],
                "open": not backend.plan_wanted(state, [(rule, True) for rule in rules]).changed,
                "closed": not backend.plan_wanted(state, [(rule, False) for rule in rules]).changed,
            })
        return out

    def observe_after(self, name: str, result: dict[str, t.Any]) -> None:
        """After a change: ``observed`` from a fresh read of the firewall; left out when that read fails (never stale)."""
        self.drop_cache()
        try:
            backend = create(name, self.runner, self.options, self.which)
            result["observed"] = self.observations(backend, backend.read_state())
        except (FirewallError, OSError):
            pass  # no observed: the caller reads the rules itself

    def confirm(self) -> dict[str, t.Any]:
        """Disarm every pending rollback generation."""
        try:
            rollback.Lock(create=not self.check_mode).acquire()
            earlier = rollback.settle(self.runner, self.which, self.check_mode)
            if earlier.get("expired"):
                raise RunFailed("too late to confirm: " + earlier["message"], rollback={"armed": False, "earlier": earlier})
            confirmed = rollback.confirm(self.runner, self.which, self.check_mode)
        except (OSError, RuntimeError) as exc:
            raise RunFailed(f"cannot disarm the rollback: {exc}") from None
        info: dict[str, t.Any] = {"armed": False, "confirmed": confirmed > 0, "generations": confirmed}
        if earlier.get("stale"):
            info["earlier"] = earlier
            self.warnings.append(earlier["message"])
        return {"changed": confirmed > 0 or bool(earlier.get("stale")), "rollback": info, **self.nothing()}

    # 2. Serialise with other runs and with the rollback restore: the lock is held until the process exits.
    def settle(self) -> dict[str, t.Any]:
        try:
            rollback.Lock(create=not self.check_mode).acquire()
            earlier = rollback.settle(self.runner, self.which, self.check_mode)
        except rollback.RollbackError as exc:
            raise RunFailed(str(exc)) from None
        except OSError as exc:
            raise RunFailed(f"cannot settle the rollback of an earlier run: {exc}") from None
        if earlier.get("stale") or earlier.get("expired"):
            self.warnings.append(earlier["message"])
        return earlier

    # 3. Choose the backend.
    def choose(self) -> tuple[str, str]:
        try:
            if self.p["backend"] == "auto":
                return detect_backend(self.runner, self.which, enable=self.p["enable"])
            return require(self.p["backend"], self.which).name, "requested"
        except FirewallError as exc:
            raise RunFailed(str(exc)) from None

    # 4. Read and plan: the rules, the boot service, the lockout guard.
    def plan(self, name: str, wanted: list[tuple[Rule, bool]], result: dict[str, t.Any]) -> tuple[Backend, dict[str, t.Any], Plan]:
        p = self.p
        options = {"comment": p["comment"], "persistent": p["persistent"], "enable": p["enable"], "zone": p["zone"]}
        found: dict[str, t.Any] = {}
        if p["enable"]:
            found = ssh_ports(self.environ, self.runner, self.which, explicit=p["ssh_ports"] or ())
            options["ssh_ports"] = found["ports"]
            options["ssh_port_sources"] = found["port_sources"]
            result["ssh_port"] = found["ports"][0]
        self.options = options
        backend = create(name, self.runner, options, self.which)
        try:
            state = backend.read_state()
            if self.observe:
                result["observed"] = self.observations(backend, state)
            plan = backend.plan_wanted(state, wanted)
            if p["enable"]:
                self.plan_boot_service(name, backend, plan)
                guard = plan.ssh_guard or backend.ssh_guard(state, backend.guard_reason or f"{name} is already active: nothing is enabled")
                guard["notes"] = found["notes"]
                result["ssh_guard"] = guard
        except FirewallError as exc:
            raise RunFailed(str(exc), backend=name, backend_reason=result["backend_reason"]) from None
        return backend, state, plan

    def plan_boot_service(self, name: str, backend: Backend, plan: Plan) -> None:
        """enable=true: the unit that loads the persisted rules at boot is enabled when it is not."""
        svc = get(name).boot_service
        systemctl = self.which("systemctl")
        if not (svc and systemctl):
            return
        rc, out, err = self.runner([systemctl, "is-enabled", svc])
        if out.strip() in ("enabled", "enabled-runtime", "static", "alias"):
            return
        if rc == 4 or "not-found" in out or "No such file" in err:
            backend.warnings.append(f"{svc}.service is not installed: persisted rules are not loaded at boot")
        else:
            plan.add_step([systemctl, "enable", svc])
            plan.enable = True
            plan.extra.append(f"enable {svc}.service so the persisted rules load at boot")

    # 5. What the run changes (or would), and the rollback an earlier run left.
    def report(self, name: str, state: dict[str, t.Any], plan: Plan, earlier: dict[str, t.Any], result: dict[str, t.Any]) -> None:
        before = state["rules"]
        after = {fam: list(v) for fam, v in before.items()}
        for rule in plan.added:
            for fam in rule.families():
                if rule.describe() not in after[fam]:
                    after[fam].append(rule.describe())
        for rule in plan.removed:
            for fam in rule.families():
                if rule.describe() in after[fam]:
                    after[fam].remove(rule.describe())
        after = {fam: sorted(v) for fam, v in after.items()}
        result.update(
            changed=plan.changed,
            active=bool(state.get("active")),
            rules_added=[rule_dict(r) for r in plan.added],
            rules_removed=[rule_dict(r) for r in plan.removed],
            commands=list(plan.commands),
            files=sorted(set(plan.files) | set(plan.saves)),
            rules=after,
            notes=list(plan.extra),
        )
        if self.diff:
            result["diff"] = {"before": render_rules(before), "after": render_rules(after),
                              "before_header": f"{name} rules (before)", "after_header": f"{name} rules (after)"}
        timeout = self.p["rollback_timeout"]
        if timeout or earlier:
            result["rollback"] = {"armed": False, "timeout": timeout}
            if earlier:
                result["rollback"]["earlier"] = earlier
        if plan.changed and earlier.get("pending") and not timeout:
            # A rollback of an earlier run would put back files this change writes: refuse rather than let it undo this run.
            raise RunFailed(f"nothing changed: a commit-confirmed change of an earlier run is pending (armed at"
                            f" {earlier['armed_at']}, reverted in {earlier['due_in']} s unless confirmed). Confirm it first"
                            " (confirm=true), or give rollback_timeout so this change is rolled back with it", **result)

    # 6. Arm the rollback, apply, restart the rollback timer.
    def apply(self, backend: Backend, plan: Plan, result: dict[str, t.Any]) -> None:
        timeout = self.p["rollback_timeout"]
        paths = backend.persist_paths()
        if timeout:
            try:
                result["rollback"].update(rollback.arm(self.runner, plan, paths, timeout, self.which))
            except (OSError, RuntimeError) as exc:
                raise RunFailed(f"nothing changed: cannot arm the rollback: {exc}", **result) from None
        # Read before the change: from here on it is no longer what the firewall holds (observe_after reads again).
        result.pop("observed", None)
        try:
            backend.apply(plan)
        except (FirewallError, OSError) as exc:
            if timeout:
                rollback.seal(paths, result["rollback"]["generation"])
            raise RunFailed(f"applying the change failed: {exc}", **result) from None
        if timeout:
            # Armed before the change (in case applying it cuts us off); the window counts from the end of the change.
            try:
                rollback.seal(paths, result["rollback"]["generation"])
                result["rollback"].update(rollback.start_timer(self.runner, timeout, self.which, result["rollback"]["generation"]))
            except (OSError, RuntimeError) as exc:
                raise RunFailed(f"the change is applied but the rollback timer could not be restarted: {exc}", **result) from None
