# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # The options of the ciphers check (cipher suites and key exchange on the wire), one validation in _ciphers.
    DOCUMENTATION = r"""
options:
  tls_profile:
    description:
      - Mozilla profile (V(modern), V(intermediate) or V(old)) of guideline O(tls_guideline) that the server should
        serve. With it, the C(ciphers) check compares what the server accepts (TLS versions, TLS 1.2 and lower suites,
        TLS 1.3 suites, key exchange groups) with the profile and reports C(profile_mismatch), listing the extra and the
        missing items.
      - TLS 1.2 suites of the profile whose authentication the server cannot offer (ECDSA suites behind an RSA
        certificate, and the reverse) are not counted as missing.
      - Needs C(ciphers) in O(checks); the task fails naming this option otherwise.
    type: str
    choices: [modern, intermediate, old]
  tls_guideline:
    description:
      - Version of Mozilla's Server Side TLS guideline whose O(tls_profile) is compared; the collection carries
        V(5.7), V(5.8) and V(6.0).
    type: str
    default: '6.0'
  tls_pq:
    description:
      - Whether the server's TLS stack can speak the hybrid post-quantum group C(X25519MLKEM768) (OpenSSL 3.5 or newer,
        Go 1.24 or newer). With V(false) the group is dropped from the groups O(tls_profile) expects, as Mozilla's
        generator does for older stacks.
    type: bool
    default: true
  require_pq_kex:
    description:
      - Report C(no_pq_kex) (V(warning)) when the server does not accept C(X25519MLKEM768) in TLS 1.3.
      - Needs C(ciphers) in O(checks).
    type: bool
    default: false
"""
