# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_verify_problems
short_description: What the webserver role's virtual hosts serve differently from their settings, one message each
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - The verdict of the P(port443.https.webserver#role) role's verification. For each virtual host that serves TLS
    (C(tls_ready)), compares what M(port443.https.https_endpoint_info) found with the settings, and returns one message
    per virtual host that does not match; empty when every one matches.
  - "A match needs: port 443 open; exactly the TLS versions of the virtual host's Mozilla profile accepted and every
    other version refused; a certificate that names the virtual host's first server name; a redirect from http:// to
    https://; HSTS with the configured C(hsts_max_age) (unless 0); no profile failure of the C(ciphers) check (see the
    test P(port443.https.profile_failure#test)). A staff-only virtual host (C(client_ca) with C(client_verify: required))
    probed without a client certificate must demand one instead; its names and HSTS are then not seen."
  - Never a match on missing knowledge. A virtual host without a result, a TLS version the probe could not tell
    (C(null)), a certificate whose names could not be checked, or an enumeration that did not finish is a problem.
options:
  _input:
    description:
      - The role's virtual hosts with its defaults filled in (each with C(server_names), C(tls_ready), C(tls_profile),
        C(hsts_max_age), C(client_ca), C(client_verify)), as P(port443.https.webserver_vhosts#filter) returns them.
    type: list
    elements: dict
    required: true
  probe_results:
    description:
      - The C(results) of a looped M(port443.https.https_endpoint_info) task with the checks C(tcp), C(tls_versions),
        C(certificate), C(http) and C(ciphers). Items without C(endpoints) (the probe could not run) are left out.
    type: list
    elements: dict
    required: true
  cipher_results:
    description:
      - The C(results) of a looped M(port443.https.https_endpoint_info) task with the C(ciphers) check alone, read for
        the virtual hosts the full probe has no result for (the role's fallback checks versions, redirect and HSTS with
        openssl and HTTP requests itself).
    type: list
    elements: dict
    default: []
  guideline:
    description: The Mozilla guideline version the profiles are read from.
    type: str
    default: "6.0"
  client_cert:
    description: Whether the probe presented a client certificate (the role's C(webserver_verify_client_cert)).
    type: bool
    default: false
"""

EXAMPLES = r"""
---
- name: Fail when a virtual host serves something else than configured
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ vhosts | port443.https.webserver_verify_problems(probe.results, guideline='6.0') }}"
"""

RETURN = r"""
_value:
  description:
    - One message per virtual host that does not serve what was configured, naming the host and each difference,
      and for a profile failure the setting to use.
  type: list
  elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_verify = Core("webserver._verify")


def _webserver_verify_problems(vhosts, probe_results, cipher_results=None, guideline="6.0", client_cert=False):
    if not isinstance(client_cert, bool):
        raise TypeError(f"client_cert must be true or false, not {client_cert!r}")
    return _verify.served_problems(vhosts, probe_results, cipher_results, guideline=guideline, client_cert=client_cert)


class FilterModule:
    def filters(self):
        return {"webserver_verify_problems": wrap("webserver_verify_problems", _webserver_verify_problems)}
