#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_state_info
short_description: Decide in one read-only step whether the certificate role has anything to change
version_added: 1.0.0
description:
  - The first step of the C(port443.https.certificate) role (its C(main) entry point). It learns, without changing
    anything, whether the role's full path (packages, directories, key, signing, copies, full chain, trust store)
    would change something on the host or, for O(source=internal_ca) with the CA on the controller, on the
    controller. RV(drift) V(false) means the full path would report no change; the role then only publishes its facts.
  - "It may report a drift the full path then does not find (the cost is a run of the full path) but never misses
    one: whatever it cannot decide counts as drift. Always drift: a non-empty O(full_path_reasons) (the role passes
    pools, client certificates, a forced renewal and, for V(acme), C(certificate_renewal=host)), an internal CA on
    another host than the controller, DNS names that are not lower-case ASCII (V(selfsigned), V(internal_ca))."
  - "O(source=acme): the challenge directory under O(acme_webroot) (V(http-01); owner root, mode 0755), the account
    key O(acme_account_key) (owner root, mode 0600, ECC secp256r1), the key, and whether the role would order - with
    the role's own rule (the P(port443.https.acme_order_reasons#filter) filter): a certificate that exists, for
    exactly O(sans), of the key, recorded as issued by O(acme_directory) (the C(.acme-directory) file next to it; a
    certificate without it is drift), not expired, outside the renewal window (the
    P(port443.https.in_renewal_window#test) rule) and, with O(acme_use_ari), before the window the CA suggests
    through ACME Renewal Information. Then the full chain as the role writes it (certificate and chain file)."
  - "ARI: the module asks the directory and its C(renewalInfo) itself, as the role's renewal check
    (M(community.crypto.acme_certificate_renewal_info)) does, with a timeout of O(acme_timeout) seconds. That check
    renews at a random time inside the suggested window, so only a time before the window is converged; inside or
    after it, or when the CA cannot be asked (the full path then asks again and fails when it cannot), it is drift.
    A directory without C(renewalInfo), or a certificate without an authority key identifier, has no ARI (as there).
    With O(acme_use_ari=false) the CA is not asked."
  - "O(source=provided): the refusal of the role (the P(port443.https.provided_certificate_problems#filter) filter:
    expired, another key, chain out of order, names not covered), the key, certificate and chain files with the exact
    content the role copies (owner root, modes 0600 and 0644), and the full chain."
  - On the host it checks the packages (C(dpkg-query)), the directories (owner root, modes 0755 and 0700), the key
    (owner root, mode 0600, loads, type and curve or size), the certificate (owner root, mode 0644, parses, belongs to
    the key, subject and subjectAltName exactly as the role's signing request has them, no other extension than
    the key identifiers, self-signed by its key or issued by the CA with the CA's authority key identifier, outside
    the renewal window of O(renew_days) and O(renew_percent)), the full chain (exact content, owner, mode), and for
    the internal CA the CA copy next to the certificate and the trust-store entry (O(ca_trust=true) present with the
    CA's content; V(false) absent when it holds this CA's key).
  - On the controller (action plugin) it checks the CA directory (mode 0700), the CA key (mode 0600, loads with
    the passphrase, ECC secp384r1), the recorded name constraints (exact content, mode 0644) and the CA certificate
    (mode 0644, matches the key, self-signed, subject, basic constraints, key usage and name constraints as the
    role's CA signing request has them). It also refuses hosts outside the Debian OS family and unusable settings
    with one message (the role's input checks). When C(os_family) is unknown (no fact gathering) the module reads the
    host's C(/etc/os-release) itself (O(require_os_family)), in the same round trip; where the module does not run
    (the full path is decided on the controller), one plain command reads it.
author:
  - port443.https contributors (@port443)
requirements:
  - cryptography >= 3.4 on the host (without it the result is drift, as the role installs it)
  - For O(source=acme) with O(acme_use_ari), the host reaches the ACME directory (as the role's renewal check does)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
options:
  source:
    description: The role's C(certificate_source).
    type: str
    choices: [selfsigned, internal_ca, provided, acme]
    required: true
  sans:
    description: The subjectAltName entries in the role's signing request form (C(DNS:name), C(IP:address)); must not be empty.
    type: list
    elements: str
    required: true
  common_name:
    description: Common name of the subject (the role's first name).
    type: str
    required: true
  key_type:
    description: Type of the private key.
    type: str
    choices: [ECC, RSA]
    default: ECC
  key_curve:
    description: Curve of an ECC key.
    type: str
    default: secp256r1
  key_size:
    description: Size in bits of an RSA key.
    type: int
    default: 2048
  cert_dir:
    description: Directory of the certificate (root, 0755).
    type: path
    required: true
  key_dir:
    description: Directory of the key (root, 0700).
    type: path
    required: true
  cert_path:
    description: The certificate file.
    type: path
    required: true
  key_path:
    description: The private key file.
    type: path
    required: true
  fullchain_path:
    description: The full chain file.
    type: path
    required: true
  ca_copy_path:
    description: The copy of the internal CA's certificate next to the certificate.
    type: path
  trust_path:
    description: The internal CA's entry in the system trust store.
    type: path
  ca_trust:
    description: Whether the internal CA belongs in the system trust store.
    type: bool
    default: false
  ca_cert:
    description:
      - PEM of the internal CA's certificate. Filled in by the action plugin from O(ca.cert) when O(ca.on_controller);
        empty means drift.
    type: str
    default: ""
  chain_path:
    description: The chain file (V(acme) and V(provided); the full chain holds the certificate, then this file's content).
    type: path
    version_added: 1.1.0
  provided_cert:
    description: C(certificate_provided_cert) (O(source=provided)).
    type: str
    default: ""
    version_added: 1.1.0
  provided_key:
    description: C(certificate_provided_key) (O(source=provided)); never shown.
    type: str
    default: ""
    version_added: 1.1.0
  provided_chain:
    description: C(certificate_provided_chain) (O(source=provided)); empty for none.
    type: str
    default: ""
    version_added: 1.1.0
  acme_directory:
    description: C(certificate_acme_directory); required with O(source=acme).
    type: str
    default: ""
    version_added: 1.1.0
  acme_use_ari:
    description: C(certificate_acme_use_ari) - ask the CA's ACME Renewal Information (see the description).
    type: bool
    default: true
    version_added: 1.1.0
  acme_validate_certs:
    description: C(certificate_acme_validate_certs) - verify the CA's TLS certificate when asking ARI.
    type: bool
    default: true
    version_added: 1.1.0
  acme_timeout:
    description: Seconds to wait for each ARI request (the directory, then C(renewalInfo)); a timeout is drift.
    type: int
    default: 10
    version_added: 1.1.0
  acme_challenge:
    description: C(certificate_acme_challenge); V(http-01) checks the challenge directory under O(acme_webroot).
    type: str
    choices: [http-01, dns-01]
    default: http-01
    version_added: 1.1.0
  acme_webroot:
    description: C(certificate_acme_webroot).
    type: path
    default: /var/www/acme
    version_added: 1.1.0
  acme_account_key:
    description: C(certificate_acme_account_key); required with O(source=acme).
    type: path
    version_added: 1.1.0
  renew_days:
    description:
      - Renewal window in days (a certificate not valid for this many more days is renewed).
      - A window as long as the certificate's lifetime or longer falls back to a share of the lifetime, O(renew_percent)
        when set, else a third (a six-day certificate is not renewed on every run).
    type: int
    default: 30
  renew_percent:
    description: Renewal when less than this percentage of the lifetime remains; V(0) turns it off.
    type: float
    default: 0
  packages:
    description: Debian packages that must be installed (empty when the role does not install packages).
    type: list
    elements: str
    default: []
  full_path_reasons:
    description: Reasons of the caller to take the full path anyway (each counts as drift). Handled by the action plugin.
    type: list
    elements: str
    default: []
  provided_complete:
    description: For O(source=provided), whether both the certificate and the key were given (the action refuses otherwise).
    type: bool
    default: true
  key_types:
    description:
      - The role's C(certificate_key_types) (dual certificates), checked by the action plugin (ECC and RSA, each at most
        once; not with O(source=provided)).
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  host_renewal_server:
    description:
      - With the role's C(certificate_renewal=host), its C(certificate_host_renewal_server); empty otherwise. Checked by
        the action plugin before anything changes - one of the web servers the collection sets up, and one key type
        only (O(key_types)), as the renewal agent on the host renews one certificate.
    type: str
    default: ""
    version_added: 1.1.0
  alternates:
    description:
      - Dual certificates, handled by the action plugin - the second key type's files (C(key_type), C(cert), C(key),
        C(chain), C(fullchain)), checked like the first's; their reasons start with the key type (C(RSA certificate:)).
    type: list
    elements: dict
    default: []
    version_added: 1.1.0
  os_family:
    description:
      - The host's C(ansible_facts.os_family), checked by the action plugin; empty when the play gathered no facts (then
        the host's os-release decides, see O(require_os_family)).
    type: str
    default: ""
  require_os_family:
    description:
      - Refuse, before reading anything else, a host whose OS family (read from its C(/etc/os-release)) is not this one,
        with the message the roles refuse such hosts with. The action plugin passes V(Debian) when O(os_family) is empty.
    type: str
    default: ""
    version_added: 1.1.0
  ca:
    description: The internal CA, read on the controller by the action plugin (only for O(source=internal_ca)).
    type: dict
    suboptions:
      on_controller:
        description: Whether the CA lives on the controller; V(false) always means drift.
        type: bool
        default: false
      dir:
        description: The CA directory.
        type: path
      key:
        description: The CA key.
        type: path
      cert:
        description: The CA certificate.
        type: path
      constraints:
        description: The JSON file of the name constraints the CA was created with.
        type: path
      passphrase:
        description: Passphrase of the CA key.
        type: str
      common_name:
        description: Common name of the CA.
        type: str
      permitted:
        description: Explicit name constraints in signing request form (C(DNS:suffix), C(IP:network/prefix)); empty = the recorded ones.
        type: list
        elements: str
        default: []
notes:
  - The C(port443.https.certificate) role runs it and includes its full path only when RV(drift) is V(true). Its
    Molecule scenario C(certificate_acme) proves it for V(acme) and V(provided) (a converged re-run runs no task of
    the full path; other names or a deleted certificate take it); C(certificate_dns) proves it by drift made by hand
    (key mode, deleted full chain, new names, deleted trust-store entry, a certificate of another key, a renewal
    window) that C(--check) reports and a run repairs.
seealso:
  - module: port443.https.certificate_file_info
  - plugin: port443.https.acme_order_reasons
    plugin_type: filter
  - plugin: port443.https.provided_certificate_problems
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Learn whether the self-signed certificate of www needs any change
  port443.https.certificate_state_info:
    source: selfsigned
    sans: [DNS:www.example.com]
    common_name: www.example.com
    cert_dir: /etc/ssl/port443
    key_dir: /etc/ssl/port443/private
    cert_path: /etc/ssl/port443/www.crt
    key_path: /etc/ssl/port443/private/www.key
    fullchain_path: /etc/ssl/port443/www-fullchain.crt
    packages: [python3-cryptography, ca-certificates, openssl]
  register: cert_state

- name: Show why the role would run its full path
  ansible.builtin.debug:
    var: cert_state.reasons
  when: cert_state.drift
"""

RETURN = r"""
drift:
  description: Whether the role's full path may change something (V(false) = converged, nothing to do).
  returned: success
  type: bool
  sample: false
reasons:
  description: What differs (or could not be decided), one line each; empty when converged.
  returned: success
  type: list
  elements: str
  sample: ["/etc/ssl/port443/private/www.key: mode 0644, expected 0600"]
missing_packages:
  description:
    - The packages of O(packages) that dpkg's database does not list as installed (empty when all are), so that the
      full path installs only when one is missing. V(null) when they were not checked (a source or setting that
      always takes the full path).
  returned: success
  type: list
  elements: str
  sample: []
exists:
  description:
    - Whether each key type's certificate file is on the host, read before anything changes, one entry per key type
      (O(cert_path) first, then the C(cert) of each of O(alternates)). A path that exists as any kind of file counts, a
      dangling link included (as M(ansible.builtin.stat) reports it without following links).
    - The role's full path starts its decisions from it (the renewal window, ACME's staging order, a pool's copy)
      instead of reading the host again.
  returned: when the host was read (the sources selfsigned, internal_ca, provided and acme without O(full_path_reasons))
  type: list
  elements: bool
  sample: [true]
"""

import json
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.port443.https.plugins.module_utils.certificate import _acme, _certstate, _x509
from ansible_collections.port443.https.plugins.module_utils.host import _os
from ansible_collections.port443.https.plugins.module_utils.host import _packages as packages

ARGUMENT_SPEC: dict[str, t.Any] = {
    "source": {"type": "str", "required": True, "choices": ["selfsigned", "internal_ca", "provided", "acme"]},
    "sans": {"type": "list", "elements": "str", "required": True},
    "common_name": {"type": "str", "required": True},
    "key_type": {"type": "str", "default": "ECC", "choices": ["ECC", "RSA"]},
    "key_curve": {"type": "str", "default": "secp256r1", "no_log": False},
    "key_size": {"type": "int", "default": 2048},
    "cert_dir": {"type": "path", "required": True},
    "key_dir": {"type": "path", "required": True},
    "cert_path": {"type": "path", "required": True},
    "key_path": {"type": "path", "required": True},
    "fullchain_path": {"type": "path", "required": True},
    "ca_copy_path": {"type": "path"},
    "trust_path": {"type": "path"},
    "ca_trust": {"type": "bool", "default": False},
    "ca_cert": {"type": "str", "default": ""},
    "chain_path": {"type": "path"},
    "provided_cert": {"type": "str", "default": ""},
    "provided_key": {"type": "str", "default": "", "no_log": True},
    "provided_chain": {"type": "str", "default": ""},
    "acme_directory": {"type": "str", "default": ""},
    "acme_use_ari": {"type": "bool", "default": True},
    "acme_validate_certs": {"type": "bool", "default": True},
    "acme_timeout": {"type": "int", "default": 10},
    "acme_challenge": {"type": "str", "default": "http-01", "choices": ["http-01", "dns-01"]},
    "acme_webroot": {"type": "path", "default": "/var/www/acme"},
    "acme_account_key": {"type": "path"},
    "renew_days": {"type": "int", "default": 30},
    "renew_percent": {"type": "float", "default": 0},
    "packages": {"type": "list", "elements": "str", "default": []},
    "full_path_reasons": {"type": "list", "elements": "str", "default": []},
    "provided_complete": {"type": "bool", "default": True},
    "os_family": {"type": "str", "default": ""},
    "require_os_family": {"type": "str", "default": ""},
    "key_types": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "host_renewal_server": {"type": "str", "default": ""},
    "alternates": {"type": "list", "elements": "dict", "default": []},
    "ca": {
        "type": "dict",
        "options": {
            "on_controller": {"type": "bool", "default": False},
            "dir": {"type": "path"},
            "key": {"type": "path"},
            "cert": {"type": "path"},
            "constraints": {"type": "path"},
            "passphrase": {"type": "str", "no_log": True},
            "common_name": {"type": "str"},
            "permitted": {"type": "list", "elements": "str", "default": []},
        },
    },
}


def main() -> t.NoReturn:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if params["require_os_family"]:
        found = _os.read()
        if found["os_family"] != params["require_os_family"]:
            module.fail_json(msg=_os.refusal("certificate", found) if params["require_os_family"] == _os.FAMILY else
                             f"require_os_family: this host runs {found['distribution'] or 'an unknown distribution'} (OS family "
                             f"{found['os_family'] or 'unknown'}), not of the OS family {params['require_os_family']}.")
    if not params["sans"]:
        module.fail_json(msg="sans: must not be empty (certificate_sans)")
    if params["source"] == "internal_ca" and not (params["ca_copy_path"] and params["trust_path"]):
        module.fail_json(msg="ca_copy_path and trust_path: required with source internal_ca")
    has_dpkg = module.get_bin_path("dpkg-query") is not None
    checked: dict[str, list[str]] = {}

    def packages_missing(names: list[str]) -> list[str]:
        # Without dpkg-query (not a Debian host) every package counts as missing: the full path decides.
        checked["missing"] = packages.missing(module.run_command, names) if has_dpkg else list(names)
        return checked["missing"]

    if params["source"] == "acme" and not (params["acme_directory"] and params["acme_account_key"]):
        module.fail_json(msg="acme_directory and acme_account_key: required with source acme")

    def get_json(url: str) -> dict[str, t.Any]:
        try:
            response = open_url(url, method="GET", validate_certs=params["acme_validate_certs"], timeout=params["acme_timeout"],
                                http_agent="port443.https certificate_state_info")
            data = response.read()
        except Exception as exc:  # noqa: BLE001 - whatever fails (URL, TLS, HTTP status, timeout), the verdict is drift
            raise ValueError(f"{url}: {exc}") from None
        body = _acme.parse_directory(data)
        if body is None:
            raise ValueError(f"{url} did not answer a JSON object")
        return body

    def ari(cert: t.Any) -> str:
        # What community.crypto's acme_certificate_renewal_info asks (the full path's renewal check): the directory,
        # then renewalInfo/<certID>; no ARI when the directory has no renewalInfo or the certificate no AKI.
        directory = get_json(params["acme_directory"])
        cert_id = _certstate.ari_cert_id(cert)
        if cert_id is None or not isinstance(directory.get("renewalInfo"), str):
            return ""
        start, end = _acme.renewal_window(json.dumps(get_json(directory["renewalInfo"].rstrip("/") + "/" + cert_id)))
        return _acme.ari_reason(start, end, _x509.utcnow())

    reasons = list(params["full_path_reasons"]) + _certstate.host_state(params, packages_missing, ari=ari)
    module.exit_json(changed=False, drift=bool(reasons), reasons=reasons, missing_packages=checked.get("missing"),
                     exists=_certstate.certificate_exists(params["cert_path"]))


if __name__ == "__main__":
    main()
