# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Action plugin of port443.https.webserver_state: the webserver role's read-only state step. It asks the host once
(the webserver_state module), renders the role's templates with the task's variables the way the template action
does, and compares: whatever differs, or cannot be checked, is drift and sends the role down its full path."""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.module_utils.webserver import _decisions, _servers, _webserver_state
from ansible_collections.port443.https.plugins.plugin_utils import _templates


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _eval(self, variables: dict[str, t.Any], expression: str, **extra: t.Any) -> t.Any:
        templar = self._templar.copy_with_new_env(available_variables=dict(variables, **extra))
        return templar.template(_templates.trust_as_template(expression))

    def _render(self, variables: dict[str, t.Any], template: str, dest: str) -> str:
        return _templates.render(self, variables, template, dest)

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        variables = dict(task_vars or {})
        result.update(changed=False, drift=[], facts={})
        self._os: dict[str, str] = {}
        self._missing_packages: list[str] | None = None
        self._read: dict[str, t.Any] | None = None
        try:
            drift, facts = self._state(variables)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Whatever cannot be worked out here is left to the full path (which reports it in its own words).
            drift, facts = [f"state not known: {exc}"], {}
        result.update(drift=drift, converged=not drift, facts=facts, os=self._os, missing_packages=self._missing_packages,
                      read=self._read)
        if not drift and "webserver_tls" in facts:
            # A host fact (kept by a fact cache, as the full path's set_fact keeps it): a later verify_https run reads
            # what the host's stack speaks without contacting it.
            result["ansible_facts"] = {"webserver_tls": facts["webserver_tls"], "webserver_h3": facts["webserver_h3"]}
        return result

    def _state(self, variables: dict[str, t.Any]) -> tuple[list[str], dict[str, t.Any]]:
        """The role's decisions (the same functions its tasks call through filters), the host's answer, the templates
        rendered with the role's variables: what drifts, and the facts the full path would set."""
        ev = self._eval
        # The options the role checks (converge.yml: port443.https.webserver_input_errors); a refusal is drift, so the
        # full path runs and stops with it. The OS family is checked below when the facts do not say it.
        host_facts = variables.get("ansible_facts") or {}
        os_family = host_facts.get("os_family")
        refusals = _decisions.check_input(**ev(variables, "{{ __webserver_options }}"), os_family=os_family or "Debian",
                                          distribution=host_facts.get("distribution"))
        if refusals:
            return ["refused options: " + " ".join(refusals)], {}
        server = ev(variables, "{{ webserver_server }}")
        registry = _servers.facts(server)
        live_root = registry["live_root"]
        candidate_dir = f"{ev(variables, '{{ webserver_candidate_dir }}')}/{server}"
        given = ev(variables, "{{ __webserver_vhosts_given }}")
        spec = {
            "server": server,
            "packages": ev(variables, "{{ __webserver_packages }}"),
            # The same paths the full path stats (vhosts.yml).
            "vhost_certs": [{"name": v["name"], "own": True, "cert_file": v["cert_file"] or "/nonexistent",
                             "key_file": v["key_file"] or "/nonexistent",
                             "files": [[what, path or "/nonexistent"] for what, path in v["tls_files"]],
                             "copies": v["cert_copies"]}
                            for v in given if not v["caddy_automatic_https"]],
            "dirs": ev(variables, "{{ __webserver_dirs }}"),
            "content_roots": ev(variables, "{{ __webserver_content_roots if webserver_placeholder_page | bool else [] }}"),
            "index_names": registry["index_names"],
            "cert_copy_dir": registry["cert_copy_dir"],
            "client_cas": [{"name": v["name"], "client_ca": v["client_ca"]} for v in given if v["client_ca"]],
            "client_ca_dir": ev(variables, "{{ __webserver_client_ca_dir }}"),
            "live_conf": [f"{live_root}/{f['rel']}" for f in registry["conf_files"]],
            "files": sorted({f"{live_root}/{f['rel']}" for f in registry["all_files"]}
                            | {f"{candidate_dir}/{f['name']}" for f in registry["all_files"]}),
            "candidate_dir": candidate_dir,
            "default_site": registry["default_site"] if ev(variables, "{{ webserver_remove_default_site | bool }}") else "",
            "modules": [f"{live_root}/mods-enabled/{m}.load" for m in registry["module_candidates"]],
            # The sites the server already serves: a conflict, a refused takeover or a link still to remove is drift.
            "sites": {"vhosts": [{"name": v["name"], "server_names": v.get("server_names") or [],
                                  "takeover": _decisions.to_bool(v.get("takeover", False))}
                                 for v in ev(variables, "{{ webserver_vhosts }}")]},
            "service": registry["service"],
            # A drop-in that adds to the server's command line, and the helper units (HAProxy's ACME server).
            "cmdline_needs": _servers.get(server).cmdline_needs,
            "unit_services": [u["service"] for u in registry["units"] if u["service"]],
        }
        spec["files"] = sorted(set(spec["files"]) | {u["dest"] for u in registry["units"]})
        if registry["main_file"]:
            # Who owns the main file: the same decision as the full path's caddy_main.yml (caddyfile_info).
            spec["caddyfile"] = {"path": registry["main_file"], "site_file": registry["site_file"],
                                 "takeover": ev(variables, "{{ webserver_caddy_caddyfile }}"),
                                 "http2": ev(variables, "{{ webserver_http2 | bool }}")}
        host = self._execute_module(module_name="port443.https.webserver_state", module_args={"spec": spec},
                                    task_vars=variables)
        if host.get("failed"):
            return [f"the host could not be inspected: {host.get('msg', '')}"], {}
        drift = list(host["drift"])
        if registry["main_file"]:
            # The files to render depend on the decision; a refusal is drift (the full path stops with it).
            variables["__webserver_caddy_main"] = host["caddyfile"]
        # The host's own os-release where the play gathered no facts: the full path reads it too (converge.yml).
        self._os = host["os"]
        self._missing_packages = host.get("missing_packages")
        # What the full path would read again (converge.yml reads it from here: one read of the host per state).
        self._read = {
            "tls_probe": host["tls_probe"], "version": host.get("version", ""), "version_failed": host.get("version_failed", False),
            "sites": host.get("sites"), "roots": host["roots"], "port_refusal": host.get("port_refusal", ""),
            "cert_files": [{"name": v["name"], "what": what, "path": path, "exists": exists}
                           for v, found in zip([v for v in given if not v["caddy_automatic_https"]], host["cert_files"])
                           for (what, path), exists in zip(v["tls_files"], found)],
        }
        if os_family is None and host["os"]["os_family"] != "Debian":
            drift.append("not a host of the Debian OS family")

        tls = _decisions.tls_facts(host["tls_probe"], server=server, guideline=ev(variables, "{{ __webserver_guideline }}"),
                                   profile=ev(variables, "{{ webserver_tls_profile }}"))
        variables.update(webserver_tls=tls, __webserver_tls_pq=tls["pq"])

        missing = host["missing"]
        if missing and ev(variables, "{{ webserver_missing_certificate }}") == "fail":
            drift.append("no certificate or key for " + ", ".join(missing))
        downgrade = [name for name in missing if name in host["tls_served"]]
        if downgrade:
            # http_only would swap TLS off: the full path refuses it (vhosts.yml).
            drift.append("no certificate or key for " + ", ".join(downgrade) + ", which the live configuration serves over TLS")
        # HTTP/3: the same decision as the full path's tls_library.yml (port443.https.webserver_http3); a refusal is
        # drift (the full path stops with it).
        http3 = _decisions.http3(ev(variables, "{{ webserver_vhosts }}"), version_output=host.get("version", ""),
                                 caddy_main=host.get("caddyfile") if registry["main_file"] else None,
                                 **ev(variables, "{{ __webserver_http3_args }}"))
        variables["__webserver_http3"] = http3
        drift += [f"refused: {error}" for error in http3["errors"]]
        variables["__webserver_takeover"] = host["takeover"]
        variables["__webserver_vhosts"] = _decisions.vhosts_settings(
            ev(variables, "{{ webserver_vhosts }}"), defaults=ev(variables, "{{ __webserver_vhost_defaults }}"),
            missing=missing, takeover=host["takeover"], no_ocsp=host.get("no_ocsp") or [])
        drift += [f"{path} is missing" for path in (f"{live_root}/mods-enabled/{m}.load"
                                                    for m in ev(variables, "{{ __webserver_modules }}"))
                  if not host["modules_present"].get(path)]
        variables["__webserver_client_ca_files"] = host["client_ca_files"]
        variables["__webserver_version"] = {"stderr": host.get("version", "")}
        if ev(variables, "{{ certificate_changed | default(false) | bool }}"):
            drift.append("the certificate changed (certificate_changed): a reload is due")

        expected = {}
        if not any(d.startswith("client_ca of ") for d in drift):
            for item in ev(variables, "{{ __webserver_files }}"):
                live = f"{live_root}/{item['rel']}"
                text = self._render(variables, item["template"], live)
                expected[live] = expected[f"{candidate_dir}/{item['name']}"] = text
            for unit in registry["units"]:
                expected[unit["dest"]] = self._render(variables, unit["template"], unit["dest"])
            drift += _webserver_state.compare_files(expected, host["files"])
        facts = {"webserver_tls": tls, "__webserver_vhosts": variables["__webserver_vhosts"],
                 "webserver_h3": dict(http3, vhosts=_decisions.http3_served(variables["__webserver_vhosts"])),
                 "__webserver_tls_pq": tls["pq"], "tls_served": host["tls_served"],
                 "no_ocsp": host.get("no_ocsp") or []}
        return drift, facts
