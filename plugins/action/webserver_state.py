# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Action plugin of port443.https.webserver_state: the webserver role's read-only state step. It asks the host once
(the webserver_state module), renders the role's templates with the task's variables the way the template action
does, and compares: whatever differs, or cannot be checked, is drift and sends the role down its full path."""

from __future__ import annotations

import os
import typing as t

from ansible.plugins.action import ActionBase

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19
    def trust_as_template(value: t.Any) -> t.Any:
        return value

try:
    from ansible._internal._templating._template_vars import generate_ansible_template_vars
except ImportError:  # other ansible-core versions: ansible_managed is not rendered the same, which only costs drift
    generate_ansible_template_vars = None

from ansible_collections.port443.https.plugins.module_utils.webserver import _webserver_state

# The same expressions as the role's tls_library.yml and vhosts.yml, evaluated with the same variables.
_PQ = """{{ (__openssl is version('3.5.0', '>=')) if webserver_server != 'caddy'
 else (__go is version('1.24', '>=') and __caddy is version('2.10.0', '>=')) }}"""
_LIBRARY = """{{ ('OpenSSL ' ~ __openssl) if webserver_server != 'caddy' else ('Go ' ~ __go ~ ' (Caddy ' ~ __caddy ~ ')') }}"""
_VERSIONS = {
    "__openssl": r"""{{ __webserver_tls_openssl.stdout | default('') | regex_search('OpenSSL ([0-9]+\.[0-9]+\.[0-9]+)', '\1')
         | default(['0.0.0'], true) | first }}""",
    "__go": r"""{{ __webserver_tls_caddy.stdout | default('') | regex_search('(?m)^go\s+go([0-9]+\.[0-9]+)', '\1')
         | default(['0.0'], true) | first }}""",
    "__caddy": r"""{{ __webserver_tls_caddy.stdout | default('') | regex_search('(?m)^v?([0-9]+\.[0-9]+\.[0-9]+)', '\1')
         | default(['0.0.0'], true) | first }}""",
}
_TLS = """{{ {'guideline': __webserver_guideline, 'profile': webserver_tls_profile, 'library': __webserver_tls_library,
 'pq': __webserver_tls_pq | bool, 'groups': __profile.groups, 'dhparam': __profile.dhparam} }}"""
_PROFILE = """{{ webserver_tls_profile | port443.https.tls_profile(webserver_server, __webserver_guideline,
 pq=__webserver_tls_pq | bool) }}"""
_VHOST = """{{ {
  'name': v.name, 'server_names': v.server_names,
  'cert_file': v.cert_file | default(__webserver_default_tls.cert_file),
  'key_file': v.key_file | default(__webserver_default_tls.key_file),
  'tls_profile': v.tls_profile | default(webserver_tls_profile),
  'root': v.root | default(''), 'upstream': v.upstream | default(''),
  'hsts_max_age': v.hsts_max_age | default(webserver_hsts_max_age) | int,
  'hsts_include_subdomains': v.hsts_include_subdomains | default(webserver_hsts_include_subdomains) | bool,
  'hsts_preload': v.hsts_preload | default(webserver_hsts_preload) | bool,
  'ocsp_stapling': v.ocsp_stapling | default(webserver_ocsp_stapling) | bool,
  'http2': v.http2 | default(webserver_http2) | bool,
  'caddy_automatic_https': v.caddy_automatic_https | default(false) | bool,
  'extra_directives': v.extra_directives | default([]),
  'client_ca': v.client_ca | default('', true) | string, 'client_verify': v.client_verify | default('required'),
  'tls_ready': v.name not in __webserver_missing,
  'takeover_body': ((__webserver_takeover | default({}))[v.name] | default({})).body | default([]),
  'probe': {'host': v.server_names[0], 'address': webserver_verify_address}} }}"""
# vhosts.yml stats these paths ('' falls back to certificate_files, then to a path that does not exist).
_CERT_PATH = """{{ v[key] | default(__webserver_default_tls[key], true) | default('/nonexistent', true) }}"""
_OPTIONS = ("webserver_server", "webserver_vhosts", "webserver_tls_guideline", "webserver_tls_profile",
            "webserver_missing_certificate", "webserver_stage_dir", "webserver_candidate_dir", "webserver_caddy_caddyfile")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _eval(self, variables: dict[str, t.Any], expression: str, **extra: t.Any) -> t.Any:
        templar = self._templar.copy_with_new_env(available_variables=dict(variables, **extra))
        return templar.template(trust_as_template(expression))

    def _render(self, variables: dict[str, t.Any], template: str, dest: str) -> str:
        source = self._find_needle("templates", template)
        data = trust_as_template(self._loader.get_text_file_contents(source))
        temp_vars = dict(variables)
        if generate_ansible_template_vars is not None:
            temp_vars.update(generate_ansible_template_vars(path=template, fullpath=source, dest_path=dest,
                                                            include_ansible_managed="ansible_managed" not in temp_vars))
        searchpath = []
        for path in list(variables.get("ansible_search_path", [])) + [self._loader._basedir, os.path.dirname(source)]:
            searchpath += [os.path.join(path, "templates"), path]
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=temp_vars)
        # The template action's defaults: trim_blocks on, lstrip_blocks off, \n line ends.
        overrides = {"trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"}
        text = templar.template(data, escape_backslashes=False, overrides=overrides)
        return "" if text is None else str(text)

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        variables = dict(task_vars or {})
        result.update(changed=False, drift=[], facts={})
        try:
            drift, facts = self._state(variables)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Whatever cannot be worked out here is left to the full path (which reports it in its own words).
            drift, facts = [f"state not known: {exc}"], {}
        result.update(drift=drift, converged=not drift, facts=facts)
        if not drift and "webserver_tls" in facts:
            # A host fact (kept by a fact cache, as the full path's set_fact keeps it): a later verify_https run reads
            # what the host's stack speaks without contacting it.
            result["ansible_facts"] = {"webserver_tls": facts["webserver_tls"]}
        return result

    def _state(self, variables: dict[str, t.Any]) -> tuple[list[str], dict[str, t.Any]]:
        options = {name: self._eval(variables, "{{ %s }}" % name) for name in _OPTIONS}
        doubt = _webserver_state.inputs_in_doubt(options, self._eval(variables, "{{ __webserver_guideline_profiles }}"))
        if doubt:
            return ["options the role checks: " + ", ".join(doubt)], {}
        os_family = (variables.get("ansible_facts") or {}).get("os_family")
        server = options["webserver_server"]
        server_vars = self._loader.load_from_file(self._find_needle("vars", f"{server}.yml"), trusted_as_template=True)
        variables.update(server_vars)
        ev = self._eval
        vhosts = options["webserver_vhosts"]
        install, verify = ev(variables, "{{ webserver_install | bool }}"), ev(variables, "{{ webserver_verify | bool }}")
        live_root = ev(variables, "{{ __webserver_live_root }}")
        candidate_dir = f"{ev(variables, '{{ webserver_candidate_dir }}')}/{server}"
        all_files = ev(variables, "{{ __webserver_conf_files | default(__webserver_files) + __webserver_dh_files }}")
        own = [v for v in vhosts if not v.get("caddy_automatic_https")]
        roots = ev(variables, "{{ __webserver_served_vhosts | selectattr('upstream', 'undefined') | map(attribute='root', default='')"
                              " | map('default', '/var/www/html', true) | map('regex_replace', '(?<=.)/+$', '') | unique | list }}")
        spec = {
            "server": server,
            "packages": (ev(variables, "{{ __webserver_package }}") + (["python3-cryptography"] if verify else []))
            if install else [],
            "tls_linked": ev(variables, "{{ __webserver_tls_linked }}"),
            "vhost_certs": [{"name": v["name"], "own": True,
                             "cert_file": ev(variables, _CERT_PATH, v=v, key="cert_file"),
                             "key_file": ev(variables, _CERT_PATH, v=v, key="key_file")} for v in own],
            "dirs": ev(variables, "{{ [webserver_acme_webroot ~ '/.well-known/acme-challenge'] + (__webserver_served_vhosts"
                                  " | selectattr('upstream', 'undefined') | map(attribute='root', default='') | select | list) }}"),
            "content_roots": roots if ev(variables, "{{ webserver_placeholder_page | bool }}") else [],
            "caddy_tls_dir": ev(variables, "{{ __webserver_caddy_tls_dir }}") if server == "caddy" else "",
            "client_cas": [{"name": v["name"], "client_ca": ev(variables, "{{ v.client_ca | default('', true) | string }}", v=v)}
                           for v in vhosts if ev(variables, "{{ v.client_ca | default('', true) | string }}", v=v)],
            "client_ca_dir": ev(variables, "{{ __webserver_client_ca_dir }}"),
            "live_conf": [f"{live_root}/{f['rel']}" for f in ev(variables, "{{ __webserver_conf_files | default(__webserver_files) }}")],
            "files": sorted({f"{live_root}/{f['rel']}" for f in all_files} | {f"{candidate_dir}/{f['name']}" for f in all_files}),
            "candidate_dir": candidate_dir,
            "default_site": ev(variables, "{{ __webserver_default_site if webserver_remove_default_site | bool else '' }}"),
            "modules": [f"{live_root}/mods-enabled/{m}.load"
                        for m in ev(variables, "{{ __webserver_module_candidates | default(__webserver_modules) }}")],
            # The sites the server already serves: a conflict, a refused takeover or a link still to remove is drift.
            "sites": {"vhosts": [{"name": v["name"], "server_names": v.get("server_names") or [],
                                  "takeover": ev(variables, "{{ v.takeover | default(false) | bool }}", v=v)}
                                 for v in vhosts]},
            "service": ev(variables, "{{ __webserver_service }}"),
        }
        if server == "caddy":
            # Who owns the main Caddyfile: the same decision as the full path's caddy_main.yml (caddyfile_info).
            spec["caddyfile"] = {"path": f"{live_root}/Caddyfile", "site_file": ev(variables, "{{ __webserver_caddy_site_file }}"),
                                 "takeover": options["webserver_caddy_caddyfile"],
                                 "http2": ev(variables, "{{ webserver_http2 | bool }}")}
        host = self._execute_module(module_name="port443.https.webserver_state", module_args={"spec": spec},
                                    task_vars=variables)
        if host.get("failed"):
            return [f"the host could not be inspected: {host.get('msg', '')}"], {}
        drift = list(host["drift"])
        if server == "caddy":
            # The files to render depend on the decision; a refusal is drift (the full path stops with it).
            variables["__webserver_caddy_main"] = host["caddyfile"]
        if (os_family or "Debian") != "Debian" or (os_family is None and not host["debian"]):
            drift.append("not a host of the Debian OS family")

        variables.update(__webserver_tls_openssl={"stdout": host["tls_library"]["openssl"]},
                         __webserver_tls_caddy={"stdout": host["tls_library"]["caddy"]})
        versions = {name: ev(variables, expression) for name, expression in _VERSIONS.items()}
        variables["__webserver_tls_pq"] = ev(variables, _PQ, **versions)
        variables["__webserver_tls_library"] = ev(variables, _LIBRARY, **versions)
        variables["webserver_tls"] = ev(variables, _TLS, __profile=ev(variables, _PROFILE))

        missing = host["missing"]
        if missing and options["webserver_missing_certificate"] == "fail":
            drift.append("no certificate or key for " + ", ".join(missing))
        downgrade = [name for name in missing if name in host["tls_served"]]
        if downgrade:
            # http_only would swap TLS off: the full path refuses it (vhosts.yml).
            drift.append("no certificate or key for " + ", ".join(downgrade) + ", which the live configuration serves over TLS")
        variables["__webserver_takeover"] = host["takeover"]
        variables["__webserver_vhosts"] = [ev(variables, _VHOST, v=v, __webserver_missing=missing) for v in vhosts]
        drift += [f"{path} is missing" for path in (f"{live_root}/mods-enabled/{m}.load"
                                                    for m in ev(variables, "{{ __webserver_modules }}"))
                  if not host["modules_present"].get(path)]
        variables["__webserver_client_ca_files"] = host["client_ca_files"]
        variables["__webserver_nginx_version"] = {"stderr": host.get("nginx_version", "")}
        if ev(variables, "{{ certificate_changed | default(false) | bool }}"):
            drift.append("the certificate changed (certificate_changed): a reload is due")

        expected = {}
        if not any(d.startswith("client_ca of ") for d in drift):
            for item in ev(variables, "{{ __webserver_files }}"):
                live = f"{live_root}/{item['rel']}"
                text = self._render(variables, item["template"], live)
                expected[live] = expected[f"{candidate_dir}/{item['name']}"] = text
            drift += _webserver_state.compare_files(expected, host["files"])
        facts = {"webserver_tls": variables["webserver_tls"], "__webserver_vhosts": variables["__webserver_vhosts"],
                 "__webserver_tls_pq": variables["__webserver_tls_pq"], "tls_served": host["tls_served"]}
        return drift, facts
