# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_server
short_description: What the collection knows about a web server it sets up
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Takes the name of a web server the P(port443.https.webserver#role) role sets up and returns its entry of the
    collection's registry of web servers (Debian OS family) - packages, systemd service, live configuration tree, the
    files the role writes there, the distribution's default site, how its TLS library is read.
  - The role reads every fact about its server through this filter; the role's state and apply steps read the same
    registry.
options:
  _input:
    description: The web server.
    type: str
    required: true
    choices: [nginx, apache, caddy, haproxy]
  dhparam:
    description: Whether a TLS profile in use has DHE suites (the DH parameter file is then among RV(_value.files)).
    type: bool
    default: false
  main_file:
    description:
      - The decision about the server's main configuration file, as M(port443.https.caddyfile_info) returns it
        (C(write), C(foreign_ok)); without it the main file is not among RV(_value.files).
    type: dict
  proxy:
    description: Whether a virtual host proxies (Apache then needs its proxy modules, in RV(_value.modules)).
    type: bool
    default: false
seealso:
  - plugin: port443.https.webserver_tls
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Reload the systemd unit of the host's web server
  ansible.builtin.systemd_service:
    name: "{{ (webserver_server | port443.https.webserver_server).service }}"
    state: reloaded
"""

RETURN = r"""
_value:
  description: The registry entry.
  type: dict
  contains:
    name:
      description: The server.
      type: str
    packages:
      description: The Debian packages that install it.
      type: list
      elements: str
    service:
      description: Its systemd unit.
      type: str
      sample: apache2
    live_root:
      description: Its live configuration tree.
      type: str
      sample: /etc/apache2
    all_files:
      description: Every file the role may write into RV(_value.live_root) (C(name), C(template), C(rel)).
      type: list
      elements: dict
    conf_files:
      description: The configuration files among RV(_value.all_files) (not the DH parameters).
      type: list
      elements: dict
    files:
      description: The files the role writes with O(dhparam) and O(main_file) (C(foreign_ok) on a main file that
        replaces one the collection did not write).
      type: list
      elements: dict
    default_site:
      description: The distribution's default site (empty when there is none).
      type: str
    tls_probe:
      description: The read-only command whose output P(port443.https.webserver_tls#filter) reads.
      type: list
      elements: str
    version_command:
      description: The command that prints the server's version, where a template depends on it (empty otherwise).
      type: list
      elements: str
    modules:
      description: The server modules the vhosts need with O(proxy).
      type: list
      elements: str
    module_candidates:
      description: Every module the vhosts may need.
      type: list
      elements: str
    cert_copy_dir:
      description: Where the server gets its own copies of key and certificate (empty when it reads them in place).
      type: str
    cert_copy_owner:
      description: The owner of those copies.
      type: str
    site_file:
      description: The role's own configuration file.
      type: str
    main_file:
      description: The main configuration file the role may write (empty when it never does).
      type: str
    index_names:
      description: The names the servers look for as a directory index.
      type: list
      elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_servers = Core("webserver._servers")


def _webserver_server(name, dhparam=False, main_file=None, proxy=False):
    if not isinstance(dhparam, bool) or not isinstance(proxy, bool):
        raise TypeError("dhparam and proxy must be true or false")
    if main_file is not None and not isinstance(main_file, dict):
        raise TypeError(f"main_file must be the main-file decision (a dict), not {type(main_file).__name__}")
    return _servers.facts(name, dhparam=dhparam, main_file=main_file, proxy=proxy)


class FilterModule:
    def filters(self):
        return {"webserver_server": wrap("webserver_server", _webserver_server)}
