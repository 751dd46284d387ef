# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_state_info: the role's input checks and the internal CA's state on the controller, then the
host's state through the module of the same name (documentation in plugins/modules/certificate_state_info.py)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.module_utils.certificate import _certstate, _hostrenew
from ansible_collections.port443.https.plugins.module_utils.host import _os
from ansible_collections.port443.https.plugins.module_utils.webserver import _servers

MODULE = "port443.https.certificate_state_info"
# Options the action consumes; the rest go to the module on the host.
_ACTION_ONLY = ("full_path_reasons", "provided_complete", "os_family", "ca", "alternates", "key_types",
                "host_renewal_server")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        result["changed"] = False

        gathered = task_vars.get("ansible_facts", {})
        found = {"os_family": args.get("os_family") or gathered.get("os_family"), "distribution": gathered.get("distribution")}
        reasons = list(args.get("full_path_reasons") or [])
        run_module = args.get("source") in _certstate.DECIDED_SOURCES and not reasons
        if not found["os_family"] and not run_module:
            # No facts gathered and no module to run: the host's os-release, read with one plain command (no module,
            # no fact gathering). Where the module runs, it reads os-release itself first (require_os_family).
            read = self._low_level_execute_command(f"cat {_os.PATH} 2>/dev/null || cat /usr/lib/os-release", sudoable=False)
            found = _os.facts(read.get("stdout") if read.get("rc") == 0 else None)
        refusal = _os.refusal("certificate", found) if found["os_family"] else ""
        if refusal:
            raise AnsibleActionFail(refusal)
        self._check_settings(args)

        missing_packages = None
        exists: list[t.Any] = []
        if run_module:
            module_args = {k: v for k, v in args.items() if k not in _ACTION_ONLY}
            if not found["os_family"] and not module_args.get("require_os_family"):
                module_args["require_os_family"] = _os.FAMILY
            if args["source"] == "internal_ca":
                ca = args.get("ca") or {}
                if ca.get("on_controller"):
                    try:
                        ca_reasons, ca_pem = _certstate.ca_state({
                            "ca_dir": ca["dir"], "passphrase": ca.get("passphrase") or "",
                            "common_name": ca["common_name"], "permitted": ca.get("permitted") or [],
                            "ca_paths": {"key": ca["key"], "cert": ca["cert"], "constraints": ca["constraints"]},
                        })
                    except KeyError as exc:
                        raise AnsibleActionFail(f"ca.{exc.args[0]}: required with source internal_ca") from None
                    reasons += ca_reasons
                    module_args["ca_cert"] = ca_pem
                else:
                    reasons.append("internal CA: not on the controller (always the full path)")
            host = self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
            if host.get("failed"):
                return host
            reasons += host.get("reasons", [])
            missing_packages = host.get("missing_packages")
            exists = [host.get("exists")]
            # Dual certificates: the second key type's files, the same checks, its reasons named by its type.
            for alternate in args.get("alternates") or []:
                other = dict(module_args, key_type=alternate["key_type"], cert_path=alternate["cert"],
                             key_path=alternate["key"], fullchain_path=alternate["fullchain"],
                             chain_path=alternate.get("chain"), packages=[])
                host = self._execute_module(MODULE, module_args=other, task_vars=task_vars)
                if host.get("failed"):
                    return host
                reasons += [f"{alternate['key_type']} certificate: {r}" for r in host.get("reasons", [])]
                exists.append(host.get("exists"))
        elif not reasons:
            reasons.append(f"source {args.get('source')}: always takes the full path")
        result.update(drift=bool(reasons), reasons=reasons, missing_packages=missing_packages)
        if exists and all(isinstance(found, bool) for found in exists):
            result["exists"] = exists
        return result

    @staticmethod
    def _check_settings(args: dict[str, t.Any]) -> None:
        """The role's input checks, one message naming the role's variables."""
        problems = []
        if args.get("source") not in ("selfsigned", "internal_ca", "provided", "acme"):
            problems.append(f"certificate_source must be one of selfsigned, internal_ca, provided, acme (got {args.get('source')!r})")
        if not args.get("sans"):
            problems.append("certificate_sans must not be empty")
        if args.get("key_type", "ECC") not in ("ECC", "RSA"):
            problems.append(f"certificate_key_type must be ECC or RSA (got {args.get('key_type')!r})")
        key_types = list(args.get("key_types") or [])
        if key_types and (len(set(key_types)) != len(key_types) or not set(key_types) <= {"ECC", "RSA"}):
            problems.append(f"certificate_key_types must list ECC and RSA, each at most once (got {key_types!r})")
        elif len(key_types) > 1 and args.get("source") == "provided":
            problems.append("certificate_key_types with two key types needs certificate_source selfsigned, internal_ca or acme "
                            "(a provided certificate is one certificate and key)")
        if args.get("host_renewal_server"):
            problems += _hostrenew.settings_problems(args["host_renewal_server"], key_types, _servers.NAMES)
        if args.get("source") == "provided" and not _bool(args.get("provided_complete", True)):
            problems.append("the provided source needs certificate_provided_cert and certificate_provided_key")
        if problems:
            raise AnsibleActionFail("; ".join(problems) + ".")


def _bool(value: t.Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
