# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.tls_profile import FilterModule, tls_profile
from ansible_collections.port443.https.plugins.module_utils.profiles import _tls_profiles
from ansible_collections.port443.https.plugins.module_utils.profiles._mozilla_guidelines import GUIDELINES, LATEST, VERSIONS


def test_filter_is_registered() -> None:
    assert FilterModule().filters()["tls_profile"] is tls_profile


@pytest.mark.parametrize(
    ("server", "intermediate", "modern"),
    [
        ("nginx", "TLSv1.2 TLSv1.3", "TLSv1.3"),
        ("apache", "-all +TLSv1.2 +TLSv1.3", "-all +TLSv1.3"),
        ("caddy", "tls1.2 tls1.3", "tls1.3"),
        ("haproxy", "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3", "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3"),
        ("generic", "TLSv1.2 TLSv1.3", "TLSv1.3"),
    ],
)
def test_protocols_per_server(server: str, intermediate: str, modern: str) -> None:
    assert tls_profile("intermediate", server)["protocols"] == intermediate
    assert tls_profile("modern", server)["protocols"] == modern


def test_old_protocols_use_the_servers_names() -> None:
    assert tls_profile("old", "nginx", "5.8")["protocols"] == "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"
    assert tls_profile("old", "apache", "5.8")["protocols"] == "-all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3"
    assert tls_profile("old", "caddy", "5.8")["protocols"] == "tls1.0 tls1.3"
    assert tls_profile("old", "haproxy", "5.8")["protocols"] == "ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.3"
    assert tls_profile("old", "generic", "5.7")["versions"] == ["1.0", "1.1", "1.2", "1.3"]


def test_default_is_the_latest_guideline() -> None:
    assert LATEST == "6.0"
    result = tls_profile("intermediate", "nginx")
    assert result["guidelines_version"] == "6.0"
    assert result["versions"] == ["1.2", "1.3"]
    assert result["versions_disabled"] == ["1.0", "1.1"]
    # 6.0: no finite-field DHE left, X25519MLKEM768 first.
    assert not [c for c in result["ciphers"].split(":") if "DHE-" in c and not c.startswith("ECDHE-")]
    assert result["ecdh_curve"] == "X25519MLKEM768:X25519:prime256v1:secp384r1"
    assert result["dhparam"] is False
    assert result["hsts_min_age"] == 63072000
    assert result["server_preferred_order"] is False


def test_intermediate_5_7_still_has_dhe_and_needs_dh_parameters() -> None:
    result = tls_profile("intermediate", "nginx", "5.7")
    assert result["ciphers"].split(":")[-3:] == [
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
    assert result["dhparam"] is True
    assert result["dh_param_size"] == 2048
    assert result["ecdh_curve"] == "X25519:prime256v1:secp384r1"
    # 5.8 old keeps dh_param_size in the data but has no DHE suite: no DH parameters.
    assert tls_profile("old", "nginx", "5.8")["dhparam"] is False
    # Go has no DHE: Caddy never needs DH parameters.
    assert tls_profile("intermediate", "caddy", "5.7")["dhparam"] is False


def test_guideline_as_yaml_float() -> None:
    assert tls_profile("modern", "generic", 5.8)["guidelines_version"] == "5.8"


def test_without_pq_the_hybrid_group_is_dropped() -> None:
    assert tls_profile("intermediate", "nginx", pq=False)["ecdh_curve"] == "X25519:prime256v1:secp384r1"
    assert tls_profile("intermediate", "apache", pq=False)["groups"] == ["X25519", "prime256v1", "secp384r1"]
    assert tls_profile("modern", "caddy", pq=False)["ecdh_curve"] == "x25519 secp256r1 secp384r1"


def test_caddy_pq() -> None:
    # Caddy 2.10 or later on Go 1.24 or later names the hybrid group itself.
    assert tls_profile("intermediate", "caddy")["ecdh_curve"] == "x25519mlkem768 x25519 secp256r1 secp384r1"
    assert tls_profile("intermediate", "caddy", pq=False)["ecdh_curve"] == "x25519 secp256r1 secp384r1"


def test_modern_has_no_tls12_ciphers() -> None:
    result = tls_profile("modern", "apache")
    assert result["versions"] == ["1.3"]
    assert result["min_version"] == "1.3"
    assert result["ciphers"] == ""
    assert result["ciphers_iana"] == []
    assert result["rsa_key_size"] is None


def test_caddy_uses_iana_names_go_implements() -> None:
    result = tls_profile("intermediate", "caddy", "5.7")
    assert result["ciphers"].split() == GUIDELINES["5.7"]["configurations"]["intermediate"]["ciphers"]["iana"][:6]
    assert result["ciphersuites"] == ""
    # Caddy (Go) has no finite-field DHE and refuses the names: `caddy validate` failed on them.
    assert not [c for c in result["ciphers"].split() if c.startswith("TLS_DHE_")]
    old = tls_profile("old", "caddy", "5.7")["ciphers"].split()
    assert "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" not in old  # not in Go
    assert "TLS_RSA_WITH_3DES_EDE_CBC_SHA" in old


def test_iana_and_openssl_lists_have_the_same_length() -> None:
    for version in VERSIONS:
        for name in GUIDELINES[version]["configurations"]:
            result = _tls_profiles.render(name, "nginx", version)
            assert len(result["ciphers_iana"]) == len(result["ciphers"].split(":") if result["ciphers"] else [])


def test_result_is_a_copy() -> None:
    first = tls_profile("intermediate")
    first["versions"].append("1.0")
    first["groups"].append("ffdhe2048")
    assert tls_profile("intermediate")["versions"] == ["1.2", "1.3"]
    assert "ffdhe2048" not in tls_profile("intermediate")["groups"]
    assert "ffdhe2048" not in GUIDELINES[LATEST]["configurations"]["intermediate"]["tls_curves"]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("old", "nginx"), {}, "TLS profile 'old' is not in Mozilla guideline 6.0; choose one of modern, intermediate"),
    (("strict", "nginx"), {}, "TLS profile 'strict' is not in Mozilla guideline 6.0"),
    (("modern", "nginx", "5.9"), {}, "unknown Mozilla guideline version '5.9'; choose one of 5.7, 5.8, 6.0"),
    (("modern", "nginx", None), {}, "unknown Mozilla guideline version None"),
    (("modern", "lighttpd"), {}, "unknown server 'lighttpd'"),
    ((42, "nginx"), {}, "must be a profile name"),
    (("modern", 1), {}, "server must be a string"),
    (("modern", "nginx"), {"pq": "yes"}, "pq must be true or false"),
])
def test_errors(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        tls_profile(*args, **kwargs)


def test_documented_choices_and_defaults_follow_the_guideline_data() -> None:
    """The documentation must spell the guideline versions and profiles out; they are the data's, the newest default."""
    import yaml

    from ansible_collections.port443.https.plugins.doc_fragments._ciphers import ModuleDocFragment
    from ansible_collections.port443.https.plugins.filter import tls_profile as plugin
    from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers

    options = yaml.safe_load(plugin.DOCUMENTATION)["options"]
    assert options["guideline"]["default"] == LATEST and options["guideline"]["choices"] == list(VERSIONS)
    assert options["_input"]["choices"] == list(_tls_profiles.PROFILE_NAMES)
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert fragment["tls_guideline"]["default"] == LATEST == _ciphers.ARGUMENT_SPEC["tls_guideline"]["default"]
    description = fragment["tls_guideline"]["description"]
    description = description if isinstance(description, str) else " ".join(description)
    assert all(f"V({v})" in description for v in VERSIONS)
    assert fragment["tls_profile"]["choices"] == list(_tls_profiles.PROFILE_NAMES) == _ciphers.ARGUMENT_SPEC["tls_profile"]["choices"]


def test_profile_names_are_the_datas_strictest_first() -> None:
    assert set(_tls_profiles.PROFILE_NAMES) == {p for v in VERSIONS for p in GUIDELINES[v]["configurations"]}
    assert _tls_profiles.PROFILE_NAMES == ("modern", "intermediate", "old")


def test_haproxy_syntax() -> None:
    """Mozilla's HAProxy syntax: OpenSSL suite names, curves with the hybrid group only where the library has it, the
    client's order where the profile says so, no DH parameters file (HAProxy uses ffdhe2048 by itself)."""
    result = tls_profile("intermediate", "haproxy", "5.7", pq=False)
    assert result["ciphers"] == tls_profile("intermediate", "nginx", "5.7")["ciphers"]
    assert result["ecdh_curve"] == "X25519:prime256v1:secp384r1"
    assert result["dhparam"] is False
    assert result["options"] == "prefer-client-ciphers"
    assert tls_profile("modern", "haproxy")["ecdh_curve"].startswith("X25519MLKEM768:")
    assert tls_profile("modern", "haproxy")["ciphers"] == ""
    assert tls_profile("old", "haproxy", "5.7")["options"] == ""
