#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: webserver_apply
short_description: Apply a web server configuration safely, prove it serves, restore it when it does not
version_added: 1.0.0
description:
  - The apply step of the P(port443.https.webserver#role) role, in one call to the host.
  - The files to write are rendered on the controller from their C(template) (found like M(ansible.builtin.template)
    finds it, in the role's or the play's C(templates) directory), or given with their text (C(content)). The step
    writes each into O(candidate_dir) (root-only, C(0700)) where it differs, and compares it with the live file.
  - Before any change it stops when a port the configuration listens on (O(ports)) is held by a process outside the
    server's systemd unit (C(0.0.0.0:443 is in use by python3, pid 812)), and when a file it would write exists and
    was not written by the collection (it carries no C(port443.https.webserver) header) unless that file was handed
    over (C(foreign_ok)).
  - It copies the live tree into a private directory under O(stage_dir), applies the change there (candidate files,
    sites to disable, Apache modules) and runs the server's own checker on the copy (C(nginx -t), C(apache2ctl -S),
    C(caddy validate)). A warning the change introduces (C(conflicting server name), overlapping virtual hosts) is an
    error. When the copy does not validate and the live tree does not either, the error says the problem predates
    the run and quotes the checker with the live file names.
  - It then swaps the validated files into the live tree (atomic renames), reloads the server (starts it when it was
    not running) and proves that it serves the new state. The server is active, listens on every port of O(ports)
    from its own unit, runs new nginx workers (nginx keeps its old workers when it refuses a reload), and serves each
    site of O(vhosts) with the certificate of its C(cert_file).
  - When the proof fails it restores everything this run changed (files, disabled sites, modules). It then reloads
    the server, or restarts it when it died, and proves that it listens where it did before. The task fails naming
    the cause (the unit's journal and the processes holding the ports).
  - With O(roll) (the role passes its pool), a member that fails stops the roll. Every later member of the same
    C(ansible-playbook) run fails before any change, so a broken change never reaches the next member. The role runs
    this step one host at a time for pool members (C(throttle)).
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports whether a real run would write a file (given by template or text), its candidate, a directory or a
        placeholder page, disable sites, enable modules, reload for a changed certificate or start or enable the
        service, and stops for the same refusals (ports held by other
        processes, foreign files). It does not stage or validate.
  diff_mode:
    support: full
    details:
      - Shows each live file it replaces (given by template or text) against its new text, the sites it disables
        and the modules it enables.
  idempotent:
    description: A second run with the same candidates changes nothing.
    support: full
  action:
    description: Runs as an action plugin on the controller (it renders the templates, and keeps the roll's stop mark),
      which calls this module on the host.
    support: full
options:
  server:
    description: The web server.
    type: str
    required: true
    choices: [nginx, apache, caddy, haproxy]
  service:
    description: Its systemd unit.
    type: str
    required: true
  live_root:
    description: The live configuration tree (V(/etc/nginx), V(/etc/apache2), V(/etc/caddy)).
    type: path
    required: true
  candidate_dir:
    description:
      - Where the candidate files are (C(name) of each O(files) entry); the step writes those given by template or text
        there and creates the directory (root:root C(0700)). Required unless O(preflight).
    type: path
  stage_dir:
    description:
      - The staging directory; each run works in its own C(run.*) directory inside and removes only that. Required
        unless O(preflight).
    type: path
  preflight:
    description:
      - Only check that no process outside O(service) holds a port of O(ports), and fail naming it. Changes nothing.
        The P(port443.https.webserver#role) role reads the same in its state step (M(port443.https.webserver_state)),
        before anything else of the role runs.
    type: bool
    default: false
  files:
    description:
      - The files the collection writes, as the role lists them. Each entry has C(name) (the file in
        O(candidate_dir)), C(rel) (its path relative to O(live_root)), its C(template) (rendered on the controller
        with the task's variables) or its text C(content), and optionally C(foreign_ok). An entry with neither is
        read from O(candidate_dir), where the caller rendered it. C(foreign_ok=true)
        means the live file may be replaced although the collection did not write it, because it was handed over (the
        caller keeps a copy of an operator's file first, as the role does for Caddy's main Caddyfile). Other keys
        are ignored.
      - In check mode an entry without C(template) or C(content) is not read (its candidate may be left from an
        earlier run), and it counts as a change, so a caller passes only the files it found different.
    type: list
    elements: dict
    default: []
  disable:
    description: Paths in the live tree to remove (the distribution's default site, the links of sites taken over).
    type: list
    elements: path
    default: []
  modules:
    description: Apache modules that must be enabled.
    type: list
    elements: str
    default: []
  ports:
    description:
      - TCP ports the configuration listens on. By default V(80), and V(443) when a virtual host of O(vhosts)
        serves TLS.
    type: list
    elements: int
  vhosts:
    description:
      - The role's virtual hosts with their defaults filled in. The step reads C(server_names), C(cert_file),
        C(tls_ready) and C(caddy_automatic_https). It proves that each site with a certificate of its own serves
        that certificate for its first name after the reload.
    type: list
    elements: dict
    default: []
  address:
    description: The address the proof connects to.
    type: str
    default: 127.0.0.1
  reload:
    description: Reload and prove even when no file changes (a changed certificate).
    type: bool
    default: false
  prove_timeout:
    description: Seconds the server gets to serve the new state after the reload.
    type: int
    default: 20
  dirs:
    description:
      - Directories to create, or to set to root:root C(0755), before the configuration is staged (a checker warns
        about a document root that does not exist). Each missing level is created root:root C(0755), as
        M(ansible.builtin.file) does. A path that exists and is not a directory stops the step before any change.
    type: list
    elements: path
    default: []
  placeholder_roots:
    description:
      - Content roots that get the O(placeholder) page as C(index.html) when they hold no file or link of an index
        name the servers look for (C(index.html), C(index.htm), C(index.php) and so on). A missing root is created
        (root:root C(0755)); a root that is not a directory is left alone. The page never replaces a file.
    type: list
    elements: path
    default: []
  placeholder:
    description: The text of the placeholder page (empty = no page).
    type: str
    default: ""
  placeholder_template:
    description: A template rendered on the controller (by the action plugin) into O(placeholder).
    type: str
  enable:
    description: Make sure the service runs (started without a reload proof when nothing else changes) and starts at boot.
    type: bool
    default: false
  roll:
    description: The pool this host belongs to (empty outside pools); a failed member stops the roll of this run.
    type: str
    default: ""
  roll_stopped:
    description:
      - Set by the action plugin, not by users. When not empty, why this member must change nothing (an earlier
        member of the pool failed in this run); the step then fails with it before any change.
    type: str
    default: ""
notes:
  - Tested on Debian 12 and 13 with nginx, Apache and Caddy (Molecule scenarios webserver_tls, webserver_brownfield).
  - Needs C(ss) (iproute2) and systemd on the host.
seealso:
  - module: port443.https.webserver_state
"""

EXAMPLES = r"""
# Inside the webserver role (roles/webserver/tasks/apply.yml):
- name: Apply safely (stage, validate, swap, reload, prove, restore on failure)
  port443.https.webserver_apply:
    server: nginx
    service: nginx
    live_root: /etc/nginx
    candidate_dir: /var/lib/port443/webserver/nginx
    stage_dir: /etc/port443-stage
    files:
      - {name: port443-https.conf, rel: conf.d/port443-https.conf, template: nginx.conf.j2}
    disable: [/etc/nginx/sites-enabled/default]
    vhosts:
      - name: www
        server_names: [www.example.org]
        cert_file: /etc/ssl/port443/server-fullchain.crt
        tls_ready: true
"""

RETURN = r"""
files:
  description: Live files that differed from their new text or candidate (written unless in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/conf.d/port443-https.conf]
disabled:
  description: Sites removed from the live tree.
  returned: always
  type: list
  elements: str
modules:
  description: Apache modules that were not enabled.
  returned: always
  type: list
  elements: str
candidates:
  description:
    - The candidate files (and the candidate directory) written because they differed from the text given (would be,
      in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/port443/webserver/nginx/port443-https.conf]
dirs:
  description: Directories created or set to root:root 0755 (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/www/html/.well-known/acme-challenge]
placeholders:
  description: Placeholder pages written (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/srv/www/shop/index.html]
service:
  description: The C(systemctl) commands run with O(enable) (would be, in check mode), besides the reload.
  returned: always
  type: list
  elements: str
  sample: [enable]
reloaded:
  description: Whether the server was reloaded (or started).
  returned: always
  type: bool
warnings:
  description: Checker warnings about ambiguous sites that predate the run (reported as the task's warnings, not refused).
  returned: always
  type: list
  elements: str
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.port443.https.plugins.module_utils.webserver import _webserver_apply

ARGUMENT_SPEC: dict[str, t.Any] = {
    "server": {"type": "str", "required": True, "choices": list(_webserver_apply.SERVERS)},
    "service": {"type": "str", "required": True},
    "live_root": {"type": "path", "required": True},
    "candidate_dir": {"type": "path"},
    "stage_dir": {"type": "path"},
    "preflight": {"type": "bool", "default": False},
    "files": {"type": "list", "elements": "dict", "default": []},
    "disable": {"type": "list", "elements": "path", "default": []},
    "modules": {"type": "list", "elements": "str", "default": []},
    "ports": {"type": "list", "elements": "int"},
    "vhosts": {"type": "list", "elements": "dict", "default": []},
    "address": {"type": "str", "default": "127.0.0.1"},
    "reload": {"type": "bool", "default": False},
    "prove_timeout": {"type": "int", "default": 20},
    "roll": {"type": "str", "default": ""},
    "dirs": {"type": "list", "elements": "path", "default": []},
    "placeholder_roots": {"type": "list", "elements": "path", "default": []},
    "placeholder": {"type": "str", "default": ""},
    # Rendered into placeholder by the action plugin; the module never reads it.
    "placeholder_template": {"type": "str"},
    "enable": {"type": "bool", "default": False},
    # Set by the action plugin only: why this member must not change anything (an earlier member failed).
    "roll_stopped": {"type": "str", "default": ""},
}


def main() -> t.NoReturn:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("preflight", False, ("candidate_dir", "stage_dir"))])

    def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
        if module.get_bin_path(argv[0]) is None:
            return 127, "", f"{argv[0]} not found"
        return module.run_command(argv, environ_update=environ or {})

    try:
        result = _webserver_apply.apply(module.params, run, module.check_mode)
    except _webserver_apply.ApplyError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"webserver_apply: {exc}")
    texts = result.pop("texts", {})
    if module._diff:
        # Each file given with its text against the live file, as the template module shows it; then the sites and
        # modules.
        diffs = [_webserver_apply.file_diff(dest, text) for dest, text in texts.items()]
        if result["disabled"] or result["modules"]:
            diffs.append({
                "before_header": "enabled sites and modules", "after_header": "enabled sites and modules",
                "before": "".join(f"{p}\n" for p in result["disabled"]),
                "after": "".join(f"module {m}\n" for m in result["modules"]),
            })
        if diffs:
            result["diff"] = diffs
    # The task's warnings through module.warn (ansible-core deprecates a warnings key passed to exit_json).
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
