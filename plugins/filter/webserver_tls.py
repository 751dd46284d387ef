# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_tls
short_description: The TLS library of a web server and what the webserver role renders for it
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Reads the output of a server's TLS library probe (C(tls_probe) of P(port443.https.webserver_server#filter), the
    OpenSSL version of the libssl nginx or Apache's mod_ssl links, or the output of C(caddy version) and
    C(caddy build-info)) and decides whether the server speaks the hybrid post-quantum group X25519MLKEM768 (OpenSSL 3.5
    or later; Caddy 2.10 or later built with Go 1.24 or later). Output that cannot be read counts as a library without
    the group.
  - Returns the fact C(webserver_tls) of the P(port443.https.webserver#role) role; the role's state step makes the
    same decision with the same code.
options:
  _input:
    description: The probe's output (empty when it could not run).
    type: str
    required: true
  server:
    description: The web server.
    type: str
    required: true
    choices: [nginx, apache, caddy, haproxy]
  guideline:
    description: The version of Mozilla's guidelines.
    type: str
    default: "6.0"
  profile:
    description: The Mozilla profile.
    type: str
    default: intermediate
seealso:
  - plugin: port443.https.tls_profile
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Whether an nginx with OpenSSL 3.5.1 offers X25519MLKEM768
  ansible.builtin.debug:
    msg: "{{ ('OpenSSL 3.5.1 1 Jul 2025' | port443.https.webserver_tls(server='nginx')).pq }}"  # true
"""

RETURN = r"""
_value:
  description: What the role renders.
  type: dict
  contains:
    guideline:
      description: The version of Mozilla's guidelines.
      type: str
    profile:
      description: The profile.
      type: str
    library:
      description: The TLS library.
      type: str
      sample: OpenSSL 3.5.1
    pq:
      description: Whether X25519MLKEM768 is offered.
      type: bool
    groups:
      description: The key exchange groups the server offers (OpenSSL names).
      type: list
      elements: str
    dhparam:
      description: Whether DH parameters are written (the profile has DHE suites).
      type: bool
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, expect_text, wrap

_decisions = Core("webserver._decisions")


def _webserver_tls(output, server, guideline="6.0", profile="intermediate"):
    text = "" if output is None else expect_text("webserver_tls", output, "the output of the TLS library probe")
    return _decisions.tls_facts(text, server=server, guideline=guideline, profile=profile)


class FilterModule:
    def filters(self):
        return {"webserver_tls": wrap("webserver_tls", _webserver_tls)}
