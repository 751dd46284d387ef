# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vantage_merge
short_description: Merge HTTPS probe results from several vantage points into one list and an endpoint x vantage matrix
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Used by the C(port443.https.verify_https) playbook after the probe task ran from every vantage point (see
    C(port443.https.vantage_plan)).
  - Every planned endpoint x vantage gives one result with C(source) set to the vantage. Differences are classified
    and added as reasons to the result that shows them - open from one vantage and timed out from another is
    C(vantage_filtered) (a host firewall, security group or upstream filter), refused is C(vantage_refused), another
    certificate or no TLS is C(vantage_answer_differs) (a proxy or load balancer in between).
  - Never fails open. A vantage whose probe did not run (unreachable host, failed task) or returned other endpoints
    than planned gives each of its planned endpoints a V(critical) result with C(vantage_missing).
options:
  _input:
    description:
      - The registered results of the probe task, as a list (one per play host; each either a loop result with
        C(results) or one loop item C({item, endpoints})).
    type: list
    elements: dict
    required: true
  plan:
    description: The output of C(port443.https.vantage_plan).
    type: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Merge what every vantage saw
  ansible.builtin.set_fact:
    merged: "{{ ansible_play_hosts | map('extract', hostvars) | map(attribute='probe', default={}) | list
                | port443.https.vantage_merge(plan) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - C(endpoints), the flat result list for M(port443.https.https_report), and C(matrix)
      (C(vantages), C(rows) with C(endpoint), C(status), C(cells) per vantage, C(findings) and C(differs) (in what
      the cells disagree), and C(differences), the number of rows with a finding or a disagreement).
  type: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_vantage = Core("report._vantage")


def _merge(probes, planned):
    return _vantage.merge(probes, planned)


class FilterModule:
    def filters(self):
        return {"vantage_merge": wrap("vantage_merge", _merge)}
