# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Mozilla server-side TLS guidelines as versioned data, and their rendering per web server.

Source: https://ssl-config.mozilla.org/guidelines/5.7.json (profiles ``intermediate`` and ``modern``).
Only the parts a web server configuration needs are kept. Nothing here imports Ansible.
"""

from __future__ import annotations

import typing as t

GUIDELINES_VERSION = "5.7"

# Cipher names are kept in both spellings: IANA (Go/Caddy) and OpenSSL (nginx/Apache), same order.
_TLS13_SUITES = [
    ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    ("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    ("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
]

_INTERMEDIATE_TLS12 = [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
    ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256"),
    ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"),
    ("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305"),
]

PROFILES: dict[str, dict[str, t.Any]] = {
    "intermediate": {
        "versions": ["1.2", "1.3"],
        "tls12_ciphers": _INTERMEDIATE_TLS12,
        "tls13_ciphersuites": _TLS13_SUITES,
        "ecdh_curves": ["X25519", "prime256v1", "secp384r1"],
        "certificate_types": ["ecdsa", "rsa"],
        "rsa_key_size": 2048,
        "dh_param_size": 2048,
        "hsts_min_age": 63072000,
        "server_preferred_order": False,
        "ocsp_staple": True,
        "certificate_lifespan": 366,
    },
    "modern": {
        "versions": ["1.3"],
        "tls12_ciphers": [],
        "tls13_ciphersuites": _TLS13_SUITES,
        "ecdh_curves": ["X25519", "prime256v1", "secp384r1"],
        "certificate_types": ["ecdsa"],
        "rsa_key_size": None,
        "dh_param_size": None,
        "hsts_min_age": 63072000,
        "server_preferred_order": False,
        "ocsp_staple": True,
        "certificate_lifespan": 90,
    },
}

SERVERS = ("nginx", "apache", "caddy", "generic")

_ALL_VERSIONS = ["1.0", "1.1", "1.2", "1.3"]

# Curve names as Caddy (Go) spells them.
_CADDY_CURVES = {"X25519": "x25519", "prime256v1": "secp256r1", "secp384r1": "secp384r1"}


class ProfileError(ValueError):
    """An unknown profile or server name."""


def get_profile(name: str) -> dict[str, t.Any]:
    if name not in PROFILES:
        raise ProfileError(f"unknown TLS profile {name!r}; choose one of {', '.join(sorted(PROFILES))}")
    return PROFILES[name]


def render(name: str, server: str = "generic") -> dict[str, t.Any]:
    """Return the profile ``name`` as the settings ``server`` understands.

    Every result has ``profile``, ``guidelines_version``, ``versions`` (e.g. ``["1.2", "1.3"]``),
    ``versions_disabled``, ``hsts_min_age``, ``server_preferred_order``, ``ocsp_staple``,
    ``ecdh_curves``, and the server-specific keys ``protocols`` (a string in the server's syntax),
    ``ciphers`` (TLS 1.2 ciphers in the server's syntax, empty when TLS 1.2 is off) and
    ``ciphersuites`` (TLS 1.3 suites, OpenSSL syntax; empty for Caddy, where Go fixes them).
    """
    if server not in SERVERS:
        raise ProfileError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    data = get_profile(name)
    versions: list[str] = list(data["versions"])
    iana = [c[0] for c in data["tls12_ciphers"]]
    ossl = [c[1] for c in data["tls12_ciphers"]]
    suites = [c[1] for c in data["tls13_ciphersuites"]]
    result: dict[str, t.Any] = {
        "profile": name,
        "guidelines_version": GUIDELINES_VERSION,
        "server": server,
        "versions": versions,
        "versions_disabled": [v for v in _ALL_VERSIONS if v not in versions],
        "min_version": versions[0],
        "hsts_min_age": data["hsts_min_age"],
        "server_preferred_order": data["server_preferred_order"],
        "ocsp_staple": data["ocsp_staple"],
        "ecdh_curves": list(data["ecdh_curves"]),
        "certificate_types": list(data["certificate_types"]),
        "rsa_key_size": data["rsa_key_size"],
        "ciphers_iana": iana,
        "ciphersuites_iana": [c[0] for c in data["tls13_ciphersuites"]],
    }
    if server == "nginx":
        result["protocols"] = " ".join(f"TLSv{v}" for v in versions)
        result["ciphers"] = ":".join(ossl)
        result["ciphersuites"] = ":".join(suites)
        result["ecdh_curve"] = ":".join(data["ecdh_curves"])
    elif server == "apache":
        result["protocols"] = "-all " + " ".join(f"+TLSv{v}" for v in versions)
        result["ciphers"] = ":".join(ossl)
        result["ciphersuites"] = ":".join(suites)
        result["ecdh_curve"] = ":".join(data["ecdh_curves"])
    elif server == "caddy":
        # Caddy takes "protocols <min> [<max>]".
        result["protocols"] = " ".join(dict.fromkeys(f"tls{v}" for v in (versions[0], versions[-1])))
        # Go's crypto/tls has no finite-field DHE: Caddy rejects those names, and could never negotiate them.
        result["ciphers"] = " ".join(c for c in iana if "_DHE_" not in c)
        result["ciphersuites"] = ""
        result["ecdh_curve"] = " ".join(_CADDY_CURVES[c] for c in data["ecdh_curves"])
    else:
        result["protocols"] = " ".join(f"TLSv{v}" for v in versions)
        result["ciphers"] = ":".join(ossl)
        result["ciphersuites"] = ":".join(suites)
        result["ecdh_curve"] = ":".join(data["ecdh_curves"])
    return result
