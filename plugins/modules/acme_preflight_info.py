#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_preflight_info
short_description: Check the names of an ACME order before a CA is asked
version_added: 1.0.0
description:
  - Validates the names of a certificate order (DNS names, a wildcard only as the whole leftmost label and only with
    DNS-01, no IP address with DNS-01, no duplicates), checks that they resolve and that their CAA records (RFC 8659)
    let the CA issue, and fails with one message that lists every problem and names the fix.
  - Resolution for V(http-01) means an A or AAAA record (the CA connects to the name); for V(dns-01) a zone that
    holds the name (its C(_acme-challenge) record must be publishable; the name itself need not resolve).
  - With O(profile), the ACME directories in O(acme_directories) are read and must advertise that profile
    (C(meta.profiles), draft-aaron-acme-profiles); a CA that advertises no profiles, or not that one, fails the check.
  - The CAA check climbs from each name towards the root; the first name with CAA records decides; for a wildcard an
    C(issuewild) property takes precedence over C(issue). A CAA lookup that fails is a failure, as it is for a CA.
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
options:
  names:
    description: DNS names (or IP addresses, with V(http-01)) of the certificate.
    type: list
    elements: str
    required: true
  challenge:
    description: The ACME challenge the order will use.
    type: str
    choices: [http-01, dns-01]
    default: http-01
  caa_identities:
    description:
      - Issuer domain names of the CA as CAA records name it, for example V(letsencrypt.org).
      - Empty skips the CAA check.
    type: list
    elements: str
    default: []
  resolver:
    description: DNS server (address or host name) to ask. Default is the first C(nameserver) of C(/etc/resolv.conf).
    type: str
  lookups:
    description: Ask DNS (resolution, CAA). V(false) only validates the names.
    type: bool
    default: true
  port:
    description: Port of O(resolver).
    type: int
    default: 53
  timeout:
    description: Seconds to wait for one DNS answer (each query is tried twice), and for the ACME directory.
    type: float
    default: 5
  profile:
    description:
      - The ACME profile the order will name (for example V(shortlived) at Let's Encrypt). Empty skips the check.
    type: str
    default: ""
    version_added: 1.1.0
  acme_directories:
    description: The ACME directory URLs the order will be sent to, read when O(profile) is set.
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  validate_certs:
    description: Verify the TLS certificate of the ACME directories.
    type: bool
    default: true
    version_added: 1.1.0
seealso:
  - module: port443.https.dns_update
"""

EXAMPLES = r"""
---
- name: Check the names before ordering a wildcard certificate from Let's Encrypt
  port443.https.acme_preflight_info:
    names: ["*.example.com", example.com]
    challenge: dns-01
    caa_identities: [letsencrypt.org]

- name: Check that Let's Encrypt offers six-day certificates before ordering one
  port443.https.acme_preflight_info:
    names: [www.example.com, 192.0.2.10]
    profile: shortlived
    acme_directories: [https://acme-v02.api.letsencrypt.org/directory]
"""

RETURN = r"""
names:
  description: Per name, what was found.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The name.
      type: str
    zone:
      description: The zone that holds the name (V(dns-01)).
      type: str
    addresses:
      description: Its A and AAAA addresses (V(http-01)).
      type: list
      elements: str
    caa_domain:
      description: The name whose CAA records decided, or null when no CAA record applies.
      type: str
    caa:
      description: Those CAA records.
      type: list
      elements: str
  sample: [{name: www.example.com, addresses: [192.0.2.10], caa_domain: example.com, caa: ['0 issue "letsencrypt.org"']}]
profiles:
  description: Per ACME directory read (O(profile) set), the profiles it advertises (name and description).
  returned: success
  type: dict
  sample: {"https://acme-v02.api.letsencrypt.org/directory": {classic: "The same profile you've always known"}}
  version_added: 1.1.0
"""

import ipaddress
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

from ansible_collections.port443.https.plugins.module_utils.certificate import _acme, _dns


def run(params: dict[str, t.Any], client: _dns.Client) -> tuple[list[dict[str, t.Any]], list[str]]:
    """What was found per name and the problems (each naming the option or the record to fix)."""
    problems = _dns.validate_names(params["names"], params["challenge"])
    if problems or not params["lookups"]:
        return [{"name": name} for name in params["names"]], problems
    resolver = _dns.resolve_host(params["resolver"] or _dns.system_resolvers()[0])
    port = params["port"]
    found = []
    for index, name in enumerate(params["names"]):
        entry: dict[str, t.Any] = {"name": name, "zone": None, "addresses": [], "caa_domain": None, "caa": []}
        found.append(entry)
        try:
            ipaddress.ip_address(name.strip())
            continue
        except ValueError:
            pass
        try:
            if params["challenge"] == "dns-01":
                entry["zone"] = client.find_zone(resolver, name, port)[0]
            else:
                entry["addresses"] = client.addresses(resolver, name, port)
                if not entry["addresses"]:
                    problems.append(f"names[{index}] {name}: no A or AAAA record at {resolver}; publish the name in "
                                    "DNS (the CA connects to it on port 80) or use challenge dns-01")
        except _dns.DNSError as exc:
            problems.append(f"names[{index}] {name}: {exc}")
            continue
        if not params["caa_identities"]:
            continue
        try:
            caa = _dns.caa_check(client, resolver, name, params["caa_identities"], port)
        except _dns.DNSError as exc:
            problems.append(f"names[{index}] {name}: the CAA lookup failed ({exc}); a CA refuses to issue then too")
            continue
        entry["caa_domain"], entry["caa"] = caa["domain"], caa["records"]
        if caa["problem"]:
            problems.append(f"names[{index}] {name}: {caa['problem']} at {caa['domain']}, not the CA "
                            f"({', '.join(params['caa_identities'])} in caa_identities); add a CAA record "
                            f"'{caa['domain']}. CAA 0 issue{'wild' if name.startswith('*.') else ''} "
                            f"\"{params['caa_identities'][0]}\"' or order from a CA it names")
    return found, problems


def check_profile(module: t.Any, profile: str, urls: list[str]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The profiles each directory advertises, and the problems with PROFILE (one per directory)."""
    found: dict[str, dict[str, str]] = {}
    problems = []
    if not profile:
        return found, problems
    if not urls:
        return found, ["profile is set but acme_directories is empty: cannot tell whether the CA offers it"]
    for url in urls:
        response, info = fetch_url(module, url, method="GET", timeout=module.params["timeout"])
        if info.get("status") != 200 or response is None:
            problems.append(f"the ACME directory {url} could not be read ({info.get('status')} {info.get('msg', '')}); "
                            f"cannot tell whether it offers the profile {profile!r} (profile)")
            continue
        directory = _acme.parse_directory(response.read())
        found[url] = _acme.profiles(directory) if directory is not None else {}
        problem = _acme.profile_problem(directory, profile, url)
        if problem:
            problems.append(problem)
    return found, problems


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "challenge": {"type": "str", "choices": ["http-01", "dns-01"], "default": "http-01"},
            "caa_identities": {"type": "list", "elements": "str", "default": []},
            "resolver": {"type": "str"},
            "lookups": {"type": "bool", "default": True},
            "port": {"type": "int", "default": 53},
            "timeout": {"type": "float", "default": 5},
            "profile": {"type": "str", "default": ""},
            "acme_directories": {"type": "list", "elements": "str", "default": []},
            "validate_certs": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    if module.params["timeout"] <= 0:
        module.fail_json(msg=f"timeout: {module.params['timeout']} must be greater than 0 (seconds)")
    try:
        found, problems = run(module.params, _dns.Client(_dns.Transport(timeout=module.params["timeout"])))
    except _dns.DNSError as exc:
        module.fail_json(msg=f"resolver: {exc}")
    profiles, profile_problems = check_profile(module, module.params["profile"], module.params["acme_directories"])
    problems = profile_problems + problems
    if problems:
        module.fail_json(msg="; ".join(problems), problems=problems, names=found, profiles=profiles)
    module.exit_json(changed=False, names=found, profiles=profiles)


if __name__ == "__main__":
    main()
