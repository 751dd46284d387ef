# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_vhosts
short_description: The virtual hosts of the webserver role with their defaults filled in
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Takes C(webserver_vhosts) of the P(port443.https.webserver#role) role and returns each virtual host with the
    role's defaults filled in, as the role's templates, its state step and its verification read them. Certificate
    and key fall back to the certificate role's files, C(tls_ready) says whether the host has them, C(takeover_body)
    is the site body a takeover carries, C(probe) is what the verification probes.
options:
  _input:
    description: The virtual hosts (C(webserver_vhosts)).
    type: list
    elements: dict
    required: true
  defaults:
    description:
      - The role's defaults, C(tls_profile), C(hsts_max_age), C(hsts_include_subdomains), C(hsts_preload),
        C(ocsp_stapling), C(http2), C(cert_file) and C(key_file) (the certificate role's files, empty when there are
        none) and C(probe_address).
    type: dict
    required: true
  missing:
    description: The virtual hosts without certificate or key on the host (their C(tls_ready) is false).
    type: list
    elements: str
    default: []
  no_ocsp:
    description:
      - The virtual hosts whose certificate names no OCSP responder (C(facts.no_ocsp) of M(port443.https.webserver_state));
        their C(ocsp_stapling) is false and C(ocsp_stapling_skipped) true when stapling was asked for.
    type: list
    elements: str
    default: []
  takeover:
    description: The takeovers of M(port443.https.webserver_sites_info) (RV(port443.https.webserver_sites_info#module:takeover)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
---
- name: The certificate each virtual host serves
  ansible.builtin.debug:
    msg: "{{ webserver_vhosts | port443.https.webserver_vhosts(defaults=defaults) | map(attribute='cert_file') }}"
  vars:
    defaults: {tls_profile: intermediate, hsts_max_age: 63072000, hsts_include_subdomains: false, hsts_preload: false,
               ocsp_stapling: false, http2: true, cert_file: /etc/ssl/site.crt, key_file: /etc/ssl/site.key,
               probe_address: 127.0.0.1}
"""

RETURN = r"""
_value:
  description: The virtual hosts, in order, each with every option of C(webserver_vhosts) set, and C(tls_ready),
    C(takeover_body) and C(probe) (C(host), C(address)).
  type: list
  elements: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_decisions = Core("webserver._decisions")


def _webserver_vhosts(vhosts, defaults, missing=None, takeover=None, no_ocsp=None):
    if not isinstance(vhosts, list) or not all(isinstance(v, dict) for v in vhosts):
        raise TypeError("expected the list of virtual hosts (dicts)")
    if not isinstance(defaults, dict):
        raise TypeError("defaults must be a dict")
    return _decisions.vhosts_settings(vhosts, defaults=defaults, missing=missing or [], takeover=takeover or {},
                                      no_ocsp=no_ocsp or [])


class FilterModule:
    def filters(self):
        return {"webserver_vhosts": wrap("webserver_vhosts", _webserver_vhosts)}
