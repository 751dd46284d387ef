# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: days_left
short_description: Whole days until a certificate expires
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Days until notAfter (negative once expired) of a PEM certificate, of certificate facts (a dict with C(not_after),
    as returned by M(port443.https.https_endpoint_info) or M(port443.https.certificate_file_info)), or of a date string
    (V(2026-12-31T23:59:59Z), V(20261231235959Z), V(2026-12-31)).
requirements:
  - cryptography >= 3.4 (on the controller, for PEM input only)
options:
  _input:
    description: PEM certificate, certificate facts dict, or date string (UTC when no zone is given).
    type: raw
    required: true
seealso:
  - plugin: port443.https.expiring_within
    plugin_type: test
"""

EXAMPLES = r"""
---
- name: Days left of each probed endpoint's certificate
  ansible.builtin.debug:
    msg: "{{ item.host }}: {{ item.certificate | port443.https.days_left }} days"
  loop: "{{ audit.endpoints | selectattr('certificate') }}"
  loop_control:
    label: "{{ item.host }}:{{ item.port }}"

- name: Days left until a date
  ansible.builtin.debug:
    msg: "{{ '2030-01-01T00:00:00Z' | port443.https.days_left }}"
"""

RETURN = r"""
_value:
  description: Whole days left (rounded down; negative when the date is in the past).
  type: int
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_certfile = Core("certificate._certfile")


def _days_left(value):
    return _certfile.days_left_of(value)


class FilterModule:
    def filters(self):
        return {"days_left": wrap("days_left", _days_left)}
