# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # The certificate policy options shared by https_endpoint_info and certificate_file_info (one validation).
    DOCUMENTATION = r"""
options:
  ca_path:
    description:
      - PEM bundle of CA certificates to trust instead of the system trust store.
      - It must be a readable file with at least one certificate, or the task fails naming O(ca_path).
    type: path
  warning_days:
    description:
      - Certificates expiring in this many days or fewer get C(expiring_soon) with severity V(warning).
      - From V(0) to V(3650).
    type: int
    default: 30
  critical_days:
    description:
      - Certificates expiring in this many days or fewer get C(expiring_soon) with severity V(critical).
      - From V(0) to V(3650).
    type: int
    default: 7
  min_rsa_bits:
    description:
      - Smallest acceptable RSA (and DSA) key size; smaller keys in the chain are C(weak_key).
      - From V(512) to V(16384).
    type: int
    default: 2048
"""
