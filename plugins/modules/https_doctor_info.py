#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: https_doctor_info
short_description: The inside view of a host for HTTPS troubleshooting, and one diagnosis with the fix
version_added: 0.1.0
description:
  - "Answers, on the managed host, the questions of the port 443 troubleshooting checklist: is anything listening on
    443 and 80, on which addresses (all interfaces, a specific address, or 127.0.0.1 only) and which process
    (C(ss -H -ltnp)); are the web server units active (C(systemctl show)); does the host firewall allow 443
    (read-only queries of ufw, firewall-cmd, nft or iptables, whichever is present); do the configured certificate
    and key files match the names and each other."
  - When O(outside) is given (one item of the RV(port443.https.https_endpoint_info#module:endpoints) list, probed from the
    controller), the module combines both views into one RV(diagnosis) naming the cause
    (C(service not running), C(nothing listening on 443), C(listening on localhost only), C(firewall drops 443 (timeout)),
    C(port open but TLS broken), C(certificate does not match hostname), C(chain incomplete), C(ok)) and the fix.
  - Every query is read-only. Firewall answers are best effort; C(firewall.allows) in RV(firewall) is V(null) (unknown) when no
    firewall tool could be queried.
author:
  - port443.https contributors (@port443)
requirements:
  - cryptography >= 3.4 on the managed host, only for O(certificates)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
options:
  port:
    description: The HTTPS port to examine.
    type: int
    default: 443
  http_port:
    description: The plain HTTP port examined for redirects.
    type: int
    default: 80
  services:
    description:
      - systemd units of the web server. The default looks at the usual web servers and reports those installed.
    type: list
    elements: str
    default: [nginx, apache2, httpd, caddy, haproxy, lighttpd, traefik, envoy]
  certificates:
    description:
      - Certificate files configured on the host, checked against O(certificates[].names) and the key.
    type: list
    elements: dict
    default: []
    suboptions:
      cert:
        description: Certificate file (PEM; may hold the full chain).
        type: path
        required: true
      key:
        description: Private key file (PEM, unencrypted) that must belong to the certificate.
        type: path
      chain:
        description: Separate chain file with the intermediate certificates, if the server is configured with one.
        type: path
      names:
        description: Names the certificate must cover. Defaults to the O(outside) server name when given.
        type: list
        elements: str
        default: []
  outside:
    description:
      - The outside view of this host's endpoint, one item of RV(port443.https.https_endpoint_info#module:endpoints)
        (probed from the controller). Without it, RV(diagnosis) relies on the inside view only.
    type: dict
"""

EXAMPLES = r"""
---
- name: Probe the web hosts from the controller (outside view)
  port443.https.https_endpoint_info:
    # One {host: NAME} per host, with ansible.builtin only.
    endpoints: >-
      {%- set ns = namespace(items=[]) -%}
      {%- for h in ansible_play_hosts -%}{%- set ns.items = ns.items + [{'host': h}] -%}{%- endfor -%}
      {{ ns.items }}
  delegate_to: localhost
  run_once: true
  register: outside

- name: Look inside each host and combine both views into one diagnosis
  port443.https.https_doctor_info:
    outside: "{{ outside.endpoints | selectattr('host', 'equalto', inventory_hostname) | first }}"
    certificates:
      - cert: /etc/ssl/certs/www.pem
        key: /etc/ssl/private/www.key
  register: doctor

- name: Show the diagnosis
  ansible.builtin.debug:
    msg: "{{ doctor.diagnosis.cause }}: {{ doctor.diagnosis.fix }}"
"""

RETURN = r"""
listen:
  description:
    - What listens on O(port) and O(http_port), keyed by port number as a string; each with C(listening),
      C(scope) (V(all), V(specific), V(loopback), V(none)), C(addresses), C(processes) and C(pids).
  returned: always
  type: dict
  sample: {"443": {port: 443, listening: true, scope: loopback, addresses: [127.0.0.1], processes: [nginx], pids: [812]}}
listeners:
  description: Every listening TCP socket (C(address), C(port), C(scope), C(process), C(processes), C(pids)).
  returned: always
  type: list
  elements: dict
services:
  description: The units of O(services) that exist on the host, with C(unit), C(active), C(active_state), C(sub_state).
  returned: always
  type: list
  elements: dict
  sample: [{unit: nginx.service, loaded: true, active: false, active_state: failed, sub_state: failed}]
firewall:
  description:
    - C(backend) (V(ufw), V(firewalld), V(nftables), V(iptables) or V(null)), C(allows) (V(true), V(false) or V(null)
      when unknown) for O(port), C(allows_http) for O(http_port) and C(evidence) (the rule lines or policy that decided).
  returned: always
  type: dict
  sample: {backend: nftables, allows: false, allows_http: true, evidence: ["inet filter input: tcp dport 443 drop"]}
certificates:
  description: One result per O(certificates) item with C(ok), C(problems), C(names_match), C(key_matches), C(days_left), C(sans).
  returned: always
  type: list
  elements: dict
diagnosis:
  description:
    - C(code), C(cause) (the short human name), C(severity), C(message), C(fix) and C(evidence) (the facts it rests on).
  returned: always
  type: dict
  sample:
    code: localhost_only
    cause: listening on localhost only
    severity: critical
    message: The service listens on 443 only on the loopback address, so other hosts cannot connect. (bound to 127.0.0.1)
    fix: Bind the listener to all interfaces or the public address, then reload.
    evidence: ["inside: 443/tcp listening=True on 127.0.0.1 (nginx)", "outside: tcp closed, status critical, reasons closed"]
commands:
  description: The read-only commands that were run.
  returned: always
  type: list
  elements: str
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.port443.https.plugins.module_utils import _doctor, _x509

ENV = {"LC_ALL": "C", "LANGUAGE": "C"}


class Doctor:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.commands: list[str] = []

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        self.commands.append(" ".join(argv))
        rc, out, err = self.module.run_command(argv, environ_update=ENV)
        return rc, out, err

    def bin(self, name: str) -> str | None:
        return self.module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin"])

    def listeners(self) -> list[dict[str, t.Any]]:
        ss = self.bin("ss")
        if not ss:
            self.module.fail_json(msg="ss (package iproute2) is required to list listening sockets")
        rc, out, err = self.run([ss, "-H", "-ltnp"])
        if rc != 0:
            self.module.fail_json(msg=f"ss -H -ltnp failed: {err.strip()}", commands=self.commands)
        return _doctor.parse_ss(out)

    def services(self, names: list[str]) -> list[dict[str, t.Any]]:
        systemctl = self.bin("systemctl")
        if not systemctl or not names:
            return []
        units = [n if "." in n else f"{n}.service" for n in names]
        rc, out, _err = self.run([systemctl, "show", "-p", "Id,LoadState,ActiveState,SubState", "--"] + units)
        if rc != 0:
            return []
        return [u for u in _doctor.parse_systemctl_show(out) if u["loaded"]]

    def firewall(self, port: int, http_port: int) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {"backend": None, "allows": None, "allows_http": None, "evidence": []}
        ufw = self.bin("ufw")
        if ufw:
            rc, out, _err = self.run([ufw, "status", "verbose"])
            if rc == 0 and "Status: active" in out:
                main, http = _doctor.parse_ufw(out, port), _doctor.parse_ufw(out, http_port)
                return {"backend": "ufw", "allows": main["allows"], "allows_http": http["allows"], "evidence": main["evidence"]}
        fwcmd = self.bin("firewall-cmd")
        if fwcmd:
            rc, out, _err = self.run([fwcmd, "--state"])
            if rc == 0 and out.strip() == "running":
                _rc, services, _e = self.run([fwcmd, "--list-services"])
                _rc, ports, _e = self.run([fwcmd, "--list-ports"])
                main, http = _doctor.parse_firewalld(services, ports, port), _doctor.parse_firewalld(services, ports, http_port)
                return {"backend": "firewalld", "allows": main["allows"], "allows_http": http["allows"], "evidence": main["evidence"]}
        nft = self.bin("nft")
        if nft:
            rc, out, _err = self.run([nft, "list", "ruleset"])
            if rc == 0:
                main, http = _doctor.parse_nft(out, port), _doctor.parse_nft(out, http_port)
                return {"backend": "nftables", "allows": main["allows"], "allows_http": http["allows"], "evidence": main["evidence"]}
        iptables = self.bin("iptables")
        if iptables:
            rc, out, _err = self.run([iptables, "-S"])
            if rc == 0:
                main, http = _doctor.parse_iptables_save(out, port), _doctor.parse_iptables_save(out, http_port)
                return {"backend": "iptables", "allows": main["allows"], "allows_http": http["allows"], "evidence": main["evidence"]}
        result["evidence"] = ["no firewall tool (ufw, firewall-cmd, nft, iptables) could be queried"]
        return result

    def certificates(self, items: list[dict[str, t.Any]], default_names: list[str]) -> list[dict[str, t.Any]]:
        if items and not _x509.HAS_CRYPTOGRAPHY:
            self.module.fail_json(msg=missing_required_lib("cryptography") + " (needed for the certificates option)",
                                  exception=str(_x509.CRYPTOGRAPHY_IMPORT_ERROR))
        out = []
        for idx, item in enumerate(items):
            paths = {k: item.get(k) for k in ("cert", "key", "chain") if item.get(k)}
            data: dict[str, bytes | None] = {"key": None, "chain": None}
            entry: dict[str, t.Any] = dict(paths)
            try:
                for key, path in paths.items():
                    with open(path, "rb") as handle:
                        data[key] = handle.read()
            except OSError as exc:
                entry.update(ok=False, problems=[f"certificates[{idx}]: cannot read {exc.filename}: {exc.strerror}"])
                out.append(entry)
                continue
            names = item.get("names") or default_names
            try:
                entry.update(_doctor.check_certificate_files(_x509, data["cert"] or b"", data["key"], names, data["chain"]))
            except ValueError as exc:
                entry.update(ok=False, problems=[f"certificates[{idx}]: cannot parse: {exc}"])
            entry["names"] = names
            out.append(entry)
        return out


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "default": 443},
            "http_port": {"type": "int", "default": 80},
            "services": {"type": "list", "elements": "str", "default": list(_doctor.WEB_SERVICES)},
            "certificates": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "cert": {"type": "path", "required": True},
                    "key": {"type": "path", "no_log": False},
                    "chain": {"type": "path"},
                    "names": {"type": "list", "elements": "str", "default": []},
                },
            },
            "outside": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    port: int = module.params["port"]
    http_port: int = module.params["http_port"]
    for name in ("port", "http_port"):
        if not 1 <= module.params[name] <= 65535:
            module.fail_json(msg=f"{name}: {module.params[name]} is out of range (1-65535)")
    outside: dict[str, t.Any] | None = module.params["outside"]
    doctor = Doctor(module)
    listeners = doctor.listeners()
    listen = {str(p): _doctor.port_view(listeners, p) for p in (port, http_port)}
    services = doctor.services(module.params["services"])
    firewall = doctor.firewall(port, http_port)
    default_names = [outside.get("server_name") or outside.get("host")] if outside and (outside.get("server_name") or outside.get("host")) else []
    certificates = doctor.certificates(module.params["certificates"], default_names)
    inside = {"listen": listen, "services": services, "firewall": firewall}
    diagnosis = _doctor.diagnose(inside, outside, port)
    bad_files = [c for c in certificates if not c.get("ok")]
    if bad_files and diagnosis["code"] in ("ok", "not_probed", "certificate_problem", "hostname_mismatch", "chain_incomplete"):
        diagnosis["evidence"].append("inside: certificate files: " + "; ".join("; ".join(c.get("problems", [])) for c in bad_files))
    module.exit_json(
        changed=False,
        listen=listen,
        listeners=listeners,
        services=services,
        firewall=firewall,
        certificates=certificates,
        diagnosis=diagnosis,
        commands=doctor.commands,
    )


if __name__ == "__main__":
    main()
