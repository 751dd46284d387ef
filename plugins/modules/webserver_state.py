#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: webserver_state
short_description: Read-only state step of the port443.https.webserver role
version_added: 1.0.0
description:
  - The first step of the P(port443.https.webserver#role) role. It learns, in one call to the host, everything the
    role would change and reports what drifts; when nothing drifts, the role skips its full path (staged validation,
    swap, reload) and only publishes its facts and verifies what is served.
  - The action plugin reads the role's variables, asks the host once (packages, TLS library and nginx versions,
    certificate and key files, directories with owner and mode, content roots without an index file, Caddy's copies
    of key and certificate, client CA copies and whether each CA parses, the distribution's default site, the Apache
    modules, the sites the server already serves as M(port443.https.webserver_sites_info) reads them, the service
    started and enabled), renders the role's templates with the task's variables the way
    M(ansible.builtin.template) does, and compares them with the live files and the candidate copies (content, owner,
    mode). A certificate reported changed (C(certificate_changed)) is drift too (the server must reload).
  - For Caddy it reaches the same decision about the main Caddyfile as the full path (M(port443.https.caddyfile_info));
    an operator's Caddyfile that neither imports the role's file nor was handed over is drift with the refusal, so the
    full path runs and stops before any change; one that imports the role's file is not rendered nor compared; a
    main file the role takes over (absent, the package's default, handed over) is drift.
  - An operator's site that serves a vhost's names (a conflict the full path refuses), a takeover that cannot be done,
    and the link of a taken-over site still in C(sites-enabled/) are drift; the bodies carried by takeovers feed the
    rendered templates.
  - It may report drift the full path then finds converged; it never reports converged where the full path would
    change something. Options the role refuses, and whatever cannot be read or rendered, are drift, so the full
    path runs and fails with its own message.
  - Meant for the role only; it takes its settings from the role's variables, not from task options.
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
attributes:
  action:
    description: Runs as an action plugin on the controller, which calls this module on the host once.
    support: full
options:
  spec:
    description:
      - What to inspect on the host, built by the action plugin from the role's variables (server, packages,
        certificate files, directories, content roots, Caddy's TLS directory, client CAs, rendered file paths,
        candidate directory, default site, Apache module links, service, and for Caddy the main Caddyfile's path, the
        role's site file, C(webserver_caddy_caddyfile) and C(webserver_http2)).
    type: dict
    required: true
notes:
  - Tested on Debian 12 and 13 with nginx, Apache and Caddy (Molecule scenarios webserver_tls, webserver_clientcert and
    webserver_caddyfile).
seealso:
  - module: port443.https.https_endpoint_info
  - module: port443.https.caddyfile_info
"""

EXAMPLES = r"""
# Inside the webserver role (roles/webserver/tasks/main.yml):
- name: Learn what the role would change
  port443.https.webserver_state:
    spec: {}
  register: __webserver_state

- name: Run the full path only where something drifts
  ansible.builtin.include_tasks: converge.yml
  when: not __webserver_state.converged
"""

RETURN = r"""
missing_packages:
  description:
    - The role's packages that dpkg's database does not list as installed (empty when all are), so that the full path
      runs the package manager only when one is missing. V(null) when the host could not be inspected.
  returned: always
  type: list
  elements: str
  sample: []
converged:
  description: V(true) when nothing drifts (the role's full path would change nothing).
  returned: always
  type: bool
  sample: true
drift:
  description: What differs from what the role would make of the host (empty when converged).
  returned: always
  type: list
  elements: str
  sample: ["/etc/nginx/conf.d/port443-https.conf differs from the rendered configuration", "nginx is inactive"]
facts:
  description:
    - The role's facts as the full path would set them, empty when they could not be worked out (the full path then
      sets them).
    - C(webserver_tls) (see the role's README), the virtual hosts with defaults filled in and the post-quantum flag.
    - C(no_ocsp), the virtual hosts whose certificate names no OCSP responder (a CRL-only certificate); the role never
      turns OCSP stapling on for them.
  returned: always
  type: dict
  sample: {"webserver_tls": {"guideline": "6.0", "profile": "intermediate", "library": "OpenSSL 3.0.17", "pq": false,
           "groups": ["X25519", "prime256v1", "secp384r1"], "dhparam": false}}
read:
  description:
    - What the role's full path reads of the host, as this step read it, so that the full path does not read it again
      (V(null) when the host could not be inspected; the full path then stops with RV(drift)). The role runs this step
      a second time only where its full path ran the package manager.
    - C(tls_probe), the output of the server's TLS library probe; C(version), the server's version output (nginx
      C(-V)) and C(version_failed), whether that command failed.
    - C(sites), the sites the server already serves and the decision about them as
      M(port443.https.webserver_sites_info) returns it (C(conflicts), C(refusals), C(takeover), C(disable)), or
      C(error) when they could not be read.
    - C(port_refusal), why the server could not listen on ports 80 and 443 (another process holds one, named as
      M(port443.https.webserver_apply) with O(port443.https.webserver_apply#module:preflight) names it), empty when
      they are free or the server's.
    - C(roots), for each content root, whether it exists, is a directory and holds an index file or link.
    - C(cert_files), for each certificate and key file of the virtual hosts (C(name), C(what), C(path)), whether it
      exists.
  returned: always
  type: dict
  sample: {"tls_probe": "OpenSSL 3.0.17 1 Jul 2025\n", "version": "nginx version: nginx/1.22.1\n", "version_failed": false, "port_refusal": "",
           "sites": {"conflicts": [], "refusals": [], "takeover": {}, "disable": []},
           "roots": {"/var/www/html": {"exists": true, "isdir": true, "index": true}},
           "cert_files": [{"name": "site", "what": "cert", "path": "/etc/ssl/port443/site.crt", "exists": true}]}
os:
  description:
    - The host's OS family and distribution in Ansible's words, read from its C(/etc/os-release) (no fact gathering);
      empty when the host could not be inspected. The role refuses hosts outside the Debian OS family with them.
  returned: always
  type: dict
  sample: {"os_family": "Debian", "distribution": "Debian"}
ansible_facts:
  description:
    - When converged, C(webserver_tls) as a host fact, so that a fact cache keeps it for later runs (V(verify_https)
      reads whether the host speaks X25519MLKEM768 from it).
  returned: when converged
  type: dict
  contains:
    webserver_tls:
      description: The same as C(facts.webserver_tls).
      type: dict
      returned: when converged
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.port443.https.plugins.module_utils.webserver import _servers, _webserver_state


def main() -> t.NoReturn:
    module = AnsibleModule(argument_spec={"spec": {"type": "dict", "required": True}}, supports_check_mode=True)
    spec = module.params["spec"]
    if spec.get("server") not in _servers.SERVERS:
        module.fail_json(msg=f"spec: server must be one of {', '.join(_servers.NAMES)} (this module is the webserver "
                             "role's state step).")

    def run(argv: list[str], stdin: str | None) -> tuple[int, str, str]:
        # A command that is not there is an answer too (drift where it matters), not a failure of the step.
        if module.get_bin_path(argv[0]) is None:
            return 127, "", f"{argv[0]} not found"
        return module.run_command(argv, data=stdin, binary_data=True)

    module.exit_json(changed=False, **_webserver_state.inspect(spec, run))


if __name__ == "__main__":
    main()
