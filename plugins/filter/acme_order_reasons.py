# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: acme_order_reasons
short_description: Why the certificate role orders an ACME certificate
version_added: 1.1.0
author:
  - port443.https contributors (@port443)
description:
  - The reasons (empty = no order) the P(port443.https.certificate#role) role orders a certificate from the ACME
    directory. The role's full path decides with it, and its state step (M(port443.https.certificate_state_info))
    applies the same code to what it reads on the host.
options:
  _input:
    description:
      - "The facts: C(exists) (the certificate file exists), C(names) (its subjectAltName entries as
        M(community.crypto.x509_certificate_info) lists them), C(wanted) (the role's entries), C(key_changed) (its
        public key is not the key's), C(issuer) (the recorded ACME directory, empty without), C(directory)
        (C(certificate_acme_directory)), C(renewal) (the renewal check's message when it says renew, else empty),
        C(forced), C(host_renewal) (C(certificate_renewal=host)), C(expired), C(in_window) (the
        P(port443.https.in_renewal_window#test) test)."
    type: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Why an order would run
  ansible.builtin.debug:
    msg: "{{ facts | port443.https.acme_order_reasons }}"
  vars:
    facts:
      exists: true
      names: [DNS:www.example.com]
      wanted: [DNS:www.example.com, DNS:example.com]
      key_changed: false
      issuer: https://acme-v02.api.letsencrypt.org/directory
      directory: https://acme-v02.api.letsencrypt.org/directory
      renewal: ""
      forced: false
      host_renewal: false
      expired: false
      in_window: false
"""

RETURN = r"""
_value:
  description: The reasons to order (V(the names changed), V(inside the renewal window), ...); empty when none.
  type: list
  elements: str
"""

from ansible_collections.port443.https.plugins.plugin_utils._filters import Core, wrap

_certstate = Core("certificate._certstate")

_KEYS = ("exists", "names", "wanted", "key_changed", "issuer", "directory", "renewal", "forced", "host_renewal", "expired",
         "in_window")


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _acme_order_reasons(value):
    if not isinstance(value, dict) or set(value) != set(_KEYS):
        raise TypeError(f"expected a dict with exactly the keys {', '.join(_KEYS)}")
    flags = {key: _bool(value[key]) for key in ("exists", "key_changed", "forced", "host_renewal", "expired", "in_window")}
    return _certstate.acme_order_reasons(names=list(value["names"] or []), wanted=list(value["wanted"] or []),
                                         issuer=str(value["issuer"] or ""), directory=str(value["directory"] or ""),
                                         renewal=str(value["renewal"] or ""), **flags)


class FilterModule:
    def filters(self):
        return {"acme_order_reasons": wrap("acme_order_reasons", _acme_order_reasons)}
