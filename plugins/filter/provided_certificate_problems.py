# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: provided_certificate_problems
short_description: Why a provided certificate, key and chain are refused
version_added: 1.1.0
author:
  - port443.https contributors (@port443)
description:
  - The reasons (empty = accepted) the P(port443.https.certificate#role) role refuses C(certificate_provided_cert),
    C(certificate_provided_key) and C(certificate_provided_chain) - the certificate expired, the key is not the
    certificate's, the chain is out of order (each certificate must be followed by its issuer), or it does not cover
    every name. The role's full path refuses with it and its state step (M(port443.https.certificate_state_info))
    applies the same code.
options:
  _input:
    description: The certificate (PEM).
    type: str
    required: true
  key:
    description: The private key (PEM, unencrypted).
    type: str
    required: true
  chain:
    description: The chain (PEM certificates, the certificate's issuer first); empty for none.
    type: str
    default: ""
  names:
    description: The subjectAltName entries it must cover (C(DNS:name), C(IP:address)).
    type: list
    elements: str
    default: []
requirements:
  - cryptography on the controller
"""

EXAMPLES = r"""
---
- name: Refuse a provided certificate that does not fit
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "refused: {{ problems | join('; ') }}"
  vars:
    problems: "{{ lookup('file', 'www.crt') | port443.https.provided_certificate_problems(lookup('file', 'www.key'), '', ['DNS:www.example.com']) }}"
"""

RETURN = r"""
_value:
  description: The problems, one sentence each; empty when the certificate is accepted.
  type: list
  elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, expect_text, wrap

_certstate = Core("certificate._certstate")


def _problems(cert, key, chain="", names=None):
    if not isinstance(names or [], list):
        raise TypeError(f"names: expected a list, got {type(names).__name__}")
    return _certstate.provided_problems(expect_text("provided_certificate_problems", cert, "a PEM certificate"),
                                        expect_text("provided_certificate_problems", key, "a PEM key"),
                                        expect_text("provided_certificate_problems", chain or "", "a PEM chain"),
                                        [str(n) for n in names or []])


class FilterModule:
    def filters(self):
        return {"provided_certificate_problems": wrap("provided_certificate_problems", _problems, needs_cryptography=True)}
