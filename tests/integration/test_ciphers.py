# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The ciphers check against real local servers, one per finding: openssl s_server with a 1024-bit DH group, a
composite DH modulus, a prime that is not a safe prime, static RSA only, CBC only, NULL and anonymous suites
(SECLEVEL=0), a server that enforces its order and one that follows the client's, no post-quantum group; and
nginx with Mozilla's guideline 6.0 intermediate profile, which must come out ok with no profile_mismatch.

Oracle: what the check says the server accepts is compared with `openssl s_client` tries, one per suite the local
OpenSSL knows, so the enumeration can neither invent nor miss a suite that OpenSSL can negotiate. (3DES, RC4 and
export suites are not built into the local OpenSSL 3.0 and X25519MLKEM768 needs OpenSSL 3.5: those paths are proved
with recorded and hand-built bytes in tests/unit/plugins/module_utils/test_hello.py.)"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import subprocess

import pki
import pytest
from conftest import codes, local_curves, probe, start_nginx, wait_listening

from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines

MOZ = _mozilla_guidelines.GUIDELINES["6.0"]["configurations"]["intermediate"]
NO13 = ["-no_tls1_3"]


def _der_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def dh_pem(p: int, g: int) -> bytes:
    """PKCS#3 DH parameters written by hand: OpenSSL loads them without checking p, which is the point."""
    body = b""
    for n in (p, g):
        raw = n.to_bytes((n.bit_length() + 8) // 8, "big")
        body += b"\x02" + _der_len(len(raw)) + raw
    der = b"\x30" + _der_len(len(body)) + body
    b64 = base64.b64encode(der).decode()
    return ("-----BEGIN DH PARAMETERS-----\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
            + "\n-----END DH PARAMETERS-----\n").encode()


def small_subgroup_params() -> tuple[int, int]:
    """A 2048-bit prime p whose p-1 has a 256-bit prime factor q (DSA-style, like RFC 5114's groups): not a safe prime."""
    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DHX", "-pkeyopt", "dh_paramgen_prime_len:2048",
                          "-pkeyopt", "dh_paramgen_subprime_len:256"], capture_output=True, check=True, timeout=120).stdout
    text = subprocess.run(["openssl", "pkeyparam", "-text", "-noout"], input=pem, capture_output=True, check=True, timeout=30).stdout.decode()
    values: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            key = line.split(":")[0].strip()
            continue
        if key:
            values[key] = values.get(key, "") + line.strip().replace(":", "")
    return int(values["P"], 16), int(values["G"], 16)


# label -> (s_server options, probe options, {code: severity} expected)
CASES = {
    "dhe1024": (["-cipher", "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256@SECLEVEL=0", "-dhparam", "{dh1024}"] + NO13,
                {}, {"weak_dh": "critical"}),
    "dh_composite": (["-cipher", "DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0", "-dhparam", "{composite}"] + NO13, {}, {"weak_dh": "critical"}),
    "dh_not_safe": (["-cipher", "DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0", "-dhparam", "{subgroup}"] + NO13, {}, {"weak_dh": "critical"}),
    "static_rsa": (["-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"] + NO13, {},
                   {"no_forward_secrecy": "warning"}),
    "cbc_only": (["-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384"] + NO13, {}, {"cbc_only": "warning"}),
    "null_anon": (["-cipher", "NULL-SHA:ADH-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256@SECLEVEL=0"] + NO13, {},
                  # s_server's automatic DH group at SECLEVEL=0 for the anonymous suite has 1024 bits
                  {"weak_cipher": "critical", "no_forward_secrecy": "warning", "weak_dh": "critical"}),
    "server_order": (["-cipher", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256", "-serverpref"],
                     {}, {}),
    "client_order": (["-cipher", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"], {}, {}),
    "no_pq": (["-groups", "X25519:P-256", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], {"require_pq_kex": True}, {"no_pq_kex": "warning"}),
}


@pytest.fixture(scope="module")
def cipher_lab(lab):
    """The s_servers of CASES and two nginx servers (Mozilla 6.0 intermediate, and the same with TLS 1.1 and a CBC
    suite added), all with a chain under the lab's CA."""
    tmp = lab.tmp
    params = {"dh1024": os.path.join(tmp, "dh1024.pem"), "composite": lab.write("dh-composite.pem", dh_pem(
        (2 ** 1279 - 1) * (2 ** 607 - 1) * (2 ** 521 - 1), 2)), "subgroup": lab.write("dh-subgroup.pem", dh_pem(*small_subgroup_params()))}
    subprocess.run(["openssl", "dhparam", "-out", params["dh1024"], "1024"], capture_output=True, check=True, timeout=120)
    for label, (options, _opts, _want) in CASES.items():
        lab.s_server(f"ciphers_{label}", pki.issue(f"ciphers_{label}.test", issuer=lab.inter), [lab.inter],
                     extra=[o.format(**params) for o in options])
    leaf = pki.issue("ciphers_nginx.test", issuer=lab.inter, sans=["ciphers_nginx.test", "ciphers_nginx_extra.test"])
    cert = lab.write("ciphers_nginx.crt", leaf.pem + lab.inter.pem)
    key = lab.write("ciphers_nginx.key", leaf.key_pem)
    curves = local_curves(MOZ["tls_curves"])
    for label, protocols, ciphers in (("nginx", "TLSv1.2 TLSv1.3", ":".join(MOZ["ciphers"]["openssl"])),
                                      ("nginx_extra", "TLSv1.1 TLSv1.2 TLSv1.3", ":".join(MOZ["ciphers"]["openssl"]) + ":ECDHE-RSA-AES128-SHA@SECLEVEL=0")):
        proc, port = start_nginx(tmp, label, [{"cert": cert, "key": key, "protocols": protocols, "ciphers": ciphers, "curves": curves}])
        lab.procs.append(proc)
        lab.endpoints[f"ciphers_{label}"] = {"host": "127.0.0.1", "port": port, "server_name": f"ciphers_{label}.test",
                                             "_wait": ("127.0.0.1", port)}
    for name, ep in lab.endpoints.items():
        if name.startswith("ciphers_") and "_wait" in ep:
            wait_listening(*ep.pop("_wait"))
    return lab


@pytest.fixture(scope="module")
def results(cipher_lab):
    names = [n for n in cipher_lab.endpoints if n.startswith("ciphers_")]
    out = probe(cipher_lab, names, checks=["tcp", "tls_versions", "ciphers"], timeout=5)
    out.update(probe(cipher_lab, ["ciphers_no_pq"], checks=["tcp", "ciphers"], require_pq_kex=True, timeout=5))
    for label in ("nginx", "nginx_extra"):
        out[f"profile_{label}"] = probe(cipher_lab, [f"ciphers_{label}"], checks=["tcp", "tls_versions", "certificate", "ciphers"],
                                        tls_profile="intermediate", tls_guideline="6.0", tls_pq=False, timeout=5)[f"ciphers_{label}"]
    return out


@pytest.mark.parametrize("label", sorted(CASES))
def test_each_finding_on_its_server(results, label):
    res = results[f"ciphers_{label}"]
    want = CASES[label][2]
    got = {r["code"]: r["severity"] for r in res["reasons"] if r["code"] in (
        "weak_cipher", "cbc_only", "no_forward_secrecy", "weak_dh", "no_pq_kex", "profile_mismatch", "cipher_enumeration_unknown")}
    assert got == want, res["reasons"]
    assert res["ciphers"]["complete"] is True


def test_dh_facts(results):
    assert results["ciphers_dhe1024"]["ciphers"]["dh"] == {"bits": 1024, "prime": True, "safe_prime": True, "known_group": None,
                                                           "generator": 2}
    composite = results["ciphers_dh_composite"]["ciphers"]["dh"]
    assert composite["bits"] >= 2048 and composite["prime"] is False
    subgroup = results["ciphers_dh_not_safe"]["ciphers"]["dh"]
    assert subgroup["bits"] == 2048 and subgroup["prime"] is True and subgroup["safe_prime"] is False
    assert "safe prime" in " ".join(r["message"] for r in results["ciphers_dh_not_safe"]["reasons"])


def test_server_order(results):
    enforced = results["ciphers_server_order"]["ciphers"]
    assert enforced["versions"]["1.2"]["server_order"] is True and enforced["server_order"] is True
    assert enforced["versions"]["1.2"]["suites"][0] == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    follows = results["ciphers_client_order"]["ciphers"]
    assert follows["versions"]["1.2"]["server_order"] is False and follows["server_order"] is False


def test_weak_suites_named(results):
    res = results["ciphers_null_anon"]
    weak = [r for r in res["reasons"] if r["code"] == "weak_cipher"][0]
    assert "TLS_RSA_WITH_NULL_SHA" in weak["message"] and "TLS_DH_anon_WITH_AES_128_CBC_SHA" in weak["message"]
    assert "ssl_ciphers" in weak["fix"]


def test_mozilla_intermediate_nginx_is_ok(results):
    res = results["profile_nginx"]
    assert res["status"] == "ok", res["reasons"]
    sec = res["ciphers"]
    assert sec["versions"]["1.0"]["suites"] == [] and sec["versions"]["1.1"]["suites"] == []
    assert set(sec["versions"]["1.3"]["suites"]) == set(MOZ["ciphersuites"])
    assert set(sec["versions"]["1.2"]["suites"]) == {s for s in MOZ["ciphers"]["iana"] if "_RSA_" in s}
    assert sec["groups"]["1.3"] == ["x25519", "secp256r1", "secp384r1"] and sec["forward_secrecy"] is True and sec["dh"] is None


def test_profile_mismatch_lists_extra(results):
    res = results["profile_nginx_extra"]
    mismatch = [r for r in res["reasons"] if r["code"] == "profile_mismatch"]
    assert mismatch and "extra: TLS 1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" in mismatch[0]["message"], res["reasons"]
    assert res["status"] == "warning"


def test_missing_pq_group_is_a_mismatch_unless_tls_pq_false(cipher_lab):
    res = probe(cipher_lab, ["ciphers_nginx"], checks=["tcp", "ciphers"], tls_profile="intermediate", timeout=5)["ciphers_nginx"]
    mismatch = [r["message"] for r in res["reasons"] if r["code"] == "profile_mismatch"]
    assert codes(res) == ["profile_mismatch"] and "missing: group X25519MLKEM768 (TLS 1.3)" in mismatch[0]


# ---- oracle: openssl s_client, one try per suite --------------------------------------------------------------------

def _openssl_suites() -> dict[str, tuple[str, str]]:
    """IANA name -> (OpenSSL name, protocol) of every suite the local OpenSSL knows (no PSK/SRP)."""
    out = subprocess.run(["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True,
                         text=True, check=True).stdout
    suites = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 4 and "PSK" not in parts[2] and "SRP" not in parts[2]:
            suites[parts[2]] = (parts[4], parts[5])
    return suites


def _s_client_accepts(ep: dict, version: str, iana: str, openssl_name: str) -> bool:
    flag = {"1.0": "-tls1", "1.1": "-tls1_1", "1.2": "-tls1_2", "1.3": "-tls1_3"}[version]
    argv = ["openssl", "s_client", "-connect", f"{ep['host']}:{ep['port']}", "-servername", ep["server_name"], flag]
    argv += ["-ciphersuites", iana] if version == "1.3" else ["-cipher", f"{openssl_name}@SECLEVEL=0"]
    proc = subprocess.run(argv, input="Q\n", capture_output=True, text=True, timeout=20, check=False)
    return proc.returncode == 0 and f"Cipher is {openssl_name}" in proc.stdout + proc.stderr


@pytest.mark.parametrize("label", ["null_anon", "static_rsa", "nginx_extra"])
def test_accepted_suites_agree_with_openssl_s_client(cipher_lab, results, label):
    ep = cipher_lab.endpoints[f"ciphers_{label}"]
    sec = results[f"ciphers_{label}"]["ciphers"]
    known = _openssl_suites()
    tries = [(v, iana, name) for v in ("1.2", "1.3") for iana, (name, proto) in known.items()
             if (proto == "TLSv1.3") == (v == "1.3")]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda t: _s_client_accepts(ep, *t), tries))
    for version in ("1.2", "1.3"):
        oracle = {iana for (v, iana, _n), ok in zip(tries, verdicts) if ok and v == version}
        ours = {s for s in (sec["versions"][version] or {}).get("suites", []) if s in known}
        assert ours == oracle, (label, version, ours ^ oracle)


def test_endpoints_that_do_not_speak_tls_get_no_cipher_verdict(cipher_lab):
    """Plain HTTP, a tarpit and a closed port beside a good server in one task: only the TLS server is enumerated,
    the others keep their own critical reason and no ciphers section."""
    names = ["plain_http", "tarpit", "closed", "ciphers_nginx"]
    out = probe(cipher_lab, names, checks=["tcp", "ciphers"], tls_profile="intermediate", tls_pq=False, timeout=2)
    for name in names[:3]:
        assert out[name]["ciphers"] is None and out[name]["status"] == "critical", out[name]["reasons"]
        assert "cipher_enumeration_unknown" not in codes(out[name])
    assert out["ciphers_nginx"]["status"] == "ok" and out["ciphers_nginx"]["ciphers"]["complete"]
