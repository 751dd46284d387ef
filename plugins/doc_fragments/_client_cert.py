# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # The client certificate a probe presents to servers that ask for one (staff-only services).
    DOCUMENTATION = r"""
options:
  client_cert:
    description:
      - PEM client certificate (optionally followed by its intermediates) presented to servers that ask for one, on
        the host that runs the probe.
      - Without it, a server that demands a client certificate is reported as C(client_cert_required) (V(warning))
        instead of a bare C(handshake_failure), with the TLS versions it accepts; with it, the normal checks proceed.
      - A server that refuses the presented certificate (for example one from another CA) is C(client_cert_required)
        too, with the alert it sent (C(unknown_ca), C(bad_certificate), ...).
      - Needs O(client_key). The files must be readable and match, or the task fails naming the option.
      - The port443.https.certificate role issues such certificates from its internal CA (C(certificate_client_certificates)).
    type: path
  client_key:
    description:
      - Unencrypted PEM private key of O(client_cert), on the host that runs the probe.
      - An encrypted key is refused with an error naming the option; it is never prompted for.
    type: path
"""
