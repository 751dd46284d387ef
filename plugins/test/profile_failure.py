# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: profile_failure
short_description: Does a reason code mean that a server is not shown to serve its Mozilla profile
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - True for the reason codes of the C(ciphers) check of M(port443.https.https_endpoint_info) that mean the server is
    not shown to serve the Mozilla profile given as O(port443.https.https_endpoint_info#module:tls_profile), namely
    C(profile_mismatch), C(weak_cipher), C(weak_dh), and C(cipher_enumeration_unknown) (an enumeration that did not
    finish proves nothing). False for every other code, among them the warnings C(cbc_only), C(no_forward_secrecy)
    and C(no_pq_kex).
  - The C(port443.https.webserver) role's verification and the C(port443.https.verify_https) playbook fail on
    these codes.
options:
  _input:
    description: A reason code (the C(code) of an item of an endpoint's C(reasons)).
    type: string
    required: true
seealso:
  - plugin: port443.https.reason_explain
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Fail when an endpoint does not serve its profile
  ansible.builtin.assert:
    that: item.reasons | selectattr('code', 'port443.https.profile_failure') | list | length == 0
    fail_msg: "{{ item.reasons | selectattr('code', 'port443.https.profile_failure') | map(attribute='message') }}"
  loop: "{{ audit.endpoints }}"
"""

RETURN = r"""
_value:
  description: Whether the code is one of the profile failures.
  type: bool
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_classify = Core("reasons._classify")


def _profile_failure(code):
    if not isinstance(code, str):
        raise TypeError(f"expected a reason code (a string such as 'profile_mismatch'), got {type(code).__name__}")
    return code in _classify.PROFILE_FAILURES


class TestModule:
    def tests(self):
        return {"profile_failure": wrap("profile_failure", _profile_failure)}
