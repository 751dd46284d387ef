# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: in_renewal_window
short_description: Is a certificate inside its renewal window
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - True when the certificate is not valid any more in O(days) days (or not yet valid), or has less than O(percent)
    percent of its lifetime left. The P(port443.https.certificate#role) role renews with this rule, and its state step
    (M(port443.https.certificate_state_info)) applies the same code.
options:
  _input:
    description:
      - Certificate facts with C(not_before) and C(not_after) (as M(community.crypto.x509_certificate_info) or
        M(port443.https.certificate_file_info) return them; V(20261231235959Z) or V(2026-12-31T23:59:59Z)).
    type: dict
    required: true
  days:
    description: The renewal window in days (C(certificate_renew_days)).
    type: int
    required: true
  percent:
    description: Renew with less than this percentage of the lifetime left (C(certificate_renew_percent)); V(0) turns
      the rule off.
    type: float
    default: 0
"""

EXAMPLES = r"""
---
- name: Renew inside 30 days of the end, or with less than a third of the lifetime left
  ansible.builtin.debug:
    msg: "{{ current is port443.https.in_renewal_window(30, 33) }}"
  vars:
    current: {not_before: "20260101000000Z", not_after: "20260401000000Z"}
"""

RETURN = r"""
_value:
  description: Whether the certificate is inside its renewal window.
  type: bool
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, expect_int, wrap

_certfile = Core("certificate._certfile")
_certstate = Core("certificate._certstate")


def _in_renewal_window(value, days, percent=0):
    if not isinstance(value, dict) or "not_before" not in value or "not_after" not in value:
        raise TypeError("expected certificate facts with not_before and not_after")
    start, end = (_certfile.parse_date(str(value[key])) for key in ("not_before", "not_after"))
    try:
        share = float(percent)
    except (TypeError, ValueError):
        raise TypeError(f"percent: expected a number, got {percent!r}") from None
    return bool(_certstate.renewal_reason(start, end, expect_int("days", days), share))


class TestModule:
    def tests(self):
        return {"in_renewal_window": wrap("in_renewal_window", _in_renewal_window)}
