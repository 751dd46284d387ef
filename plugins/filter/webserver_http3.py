# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_http3
short_description: Whether the webserver role serves HTTP/3, and for which virtual hosts
version_added: 1.1.0
author:
  - port443.https contributors (@port443)
description:
  - Takes C(webserver_vhosts) of the P(port443.https.webserver#role) role and decides whether HTTP/3 may be served -
    the server must have it (Caddy always; nginx where C(nginx -V) lists C(--with-http_v3_module) among the build's
    configure arguments; Apache never) and UDP 443 must reach the host (O(udp)). A vhost that sets C(http3=true) where
    either is missing is refused, and so are Caddy vhosts that ask differently (Caddy's HTTP versions are one setting
    for all its sites).
  - With O(settled) (the vhosts with their settings, P(port443.https.webserver_vhosts#filter)), also returns the
    vhosts that serve HTTP/3 (the fact C(webserver_h3) the role publishes and the firewall role follows). The role's
    state step makes the same decisions with the same code.
options:
  _input:
    description: The virtual hosts (C(webserver_vhosts)).
    type: list
    elements: dict
    required: true
  server:
    description: The web server.
    type: str
    required: true
    choices: [nginx, apache, caddy]
  version:
    description: The output of the server's version command (nginx C(-V), on stderr); empty where it has none.
    type: str
    default: ""
  default:
    description: Whether a vhost without C(http3) asks for HTTP/3 (C(webserver_http3)).
    type: bool
    default: true
  udp:
    description: Whether UDP 443 reaches the host (C(webserver_http3_udp)).
    type: bool
    default: false
  caddy_main:
    description: The main-file decision of M(port443.https.caddyfile_info) (Caddy only; its C(h3) decides where the
      operator's main Caddyfile imports the role's file).
    type: dict
  settled:
    description: The vhosts with their settings; when given, RV(_value.vhosts) lists those that serve HTTP/3.
    type: list
    elements: dict
seealso:
  - plugin: port443.https.webserver_vhosts
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Whether Debian 12's nginx may serve HTTP/3
  ansible.builtin.debug:
    msg: "{{ (vhosts | port443.https.webserver_http3(server='nginx', version=nginx_v.stderr, udp=true)).available }}"
  vars:
    vhosts: [{name: www, server_names: [www.example.org]}]
"""

RETURN = r"""
_value:
  description: The HTTP/3 decision.
  type: dict
  contains:
    supported:
      description: Whether the server has HTTP/3.
      type: bool
    udp:
      description: Whether UDP 443 reaches the host (O(udp)).
      type: bool
    available:
      description: Whether HTTP/3 may be served (a vhost serves it where it asks for it and has its certificate).
      type: bool
    force:
      description: What the operator's main Caddyfile serves for every site (null where the role decides).
      type: bool
    errors:
      description: Why the role refuses the vhosts' http3 settings, one message each (empty when it goes on).
      type: list
      elements: str
    alt_svc:
      description: The C(Alt-Svc) header value the role sends with nginx.
      type: str
      sample: h3=":443"; ma=86400
    vhosts:
      description: With O(settled), the names of the vhosts that serve HTTP/3.
      type: list
      elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_decisions = Core("webserver._decisions")


def _webserver_http3(vhosts, server, version="", default=True, udp=False, caddy_main=None, settled=None):
    if not isinstance(vhosts, list):
        raise TypeError("expected the list of virtual hosts (dicts)")
    result = _decisions.http3(vhosts, server=server, version_output=version or "", default=default, udp=udp,
                              caddy_main=caddy_main if isinstance(caddy_main, dict) else None)
    if settled is not None:
        result["vhosts"] = _decisions.http3_served(settled)
    return result


class FilterModule:
    def filters(self):
        return {"webserver_http3": wrap("webserver_http3", _webserver_http3)}
