# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vantage_plan
short_description: Assign endpoints to vantage points for a multi-vantage (or sharded) HTTPS audit
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Used by the C(port443.https.verify_https) playbook. Given the endpoints, the vantage points (V(controller) or
    inventory host names) and the play's hosts, returns which vantage probes which endpoints and which play host
    runs each vantage's probe task (delegated to the vantage), so the vantages probe in parallel.
  - Mode V(all) gives every vantage every endpoint (an endpoint x vantage matrix); mode V(shard) splits the endpoint
    list round-robin over the vantages (each endpoint probed once, the work spread over several hosts).
  - Bad input fails with one error naming the option (for example C(verify_https_vantages)).
  - The companion filter C(port443.https.vantage_merge) turns the registered probe results into one list and matrix.
options:
  _input:
    description: The endpoints (a list of C({host, port, server_name, address}) dicts).
    type: list
    elements: dict
    required: true
  vantages:
    description: The vantage points, V(controller) and/or inventory host names.
    type: list
    elements: str
    required: true
  drivers:
    description: The play's hosts (C(ansible_play_hosts)); vantage I is driven by the host I modulo their number.
    type: list
    elements: str
    required: true
  mode:
    description: V(all) or V(shard).
    type: str
    default: all
"""

EXAMPLES = r"""
---
- name: Plan the probes
  ansible.builtin.set_fact:
    plan: "{{ endpoints | port443.https.vantage_plan(['controller', 'probe-eu'], ansible_play_hosts) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - C(mode), C(vantages), C(endpoints) (vantage to its endpoint list), C(drivers) (play host to the vantages whose
      probe it runs), C(connect) (vantage to the host the probe is delegated to; V(localhost) for V(controller)),
      C(label) (whether results get a C(source)).
  type: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_vantage = Core("report._vantage")


def _plan(endpoints, vantages, drivers, mode="all"):
    return _vantage.plan(endpoints, vantages, drivers, mode)


class FilterModule:
    def filters(self):
        return {
            "vantage_plan": wrap("vantage_plan", _plan),
        }
