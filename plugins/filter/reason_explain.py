# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: reason_explain
short_description: Explanation and likely fix of a reason code
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Looks up a reason code of M(port443.https.https_endpoint_info) (for example V(filtered), V(incomplete_chain))
    and returns its default severity, explanation and fix.
options:
  _input:
    description: A reason code.
    type: string
    required: true
"""

EXAMPLES = r"""
---
- name: Explain a code
  ansible.builtin.debug:
    msg: "{{ ('filtered' | port443.https.reason_explain).fix }}"
"""

RETURN = r"""
_value:
  description: C(code), C(severity), C(message) and C(fix).
  type: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_classify = Core("reasons._classify")


def _explain(code):
    if not isinstance(code, str):
        raise TypeError(f"expected a reason code (a string such as 'filtered'), got {type(code).__name__}")
    if code not in _classify.REASONS:
        raise ValueError(f"unknown reason code {code!r} (known: {', '.join(sorted(_classify.REASONS))})")
    return _classify.explain(code)


class FilterModule:
    def filters(self):
        return {"reason_explain": wrap("reason_explain", _explain)}
