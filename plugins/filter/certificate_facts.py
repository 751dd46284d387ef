# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: certificate_facts
short_description: Facts about the certificates in a PEM text
version_added: 1.0.0
author:
  - port443.https contributors (@port443)
description:
  - Parses a PEM text (one certificate or a whole chain) with the same code as
    M(port443.https.certificate_file_info) and returns facts about the first certificate plus a C(chain) list.
requirements:
  - cryptography >= 3.4 (on the controller)
options:
  _input:
    description: PEM text with at least one certificate.
    type: string
    required: true
seealso:
  - module: port443.https.certificate_file_info
  - plugin: port443.https.days_left
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Show who issued a certificate and until when it is valid
  ansible.builtin.debug:
    msg: "{{ facts.issuer }} until {{ facts.not_after }} ({{ facts.days_left }} days), names {{ facts.sans | join(', ') }}"
  vars:
    facts: "{{ lookup('ansible.builtin.file', '/etc/ssl/www/fullchain.pem') | port443.https.certificate_facts }}"
"""

RETURN = r"""
_value:
  description:
    - C(subject), C(issuer), C(common_name), C(serial), C(not_before), C(not_after), C(days_left), C(sans),
      C(key_type), C(key_size), C(signature_algorithm), C(is_ca), C(self_signed), C(fingerprint_sha256) of the first
      certificate, and C(chain), the same facts for every certificate in the text.
  type: dict
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, expect_text, wrap

_certfile = Core("certificate._certfile")


def _facts(value):
    return _certfile.pem_facts(expect_text("certificate_facts", value, "PEM text with a certificate"))


class FilterModule:
    def filters(self):
        return {"certificate_facts": wrap("certificate_facts", _facts, needs_cryptography=True)}
