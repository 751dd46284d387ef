# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_profile
short_description: Render a Mozilla server-side TLS profile for nginx, Apache or Caddy
version_added: 1.0.0
author: port443.https contributors
description:
  - Takes the name of a profile from Mozilla's server-side TLS guidelines (versions 5.7, 5.8 and 6.0, shipped
    with the collection as Mozilla publishes them) and returns the settings a web server needs, in that server's
    own syntax.
  - The C(port443.https.webserver) role renders every virtual host through this filter.
options:
  _input:
    description: The profile name.
    type: str
    required: true
    choices: [modern, intermediate, old]
  server:
    description: The web server whose syntax the result uses. V(generic) uses OpenSSL names.
    type: str
    default: generic
    choices: [nginx, apache, caddy, haproxy, generic]
  guideline:
    description:
      - The version of Mozilla's guidelines. Guideline V(6.0) has no V(old) profile.
    type: str
    default: "6.0"
    choices: ["5.7", "5.8", "6.0"]
  pq:
    description:
      - Whether the server's TLS stack speaks the hybrid post-quantum group X25519MLKEM768 (OpenSSL 3.5 or later;
        Caddy 2.10 or later built with Go 1.24 or later). When false the group is left out, as Mozilla's generator
        does for older libraries.
    type: bool
    default: true
seealso:
  - name: Mozilla server-side TLS guidelines
    description: The source of the profiles.
    link: https://wiki.mozilla.org/Security/Server_Side_TLS
"""

EXAMPLES = r"""
---
- name: Show what nginx gets for the intermediate profile
  ansible.builtin.debug:
    msg: "ssl_protocols {{ ('intermediate' | port443.https.tls_profile('nginx')).protocols }};"

- name: The TLS versions the modern profile allows
  ansible.builtin.debug:
    msg: "{{ ('modern' | port443.https.tls_profile).versions }}"  # ['1.3']

- name: The groups of guideline 5.7's intermediate profile for an nginx whose OpenSSL is older than 3.5
  ansible.builtin.debug:
    msg: "ssl_ecdh_curve {{ ('intermediate' | port443.https.tls_profile('nginx', '5.7', pq=false)).ecdh_curve }};"
"""

RETURN = r"""
_value:
  description: The profile's settings for the server.
  type: dict
  contains:
    profile:
      description: The profile name.
      type: str
    guidelines_version:
      description: The version of Mozilla's guidelines the data comes from.
      type: str
      sample: "6.0"
    pq:
      description: Whether post-quantum groups were kept (the O(pq) option).
      type: bool
    groups:
      description: The key exchange groups the server is expected to offer, OpenSSL names.
      type: list
      elements: str
    dhparam:
      description: Whether the profile still has DHE suites, so the server needs DH parameters (RFC 7919 ffdhe2048).
      type: bool
    dh_param_size:
      description: The DH parameter size of the guideline, or null when the profile has no DHE suite.
      type: int
    maximum_certificate_lifespan:
      description: The longest certificate lifetime the guideline accepts, in days.
      type: int
    versions:
      description: The TLS versions the profile allows, as V(1.2), V(1.3).
      type: list
      elements: str
    versions_disabled:
      description: The TLS versions the profile forbids.
      type: list
      elements: str
    min_version:
      description: The lowest allowed TLS version.
      type: str
    protocols:
      description: The protocol setting in the server's syntax (C(ssl_protocols), C(SSLProtocol), Caddy C(protocols)).
      type: str
      sample: TLSv1.2 TLSv1.3
    ciphers:
      description: The TLS 1.2 ciphers in the server's syntax; empty when TLS 1.2 is not allowed.
      type: str
    ciphersuites:
      description: The TLS 1.3 cipher suites in OpenSSL syntax; empty for Caddy (Go does not let them be chosen).
      type: str
    ecdh_curve:
      description: The key exchange groups in the server's syntax.
      type: str
    ecdh_curves:
      description: The same as RV(_value.groups) (kept for compatibility).
      type: list
      elements: str
    hsts_min_age:
      description: The minimum HSTS max-age, in seconds.
      type: int
    server_preferred_order:
      description: Whether the server should impose its cipher order.
      type: bool
    ocsp_staple:
      description: Whether the guidelines recommend OCSP stapling.
      type: bool
    certificate_types:
      description: Recommended certificate key types.
      type: list
      elements: str
    rsa_key_size:
      description: Minimum RSA key size, or null when RSA certificates are not recommended.
      type: int
    ciphers_iana:
      description: The TLS 1.2 ciphers with IANA names.
      type: list
      elements: str
    ciphersuites_iana:
      description: The TLS 1.3 suites with IANA names.
      type: list
      elements: str
    server:
      description: The server the result was rendered for.
      type: str
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.module_utils.profiles._tls_profiles import LATEST, ProfileError, render


def tls_profile(profile: t.Any, server: str = "generic", guideline: t.Any = LATEST, pq: t.Any = True) -> dict[str, t.Any]:
    if not isinstance(profile, str):
        raise AnsibleFilterError(f"tls_profile: the input must be a profile name, not {type(profile).__name__}")
    if not isinstance(server, str):
        raise AnsibleFilterError("tls_profile: server must be a string")
    if not isinstance(pq, bool):
        raise AnsibleFilterError(f"tls_profile: pq must be true or false, not {pq!r}")
    try:
        return render(profile, server, guideline, pq=pq)
    except ProfileError as exc:
        raise AnsibleFilterError(f"tls_profile: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"tls_profile": tls_profile}
