# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_at_least
short_description: Is a TLS version at least a given version
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - True when the input TLS version is the same as or newer than O(minimum).
options:
  _input:
    description: A TLS version (V(1.2), V(TLSv1.2), V(tls1_2)).
    type: string
    required: true
  minimum:
    description: The lowest acceptable version.
    type: string
    required: true
"""

EXAMPLES = r"""
---
- name: Negotiated version must be TLS 1.2 or newer
  ansible.builtin.assert:
    that:
      - item.tls.negotiated is port443.https.tls_at_least('1.2')
  loop: "{{ audit.endpoints | selectattr('tls.negotiated') }}"
  loop_control:
    label: "{{ item.host }}:{{ item.port }}"
"""

RETURN = r"""
_value:
  description: Whether the version is at least O(minimum).
  type: bool
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_classify = Core("reasons._classify")


def _at_least(version, minimum):
    return _classify.compare_tls_versions(version, minimum) >= 0


class TestModule:
    def tests(self):
        return {"tls_at_least": wrap("tls_at_least", _at_least)}
