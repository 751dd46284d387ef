# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webserver_input_errors
short_description: The options of the webserver role it refuses, one message each
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Checks the options of the P(port443.https.webserver#role) role and the host's OS family, and returns one message
    per refusal (empty when the role goes on). On a host outside the Debian OS family that is the only message.
  - The role's first check and its state step use it alike.
options:
  _input:
    description:
      - The options, C(server), C(vhosts), C(guideline), C(profile), C(missing_certificate), C(stage_dir),
        C(candidate_dir) and C(caddy_caddyfile) (the role's C(webserver_*) options of those names).
    type: dict
    required: true
  os_family:
    description: The host's OS family (C(ansible_facts.os_family)).
    type: str
    default: Debian
  distribution:
    description: The host's distribution, for the message.
    type: str
"""

EXAMPLES = r"""
---
- name: Refuse bad options before anything changes
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join(' ') }}"
  vars:
    errors: "{{ options | port443.https.webserver_input_errors(os_family=ansible_facts['os_family']) }}"
    options: {server: nginx, vhosts: [{name: www, server_names: [www.example.org]}], guideline: "6.0",
              profile: intermediate, missing_certificate: fail, stage_dir: /etc/port443-stage,
              candidate_dir: /var/lib/port443/webserver, caddy_caddyfile: refuse}
"""

RETURN = r"""
_value:
  description: One message per refusal, each naming the option.
  type: list
  elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_decisions = Core("webserver._decisions")


def _webserver_input_errors(options, os_family="Debian", distribution=None):
    if not isinstance(options, dict):
        raise TypeError("expected the role's options (a dict)")
    return _decisions.check_input(**options, os_family=os_family, distribution=distribution)


class FilterModule:
    def filters(self):
        return {"webserver_input_errors": wrap("webserver_input_errors", _webserver_input_errors)}
