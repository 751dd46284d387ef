# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.tls_profile import FilterModule, tls_profile
from ansible_collections.port443.https.plugins.module_utils import _tls_profiles


def test_filter_is_registered() -> None:
    assert FilterModule().filters()["tls_profile"] is tls_profile


@pytest.mark.parametrize(
    ("server", "intermediate", "modern"),
    [
        ("nginx", "TLSv1.2 TLSv1.3", "TLSv1.3"),
        ("apache", "-all +TLSv1.2 +TLSv1.3", "-all +TLSv1.3"),
        ("caddy", "tls1.2 tls1.3", "tls1.3"),
        ("generic", "TLSv1.2 TLSv1.3", "TLSv1.3"),
    ],
)
def test_protocols_per_server(server: str, intermediate: str, modern: str) -> None:
    assert tls_profile("intermediate", server)["protocols"] == intermediate
    assert tls_profile("modern", server)["protocols"] == modern


def test_intermediate_matches_mozilla_5_7() -> None:
    result = tls_profile("intermediate", "nginx")
    assert result["guidelines_version"] == "5.7"
    assert result["versions"] == ["1.2", "1.3"]
    assert result["versions_disabled"] == ["1.0", "1.1"]
    assert result["ciphers"].split(":") == [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
    assert result["ciphersuites"] == "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    assert result["ecdh_curve"] == "X25519:prime256v1:secp384r1"
    assert result["hsts_min_age"] == 63072000
    assert result["server_preferred_order"] is False


def test_modern_has_no_tls12_ciphers() -> None:
    result = tls_profile("modern", "apache")
    assert result["versions"] == ["1.3"]
    assert result["min_version"] == "1.3"
    assert result["ciphers"] == ""
    assert result["ciphers_iana"] == []
    assert result["rsa_key_size"] is None


def test_caddy_uses_go_names() -> None:
    result = tls_profile("intermediate", "caddy")
    assert result["ciphers"].split()[0] == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    assert result["ecdh_curve"] == "x25519 secp256r1 secp384r1"
    assert result["ciphersuites"] == ""
    # Caddy (Go) has no finite-field DHE and refuses the names: `caddy validate` failed on them.
    assert not [c for c in result["ciphers"].split() if c.startswith("TLS_DHE_")]
    assert len(result["ciphers"].split()) == 6


def test_iana_and_openssl_lists_have_the_same_length() -> None:
    for name in _tls_profiles.PROFILES:
        for server in _tls_profiles.SERVERS:
            result = _tls_profiles.render(name, server)
            assert len(result["ciphers_iana"]) == len(_tls_profiles.PROFILES[name]["tls12_ciphers"])


def test_result_is_a_copy() -> None:
    first = tls_profile("intermediate")
    first["versions"].append("1.0")
    assert tls_profile("intermediate")["versions"] == ["1.2", "1.3"]


@pytest.mark.parametrize(("profile", "server", "message"), [
    ("old", "nginx", "unknown TLS profile 'old'"),
    ("modern", "lighttpd", "unknown server 'lighttpd'"),
    (42, "nginx", "must be a profile name"),
    ("modern", 1, "server must be a string"),
])
def test_errors(profile: object, server: object, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        tls_profile(profile, server)  # type: ignore[arg-type]
