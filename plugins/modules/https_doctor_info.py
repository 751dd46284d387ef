#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: https_doctor_info
short_description: The inside view of a host for HTTPS troubleshooting, and one diagnosis with the fix
version_added: 1.0.0
description:
  - "Answers, on the managed host, the questions of the port 443 troubleshooting checklist: is anything listening on
    443 and 80, on which addresses (all interfaces, a specific address, or 127.0.0.1 only) and which process
    (C(ss -H -ltnp)); are the web server units active (C(systemctl show)); does the host firewall allow 443
    (read-only queries of the firewall the host uses, found as M(port443.https.firewall_port) finds it with
    C(backend=auto): a running firewalld or an active ufw, else native nftables tables, else iptables); do the configured
    certificate and key files match the names and each other (judged as M(port443.https.certificate_file_info) judges
    them, except trust in the root, which is the outside probe's verdict)."
  - When O(outside) is given (one item of the RV(port443.https.https_endpoint_info#module:endpoints) list, probed from the
    controller), the module combines both views into one RV(diagnosis) naming the cause
    (C(service not running), C(nothing listening on 443), C(listening on localhost only), C(firewall drops 443 (timeout)),
    C(port open but TLS broken), C(certificate does not match hostname), C(chain incomplete), C(ok)) and the fix.
  - "HTTP/3: when O(outside) carries the result of the C(http3) check, the module also lists the bound UDP sockets
    (C(ss -H -lunp)) and asks the host firewall about the UDP port the probe tried. An outside C(h3_unreachable)
    (Alt-Svc advertises HTTP/3, nothing answers on UDP) is then explained as C(the firewall drops 443/udp) with the
    firewall's evidence, C(nothing listening on 443/udp), or C(443/udp unreachable from outside) (the host allows it:
    a security group, router or load balancer in between)."
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
      - A wrongly typed item (for example C(tcp) or C(reasons) given as a string) fails the task naming the field,
        before anything runs on the host.
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
listen_udp:
  description:
    - What is bound to the UDP port of the C(http3) check (the C(port) of
      RV(port443.https.https_endpoint_info#module:endpoints[].http3)), keyed by port number as a string, as in RV(listen).
  returned: when O(outside) carries the result of the C(http3) check
  type: dict
  sample: {"443": {port: 443, listening: true, scope: all, addresses: ["*"], processes: [caddy], pids: [733]}}
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
    - With iptables both families count (C(iptables -w -S) and C(ip6tables -w -S)). A port is allowed only when both let it
      in, blocked when either drops it (its evidence first, IPv6 lines prefixed C(ip6tables:)), and V(null) when IPv4
      lets it in but the IPv6 rules cannot be read (ip6tables missing or failing; on a kernel without IPv6, IPv4 decides).
    - When O(outside) carries the result of the C(http3) check, also C(allows_udp) and C(evidence_udp) for its UDP port.
  returned: always
  type: dict
  sample: {backend: nftables, allows: false, allows_http: true, evidence: ["inet filter input: tcp dport 443 drop"]}
certificates:
  description:
    - One result per O(certificates) item with C(ok), C(problems) (the critical findings, trust in the root left out),
      C(reasons) (every finding, with the codes of M(port443.https.certificate_file_info)), C(names_match),
      C(names_not_covered), C(key_matches), C(chain_in_order), C(chain_complete), C(chain_length), C(days_left) and C(sans).
  returned: always
  type: list
  elements: dict
diagnosis:
  description:
    - C(code), C(cause) (the short human name), C(severity), C(message), C(fix) and C(evidence) (the facts it rests on).
    - C(code) is the reason code of O(outside) where the diagnosis is one (V(unresolvable), V(filtered),
      V(hostname_mismatch), V(incomplete_chain); see P(port443.https.reason_explain#filter)), else one of the doctor's
      own V(ok), V(service_not_running), V(nothing_listening), V(localhost_only), V(firewall_rejects), V(unreachable),
      V(tls_broken), V(certificate_problem) or V(not_probed).
    - For an outside C(h3_unreachable) the code is V(udp_filtered) (the host firewall drops the UDP port),
      V(udp_not_listening) (nothing bound to it) or V(h3_unreachable) (the host allows it and something listens).
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

from ansible_collections.port443.https.plugins.module_utils.report import _doctor
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

ENV = {"LC_ALL": "C", "LANGUAGE": "C"}


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
    problem = _doctor.check_outside(outside)
    if problem:
        module.fail_json(msg=f"outside: {problem}")
    if module.params["certificates"] and not _x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography") + " (needed for the certificates option)",
                         exception=str(_x509.CRYPTOGRAPHY_IMPORT_ERROR))
    view = _doctor.HostView(lambda argv: module.run_command(argv, environ_update=ENV),
                            lambda name: module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin"]))
    try:
        listeners = view.listeners()
    except _doctor.DoctorError as exc:
        module.fail_json(msg=str(exc), commands=view.commands)
    listen = {str(p): _doctor.port_view(listeners, p) for p in (port, http_port)}
    services = view.services(module.params["services"])
    h3 = outside.get("http3") if outside else None
    udp_port = int(h3.get("port") or port) if isinstance(h3, dict) else None
    listen_udp = None
    if udp_port is not None:
        try:
            listen_udp = {str(udp_port): _doctor.port_view(view.listeners("udp"), udp_port)}
        except _doctor.DoctorError as exc:
            module.fail_json(msg=str(exc), commands=view.commands)
    firewall = view.firewall(port, http_port, udp_port)
    default_names = [outside.get("server_name") or outside.get("host")] if outside and (outside.get("server_name") or outside.get("host")) else []
    certificates = view.certificates(module.params["certificates"], default_names)
    inside = {"listen": listen, "services": services, "firewall": firewall, "listen_udp": listen_udp}
    diagnosis = _doctor.diagnose(inside, outside, port)
    bad_files = [c for c in certificates if not c.get("ok")]
    if bad_files and diagnosis["code"] in ("ok", "not_probed", "certificate_problem", "hostname_mismatch", "incomplete_chain"):
        diagnosis["evidence"].append("inside: certificate files: " + "; ".join("; ".join(c.get("problems", [])) for c in bad_files))
    extra = {"listen_udp": listen_udp} if listen_udp is not None else {}
    module.exit_json(
        changed=False,
        listen=listen,
        **extra,
        listeners=listeners,
        services=services,
        firewall=firewall,
        certificates=certificates,
        diagnosis=diagnosis,
        commands=view.commands,
    )


if __name__ == "__main__":
    main()
