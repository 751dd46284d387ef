# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_version_compare
short_description: Compare two TLS versions
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Returns V(-1), V(0) or V(1) as the input TLS version is lower than, equal to or higher than O(other).
  - Understands V(1.2), V(TLSv1.2), V(tls1_2), V(TLSv1) and so on.
options:
  _input:
    description: A TLS version.
    type: string
    required: true
  other:
    description: The TLS version to compare with.
    type: string
    required: true
seealso:
  - plugin: port443.https.tls_at_least
    plugin_type: test
"""

EXAMPLES = r"""
---
- name: Negotiated version compared with the policy
  ansible.builtin.debug:
    msg: "{{ 'TLSv1.3' | port443.https.tls_version_compare('1.2') }}"  # 1
"""

RETURN = r"""
_value:
  description: V(-1), V(0) or V(1).
  type: int
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_classify = Core("reasons._classify")


def _compare(left, right):
    return _classify.compare_tls_versions(left, right)


class FilterModule:
    def filters(self):
        return {"tls_version_compare": wrap("tls_version_compare", _compare)}
