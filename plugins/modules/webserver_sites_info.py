#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: webserver_sites_info
short_description: List the sites a web server already serves, and what the webserver role's vhosts would clash with
version_added: 1.0.0
description:
  - Reads the configuration the server itself loads and lists its sites (server blocks, virtual hosts, site blocks)
    with their names, ports, FILE:LINE, whether a link in C(sites-enabled/) enables them, whether they are the
    collection's own, and their body (the directives other than the addresses, names and TLS settings).
  - "nginx: the output of C(nginx -T), walked from C(nginx.conf) through its C(include) directives (only server
    blocks of the C(http) context). Apache: C(apache2ctl -S) (names, aliases, ports, FILE:LINE) and the named files
    for the bodies. Caddy: C(/etc/caddy/Caddyfile) (files it imports are not read)."
  - Sites in C(sites-available/) that the server does not load are listed too, with C(enabled=false); after a
    takeover, the role keeps carrying the body of the site from there.
  - Given the webserver role's virtual hosts (O(vhosts)), it reports the names an operator's site already serves on
    port 80 or 443 (RV(conflicts)), and for vhosts with C(takeover) the body carried into the role's HTTPS block and
    the links in C(sites-enabled/) to remove (RV(takeover), RV(disable)), or why the takeover cannot be done without
    editing an operator's file (RV(refusals)).
  - A configuration that cannot be read (the check of the server fails, a named file is missing) fails the task;
    it is never taken as "no sites". A server that is not installed (no binary and no configuration tree) has no
    sites.
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
options:
  server:
    description: The web server whose sites are read.
    type: str
    required: true
    choices: [nginx, apache, caddy, haproxy]
  vhosts:
    description:
      - The webserver role's virtual hosts (the role's O(port443.https.webserver#role:main:webserver_vhosts)); only
        C(name), C(server_names) and C(takeover) are read.
    type: list
    elements: dict
    default: []
notes:
  - Tested on Debian 12 (nginx 1.22) and Debian 13 (Apache 2.4) in the Molecule scenario webserver_takeover; the
    parsers are unit tested with captured C(nginx -T) and C(apache2ctl -S) outputs.
seealso:
  - module: port443.https.webserver_state
"""

EXAMPLES = r"""
---
- name: List the sites nginx serves and what the vhost app would clash with
  port443.https.webserver_sites_info:
    server: nginx
    vhosts:
      - name: app
        server_names: [app.example]
        takeover: true
  register: sites

- name: Show the sites and where they are written
  ansible.builtin.debug:
    msg: "{{ sites.sites | map(attribute='names') | zip(sites.sites | map(attribute='file')) | list }}"
"""

RETURN = r"""
installed:
  description: Whether the server's configuration could be read at all (V(false) when the server is not installed).
  returned: always
  type: bool
  sample: true
sites:
  description: Every site of the server on the host.
  returned: always
  type: list
  elements: dict
  contains:
    names:
      description: Server names and aliases, lower case (Apache lists the host name for a vhost without ServerName).
      type: list
      elements: str
      sample: [app.example]
    ports:
      description: The ports the site listens on.
      type: list
      elements: int
      sample: [80]
    tls:
      description: Whether the site serves TLS (C(listen ... ssl), port 443, C(SSLEngine on)).
      type: bool
    file:
      description: The file as the server loaded it (for example the link in C(sites-enabled/)).
      type: str
      sample: /etc/nginx/sites-enabled/app
    line:
      description: The line of the block in O(ignore:file).
      type: int
      sample: 2
    enabled:
      description: V(true) when the server loads the site, V(false) for a file in C(sites-available/) it does not load.
      type: bool
    enabled_by:
      description: The link in C(sites-enabled/) that enables the site (empty when it is a real file).
      type: str
    own:
      description: Whether the file is one the collection wrote (its header names C(port443.https.webserver)).
      type: bool
    default:
      description: Whether the site is the default of its port (C(default_server), Apache's first vhost).
      type: bool
    named:
      description:
        - Whether the block names itself (Apache - C(ServerName)); when not, the server's own name that
          C(apache2ctl -S) shows is left out of O(ignore:names).
      type: bool
    body:
      description: The block's directives other than addresses, names and TLS settings, one line each.
      type: list
      elements: str
      sample: ["location / {", "    proxy_pass http://127.0.0.1:8080;", "}"]
conflicts:
  description: For vhosts without C(takeover), each name an operator's site already serves on port 80 or 443, with FILE:LINE.
  returned: always
  type: list
  elements: str
  sample: ["vhost app: app.example already served by /etc/nginx/sites-enabled/app:2 (port 80); set takeover: true ..."]
refusals:
  description: For vhosts with C(takeover), why it cannot be done without editing an operator's file.
  returned: always
  type: list
  elements: str
takeover:
  description:
    - For each vhost with C(takeover) that can be done, the carried body, the sites it comes from, the links to remove,
      and whether the body needs Apache's mod_proxy (C(proxy), always V(false) for nginx).
  returned: always
  type: dict
  sample: {"app": {"body": ["location / {", "    proxy_pass http://127.0.0.1:8080;", "}"],
                   "sources": ["/etc/nginx/sites-enabled/app:2"], "disable": ["/etc/nginx/sites-enabled/app"],
                   "proxy": false}}
disable:
  description: Every link in C(sites-enabled/) the takeovers remove (the files they point to stay).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/sites-enabled/app]
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.port443.https.plugins.module_utils.webserver import _servers, _sites


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={"server": {"type": "str", "required": True, "choices": list(_servers.NAMES)},
                       "vhosts": {"type": "list", "elements": "dict", "default": []}},
        supports_check_mode=True)
    server = module.params["server"]

    def run(argv: list[str], stdin: str | None) -> tuple[int, str, str]:
        if module.get_bin_path(argv[0]) is None:
            return 127, "", f"{argv[0]} not found"
        return module.run_command(argv, data=stdin)

    try:
        found = _sites.collect(server, run)
    except _sites.SitesError as exc:
        module.fail_json(msg=f"Nothing was changed. The sites of {server} could not be read: {exc}")
    try:
        vhosts = [dict(v, takeover=boolean(v.get("takeover", False))) for v in module.params["vhosts"]]
    except TypeError as exc:
        module.fail_json(msg=f"vhosts: takeover must be a boolean ({exc}).")
    decided = _sites.plan(server, found["sites"], vhosts)
    module.exit_json(changed=False, **found, **decided)


if __name__ == "__main__":
    main()
