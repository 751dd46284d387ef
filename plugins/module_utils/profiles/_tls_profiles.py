# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Mozilla server-side TLS profiles, taken from the guideline data in ``_mozilla_guidelines``, rendered per web server.

Every value comes from ``_mozilla_guidelines.GUIDELINES`` (Mozilla's published JSON): nothing here repeats a cipher,
a group or a number of the guidelines. What is added is each server's syntax and what a TLS library can do (post-quantum
key exchange, Go's cipher suites). Nothing here imports Ansible.
"""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.profiles._mozilla_guidelines import GUIDELINES, LATEST, VERSIONS
from ansible_collections.port443.https.plugins.module_utils.reasons._classify import TLS_VERSIONS

SERVERS = ("nginx", "apache", "caddy", "haproxy", "generic")

# Hybrid post-quantum groups: rendered only where the TLS stack speaks them (OpenSSL >= 3.5; Caddy >= 2.10 on Go >= 1.24).
PQ_GROUPS = ("X25519MLKEM768",)

# Group names as Caddy (Go) spells them. x25519mlkem768 is a Caddy name from Caddy 2.10 on: an older Caddy sets its own
# classical groups whatever its Go has (Debian 13's Caddy 2.6.2 on Go 1.24 serves X25519), so pq is false for it.
_CADDY_GROUPS = {
    "X25519MLKEM768": "x25519mlkem768",
    "X25519": "x25519",
    "prime256v1": "secp256r1",
    "secp384r1": "secp384r1",
}

# TLS 1.2 suites Go's crypto/tls implements (tls.CipherSuites() and tls.InsecureCipherSuites()), by IANA name: Caddy
# accepts no other name. Go has no finite-field DHE and no CBC-SHA384 suites.
GO_TLS12_SUITES = frozenset(
    {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    }
)


class ProfileError(ValueError):
    """An unknown guideline version, profile or server name."""


def guideline_version(value: t.Any) -> str:
    """Return ``value`` as one of ``VERSIONS`` (a YAML float such as ``6.0`` is accepted), or raise ProfileError."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else None
    if text is None or text.strip() not in VERSIONS:
        raise ProfileError(f"unknown Mozilla guideline version {value!r}; choose one of {', '.join(VERSIONS)}")
    return text.strip()


def _version(name: str) -> str:
    # "TLSv1" -> "1.0", "TLSv1.2" -> "1.2"
    number = name[len("TLSv"):]
    return number if "." in number else number + ".0"


def _oldest_tls(name: str) -> int:
    """How far back profile ``name`` reaches: the index in TLS_VERSIONS of the oldest TLS version it allows, in the
    newest guideline that has it."""
    newest = [v for v in VERSIONS if name in GUIDELINES[v]["configurations"]][-1]
    return min(TLS_VERSIONS.index(_version(v)) for v in GUIDELINES[newest]["configurations"][name]["tls_versions"])


# Every profile name of the guideline data, strictest first: modern, intermediate, old.
PROFILE_NAMES = tuple(sorted({p for v in VERSIONS for p in GUIDELINES[v]["configurations"]}, key=lambda p: -_oldest_tls(p)))


def get_profile(name: str, guideline: t.Any = LATEST) -> dict[str, t.Any]:
    """Return profile ``name`` of Mozilla guideline ``guideline`` in one shape for every version.

    Keys: ``versions`` (``["1.2", "1.3"]``), ``tls12_openssl`` and ``tls12_iana`` (TLS 1.2 suites, the guideline's
    order of each list), ``tls13_suites`` (IANA names, which OpenSSL uses too), ``groups`` (OpenSSL names, PQ groups
    included), ``dh_param_size`` (None when no DHE suite is left), ``hsts_min_age``, ``server_preferred_order``,
    ``ocsp_staple``, ``certificate_types``, ``certificate_curves``, ``rsa_key_size``,
    ``maximum_certificate_lifespan``, ``recommended_certificate_lifespan``, ``guideline``.
    """
    version = guideline_version(guideline)
    configurations = GUIDELINES[version]["configurations"]
    if name not in configurations:
        raise ProfileError(
            f"TLS profile {name!r} is not in Mozilla guideline {version}; "
            f"choose one of {', '.join(p for p in PROFILE_NAMES if p in configurations)}"
            + (f" (or a guideline version that has it: {', '.join(v for v in VERSIONS if name in GUIDELINES[v]['configurations'])})"
               if name in PROFILE_NAMES else "")
        )
    data = configurations[name]
    openssl = list(data["ciphers"]["openssl"])
    uses_dhe = any(c.startswith("DHE-") for c in openssl)
    return {
        "guideline": version,
        "versions": [_version(v) for v in data["tls_versions"]],
        "tls_versions": list(data["tls_versions"]),
        "tls12_openssl": openssl,
        "tls12_iana": list(data["ciphers"]["iana"]),
        "tls13_suites": list(data["ciphersuites"]),
        "groups": list(data["tls_curves"]),
        "dh_param_size": data["dh_param_size"] if uses_dhe else None,
        "hsts_min_age": data["hsts_min_age"],
        "server_preferred_order": data["server_preferred_order"],
        "ocsp_staple": data["ocsp_staple"],
        "certificate_types": list(data["certificate_types"]),
        "certificate_curves": list(data["certificate_curves"]),
        "rsa_key_size": data["rsa_key_size"],
        "maximum_certificate_lifespan": data["maximum_certificate_lifespan"],
        "recommended_certificate_lifespan": data["recommended_certificate_lifespan"],
    }


def groups_for(profile_groups: list[str], pq: bool) -> list[str]:
    """The profile's groups, without the post-quantum ones when the TLS library lacks them (as Mozilla's generator)."""
    return [g for g in profile_groups if pq or g not in PQ_GROUPS]


def render(
    name: str,
    server: str = "generic",
    guideline: t.Any = LATEST,
    pq: bool = True,
) -> dict[str, t.Any]:
    """Return profile ``name`` of guideline ``guideline`` as the settings ``server`` understands.

    ``pq`` tells whether the server's TLS stack speaks the hybrid post-quantum groups; without it they are left out.

    Every result has ``profile``, ``guidelines_version``, ``versions`` (e.g. ``["1.2", "1.3"]``),
    ``versions_disabled``, ``hsts_min_age``, ``server_preferred_order``, ``ocsp_staple``, ``groups`` (the groups the
    server is expected to offer, OpenSSL names), ``dhparam`` (True when DH parameters must be configured), and the
    server-specific keys ``protocols`` (a string in the server's syntax), ``ciphers`` (TLS 1.2 ciphers in the server's
    syntax, empty when TLS 1.2 is off), ``ciphersuites`` (TLS 1.3 suites, OpenSSL syntax; empty for Caddy, where Go
    fixes them) and ``ecdh_curve`` (the groups in the server's syntax).
    """
    if server not in SERVERS:
        raise ProfileError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    data = get_profile(name, guideline)
    versions: list[str] = data["versions"]
    groups = groups_for(data["groups"], pq)
    result: dict[str, t.Any] = {
        "profile": name,
        "guidelines_version": data["guideline"],
        "server": server,
        "pq": bool(pq),
        "versions": versions,
        "versions_disabled": [v for v in TLS_VERSIONS if v not in versions],
        "min_version": versions[0],
        "hsts_min_age": data["hsts_min_age"],
        "server_preferred_order": data["server_preferred_order"],
        "ocsp_staple": data["ocsp_staple"],
        "groups": groups,
        "ecdh_curves": groups,
        "dh_param_size": data["dh_param_size"],
        "dhparam": data["dh_param_size"] is not None and server in ("nginx", "apache", "generic"),
        "certificate_types": data["certificate_types"],
        "rsa_key_size": data["rsa_key_size"],
        "maximum_certificate_lifespan": data["maximum_certificate_lifespan"],
        "ciphers_iana": data["tls12_iana"],
        "ciphersuites_iana": data["tls13_suites"],
        "ciphersuites": ":".join(data["tls13_suites"]),
    }
    if server == "caddy":
        # Caddy takes "protocols <min> [<max>]" and IANA suite names; Go has no DHE, so Caddy could never negotiate it.
        iana = [c for c in data["tls12_iana"] if c in GO_TLS12_SUITES]
        result["protocols"] = " ".join(dict.fromkeys(f"tls{v}" for v in (versions[0], versions[-1])))
        result["ciphers"] = " ".join(iana) if "1.2" in versions or "1.1" in versions or "1.0" in versions else ""
        result["ciphers_iana"] = iana
        result["ciphersuites"] = ""
        result["ecdh_curve"] = " ".join(_CADDY_GROUPS[g] for g in groups)
        result["dhparam"] = False
        return result
    if server == "haproxy":
        # Mozilla's HAProxy syntax, as options of a bind line or of a crt-list entry: ssl-min-ver/ssl-max-ver,
        # ciphers, ciphersuites, curves; prefer-client-ciphers where the profile leaves the order to the client. HAProxy
        # uses RFC 7919 ffdhe2048 for DHE by itself (tune.ssl.default-dh-param): no parameters file.
        names = {v: ("TLSv1.0" if v == "TLSv1" else v) for v in data["tls_versions"]}
        result["protocols"] = f"ssl-min-ver {names[data['tls_versions'][0]]} ssl-max-ver {names[data['tls_versions'][-1]]}"
        result["ciphers"] = ":".join(data["tls12_openssl"])
        result["ecdh_curve"] = ":".join(groups)
        result["options"] = "" if data["server_preferred_order"] else "prefer-client-ciphers"
        return result
    if server == "apache":
        result["protocols"] = "-all " + " ".join(f"+{v}" for v in data["tls_versions"])
    else:
        result["protocols"] = " ".join(data["tls_versions"])
    result["ciphers"] = ":".join(data["tls12_openssl"])
    result["ecdh_curve"] = ":".join(groups)
    return result


__all__ = ["GUIDELINES", "LATEST", "PROFILE_NAMES", "VERSIONS", "ProfileError", "get_profile", "render"]
