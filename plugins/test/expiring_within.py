# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: expiring_within
short_description: Does a certificate expire within a number of days
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - True when the certificate (PEM, certificate facts with C(not_after), or a date string) expires in O(days) days
    or fewer, or has already expired. Uses the same computation as the P(port443.https.days_left#filter) filter.
requirements:
  - cryptography >= 3.4 (on the controller, for PEM input only)
options:
  _input:
    description: PEM certificate, certificate facts dict, or date string.
    type: raw
    required: true
  days:
    description: Number of days.
    type: int
    required: true
"""

EXAMPLES = r"""
---
- name: List endpoints whose certificate expires within 30 days
  ansible.builtin.debug:
    msg: "{{ audit.endpoints | selectattr('certificate') | selectattr('certificate', 'port443.https.expiring_within', 30)
             | map(attribute='host') }}"
"""

RETURN = r"""
_value:
  description: Whether the certificate expires within O(days) days.
  type: bool
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, expect_int, wrap

_certfile = Core("certificate._certfile")


def _expiring_within(value, days):
    return _certfile.days_left_of(value) <= expect_int("days", days)


class TestModule:
    def tests(self):
        return {"expiring_within": wrap("expiring_within", _expiring_within)}
