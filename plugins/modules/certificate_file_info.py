#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_file_info
short_description: Evaluate certificate, chain and key files on a host
version_added: 1.0.0
description:
  - Parses a PEM certificate (optionally followed by its chain), a separate chain file and a private key, and
    reports what a client would think of them, with the same verdicts as M(port443.https.https_endpoint_info)
    uses for a served chain.
  - Checks that the key belongs to the certificate, that the chain is in order (each certificate issued by the next)
    and complete (reaches a trusted root), the days left with warning/critical thresholds, weak keys and signatures,
    and which of O(names) the certificate covers.
  - "Trust is decided by C(openssl verify -purpose sslserver) on the host running the task (the leaf, the rest of the
    files as untrusted intermediates, O(ca_path) or the system store as anchors); the collection's chain walker
    explains a rejection. Without the C(openssl) command the verdict is V(unknown) with the C(verification_unknown)
    warning, never trusted."
  - Use it for provided certificates before deploying them, and to audit what is deployed (compare with what
    M(port443.https.https_endpoint_info) sees served).
author:
  - port443.https contributors (@port443)
requirements:
  - cryptography >= 3.4
  - the C(openssl) command (for the trust verdict)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
  - port443.https._policy
  - port443.https._attributes.checks_group
options:
  path:
    description: PEM file with the certificate, optionally followed by intermediates (a C(fullchain.pem)).
    type: path
    required: true
  chain_path:
    description: PEM file with the intermediate certificates, appended after the certificates of O(path).
    type: path
  key_path:
    description: PEM private key that must match the certificate.
    type: path
  key_passphrase:
    description: Passphrase of O(key_path).
    type: str
  names:
    description:
      - Host names or IP addresses the certificate must cover (SANs; wildcards and IP SANs are understood).
      - Each one is checked like an endpoint host of M(port443.https.https_endpoint_info); an empty or invalid
        name fails the task naming it (for example C(names[1])).
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds the C(openssl verify) run that decides trust may take (run through C(timeout) from coreutils when
        the host has it). When it takes longer, the trust verdict is unknown, never trusted.
      - The same option as M(port443.https.https_endpoint_info)'s, so one C(module_defaults) entry for the group
        C(group/port443.https.checks) can set it for both modules.
    type: float
    default: 5
seealso:
  - module: port443.https.https_endpoint_info
"""

EXAMPLES = r"""
---
- name: Check the deployed certificate, chain and key of the web server
  port443.https.certificate_file_info:
    path: /etc/ssl/www/fullchain.pem
    key_path: /etc/ssl/private/www.key
    names:
      - www.example.com
      - example.com
  register: deployed

- name: Fail when the files would not work for clients
  ansible.builtin.assert:
    that:
      - deployed.status != 'critical'
    fail_msg: "{{ deployed.reasons | map(attribute='message') | join('; ') }}"
"""

RETURN = r"""
status:
  description: The worst severity among RV(reasons) (V(ok), V(warning), V(critical)).
  returned: success
  type: str
  sample: ok
reasons:
  description: Findings, each with C(code), C(severity), C(message) and C(fix).
  returned: success
  type: list
  elements: dict
  sample: []
certificate:
  description:
    - Facts about the leaf (C(subject), C(issuer), C(serial), C(not_before), C(not_after), C(days_left), C(hours_left),
      C(sans), C(key_type), C(key_size), C(signature_algorithm), C(fingerprint_sha256)), the C(chain) (facts per certificate
      in file order, each with subject, issuer, serial, validity, key and signature algorithm), C(verification)
      (V(trusted), or the reason code explaining the rejection, as for M(port443.https.https_endpoint_info), or V(unknown)),
      C(trusted) (V(true) only when C(openssl verify) accepted the chain), C(validator) (what it said), C(path),
      C(chain_in_order), C(chain_problems), C(key_matches) (V(null) without O(key_path)) and
      C(hostname_match) (V(null) without O(names)) and C(names_not_covered) (the names of O(names) the
      certificate does not cover).
  returned: success
  type: dict
  sample: {subject: CN=www.example.com, days_left: 61, trusted: true, key_matches: true, chain_in_order: true}
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.port443.https.plugins.module_utils.certificate import _certfile, _x509
from ansible_collections.port443.https.plugins.module_utils.certificate import _policy


def _joined(outcome: tuple[int, str, str]) -> tuple[int, str]:
    """(rc, stdout + stderr): openssl verify prints its verdict on stdout and its errors on stderr."""
    return outcome[0], outcome[1] + outcome[2]


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "chain_path": {"type": "path"},
            "key_path": {"type": "path"},
            "key_passphrase": {"type": "str", "no_log": True},
            "names": {"type": "list", "elements": "str", "default": []},
            **_policy.ARGUMENT_SPEC,
            "timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    if not _x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(_x509.CRYPTOGRAPHY_IMPORT_ERROR))
    if module.params["timeout"] <= 0:
        module.fail_json(msg=f"timeout: {module.params['timeout']} must be greater than 0 (seconds)")
    limit = module.get_bin_path("timeout")

    def run(argv: list[str]) -> tuple[int, str]:
        if not limit:
            return _joined(module.run_command(argv))
        rc, out = _joined(module.run_command([limit, f"{module.params['timeout']:g}"] + argv))
        # coreutils timeout exits 124 when it had to stop the command.
        return rc, (f"stopped after timeout={module.params['timeout']:g}s" if rc == 124 else out)

    try:
        result = _certfile.inspect(module.params, run_command=run, openssl=module.get_bin_path("openssl"))
    except _certfile.CertFileError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
