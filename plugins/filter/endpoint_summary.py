# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: endpoint_summary
short_description: Summary counts of endpoint results across a fleet
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Counts endpoints per status and per reason code, for results gathered from several hosts or several runs of
    M(port443.https.https_endpoint_info) (the same computation as its RV(port443.https.https_endpoint_info#module:summary)).
  - Never fails open. An endpoint whose C(status) is missing or not V(ok), V(warning) or V(critical), or that has a
    reason without a known severity, counts as V(critical).
  - Input that is not a list of dicts, or C(reasons) that are not a list of dicts, fail with one error naming the filter.
options:
  _input:
    description: A list of endpoint results (each a dict with C(status) and C(reasons)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Fleet summary from the inside view of every host
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts | map('extract', hostvars, ['inside', 'endpoints']) | flatten
         | port443.https.endpoint_summary }}
  run_once: true
"""

RETURN = r"""
_value:
  description: C(total), C(ok), C(warning), C(critical) and C(by_reason) (code to count).
  type: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_classify = Core("reasons._classify")


def _summary(results):
    if not isinstance(results, (list, tuple)):
        raise TypeError(f"expected a list of endpoint results, got {type(results).__name__}")
    for idx, item in enumerate(results):
        if not isinstance(item, dict):
            raise TypeError(f"expected endpoint results (dicts), got {type(item).__name__} at [{idx}]")
        reasons = item.get("reasons")
        if reasons is not None and (not isinstance(reasons, list) or not all(isinstance(r, dict) for r in reasons)):
            raise TypeError(f"[{idx}].reasons: expected a list of dicts with code and severity, got {reasons!r}"[:200])
    return _classify.summarize(results)


class FilterModule:
    def filters(self):
        return {"endpoint_summary": wrap("endpoint_summary", _summary)}
